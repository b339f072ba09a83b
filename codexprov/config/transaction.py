"""Every write is a transaction: lock, re-read, edit, verify, back up, write atomically, journal.

`codexprov undo` walks the journal back. Backups are verbatim copies of what the file held
(mode 0600, in codexprov's state dir), except where a caller passes `backup_text` to redact
(e.g. `key migrate`, so a plain-text key it moved into the keyring is not kept on disk).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import json
import os
import re
import stat
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codexprov import safe_read
from codexprov.config import cache
from codexprov.config.cache import sha256  # the interpreter's own (hashlib loads OpenSSL)
from codexprov.config.document import (
    BOM,
    Snapshot,
    TOMLDecodeError,
    check_shape,
    load,
    loads,
    parse,
    read_file,
    same_data,
)
from codexprov.config.edit import EditImpossible, keep_missing_final_newline
from codexprov.config.scan import scan
from codexprov.errors import CodexprovError, ConfigError, FileAccessError, KeyringUnavailableError, NotFoundError
from codexprov.locking import FileLock
from codexprov.paths import Paths, check_private, private_dir
from codexprov.redact import redact_text
from codexprov.safe_write import fsync_folder, write_atomic

MAX_BACKUPS = 20


@dataclass(frozen=True)
class EditResult:
    """One edit of a file: the text before and after, the diff, the backup and whether it was written."""

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
    return sha256(str(target).encode("utf-8")).hexdigest()[:16]


def lock_for(paths: Paths, target: Path) -> FileLock:
    return FileLock(paths.state_dir / "locks" / f"{_key(target)}.lock", what=str(target))


def make_diff(old: str, new: str, path: Path) -> str:
    """A unified diff with secrets masked (the old text may hold a plain-text key)."""
    import difflib

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
    target = Path(os.path.realpath(file))
    with lock_for(paths, target):
        snap = load(file, paths.cache_dir)
        try:
            new_text = transform(snap)
        except Exception as err:
            if not isinstance(err, (EditImpossible, *_tomlkit_errors())):
                raise
            raise CodexprovError(
                f"cannot make this edit in {file} without disturbing other parts of it ({err})",
                hint="Nothing was written. Edit the file by hand, or report this layout as a codexprov bug.",
            ) from None
        return _commit(
            paths,
            file,
            target,
            snap,
            new_text,
            expect,
            backup_text,
            dry_run=dry_run,
            description=description,
            reuse=reuse,
        )


def _tomlkit_errors() -> tuple[type[Exception], ...]:
    """tomlkit's error class, if tomlkit was imported (an edit that never loaded it raised none of it:
    `use` edits root keys as text, and tomlkit costs ~20 ms to import)."""
    module = sys.modules.get("tomlkit.exceptions")
    return (module.TOMLKitError,) if module is not None else ()


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
    written = (BOM if snap.bom else "") + new_text  # a file that had a byte-order mark keeps it
    backup = _journaled(
        paths,
        target,
        snap,
        backup_text,
        written,
        description,
        lambda: write_atomic(target, written, existed=snap.exists),
    )
    cache.put(paths.cache_dir, file, new_data, secret_free_before=snap.data if snap.secret_free else None)
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

        def unlink() -> None:
            try:
                target.unlink()
            except OSError as err:
                raise FileAccessError(f"cannot delete {target}: {err.strerror or err}; it was not changed") from None

        backup = _journaled(paths, target, snap, None, None, description, unlink)
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
        new_data = _parse_root_edit(snap, new_text, file)
        if new_data is None:
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


def _parse_root_edit(snap: Snapshot, new_text: str, file: Path) -> dict[str, Any] | None:
    """The new text's data when the edit changed only the root keys above the first table (as `use`
    does), parsing only those lines: the tables below are the very text the old data came from.
    None when that cannot be shown (then the whole text is parsed).

    Sound because TOML tables cannot reach each other except through the root: the rest is the
    same text after a complete line, so it reads the same unless the root keys and the tables
    below share a top-level name (`tui.x = 1` above `[tui.y]`); any such name, before or after the
    edit, falls back to the full parse."""

    if not snap.data:
        return None
    end = scan(snap.text, preamble_only=True)[0].end
    rest = snap.text[end:]
    if not rest or len(new_text) < len(rest) or not new_text.endswith(rest):
        return None
    new_root = new_text[: len(new_text) - len(rest)]
    if new_root and not new_root.endswith("\n"):
        return None  # the first header would be glued to the last root line
    try:
        old_keys, new_keys = loads(snap.text[:end]), loads(new_root)
    except TOMLDecodeError:
        return None
    if any(not same_data(snap.data.get(k), v) for k, v in old_keys.items()):
        return None  # a table below adds to a root key's table
    if any(k in snap.data for k in new_keys if k not in old_keys):
        return None  # a new root key that a table below also defines
    data = dict(new_keys)
    data.update((k, v) for k, v in snap.data.items() if k not in old_keys)
    check_shape(data, file, new_text)
    return data


def _copy_for_expect(data: dict[str, Any]) -> dict[str, Any]:
    """Expect functions change root keys and the provider/profile tables only; copying thousands of
    [projects] tables deeply would cost more than the edit."""
    return {k: copy.deepcopy(v) if k in ("model_providers", "profiles") else v for k, v in data.items()}


def _normalize(data: dict[str, Any]) -> dict[str, Any]:
    """An emptied parent table may vanish with its last child (or stay as a bare header): same meaning."""
    return {
        k: v for k, v in data.items() if not (isinstance(v, dict) and not v and k in ("model_providers", "profiles"))
    }


# ---------------------------------------------------------------------------- backups and undo


def _journal_path(paths: Paths) -> Path:
    return paths.state_dir / "journal.json"


def _journal_lock(paths: Paths) -> FileLock:
    return FileLock(paths.state_dir / "locks" / "journal.lock", what="codexprov's undo journal")


def _read_journal(paths: Paths) -> list[dict[str, Any]]:
    path = _journal_path(paths)
    check_private(paths.state_dir)  # another user's journal would name the "backup" undo restores
    try:
        entries = json.loads(safe_read.read_text(path))
    except FileNotFoundError:
        return []
    except OSError as err:
        raise FileAccessError(
            f"cannot read codexprov's undo journal {path}: {err.strerror or err}",
            hint=f"Check the permissions of {path.parent} (codexprov's state folder).",
        ) from None
    except (ValueError, RecursionError):
        entries = None
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and isinstance(e.get("file"), str) and isinstance(e.get("description", ""), str)
        for e in entries
    ):
        raise FileAccessError(
            f"codexprov's undo journal {path} is damaged (not the list of edits codexprov writes)",
            hint=f"Move it aside to start a new undo history (`mv {path} {path}.bad`); the backups in "
            f"{paths.backup_dir} stay where they are.",
        )
    return entries


def scrub_backups(paths: Paths, moved: dict[str, str]) -> int:
    """After keys moved into the keyring (secret -> provider id): replace them in every backup
    the journal lists with keyring placeholders (codexprov.config.backups); how many changed."""
    from codexprov.config.backups import scrub_journal_backups  # not on `use`: only after a key moves

    with _journal_lock(paths):
        return scrub_journal_backups(_read_journal(paths), moved, lambda p, t: write_atomic(p, t, existed=True))


def _write_journal(paths: Paths, entries: list[dict[str, Any]]) -> None:
    """Callers hold the journal's lock (so temp files a killed writer left can go)."""
    remove_stale_temp_files(_journal_path(paths))
    write_atomic(_journal_path(paths), json.dumps(entries, indent=1), existed=_journal_path(paths).exists())


