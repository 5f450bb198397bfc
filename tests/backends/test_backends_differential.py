"""Differential test of the two backends: the same experiment is the same model on native and on Keras.

Hypothesis builds Sequential models from every component the native backend accepts (Dense with every
activation name and activation component, ``Activation`` layers anywhere, before and after softmax included,
Dropout, Flatten, L1, L2 and L1L2, every loss with ``from_logits`` both ways, every optimizer and option), plus PReLU,
which native does not run. Each model is lowered by both backends exactly as a run lowers it (the Keras
model compiled by ``KerasBackend.prepare``, the native plan by ``NativeBackend.plan``), the native
trainer (compiled kernels and NumPy twin) takes the Keras model's initial weights, and then the two agree
within float32 tolerance on: the predictions, the evaluation loss, and, when no Dropout is active in
training (a different random mask is not a different model), the training loss and gradients of one batch
and the parameters after three optimizer steps. A model native refuses raises a BackendError naming the
component and its path, never a different model.

Needs TensorFlow (skipped without it). Bounded: a few dozen examples, ``deadline=None``; on CI the suite's
derandomized profile (tests/conftest.py) makes the examples the same every run.
"""
import importlib.util
import os

import numpy as np
import pytest

os.environ.setdefault("MLDSL_TF_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

pytestmark = pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None,
                                reason='TensorFlow is not installed (pip install "mldsl[keras]")')

from hypothesis import HealthCheck, event, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from mldsl.backends.native import MLPTrainer, NativeBackend  # noqa: E402
from mldsl.data import DataSplits  # noqa: E402
from mldsl.errors import BackendError  # noqa: E402
from mldsl.kernels.catalogue import ACTIVATION_NAMES  # noqa: E402
from mldsl.registry import get_registry  # noqa: E402

N, FEATURES, CLASSES = 12, 5, 3
RTOL, ATOL = 2e-3, 2e-5                     # float32, different summation orders


def R(name):
    return get_registry().resolve(name)


# -- strategies ----------------------------------------------------------------------------------------------

def activation_components():
    """Every registered activation component (PReLU included: native refuses it), with its defaults, and the
    standard ones that have parameters with other values too."""
    registry = get_registry()
    defaults = [st.builds(registry.resolve(name)) for name in registry.names("activation")]
    return st.one_of(*defaults,
                     st.builds(lambda a: R("ELU")(alpha=a), st.sampled_from([0.5, 1.7])),
                     st.builds(lambda s: R("LeakyReLU")(negative_slope=s), st.sampled_from([0.0, 0.1])),
                     st.builds(lambda: R("GELU")(approximate=True)))


def activations(allow_none=True):
    names = st.sampled_from(list(ACTIVATION_NAMES))
    choices = [names, names, activation_components()] + ([st.none()] if allow_none else [])
    return st.one_of(*choices)


def regularizers():
    return st.one_of(st.none(), st.none(),
                     st.builds(lambda l2: R("L2")(l2), st.sampled_from([0.01, 0.1])),
                     st.builds(lambda l1: R("L1")(l1), st.sampled_from([0.01, 0.1])),
                     st.builds(lambda l1, l2: R("L1L2")(l1=l1, l2=l2), st.sampled_from([0.0, 0.05]),
                               st.sampled_from([0.0, 0.05])))


def dense(units, activation=None):
    return st.builds(lambda act, bias, reg: R("Dense")(units, activation=act, use_bias=bias, kernel_regularizer=reg),
                     activation or activations(), st.booleans(), regularizers())


def extra_layers():
    """What may come between or after Dense layers."""
    return st.one_of(st.builds(lambda a: R("Activation")(a), activations(allow_none=False)),
                     st.builds(lambda r: R("Dropout")(r), st.sampled_from([0.0, 0.3])),
                     st.just(None).map(lambda _: R("Flatten")()))


