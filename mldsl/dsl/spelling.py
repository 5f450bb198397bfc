"""How ``.mlx`` spells literal values and keys: strings, floats, names. Shared by the printer
(values -> ``.mlx``) and the formatter (source -> canonical ``.mlx``)."""
from __future__ import annotations

import math
import re

from mldsl.dsl.vocabulary import can_define


def quote_string(s: str) -> str:
    """The canonical double-quoted spelling of ``s`` (decodable by ``parser.decode_string``)."""
    out = ['"']
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ch.isprintable() and not (0xD800 <= ord(ch) <= 0xDFFF):
            out.append(ch)
        else:
            code = ord(ch)
            if code < 0x100:
                out.append(f"\\x{code:02x}")
            elif code < 0x10000:
                out.append(f"\\u{code:04x}")
            else:
                out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def float_text(x: float) -> str:
    """``repr`` of a float in .mlx spelling (``inf``, ``-inf``, ``nan``)."""
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(float(x))


def key_text(key: str) -> str:
    """A dict key: bare when it is a name (and not a literal such as ``true``), else quoted."""
    return key if can_define(key) else quote_string(key)


def name_for(stem: str) -> str:
    """A definition name made from a file's stem (``my-run.json`` -> ``my_run``): characters that cannot
    be in a name become ``_``, and a leading digit or a literal word (``none``) gets a ``_`` prefix."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", stem)
    return name if can_define(name) else f"_{name}"
