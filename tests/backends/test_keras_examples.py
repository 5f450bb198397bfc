"""Every experiment in ``examples/`` that the Keras backend can run trains one epoch on tiny data.

The example's dataset is swapped for a seeded ``Synthetic`` one of the same example shape (so no
download is needed); everything else (model, optimizer, loss, batch size, callbacks) is the example's.
"""
import importlib.util
import math
import os
from pathlib import Path

import pytest

os.environ.setdefault("MLDSL_TF_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

pytestmark = pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None,
                                reason='TensorFlow is not installed (pip install "mldsl[keras]")')

import mldsl  # noqa: E402
from mldsl.backends.keras import KerasBackend  # noqa: E402
from mldsl.hyper import is_deterministic  # noqa: E402
from mldsl.registry import get_registry  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
#: dataset -> (shape of one example, number of classes)
SHAPES = {"Mnist": ([28, 28], 10), "Digits": ([8, 8], 10), "Cifar10": ([32, 32, 3], 10),
          "Cifar100": ([32, 32, 3], 100), "Synthetic": (None, None)}


def _examples():
    out = []
    for path in sorted(EXAMPLES.glob("*.mlx")):
        for name, exp in mldsl.load_mlx(str(path)).experiments.items():
            if is_deterministic(exp):
                out.append(pytest.param(path.name, name, id=f"{path.stem}:{name}"))
    return out


@pytest.mark.parametrize("file,name", _examples())
def test_example_trains_one_epoch_on_tiny_data(file, name):
    exp = mldsl.load_mlx(str(EXAMPLES / file)).experiments[name]
    path, data = "data", exp.data
    while "dataset" in data.sym_init_args:          # a wrapper (Subset, Centered, ...): stand in for what it wraps
        path, data = path + ".dataset", data.dataset
    dataset = type(data).type_name
    if dataset not in SHAPES:
        pytest.skip(f"no tiny stand-in for dataset {dataset}")
    shape, classes = SHAPES[dataset]
    override = {"training.num_epochs": 1}
    if shape is not None:
        samples = 40 if path == "data" else 400    # enough for a Subset's size
        override[path] = get_registry().resolve("Synthetic")(num_samples=samples, input_shape=shape,
                                                              num_classes=classes)
    result = KerasBackend().run(exp.clone(deep=True, override=override))
    assert len(result.history) == 1
    per_class = result.metrics.pop("per_class", None)          # evaluation.per_class: the counts, not a number
    assert all(math.isfinite(v) for v in result.metrics.values())
    if per_class is not None:
        assert sum(map(sum, per_class["confusion"])) == len(override.get("data", exp.data).load().y_test)
