"""Every write is a transaction: lock, re-read, edit, verify, back up, write atomically, journal.

`codexprov undo` walks the journal back. Backups are verbatim copies of what the file held
(mode 0600, in codexprov's state dir), except where a caller passes `backup_text` to redact
(e.g. `key migrate`, so a plain-text key it moved into the keyring is not kept on disk).
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import functools
import hashlib
import json
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codexprov.config import cache
from codexprov.config.document import BOM, Snapshot, load, parse, read_file, same_data
from codexprov.config.edit import EditImpossible, keep_missing_final_newline
from codexprov.errors import CodexprovError, ConfigError, FileAccessError, NotFoundError
from codexprov.locking import FileLock
from codexprov.paths import Paths

MAX_BACKUPS = 20


@dataclass(frozen=True)
class EditResult:
    path: Path
    old_text: str
    new_text: str
    given_diff: str | None  # None: computed on first use of .diff
    changed: bool
    backup: Path | None
    dry_run: bool
    description: str
    # The parsed new text (kept so that committing a previewed edit does not parse it again).
    data: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    @functools.cached_property
    def diff(self) -> str:
        """Unified diff, secrets masked. Computed on demand: difflib on a big config is not free."""
        if self.given_diff is not None:
            return self.given_diff
        return make_diff(self.old_text, self.new_text, self.path) if self.changed else ""


def _key(target: Path) -> str:
    return hashlib.sha256(str(target).encode("utf-8")).hexdigest()[:16]


def lock_for(paths: Paths, target: Path) -> FileLock:
    return FileLock(paths.state_dir / "locks" / f"{_key(target)}.lock", what=str(target))


def make_diff(old: str, new: str, path: Path) -> str:
    """A unified diff with secrets masked (the old text may hold a plain-text key)."""
    from codexprov.redact import redact_text

    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"{path} (before)",
        tofile=f"{path} (after)",
    )
    out = []
    for line in lines:
        shown = line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
        out.append(shown.replace("\r\n", "\n"))
    return redact_text("".join(out))


def apply_edit(
    paths: Paths,
    file: Path,
    transform: Callable[[Snapshot], str],
    *,
    dry_run: bool,
    description: str,
    expect: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    backup_text: Callable[[str], str] | None = None,
    reuse: EditResult | None = None,
) -> EditResult:
    """Apply `transform` to the file as it is under the lock; `expect` says what the data must become.
    `reuse`: a dry run of this same edit (shown to the user first); when the file and the result are
    still what it saw, its verified parse is reused instead of parsing the new text again."""
    import tomlkit.exceptions

    target = Path(os.path.realpath(file))
    with lock_for(paths, target):
        snap = load(file, paths.cache_dir)
        try:
            new_text = transform(snap)
        except (EditImpossible, tomlkit.exceptions.TOMLKitError) as err:
            raise CodexprovError(
                f"cannot make this edit in {file} without disturbing other parts of it ({err})",
                hint="Nothing was written. Edit the file by hand, or report this layout as a codexprov bug.",
            ) from None
        return _commit(
            paths, file, target, snap, new_text, expect, backup_text, dry_run=dry_run, description=description, reuse=reuse
        )


def apply_text_edit(
    paths: Paths, file: Path, transform: Callable[[str], str], *, dry_run: bool, description: str
) -> EditResult:
    """A transaction for a file the reader refuses (e.g. doctor --fix removing a duplicate key): lock,
    re-read the raw text, transform it, require that the result parses, back up, write, journal."""
    target = Path(os.path.realpath(file))
    with lock_for(paths, target):
        text, exists, bom = read_file(file)
        snap = Snapshot(file, text, {}, exists, bom)
        return _commit(paths, file, target, snap, transform(text), None, None, dry_run=dry_run, description=description)


def _commit(
    paths: Paths,
    file: Path,
    target: Path,
    snap: Snapshot,
    new_text: str,
    expect: Callable[[dict[str, Any]], dict[str, Any]] | None,
    backup_text: Callable[[str], str] | None,
    *,
    dry_run: bool,
    description: str,
    reuse: EditResult | None = None,
) -> EditResult:
    """The tail both apply functions share, run under the file's lock: verify, back up, write, journal."""
    new_text = keep_missing_final_newline(snap.text, new_text)
    if new_text == snap.text:
        return EditResult(file, snap.text, new_text, "", False, None, dry_run, description, snap.data or None)
    if reuse is not None and reuse.data is not None and (reuse.old_text, reuse.new_text) == (snap.text, new_text):
        new_data = reuse.data
    else:
        new_data = _verify(snap, new_text, file, expect)
    if dry_run:
        return EditResult(file, snap.text, new_text, None, True, None, True, description, new_data)
    if snap.exists:
        refuse_read_only(paths, target)
    remove_stale_temp_files(target)
    backup = _backup(paths, target, snap, backup_text)
    written = (BOM if snap.bom else "") + new_text  # a file that had a byte-order mark keeps it
    write_atomic(target, written, existed=snap.exists)
    _journal_append(paths, target, backup, written, description)
    cache.put(paths.cache_dir, file, new_data)
    return EditResult(file, snap.text, new_text, None, True, backup, False, description, new_data)


