"""Issue 24 item 5: `doctor --live` runs the real Codex in a sandbox of its own. The user's notify
hook does not run, `sqlite_home`, `log_dir` and `CODEX_SQLITE_HOME` do not point it at the user's
real state, and it returns by its timeout whatever Codex leaves running (a descendant holding its
output open)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from codexprov import paths as paths_mod
from codexprov.codex.capabilities import capabilities
from codexprov.codex.version import CodexInfo
from codexprov.doctor.codexrun import run_codex_turn
from tests.codexrun import codex_env

pytestmark = [
    pytest.mark.codex,
    pytest.mark.skipif(sys.platform == "win32", reason="process groups and sh are POSIX"),
]


def _config(codex_home: Path, base_url: str, top: str = "") -> None:
    (codex_home / "config.toml").write_text(
        'model = "fake-model"\nmodel_provider = "acme"\n'
        + top
        + f'\n[model_providers.acme]\nname = "Acme"\nbase_url = "{base_url}"\nwire_api = "responses"\n'
        'env_key = "ACME_API_KEY"\nrequest_max_retries = 0\nstream_max_retries = 0\n',
        encoding="utf-8",
    )


def _info(codex: Path) -> CodexInfo:
    return CodexInfo(codex, (0, 169, 0), capabilities((0, 169, 0)), False)


def test_item5_live_run_keeps_out_of_the_users_state_and_runs_no_notify_hook(
    codex_bin: Path, codex_home: Path, fake_server, tmp_path: Path
) -> None:
    marker = tmp_path / "notify-ran"
    user_state = tmp_path / "user-sqlite"
    user_logs = tmp_path / "user-logs"
    env_state = tmp_path / "env-sqlite"
    for folder in (user_state, user_logs, env_state):
        folder.mkdir()
    _config(
        codex_home,
        fake_server.base_url,
        f"notify = {json.dumps(['sh', '-c', f'touch {marker}', 'notify'])}\n"
        f"sqlite_home = {json.dumps(str(user_state))}\nlog_dir = {json.dumps(str(user_logs))}\n",
    )
    before = (codex_home / "config.toml").read_text(encoding="utf-8")
    env = {**codex_env(codex_home, {"ACME_API_KEY": "sk-live0123456789"}), "CODEX_SQLITE_HOME": str(env_state)}
    work = tmp_path / "work"
    work.mkdir()
    found = run_codex_turn(
        paths_mod.resolve(),
        _info(codex_bin),
        env=env,
        cwd=work,
        profile=None,
        timeout=60,
        findings=[],
        active="acme",
    )
    assert (found.check, found.status) == ("codex.run", "ok"), found.message
    assert fake_server.requests, "Codex sent no request"
    time.sleep(1)  # a notify hook is started after the turn, without waiting for it
    assert not marker.exists()
    assert [sorted(p.name for p in f.rglob("*")) for f in (user_state, user_logs, env_state)] == [[], [], []]
    assert sorted(p.name for p in codex_home.iterdir()) == ["config.toml"]
    assert (codex_home / "config.toml").read_text(encoding="utf-8") == before


def test_item5_live_run_returns_by_its_timeout_whatever_codex_leaves_behind(
    codex_bin: Path, codex_home: Path, fake_server, tmp_path: Path
) -> None:
    # Codex, as a wrapper that first starts a descendant in a session of its own holding Codex's
    # stdout and stderr for a minute (what a daemonising hook or MCP server does).
    wrapper = tmp_path / "codex"
    wrapper.write_text(
        f'#!/bin/sh\nif [ "$1" = exec ]; then setsid sleep 60 & echo $! > {tmp_path / "descendant.pid"}; fi\n'
        f'exec {codex_bin} "$@"\n',
        encoding="utf-8",
    )
    wrapper.chmod(0o755)
    _config(codex_home, fake_server.base_url)
    env = codex_env(codex_home, {"ACME_API_KEY": "sk-live0123456789"})
    work = tmp_path / "work"
    work.mkdir()
    start = time.monotonic()
    found = run_codex_turn(
        paths_mod.resolve(),
        _info(wrapper),
        env=env,
        cwd=work,
        profile=None,
        timeout=20,
        findings=[],
        active="acme",
    )
    took = time.monotonic() - start
    assert (found.check, found.status) == ("codex.run", "ok"), found.message
    # Not a speed target: before, the doctor waited for the descendant (60 s) after Codex finished.
    assert took < 40, f"doctor --live waited {took:.0f} s for what Codex left behind"
    with contextlib.suppress(OSError, ValueError):
        os.kill(int((tmp_path / "descendant.pid").read_text()), signal.SIGKILL)


def test_item2_doctor_live_masks_the_key_in_codexs_error_line(
    run_cli, codex_bin: Path, codex_home: Path, make_fake_server, no_outside_configs
) -> None:
    """Codex's last error line quotes a 401 body that repeats the key, which came from an auth
    command that is not codexprov's (`sh -c 'echo KEY'`), in no shape the boundary knows."""
    key = "ECHOLIVE0123456789ABCDEFGH"

    def answer(req, _n, _server):
        if req.method == "POST" and req.path.endswith("/responses"):
            body = {"error": {"message": f"Incorrect API key provided: {key}", "type": "invalid_request_error"}}
            return 401, {"Content-Type": "application/json"}, json.dumps(body).encode()
        return None

    server = make_fake_server(answer=answer)
    (codex_home / "config.toml").write_text(
        'model = "fake-model"\nmodel_provider = "acme"\n\n[model_providers.acme]\nname = "Acme"\n'
        f'base_url = "{server.base_url}"\nwire_api = "responses"\nrequest_max_retries = 0\nstream_max_retries = 0\n'
        f'[model_providers.acme.auth]\ncommand = "sh"\nargs = ["-c", "echo {key}"]\n',
        encoding="utf-8",
    )
    result = run_cli("--codex", str(codex_bin), "doctor", "--live", "--json", "--timeout", "30")
    ran = [f for f in json.loads(result.stdout)["findings"] if f["check"] == "codex.run"]
    assert [f["status"] for f in ran] == ["fail"], result.stdout
    assert "Incorrect API key provided: …EFGH" in ran[0]["message"]
    assert key not in result.stdout + result.stderr
