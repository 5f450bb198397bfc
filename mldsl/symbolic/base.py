"""The symbolic node base class shared by ``Object``, ``Dict`` and ``List``, and symbolic equality.

A node knows its parent and its key in the parent (``sym_parent``, ``sym_path``), validates every
change against its spec, and supports ``sym_get``/``sym_has``/``rebind``/``clone``/``seal``/
``sym_nondefault``. Formatting and JSON come from the mixins of ``formatting`` and ``json_io``, which
the node types add.

The node types register themselves on the base class when they are defined (``Symbolic.ObjectType``,
``Symbolic.DictType``, ``Symbolic.ListType``), as PyGlove's containers do: code below them in the
package (value specs, formatting, JSON) dispatches through these attributes instead of importing the
modules that define them, so the package's imports point one way.
"""
from __future__ import annotations

import copy as _copy
import math
from collections.abc import Mapping
from typing import Any, Callable, ClassVar, Iterable, Iterator, Optional, Tuple

from mldsl.errors import KeyPathError, SealedError, SymbolicError
from mldsl.symbolic._util import path_error, positional_arity
from mldsl.symbolic.key_path import _ROOT, KeyPath
from mldsl.symbolic.missing import MISSING

__all__ = ["Symbolic", "eq", "ne", "sym_hash", "as_rule"]

_setattr = object.__setattr__


