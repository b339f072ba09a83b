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
- **A fast path** (`FastPath`) for what Codex sends on every turn: a streamed `POST /v1/responses`
  (and a plain `/v1/chat/completions`) with the master key, the route tag and only OpenAI fields go
  straight to LiteLLM's router (the proxy's own, built from the same config: same deployments,
  tag routing, fallbacks, retries), skipping the proxy's per-request layers (auth database lookups,
  a dozen middlewares, spend and budget hooks) that cost about 40% of the bridge's CPU per request
  and do nothing for one local user. Everything else goes through the proxy as before; a call
  that fails is answered by the proxy's own exception handling (its status codes and error
  bodies). The answer passes through the echo mask like the proxy's. `CODEXPROV_BRIDGE_FAST_PATH=0` in the bridge's environment turns it off.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import signal
import sys
from typing import Any

MASTER_KEY_VAR = "CODEXPROV_BRIDGE_MASTER_KEY"
FAST_PATH_VAR = "CODEXPROV_BRIDGE_FAST_PATH"
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


# Plain OpenAI request fields the fast path takes (a streamed Responses call, a chat call that is
# not streamed); a request with any other field (one the proxy
# gives a meaning of its own, such as `metadata`, `previous_response_id`, or client-side
# `api_base`/`api_key`, which the proxy refuses) goes through the proxy.
_RESPONSES_FIELDS = frozenset(
    (
        "model input instructions tools tool_choice parallel_tool_calls reasoning store stream include "
        "prompt_cache_key text client_metadata service_tier max_output_tokens max_tool_calls temperature "
        "top_p top_logprobs truncation safety_identifier"
    ).split()
)
_CHAT_FIELDS = frozenset(
    (
        "model messages tools tool_choice parallel_tool_calls temperature top_p n stop "
        "max_tokens max_completion_tokens presence_penalty frequency_penalty logit_bias logprobs top_logprobs "
        "response_format seed reasoning_effort prompt_cache_key service_tier verbosity modalities"
    ).split()
)
# Says which path answered (`bridge logs` cannot: the fast path logs nothing per request).
FAST_PATH_HEADER = (b"x-codexprov-bridge", b"fast-path")
# path -> (router method, the request field the router reads the route tags from, allowed fields)
_FAST_ROUTES = {
    "/v1/responses": ("aresponses", "litellm_metadata", _RESPONSES_FIELDS),
    "/v1/chat/completions": ("acompletion", "metadata", _CHAT_FIELDS),
}


