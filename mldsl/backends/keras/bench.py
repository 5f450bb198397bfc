"""Benchmark: the MNIST MLP of the examples run through mldsl's Keras backend vs. written directly in Keras.

    python -m mldsl.backends.keras.bench [--epochs 3] [--samples N] [--data PATH] [--repeats 2]

Both sides train the same model, ``mnist_mlp`` of ``examples/mnist_mlp.mlx`` (Flatten, Dense(1024, relu),
Dropout(0.2), Dense(10, softmax); Adam 1e-3, sparse categorical cross-entropy, batch 32) on the same arrays with
the same seed, with ``fit(verbose=0)``, interleaved ``--repeats`` times. Reported: seconds of the first
epoch (includes tracing), the later epochs (steady state; best and median over all repeats: on a busy
machine the best is the least noisy estimate), the whole run (lowering + compile + fit + evaluate), and
mldsl's overhead in percent for each; plus the process CPU time of the later epochs (median), which
other processes on a shared machine disturb less than wall time. The experiment comes from ``examples/mnist_mlp.mlx`` when it
exists (``--file``/``--name``; run from the repository root), else the same model is built from the
registry's components.

Data: the experiment's ``Mnist`` dataset (``--data`` points it at Keras' ``mnist.npz`` or a folder of IDX
files); without a local copy it falls back to random MNIST-shaped arrays (the timing does not depend on
the values), and says so. Set ``MLDSL_TF_THREADS`` to bound TensorFlow's threads.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import Any, List, Optional, Tuple

import numpy as np

DEFAULT_FILE = os.path.join("examples", "mnist_mlp.mlx")
DEFAULT_NAME = "mnist_mlp"
HIDDEN = 1024  # the example's hidden layer: Dense(1024, relu), Dropout(0.2)


def load_experiment(file: Optional[str], name: Optional[str]) -> Tuple[Any, str]:
    """``(experiment, where it came from)``: the example file when present, else the MLP from components."""
    from mldsl.registry import get_registry

    if file and os.path.exists(file):
        import mldsl

        module = mldsl.load_mlx(file)
        experiments = dict(module.experiments)
        name = name or (DEFAULT_NAME if DEFAULT_NAME in experiments else next(iter(experiments), None))
        if name in experiments:
            return experiments[name], f"{file}:{name}"
        raise SystemExit(f"{file} has no experiment named {name!r}; it has {', '.join(experiments)}")
    R = get_registry().resolve
    exp = R("Experiment")(
        model=R("Sequential")([R("Flatten")(), R("Dense")(HIDDEN, activation="relu"), R("Dropout")(0.2),
                               R("Dense")(10, activation="softmax")]),
        data=R("Mnist")(),
        training={"batch_size": 32, "num_epochs": 2, "loss": R("SparseCategoricalCrossentropy")(),
                  "optimizer": R("Adam")(learning_rate=1e-3)},
        evaluation={"batch_size": 32, "metric": R("SparseCategoricalAccuracy")()})
    return exp, f"the MNIST MLP built from components ({file} not found)"


def load_data(experiment: Any, path: Optional[str], samples: Optional[int]) -> Tuple[Any, str]:
    """The experiment's data (or ``path``), cut to ``samples`` training examples; random data if none."""
    from mldsl.data import DataSplits, load_mnist
    from mldsl.errors import DataError

    try:
        splits = load_mnist(path) if path else experiment.data.load()
        note = f"MNIST ({len(splits.x_train)} train / {len(splits.x_test)} test examples found)"
    except DataError as exc:
        rng = np.random.default_rng(0)
        n = samples or 60000
        x = rng.random((n + 2000, 28, 28), dtype=np.float32)
        y = rng.integers(0, 10, n + 2000).astype(np.int64)
        splits = DataSplits(x[:n], y[:n], x[n:], y[n:], 10)
        note = f"random MNIST-shaped data (no local MNIST: {str(exc).splitlines()[0][:80]}...)"
    if samples and samples < len(splits.x_train):
        splits = DataSplits(splits.x_train[:samples], splits.y_train[:samples], splits.x_test, splits.y_test,
                            splits.num_classes)
        note += f", training on the first {samples}"
    return splits, note