class Symbolic:
    """Base class of symbolic nodes (``sym.Object``, ``sym.Dict``, ``sym.List``)."""

    #: The node types, set by the modules that define them (see the module docstring).
    ObjectType: ClassVar[type]
    DictType: ClassVar[type]
    ListType: ClassVar[type]

    # ---------------------------------------------------------------- state
    def _sym_init_state(self, allow_partial: bool = False, root_path: Any = None) -> None:
        # Plain instance attributes, written straight into __dict__ (bypassing the subclasses'
        # __setattr__, like object.__setattr__ would, but cheaper: this runs for every cloned node).
        state = self.__dict__
        state["_sym_parent"] = None
        state["_sym_key"] = None
        state["_sym_sealed"] = False
        state["_sym_partial"] = bool(allow_partial)
        state["_sym_root_path"] = _ROOT if root_path is None else KeyPath.from_value(root_path)

    # ------------------------------------------------- abstract (per node type)
    def _sym_child_items(self) -> Iterator[tuple[Any, Any]]:
        raise NotImplementedError

    def _sym_get_child(self, key: Any) -> Any:
        """The child at ``key``; raise KeyPathError (message without path) if absent."""
        raise NotImplementedError

    def _sym_set_child(self, key: Any, value: Any, path: Optional[KeyPath] = None) -> None:
        """Validate and set one child (``MISSING`` resets/removes it).

        ``path`` is the child's location (``self.sym_path + key``) when the caller already has it.
        """
        raise NotImplementedError

    def _sym_child_spec(self, key: Any):
        """The value spec of child ``key`` (or None)."""
        return None

    def _sym_child_description(self, key: Any) -> Optional[str]:
        return None

    def _sym_clone(self, deep: bool, memo: Optional[dict] = None, keep_seal: bool = False) -> "Symbolic":
        """A copy of this node as a new root (see ``clone``); ``keep_seal`` keeps the sealed flags.

        ``memo`` (as in ``copy.deepcopy``) maps ``id(node)`` to the value a copy holds in place of
        that descendant node, which is then not copied. The stand-in is stored as is (not adopted):
        ``materialize`` uses this to keep, rather than copy, the hyper primitives it replaces at once.
        """
        raise NotImplementedError

    # ---------------------------------------------------------- parentage
    def _sym_adopt(self, key: Any, value: Any) -> Any:
        """Make ``value`` (if symbolic) a child at ``key``; a node owned elsewhere is cloned first."""
        if isinstance(value, Symbolic):
            parent = value._sym_parent
            if parent is not None and (parent is not self or value._sym_key != key):
                value = value._sym_clone(deep=True)
            elif parent is None and self._sym_is_self_or_ancestor(value):
                value = value._sym_clone(deep=True)
            _setattr(value, "_sym_parent", self)
            _setattr(value, "_sym_key", key)
        return value

    def _sym_is_self_or_ancestor(self, node: "Symbolic") -> bool:
        cur: Optional[Symbolic] = self
        while cur is not None:
            if cur is node:
                return True
            cur = cur._sym_parent
        return False

    def _sym_validate_children(self, old_children: Iterable[Tuple[Any, Any]], validate: Callable[[], Any]) -> Any:
        """Validates a container's replacement items with its current children set aside.

        ``old_children`` are the current ``(key, child)`` pairs; they are detached while ``validate()``
        runs, so a child that is kept is adopted again as it is, not cloned as "owned elsewhere". If
        validation raises, they are re-attached unchanged; otherwise the children not among the
        validated items (a dict's values or a list) are detached for good. Returns ``validate()``.
        """
        old = list(old_children)
        for _, child in old:
            if isinstance(child, Symbolic) and child._sym_parent is self:
                _setattr(child, "_sym_parent", None)
        try:
            validated = validate()
        except Exception:
            for key, child in old:
                if isinstance(child, Symbolic) and child._sym_parent is None:
                    _setattr(child, "_sym_parent", self)
                    _setattr(child, "_sym_key", key)
            raise
        keep = {id(v) for v in (validated.values() if isinstance(validated, dict) else validated)}
        for _, child in old:
            if id(child) not in keep:
                self._sym_detach(child)
        return validated

    @staticmethod
    def _sym_detach(value: Any) -> None:
        if isinstance(value, Symbolic):
            _setattr(value, "_sym_parent", None)
            _setattr(value, "_sym_key", None)
            _setattr(value, "_sym_root_path", _ROOT)

    def _sym_release(self, old: Any) -> None:
        """Detach ``old``, a value this node is replacing, if this node owns it.

        A replaced child is always owned, except a stand-in from a ``memo`` clone (see
        ``_sym_clone``), which still belongs to the tree it was taken from and is left alone.
        """
        if isinstance(old, Symbolic) and old._sym_parent is self:
            self._sym_detach(old)

    def _sym_check_sealed(self, key: Any = None) -> None:
        if self._sym_sealed:
            path = self.sym_path if key is None else self.sym_path + key
            what = f"{key!r} of " if key is not None else ""
            raise path_error(f"Cannot modify {what}a sealed {type(self).__name__}; unseal it with "
                             f".seal(False) or change a clone.", path, cls=SealedError)

    # ------------------------------------------------------------- public API
    @property
    def sym_parent(self) -> Optional["Symbolic"]:
        """The node that holds this one (None for a root)."""
        return self._sym_parent

    @property
    def sym_path(self) -> KeyPath:
        """This node's location from the root, e.g. ``model.layers[1]``."""
        node = self
        parent = node._sym_parent
        if parent is None:
            return node._sym_root_path
        keys: tuple = ()
        while parent is not None:
            keys = (node._sym_key,) + keys
            node, parent = parent, parent._sym_parent
        # Keys of adopted children are field names / dict keys (str) or list indices (int): valid.
        return KeyPath._of(node._sym_root_path.keys + keys)

    @property
    def sym_root(self) -> "Symbolic":
        """The top-most ancestor (self for a root)."""
        node = self
        while node._sym_parent is not None:
            node = node._sym_parent
        return node

    @property
    def is_sealed(self) -> bool:
        """Whether changes are refused (SealedError)."""
        return self._sym_sealed

    @property
    def allow_partial(self) -> bool:
        """Whether required values may be ``MISSING``."""
        return self._sym_partial

    @property
    def is_partial(self) -> bool:
        """True if some value in the tree is ``MISSING``."""
        for _, v in self._sym_child_items():
            if v is MISSING or (isinstance(v, Symbolic) and v.is_partial):
                return True
        return False

    def seal(self, is_seal: bool = True) -> "Symbolic":
        """Seal (or unseal) this node and its descendants; returns self."""
        _setattr(self, "_sym_sealed", bool(is_seal))
        for _, v in self._sym_child_items():
            if isinstance(v, Symbolic):
                v.seal(is_seal)
        return self

    def sym_items(self) -> list[tuple[Any, Any]]:
        """``(key, value)`` pairs of the children (fields, dict items or list elements)."""
        return list(self._sym_child_items())

    def sym_keys(self) -> list[Any]:
        """Keys of the children."""
        return [k for k, _ in self._sym_child_items()]

    def sym_values(self) -> list[Any]:
        """Values of the children."""
        return [v for _, v in self._sym_child_items()]

    def _sym_resolve(self, path: KeyPath) -> Any:
        node: Any = self
        for i, key in enumerate(path._keys):
            if not isinstance(node, Symbolic):
                raise KeyPathError(
                    f"Cannot find path {str(path)!r}: the value at {str(KeyPath(path.keys[:i])) or '<root>'!r}"
                    f" is {type(node).__name__} {node!r}, which has no children.")
            try:
                node = node._sym_get_child(key)
            except KeyPathError as e:
                where = str(KeyPath(path.keys[:i]))
                raise KeyPathError(f"Cannot find path {str(path)!r}: {e}"
                                   + (f" (at {where!r})" if where else "")) from None
        return node

    def sym_get(self, path: Any, default: Any = MISSING) -> Any:
        """The value at ``path`` (str like ``"layers[1].units"`` or KeyPath) relative to this node.

        Raises :class:`~mldsl.errors.KeyPathError` if the path does not exist, unless ``default`` is given.
        """
        try:
            return self._sym_resolve(KeyPath.from_value(path))
        except KeyPathError:
            if default is not MISSING:
                return default
            raise

    def sym_has(self, path: Any) -> bool:
        """Whether ``path`` exists under this node."""
        try:
            self._sym_resolve(KeyPath.from_value(path))
            return True
        except KeyPathError:
            return False

    def _sym_set_path(self, path: KeyPath, value: Any) -> None:
        if path.is_root:
            raise path_error("Cannot rebind the root node itself; rebind its fields.", self.sym_path,
                             cls=KeyPathError)
        parent = self._sym_resolve(path.parent)
        if not isinstance(parent, Symbolic):
            raise KeyPathError(f"Cannot set path {str(path)!r}: the value at {str(path.parent)!r} is "
                               f"{type(parent).__name__} {parent!r}, which has no children.")
        parent._sym_set_child(path.key, value, self.sym_path + path)

    def rebind(self, path_value_pairs: Any = None, *, raise_on_no_change: bool = False,
               **kwargs: Any) -> "Symbolic":
        """Change values in place; returns self.

        ``path_value_pairs`` is a dict ``{path: value}`` (paths relative to this node; keyword
        arguments add more), or a rule ``fn(key_path, value, parent) -> new_value`` (or
        ``fn(key_path, value)``, as in PyGlove) called on every node top-down (``key_path`` is absolute;
        a returned value that differs replaces the node and its subtree is not visited). All changes are validated before any is applied (atomic).
        ``MISSING`` as a value resets a field to its default (or removes a dict key / list element).
        With ``raise_on_no_change`` an update that changes nothing raises ``SymbolicError``.
        """
        if callable(path_value_pairs) and not isinstance(path_value_pairs, Mapping):
            updates = self._sym_rule_updates(path_value_pairs)
        else:
            if path_value_pairs is not None and not isinstance(path_value_pairs, Mapping):
                raise TypeError("rebind() takes a dict of {path: value} or a rule function, got "
                                f"{type(path_value_pairs).__name__}")
            updates = {}
            for k, v in list((path_value_pairs or {}).items()) + list(kwargs.items()):
                updates[KeyPath.from_value(k)] = v
        changes = []
        for p, v in updates.items():
            if p.is_root:
                raise path_error("Cannot rebind the root node itself; rebind its fields.", self.sym_path,
                                 cls=KeyPathError)
            old = self.sym_get(p, default=_ABSENT)
            if old is not _ABSENT and (old is v or (v is not MISSING and eq(old, v))):
                continue
            changes.append((p, v))
        if not changes:
            if raise_on_no_change:
                raise SymbolicError(f"rebind() changed nothing at {str(self.sym_path) or '<root>'}.")
            return self
        if len(changes) > 1:
            trial = self._sym_clone(deep=True, keep_seal=True)
            _setattr(trial, "_sym_root_path", self.sym_path)
            for p, v in changes:
                trial._sym_set_path(p, _trial_copy(v))
        self._sym_apply_changes(changes)
        return self

    def _sym_apply_changes(self, changes: Iterable[tuple[KeyPath, Any]]) -> None:
        """Set each ``(relative KeyPath, value)`` in order, each validated as ``rebind`` does.

        Unlike ``rebind`` this is not all-or-nothing: a change that fails leaves the earlier ones
        applied. Use it on a tree the caller owns and throws away on error (e.g. a fresh clone being
        materialised), where ``rebind``'s trial clone would only cost time.
        """
        for p, v in changes:
            self._sym_set_path(p, v)

    def _sym_rule_updates(self, fn: Callable) -> dict:
        fn = as_rule(fn)
        updates: dict = {}

        def visit(node: Symbolic, rel: KeyPath) -> None:
            for key, value in list(node._sym_child_items()):
                crel = rel + key
                new = fn(node.sym_path + key, value, node)
                if new is not value and not eq(new, value):
                    updates[crel] = new
                    continue
                if isinstance(value, Symbolic):
                    visit(value, crel)

        visit(self, KeyPath())
        return updates

    def clone(self, deep: bool = False, override: Optional[Mapping] = None) -> "Symbolic":
        """A copy of this node as a new root (unsealed), with ``override`` ``{path: value}`` applied.

        Symbolic children are always copied (a node has one parent); ``deep`` also deep-copies the
        non-symbolic leaf values (shallow shares them).
        """
        out = self._sym_clone(deep)
        if override:
            out.rebind(override)
        return out

    sym_clone = clone

    def __copy__(self) -> "Symbolic":
        return self.clone(deep=False)

    def __deepcopy__(self, memo: dict) -> "Symbolic":
        return self.clone(deep=True)

    def sym_eq(self, other: Any) -> bool:
        """Symbolic equality (same type, equal children)."""
        raise NotImplementedError

    def sym_ne(self, other: Any) -> bool:
        """``not self.sym_eq(other)``."""
        return not self.sym_eq(other)

    def sym_hash(self) -> int:
        """A hash consistent with ``sym_eq``."""
        raise NotImplementedError

    def __eq__(self, other: Any) -> bool:
        return self.sym_eq(other)

    def __ne__(self, other: Any) -> bool:
        return not self.sym_eq(other)

    def __hash__(self) -> int:
        return self.sym_hash()

    def sym_nondefault(self) -> dict[str, Any]:
        """``{relative_path: value}`` of the leaves (or whole sub-objects) that differ from defaults."""
        out: dict[str, Any] = {}
        _collect_nondefault(self, KeyPath(), out)
        return out

    def __reduce__(self):
        raise NotImplementedError


