"""The weight file both backends write into a run's ``model/`` folder: ``weights.npz``.

One ``.npz`` archive with the arrays ``kernel_0, bias_0, kernel_1, bias_1, ...``, one pair per Dense layer in
the model's order (``bias_i`` omitted for a layer without bias); the kernel is ``x @ kernel + bias``, Keras'
own layout, shape ``(in_features, units)``. It is read with ``allow_pickle=False`` and needs neither backend
(no TensorFlow, no kernels), so the Keras backend, the native backend and the pictures of first-layer weights
share it.
"""
from __future__ import annotations

import os
import re
import zipfile
from typing import Dict, List, Optional, Sequence, Union

import numpy as np

from mldsl.errors import BackendError

#: One Dense layer's weights: ``{"kernel": (in_features, units), "bias": (units,) or None}``.
WeightList = List[Dict[str, Optional[np.ndarray]]]
#: The file's name in a run's ``model/`` folder.
WEIGHTS_FILE = "weights.npz"
_KEY = re.compile(r"^(kernel|bias)_(\d+)$")


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
    """Reads an ``.npz`` weight file written by either backend into a weight list (never unpickling);
    BackendError saying what is wrong when the file is missing, unreadable or not such a file."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise BackendError(f"weight file {path!r} does not exist")
    try:
        with np.load(path, allow_pickle=False) as data:
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise BackendError(f"{path!r} is not an mldsl weight file: it holds one array, not an .npz archive")
            found: Dict[int, Dict[str, np.ndarray]] = {}
            for key in data.files:
                m = _KEY.match(key)
                if m is None:
                    raise BackendError(f"{path!r} is not an mldsl weight file: unexpected array {key!r} "
                                       "(expected kernel_0, bias_0, kernel_1, ...)")
                found.setdefault(int(m.group(2)), {})[m.group(1)] = data[key]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise BackendError(f"cannot read the weight file {path!r}: {exc}") from None
    if sorted(found) != list(range(len(found))) or any("kernel" not in e for e in found.values()):
        raise BackendError(f"{path!r} is not an mldsl weight file: kernels must be numbered 0..n-1")
    return [{"kernel": found[i]["kernel"], "bias": found[i].get("bias")} for i in range(len(found))]