@st.composite
def models(draw):
    hidden = []
    for _ in range(draw(st.integers(0, 2))):
        hidden.append(draw(dense(draw(st.integers(2, 6)))))
        hidden.extend(draw(st.lists(extra_layers(), max_size=1)))
    loss = draw(losses())
    units = CLASSES if type(loss).type_name != "MeanSquaredError" else draw(st.sampled_from([1, CLASSES]))
    last = st.one_of(st.just("softmax"), st.builds(lambda: R("Softmax")()), st.none(), activations())
    layers = draw(st.lists(extra_layers(), max_size=1)) + hidden + [draw(dense(units, last))]
    layers += draw(st.lists(extra_layers(), max_size=2))
    return layers, loss


def losses():
    return st.one_of(st.builds(lambda fl: R("SparseCategoricalCrossentropy")(from_logits=fl), st.booleans()),
                     st.builds(lambda fl: R("CategoricalCrossentropy")(from_logits=fl), st.booleans()),
                     st.just(None).map(lambda _: R("MeanSquaredError")()))


def optimizers():
    return st.one_of(
        st.builds(lambda lr, m, nest: R("SGD")(learning_rate=lr, momentum=m, nesterov=nest),
                  st.sampled_from([0.01, 0.1]), st.sampled_from([0.0, 0.9]), st.booleans()),
        st.builds(lambda lr, b1, b2, eps: R("Adam")(learning_rate=lr, beta_1=b1, beta_2=b2, epsilon=eps),
                  st.sampled_from([0.001, 0.01]), st.sampled_from([0.9, 0.5]), st.sampled_from([0.999, 0.9]),
                  st.sampled_from([1e-7, 1e-3])),
        st.builds(lambda lr, rho, m, eps: R("RMSprop")(learning_rate=lr, rho=rho, momentum=m, epsilon=eps),
                  st.sampled_from([0.001, 0.01]), st.sampled_from([0.9, 0.5]), st.sampled_from([0.0, 0.5]),
                  st.sampled_from([1e-7, 1e-3])),
        st.builds(lambda lr, init, eps: R("Adagrad")(learning_rate=lr, initial_accumulator_value=init, epsilon=eps),
                  st.sampled_from([0.01, 0.1]), st.sampled_from([0.1, 0.5]), st.sampled_from([1e-7, 1e-3])))


def experiment(layers, loss, optimizer, seed=0):
    return R("Experiment")(model=R("Sequential")(layers), data=R("Digits")(), seed=seed,
                           training={"loss": loss, "optimizer": optimizer, "batch_size": N})


# -- the two backends ------------------------------------------------------------------------------------------

def data(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, FEATURES)).astype(np.float32)
    y = np.arange(N) % CLASSES
    rng.shuffle(y)
    return DataSplits(x_train=x, y_train=y, x_test=x, y_test=y, num_classes=CLASSES)


def digits(n):
    """The first ``n`` examples of the Digits dataset, (n, 8, 8) images in [0, 1] and their 10 labels."""
    full = R("Digits")().load()
    x, y = full.x_train[:n], full.y_train[:n]
    return DataSplits(x_train=x, y_train=y, x_test=x, y_test=y, num_classes=full.num_classes)


def keras_side(exp, splits):
    """The compiled Keras model of ``exp`` as a run builds it, and the targets as it encodes them."""
    from mldsl.backends.keras import KerasBackend
    prepared = KerasBackend().prepare(exp, splits)
    return prepared.model, prepared.y_train


def keras_loss_and_grads(model, x, y):
    import tensorflow as tf
    with tf.GradientTape() as tape:
        pred = model(x, training=True)
        loss = model.compute_loss(x=x, y=y, y_pred=pred, training=True)
    grads = tape.gradient(loss, model.trainable_variables)
    return float(loss), np.concatenate([np.ravel(g.numpy()) for g in grads])


def close(a, b, what, scale=None):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    atol = ATOL * max(1.0, float(np.abs(b).max()) if scale is None else scale)
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=atol, err_msg=what)