def as_rule(fn: Callable) -> Callable[[KeyPath, Any, Any], Any]:
    """A rebind rule as ``fn(key_path, value, parent)``: PyGlove's rules take ``(key_path, value)`` or
    ``(key_path, value, parent)``; any other function is a TypeError saying which it may take."""
    arity = positional_arity(fn)
    if arity is None or arity == 3:
        return fn
    if arity == 2:
        return lambda key_path, value, parent: fn(key_path, value)
    name = getattr(fn, "__name__", type(fn).__name__)
    raise TypeError(f"a rule takes (key_path, value) or (key_path, value, parent), but {name} takes {arity} "
                    f"positional argument(s); e.g. lambda k, v: new if isinstance(v, Old) else v")


#: Leaf types that ``copy.deepcopy`` returns unchanged (exact types, as its dispatch table uses).
_ATOMIC = frozenset({type(None), bool, int, float, complex, str, bytes, type(MISSING)})


def _clone_child(value: Any, deep: bool, keep_seal: bool, memo: Optional[dict], parent: Symbolic,
                 key: Any) -> Any:
    """A copy of ``value``, a child of ``parent`` being cloned: symbolic nodes are cloned and the copy is
    adopted at ``key``; other leaves are deep-copied when ``deep``.

    The node's copy is fresh and unowned, so it is attached directly (what ``_sym_adopt`` ends up
    doing, without its ownership checks). A node in ``memo`` is replaced by its entry (see
    ``Symbolic._sym_clone``). Callers skip the call for ``_ATOMIC`` leaves.
    """
    if isinstance(value, Symbolic):
        if memo and id(value) in memo:
            return memo[id(value)]
        value = value._sym_clone(deep, memo, keep_seal)
        state = value.__dict__
        state["_sym_parent"] = parent
        state["_sym_key"] = key
        return value
    if deep:
        return _deepcopy_leaf(value)
    return value


