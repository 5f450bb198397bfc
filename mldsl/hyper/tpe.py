"""TPE (Bergstra et al., 2011) through Optuna's ``TPESampler``: not a re-implementation.

Optuna is optional (``pip install "mldsl[optuna]"``): the algorithm is always registered, and without
Optuna ``setup`` is a SearchError saying what to install.

Each decision of the space is an Optuna parameter named by its id (``training.optimizer[=1/2].learning_rate``):
a ``oneof`` a categorical over its candidate indices, ``floatv`` a float (log for ``scale="log"``), ``intv``
an int. Conditional decisions are asked only on their branch, as define-by-run does. ``manyof`` is not
supported (a SearchError at setup).

Determinism, as the protocol requires: the n-th proposal samples with a fresh ``TPESampler`` seeded from
``(seed, n)`` on an Optuna study that holds exactly the results fed back so far (a completed trial per
reward, in feedback order) and one failed trial per earlier proposal (so trial numbers do not depend on
how the study was rebuilt). ``recover(history)`` rebuilds that study without sampling.
"""
from __future__ import annotations

from typing import Any, Optional

from mldsl.errors import SearchError
from mldsl.hyper.algorithm import Algorithm, check_int
from mldsl.hyper.dna import DNA
from mldsl.hyper.geno import Choices, FloatDecision, IntDecision, Space

OPTUNA_MISSING = ('tpe() runs Optuna\'s TPE sampler, and Optuna is not installed here; install it with '
                  'pip install "mldsl[optuna]" (or use random() or evolution())')


def _optuna():
    try:
        import optuna  # noqa: PLC0415 - optional, and slow to import: only when a TPE search starts
    except ImportError:
        raise SearchError(OPTUNA_MISSING) from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


class TPE(Algorithm):
    """Tree-structured Parzen Estimator through Optuna: ``n_startup_trials`` random proposals, then each
    proposal maximises the ratio of the densities of the good and the other results so far."""

    name = "tpe"

    def __init__(self, n_startup_trials: int = 10, seed: Optional[int] = None):
        check_int(self.name, "n_startup_trials", n_startup_trials, 0)
        super().__init__(seed=seed)
        self._n_startup_trials = n_startup_trials
        self._study: Any = None
        self._optuna: Any = None

    @property
    def n_startup_trials(self) -> int:
        return self._n_startup_trials

    def hyper_params(self):
        return {"n_startup_trials": self._n_startup_trials, "seed": self._seed}

    def _on_setup(self, spec: Space) -> None:
        multi = [d.id for d in spec.decision_points() if isinstance(d, Choices) and d.is_multi]
        if multi:
            raise SearchError(f"tpe() cannot search manyof ({', '.join(multi)}); use random() or evolution()")
        self._optuna = _optuna()
        self._reset()

    def _reset(self) -> None:
        if self._optuna is not None:
            self._study = self._optuna.create_study(direction="maximize")

    # -- the space as Optuna parameters -----------------------------------------------------------------
    def _distribution(self, d):
        dist = self._optuna.distributions
        if isinstance(d, Choices):
            return dist.CategoricalDistribution(list(range(len(d.candidates))))
        if isinstance(d, FloatDecision):
            return dist.FloatDistribution(d.min_value, d.max_value, log=d.scale == "log")
        return dist.IntDistribution(d.min_value, d.max_value)

    def _suggest(self, trial, space: Space) -> DNA:
        """A DNA of ``space`` from the trial's suggestions (define-by-run over the active decisions)."""
        kids = []
        for d in space.elements:
            if isinstance(d, Choices):
                i = trial.suggest_categorical(d.id, list(range(len(d.candidates))))
                kids.append(d._choice(i, self._suggest(trial, d.candidates[i])))
            elif isinstance(d, FloatDecision):
                kids.append(DNA(d.min_value if d.min_value == d.max_value else
                                trial.suggest_float(d.id, d.min_value, d.max_value, log=d.scale == "log")))
            else:
                kids.append(DNA(trial.suggest_int(d.id, d.min_value, d.max_value)))
        return DNA(None, kids)

    def _params(self, spec: Space, dna: DNA):
        values = spec.dna_dict(dna)
        points = {d.id: d for d in spec.decision_points()}
        params, dists = {}, {}
        for key, value in values.items():
            d = points[key]
            if isinstance(d, FloatDecision) and d.min_value == d.max_value:
                continue
            params[key], dists[key] = value, self._distribution(d)
        return params, dists

    def _add(self, spec: Space, dna: DNA, reward: Optional[float]) -> None:
        params, dists = self._params(spec, dna)
        state = self._optuna.trial.TrialState
        self._study.add_trial(self._optuna.trial.create_trial(
            params=params, distributions=dists, value=reward,
            state=state.COMPLETE if reward is not None else state.FAIL))

    # -- protocol -----------------------------------------------------------------------------------------
    def _propose(self, spec: Space, n: int, rng) -> DNA:
        sampler = self._optuna.samplers.TPESampler(n_startup_trials=self._n_startup_trials,
                                                   seed=rng.randrange(2 ** 32))
        self._study.sampler = sampler
        trial = self._study.ask()
        dna = self._suggest(trial, spec)
        self._study.tell(trial, state=self._optuna.trial.TrialState.FAIL)   # its result arrives as feedback
        return dna

    def _on_recovered_proposal(self, spec: Space, n: int, dna: DNA) -> None:
        self._add(spec, dna, None)           # what _propose leaves behind, without sampling

    def _on_feedback(self, dna: DNA, reward: Optional[float]) -> None:
        self._add(self._require_setup(), dna, reward)


__all__ = ["TPE", "OPTUNA_MISSING"]