def direct_keras(splits: Any, *, epochs: int, batch_size: int, eval_batch_size: int, learning_rate: float,
                 seed: int) -> Tuple[List[float], float, Any, List[float]]:
    """The same MLP written directly in Keras: ``(seconds per epoch, total seconds, model, CPU seconds of
    epochs 2..n)``."""
    from mldsl.backends.keras._runtime import import_keras

    _tf, keras = import_keras()
    started = time.perf_counter()
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input(shape=splits.x_train.shape[1:]),
        keras.layers.Flatten(),
        keras.layers.Dense(HIDDEN, activation="relu"),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
    times: List[float] = []
    cpu: List[float] = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t0)
            cpu.append(time.process_time())

    model.fit(splits.x_train, splits.y_train, batch_size=batch_size, epochs=epochs, verbose=0,
              callbacks=[Timer()])
    model.evaluate(splits.x_test, splits.y_test, batch_size=eval_batch_size, verbose=0)
    return times, time.perf_counter() - started, model, list(np.diff(cpu))


def via_mldsl(experiment: Any, splits: Any) -> Tuple[List[float], float, Any, List[float]]:
    """The experiment run by :class:`KerasBackend`: like :func:`direct_keras`."""
    from mldsl.backends.keras import KerasBackend

    cpu: List[float] = []
    started = time.perf_counter()
    result = KerasBackend().run(experiment, splits=splits, on_epoch=lambda epoch, logs: cpu.append(time.process_time()))
    return ([row["seconds"] for row in result.history], time.perf_counter() - started, result.model,
            list(np.diff(cpu)))


def _pct(ours: float, theirs: float) -> str:
    return f"{(ours / theirs - 1.0) * 100.0:+.1f}%"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mldsl.backends.keras.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--file", default=DEFAULT_FILE, help="the .mlx file with the MNIST experiment")
    parser.add_argument("--name", default=None, help="the experiment's name in --file (default: the first)")
    parser.add_argument("--data", default=None, help="MNIST location (mnist.npz or a folder of IDX files)")
    parser.add_argument("--samples", type=int, default=None, help="train on the first N examples only")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per run (default 3)")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each side, interleaved (default 2)")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.repeats < 1:
        parser.error("--epochs and --repeats must be >= 1")

    from mldsl.backends.keras._runtime import import_keras

    tf, keras = import_keras()
    experiment, source = load_experiment(args.file, args.name)
    experiment = experiment.clone(deep=True, override={"training.num_epochs": args.epochs})
    splits, note = load_data(experiment, args.data, args.samples)
    training, evaluation = experiment.training, experiment.evaluation
    batch_size, eval_bs = int(training["batch_size"]), int(evaluation["batch_size"])
    lr = float(training["optimizer"].learning_rate)
    devices = [d.device_type for d in tf.config.list_logical_devices()]
    print(f"experiment: {source}")
    print(f"data: {note}")
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, devices {devices}, "
          f"threads={os.environ.get('MLDSL_TF_THREADS', 'default')}; batch {batch_size}, {args.epochs} epochs, "
          f"{args.repeats} repeats")

    ours: List[Tuple[List[float], float]] = []
    theirs: List[Tuple[List[float], float]] = []
    params = {}
    ours_cpu: List[float] = []
    theirs_cpu: List[float] = []
    for i in range(args.repeats):
        for side in (("mldsl", "keras") if i % 2 == 0 else ("keras", "mldsl")):  # alternate who goes first
            if side == "mldsl":
                times, total, model, cpu = via_mldsl(experiment, splits)
                ours.append((times, total))
                ours_cpu.extend(cpu)
            else:
                times, total, model, cpu = direct_keras(splits, epochs=args.epochs, batch_size=batch_size,
                                                        eval_batch_size=eval_bs, learning_rate=lr,
                                                        seed=int(experiment.seed))
                theirs.append((times, total))
                theirs_cpu.extend(cpu)
            params[side] = model.count_params()
    if params["mldsl"] != params["keras"]:
        print(f"warning: the models differ ({params['mldsl']} vs {params['keras']} parameters); the "
              "experiment is not the MLP this benchmark writes in Keras", file=sys.stderr)

    def later(runs):
        return [t for times, _ in runs for t in (times[1:] or times)]

    rows = [("first epoch, best (s)", min(r[0][0] for r in ours), min(r[0][0] for r in theirs)),
            ("later epochs, best (s)", min(later(ours)), min(later(theirs))),
            ("later epochs, median (s)", statistics.median(later(ours)), statistics.median(later(theirs))),
            ("whole run, best (s)", min(r[1] for r in ours), min(r[1] for r in theirs))]
    if ours_cpu and theirs_cpu:  # CPU time of the process: less disturbed by other processes than wall time
        rows.append(("later epochs, CPU median (s)", statistics.median(ours_cpu), statistics.median(theirs_cpu)))
    print(f"{'':28}{'mldsl':>10}{'keras':>10}{'overhead':>10}")
    for label, a, b in rows:
        print(f"{label:28}{a:10.3f}{b:10.3f}{_pct(a, b):>10}")
    print("(best/median over all repeats; on a shared machine trust 'best' most)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