def _deepcopy_leaf(value: Any) -> Any:
    try:
        return _copy.deepcopy(value)
    except Exception:  # noqa: BLE001 - uncopyable leaf (e.g. a module): share it
        return value


class _Absent:
    pass


_ABSENT = _Absent()


def _trial_copy(value: Any) -> Any:
    try:
        return _copy.deepcopy(value)
    except Exception:  # noqa: BLE001 - uncopyable leaf: use it as is
        return value


def _same_kind(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict)
    if isinstance(a, list):
        return isinstance(b, list)
    return type(a) is type(b)


def _collect_nondefault(node: Symbolic, rel: KeyPath, out: dict) -> None:
    for key, value in node._sym_child_items():
        spec = node._sym_child_spec(key)
        default = spec.default if spec is not None else MISSING
        path = rel + key
        if default is not MISSING and eq(value, default):
            continue
        if isinstance(value, Symbolic):
            if default is MISSING or default is None or _same_kind(value, default):
                before = len(out)
                _collect_nondefault(value, path, out)
                if len(out) == before and (default is MISSING or default is None
                                           or not _same_kind(value, default)):
                    out[str(path)] = value
                continue
            out[str(path)] = value
        else:
            out[str(path)] = value


# -- equality -----------------------------------------------------------------------------------------
# Two symbolic values are equal when they have the same type and equal fields/items (recursively);
# ``nan`` equals ``nan``; a ``sym.Dict``/``sym.List`` equals a plain dict/list with equal items.

