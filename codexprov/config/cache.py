"""A parse cache for config files: `codexprov list` is typed often, and parsing needs tens of ms for a
6,000-line config that rarely changes. An entry is valid only while the file's size, mtime, ctime
and inode are exactly those it was made from; codexprov refreshes it after each of its own writes.

Entries are pickles in codexprov's own state folder (created 0700, files 0600): only this user's
codexprov writes there, and an unreadable or stale entry is simply ignored.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

try:  # the interpreter's own sha256: `import hashlib` loads OpenSSL (~2 ms), and `list` is a hot path
    from _sha256 import sha256  # type: ignore[import-not-found]  # no stub; a C module of CPython 3.11
except ImportError:  # pragma: no cover - Python 3.12+ names it _sha2; other builds may lack both
    from hashlib import sha256

_VERSION = 1


def _signature(st: os.stat_result) -> tuple[int, ...]:
    return (_VERSION, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def _entry(cache_dir: Path, path: Path) -> Path:
    return cache_dir / "parsed" / (sha256(str(path).encode("utf-8")).hexdigest()[:24] + ".pickle")


def get(cache_dir: Path | None, path: Path, st: os.stat_result) -> dict[str, Any] | None:
    if cache_dir is None:
        return None
    try:
        with open(_entry(cache_dir, path), "rb") as handle:
            signature, data = pickle.load(handle)
    except Exception:  # noqa: BLE001 - any unreadable entry is a miss, never an error
        return None
    return data if signature == _signature(st) else None


def put(cache_dir: Path | None, path: Path, data: dict[str, Any]) -> None:
    if cache_dir is None:
        return
    try:
        st = os.stat(path)
        entry = _entry(cache_dir, path)
        entry.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            pickle.dump((_signature(st), data), handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, entry)
    except OSError:
        pass  # a cache that cannot be written only costs speed