def _backup(paths: Paths, target: Path, snap: Snapshot, backup_text) -> Path | None:
    if not snap.exists:
        return None
    folder = paths.backup_dir / _key(target)
    try:
        private_dir(folder, root=paths.state_dir)
    except OSError as err:
        raise FileAccessError(
            f"cannot create the backup folder {folder}: {err.strerror or err}; {target} was not changed",
            hint="Set CODEXPROV_STATE_DIR to a folder you can write, or fix the permissions of codexprov's state folder.",
        ) from None
    name = f"{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 10**9:09d}-{target.name}"
    path = folder / name
    if backup_text is None and _link_backup(target, path, (BOM if snap.bom else "") + snap.text):
        return path
    text = (BOM if snap.bom else "") + (backup_text(snap.text) if backup_text else snap.text)
    write_atomic(path, text, existed=False)
    return path


def _link_backup(target: Path, path: Path, text: str) -> bool:
    """Make the backup a second name for the file as it is (POSIX): the write that follows replaces
    the file's name with a new file (write_atomic), so these bytes stay as they are, and a 6,000-line
    config is not written twice. Only for a file this user owns with no other name (the backup is
    made private once the new file is in place, see _journaled), holding exactly what was read;
    otherwise (another file system, Windows, a redacted backup) the backup is a copy."""
    if os.name != "posix":
        return False
    try:
        st = os.stat(target)
        if st.st_nlink != 1 or st.st_uid != os.getuid():
            return False
        os.link(target, path)
    except OSError:
        return False
    try:
        same = path.read_bytes() == text.encode("utf-8")
        if same:
            fsync_folder(path.parent)
    except OSError:
        same = False
    if not same:
        path.unlink(missing_ok=True)
    return same