def eq(left: Any, right: Any) -> bool:
    """Symbolic equality of two values (symbolic or not)."""
    if left is right:
        return True
    if isinstance(left, Symbolic):
        return left.sym_eq(right)
    if isinstance(right, Symbolic):
        return right.sym_eq(left)
    if isinstance(left, float) and isinstance(right, float):
        return left == right or (math.isnan(left) and math.isnan(right))
    if isinstance(left, tuple) and isinstance(right, tuple):
        return len(left) == len(right) and all(eq(a, b) for a, b in zip(left, right))
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(eq(a, b) for a, b in zip(left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(eq(v, right[k]) for k, v in left.items())
    try:
        return bool(left == right)
    except Exception:  # noqa: BLE001 - e.g. arrays with ambiguous truth value
        return False


def ne(left: Any, right: Any) -> bool:
    """``not eq(left, right)``."""
    return not eq(left, right)


def sym_hash(value: Any) -> int:
    """A hash consistent with :func:`eq`."""
    if isinstance(value, Symbolic):
        return value.sym_hash()
    if isinstance(value, float) and math.isnan(value):
        return hash("nan")
    if isinstance(value, (tuple, list)):
        return hash(("seq", tuple(sym_hash(v) for v in value)))
    if isinstance(value, dict):
        return hash(("map", frozenset((k, sym_hash(v)) for k, v in value.items())))
    try:
        return hash(value)
    except TypeError:
        return hash(type(value).__qualname__)