def delete_file(paths: Paths, file: Path, *, dry_run: bool, description: str) -> EditResult:
    """Delete a file as apply_edit writes one: under its lock, backed up, journaled for undo."""
    target = Path(os.path.realpath(file))
    with lock_for(paths, target):
        snap = load(file)
        if not snap.exists:
            return EditResult(file, "", "", "", False, None, dry_run, description)
        if dry_run:
            return EditResult(file, snap.text, "", None, True, None, True, description)
        refuse_read_only(paths, target)
        backup = _backup(paths, target, snap, None)
        try:
            target.unlink()
        except OSError as err:
            raise FileAccessError(f"cannot delete {target}: {err.strerror or err}") from None
        _journal_append(paths, target, backup, None, description)
        return EditResult(file, snap.text, "", None, True, backup, False, description)


def refuse_read_only(paths: Paths, target: Path) -> None:
    """A config without its owner's write bit was made read-only on purpose: the atomic rename
    would replace it anyway (the folder is writable), so refuse unless the user said --force.
    The mode bits are checked, not os.access: root may write anything, and a 0444 file is still
    the user's "do not touch"."""
    if paths.write_read_only:
        return
    try:
        mode = os.stat(target).st_mode
    except OSError:
        return
    if not mode & stat.S_IWUSR:
        raise FileAccessError(
            f"{target} is read-only (mode {stat.S_IMODE(mode):04o}); nothing was written",
            hint=f"Make it writable (chmod u+w {target}) and run the command again, or put --force before "
            "the command (`codexprov --force …`) to replace it anyway (it stays read-only).",
        )


_TEMP_NAME = re.compile(r"\.(?P<name>.+)\.[a-z0-9_]{8}\.tmp\Z")


def remove_stale_temp_files(target: Path) -> None:
    """Delete `.NAME.xxxxxxxx.tmp` files write_atomic left for `target` (a `kill -9` mid-write).
    Call it holding the target's lock: then no other codexprov is writing one of them."""
    try:
        names = os.listdir(target.parent)
    except OSError:
        return
    for name in names:
        m = _TEMP_NAME.match(name)
        if m and m.group("name") == target.name:
            with contextlib.suppress(OSError):
                os.unlink(target.parent / name)


def _verify(snap: Snapshot, new_text: str, file: Path, expect) -> dict[str, Any]:
    try:
        new_data = parse(new_text, file)
    except ConfigError as err:
        raise CodexprovError(
            f"internal error: the edit would leave {file} invalid ({err.reason}); nothing was written",
            hint="Please report this as a codexprov bug, with the layout of your config.",
        ) from None
    if expect is not None and not same_data(_normalize(expect(_copy_for_expect(snap.data))), _normalize(new_data)):
        raise CodexprovError(
            f"internal error: the edit to {file} would change more than intended; nothing was written",
            hint="Please report this as a codexprov bug, with the layout of your config.",
        )
    return new_data


def _copy_for_expect(data: dict[str, Any]) -> dict[str, Any]:
    """Expect functions change root keys and the provider/profile tables only; copying thousands of
    [projects] tables deeply would cost more than the edit."""
    return {k: copy.deepcopy(v) if k in ("model_providers", "profiles") else v for k, v in data.items()}


def _normalize(data: dict[str, Any]) -> dict[str, Any]:
    """An emptied parent table may vanish with its last child (or stay as a bare header): same meaning."""
    return {k: v for k, v in data.items() if not (isinstance(v, dict) and not v and k in ("model_providers", "profiles"))}


def write_atomic(target: Path, text: str, *, existed: bool) -> None:
    """Temp file in the same folder, fsync, os.replace; keep the mode, new files are 0600 in a 0700 folder."""
    folder = target.parent
    try:
        if not folder.exists():
            folder.mkdir(parents=True, mode=0o700)
        mode = (os.stat(target).st_mode & 0o7777) if existed and target.exists() else 0o600
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
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
        if hasattr(os, "O_DIRECTORY"):
            dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    except OSError as err:
        raise FileAccessError(
            f"cannot write {target}: {err.strerror or err}",
            hint="Check that you own the folder and the file; nothing was changed.",
        ) from None


# ---------------------------------------------------------------------------- backups and undo