def check_same_model(exp, splits):
    """Native (both kernel sets) and Keras agree on ``exp`` trained on ``splits``' training examples as one
    batch, or native refuses it naming the component."""
    try:
        plan = NativeBackend().plan(exp)
    except BackendError as exc:
        text = str(exc)
        assert "(at model" in text or " at model." in text, text   # names the component's path
        return "refused"
    model, y_keras = keras_side(exp, splits)
    from mldsl.backends.keras import export_weights
    start = export_weights(model)
    x, y = splits.x_train, splits.y_train
    n, input_shape = len(x), x.shape[1:]
    dropout_active = any(type(l).type_name == "Dropout" and l.rate > 0 for l in exp.model.layers)
    keras_pred = model(x, training=False).numpy()
    keras_eval = float(model.compute_loss(x=x, y=y_keras, y_pred=model(x, training=False), training=False))
    if not dropout_active:
        keras_loss, keras_grads = keras_loss_and_grads(model, x, y_keras)
        keras_first = model.train_on_batch(x, y_keras, return_dict=True)["loss"]
        for _ in range(2):
            model.train_on_batch(x, y_keras)
        keras_after = np.concatenate([np.ravel(v.numpy()) for v in model.trainable_variables])
    for kernels in ("cython", "numpy"):
        tr = MLPTrainer(plan, input_shape, kernels=kernels)
        tr.set_weights(start)
        where = f"{kernels} kernels"
        close(tr.predict(x), keras_pred, f"predictions ({where})")
        close(tr.evaluate(x, y)["loss"], keras_eval, f"evaluation loss ({where})")
        if dropout_active:
            continue
        loss, grads = tr.gradients(x, y)
        close(loss, keras_loss, f"training loss ({where})")
        close(grads, keras_grads, f"gradients ({where})")
        xs, ys = tr._prepare_x(x), tr._prepare_y(y, n)
        first, _ = tr.train_step(np.arange(n), xs, ys)
        for _ in range(2):
            tr.train_step(np.arange(n), xs, ys)
        close(first, keras_first, f"first step's loss ({where})")
        close(tr.params, keras_after, f"parameters after three steps ({where})",
              scale=float(np.abs(keras_after).max()))
    return "agree"


def issue_14_model(hidden=32, classes=10):
    """Issue 14's model: a relu Dense before a separate softmax (native once dropped that relu)."""
    return ([R("Flatten")(), R("Dense")(hidden, activation="relu"), R("Dense")(classes, activation="relu"),
             R("Activation")("softmax")], R("SparseCategoricalCrossentropy")())


def test_issue_14_model_is_the_same_model_on_both_backends():
    """The issue's exact model on Digits with Adam's defaults: same weights, same predictions, loss,
    gradients and parameters after three steps (the native trainer used to make the last Dense linear)."""
    layers, loss = issue_14_model()
    assert check_same_model(experiment(layers, loss, R("Adam")()), digits(64)) == "agree"


@pytest.mark.parametrize("regularizer", [("L1", dict(l1=0.05)), ("L1L2", dict(l1=0.02, l2=0.05)), ("L1L2", {})],
                         ids=["L1", "L1L2", "L1L2-defaults"])
def test_l1_and_l1l2_are_the_same_penalty_on_both_backends(regularizer):
    """Keras' L1 and L1L2 on every Dense: the same loss, gradients (sign(0) = 0 included: the bias-free
    layers' kernels never sit at 0 here) and parameters after three steps, on both kernel sets."""
    name, args = regularizer
    reg = R(name)(**args)
    layers = [R("Flatten")(), R("Dense")(8, activation="tanh", kernel_regularizer=reg),
              R("Dense")(CLASSES, activation="softmax", kernel_regularizer=reg.clone())]
    assert check_same_model(experiment(layers, R("SparseCategoricalCrossentropy")(), R("SGD")(learning_rate=0.1)),
                            data(1)) == "agree"


@settings(max_examples=int(os.environ.get("MLDSL_DIFFERENTIAL_EXAMPLES", "60")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(model=models(), optimizer=optimizers(), seed=st.integers(0, 3))
@example(model=issue_14_model(hidden=4, classes=CLASSES), optimizer=R("Adam")(learning_rate=0.01), seed=0)
def test_native_and_keras_run_the_same_model(model, optimizer, seed):
    layers, loss = model
    event(check_same_model(experiment(layers, loss, optimizer, seed=seed), data(seed)))
