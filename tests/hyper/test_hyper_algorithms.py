"""Search algorithms (grid, random, evolution), recover(), and sample()/feedback."""
import statistics

import pytest

import mldsl
from mldsl import symbolic as sym
from mldsl.errors import SearchError, ValidationError
from mldsl.hyper import (DNA, Evolution, Feedback, Grid, Random, dna_spec, floatv, intv, iter_dna, manyof,
                         materialize, oneof, sample)

from hyper_fakes import FakeDense, FakeDropout, FakeExperiment, FakeSGD


def discrete_space():
    return FakeExperiment([FakeDense(oneof([8, 16, 32]), activation=oneof(["relu", "elu"])),
                           oneof([FakeDropout(0.1), FakeDense(intv(1, 3))])],
                          batch_size=oneof([16, 32]))


def mixed_space():
    return FakeExperiment([FakeDense(oneof([8, 16, 32]), activation=oneof(["relu", "elu", "tanh"])),
                           oneof([FakeDropout(floatv(0.0, 0.5)), FakeDense(intv(1, 9))])],
                          optimizer=FakeSGD(floatv(1e-4, 1e-1, scale="log")),
                          batch_size=intv(16, 128), tags=manyof(2, ["a", "b", "c", "d"]))


# A toy objective over a flat space: how many of the 6 decisions hit the target value.
TARGET = [3, 7, 1, 9, 4, 6]


def toy_space():
    return sym.Dict({f"x{i}": oneof(list(range(10))) for i in range(6)})


def toy_reward(value):
    return float(sum(value[f"x{i}"] == t for i, t in enumerate(TARGET)))


def run(algorithm, spec, n, reward_fn=None, skip_every=0, start=0):
    """Propose n DNAs with feedback after each; returns the (dna, reward) history. Without a
    ``reward_fn`` the reward of trial i is ``i % 7`` (trial ``start + k`` for the k-th proposal here)."""
    history = []
    for i in range(start, start + n):
        dna = algorithm.propose()
        reward = reward_fn(dna) if reward_fn else float(i % 7)
        if skip_every and i % skip_every == skip_every - 1:
            reward = None
        algorithm.feedback(dna, reward)
        history.append((dna, reward))
    return history


def reward_of(space, spec):
    return lambda dna: toy_reward(materialize(space, dna, spec))


# -- grid -----------------------------------------------------------------------------------------------
def test_grid_is_exhaustive_then_stops():
    spec = dna_spec(discrete_space())
    g = Grid()
    g.setup(spec)
    proposals = [g.propose() for _ in range(int(spec.space_size))]
    assert proposals == list(iter_dna(spec))
    assert len(set(proposals)) == spec.space_size == 3 * 2 * 4 * 2
    with pytest.raises(StopIteration):
        g.propose()


def test_grid_needs_a_grid_size_for_a_continuous_dimension():
    g = Grid()
    with pytest.raises(SearchError) as e:
        g.setup(dna_spec(mixed_space()))
    assert "grid_size" in str(e.value) and "continuous dimension" in str(e.value)
    g = Grid(grid_size=2)
    g.setup(dna_spec(FakeSGD(floatv(0.001, 0.1))))
    assert [d.children[0].value for d in (g.propose(), g.propose())] == [0.001, 0.1]
    with pytest.raises(StopIteration):
        g.propose()
    with pytest.raises(ValidationError, match="grid_size"):
        Grid(grid_size=0)


def test_grid_recover_continues_where_it_was():
    spec = dna_spec(discrete_space())
    full = list(iter_dna(spec))
    g = Grid()
    g.setup(spec)
    g.recover([(d, 1.0) for d in full[:10]])
    assert g.num_proposals == 10
    assert [g.propose() for _ in range(5)] == full[10:15]


