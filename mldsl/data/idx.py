"""Reader for the IDX file format of the MNIST distribution (gzipped or not).

Format: two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32,
0x0E float64), the number of dimensions, then each dimension as a big-endian int32, then the data
(big-endian). See http://yann.lecun.com/exdb/mnist/.
"""
from __future__ import annotations

import gzip
import math
import os
import struct
import zlib

import numpy as np

from mldsl.data.paths import open_regular_file
from mldsl.errors import DataError

_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


#: Bytes read at a time from a gzipped IDX file (its header says how many to expect).
_CHUNK = 1 << 24


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Reads one IDX file (``.gz`` or plain) into a NumPy array in native byte order.

    Reads no more than the header declares: a file whose data is shorter or longer than its header says,
    or that is not a regular file, is a DataError naming it.
    """
    path = os.fspath(path)
    with open_regular_file(path, "IDX") as fh:
        try:
            gzipped = fh.read(2) == b"\x1f\x8b"  # gzip magic, whatever the file is called
            fh.seek(0)
            stream = gzip.GzipFile(fileobj=fh, mode="rb") if gzipped else fh
            return _read(stream, path, None if gzipped else os.fstat(fh.fileno()).st_size)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"IDX: cannot read {path}: {exc}") from None


def _read(stream, path: str, size: int | None) -> np.ndarray:
    magic = stream.read(4)
    if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] not in _TYPES:
        raise DataError(f"IDX: {path} is not an IDX file (bad magic number {magic.hex() or 'empty'})")
    ndim = magic[3]
    if ndim == 0:
        raise DataError(f"IDX: {path} declares an array with no dimensions")
    dims = stream.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise DataError(f"IDX: {path}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", dims)
    dtype = np.dtype(_TYPES[magic[2]])
    expected = math.prod(shape) * dtype.itemsize
    if size is not None:
        held = size - 4 - 4 * ndim
    else:
        chunks, held = [], 0
        while held <= expected:
            chunk = stream.read(min(_CHUNK, expected + 1 - held))
            if not chunk:
                break
            chunks.append(chunk)
            held += len(chunk)
    if held != expected:
        more = "more than" if held > expected else f"{held} bytes, fewer than"
        raise DataError(f"IDX: {path}: the header says shape {shape} ({expected} bytes of data) but the file "
                        f"holds {more} that (truncated or not an IDX file?)")
    raw = stream.read(expected) if size is not None else b"".join(chunks)
    data = np.frombuffer(raw, dtype=dtype).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike, array: np.ndarray, compress: bool | None = None) -> None:
    """Writes ``array`` as an IDX file (gzipped when ``compress`` or when the name ends in ``.gz``).

    Handy to build small MNIST-like fixtures; the inverse of :func:`read_idx`.
    """
    path = os.fspath(path)
    array = np.asarray(array)
    codes = {np.dtype(v).newbyteorder("="): k for k, v in _TYPES.items()}
    code = codes.get(array.dtype.newbyteorder("="))
    if code is None:
        raise DataError(f"IDX cannot store dtype {array.dtype}")
    payload = (bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
               + array.astype(np.dtype(_TYPES[code])).tobytes())
    if compress if compress is not None else path.endswith(".gz"):
        payload = gzip.compress(payload)
    with open(path, "wb") as fh:
        fh.write(payload)
