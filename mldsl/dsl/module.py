"""What ``mldsl.parse``/``mldsl.load_mlx`` return: a ``Module`` (ordered name -> value; a ``patch``
statement's value is a :class:`mldsl.patching.Patch`), and provenance records (``Module.explain``)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Tuple

from mldsl import symbolic as sym
from mldsl.dsl.ir import Span
from mldsl.dsl.printer import Printer, register_printer, to_mlx
from mldsl.dsl.layout import render
from mldsl.patching import Patch  # the value of a `patch` statement (defined in patching)

Path = Tuple[Any, ...]


@dataclass
class Origin:
    """Where a value was set: ``file:line:column`` and how (``experiment 'mnist'``, ``patch
    'big_batch'``, ``patcher relu_to_elu``, ``let 'hidden'`` ...), with the value it set."""

    file: str
    line: int
    column: int
    how: str
    value: str = ""

    @classmethod
    def at(cls, span: Span, how: str, value: str = "") -> "Origin":
        return cls(span.file, span.line, span.column, how, value)

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    def __str__(self) -> str:
        text = f"{self.location}: {self.how}"
        if self.value:
            text += f": {self.value}"
        return text


@dataclass
class Explanation:
    """The answer of ``Module.explain(name, path)``: the value at ``path`` and the chain of places
    that set it, oldest first (``default`` True when it was never written and holds the default)."""

    name: str
    path: str
    value: Any
    chain: List[Origin]
    default: bool = False

    def __str__(self) -> str:
        try:
            shown = to_mlx(self.value).rstrip("\n")
        except TypeError:
            shown = repr(self.value)
        head = f"{self.name}.{self.path}" if self.path else self.name
        lines = [f"{head} = {shown}"]
        if self.default:
            lines.append("  (not written anywhere: the default value)")
        for o in self.chain:
            lines.append(f"  {o}")
        return "\n".join(lines)


class Provenance:
    """Path -> chain of ``Origin`` (oldest first) for one definition."""

    def __init__(self, records: Optional[Dict[Path, List[Origin]]] = None) -> None:
        self.records: Dict[Path, List[Origin]] = records or {}

    def copy(self) -> "Provenance":
        return Provenance({k: list(v) for k, v in self.records.items()})

    def add(self, path: Path, origin: Origin) -> None:
        self.records.setdefault(tuple(path), []).append(origin)

    def set(self, path: Path, origin: Origin) -> None:
        """``path`` was replaced: deeper records go (the old value is gone), the chain grows."""
        path = tuple(path)
        n = len(path)
        for key in [k for k in self.records if len(k) > n and k[:n] == path]:
            del self.records[key]
        self.add(path, origin)

    def graft(self, prefix: Path, other: "Provenance", extra: Optional[Origin] = None) -> None:
        """Copies ``other``'s records under ``prefix`` (a referenced definition used here), then adds
        ``extra`` (the use site) to the chain of ``prefix``."""
        prefix = tuple(prefix)
        for key, chain in other.records.items():
            self.records.setdefault(prefix + key, []).extend(chain)
        if extra is not None:
            self.add(prefix, extra)

    def chain(self, path: Path) -> Tuple[List[Origin], bool]:
        """(origins of ``path`` or of the nearest enclosing path, whether it was exact)."""
        path = tuple(path)
        for n in range(len(path), -1, -1):
            chain = self.records.get(path[:n])
            if chain:
                return list(chain), n == len(path)
        return [], False


@dataclass
class Definition:
    """One named definition of a module."""

    name: str
    kind: str                     # "let", "experiment", "patch", "search"
    value: Any
    span: Span                    # the statement
    name_span: Span
    provenance: Provenance = field(default_factory=Provenance)
    node: Any = None              # the IR statement
    patch_entries: Any = None     # for patches: [(path, value, entry IR, value provenance)]
    source_lines: Any = None      # lines of the defining file (for diagnostics)


class Module(Mapping):
    """An ordered mapping name -> value of a parsed ``.mlx`` file (its imports' names included).

    ``kinds`` maps name -> "let" / "experiment" / "patch" / "search"; ``own`` lists the names the file
    itself defines; ``definitions`` holds positions and provenance (``explain``).
    """

    def __init__(self, filename: str = "<string>", source: str = "") -> None:
        self.filename = filename
        self.source = source
        self.definitions: Dict[str, Definition] = {}
        self.own: List[str] = []
        self.imports: List[str] = []

    # -- mapping -------------------------------------------------------------------------------
    def __getitem__(self, name: str) -> Any:
        return self.definitions[name].value

    def __iter__(self) -> Iterator[str]:
        return iter(self.definitions)

    def __len__(self) -> int:
        return len(self.definitions)

    def __repr__(self) -> str:
        items = ", ".join(f"{n}: {d.kind}" for n, d in self.definitions.items())
        return f"Module({self.filename!r}, {{{items}}})"

    @property
    def kinds(self) -> Dict[str, str]:
        """name -> kind, in definition order."""
        return {n: d.kind for n, d in self.definitions.items()}

    def names(self, kind: Optional[str] = None, own: bool = False) -> List[str]:
        names = self.own if own else list(self.definitions)
        return [n for n in names if kind is None or self.definitions[n].kind == kind]

    @property
    def experiments(self) -> Dict[str, Any]:
        return {n: self[n] for n in self.names("experiment")}

    @property
    def searches(self) -> Dict[str, Any]:
        return {n: self[n] for n in self.names("search")}

    @property
    def patches(self) -> Dict[str, Any]:
        return {n: self[n] for n in self.names("patch")}

    # -- provenance ------------------------------------------------------------------------------
    def explain(self, name: str, path: str = "") -> Explanation:
        """Where the value at ``path`` of definition ``name`` was set (see ``Explanation``).

        Raises ``MldslError`` for an unknown name or a path that does not exist.
        """
        from mldsl.errors import KeyPathError, MldslError, suggestion_text

        if name not in self.definitions:
            hint = suggestion_text(name, self.definitions)
            raise MldslError(f"{self.filename} has no definition {name!r}" + (f"; {hint}" if hint else ""))
        d = self.definitions[name]
        try:
            keys = sym.KeyPath.parse(path.strip()) if isinstance(path, str) else sym.KeyPath(path)
        except KeyPathError:
            raise MldslError(f"cannot read path {path!r}") from None
        keys = tuple(keys)
        value = _get_path(d.value, keys, name, path)
        chain, exact = d.provenance.chain(keys)
        default = not exact and bool(keys) and _is_default(d.value, keys)
        if not chain:
            chain = [Origin.at(d.name_span, f"{d.kind} {name!r}")]
        return Explanation(name, str(sym.KeyPath(keys)), value, chain, default)

    # -- printing --------------------------------------------------------------------------------
    def to_mlx(self, *, hide_defaults: bool = False, verbose: bool = False) -> str:
        """Canonical .mlx of the module's own definitions (fully resolved values; a search over an
        experiment the module defines names it). Options as ``mldsl.to_mlx``."""
        printer = Printer(hide_defaults=hide_defaults, verbose=verbose)
        out = []
        for n in self.own:
            d = self.definitions[n]
            space_name = None
            if d.kind == "search":
                for other in self.own[:self.own.index(n)]:
                    od = self.definitions[other]
                    if od.kind == "experiment" and _same(od.value, d.value.space):
                        space_name = other
            out.append(render(printer.statement(n, d.value, d.kind, space_name=space_name)))
        return "\n\n".join(out) + ("\n" if out else "")


def _same(a, b) -> bool:
    try:
        return bool(sym.eq(a, b))
    except Exception:  # noqa: BLE001
        return False


def _get_path(value: Any, keys: Path, name: str, text: str) -> Any:
    from mldsl.errors import MldslError, suggestion_text

    cur = value
    for i, k in enumerate(keys):
        children = child_values(cur)
        if children is None or k not in children:
            where = str(sym.KeyPath(keys[:i])) or name
            hint = suggestion_text(str(k), [str(c) for c in children]) if children else None
            raise MldslError(f"{name} has no path {text!r}: {where} has no {k!r}"
                             + (f"; {hint}" if hint else ""))
        cur = children[k]
    return cur


def child_values(value: Any) -> Optional[Dict[Any, Any]]:
    """The children of a value by key (fields, dict keys or list indices); None for a leaf."""
    if isinstance(value, sym.Object):
        return dict(value.sym_init_args)
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, (list, tuple)):
        return dict(enumerate(value))
    return None


def _is_default(root: Any, keys: Path) -> bool:
    """Whether the field at ``keys`` holds its spec's default (a field never written)."""
    parent = root
    for k in keys[:-1]:
        parent = child_values(parent)[k]
    if isinstance(parent, sym.Object):
        f = type(parent).__schema__.fields.get(keys[-1])
        if f is not None and f.value_spec.has_default:
            try:
                return bool(sym.eq(parent.sym_init_args[keys[-1]], f.value_spec.default))
            except Exception:  # noqa: BLE001
                return False
    return False


register_printer(Patch, keyword="patch", expression=lambda printer, patch: printer.patch_block(patch))
register_printer(Module, program=lambda printer, module: module.to_mlx(hide_defaults=printer.hide_defaults,
                                                                        verbose=printer.verbose))
