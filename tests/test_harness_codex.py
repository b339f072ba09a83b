"""The test harness itself: the fake provider, and the real Codex CLIs (the primary release, 0.133.0) talking to it.

Configs here are written by hand, not by codexprov, so that a failure points at the harness. Every
Codex run sets `stream_max_retries = 0`: without it a failed request is retried 5 times (~7 s).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.codexrun import codex_version, run_codex, write_minimal_config
from tests.conftest import MATRIX_VERSION
from tests.fake_server import FakeServer

KEY = "sk-test-0123456789abcd"
VERSIONS = ["codex_bin", "codex_bin_0133"]


@pytest.fixture(params=VERSIONS)
def any_codex(request: pytest.FixtureRequest) -> Path:
    """Each pinned real Codex CLI in turn."""
    return request.getfixturevalue(request.param)


def _stderr_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("ERROR: ")]


# -- the fake server on its own ---------------------------------------------------------------


def test_fake_server_answers_like_openai(fake_server: FakeServer) -> None:
    base = fake_server.base_url
    assert base == f"http://127.0.0.1:{fake_server.port}/v1"

    models = httpx.get(f"{base}/models?client_version=1")
    assert models.status_code == 200
    assert models.json()["data"] == [{"id": "fake-model", "object": "model", "created": 1700000000, "owned_by": "fake"}]

    reply = httpx.post(f"{base}/responses", json={"model": "fake-model", "input": "hi"})
    assert reply.status_code == 200
    assert reply.json()["output"][0]["content"][0]["text"] == "pong"

    streamed = httpx.post(f"{base}/responses", json={"model": "fake-model", "input": [], "stream": True})
    assert streamed.headers["content-type"] == "text/event-stream"
    events = [json.loads(line[6:])["type"] for line in streamed.text.splitlines() if line.startswith("data: ")]
    assert events == ["response.created", "response.output_item.done", "response.completed"]

    chat = httpx.post(f"{base}/chat/completions", json={"model": "fake-model", "messages": []})
    assert chat.json()["choices"][0]["message"] == {"role": "assistant", "content": "pong"}

    bad = httpx.post(f"{base}/responses", json={"model": "fake-model"})
    assert (bad.status_code, bad.json()["error"]["param"]) == (400, "input")

    assert [(r.method, r.path, r.query) for r in fake_server.requests] == [
        ("GET", "/v1/models", {"client_version": "1"}),
        ("POST", "/v1/responses", {}),
        ("POST", "/v1/responses", {}),
        ("POST", "/v1/chat/completions", {}),
        ("POST", "/v1/responses", {}),
    ]
    assert fake_server.requests[1].body == {"model": "fake-model", "input": "hi"}


def test_fake_server_modes(make_fake_server) -> None:
    chat_only = make_fake_server(responses_route=False, prefix="/openai/v1")
    assert chat_only.base_url.endswith("/openai/v1")
    assert httpx.post(f"{chat_only.base_url}/responses", json={"model": "m", "input": []}).status_code == 404
    assert (
        httpx.post(f"{chat_only.base_url}/chat/completions", json={"model": "fake-model", "messages": []}).status_code
        == 200
    )

    locked = make_fake_server(expected_key=KEY)
    url = f"{locked.base_url}/models"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert httpx.get(url, headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    assert httpx.get(url, headers={"api-key": KEY}).status_code == 200

    picky = make_fake_server(models=["a", "b"], unknown_model_error=True)
    missing = httpx.post(f"{picky.base_url}/responses", json={"model": "x", "input": []})
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "The model `x` does not exist or you do not have access to it."
    assert [m["id"] for m in httpx.get(f"{picky.base_url}/models").json()["data"]] == ["a", "b"]

    tool = make_fake_server(function_call=True, function_arguments='{"ok":true}')
    body = {"model": "fake-model", "input": [], "tools": [{"type": "function", "name": "ping", "parameters": {}}]}
    item = httpx.post(f"{tool.base_url}/responses", json=body).json()["output"][0]
    assert (item["type"], item["name"], item["arguments"]) == ("function_call", "ping", '{"ok":true}')
    chat_tools = [{"type": "function", "function": {"name": "ping", "parameters": {}}}]
    chat = httpx.post(
        f"{tool.base_url}/chat/completions", json={"model": "fake-model", "messages": [], "tools": chat_tools}
    )
    assert chat.json()["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "ping"


def test_fake_server_delay_and_hang_stop_cleanly() -> None:
    slow = FakeServer(delay=0.3).start()
    assert httpx.get(f"{slow.base_url}/models").status_code == 200
    slow.stop()

    hung = FakeServer(hang=True).start()
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{hung.base_url}/models", timeout=0.3)
    hung.stop()
    assert [r.path for r in hung.requests] == ["/v1/models"]


@pytest.mark.timing
def test_fake_server_delay_and_stop_take_the_time_they_should() -> None:
    slow = FakeServer(delay=0.3).start()
    started = time.monotonic()
    httpx.get(f"{slow.base_url}/models")
    assert time.monotonic() - started >= 0.3
    slow.stop()

    hung = FakeServer(hang=True).start()
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{hung.base_url}/models", timeout=0.3)
    started = time.monotonic()
    hung.stop()
    assert time.monotonic() - started < 2


# -- the real Codex CLIs ----------------------------------------------------------------------


@pytest.mark.codex
def test_pinned_versions(codex_bin: Path, codex_bin_0133: Path) -> None:
    assert codex_version(codex_bin) == MATRIX_VERSION
    assert codex_version(codex_bin_0133) == "0.133.0"


@pytest.mark.codex
def test_hand_written_provider_completes_a_turn(any_codex: Path, codex_home: Path, fake_server: FakeServer) -> None:
    write_minimal_config(
        codex_home,
        fake_server.base_url,
        extra_provider_lines=[
            'query_params = { api-version = "2025-04-01-preview" }',
            'http_headers = { "X-Org" = "org-1" }',
        ],
    )
    proc = run_codex(any_codex, codex_home, env_extra={"ACME_API_KEY": KEY})
    assert (proc.returncode, proc.stdout) == (0, "pong\n"), proc.stderr
    assert [(r.method, r.path, r.query) for r in fake_server.requests] == [
        ("POST", "/v1/responses", {"api-version": "2025-04-01-preview"})
    ]
    request = fake_server.requests[0]
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["x-org"] == "org-1"
    assert request.headers["accept"] == "text/event-stream"
    assert (request.body["model"], request.body["stream"], type(request.body["input"])) == ("fake-model", True, list)


@pytest.mark.codex
def test_any_path_prefix(any_codex: Path, codex_home: Path, make_fake_server) -> None:
    server = make_fake_server(prefix="/openai/v1", reply_text="hello from azure")
    write_minimal_config(codex_home, server.base_url)
    proc = run_codex(any_codex, codex_home, env_extra={"ACME_API_KEY": KEY})
    assert (proc.returncode, proc.stdout) == (0, "hello from azure\n"), proc.stderr
    assert [r.path for r in server.requests] == ["/openai/v1/responses"]


@pytest.mark.codex
def test_chat_only_server_fails_fast_with_404(any_codex: Path, codex_home: Path, make_fake_server) -> None:
    server = make_fake_server(responses_route=False)
    write_minimal_config(codex_home, server.base_url)
    proc = run_codex(any_codex, codex_home, env_extra={"ACME_API_KEY": KEY})
    assert (proc.returncode, proc.stdout) == (1, "")
    expected = (
        f"ERROR: unexpected status 404 Not Found: Invalid URL (POST /v1/responses), url: {server.base_url}/responses"
    )
    assert _stderr_errors(proc.stderr) == [expected, expected]
    assert [(r.method, r.path) for r in server.requests] == [("POST", "/v1/responses")]


@pytest.mark.codex
def test_wrong_key_is_a_401(any_codex: Path, codex_home: Path, make_fake_server) -> None:
    server = make_fake_server(expected_key=KEY)
    write_minimal_config(codex_home, server.base_url)
    proc = run_codex(any_codex, codex_home, env_extra={"ACME_API_KEY": "sk-wrong"})
    assert (proc.returncode, proc.stdout) == (1, "")
    expected = (
        f"ERROR: unexpected status 401 Unauthorized: Incorrect API key provided., url: {server.base_url}/responses"
    )
    assert _stderr_errors(proc.stderr) == [expected, expected]


@pytest.mark.codex
def test_missing_env_key(any_codex: Path, codex_home: Path, fake_server: FakeServer) -> None:
    write_minimal_config(codex_home, fake_server.base_url)
    proc = run_codex(any_codex, codex_home, env_extra={"ACME_API_KEY": "  "})
    assert (proc.returncode, proc.stdout) == (1, "")
    assert _stderr_errors(proc.stderr) == ["ERROR: Missing environment variable: `ACME_API_KEY`."] * 2
    assert fake_server.requests_to("/responses") == []


@pytest.mark.codex
def test_outer_provider_variables_do_not_leak(
    any_codex: Path, codex_home: Path, fake_server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACME_API_KEY", "sk-from-the-outer-shell")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-outer-shell")
    write_minimal_config(codex_home, fake_server.base_url)
    proc = run_codex(any_codex, codex_home)
    assert proc.returncode == 1
    assert "ERROR: Missing environment variable: `ACME_API_KEY`." in _stderr_errors(proc.stderr)


@pytest.mark.codex
def test_auth_command_supplies_the_bearer(
    any_codex: Path, codex_home: Path, fake_server: FakeServer, tmp_path: Path
) -> None:
    helper = tmp_path / "token-helper"
    helper.write_text(f'#!/bin/sh\nprintf "  {KEY}-%s\\n\\n" "$1"\n')
    helper.chmod(0o755)
    write_minimal_config(
        codex_home,
        fake_server.base_url,
        env_key=None,
        extra_provider_lines=[
            "",
            "[model_providers.acme.auth]",
            f'command = "{helper}"',
            'args = ["acme"]',
            "timeout_ms = 5000",
        ],
    )
    proc = run_codex(any_codex, codex_home)
    assert (proc.returncode, proc.stdout) == (0, "pong\n"), proc.stderr
    assert len(fake_server.requests_to("/responses", "POST")) == 1
    # With command auth Codex also refreshes its model catalogue from GET /models?client_version=…,
    # in the background (0.169.0 did it 2-3 times per turn): assert its shape, not its count.
    version = codex_version(any_codex)
    assert {(r.method, r.path, r.query.get("client_version")) for r in fake_server.requests} <= {
        ("POST", "/v1/responses", None),
        ("GET", "/v1/models", version),
    }
    assert {r.headers["authorization"] for r in fake_server.requests} == {f"Bearer {KEY}-acme"}
    assert "failed to decode models response" not in proc.stderr


@pytest.mark.codex
def test_auth_command_that_cannot_start(any_codex: Path, codex_home: Path, make_fake_server) -> None:
    server = make_fake_server(expected_key=KEY)
    write_minimal_config(
        codex_home,
        server.base_url,
        env_key=None,
        extra_provider_lines=["[model_providers.acme.auth]", 'command = "no-such-token-helper"'],
    )
    proc = run_codex(any_codex, codex_home)
    assert (proc.returncode, proc.stdout) == (1, "")
    expected = (
        "ERROR: provider auth command `no-such-token-helper` failed to start: No such file or directory (os error 2)"
    )
    assert _stderr_errors(proc.stderr) == [expected, expected]
