"""Moving trained weights between the Keras and the native backends, for the layers both run (Dense).

The exchange format (shared with the native backend, which saves ``weights.npz``):

* in memory: a list with one dict per Dense layer, in the model's layer order,
  ``{"kernel": float array (in_features, out_features), "bias": float array (out_features,) or None}``
  (``None``/absent when the layer has ``use_bias=False``);
* on disk: ``weights.npz`` as :mod:`mldsl.backends.weight_files` writes and reads it (``save_weights``,
  ``load_weights``, re-exported here).

Layers without weights (Flatten, Dropout, activations) are skipped, so the list lines up between backends;
layers only Keras runs (Conv2D, BatchNormalization, PReLU) are not exported.
"""
from __future__ import annotations

import os
from typing import Any, List, Sequence, Union

import numpy as np

from mldsl.backends.weight_files import WeightList, load_weights, save_weights  # noqa: F401 - re-exported
from mldsl.errors import BackendError


def dense_layers(model: Any) -> List[Any]:
    """The Keras Dense layers of ``model``, in order (nested models are walked depth-first)."""
    from mldsl.backends.keras._runtime import import_keras  # noqa: PLC0415

    _tf, keras = import_keras()
    out: List[Any] = []

    def walk(layer: Any) -> None:
        if isinstance(layer, keras.layers.Dense):
            out.append(layer)
        for child in getattr(layer, "layers", []) or []:
            walk(child)

    for layer in model.layers:
        walk(layer)
    return out


def export_weights(model: Any) -> WeightList:
    """The Dense weights of a Keras ``model``: ``[{"kernel": (in, out), "bias": (out,) | None}, ...]``."""
    out: WeightList = []
    for layer in dense_layers(model):
        kernel = np.asarray(layer.kernel.numpy())
        bias = np.asarray(layer.bias.numpy()) if layer.use_bias else None
        out.append({"kernel": kernel, "bias": bias})
    return out


def import_weights(model: Any, weights: Union[Sequence[dict], str, os.PathLike]) -> None:
    """Sets the Dense weights of a Keras ``model`` from a weight list or an ``.npz`` file (see module doc).

    Raises BackendError when the number of Dense layers or a shape differs, naming the layer.
    """
    if isinstance(weights, (str, os.PathLike)):
        weights = load_weights(weights)
    layers = dense_layers(model)
    if len(layers) != len(weights):
        raise BackendError(f"cannot import weights: the model has {len(layers)} Dense layers but the weights "
                           f"hold {len(weights)}")
    for i, (layer, entry) in enumerate(zip(layers, weights)):
        kernel = np.asarray(entry["kernel"])
        if tuple(kernel.shape) != tuple(layer.kernel.shape):
            raise BackendError(f"cannot import weights: Dense layer {i} ({layer.name}) has a kernel of shape "
                               f"{tuple(layer.kernel.shape)} but the weights give {tuple(kernel.shape)}")
        layer.kernel.assign(kernel.astype(layer.kernel.dtype))
        bias = entry.get("bias")
        if layer.use_bias:
            if bias is None:
                bias = np.zeros(tuple(layer.bias.shape))
            bias = np.asarray(bias)
            if tuple(bias.shape) != tuple(layer.bias.shape):
                raise BackendError(f"cannot import weights: Dense layer {i} ({layer.name}) has a bias of shape "
                                   f"{tuple(layer.bias.shape)} but the weights give {tuple(bias.shape)}")
            layer.bias.assign(bias.astype(layer.bias.dtype))
        elif bias is not None and np.any(np.asarray(bias) != 0):
            raise BackendError(f"cannot import weights: Dense layer {i} ({layer.name}) has no bias "
                               "(use_bias=False) but the weights give a non-zero one")