class FastPath:
    """ASGI wrapper around LiteLLM's proxy app: Codex's requests straight to the proxy's router."""

    def __init__(self, app, key: str) -> None:
        self.app = app
        self.auth = b"Bearer " + key.encode()
        self._served: Any = None  # the fast path's ASGI app inside the echo mask, made at first use

    async def __call__(self, scope, receive, send) -> None:
        route = _FAST_ROUTES.get(scope.get("path", "")) if scope["type"] == "http" else None
        if route is None or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        tags = [t.strip() for t in headers.get(b"x-litellm-tags", b"").decode("latin-1").split(",") if t.strip()]
        served = self._serve_app()
        if served is None or not tags or not hmac.compare_digest(headers.get(b"authorization", b""), self.auth):
            await self.app(scope, receive, send)  # the proxy answers (401, 400…) as it always does
            return
        raw, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left
            raw += message.get("body", b"")
            more = message.get("more_body", False)
        replay = _replay(raw, receive)
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        method, tag_field, fields = route
        plain = isinstance(body, dict) and isinstance(body.get("model"), str) and set(body) <= fields
        if not plain or (method == "aresponses" and body.get("stream") is not True):
            # Codex streams its Responses calls, and a chat call here is a plain one (a streamed chat
            # call is the proxy's: it asks the upstream for usage and strips it from the stream).
            await self.app(scope, replay, send)
            return
        scope = {**scope, "codexprov.fast": (method, {**body, tag_field: {"tags": tags}})}
        await served(scope, replay, send)

    def _serve_app(self):
        """The fast path inside the same echo mask as the proxy's answers; None (no fast path) when
        the mask or the router is not there, or CODEXPROV_BRIDGE_FAST_PATH=0."""
        if self._served is None:
            if os.environ.get(FAST_PATH_VAR, "1") == "0":
                return None
            from litellm.proxy import proxy_server  # type: ignore[import-not-found]

            masked: Any = getattr(proxy_server.app, "middleware_stack", None)
            masker = getattr(masked, "masker", None)
            if masker is None or proxy_server.llm_router is None:
                return None
            self._served = type(masked)(self._serve, masker)
        return self._served

    async def _serve(self, scope, receive, send) -> None:
        from litellm.proxy import proxy_server

        method, data = scope["codexprov.fast"]
        try:
            result = await getattr(proxy_server.llm_router, method)(**data)
        except Exception as err:  # noqa: BLE001 - answered as the proxy answers it
            await self._error(err, data, scope, receive, send)
            return
        if not data.get("stream"):
            # The proxy names the model as the client asked for it, not LiteLLM's PREFIX/MODEL.
            result.model = data["model"]
            payload = result.model_dump_json(exclude_none=True).encode()
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                FAST_PATH_HEADER,
            ]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": payload})
            return
        headers = [(b"content-type", b"text/event-stream; charset=utf-8"), FAST_PATH_HEADER]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        # Codex may go away mid-answer (the user interrupts the turn): then the upstream call is
        # cancelled, as the proxy does, instead of being read to its end.
        streaming = asyncio.ensure_future(self._stream(method, data, result, send))
        gone = asyncio.ensure_future(_disconnected(receive))
        try:
            await asyncio.wait((streaming, gone), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (streaming, gone):
                task.cancel()
            await asyncio.gather(streaming, gone, return_exceptions=True)
        if streaming.done() and not streaming.cancelled() and streaming.exception() is None:
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    @staticmethod
    async def _stream(method: str, data: dict, result, send) -> None:
        from litellm.proxy import proxy_server

        requested = data["model"]
        failure = proxy_server.ResponsesStreamErrorState() if method == "aresponses" else None
        try:
            async for item in result:
                chunk, _ = proxy_server._restamp_streaming_chunk_model(
                    chunk=item, requested_model_from_client=requested, request_data=data, model_mismatch_logged=True
                )
                frame = proxy_server._format_streaming_sse_chunk(proxy_server._serialize_streaming_chunk(chunk))
                if failure is not None:
                    failure.observe_chunk(chunk)
                    frame = failure.mark_emitted(frame)
                await send({"type": "http.response.body", "body": _bytes(frame), "more_body": True})
        except Exception as err:  # noqa: BLE001 - after the answer started: an error event, as the proxy sends
            frame = failure.format_failure(err) if failure is not None else None
            if frame is None:
                frame = "data: " + json.dumps({"error": {"message": str(err), "type": type(err).__name__}}) + "\n\n"
            await send({"type": "http.response.body", "body": _bytes(frame), "more_body": True})
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n", "more_body": True})

    async def _error(self, err: Exception, data: dict, scope, receive, send) -> None:
        """The proxy's answer to a failed call (its status code, error body and headers, which Codex
        reads), made by the proxy's own exception handling. Should that raise anything else than
        its ProxyException, the request goes through the proxy as it came (the upstream is then
        asked once more)."""
        from litellm.proxy import proxy_server
        from litellm.proxy._types import LitellmUserRoles, ProxyException, UserAPIKeyAuth  # type: ignore[import-not-found]
        from litellm.proxy.common_request_processing import (  # type: ignore[import-not-found]
            ProxyBaseLLMRequestProcessing,
        )
        from starlette.requests import Request  # type: ignore[import-not-found]

        try:
            await ProxyBaseLLMRequestProcessing(data=data).handle_llm_api_exception(
                err,
                user_api_key_dict=UserAPIKeyAuth(user_role=LitellmUserRoles.PROXY_ADMIN),
                proxy_logging_obj=proxy_server.proxy_logging_obj,
            )
        except ProxyException as exc:
            response = await proxy_server.openai_exception_handler(Request(scope, receive), exc)
            await response(scope, receive, send)
            return
        except Exception:  # noqa: BLE001 - the proxy's own path below
            pass
        await self.app(scope, receive, send)


async def _disconnected(receive) -> None:
    """Returns once the client has gone away (after the request's body, `receive` has nothing else)."""
    while (await receive())["type"] != "http.disconnect":
        pass


def _bytes(frame) -> bytes:
    return frame if isinstance(frame, bytes) else frame.encode("utf-8")


def _replay(raw: bytes, receive):
    """`receive` for a request whose body was read already: the body, then the client's messages."""
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}
        return await receive()

    return replay


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
    sys.path.append(os.path.join(here, "litellm_hooks"))  # the callbacks litellm_config.py registers
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
    config_ = uvicorn.Config(Guard(FastPath(app, key), key, port), **options)
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
