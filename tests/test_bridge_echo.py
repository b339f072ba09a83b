"""Issue 24 item 3: an upstream that echoes its key, through the real LiteLLM bridge and the real
Codex. The bridge masks its upstream keys in every body and header it passes to Codex
(codexprov/bridge/litellm_hooks/codexprov_echo_mask.py), so Codex's output, its rollout file and
its state database hold no key, only `sk-…abcd`."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from codexprov.bridge.litellm_hooks import codexprov_echo_mask as echo_mask
from tests.bridge_fixtures import Bridged, require_bridge_parts, session_env
from tests.upstream_standin import ToolTurnServer

pytestmark = [pytest.mark.codex, pytest.mark.keyring]


def _echo(mode: str):
    """A scripted upstream (FakeServer `answer`) that repeats the key it was sent."""

    def answer(req: Any, _n: int, _server: Any) -> tuple[int, dict[str, str], bytes] | None:
        if not (req.method == "POST" and req.path.endswith("/chat/completions")):
            return None
        key = (req.headers.get("authorization") or req.headers.get("Authorization") or "").removeprefix("Bearer ")
        headers = {"x-echo-key": key}
        if mode == "error":
            # Not "Incorrect API key provided: …", which LiteLLM itself rewrites as REDACTED.
            body = {"error": {"message": f"the key {key} is not valid here", "type": "invalid_request_error"}}
            return 401, {**headers, "Content-Type": "application/json"}, json.dumps(body).encode()
        common = {"id": "chatcmpl-echo", "created": 1, "model": "echo-model", "object": "chat.completion.chunk"}
        # "reply-split": the key comes in two deltas, as a model streams it token by token.
        parts = [f"your key: {key}"] if mode == "reply" else [f"your key: {key[:12]}", key[12:]]
        chunks = [
            *({**common, "choices": [{"index": 0, "delta": {"role": "assistant", "content": p}}]} for p in parts),
            {**common, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        ]
        payload = b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"
        return 200, {**headers, "Content-Type": "text/event-stream"}, payload

    return answer


def _holding(root: Path, key: str) -> list[str]:
    forms = {key.encode(), json.dumps(key)[1:-1].encode(), quote(key, safe="").encode()}
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and any(f in p.read_bytes() for f in forms)
    )


@pytest.mark.parametrize("mode", ["error", "reply", "reply-split"])
def test_item3_an_echoing_upstream_puts_no_key_into_codex(codex_bin: Path, tmp_path: Path, mode: str) -> None:
    dbus = require_bridge_parts()
    home = tmp_path / "echo-home"
    (home / ".codex").mkdir(parents=True)
    setup = Bridged(home, home / ".codex", tmp_path / "bridge", session_env(home, tmp_path / "bridge", dbus))
    key = f"sk-echo-{uuid.uuid4().hex}"
    provider_id = f"echo-{uuid.uuid4().hex[:6]}"
    server = ToolTurnServer(answer=_echo(mode)).start()
    setup.models[provider_id] = "echo-model"
    try:
        added = setup.codexprov(
            "add", "custom", "--id", provider_id, "--base-url", server.base_url, "--bridge", "--key-stdin",
            input=key + "\n",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        done = setup.codex(codex_bin, provider_id, prompt="hi", timeout=150)
        sent = [r for r in server.requests if r.path.endswith("/chat/completions")]
        assert sent, f"LiteLLM never called the upstream:\n{done.stderr[-2000:]}"
        shown = done.stdout + done.stderr
        assert key not in shown
        assert _holding(setup.codex_home, key) == []
        # The echo did travel, masked: Codex saw it (LiteLLM rewrites a key it finds in an upstream
        # error as REDACTED itself; a reply quoting the key is the bridge's to mask).
        seen = shown + "".join(p.read_text(encoding="utf-8") for p in setup.codex_home.rglob("rollout-*.jsonl"))
        assert (echo_mask.mask(key) if mode.startswith("reply") else "the key REDACTED is not valid here") in seen, (
            shown[-2000:]
        )
        rollouts = list(setup.codex_home.rglob("rollout-*.jsonl"))
        assert rollouts, "Codex wrote no rollout"
        databases = list(setup.codex_home.glob("*.sqlite*"))
        assert databases, "Codex wrote no state database"
    finally:
        setup.codexprov("bridge", "down", timeout=60)
        setup.codexprov("key", "rm", provider_id, timeout=30)
        server.stop()


def test_item3_masker_keeps_back_only_a_possible_key_start() -> None:
    import asyncio

    key = "sk-upstream-0123456789abcdef"
    masker = echo_mask.Masker([key])
    assert masker(f'{{"message": "Incorrect API key provided: {key}"}}'.encode()) == (
        '{"message": "Incorrect API key provided: sk-…cdef"}'.encode()
    )
    assert masker.unsure_tail(b"data: sk-upst") == len("sk-upst")
    assert masker.unsure_tail(b"data: hello\n\n") == 0

    sent: list[dict[str, Any]] = []

    async def app(scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-echo", key.encode())]})
        for part in (b"data: key ", key[:10].encode(), key[10:].encode() + b"\n\n"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(echo_mask.EchoMask(app, masker)({"type": "http"}, None, send))
    assert sent[0]["headers"] == [(b"x-echo", "sk-…cdef".encode())]
    assert b"".join(m.get("body", b"") for m in sent[1:]) == "data: key sk-…cdef\n\n".encode()