def _journal_path(paths: Paths) -> Path:
    return paths.state_dir / "journal.json"


def _journal_lock(paths: Paths) -> FileLock:
    return FileLock(paths.state_dir / "locks" / "journal.lock", what="codexprov's undo journal")


def _read_journal(paths: Paths) -> list[dict[str, Any]]:
    try:
        return json.loads(_journal_path(paths).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError):
        return []


def _write_journal(paths: Paths, entries: list[dict[str, Any]]) -> None:
    write_atomic(_journal_path(paths), json.dumps(entries, indent=1), existed=_journal_path(paths).exists())


def _backup(paths: Paths, target: Path, snap: Snapshot, backup_text) -> Path | None:
    if not snap.exists:
        return None
    folder = paths.backup_dir / _key(target)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = f"{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 10**9:09d}-{target.name}"
    text = (BOM if snap.bom else "") + (backup_text(snap.text) if backup_text else snap.text)
    path = folder / name
    write_atomic(path, text, existed=False)
    return path


def _home_key(paths: Paths) -> str:
    return os.path.realpath(paths.codex_home)


def _journal_append(paths: Paths, target: Path, backup: Path | None, new_text: str | None, description: str) -> None:
    """new_text None: the file was deleted (undo expects it absent, then puts the backup back)."""
    with _journal_lock(paths):
        entries = _read_journal(paths)
        entries.append(
            {
                "file": str(target),
                "codex_home": _home_key(paths),
                "backup": str(backup) if backup else None,
                "after_sha256": None if new_text is None else hashlib.sha256(new_text.encode("utf-8")).hexdigest(),
                "description": description,
                "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
        )
        for dropped in entries[:-MAX_BACKUPS]:
            if dropped.get("backup"):
                Path(dropped["backup"]).unlink(missing_ok=True)
        _write_journal(paths, entries[-MAX_BACKUPS:])


@dataclass(frozen=True)
class UndoResult:
    path: Path
    description: str
    diff: str
    removed_file: bool
    dry_run: bool


def _belongs_to(entry: dict[str, Any], home: str) -> bool:
    """Entries name their codex home; older ones (before it was recorded) are matched by folder."""
    recorded = entry.get("codex_home")
    return recorded == home if recorded is not None else os.path.dirname(entry["file"]) == home


def _last_for_home(entries: list[dict[str, Any]], home: str) -> int | None:
    return next((i for i in range(len(entries) - 1, -1, -1) if _belongs_to(entries[i], home)), None)


def undo(paths: Paths, *, force: bool = False, dry_run: bool = False) -> UndoResult:
    """Put back the file codexprov changed last in this codex home, as it was before that change.

    The journal is shared by every codex home (it lives in codexprov's state folder); undo only
    ever acts on an entry of the selected home (--codex-home / CODEX_HOME)."""
    # Lock order everywhere: the file's lock first, then the journal's (apply_edit does the same).
    home = _home_key(paths)
    entries = _read_journal(paths)
    index = _last_for_home(entries, home)
    if index is None:
        raise NotFoundError(
            f"nothing to undo in {paths.codex_home}: codexprov has not changed a file there yet (or undid it all)",
            hint="To undo a change in another Codex home, pass --codex-home PATH (or set CODEX_HOME).",
        )
    target = Path(entries[index]["file"])
    with lock_for(paths, target), _journal_lock(paths):
        entries = _read_journal(paths)
        index = _last_for_home(entries, home)
        if index is None or Path(entries[index]["file"]) != target:
            raise CodexprovError("another codexprov changed the undo journal meanwhile", hint="Run `codexprov undo` again.")
        entry = entries[index]
        current = target.read_bytes() if target.exists() else None
        current_hash = hashlib.sha256(current).hexdigest() if current is not None else None
        if current_hash != entry["after_sha256"] and not force:
            raise CodexprovError(
                f"{target} changed after codexprov's last edit ({entry['description']}); not undoing",
                hint="Run `codexprov undo --force` to restore the backup anyway (your later edits are lost).",
            )
        # Bytes, not read_text: text mode would turn a CRLF file's line ends into LF.
        before = Path(entry["backup"]).read_bytes().decode("utf-8") if entry["backup"] else None
        now = current.decode("utf-8", "replace") if current is not None else ""
        diff = make_diff(now, before or "", target)
        if not dry_run:
            if current is not None:
                refuse_read_only(paths, target)
            remove_stale_temp_files(target)
            if before is None:
                target.unlink(missing_ok=True)
            else:
                write_atomic(target, before, existed=current is not None)
                Path(entry["backup"]).unlink(missing_ok=True)
            _write_journal(paths, entries[:index] + entries[index + 1 :])
    return UndoResult(target, entry["description"], diff, before is None, dry_run)
