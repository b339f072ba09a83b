"""LiteLLM's proxy, as the bridge runs it: `LITELLM_PYTHON serve.py --config PATH --port PORT`.

Run by file path with the interpreter of LiteLLM's virtualenv (codexprov is not installed there):
this file imports nothing from codexprov. What it adds to LiteLLM's own `litellm` command:

- **The port is codexprov's before LiteLLM loads.** codexprov binds and listens on 127.0.0.1:PORT
  and hands the socket down (CODEXPROV_BRIDGE_FD); there is no moment when another program could
  take the port, and connections that arrive while LiteLLM imports (~5 s) wait in the socket's
  backlog instead of being refused. Without a handed-down socket (Windows) uvicorn binds the port.
- **An identity proof** at `/codexprov/identity` (see codexprov/bridge/identity.py): the pid and
  an HMAC of the master key, port, pid and the caller's nonce. It answers once LiteLLM is ready.
- **Only the API Codex uses is served**: `/v1/...` and the health probes. LiteLLM's admin UI, SSO
  pages, docs and the management API at the root answer 404; CORS is off (no browser page can
  read an answer).
- **Signed thinking blocks survive streaming** (`_keep_signed_thinking_when_streaming`), so that
  Anthropic's extended thinking works over a tool loop.
- **A standby** (`--standby`, `codexprov bridge standby`): LiteLLM loads ahead of need, holding no
  key and no port, and waits for codexprov to hand it the listening socket and the keys (through its
  runner, which learns the keys for masking); the first start then takes about a second.
- **It dies with its runner** (Linux: PR_SET_PDEATHSIG), so a `kill -9` of the runner leaves no
  LiteLLM behind holding the port.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import sys

MASTER_KEY_VAR = "CODEXPROV_BRIDGE_MASTER_KEY"
FD_VAR = "CODEXPROV_BRIDGE_FD"
HANDOFF_VAR = "CODEXPROV_BRIDGE_HANDOFF_FD"
PARENT_VAR = "CODEXPROV_BRIDGE_PARENT"
IDENTITY_PATH = "/codexprov/identity"
ALLOWED_EXACT = ("/health/liveliness", "/health/readiness", IDENTITY_PATH)
ALLOWED_PREFIX = "/v1/"


def _die_with_parent() -> None:
    parent = int(os.environ.get(PARENT_VAR) or 0)
    if not sys.platform.startswith("linux") or not parent:
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the runner died before prctl took effect
        sys.exit(0)


def _proof(key: str, port: int, pid: int, nonce: str) -> str:
    message = f"codexprov-bridge-identity\n{port}\n{pid}\n{nonce}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


class Guard:
    """ASGI wrapper: the identity route, and 404 for everything Codex does not use."""

    def __init__(self, app, key: str, port: int) -> None:
        self.app = app
        self.key = key
        self.port = port

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            path = scope.get("path", "")
            if path == IDENTITY_PATH:
                await self._identity(scope, send)
                return
            if not (path.startswith(ALLOWED_PREFIX) or path in ALLOWED_EXACT):
                await _answer(send, 404, {"error": {"message": "not found", "type": "not_found"}})
                return
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await self.app(scope, receive, send)

    async def _identity(self, scope, send) -> None:
        from urllib.parse import parse_qs

        nonce = (parse_qs(scope.get("query_string", b"").decode("latin-1")).get("nonce") or [""])[0]
        if not (8 <= len(nonce) <= 128 and nonce.isalnum()):
            await _answer(send, 400, {"error": {"message": "nonce: 8 to 128 letters or digits"}})
            return
        pid = os.getpid()
        await _answer(send, 200, {"pid": pid, "proof": _proof(self.key, self.port, pid, nonce)})


async def _answer(send, status: int, payload: dict) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _keep_signed_thinking_when_streaming() -> None:
    """LiteLLM 1.108.7, turning a streamed chat answer into Responses events, sends the reasoning
    item without its signed thinking blocks (`encrypted_content`), which its non-streamed answer
    carries. Codex streams, so it could not send them back, and Anthropic (extended thinking)
    refuses the next request of a tool loop: "Expected `thinking` … but found `tool_use`". This puts
    them back into the streamed item, built the way LiteLLM builds the non-streamed one.
    (tests/test_bridge_reasoning.py; codexprov pins LiteLLM to the version this was written for.)"""
    try:
        from litellm.main import stream_chunk_builder  # type: ignore[import-not-found]
        from litellm.responses.litellm_completion_transformation import (  # type: ignore[import-not-found]
            streaming_iterator,
        )
        from litellm.responses.litellm_completion_transformation.reasoning_items import (  # type: ignore[import-not-found]
            encode_thinking_blocks,
        )
    except ImportError:
        return
    cls = getattr(streaming_iterator, "LiteLLMCompletionStreamingIterator", None)
    original = getattr(cls, "create_reasoning_output_item_done_event", None)
    if cls is None or original is None:
        return

    def create_reasoning_output_item_done_event(self, reasoning_item_id, reasoning_content):
        event = original(self, reasoning_item_id=reasoning_item_id, reasoning_content=reasoning_content)
        try:
            built = stream_chunk_builder(chunks=list(self.collected_chat_completion_chunks))
            message = built.choices[0].message if built is not None and built.choices else None
            encoded = encode_thinking_blocks(getattr(message, "thinking_blocks", None) or ())
            if encoded:
                event.item.encrypted_content = encoded
        except Exception as err:  # noqa: BLE001 - never break the stream over this
            sys.stderr.write(f"codexprov bridge: could not keep the thinking blocks: {type(err).__name__}\n")
        return event

    cls.create_reasoning_output_item_done_event = create_reasoning_output_item_done_event


def _args(argv: list[str]) -> tuple[str, int, bool]:
    config, port, standby = None, None, False
    it = iter(argv)
    for arg in it:
        if arg == "--config":
            config = next(it, None)
        elif arg == "--port":
            port = next(it, None)
        elif arg == "--standby":
            standby = True
    if not config or not (port or standby):
        sys.stderr.write("usage: serve.py --config PATH (--port PORT | --standby)\n")
        sys.exit(2)
    return config, int(port or 0), standby


def _wait_for_handoff() -> tuple[int, str]:
    """Standby: LiteLLM is loaded; block until codexprov hands over the listening socket and the
    environment with the keys (through the runner). Returns (socket fd, port)."""
    import socket

    channel = socket.socket(fileno=int(os.environ.pop(HANDOFF_VAR)))
    sys.stdout.write("codexprov bridge: standby ready (LiteLLM loaded, no key yet)\n")
    sys.stdout.flush()
    data, fds, _flags, _addr = socket.recv_fds(channel, 1 << 20, 4)
    channel.close()
    if not fds:
        sys.stderr.write("serve.py: the handoff carried no socket\n")
        sys.exit(2)
    message = json.loads(data.decode("utf-8"))
    os.environ.update({str(k): str(v) for k, v in (message.get("env") or {}).items()})
    return fds[0], str(message["port"])


def main(argv: list[str]) -> int:
    # Run by path: this folder (codexprov/bridge) would shadow top-level modules (process, install…).
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    config, port, standby = _args(argv)
    _die_with_parent()
    if not standby and len(os.environ.get(MASTER_KEY_VAR, "")) < 32:
        sys.stderr.write(f"serve.py: {MASTER_KEY_VAR} is missing or too short\n")
        return 2
    fd = os.environ.pop(FD_VAR, "")
    os.environ["CONFIG_FILE_PATH"] = config
    os.environ["DISABLE_ADMIN_UI"] = "True"
    os.environ.setdefault("LITELLM_DONT_SHOW_FEEDBACK_BOX", "true")

    import uvicorn  # type: ignore[import-not-found]
    from litellm.proxy.proxy_server import app  # type: ignore[import-not-found]
    from starlette.middleware.cors import CORSMiddleware  # type: ignore[import-not-found]

    app.user_middleware = [m for m in app.user_middleware if m.cls is not CORSMiddleware]
    _keep_signed_thinking_when_streaming()
    if standby:
        handed, port_text = _wait_for_handoff()
        fd, port = str(handed), int(port_text)
    key = os.environ.get(MASTER_KEY_VAR, "")
    if len(key) < 32:
        sys.stderr.write(f"serve.py: {MASTER_KEY_VAR} is missing or too short\n")
        return 2
    options = {
        "log_level": "warning",
        "access_log": False,
        "lifespan": "on",
        "timeout_keep_alive": 75,
    }
    if sys.platform != "win32":
        options["loop"] = "uvloop"
    config_ = uvicorn.Config(Guard(app, key, port), **options)
    server = uvicorn.Server(config_)
    if fd:
        import socket

        sock = socket.socket(fileno=int(fd))
        server.run(sockets=[sock])
    else:  # pragma: no cover - Windows: no socket handed down
        config_.host, config_.port = "127.0.0.1", port
        server.run()
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
