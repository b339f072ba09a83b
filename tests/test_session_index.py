"""The session index (codexprov.sessions.SessionIndex): `use` asks for the sessions on every switch,
so what a scan read is kept in codexprov's cache folder and reused while the files are the same.
Every test compares the cached answer with a fresh scan of the same files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from codexprov import sessions
from codexprov.sessions import find_sessions
from tests.test_sessions import write_rollout, write_state_db


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "state" / "cache"
    folder.mkdir(parents=True, mode=0o700)
    return folder


def _rewrite_in_place(path: Path, old: str, new: str) -> None:
    """Change the file's bytes without giving it a new inode (Codex never does this: its first line
    is written once; here it shows which answers came from the index)."""
    assert len(old) == len(new)
    data = path.read_bytes()
    assert old.encode() in data
    with path.open("r+b") as handle:
        handle.write(data.replace(old.encode(), new.encode()))


def test_a_second_scan_reuses_what_the_first_read(codex_home: Path, cache_dir: Path) -> None:
    first = write_rollout(codex_home, "s-1", "acme")
    write_rollout(codex_home, "s-2", "other", archived=True)
    cold = find_sessions(codex_home, cache_dir)
    assert cold == find_sessions(codex_home)
    assert cold.counts() == {"acme": 1, "other": 1}
    _rewrite_in_place(first, '"acme"', '"zzzz"')
    # Same path, same inode: the first line (session_meta) is not read again.
    assert find_sessions(codex_home, cache_dir) == cold
    assert find_sessions(codex_home).counts() == {"other": 1, "zzzz": 1}


def test_new_removed_and_replaced_rollouts_are_seen(codex_home: Path, cache_dir: Path) -> None:
    first = write_rollout(codex_home, "s-1", "acme")
    second = write_rollout(codex_home, "s-2", "acme", day="2026/11/21")
    assert find_sessions(codex_home, cache_dir).counts() == {"acme": 2}
    write_rollout(codex_home, "s-3", "other", day="2026/12/01")  # a new day folder, deep down
    assert find_sessions(codex_home, cache_dir) == find_sessions(codex_home)
    assert find_sessions(codex_home, cache_dir).counts() == {"acme": 2, "other": 1}
    second.unlink()
    assert find_sessions(codex_home, cache_dir).counts() == {"acme": 1, "other": 1}
    # A new file under the same name (a new inode) is read again.
    replacement = first.with_name("replacement.tmp")
    replacement.write_text(first.read_text().replace('"acme"', '"local"'))
    os.replace(replacement, first)
    assert find_sessions(codex_home, cache_dir) == find_sessions(codex_home)
    assert find_sessions(codex_home, cache_dir).counts() == {"local": 1, "other": 1}


def test_a_rollout_without_its_first_line_yet_is_read_again(codex_home: Path, cache_dir: Path) -> None:
    path = write_rollout(codex_home, "s-1", "acme")
    content = path.read_text()
    with path.open("r+") as handle:  # as if Codex had created the file and not written it yet
        handle.truncate(0)
    found = find_sessions(codex_home, cache_dir)
    assert (found.sessions, found.problems) == ((), (f"{path}: no session_meta on its first line",))
    with path.open("r+") as handle:  # same inode, now written
        handle.write(content)
    assert find_sessions(codex_home, cache_dir) == find_sessions(codex_home)
    assert find_sessions(codex_home, cache_dir).counts() == {"acme": 1}


def test_the_state_database_is_read_again_only_when_it_changes(
    codex_home: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = write_state_db(codex_home, [("s-9", "/gone/rollout-s-9.jsonl", "acme", 0)])
    calls: list[Path] = []
    real = sessions._query_threads

    def counting(path: Path):
        calls.append(path)
        return real(path)

    monkeypatch.setattr(sessions, "_query_threads", counting)
    cold = find_sessions(codex_home, cache_dir)
    assert cold.counts() == {"acme": 1}
    assert find_sessions(codex_home, cache_dir) == cold
    assert calls == [db]
    import sqlite3

    conn = sqlite3.connect(db)
    conn.execute("UPDATE threads SET model_provider = 'other'")
    conn.commit()
    conn.close()
    assert find_sessions(codex_home, cache_dir).counts() == {"other": 1}
    assert calls == [db, db]


def test_an_index_in_a_folder_others_can_write_is_not_used(codex_home: Path, cache_dir: Path) -> None:
    first = write_rollout(codex_home, "s-1", "acme")
    find_sessions(codex_home, cache_dir)
    [index] = (cache_dir / "sessions").iterdir()
    assert index.stat().st_mode & 0o777 == 0o600
    (cache_dir / "sessions").chmod(0o777)
    _rewrite_in_place(first, '"acme"', '"zzzz"')
    assert find_sessions(codex_home, cache_dir).counts() == {"zzzz": 1}


@pytest.mark.parametrize("content", [b"", b"not json", b"[]", b'{"version": 1, "home": "/elsewhere", "files": {}}'])
def test_a_damaged_or_foreign_index_is_a_miss(codex_home: Path, cache_dir: Path, content: bytes) -> None:
    write_rollout(codex_home, "s-1", "acme")
    find_sessions(codex_home, cache_dir)
    [index] = (cache_dir / "sessions").iterdir()
    index.write_bytes(content)
    assert find_sessions(codex_home, cache_dir) == find_sessions(codex_home)
    assert json.loads(index.read_bytes())["home"] == str(codex_home)


def test_use_notes_sessions_through_the_index(run_cli, codex_home: Path, config_file: Path) -> None:
    """The note `use` prints is the same on the first switch and the next ones (index warm)."""
    from tests.test_sessions import ACME, OTHER

    config_file.write_text(ACME + "\n" + OTHER)
    write_rollout(codex_home, "s-1", "acme")
    write_rollout(codex_home, "s-2", "other", day="2026/11/21")
    note = "note: earlier sessions keep the provider they were started with ({}); `codex resume` continues each there"
    first = run_cli("use", "acme")
    assert first.exit_code == 0
    assert first.stderr.splitlines()[-1] == note.format("1 on other")
    second = run_cli("use", "other")
    assert second.stderr.splitlines()[-1] == note.format("1 on acme")


def _age_folders(codex_home: Path, seconds: int = 60) -> None:
    """Give every rollout folder an mtime in the past (settled: not listed again while unchanged)."""
    import time

    past = time.time_ns() - seconds * 1_000_000_000
    for root in (codex_home / "sessions", codex_home / "archived_sessions"):
        for folder in [root, *(p for p in root.rglob("*") if p.is_dir())] if root.is_dir() else []:
            os.utime(folder, ns=(past, past))


def test_settled_folders_are_not_listed_again(
    codex_home: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_rollout(codex_home, "s-1", "acme")
    write_rollout(codex_home, "s-2", "other", day="2026/11/21")
    _age_folders(codex_home)
    cold = find_sessions(codex_home, cache_dir)
    listed: list[str] = []
    real = sessions._list_folder

    def counting(where: str):
        listed.append(where)
        return real(where)

    monkeypatch.setattr(sessions, "_list_folder", counting)
    assert find_sessions(codex_home, cache_dir) == cold
    assert listed == []
    # A new session in a settled folder changes that folder's mtime: it is listed again.
    write_rollout(codex_home, "s-3", "local", day="2026/11/21")
    warm = find_sessions(codex_home, cache_dir)
    assert listed == [str(codex_home / "sessions" / "2026" / "11" / "21")]
    assert warm.counts() == {"acme": 1, "local": 1, "other": 1}
    assert warm == find_sessions(codex_home)


def test_a_folder_changed_in_the_last_seconds_is_listed_again(codex_home: Path, cache_dir: Path, monkeypatch) -> None:
    write_rollout(codex_home, "s-1", "acme")  # folders fresh: mtime now
    find_sessions(codex_home, cache_dir)
    listed: list[str] = []
    real = sessions._list_folder
    monkeypatch.setattr(sessions, "_list_folder", lambda where: listed.append(where) or real(where))
    assert find_sessions(codex_home, cache_dir).counts() == {"acme": 1}
    assert str(codex_home / "sessions" / "2026" / "11" / "20") in listed
