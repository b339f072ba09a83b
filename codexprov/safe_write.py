"""The one way codexprov writes a file whole (config.toml, a profile, a backup, its journal and
caches): a temp file in the same folder (O_EXCL, 0600), fsync, os.replace, fsync of the folder, so a
crash leaves the old file or the new one, never a mix.

Stdlib only and cheap to import (a leaf): Codex-facing caches (codex/version.py, codex/catalog.py,
model_lists.py) write through it without loading the edit engine (config/transaction.py).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from codexprov.errors import FileAccessError
from codexprov.paths import make_dirs

_TEMP_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_"


def make_temp(folder: str | os.PathLike[str], prefix: str, suffix: str = "") -> tuple[int, str]:
    """`tempfile.mkstemp(suffix, prefix, folder)`: a new file (O_EXCL, mode 0600, not followed if a
    link) named prefix + 8 random characters of [a-z0-9_] + suffix; (fd, path). Here because
    importing tempfile costs `use` ~3 ms."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        path = os.path.join(folder, prefix + "".join(_TEMP_CHARS[b % 37] for b in os.urandom(8)) + suffix)
        try:
            return os.open(path, flags, 0o600), path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {folder}")


def fsync_folder(folder: Path) -> None:
    """Make a rename or link in `folder` durable (POSIX; Windows has no folder handle to sync)."""
    if hasattr(os, "O_DIRECTORY"):
        dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def write_atomic(target: Path, text: str, *, existed: bool) -> None:
    """Temp file in the same folder, fsync, os.replace; keep the mode, new files are 0600 in a 0700 folder."""
    folder = target.parent
    try:
        if not folder.exists():
            make_dirs(folder)
        mode = (os.stat(target).st_mode & 0o7777) if existed and target.exists() else 0o600
        fd, tmp = make_temp(folder, f".{target.name}.", ".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(text.encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        fsync_folder(folder)
    except OSError as err:
        raise FileAccessError(
            f"cannot write {target}: {err.strerror or err}",
            hint="Check that you own the folder and the file; nothing was changed.",
        ) from None