# -- random ---------------------------------------------------------------------------------------------
def test_random_is_deterministic_per_seed():
    spec = dna_spec(mixed_space())

    def proposals(seed):
        r = Random(seed=seed)
        r.setup(spec)
        return [r.propose() for _ in range(30)]

    assert proposals(1) == proposals(1)
    assert proposals(1) != proposals(2)
    assert len(set(proposals(1))) == 30
    for d in proposals(1):
        spec.validate(d)
    with pytest.raises(ValidationError, match="seed"):
        Random(seed="x")


def test_random_without_seed_is_still_replayable_within_the_object():
    spec = dna_spec(mixed_space())
    r = Random()
    r.setup(spec)
    first = [r.propose() for _ in range(5)]
    r.recover([(d, 0.0) for d in first[:2]])
    assert [r.propose() for _ in range(3)] == first[2:]


@pytest.mark.parametrize("make", [lambda: Random(seed=7), lambda: Evolution(5, 3, seed=7),
                                  lambda: Grid(grid_size=2)])
@pytest.mark.parametrize("cut", [0, 3, 11, 30])
def test_recover_replays_exactly(make, cut):
    space = mixed_space()
    spec = dna_spec(space)
    total = 40
    uninterrupted = make()
    uninterrupted.setup(spec)
    history = run(uninterrupted, spec, total, skip_every=4)

    resumed = make()
    resumed.setup(spec)
    resumed.recover(history[:cut])
    assert resumed.num_proposals == cut
    rest = run(resumed, spec, total - cut, skip_every=4, start=cut)
    assert [d for d, _ in rest] == [d for d, _ in history[cut:]]


def test_recover_accepts_json_dnas():
    spec = dna_spec(discrete_space())
    a = Evolution(4, 2, seed=0)
    a.setup(spec)
    history = run(a, spec, 12)
    b = Evolution(4, 2, seed=0)
    b.setup(spec)
    b.recover([(d.to_json(), r) for d, r in history])
    assert b.propose() == a.propose()


# -- evolution ------------------------------------------------------------------------------------------
def test_evolution_arguments_are_validated():
    with pytest.raises(ValidationError, match="tournament_size"):
        Evolution(population_size=3, tournament_size=5)
    with pytest.raises(ValidationError, match="population_size"):
        Evolution(population_size=0, tournament_size=1)
    e = Evolution(population_size=10, tournament_size=3, seed=1)
    assert e.hyper_params() == {"population_size": 10, "tournament_size": 3, "seed": 1}
    assert e.fresh() == e and repr(e) == "evolution(population_size=10, tournament_size=3, seed=1)"


def test_evolution_is_deterministic_per_seed_and_ages_its_population():
    space = toy_space()
    spec = dna_spec(space)

    def go(seed):
        e = Evolution(population_size=8, tournament_size=3, seed=seed)
        e.setup(spec)
        return e, run(e, spec, 50, reward_of(space, spec))

    (e1, h1), (_, h2), (_, h3) = go(0), go(0), go(1)
    assert h1 == h2 and h1 != h3
    assert len(e1.population) == 8
    assert [d for d, _ in e1.population] == [d for d, _ in h1[-8:]]


def test_evolution_children_differ_from_a_parent_in_one_decision():
    space = toy_space()
    spec = dna_spec(space)
    e = Evolution(population_size=6, tournament_size=2, seed=3)
    e.setup(spec)
    history = run(e, spec, 30, reward_of(space, spec))
    parents = {d for d, _ in history}
    for i in range(6, 30):
        child = history[i][0]
        earlier = [d for d, _ in history[:i]]
        dists = [sum(a != b for a, b in zip(child.to_numbers(), p.to_numbers())) for p in earlier]
        assert min(dists) <= 1, "each child is one mutation away from a population member"
    assert parents


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_evolution_improves_on_a_toy_objective(seed):
    space = toy_space()
    spec = dna_spec(space)
    n = 300
    evo = Evolution(population_size=20, tournament_size=5, seed=seed)
    evo.setup(spec)
    evo_rewards = [r for _, r in run(evo, spec, n, reward_of(space, spec))]
    rnd = Random(seed=seed)
    rnd.setup(spec)
    rnd_rewards = [r for _, r in run(rnd, spec, n, reward_of(space, spec))]
    # Later proposals of evolution are much better than random ones, and it finds better optima.
    assert statistics.mean(evo_rewards[-100:]) > statistics.mean(rnd_rewards) + 1.5
    assert max(evo_rewards) > max(rnd_rewards)


