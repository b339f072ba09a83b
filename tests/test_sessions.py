"""codexprov.sessions and the commands that use it: sessions are counted by provider from rollout
files and Codex's state database, never written; `remove` refuses to orphan them; `use` says they
keep their provider."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import stat
from pathlib import Path

import pytest

from codexprov.sessions import Session, find_sessions

ACME = (
    '[model_providers.acme]\nname = "Acme"\nbase_url = "http://127.0.0.1:9/v1"\nwire_api = "responses"\nenv_key = "K"\n'
)
OTHER = '[model_providers.other]\nname = "Other"\nbase_url = "http://127.0.0.1:9/v1"\nwire_api = "responses"\nenv_key = "K"\n'


def write_rollout(
    codex_home: Path, session_id: str, provider: str | None, *, archived: bool = False, day: str = "2026/11/20"
) -> Path:
    folder = codex_home / ("archived_sessions" if archived else "sessions") / day
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"rollout-2026-11-20T10-00-00-{session_id}.jsonl"
    payload = {"id": session_id, "timestamp": "2026-11-20T10:00:00.000Z", "cwd": "/work", "cli_version": "0.169.0"}
    if provider is not None:
        payload["model_provider"] = provider
    lines = [
        {"timestamp": "2026-11-20T10:00:00.001Z", "type": "session_meta", "payload": payload},
        {
            "timestamp": "2026-11-20T10:00:01.000Z",
            "type": "event_msg",
            "payload": {"type": "user_message", "message": "hi"},
        },
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def write_state_db(codex_home: Path, rows: list[tuple[str, str, str, int]]) -> Path:
    """A state database with the columns codexprov reads (Codex's has many more)."""
    db = codex_home / "state_5.sqlite"
    conn = sqlite3.connect(db)
    conn.execute(
        "CREATE TABLE threads (id TEXT PRIMARY KEY, rollout_path TEXT, created_at INTEGER, model_provider TEXT, cwd TEXT, archived INTEGER, cli_version TEXT)"
    )
    conn.executemany(
        "INSERT INTO threads VALUES (?, ?, 1795000000, ?, '/db', ?, '0.169.0')",
        [(sid, path, provider, archived) for sid, path, provider, archived in rows],
    )
    conn.commit()
    conn.close()
    return db


def fingerprint(folder: Path) -> dict[str, tuple[int, str]]:
    return {
        str(p): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_find_sessions_reads_rollouts_and_state_db_without_writing(codex_home: Path) -> None:
    first = write_rollout(codex_home, "s-1", "acme")
    write_rollout(codex_home, "s-2", "other", archived=True)
    write_rollout(codex_home, "s-3", None)
    write_state_db(codex_home, [("s-1", str(first), "acme", 0), ("s-4", "/gone/rollout-s-4.jsonl", "acme", 1)])
    (codex_home / "sessions" / "2026" / "11" / "20" / "rollout-broken.jsonl").write_text("not json\n")
    before = fingerprint(codex_home)

    found = find_sessions(codex_home)

    assert fingerprint(codex_home) == before
    assert found.sessions == (
        Session("s-4", "acme", "2026-11-18T11:06:40Z", "/db", "0.169.0", True, "/gone/rollout-s-4.jsonl"),
        Session("s-1", "acme", "2026-11-20T10:00:00.000Z", "/db", "0.169.0", False, str(first)),
        Session(
            "s-2",
            "other",
            "2026-11-20T10:00:00.000Z",
            "/work",
            "0.169.0",
            True,
            str(codex_home / "archived_sessions/2026/11/20/rollout-2026-11-20T10-00-00-s-2.jsonl"),
        ),
        Session(
            "s-3",
            None,
            "2026-11-20T10:00:00.000Z",
            "/work",
            "0.169.0",
            False,
            str(codex_home / "sessions/2026/11/20/rollout-2026-11-20T10-00-00-s-3.jsonl"),
        ),
    )
    assert found.counts() == {"acme": 2, "other": 1}
    assert found.problems == (
        f"{codex_home}/sessions/2026/11/20/rollout-broken.jsonl: no session_meta on its first line",
    )
    assert found.state_db == str(codex_home / "state_5.sqlite")


def test_find_sessions_in_an_empty_home(codex_home: Path) -> None:
    found = find_sessions(codex_home)
    assert (found.sessions, found.state_db, found.problems) == ((), None, ())


def test_unreadable_state_db_is_a_problem_not_an_error(codex_home: Path) -> None:
    (codex_home / "state_5.sqlite").write_bytes(b"this is not a database, just bytes" * 200)
    write_rollout(codex_home, "s-1", "acme")
    found = find_sessions(codex_home)
    assert [s.id for s in found.sessions] == ["s-1"]
    assert found.problems == (f"{codex_home}/state_5.sqlite: file is not a database",)


def _fake_codex(tmp_path: Path, version: str) -> str:
    script = tmp_path / f"codex-{version}"
    script.write_text(f"#!/bin/sh\necho 'codex-cli {version}'\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_remove_refuses_to_orphan_sessions(run_cli, codex_home: Path, config_file: Path, tmp_path: Path) -> None:
    config_file.write_text('model_provider = "other"\n\n' + ACME + "\n" + OTHER, encoding="utf-8")
    write_rollout(codex_home, "s-1", "acme")
    write_rollout(codex_home, "s-2", "acme", day="2026/11/21")
    sessions_before = fingerprint(codex_home / "sessions")
    config_before = config_file.read_bytes()
    codex = _fake_codex(tmp_path, "0.169.0")

    refused = run_cli("--codex", codex, "remove", "acme")

    assert refused.exit_code == 5
    assert refused.stderr.splitlines() == [
        "error: 2 Codex sessions were started with `acme`; Codex cannot resume them once its table is gone",
        "hint: See them with `codexprov sessions --provider acme`. Pass --force to remove it anyway (the sessions "
        "stay on disk and can be resumed again once a provider `acme` is configured).",
    ]
    assert config_file.read_bytes() == config_before

    forced = run_cli("--codex", codex, "remove", "acme", "--force")
    assert forced.exit_code == 0, forced.stderr
    assert (
        "note: 2 sessions started with acme cannot be resumed until a provider `acme` is configured again"
        in forced.stderr
    )
    assert "[model_providers.acme]" not in config_file.read_text()
    assert fingerprint(codex_home / "sessions") == sessions_before


def test_remove_on_a_codex_that_moves_sessions_only_notes_them(
    run_cli, codex_home: Path, config_file: Path, tmp_path: Path
) -> None:
    config_file.write_text('model_provider = "other"\n\n' + ACME + "\n" + OTHER, encoding="utf-8")
    write_rollout(codex_home, "s-1", "acme")
    removed = run_cli("--codex", _fake_codex(tmp_path, "0.165.0"), "remove", "acme")
    assert removed.exit_code == 0, removed.stderr
    assert "note: 1 session started with acme; this Codex resumes them on the current provider" in removed.stderr


def test_remove_without_sessions_is_not_asked_for_force(
    run_cli, codex_home: Path, config_file: Path, tmp_path: Path
) -> None:
    config_file.write_text('model_provider = "other"\n\n' + ACME + "\n" + OTHER, encoding="utf-8")
    write_rollout(codex_home, "s-1", "other")
    removed = run_cli("--codex", _fake_codex(tmp_path, "0.169.0"), "remove", "acme")
    assert removed.exit_code == 0, removed.stderr
    assert "note:" not in removed.stderr


def test_sessions_command_table_and_json(run_cli, codex_home: Path, config_file: Path) -> None:
    config_file.write_text('model_provider = "acme"\n\n' + ACME, encoding="utf-8")
    write_rollout(codex_home, "s-1", "acme")
    write_rollout(codex_home, "s-2", "gone", day="2026/11/21")

    table = run_cli("sessions")
    assert table.exit_code == 0, table.stderr
    assert table.stdout.splitlines() == [
        "ID   PROVIDER               STARTED                   ARCHIVED  CWD",
        "s-1  acme                   2026-11-20T10:00:00.000Z            /work",
        "s-2  gone (not configured)  2026-11-20T10:00:00.000Z            /work",
    ]
    assert (
        table.stderr
        == "note: Codex cannot resume sessions whose provider is not configured (gone) until it is configured again\n"
    )

    only = run_cli("sessions", "--provider", "acme", "--json")
    assert only.exit_code == 0, only.stderr
    data = json.loads(only.stdout)
    assert data["by_provider"] == {"acme": 1, "gone": 1}
    assert data["unconfigured_providers"] == ["gone"]
    assert [(s["id"], s["provider"], s["provider_configured"]) for s in data["sessions"]] == [("s-1", "acme", True)]

    none = run_cli("sessions", "--provider", "nobody")
    assert (none.exit_code, none.stdout) == (0, "")
    assert none.stderr == f"no Codex sessions started with nobody in {codex_home}\n"


@pytest.mark.parametrize(("version", "noted"), [("0.169.0", True), ("0.165.0", False)])
def test_use_says_old_sessions_keep_their_provider(
    run_cli, codex_home: Path, config_file: Path, tmp_path: Path, version: str, noted: bool
) -> None:
    config_file.write_text('model_provider = "acme"\n\n' + ACME + "\n" + OTHER, encoding="utf-8")
    write_rollout(codex_home, "s-1", "acme")
    write_rollout(codex_home, "s-2", "acme", day="2026/11/21")
    switched = run_cli("--codex", _fake_codex(tmp_path, version), "use", "other")
    assert switched.exit_code == 0, switched.stderr
    note = "note: earlier sessions keep the provider they were started with (2 on acme); `codex resume` continues each there"
    assert (note in switched.stderr) is noted
