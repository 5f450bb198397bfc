"""Small Keras layers the standard lowerings need that Keras lacks. Importing this module imports Keras.

They are registered as Keras-serializable (package ``mldsl``), so a saved ``.keras`` model using them loads
after ``import mldsl.backends.keras._layers`` (:func:`mldsl.backends.keras.load_model` does that).
"""
from __future__ import annotations

from mldsl.backends.keras._runtime import import_keras

_tf, keras = import_keras()


@keras.saving.register_keras_serializable(package="mldsl")
class ApproximateGELU(keras.layers.Layer):
    """GELU with the tanh approximation (``GELU(approximate=True)``), as a serializable layer."""

    def call(self, inputs):
        return keras.activations.gelu(inputs, approximate=True)

    def compute_output_shape(self, input_shape):
        return input_shape
