"""Codex's saved sessions, by the provider each was started with. Read-only, always.

Codex records each session twice (seen on 0.133.0 and 0.169.0): a rollout file
`$CODEX_HOME/sessions/YYYY/MM/DD/rollout-*.jsonl` (archived ones under `archived_sessions/`) whose
first line is `{"type": "session_meta", "payload": {"id", "model_provider", "cwd", "cli_version", ...}}`,
and a row in the `threads` table of its state database `$CODEX_HOME/state_N.sqlite` (id,
model_provider, rollout_path, archived, ...). From 0.166 Codex resumes a session only on the
provider it was started with, and refuses ("This chat uses model provider `X`, which is no longer
configured") once that provider's table is gone; older releases moved it to the current provider.

Nothing here writes: rollout files are opened for reading, and the database is read from a copy
(with its `-wal` file) in a temporary folder. Even a read-only SQLite connection creates and
updates the `-shm` index beside a WAL database, and `immutable=1` would miss rows still in the WAL;
a copy touches nothing of Codex's and sees everything written so far.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codexprov import safe_read
from codexprov.paths import make_dirs

if TYPE_CHECKING:
    from codexprov.paths import Paths

ROLLOUT_FOLDERS = (("sessions", False), ("archived_sessions", True))
_FIRST_LINE_LIMIT = 4 * 1024 * 1024  # session_meta holds the base instructions: tens of KB
_STATE_DB = re.compile(r"^state_(\d+)\.sqlite$")
_THREAD_COLUMNS = ("id", "model_provider", "rollout_path", "archived", "created_at", "cwd", "cli_version")


@dataclass(frozen=True)
class Session:
    """One saved Codex session: its id, provider, start time and folder."""

    id: str
    provider: str | None  # None: the session does not say (Codex versions before model_provider was recorded)
    started: str | None  # ISO timestamp
    cwd: str | None
    cli_version: str | None
    archived: bool
    path: str | None  # the rollout file, when known

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "provider": self.provider,
            "started": self.started,
            "cwd": self.cwd,
            "cli_version": self.cli_version,
            "archived": self.archived,
            "path": self.path,
        }


@dataclass(frozen=True)
class SessionList:
    """The saved sessions of a Codex home, and files that could not be read."""

    codex_home: str
    sessions: tuple[Session, ...]  # oldest first
    state_db: str | None  # the state database read, if any
    problems: tuple[str, ...]  # files that could not be read (skipped), for a warning

    def for_provider(self, provider_id: str) -> tuple[Session, ...]:
        return tuple(s for s in self.sessions if s.provider == provider_id)

    def counts(self) -> dict[str, int]:
        """provider id -> number of sessions, most used first (sessions with no provider left out)."""
        counted = Counter(s.provider for s in self.sessions if s.provider is not None)
        return dict(sorted(counted.items(), key=lambda item: (-item[1], item[0])))

    def to_json(self) -> dict[str, Any]:
        return {
            "codex_home": self.codex_home,
            "state_db": self.state_db,
            "by_provider": self.counts(),
            "sessions": [s.to_json() for s in self.sessions],
            "problems": list(self.problems),
        }


def find_sessions(codex_home: Path, cache_dir: Path | None = None) -> SessionList:
    """Every session under this Codex home, from the rollout files and the state database.

    With `cache_dir`, what was read before is reused (see SessionIndex): a rollout file already
    read (same path, same inode) is not opened again, and the database is not copied and queried
    again while it and its `-wal` file are unchanged. `use` asks on every switch."""
    index = SessionIndex.open(cache_dir, codex_home)
    problems: list[str] = []
    found: dict[str, Session] = {}
    for path, inode, archived in _rollout_files(codex_home, index):
        try:
            session = index.rollout(path, inode, archived)
        except safe_read.NotARegularFile as err:
            problems.append(f"{path}: {err.strerror}; skipped")
            continue
        if session is None:
            problems.append(f"{path}: no session_meta on its first line")
        else:
            found.setdefault(session.id, session)
    db = _state_db(codex_home)
    if db is not None:
        try:
            rows = index.threads(db)
        except UnreadableDatabase as err:
            problems.append(f"{db}: {err}")
            rows = []
        for row in rows:
            current = found.get(row.id)
            found[row.id] = row if current is None else _merge(current, row)
    index.save()
    sessions = sorted(found.values(), key=lambda s: (s.started or "", s.id))
    return SessionList(str(codex_home), tuple(sessions), str(db) if db else None, tuple(problems))


def has_sessions(codex_home: Path) -> bool:
    """Whether there is anything to scan: a rollout folder or a state database."""
    return any((codex_home / folder).is_dir() for folder, _ in ROLLOUT_FOLDERS) or _state_db(codex_home) is not None


def _rollout_files(codex_home: Path, index: SessionIndex | None = None) -> list[tuple[str, int, bool]]:
    """(path, inode, archived) of every `rollout-*.jsonl` under the rollout folders, as
    `sorted(root.rglob("rollout-*.jsonl"))` finds them (symbolic links to folders are not followed);
    the inode comes with the listing on POSIX (no stat per file). With an index, a folder whose
    mtime is what it was (and not from the last seconds) is not listed again (SessionIndex.listing)."""
    found: list[tuple[str, int, bool]] = []
    for folder, archived in ROLLOUT_FOLDERS:
        root = codex_home / folder
        if not root.is_dir():
            continue
        hits: list[tuple[str, int]] = []
        pending = [str(root)]
        while pending:
            where = pending.pop()
            listed = index.listing(where) if index is not None else _list_folder(where)
            if listed is None:
                continue
            files, folders = listed
            hits += [(os.path.join(where, name), inode) for name, inode in files]
            pending += [os.path.join(where, name) for name in folders]
        hits.sort(key=_path_order)
        found += [(path, inode, archived) for path, inode in hits]
    return found


def _path_order(hit: tuple[str, int]) -> Any:
    """Sort as Path objects sort (part by part; case-blind on Windows) without making 200 of them."""
    return hit[0].split(os.sep) if os.name == "posix" else Path(hit[0])


def _list_folder(where: str) -> tuple[list[list[Any]], list[str]] | None:
    """([name, inode] of its rollout files, names of its sub-folders), or None when unreadable."""
    try:
        entries = list(os.scandir(where))
    except OSError:
        return None
    files: list[list[Any]] = []
    folders: list[str] = []
    for entry in entries:
        try:
            is_dir = entry.is_dir() and not entry.is_symlink()
            if entry.name.startswith("rollout-") and entry.name.endswith(".jsonl"):
                files.append([entry.name, entry.inode()])
        except OSError:
            continue
        if is_dir:
            folders.append(entry.name)
    return files, folders


_INDEX_VERSION = 2
# A folder changed this recently may change again within its mtime's granularity: list it again.
_SETTLED_NS = 2_000_000_000


class SessionIndex:
    """What earlier scans read, kept in codexprov's cache folder (one JSON file per Codex home).

    A rollout file's first line (session_meta) is written once, when the session starts, and never
    changes: Codex only appends. So an entry is reused while a file of that path has the same inode
    (a file that did not hold a session_meta yet is not kept: it is read again next time), and a
    folder is not even listed again while its mtime is unchanged (see `listing`). The
    threads of the state database are reused while the database and its `-wal` file have the same
    size, mtime and inode. Only data (JSON), read only from a folder that is this user's alone, as
    the parse cache (config/cache.py); anything unreadable is a miss, never an error."""

    def __init__(self, file: Path | None, home: str, data: dict[str, Any]) -> None:
        self.file = file
        self.home = home
        self.files: dict[str, Any] = data.get("files") if isinstance(data.get("files"), dict) else {}  # type: ignore[assignment]
        self.db: dict[str, Any] = data.get("db") if isinstance(data.get("db"), dict) else {}  # type: ignore[assignment]
        self.dirs: dict[str, Any] = data.get("dirs") if isinstance(data.get("dirs"), dict) else {}  # type: ignore[assignment]
        self.seen: dict[str, Any] = {}
        self.seen_dirs: dict[str, Any] = {}
        self.changed = False

    @classmethod
    def open(cls, cache_dir: Path | None, codex_home: Path) -> SessionIndex:
        if cache_dir is None:
            return cls(None, str(codex_home), {})
        from codexprov.config.cache import _private, sha256

        folder = cache_dir / "sessions"
        file = folder / (sha256(str(codex_home).encode("utf-8")).hexdigest()[:24] + ".json")
        data: Any = {}
        if _private(folder):
            try:
                data = json.loads(file.read_bytes())
            except (OSError, ValueError, RecursionError):
                data = {}
        if not isinstance(data, dict) or data.get("version") != _INDEX_VERSION or data.get("home") != str(codex_home):
            data = {}
        return cls(file, str(codex_home), data)

    def listing(self, where: str) -> tuple[list[list[Any]], list[str]] | None:
        """_list_folder(where), or what it gave last time while the folder's mtime is the same: a
        file created, deleted or renamed in a folder changes its mtime (appending to one does
        not, and a rollout's first line never changes). A folder modified in the last two seconds
        is listed again: two changes within one tick of its clock leave the same mtime."""
        try:
            mtime = os.stat(where).st_mtime_ns
        except OSError:
            return None
        entry = self.dirs.get(where)
        if (
            isinstance(entry, list)
            and len(entry) == 3
            and entry[0] == mtime
            and time.time_ns() - mtime > _SETTLED_NS
            and isinstance(entry[1], list)
            and isinstance(entry[2], list)
        ):
            self.seen_dirs[where] = entry
            return entry[1], entry[2]
        listed = _list_folder(where)
        if listed is not None:
            self.seen_dirs[where] = [mtime, *listed]
        self.changed = True
        return listed

    def rollout(self, path: str, inode: int, archived: bool) -> Session | None:
        key = path
        entry = self.files.get(key)
        if isinstance(entry, list) and len(entry) == 6 and entry[0] == inode:
            _, sid, provider, started, cwd, cli_version = entry
            self.seen[key] = entry
            return Session(sid, provider, started, cwd, cli_version, archived, key)
        session = _read_rollout(path, archived)
        if session is not None:
            self.seen[key] = [inode, session.id, session.provider, session.started, session.cwd, session.cli_version]
        self.changed = True
        return session

    def threads(self, db: Path) -> list[Session]:
        stamp = [_stamp(db), _stamp(db.with_name(db.name + "-wal"))]
        if self.db.get("path") == str(db) and self.db.get("stamp") == stamp and isinstance(self.db.get("rows"), list):
            try:
                return [Session(*row) for row in self.db["rows"]]
            except TypeError:
                pass
        rows = _read_threads(db)
        self.db = {
            "path": str(db),
            "stamp": stamp,
            "rows": [[s.id, s.provider, s.started, s.cwd, s.cli_version, s.archived, s.path] for s in rows],
        }
        self.changed = True
        return rows

    def save(self) -> None:
        """Write the index when something was read afresh (or a file went away)."""
        if self.file is None or not (
            self.changed or self.seen.keys() != self.files.keys() or self.seen_dirs.keys() != self.dirs.keys()
        ):
            return
        data = {"version": _INDEX_VERSION, "home": self.home, "dirs": self.seen_dirs, "files": self.seen, "db": self.db}
        folder = self.file.parent
        tmp = folder / f".{self.file.name}.{os.getpid()}.tmp"
        try:
            from codexprov.config.cache import _private

            make_dirs(folder)

            if not _private(folder):
                return
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(json.dumps(data, separators=(",", ":")).encode("utf-8"))
            os.replace(tmp, self.file)
        except OSError:  # only a cache: the next scan reads the files again
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _stamp(path: Path) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def _read_rollout(path: str, archived: bool) -> Session | None:
    """The session a rollout file's first line describes (None: it has none). A FIFO or device
    named like a rollout raises NotARegularFile instead of hanging the scan."""
    try:
        first = safe_read.read_first_line(path, _FIRST_LINE_LIMIT)
        record = json.loads(first)
    except safe_read.NotARegularFile:
        raise
    except (OSError, ValueError):
        return None
    payload = record.get("payload") if isinstance(record, dict) and record.get("type") == "session_meta" else None
    if not isinstance(payload, dict) or not isinstance(payload.get("id"), str):
        return None
    return Session(
        id=payload["id"],
        provider=_text(payload.get("model_provider")),
        started=_text(payload.get("timestamp")) or _text(record.get("timestamp")),
        cwd=_text(payload.get("cwd")),
        cli_version=_text(payload.get("cli_version")),
        archived=archived,
        path=path,
    )


def _state_db(codex_home: Path) -> Path | None:
    """The newest `state_N.sqlite` (Codex bumps N when the schema changes)."""
    try:
        candidates = [
            (int(m.group(1)), p) for p in codex_home.iterdir() if (m := _STATE_DB.match(p.name)) and p.is_file()
        ]
    except OSError:
        return None
    return max(candidates)[1] if candidates else None


class UnreadableDatabase(Exception):
    """The state database could not be read (its sqlite3 error's text)."""


def _read_threads(db: Path) -> list[Session]:
    """The threads table, read from a copy of the database (see the module docstring)."""
    import sqlite3

    try:
        columns, rows = _query_threads(db)
    except sqlite3.Error as err:
        raise UnreadableDatabase(str(err)) from None
    sessions = []
    for row in rows:
        values = dict(zip(columns, row, strict=True))
        if not isinstance(values.get("id"), str):
            continue
        sessions.append(
            Session(
                id=values["id"],
                provider=_text(values.get("model_provider")),
                started=_started(values.get("created_at")),
                cwd=_text(values.get("cwd")),
                cli_version=_text(values.get("cli_version")),
                archived=bool(values.get("archived")),
                path=_text(values.get("rollout_path")),
            )
        )
    return sessions


def _query_threads(db: Path) -> tuple[list[str], list[Any]]:
    """(columns, rows) of the threads table, from a copy of the database and its -wal file."""
    import shutil
    import sqlite3
    import tempfile

    with tempfile.TemporaryDirectory(prefix="codexprov-state-") as tmp:
        copy = Path(tmp) / db.name
        try:
            shutil.copyfile(db, copy)
            wal = db.with_name(db.name + "-wal")
            if wal.is_file():
                shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
        except OSError as err:
            raise sqlite3.OperationalError(f"cannot read it: {err.strerror or err}") from err
        conn = sqlite3.connect(copy, timeout=2)
        try:
            present = {row[1] for row in conn.execute("PRAGMA table_info(threads)")}
            if not {"id", "model_provider"} <= present:
                return [], []
            columns = [c for c in _THREAD_COLUMNS if c in present]
            return columns, conn.execute(f"SELECT {', '.join(columns)} FROM threads").fetchall()
        finally:
            conn.close()


def _merge(rollout: Session, row: Session) -> Session:
    """The database is Codex's index and wins where it has a value; the rollout fills the gaps."""
    return Session(
        id=rollout.id,
        provider=row.provider or rollout.provider,
        started=rollout.started or row.started,
        cwd=row.cwd or rollout.cwd,
        cli_version=rollout.cli_version or row.cli_version,
        archived=row.archived or rollout.archived,
        path=rollout.path or row.path,
    )


def _started(value: Any) -> str | None:
    """created_at is seconds since the epoch in the state database."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        from datetime import UTC, datetime

        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return _text(value)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class SessionReport:
    """What `codexprov sessions` shows: the sessions (all, or one provider's), and which of their
    providers the config no longer defines (Codex cannot resume those sessions)."""

    listing: SessionList
    provider: str | None
    unconfigured: frozenset[str]

    @property
    def sessions(self) -> tuple[Session, ...]:
        if self.provider is None:
            return self.listing.sessions
        return self.listing.for_provider(self.provider)

    def to_json(self) -> dict[str, Any]:
        return {
            "codex_home": self.listing.codex_home,
            "state_db": self.listing.state_db,
            "provider": self.provider,
            "by_provider": self.listing.counts(),
            "unconfigured_providers": sorted(self.unconfigured),
            "sessions": [
                s.to_json() | {"provider_configured": s.provider not in self.unconfigured} for s in self.sessions
            ],
            "problems": list(self.listing.problems),
        }


def session_report(paths: Paths, provider: str | None = None) -> SessionReport:
    from codexprov.codex.capabilities import capabilities
    from codexprov.config.document import load

    listing = find_sessions(paths.codex_home, paths.cache_dir)
    data = load(paths.config_file, paths.cache_dir).data
    tables = data.get("model_providers") if isinstance(data.get("model_providers"), dict) else {}
    known = set(tables or {}) | capabilities(None).builtin_ids()
    used = {s.provider for s in listing.sessions if s.provider is not None}
    return SessionReport(listing, provider, frozenset(used - known))
