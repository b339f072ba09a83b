"""End to end through the real parts: codexprov writes the config, the real Codex CLI (pinned
0.169.0, installed by scripts/test.sh) reads it with --strict-config and talks to a server on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.codexrun import run_codex

pytestmark = pytest.mark.codex


def test_add_custom_use_then_codex_completes_a_turn(run_cli, codex_bin: Path, codex_home: Path, fake_server) -> None:
    (codex_home / "config.toml").write_text(
        '# hand-written\napproval_policy = "never"\n\n[projects."/tmp"]\ntrust_level = "trusted"\n'
    )
    result = run_cli(
        "add",
        "custom",
        "--id",
        "acme",
        "--name",
        "Acme",
        "--base-url",
        fake_server.base_url,
        "--key-mode",
        "env",
        "--env-key",
        "ACME_API_KEY",
        "--query",
        "api-version=2025-04-01-preview",
        "--header",
        "X-Org=org-1",
        "--model",
        "fake-model",
        "--use",
    )
    assert result.exit_code == 0, result.stderr
    proc = run_codex(codex_bin, codex_home, "say pong", env_extra={"ACME_API_KEY": "sk-test-e2e-0001"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "pong" in proc.stdout
    posts = fake_server.requests_to("/responses", "POST")
    assert posts, "Codex never reached the server"
    request = posts[0]
    assert request.path == "/v1/responses"
    assert request.query == {"api-version": "2025-04-01-preview"}
    assert request.headers["authorization"] == "Bearer sk-test-e2e-0001"
    assert request.headers["x-org"] == "org-1"
    assert request.body["model"] == "fake-model"
    assert request.body["stream"] is True


def test_use_switches_what_codex_talks_to(run_cli, codex_bin: Path, codex_home: Path, make_fake_server) -> None:
    first, second = make_fake_server(reply_text="from-first"), make_fake_server(reply_text="from-second", prefix="/api")
    for pid, server in (("first", first), ("second", second)):
        added = run_cli("add", "custom", "--id", pid, "--base-url", server.base_url, "--key-mode", "none")
        assert added.exit_code == 0, added.stderr
    assert run_cli("use", "second", "--model", "m-2").exit_code == 0
    proc = run_codex(codex_bin, codex_home)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "from-second" in proc.stdout
    assert second.requests_to("/responses", "POST")[0].path == "/api/responses"
    assert not first.requests_to("/responses", "POST")
    assert "authorization" not in second.requests_to("/responses", "POST")[0].headers

    assert run_cli("use", "first").exit_code == 0
    proc = run_codex(codex_bin, codex_home)
    assert proc.returncode == 0 and "from-first" in proc.stdout

    # remove + undo give Codex back the provider exactly as it was (--force: a session Codex saved
    # was started with `second`, and remove refuses to orphan it otherwise; tests/test_sessions*.py)
    assert run_cli("remove", "second", "--force").exit_code == 0
    assert run_cli("undo").exit_code == 0
    assert run_cli("use", "second").exit_code == 0
    proc = run_codex(codex_bin, codex_home)
    assert proc.returncode == 0 and "from-second" in proc.stdout
