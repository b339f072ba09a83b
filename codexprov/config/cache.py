"""A parse cache for config files: `codexprov list` is typed often, and parsing needs tens of ms for a
6,000-line config that rarely changes. An entry is valid only while the file's size, mtime, ctime
and inode are exactly those it was made from; codexprov refreshes it after each of its own writes.

An entry is plain data, never code: its first line is the signature as JSON, the rest the parsed
document as JSON. The signature is compared before the data is parsed at all, and nothing in an
entry can run code (JSON has no objects, only data), so a planted entry can at worst be a wrong
answer for a file whose size, times and inode it matches - and it is only read from a folder that
belongs to this user and that no one else can write (otherwise the cache is simply not used).
A document JSON cannot hold exactly (TOML dates and times) is not cached.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from pathlib import Path
from typing import Any

from codexprov.paths import make_dirs
from codexprov.redact import holds_secret
from codexprov.safe_write import make_temp

try:  # the interpreter's own sha256: `import hashlib` loads OpenSSL (~2 ms), and `list` is a hot path
    from _sha256 import sha256  # type: ignore[import-not-found]  # no stub; a C module of CPython 3.11
except ImportError:  # pragma: no cover - Python 3.12+ names it _sha2; other builds may lack both
    from hashlib import sha256

# 1 was a pickle; those entries (*.pickle) are ignored and removed on the next write. 2 could hold
# plain-text keys: 3 never does (put), and a 2 entry no longer matches any signature. A rule of
# redact.holds_secret that gets stricter needs a new number too: an edit trusts that a cached
# document held no secret and checks only what it changed (put's secret_free_before).
_VERSION = 3


def _signature(st: os.stat_result) -> list[int]:
    return [_VERSION, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


def _entry(cache_dir: Path, path: Path) -> Path:
    return cache_dir / "parsed" / (sha256(str(path).encode("utf-8")).hexdigest()[:24] + ".json")


def _private(folder: Path) -> bool:
    """The folder and the cache dir above it belong to this user and only this user can write them."""
    if not hasattr(os, "getuid"):
        return True  # Windows: the folder is under the user's own profile, ACL'd to them
    uid = os.getuid()
    for path in (folder, folder.parent):
        try:
            st = os.lstat(path)
        except OSError:
            return False
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != uid or st.st_mode & 0o022:
            return False
    return True


def get(cache_dir: Path | None, path: Path, st: os.stat_result) -> dict[str, Any] | None:
    if cache_dir is None:
        return None
    entry = _entry(cache_dir, path)
    if not _private(entry.parent):
        return None
    try:
        with open(entry, "rb") as handle:
            head = handle.readline()
            if json.loads(head) != _signature(st):
                return None
            data = json.loads(handle.read())
    except (OSError, ValueError, RecursionError):
        return None  # any unreadable entry is a miss, never an error
    return data if isinstance(data, dict) else None


def put(
    cache_dir: Path | None, path: Path, data: dict[str, Any], *, secret_free_before: dict[str, Any] | None = None
) -> bool:
    """Cache a parse, unless the document holds a secret (a plain-text key): the cache would be one
    more copy of it, outliving a `key migrate`. Such a file is parsed each time, and any older
    entry for it is removed. Whether `data` holds no secret (False without a cache folder: not
    checked).
    `secret_free_before`: the data before an edit, known to hold no secret; only the top-level keys
    whose value the edit changed are checked (a secret's place is decided below its top-level key,
    so the others cannot hold one), not the thousands of [projects] tables `use` leaves alone."""
    if cache_dir is None:
        return False
    checked = data
    if secret_free_before is not None:
        checked = {k: v for k, v in data.items() if k not in secret_free_before or secret_free_before[k] != v}
    if holds_secret(checked):
        with contextlib.suppress(OSError):
            _entry(cache_dir, path).unlink(missing_ok=True)
        return False
    try:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        return True  # dates and times: JSON would not give them back as they were; parse each time
    try:
        st = os.stat(path)
        entry = _entry(cache_dir, path)
        make_dirs(entry.parent)
        if not _private(entry.parent):
            return True
        old = entry.with_suffix(".pickle")
        old.unlink(missing_ok=True)
        fd, tmp = make_temp(entry.parent, ".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(json.dumps(_signature(st)).encode("utf-8") + b"\n" + body.encode("utf-8"))
        os.replace(tmp, entry)
    except OSError:
        pass  # a cache that cannot be written only costs speed
    return True
