"""mldsl.symbolic: symbolic objects (PyGlove-style) for ML experiments.

``from mldsl import symbolic as sym``: ``sym.Object`` + ``sym.members`` declare symbolic types;
``sym.Dict``/``sym.List`` are validated containers; every node supports ``sym_path``, ``sym_get``,
``rebind``, ``clone``, ``seal``, ``format``, ``to_json``, ``save``; free functions ``eq``, ``diff``,
``query``, ``traverse``, ``format``, ``clone``, ``to_json``/``from_json``, ``save``/``load``
(``sym.load`` resolves types through the registered-type table only; ``mldsl.load`` adds the plugins).
This package imports nothing from mldsl but ``mldsl.errors`` and ``mldsl.textfile``, and its modules import each other one way
(see ``base``).
"""
from __future__ import annotations

from mldsl.symbolic import typing
from mldsl.symbolic.base import Symbolic, eq, ne, sym_hash
from mldsl.symbolic.dict import Dict
from mldsl.symbolic.formatting import format
from mldsl.symbolic.json_io import from_json, from_json_str, load, save, to_json, to_json_str
from mldsl.symbolic.key_path import KeyPath
from mldsl.symbolic.list import List
from mldsl.symbolic.missing import MISSING
from mldsl.symbolic.object import Object, members
from mldsl.symbolic.ops import Diff, as_symbolic, clone, diff, query, traverse
from mldsl.symbolic.symbolize import Functor, symbolize
from mldsl.symbolic.type_table import lookup_type, register_type, registered_types
from mldsl.symbolic.typing import CustomTyping, Field, Schema, ValueSpec

__all__ = [
    "typing", "Symbolic", "Object", "Dict", "List", "members", "symbolize", "Functor", "KeyPath", "MISSING",
    "eq", "ne", "sym_hash", "diff", "Diff", "query", "traverse", "format", "clone", "as_symbolic",
    "to_json", "from_json", "to_json_str", "from_json_str", "save", "load",
    "register_type", "lookup_type", "registered_types", "CustomTyping", "Field", "Schema", "ValueSpec",
]
