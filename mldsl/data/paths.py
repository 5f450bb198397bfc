"""Opening the files and folders a user names as data, with a message that says what is wrong.

A data path must be a regular file (or, where a loader takes one, a folder). Anything else is refused
before a byte is read, with what it is: missing, a dangling symbolic link, a symbolic-link loop, a
directory, a FIFO, a device such as ``/dev/zero``, a socket, unreadable. Files are opened non-blocking and
checked on the open descriptor, so a FIFO never blocks the open and a path swapped after a check is
still caught.
"""
from __future__ import annotations

import errno
import os
import stat
from typing import BinaryIO

from mldsl.errors import DataError

_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))


def kind_of(mode: int) -> str:
    """``"a directory"``, ``"a FIFO (named pipe)"``, ``"a character device"``, ... for an ``st_mode``."""
    for test, name in ((stat.S_ISREG, "a regular file"), (stat.S_ISDIR, "a directory"),
                       (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def path_error(what: str, path: str, exc: OSError, how: str = "") -> DataError:
    """The DataError for an ``OSError`` raised while looking at or opening ``path``.

    ``what`` prefixes the message (``"Csv"``); ``how`` (a sentence, e.g. ``"Pass path= a CSV file."``)
    says what to do instead.
    """
    code = exc.errno
    if code == errno.ENOENT:
        if os.path.islink(path):
            problem = f"{path} is a symbolic link to {os.readlink(path)!r}, which does not exist"
        else:
            problem = f"file not found: {path}"
    elif code == errno.ELOOP:
        problem = f"{path} is a symbolic link loop (following its links never reaches a file)"
    elif code == errno.EISDIR:
        problem = f"{path} is a directory, not a file"
    elif code == errno.ENOTDIR:
        problem = f"{path}: a part of the path before the last one is a file, not a folder"
    elif code in (errno.EACCES, errno.EPERM):
        problem = f"permission denied: {path} cannot be read"
    elif code == errno.ENAMETOOLONG:
        problem = f"the path is too long: {path[:80]}..."
    else:
        problem = f"cannot open {path}: {exc.strerror or exc}"
    return DataError(f"{what}: {problem}." + (f" {how}" if how else ""))


def stat_path(path: str, what: str, how: str = "") -> os.stat_result:
    """``os.stat(path)`` (links followed), or the DataError that says why it failed."""
    try:
        return os.stat(path)
    except OSError as exc:
        raise path_error(what, path, exc, how) from None
    except ValueError as exc:  # an embedded NUL byte
        raise DataError(f"{what}: {path!r} is not a valid path ({exc}).") from None


def is_folder(path: str, what: str, how: str = "") -> bool:
    """True for a folder, False for a regular file; DataError for anything else or a missing path."""
    mode = stat_path(path, what, how).st_mode
    if stat.S_ISDIR(mode):
        return True
    if stat.S_ISREG(mode):
        return False
    raise DataError(f"{what}: {path} is {kind_of(mode)}, not a file or a folder." + (f" {how}" if how else ""))


def open_regular_file(path: str, what: str, how: str = "") -> BinaryIO:
    """``path`` opened for binary reading; DataError unless it is a regular file (links followed).

    A FIFO, a device (``/dev/zero``, ``/dev/stdin``) or a socket is refused without reading from it.
    """
    path = os.fspath(path)
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise path_error(what, path, exc, how) from None
    except ValueError as exc:  # an embedded NUL byte
        raise DataError(f"{what}: {path!r} is not a valid path ({exc}).") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            article = kind_of(mode)
            raise DataError(f"{what}: {path} is {article}, not a regular file." + (f" {how}" if how else ""))
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
