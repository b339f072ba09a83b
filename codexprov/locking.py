"""A portable exclusive file lock (fcntl on POSIX, msvcrt on Windows) with a timeout."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from codexprov.errors import FileAccessError, LockError
from codexprov.paths import make_dirs


class FileLock:
    def __init__(self, path: Path, *, timeout: float = 15.0, what: str = "the config"):
        self.path = path
        self.timeout = timeout
        self.what = what
        self._fd: int | None = None

    def __enter__(self) -> FileLock:
        try:
            make_dirs(self.path.parent)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as err:
            # Taken before anything is written: nothing has changed yet.
            raise FileAccessError(
                f"cannot create the lock file {self.path} in codexprov's state folder: {err.strerror or err}; nothing was changed",
                hint="Set CODEXPROV_STATE_DIR to a folder you can write, or fix the permissions of the state folder.",
            ) from None
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                _lock(fd)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise LockError(
                        f"timed out after {self.timeout:.0f}s waiting for the lock on {self.what}",
                        hint=f"Another codexprov is still writing; retry, or remove {self.path} if no codexprov is running.",
                    ) from None
                time.sleep(0.02)
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            try:
                _unlock(self._fd)
            finally:
                os.close(self._fd)
                self._fd = None


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
