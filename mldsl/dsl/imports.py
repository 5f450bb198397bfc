"""The import policy: which files an ``import "..."`` statement may read.

Checking an untrusted ``.mlx`` file (in CI, say) must not reveal other files, so an import is
refused, with an error on the import statement that never shows a byte of the file, unless:

- it names a ``.mlx`` file, and after every symbolic link is resolved the file it reaches is a
  ``.mlx`` file too;
- that file lies inside an *allowed folder*: the import root (the folder of the top-level file
  being compiled; the current folder for text compiled without a file, such as the REPL's), a
  folder listed in ``$MLDSL_PATH`` (``os.pathsep``-separated), or a folder the caller adds (the
  REPL adds the folder of each file given to ``:load``);
- it is a regular file (not a directory, FIFO or device);
- imports nest at most ``MAX_IMPORT_DEPTH`` files deep.

A relative name is looked up in the importing file's folder, then in each ``$MLDSL_PATH`` folder in
order; an absolute name is taken as written. Once found, the file is read as UTF-8 text of at most
``mldsl.textfile.MAX_TEXT_BYTES`` (else E012, with the position of a bad byte but not the byte).
Diagnostics inside an imported file quote its lines: it passed this policy.

Codes: E010 not found, E012 cannot be read, E013 refused by the policy.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import Iterable, List, Optional, Tuple

#: Environment variable listing extra folders imports may read (and relative imports search).
SEARCH_PATH_ENV = "MLDSL_PATH"
#: How many files deep imports may nest (a chain longer than this is refused with E013).
MAX_IMPORT_DEPTH = 32
#: The file name ending an import must have.
SUFFIX = ".mlx"


class ImportRefused(Exception):
    """An import the policy refuses or cannot find: ``code`` (E010, E012 or E013) and ``message``."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class ImportPolicy:
    """The folders one compilation's imports may read (each resolved and absolute): the import
    ``root`` (None when unknown), ``extra`` folders (the REPL's) and the ``search_path``."""

    root: Optional[str]
    extra: Tuple[str, ...] = ()
    search_path: Tuple[str, ...] = ()

    @classmethod
    def for_source(cls, filename: str, extra_roots: Iterable[str] = ()) -> "ImportPolicy":
        """The policy for compiling ``filename`` (``<...>`` names: text without a file, whose root
        is the current folder), with ``extra_roots`` and ``$MLDSL_PATH`` allowed as well."""
        try:
            top = os.getcwd() if _is_pseudo(filename) else os.path.dirname(os.path.abspath(filename))
        except OSError:  # the current folder was deleted: no import root, only the other folders
            top = None
        search = tuple(os.path.realpath(p) for p in os.environ.get(SEARCH_PATH_ENV, "").split(os.pathsep)
                       if p)
        return cls(os.path.realpath(top) if top else None,
                   tuple(os.path.realpath(os.fspath(r)) for r in extra_roots), search)

    @property
    def folders(self) -> Tuple[str, ...]:
        """Every allowed folder."""
        return ((self.root,) if self.root else ()) + self.extra + self.search_path

    def allows(self, real_path: str) -> bool:
        """Whether the resolved path ``real_path`` lies inside an allowed folder."""
        return any(_inside(real_path, folder) for folder in self.folders)

    def resolve(self, written: str, importing_file: str, depth: int = 1) -> Tuple[str, str]:
        """(path, key) of the file ``import "written"`` in ``importing_file`` reads: ``path`` as
        shown in diagnostics (joined to the importing file's folder), ``key`` the resolved path (for
        reading, the import cache and cycles). ``depth`` is the number of files in the import chain.
        Raises ``ImportRefused``."""
        if "\0" in written or not written.strip():
            raise ImportRefused("E013", f"import needs a {SUFFIX} file name, not {written!r}")
        if not written.lower().endswith(SUFFIX):
            raise ImportRefused("E013", f"import refused: '{written}' is not a {SUFFIX} file "
                                        f"(only {SUFFIX} files can be imported)")
        if depth > MAX_IMPORT_DEPTH:
            raise ImportRefused("E013", f"import refused: imports nest more than {MAX_IMPORT_DEPTH} "
                                        "files deep")
        outside: Optional[str] = None
        candidates = self._candidates(written, importing_file)
        for path in candidates:
            try:
                real = os.path.realpath(path)
            except OSError:  # a relative name while the current folder is gone
                continue
            if not self.allows(real):
                outside = outside or path
                continue
            if not os.path.exists(real):
                continue
            if not real.lower().endswith(SUFFIX):
                raise ImportRefused("E013", f"import refused: '{written}' is a link to a file that is "
                                            f"not a {SUFFIX} file")
            try:
                regular = stat.S_ISREG(os.stat(real).st_mode)
            except OSError:
                regular = False
            if not regular:
                raise ImportRefused("E012", f"cannot read imported file '{written}': it is not a "
                                            "regular file")
            return path, real
        if outside is not None:
            raise ImportRefused("E013", f"import refused: '{written}' is outside the folders imports "
                                        f"may read: {self._describe_roots()}; move it there or list "
                                        f"its folder in ${SEARCH_PATH_ENV}")
        looked = [p for p in candidates if p != os.path.normpath(written)]
        where = f" (looked for {', '.join(looked)})" if looked else ""
        raise ImportRefused("E010", f"imported file not found: '{written}'{where}")

    def _candidates(self, written: str, importing_file: str) -> List[str]:
        if os.path.isabs(written):
            return [os.path.normpath(written)]
        base = "" if _is_pseudo(importing_file) else os.path.dirname(importing_file)
        found = [os.path.normpath(os.path.join(base, written))]
        found += [os.path.join(folder, os.path.normpath(written)) for folder in self.search_path]
        return list(dict.fromkeys(found))

    def _describe_roots(self) -> str:
        shown = [f"'{_display(self.root)}' (the import root)"] if self.root else []
        shown += [f"'{_display(folder)}'" for folder in self.extra]
        if self.search_path:
            shown.append(f"the folders in ${SEARCH_PATH_ENV}")
        return ", ".join(shown) or "none"


def unreadable_message(written: str, shown: str, error) -> str:
    """The E012 message for the imported file ``shown`` that failed to read (``error``, a
    ``TextFileError``): what is wrong and where, never a byte of the file."""
    where = f" (first invalid byte at {shown}:{error.line}:{error.column})" if error.line else ""
    advice = f"; {error.advice}" if error.advice else ""
    return f"cannot read imported file '{written}': it {error.reason}{where}{advice}"


def _is_pseudo(filename: str) -> bool:
    return filename.startswith("<")


def _inside(path: str, folder: str) -> bool:
    try:
        return os.path.commonpath([path, folder]) == folder
    except ValueError:  # different drives (Windows)
        return False


def _display(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:  # pragma: no cover - another drive on Windows
        return path
    return "." if rel == "." else (path if rel.startswith("..") else rel)
