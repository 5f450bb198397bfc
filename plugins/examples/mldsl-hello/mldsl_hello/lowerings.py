"""How ``HelloDense`` and ``HelloPReLU`` run on each backend (the ``mldsl_lowerings`` hook).

* ``native``: ``fn(component) -> [layer specs]`` of :mod:`mldsl.backends.native.plan`: ``HelloDense``
  recombines the kernels' layers; ``HelloPReLU`` brings its own NumPy math (a ``NumpyLayerSpec``);
* ``keras``: ``fn(component, ctx) -> [keras layers]`` (``ctx.keras`` is the imported Keras module).

Backend modules are imported inside the lowerings, when a backend runs, never at plugin load.
"""
from mldsl import hookimpl
from mldsl_hello.components import HelloDense, HelloPReLU


def lower_native(component):
    """``HelloDense`` as the native backend's Dense (+ Dropout) layer specs."""
    from mldsl.backends.native.plan import DenseSpec, DropoutSpec

    specs = [DenseSpec(int(component.units), component.activation)]
    if component.dropout > 0:
        specs.append(DropoutSpec(float(component.dropout)))
    return specs


def lower_prelu_native(component):
    """``HelloPReLU`` as a layer with this plugin's NumPy forward and backward, and one parameter."""
    from mldsl.backends.native.plan import NumpyLayerSpec
    from mldsl_hello import prelu

    return NumpyLayerSpec(prelu.forward, prelu.backward, {"alpha": prelu.initial_alpha(component.alpha)},
                          name="HelloPReLU")


def lower_prelu_keras(component, ctx):
    """``HelloPReLU`` as Keras' ``PReLU`` (one slope per unit, starting at ``alpha``)."""
    keras = ctx.keras
    return keras.layers.PReLU(alpha_initializer=keras.initializers.Constant(float(component.alpha)))


def lower_keras(component, ctx):
    """``HelloDense`` as Keras layers: Dense (+ Dropout)."""
    layers = [ctx.keras.layers.Dense(int(component.units), activation=component.activation)]
    if component.dropout > 0:
        layers.append(ctx.keras.layers.Dropout(float(component.dropout)))
    return layers


@hookimpl
def mldsl_lowerings(backend):
    return {"native": {HelloDense: lower_native, HelloPReLU: lower_prelu_native},
            "keras": {HelloDense: lower_keras, HelloPReLU: lower_prelu_keras}}.get(backend)
