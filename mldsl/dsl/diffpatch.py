"""``mldsl diff A B --as-patch NAME``: the smallest set of path edits that turns A into B, printed as a
``.mlx`` patch. Applied to A (``A with NAME``) it gives a value equal to B; it applies to any other
value that has those paths."""
from __future__ import annotations

from typing import Any, List, Tuple

from mldsl import symbolic as sym
from mldsl.dsl.module import Patch
from mldsl.errors import MldslError


def patch_edits(a: Any, b: Any, path: Tuple = ()) -> List[Tuple[Tuple, Any]]:
    """``[(path, value_in_b)]``, outermost changes only, in field/key/index order."""
    if sym.eq(a, b):
        return []
    if isinstance(a, sym.Object) and type(a) is type(b):
        out = []
        for key in type(a).__schema__.fields:
            out += patch_edits(a.sym_init_args.get(key, sym.MISSING),
                               b.sym_init_args.get(key, sym.MISSING), path + (key,))
        return out
    if isinstance(a, dict) and isinstance(b, dict) and set(a) == set(b):
        out = []
        for key in b:
            out += patch_edits(a[key], b[key], path + (key,))
        return out
    if isinstance(a, dict) and isinstance(b, dict) and _has_schema(a) and set(b) <= set(a):
        out = []
        for key in b:
            out += patch_edits(a[key], b[key], path + (key,))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += patch_edits(x, y, path + (i,))
        return out
    return [(path, b)]


def _has_schema(d) -> bool:
    return getattr(getattr(d, "value_spec", None), "schema", None) is not None


def diff_patch(a: Any, b: Any, name: str) -> Patch:
    """A ``Patch`` turning ``a`` into ``b``; MldslError when the roots differ in type."""
    edits = patch_edits(a, b)
    if any(not p for p, _ in edits):
        raise MldslError(f"cannot express the difference as a patch: the values have different types "
                         f"({type(a).__name__} vs {type(b).__name__})")
    return Patch([(str(sym.KeyPath(p)), _detach(v)) for p, v in edits], name=name)


def _detach(value: Any) -> Any:
    if isinstance(value, sym.Symbolic):
        return value.clone(deep=True)
    return value


def diff_as_patch(a: Any, b: Any, name: str) -> str:
    """The .mlx text ``patch NAME { path = value ... }`` turning ``a`` into ``b``."""
    from mldsl.dsl.printer import to_mlx

    return to_mlx(diff_patch(a, b, name), name=name, kind="patch")