def test_evolution_ignores_skipped_results():
    spec = dna_spec(discrete_space())
    e = Evolution(population_size=3, tournament_size=2, seed=0)
    e.setup(spec)
    for _ in range(5):
        e.feedback(e.propose(), None)
    assert e.population == () and e.num_feedbacks == 5
    e.feedback(e.propose(), float("nan"))
    assert e.population == ()


def test_algorithms_need_setup_and_numeric_rewards():
    r = Random(seed=0)
    with pytest.raises(SearchError, match="setup"):
        r.propose()
    r.setup(dna_spec(discrete_space()))
    with pytest.raises(SearchError, match="reward must be a number"):
        r.feedback(r.propose(), "good")
    with pytest.raises(SearchError, match="DNA spec"):
        r.setup(discrete_space())


def test_algorithms_are_contributed_by_the_std_plugin():
    registry = mldsl.get_registry()
    assert registry.algorithm("grid") is Grid
    assert registry.algorithm("random") is Random
    assert registry.algorithm("evolution") is Evolution
    a = registry.algorithm("evolution")(population_size=5, tournament_size=3)
    assert a.population_size == 5


# -- sample / feedback --------------------------------------------------------------------------------
def test_sample_yields_materialized_examples_and_feeds_back():
    space = discrete_space()
    algo = Evolution(population_size=4, tournament_size=2, seed=0)
    seen = []
    for example, feedback in sample(space, algo, num_examples=10):
        assert isinstance(feedback, Feedback) and isinstance(feedback.dna, DNA)
        assert sym.eq(example, materialize(space, feedback.dna))
        seen.append(feedback.id)
        if feedback.id % 3 == 0:
            feedback.skip("invalid")
            assert feedback.status == "skipped" and feedback.skip_reason == "invalid"
        else:
            feedback(float(example.layers[0].units))
            assert feedback.status == "completed" and feedback.reward == example.layers[0].units
            with pytest.raises(SearchError, match="already given"):
                feedback(1.0)
    assert seen == list(range(1, 11))
    assert algo.num_feedbacks == 10 and len(algo.population) == 4


def test_sample_is_deterministic_and_continues_after_recover():
    space = mixed_space()

    def collect(algo, n):
        out = []
        for example, fb in sample(space, algo, n):
            fb(float(example.batch_size))
            out.append((fb.id, fb.dna, fb.reward))
        return out

    full = collect(Evolution(5, 2, seed=4), 20)
    resumed = Evolution(5, 2, seed=4)
    resumed.setup(dna_spec(space))
    resumed.recover([(d, r) for _, d, r in full[:12]])
    assert collect(resumed, 8) == full[12:]


def test_sample_with_grid_stops_when_exhausted():
    space = FakeDense(oneof([1, 2, 3]), activation=oneof(["relu", "tanh"]))
    examples = [e for e, _ in sample(space, Grid())]
    assert [(e.units, e.activation) for e in examples] == [
        (1, "relu"), (1, "tanh"), (2, "relu"), (2, "tanh"), (3, "relu"), (3, "tanh")]
    assert len(list(sample(space, Grid(), num_examples=4))) == 4


def test_sample_rejects_bad_arguments():
    with pytest.raises(SearchError, match="search algorithm"):
        next(sample(discrete_space(), "random", 1))
    with pytest.raises(SearchError, match="num_examples"):
        next(sample(discrete_space(), Random(0), -1))
    algo = Random(0)
    algo.setup(dna_spec(FakeDense(oneof([1, 2]))))
    with pytest.raises(SearchError, match="different search space"):
        next(sample(discrete_space(), algo, 1))
    fb = next(iter(sample(discrete_space(), Random(0), 1)))[1]
    with pytest.raises(SearchError, match="skip"):
        fb(None)
