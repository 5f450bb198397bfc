"""Reading a text file a user named (``.mlx`` source, JSON): UTF-8 only, size bounded, and every
failure an error that says where and what to do, never a traceback.

``read_text(path)`` returns the text (a UTF-8 byte-order mark is skipped). It raises
``TextFileError`` when the path is not a regular file (a directory, FIFO or device is refused before
it is opened, so ``/dev/zero`` cannot fill memory and a FIFO cannot block), when the file is larger
than ``MAX_TEXT_BYTES``, when it cannot be read, or when it is not UTF-8: then ``line`` and ``column``
(1-based, counted in characters like the parser's) locate the first invalid byte. The messages never
quote the file's bytes. This module imports nothing else from mldsl but ``errors``.
"""
from __future__ import annotations

import codecs
import os
import stat
from typing import Optional, Union

from mldsl.errors import MldslError

#: Largest text file read (bytes): 1 MiB, far above any hand-written experiment or saved value; it
#: bounds the time and memory a file can cost to parse.
MAX_TEXT_BYTES = 1 << 20

_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
         (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))


class TextFileError(MldslError):
    """A text file cannot be used: ``path``, ``reason`` (a phrase such as ``"is not UTF-8 text"``),
    ``advice`` (what to do, or ""), and for a decoding error the ``line`` and ``column`` of the first
    invalid byte (else 0) and ``line_text``, that line with each invalid sequence shown as U+FFFD (for
    a caller that may show the file; the message itself never quotes it)."""

    def __init__(self, path: str, reason: str, line: int = 0, column: int = 0, advice: str = "",
                 line_text: Optional[str] = None) -> None:
        self.path = path
        self.reason = reason
        self.line = line
        self.column = column
        self.advice = advice
        self.line_text = line_text
        where = f" (first invalid byte at {path}:{line}:{column})" if line else ""
        super().__init__(f"{path} {reason}{where}" + (f"; {advice}" if advice else ""))


def read_text(path: Union[str, "os.PathLike[str]"], *, limit: int = MAX_TEXT_BYTES) -> str:
    """The text of the regular file ``path`` decoded as UTF-8 (see the module docstring)."""
    path = os.fspath(path)
    try:
        info = os.stat(path)
    except OSError as exc:
        raise TextFileError(path, _os_reason(exc)) from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise TextFileError(path, f"is {kind}", advice="name a text file")
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise TextFileError(path, _os_reason(exc)) from None
    if len(data) > limit:
        raise TextFileError(path, f"is larger than {_size(limit)}, the limit for a file mldsl reads",
                            advice="split it, or keep data in data files")
    return decode_text(data, path)


def decode_text(data: bytes, path: str = "<bytes>") -> str:
    """``data`` decoded as UTF-8 with a leading byte-order mark skipped; ``TextFileError`` with the
    line and column of the first invalid byte otherwise (lone surrogates are invalid too)."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = exc.start
    line_start = data.rfind(b"\n", 0, bad) + 1
    line_end = data.find(b"\n", bad)
    line = data.count(b"\n", 0, line_start) + 1
    column = len(data[line_start:bad].decode("utf-8")) + 1
    line_text = data[line_start:None if line_end < 0 else line_end].decode("utf-8", "replace")
    reason = "is not UTF-8 text"
    for bom, name in _BOMS:
        if data.startswith(bom):
            reason = f"is {name} text, not UTF-8"
            break
    raise TextFileError(path, reason, line, column, advice="save it as UTF-8", line_text=line_text)


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "does not exist"
    if isinstance(exc, PermissionError):
        return "cannot be read: permission denied"
    return f"cannot be read: {exc.strerror or type(exc).__name__}"


def _size(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 and n % (1 << 20) == 0 else f"{n} bytes"
