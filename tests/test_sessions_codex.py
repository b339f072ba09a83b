"""Sessions against the real Codex CLI: a session Codex recorded is counted by its provider,
`remove` refuses to orphan it (on a Codex that pins sessions to their provider), `--force` leaves
every session file and Codex's database untouched, and Codex then indeed cannot resume it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codexprov.codex.capabilities import capabilities
from codexprov.codex.version import parse_version
from tests.codexrun import codex_version, run_codex
from tests.test_sessions import fingerprint

pytestmark = pytest.mark.codex

KEY = "sk-test-sessions-0123456789"


def _config(base_a: str, base_b: str) -> str:
    return (
        'model = "fake-model"\nmodel_provider = "acme"\n\n'
        f'[model_providers.acme]\nname = "Acme"\nbase_url = "{base_a}"\nwire_api = "responses"\nenv_key = "T_KEY"\n'
        "request_max_retries = 0\nstream_max_retries = 0\n\n"
        f'[model_providers.other]\nname = "Other"\nbase_url = "{base_b}"\nwire_api = "responses"\nenv_key = "T_KEY"\n'
        "request_max_retries = 0\nstream_max_retries = 0\n"
    )


def test_remove_never_orphans_a_real_session(run_cli, codex_bin: Path, codex_home: Path, make_fake_server) -> None:
    caps = capabilities(parse_version(codex_version(codex_bin)))
    a, b = make_fake_server(), make_fake_server()
    (codex_home / "config.toml").write_text(_config(a.base_url, b.base_url), encoding="utf-8")
    turn = run_codex(codex_bin, codex_home, env_extra={"T_KEY": KEY}, timeout=90)
    assert turn.returncode == 0, turn.stderr[-2000:]
    [rollout] = list((codex_home / "sessions").rglob("rollout-*.jsonl"))
    session_id = json.loads(rollout.read_text(encoding="utf-8").splitlines()[0])["payload"]["id"]

    listed = run_cli("--codex", str(codex_bin), "sessions", "--provider", "acme", "--json")
    assert listed.exit_code == 0, listed.stderr
    assert [(s["id"], s["provider"], s["path"]) for s in json.loads(listed.stdout)["sessions"]] == [
        (session_id, "acme", str(rollout))
    ]

    switched = run_cli("--codex", str(codex_bin), "use", "other")
    assert switched.exit_code == 0, switched.stderr
    note = "note: earlier sessions keep the provider they were started with (1 on acme); `codex resume` continues each there"
    assert (note in switched.stderr) is caps.sessions_keep_provider

    untouched = fingerprint(codex_home / "sessions") | {
        k: v for k, v in fingerprint(codex_home).items() if Path(k).name.startswith("state_")
    }
    removed = run_cli("--codex", str(codex_bin), "remove", "acme")
    if caps.sessions_keep_provider:
        assert removed.exit_code == 5
        assert removed.stderr.splitlines()[0] == (
            "error: 1 Codex session was started with `acme`; Codex cannot resume them once its table is gone"
        )
        removed = run_cli("--codex", str(codex_bin), "remove", "acme", "--force")
    assert removed.exit_code == 0, removed.stderr
    assert "[model_providers.acme]" not in (codex_home / "config.toml").read_text(encoding="utf-8")
    assert (
        fingerprint(codex_home / "sessions")
        | {k: v for k, v in fingerprint(codex_home).items() if Path(k).name.startswith("state_")}
    ) == untouched

    resumed = run_codex(
        codex_bin, codex_home, "again", args=["resume", session_id], env_extra={"T_KEY": KEY}, timeout=90
    )
    if caps.sessions_keep_provider:
        assert resumed.returncode == 1
        assert "This chat uses model provider “acme”, which is no longer configured" in resumed.stderr
        assert b.requests_to("/responses", "POST") == []
    else:
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        assert len(b.requests_to("/responses", "POST")) == 1
