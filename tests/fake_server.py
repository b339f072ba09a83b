"""A fake OpenAI-compatible provider on 127.0.0.1 that the real Codex CLI can talk to.

`FakeServer` records every request and answers like an OpenAI-compatible server:
- `POST {prefix}/responses`: a Responses reply, streamed as SSE when the body asks for `stream: true`
  (what `codex exec` sends), else one JSON object. The streamed events are exactly what Codex 0.133.0
  and 0.169.0 need to finish a turn: `response.created`, `response.output_item.done` (the message),
  `response.completed` (with the response id and usage).
- `GET {prefix}/models`: `{"object": "list", "data": [{"id": ...}]}`. Codex 0.169.0 also GETs this
  (`?client_version=…`) to refresh its own model catalogue; it cannot parse an OpenAI list as one,
  logs that, and goes on with the turn, so no extra keys are needed.
- `POST {prefix}/chat/completions`: a minimal chat completion (streamed or not).
- `stream_pause` (seconds between streamed events) and `stream_complete=False` (no
  `response.completed`) make the stream misbehave the way slow or cut-off servers do.
- With `gateway=True`, `POST {prefix}/responses` refuses (400) any tool whose type is not
  `function` and Codex's Responses-lite header, as gateways in front of other vendors do.

Every option is an attribute that a test may change while the server runs. The pytest fixtures
`fake_server` and `make_fake_server` (in conftest.py) start them and stop them after the test.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    raw_body: bytes = field(repr=False)


def _error(message: str, *, type_: str, code: str | None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


class FakeServer:
    """An OpenAI-compatible fake; see the module docstring. Use `start()`/`stop()` or `with`."""

    def __init__(
        self,
        *,
        prefix: str = "/v1",
        models: Sequence[str] = ("fake-model",),
        reply_text: str = "pong",
        responses_route: bool = True,
        expected_key: str | None = None,
        delay: float = 0.0,
        hang: bool = False,
        unknown_model_error: bool = False,
        unknown_model_status: int = 404,
        function_call: bool = False,
        function_arguments: str = "{}",
        gateway: bool = False,
        answer: Any = None,
        stream_pause: float = 0.0,
        stream_complete: bool = True,
    ) -> None:
        self.prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        self.models = list(models)
        self.reply_text = reply_text
        self.responses_route = responses_route
        self.expected_key = expected_key
        self.delay = delay
        self.hang = hang
        self.unknown_model_error = unknown_model_error
        self.unknown_model_status = unknown_model_status
        # Answer a request that offers tools with a call to its first tool (a doctor `--live` probe).
        self.function_call = function_call
        self.function_arguments = function_arguments
        # Behave like a gateway in front of another vendor (Azure, LiteLLM, OpenRouter): 400 for any
        # tool whose type is not `function`, and for Codex's Responses-lite requests.
        self.gateway = gateway
        # `answer(request, n, server)` -> (status, headers, body) or None: a scripted answer to the
        # n-th request to that method and path (1-based); None falls back to the normal answer.
        self.answer = answer
        # Streamed replies: seconds of silence before each event after the first (a model that
        # pauses), and whether the stream ends with `response.completed` (False: it just stops).
        self.stream_pause = stream_pause
        self.stream_complete = stream_complete
        self._counts: dict[tuple[str, str], int] = {}
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakeServer:
        self._httpd = _Server(("127.0.0.1", 0), _Handler, self)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        # Wake hanging or delayed handlers first, then cut keep-alive connections a client holds open.
        self._stopping.set()
        self._httpd.shutdown()
        with self._lock:
            conns = list(self._connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()
        assert self._thread is not None
        self._thread.join(5)
        self._httpd = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """What goes into `base_url` of a provider, e.g. `http://127.0.0.1:PORT/v1`."""
        return self.root_url + self.prefix

    # -- what was seen -------------------------------------------------------------------------

    def requests_to(self, route: str, method: str | None = None) -> list[RecordedRequest]:
        """Recorded requests whose path is `{prefix}{route}` (e.g. route="/responses")."""
        with self._lock:
            seen = list(self.requests)
        return [r for r in seen if r.path == self.prefix + route and (method is None or r.method == method)]

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- answering (called from handler threads) -----------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _answer(self, req: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        if self.answer is not None:
            with self._lock:
                n = self._counts[(req.method, req.path)] = self._counts.get((req.method, req.path), 0) + 1
            scripted = self.answer(req, n, self)
            if scripted is not None:
                return scripted
        return self.normal_answer(req)

    def normal_answer(self, req: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        """The answer an OpenAI-compatible server gives (what `answer` falls back to)."""
        if not self._authorized(req.headers):
            return _json(
                401, _error("Incorrect API key provided.", type_="invalid_request_error", code="invalid_api_key")
            )
        route = req.path[len(self.prefix) :] if req.path.startswith(self.prefix) else None
        if req.method == "GET" and route == "/models":
            # `models` is what Codex itself decodes from this route (its own catalogue format); an empty
            # list keeps its "failed to decode models response" error out of stderr.
            return _json(200, {"object": "list", "data": [_model(m) for m in self.models], "models": []})
        if req.method == "POST" and route == "/responses" and self.responses_route:
            refused = self._gateway_refusal(req) if self.gateway else None
            return refused or self._responses(req.body)
        if req.method == "POST" and route == "/chat/completions":
            return self._chat(req.body)
        known = route in ("/models", "/chat/completions") or (route == "/responses" and self.responses_route)
        if known:
            return _json(
                405, _error(f"Method not allowed ({req.method} {req.path})", type_="invalid_request_error", code=None)
            )
        return _json(404, _error(f"Invalid URL ({req.method} {req.path})", type_="invalid_request_error", code=None))

    def _gateway_refusal(self, req: RecordedRequest) -> tuple[int, dict[str, str], bytes] | None:
        if req.headers.get("x-openai-internal-codex-responses-lite"):
            return _json(
                400,
                _error(
                    "Unsupported header: X-OpenAI-Internal-Codex-Responses-Lite",
                    type_="invalid_request_error",
                    code=None,
                ),
            )
        tools = req.body.get("tools") if isinstance(req.body, dict) else None
        for tool in tools or []:
            kind = tool.get("type") if isinstance(tool, dict) else None
            if kind != "function":
                return _json(
                    400,
                    _error(f"Unsupported tool type: {kind}", type_="invalid_request_error", code=None, param="tools"),
                )
        return None

    def _authorized(self, headers: dict[str, str]) -> bool:
        if self.expected_key is None:
            return True
        return (
            headers.get("authorization") == f"Bearer {self.expected_key}" or headers.get("api-key") == self.expected_key
        )

    def _bad_body(self, body: Any, required: str) -> tuple[int, dict[str, str], bytes] | None:
        if not isinstance(body, dict):
            return _json(
                400,
                _error("We could not parse the JSON body of your request.", type_="invalid_request_error", code=None),
            )
        for name in ("model", required):
            if name not in body:
                return _json(
                    400,
                    _error(
                        f"Missing required parameter: '{name}'.",
                        type_="invalid_request_error",
                        code="missing_required_parameter",
                        param=name,
                    ),
                )
        if self.unknown_model_error and body["model"] not in self.models:
            message = f"The model `{body['model']}` does not exist or you do not have access to it."
            return _json(
                self.unknown_model_status, _error(message, type_="invalid_request_error", code="model_not_found")
            )
        return None

    def _responses(self, body: Any) -> tuple[int, dict[str, str], bytes]:
        bad = self._bad_body(body, "input")
        if bad is not None:
            return bad
        response_id = "resp_" + uuid.uuid4().hex[:24]
        tools = body.get("tools") or []
        if self.function_call and tools:
            tool = tools[0]
            name = tool.get("name") or (tool.get("function") or {}).get("name") or "unknown"
            item: dict[str, Any] = {
                "type": "function_call",
                "id": "fc_" + uuid.uuid4().hex[:24],
                "call_id": "call_" + uuid.uuid4().hex[:24],
                "name": name,
                "arguments": self.function_arguments,
                "status": "completed",
            }
        else:
            item = {
                "type": "message",
                "id": "msg_" + uuid.uuid4().hex[:24],
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": self.reply_text, "annotations": []}],
            }
        usage = {
            "input_tokens": 10,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 2,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 12,
        }
        response = {
            "id": response_id,
            "object": "response",
            "created_at": int(time.time()),
            "model": body["model"],
            "status": "completed",
            "output": [item],
            "usage": usage,
        }
        if not body.get("stream"):
            return _json(200, response)
        started = {**response, "status": "in_progress", "output": [], "usage": None}
        events = [
            ("response.created", {"type": "response.created", "response": started}),
            ("response.output_item.done", {"type": "response.output_item.done", "output_index": 0, "item": item}),
            ("response.completed", {"type": "response.completed", "response": response}),
        ]
        return _sse(events if self.stream_complete else events[:-1])

    def _chat(self, body: Any) -> tuple[int, dict[str, str], bytes]:
        bad = self._bad_body(body, "messages")
        if bad is not None:
            return bad
        completion_id = "chatcmpl-" + uuid.uuid4().hex[:24]
        tools = body.get("tools") or []
        message: dict[str, Any] = {"role": "assistant", "content": self.reply_text}
        finish = "stop"
        if self.function_call and tools:
            name = (tools[0].get("function") or {}).get("name") or tools[0].get("name") or "unknown"
            call = {
                "id": "call_" + uuid.uuid4().hex[:24],
                "type": "function",
                "function": {"name": name, "arguments": self.function_arguments},
            }
            message = {"role": "assistant", "content": None, "tool_calls": [call]}
            finish = "tool_calls"
        common = {"id": completion_id, "created": int(time.time()), "model": body["model"]}
        if not body.get("stream"):
            usage = {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}
            choice = {"index": 0, "message": message, "finish_reason": finish}
            return _json(200, {**common, "object": "chat.completion", "choices": [choice], "usage": usage})
        delta = {k: v for k, v in message.items() if v is not None}
        if "tool_calls" in delta:
            delta["tool_calls"] = [{"index": 0, **delta["tool_calls"][0]}]
        chunks = [
            {
                **common,
                "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
            },
            {
                **common,
                "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": {}, "finish_reason": finish}],
            },
        ]
        payload = b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"
        return 200, {"Content-Type": "text/event-stream"}, payload


def _model(model_id: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": 1700000000, "owned_by": "fake"}


def _json(status: int, payload: Any) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(payload).encode()


def _sse(events: list[tuple[str, dict[str, Any]]]) -> tuple[int, dict[str, str], bytes]:
    payload = b"".join(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events)
    return 200, {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}, payload


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], fake: FakeServer):
        self.fake = fake
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.fake._lock:
            self.fake._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.fake._lock:
            self.fake._connections.discard(request)
        super().shutdown_request(request)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: pytest output is for test failures

    # Every method is recorded; `codex doctor` probes routes with methods other than GET and POST.
    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_GET

    def _handle(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        parts = urlsplit(self.path)
        request = RecordedRequest(
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            raw_body=raw,
        )
        fake._record(request)
        if fake.hang:
            fake._stopping.wait()
            self.close_connection = True
            return
        if fake.delay and fake._stopping.wait(fake.delay):
            self.close_connection = True
            return
        status, headers, payload = fake._answer(request)
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command == "HEAD":
                pass
            elif fake.stream_pause and headers.get("Content-Type") == "text/event-stream":
                events = payload.split(b"\n\n")
                for i, event in enumerate(events[:-1]):
                    if i and fake._stopping.wait(fake.stream_pause):
                        self.close_connection = True
                        return
                    self.wfile.write(event + b"\n\n")
                    self.wfile.flush()
            else:
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