def _home_key(paths: Paths) -> str:
    return os.path.realpath(paths.codex_home)


def _journaled(
    paths: Paths,
    target: Path,
    snap: Snapshot,
    backup_text: Callable[[str], str] | None,
    new_text: str | None,
    description: str,
    change: Callable[[], None],
) -> Path | None:
    """Back up, journal, then `change()` the file: the journal entry comes first, so an edit that
    cannot be journaled is not made, and a change that fails takes its entry back out."""
    backup = _backup(paths, target, snap, backup_text)
    try:
        entry = _journal_append(paths, target, backup, new_text, description)
    except CodexprovError as err:
        if backup is not None:
            backup.unlink(missing_ok=True)
        raise type(err)(
            f"{err.message}; {target} was not changed (codexprov writes the undo journal first)", hint=err.hint
        ) from None
    try:
        change()
    except BaseException:
        with contextlib.suppress(CodexprovError, OSError):
            _journal_remove(paths, entry)
        if backup is not None:
            backup.unlink(missing_ok=True)
        raise
    if backup is not None:
        # A linked backup had the file's mode until the file got its new bytes under its name.
        with contextlib.suppress(OSError):
            os.chmod(backup, 0o600)
    return backup


def _journal_append(
    paths: Paths, target: Path, backup: Path | None, new_text: str | None, description: str
) -> dict[str, Any]:
    """new_text None: the file was deleted (undo expects it absent, then puts the backup back)."""
    entry = {
        "file": str(target),
        "codex_home": _home_key(paths),
        "backup": str(backup) if backup else None,
        "after_sha256": None if new_text is None else sha256(new_text.encode("utf-8")).hexdigest(),
        "description": description,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    with _journal_lock(paths):
        entries = _read_journal(paths)
        entries.append(entry)
        _write_journal(paths, entries[-MAX_BACKUPS:])
        for dropped in entries[:-MAX_BACKUPS]:
            if dropped.get("backup"):
                Path(dropped["backup"]).unlink(missing_ok=True)
    return entry


def _journal_remove(paths: Paths, entry: dict[str, Any]) -> None:
    with _journal_lock(paths):
        entries = _read_journal(paths)
        if entry in entries:
            entries.remove(entry)
            _write_journal(paths, entries)


@dataclass(frozen=True)
class UndoResult:
    """What `undo` restored: the file, the edit it took back and the diff."""

    path: Path
    description: str
    diff: str
    removed_file: bool
    dry_run: bool
    # Providers whose keys came back from the keyring into the restored file (plain text again).
    keys_restored: tuple[str, ...] = ()
    # Providers the restored file reads through `codexprov token` whose keyring entry is gone.
    keys_missing: tuple[str, ...] = ()


def _belongs_to(entry: dict[str, Any], home: str) -> bool:
    """Entries name their codex home; older ones (before it was recorded) are matched by folder."""
    recorded = entry.get("codex_home")
    return recorded == home if recorded is not None else os.path.dirname(entry["file"]) == home


def _last_for_home(entries: list[dict[str, Any]], home: str) -> int | None:
    return next((i for i in range(len(entries) - 1, -1, -1) if _belongs_to(entries[i], home)), None)


def undo(
    paths: Paths,
    *,
    force: bool = False,
    dry_run: bool = False,
    key_for: Callable[[str], str | None] | None = None,
) -> UndoResult:
    """Put back the file codexprov changed last in this codex home, as it was before that change.

    The journal is shared by every codex home (it lives in codexprov's state folder); undo only
    ever acts on an entry of the selected home (--codex-home / CODEX_HOME).

    `key_for(provider_id)` reads the keyring (it may raise KeyringUnavailableError); it is called
    only when the backup stands for keys that moved into the keyring (codexprov.config.backups),
    which are then put back, or when the restored file reads keys through `codexprov token`."""
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
            raise CodexprovError(
                "another codexprov changed the undo journal meanwhile", hint="Run `codexprov undo` again."
            )
        entry = entries[index]
        try:
            current = safe_read.read_bytes(target) if target.exists() else None
        except OSError as err:
            raise FileAccessError(f"cannot read {target}: {err.strerror or err}; nothing was changed") from None
        current_hash = sha256(current).hexdigest() if current is not None else None
        if current_hash != entry.get("after_sha256") and not force:
            raise CodexprovError(
                f"{target} changed after codexprov's last edit ({entry['description']}); not undoing",
                hint="Run `codexprov undo --force` to restore the backup anyway (your later edits are lost).",
            )
        before = _read_backup(paths, entry)
        filled: tuple[str, ...] = ()
        missing: tuple[str, ...] = ()
        if before is not None:
            before, filled = _put_keys_back(before, entry, key_for)
            missing = _wired_without_key(before, key_for)
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
            try:
                _write_journal(paths, entries[:index] + entries[index + 1 :])
            except FileAccessError as err:
                raise FileAccessError(
                    f"{target} was restored as it was before `{entry['description']}`, but the undo journal "
                    f"could not be updated ({err.message}); the backup {entry['backup']} is kept",
                    hint="Fix the state folder's permissions; until then `codexprov undo` will report that the file changed.",
                ) from None
            if entry.get("backup"):
                Path(entry["backup"]).unlink(missing_ok=True)
    return UndoResult(target, entry["description"], diff, before is None, dry_run, filled, missing)


def _read_backup(paths: Paths, entry: dict[str, Any]) -> str | None:
    if not entry.get("backup"):
        return None
    path = Path(entry["backup"])
    try:
        # Bytes, not read_text: text mode would turn a CRLF file's line ends into LF.
        return safe_read.read_bytes(path).decode("utf-8")
    except FileNotFoundError:
        raise NotFoundError(
            f"cannot undo `{entry['description']}`: its backup {path} is missing; nothing was changed",
            hint=f"Restore {entry['file']} by hand, or move the undo journal {_journal_path(paths)} aside to start a new history.",
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise FileAccessError(
            f"cannot read the backup {path}: {getattr(err, 'strerror', None) or err}; nothing was changed"
        ) from None


def _put_keys_back(text: str, entry: dict[str, Any], key_for) -> tuple[str, tuple[str, ...]]:
    """A backup taken before keys moved into the keyring holds placeholders: the keys go back in,
    or the undo is refused. A placeholder is never written to a config file."""
    from codexprov.config.backups import fill, placeholders_in  # not on `use`: only for undo

    if not placeholders_in(text):
        return text, ()
    if key_for is None:
        raise CodexprovError(f"cannot undo `{entry['description']}` without the keyring; nothing was changed")
    text, filled, missing = fill(text, key_for)
    if missing:
        ids = ", ".join(missing)
        raise NotFoundError(
            f"cannot undo `{entry['description']}`: the file it restores held the key of {ids}, which moved "
            "into the keyring, and the keyring has no key for it now; nothing was changed",
            hint=" ".join(f"Store it again with `codexprov key set {pid}`," for pid in missing)
            + " then run `codexprov undo` again.",
        )
    try:
        parse(text, Path(entry["file"]))
    except ConfigError:
        raise CodexprovError(
            f"cannot undo `{entry['description']}`: a key from the keyring cannot be written back into the "
            "file as it was (it holds characters that would need TOML escaping); nothing was changed",
            hint="Restore the file by hand, or keep the keys in the keyring as they are.",
        ) from None
    return text, filled


def _wired_without_key(text: str, key_for) -> tuple[str, ...]:
    """Providers in `text` that read their key through `codexprov token` and have none in the keyring."""
    import tomllib

    from codexprov.credentials import is_token_auth  # not on `use`: only for undo

    if key_for is None or "token" not in text:
        return ()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return ()

    tables = data.get("model_providers")
    wired = [
        pid
        for pid, t in (tables.items() if isinstance(tables, dict) else ())
        if isinstance(t, dict) and is_token_auth(t.get("auth"), pid)
    ]
    try:
        return tuple(pid for pid in wired if key_for(pid) is None)
    except KeyringUnavailableError:
        return ()
