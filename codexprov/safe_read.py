"""The one way codexprov reads a file someone else may have put there (a config, a profile, a
recipe, a rollout, a state file): only a regular file is read.

A FIFO named `config.toml` would block `open()` until someone writes to it (every command, and the
shell's TAB completion, froze); a device (`/dev/zero`, `/dev/tty`) never ends or waits for a
keyboard. So the file is opened non-blocking (opening a FIFO does not wait then), its type is
checked on the open descriptor (no window between a check and the open), and anything but a
regular file is refused with a FileAccessError that names the path and what it is.

Stdlib only and cheap to import: `list` and `token` read their config through it.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from codexprov.errors import FileAccessError

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation

_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class NotARegularFile(FileAccessError, OSError):
    """The path exists but is not a regular file (a FIFO, a device, a socket). Also an
    OSError, so a reader that skips files it cannot read skips this one too, worded by `strerror`."""

    def __init__(self, path: Path, kind: str):
        super().__init__(
            f"cannot read {path}: it is {kind}, not a regular file",
            hint=f"Replace it with a regular file (`ls -l {path}` shows what it is).",
        )
        self.path = path
        self.kind = kind
        self.strerror = f"it is {kind}, not a regular file"
        self.filename = str(path)


def kind_of(mode: int) -> str | None:
    """What a file of this mode is, when it is not a regular file (None: it is one)."""
    if stat.S_ISREG(mode):
        return None
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def open_regular(path: Path | str) -> BinaryIO:
    """A regular file opened for reading in binary. FileNotFoundError, PermissionError and other
    OSErrors pass through as they are (callers word them); anything but a regular file raises
    NotARegularFile, without waiting for a writer."""
    path = Path(path)
    fd = os.open(path, _FLAGS | _BINARY)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):  # as open() says it (callers already word this one)
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        kind = kind_of(mode)
        if kind is not None:
            raise NotARegularFile(path, kind)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)  # a regular file never blocks; reads behave as usual
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bytes(path: Path | str) -> bytes:
    """The bytes of a regular file (see open_regular)."""
    with open_regular(path) as handle:
        return handle.read()


def read_first_line(path: Path | str, limit: int) -> bytes:
    """The first line of a regular file (at most `limit` bytes, newline included)."""
    with open_regular(path) as handle:
        return handle.readline(limit)


def read_text(path: Path | str, encoding: str = "utf-8") -> str:
    """A regular file's text (bytes decoded: a CRLF file keeps its line ends)."""
    return read_bytes(path).decode(encoding)
