"""serve.py's fast path (Codex's requests straight to LiteLLM's router), with the real LiteLLM: it
answers what the proxy answers, byte for byte but for ids and timestamps; it takes only requests
with the master key, a route tag and plain OpenAI fields; errors are the proxy's, the echo mask
covers its answers, and Codex going away mid-answer cancels the upstream call. Two bridges side by side on one stand-in upstream: serve.py as shipped, and
with CODEXPROV_BRIDGE_FAST_PATH=0 (every request through the proxy's layers)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from codexprov.bridge import litellm_config
from codexprov.bridge.layout import State, Upstream
from codexprov.bridge.process import serve_script
from tests import fake_server
from tests.bridge_fixtures import LITELLM_VENV, _require
from tests.fake_server import FakeServer, _error, _json

MASTER = "sk-bridge-fast-path-test-" + "x" * 32
KEY = "sk-upstream-fast-path-0123456789abcdef"
FAST = ("x-codexprov-bridge", "fast-path")


def _start(tmp_path: Path, name: str, base_url: str, env_over: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    state = State(port, (Upstream("fp", "custom_openai", base_url, "FP_UPSTREAM_KEY"),))
    config = tmp_path / f"{name}.yaml"
    config.write_text(litellm_config.render_text(state))
    env = {
        **os.environ,
        litellm_config.MASTER_KEY_VAR: MASTER,
        "FP_UPSTREAM_KEY": KEY,
        "CODEXPROV_BRIDGE_FD": str(listener.fileno()),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        **env_over,
    }
    with open(tmp_path / f"{name}.log", "wb") as log:
        proc = subprocess.Popen(
            [str(LITELLM_VENV / "bin" / "python"), serve_script(), "--config", str(config), "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=(listener.fileno(),),
            start_new_session=True,
        )
    listener.close()
    return proc, port


@pytest.fixture(scope="module")
def bridges(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FakeServer, int, int]]:
    _require((LITELLM_VENV / "bin" / "python").exists(), f"LiteLLM is not installed in {LITELLM_VENV}")
    tmp_path = tmp_path_factory.mktemp("fast-path")
    server = FakeServer(responses_route=False, expected_key=KEY).start()
    started = [
        _start(tmp_path, "fast", server.base_url, {}),
        _start(tmp_path, "proxy", server.base_url, {"CODEXPROV_BRIDGE_FAST_PATH": "0"}),
    ]
    try:
        for (proc, port), name in zip(started, ("fast", "proxy"), strict=True):
            deadline = time.monotonic() + 180
            while True:
                assert proc.poll() is None, (tmp_path / f"{name}.log").read_text()[-3000:]
                assert time.monotonic() < deadline, f"the {name} bridge did not answer within 180 s"
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health/liveliness", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.3)
        yield server, started[0][1], started[1][1]
    finally:
        for proc, _ in started:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        server.stop()


HEADERS = {"Authorization": f"Bearer {MASTER}", "x-litellm-tags": "fp"}
CHAT = {"model": "fp-model", "messages": [{"role": "user", "content": "ping"}]}
RESPONSES = {"model": "fp-model", "input": "ping", "stream": True}


def _same_but_ids(text: str) -> str:
    return re.sub(r'"(id|created|created_at|item_id)":("[^"]*"|\d+)', r'"\1":X', text)


def _post(port: int, path: str, body: dict, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(f"http://127.0.0.1:{port}/v1{path}", json=body, headers=headers or HEADERS, timeout=60)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/chat/completions", CHAT),
        ("/responses", RESPONSES),
        (
            "/responses",
            {**RESPONSES, "tools": [{"type": "function", "name": "shell", "parameters": {"type": "object"}}]},
        ),
    ],
    ids=["chat", "responses-stream", "responses-stream-tools"],
)
def test_fast_path_answers_what_the_proxy_answers(bridges, path, body):
    server, fast_port, proxy_port = bridges
    before = len(server.requests_to("/chat/completions", "POST"))

    fast, proxy = _post(fast_port, path, body), _post(proxy_port, path, body)

    assert (fast.status_code, proxy.status_code) == (200, 200), (fast.text[:500], proxy.text[:500])
    assert fast.headers.get(FAST[0]) == FAST[1]
    assert FAST[0] not in proxy.headers
    assert fast.headers["content-type"] == proxy.headers["content-type"]
    assert _same_but_ids(fast.text) == _same_but_ids(proxy.text)
    assert "pong" in fast.text
    calls = server.requests_to("/chat/completions", "POST")[before:]
    assert len(calls) == 2  # one upstream call each
    assert calls[0].headers["authorization"] == calls[1].headers["authorization"] == f"Bearer {KEY}"
    assert calls[0].body == calls[1].body


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        # Not the master key: the proxy looks for it in a database, which a bridge has not.
        ({"Authorization": "Bearer sk-wrong-key-0000000000000000", "x-litellm-tags": "fp"}, RESPONSES, 400),
        ({"Authorization": f"Bearer {MASTER}"}, RESPONSES, 200),  # no route tag: the proxy decides
        (HEADERS, {**RESPONSES, "metadata": {"k": "v"}}, 200),  # a field the proxy reads itself
        (HEADERS, {**RESPONSES, "stream": False}, 200),  # Codex streams; the rest is the proxy's
        (HEADERS, {**CHAT, "stream": True}, 200),  # the proxy adds and strips stream usage itself
    ],
    ids=["wrong-key", "no-tag", "proxy-field", "not-streamed", "chat-streamed"],
)
def test_what_the_fast_path_leaves_to_the_proxy(bridges, headers, body, status):
    _server, fast_port, proxy_port = bridges
    path = "/responses" if "input" in body else "/chat/completions"

    fast, proxy = _post(fast_port, path, body, headers), _post(proxy_port, path, body, headers)

    assert (fast.status_code, proxy.status_code) == (status, status), (fast.text[:500], proxy.text[:500])
    assert FAST[0] not in fast.headers
    assert _same_but_ids(fast.text) == _same_but_ids(proxy.text)


def test_an_upstream_error_is_the_proxys_answer(bridges):
    server, fast_port, proxy_port = bridges

    def refuse(request, n, server_):
        if request.method == "POST" and request.path.endswith("/chat/completions"):
            return _json(429, _error("Rate limit reached for requests", type_="rate_limit_error", code="rate_limit"))
        return None

    server.answer = refuse
    before = len(server.requests_to("/chat/completions", "POST"))
    try:
        fast = _post(fast_port, "/responses", RESPONSES)
        tried = len(server.requests_to("/chat/completions", "POST")) - before
        proxy = _post(proxy_port, "/responses", RESPONSES)
    finally:
        server.answer = None

    assert fast.status_code == proxy.status_code == 429
    assert FAST[0] not in fast.headers
    assert _same_but_ids(fast.text) == _same_but_ids(proxy.text)
    assert json.loads(fast.text)["error"]["code"] == "429"
    assert tried == len(server.requests_to("/chat/completions", "POST")) - before - tried  # no second try


def test_the_echo_mask_covers_the_fast_path(bridges):
    server, fast_port, _proxy_port = bridges
    server.reply_text = f"the key is {KEY}, as you asked"
    try:
        fast = _post(fast_port, "/responses", RESPONSES)
    finally:
        server.reply_text = "pong"

    assert fast.status_code == 200
    assert fast.headers.get(FAST[0]) == FAST[1]
    assert KEY not in fast.text
    assert "the key is sk-…cdef, as you asked" in fast.text


@pytest.mark.parametrize("which", ["fast", "proxy"])
def test_codex_going_away_mid_answer_cancels_the_upstream_call(bridges, which, monkeypatch):
    server, fast_port, proxy_port = bridges
    port = fast_port if which == "fast" else proxy_port
    ended: list[bool] = []  # per upstream request: whether its answer was cut short
    handle = fake_server._Handler._handle

    def recording(self):
        handle(self)
        if self.path.endswith("/chat/completions"):
            ended.append(self.close_connection)

    monkeypatch.setattr(fake_server._Handler, "_handle", recording)
    monkeypatch.setattr(server, "stream_pause", 1.5)  # the upstream's events come 1.5 s apart
    url = f"http://127.0.0.1:{port}/v1/responses"
    with httpx.Client(timeout=60) as client, client.stream("POST", url, json=RESPONSES, headers=HEADERS) as answer:
        assert answer.status_code == 200
        next(answer.iter_raw())  # the answer has started; Codex goes away
    deadline = time.monotonic() + 20
    while not ended and time.monotonic() < deadline:
        time.sleep(0.1)

    assert ended == [True]  # the bridge closed its upstream connection before the answer's end
