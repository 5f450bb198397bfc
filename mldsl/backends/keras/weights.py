"""Moving trained weights between the Keras and the native backends, for the layers both run (Dense).

The exchange format (shared with the native backend, which saves ``weights.npz``):

* in memory: a list with one dict per Dense layer, in the model's layer order,
  ``{"kernel": float array (in_features, out_features), "bias": float array (out_features,) or None}``
  (``None``/absent when the layer has ``use_bias=False``);
* on disk: an ``.npz`` file with the arrays ``kernel_0, bias_0, kernel_1, bias_1, ...`` (``bias_i`` omitted
  for a layer without bias) — the kernel is ``x @ kernel + bias``, Keras' own layout.

Layers without weights (Flatten, Dropout, activations) are skipped, so the list lines up between backends;
layers only Keras runs (Conv2D, BatchNormalization, PReLU) are not exported.
"""
from __future__ import annotations

import os
import re
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np

from mldsl.errors import BackendError

WeightList = List[Dict[str, Optional[np.ndarray]]]
_KEY = re.compile(r"^(kernel|bias)_(\d+)$")


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


def save_weights(weights: Sequence[dict], path: Union[str, os.PathLike]) -> str:
    """Writes a weight list as ``.npz`` (``kernel_i``/``bias_i``); returns the path."""
    arrays = {}
    for i, entry in enumerate(weights):
        arrays[f"kernel_{i}"] = np.asarray(entry["kernel"])
        if entry.get("bias") is not None:
            arrays[f"bias_{i}"] = np.asarray(entry["bias"])
    path = os.fspath(path)
    np.savez(path, **arrays)
    return path if path.endswith(".npz") else path + ".npz"


def load_weights(path: Union[str, os.PathLike]) -> WeightList:
    """Reads an ``.npz`` weight file written by either backend into a weight list."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise BackendError(f"weight file {path!r} does not exist")
    with np.load(path, allow_pickle=False) as data:
        found: Dict[int, Dict[str, np.ndarray]] = {}
        for key in data.files:
            m = _KEY.match(key)
            if m is None:
                raise BackendError(f"{path!r} is not an mldsl weight file: unexpected array {key!r} "
                                   "(expected kernel_0, bias_0, kernel_1, ...)")
            found.setdefault(int(m.group(2)), {})[m.group(1)] = data[key]
    if sorted(found) != list(range(len(found))) or any("kernel" not in e for e in found.values()):
        raise BackendError(f"{path!r} is not an mldsl weight file: kernels must be numbered 0..n-1")
    return [{"kernel": found[i]["kernel"], "bias": found[i].get("bias")} for i in range(len(found))]
