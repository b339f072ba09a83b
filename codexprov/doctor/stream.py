"""One streamed, Codex-shaped request to the provider plain `codex` uses (check id `net.stream`).

The token-free probes cannot see what only a real turn shows: a gateway that refuses Codex's
request shape (its tool types, `client_metadata`, the Responses-Lite header), a model the server
does not serve, a stream that never sends `response.completed`, pauses longer than the provider's
`stream_idle_timeout_ms`. So the doctor sends one streamed request shaped like the installed
Codex's, capped at MAX_OUTPUT_TOKENS, to the active provider only, alongside the other probes.

The shape is taken from the installed binary (`capture_shape`): `codex exec` runs once against a
loopback server on a throwaway CODEX_HOME that holds the user's config.toml (its MCP servers left
out, so none starts) with the provider swapped for the loopback one; the request it sends there —
headers, body fields, tools — is kept (cached per Codex build, config and model) and replayed with
a one-word input. When that cannot be done, the request codexprov reads from the installed Codex's
model catalog (`codexprov.codex.request`, `codexprov.codex.wire.request_shape`) stands in, and the
finding says so. `codex_request` is the one
body builder (the `reach` room may take it over).

`--no-spend` and `--offline` skip it; `--live` still runs the real Codex.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codexprov.doctor.findings import Finding, ProviderTarget
from codexprov.doctor.transport import Answer, SseParser, one_line, retry_waits, shown_url, terminal_text
from codexprov.errors import FileAccessError
from codexprov.safe_write import write_atomic

CHECK = "net.stream"
MAX_OUTPUT_TOKENS = 16  # the smallest cap OpenAI's Responses API accepts
DEFAULT_IDLE_MS = 300_000  # Codex's stream_idle_timeout_ms when a provider sets none
STREAM_LIMIT = 30.0  # the longest the doctor waits for a stream, whatever the idle timeout
CAPTURE_TIMEOUT = 45.0
CACHE_FILE = "codex-request-shape.json"
CACHE_ENTRIES = 16
PROMPT = "Reply with the single word: pong."
# Headers that belong to one connection or one key, not to the shape.
_NOT_SHAPE = {"host", "content-length", "authorization", "connection", "accept-encoding", "api-key", "x-api-key"}


@dataclass(frozen=True)
class Shape:
    """The headers and body fields (all but `input`) of a Codex turn, and where they came from."""

    headers: dict[str, str] = field(hash=False)
    body: dict[str, Any] = field(hash=False)
    source: str  # "the installed Codex" | "codexprov's copy of Codex's request"


def codex_request(target: ProviderTarget, shape: Shape) -> tuple[dict[str, Any], dict[str, Any]]:
    """(headers, body) of the doctor's streamed request: Codex's shape, a one-word input, a cap."""
    session = str(uuid.uuid4())
    headers: dict[str, Any] = {}
    for name, value in shape.headers.items():
        headers[name] = value
    for name in ("session-id", "x-client-request-id", "thread-id"):
        if name in headers:
            headers[name] = session
    headers.update(target.headers)
    body = {k: v for k, v in shape.body.items() if k not in ("input", "max_output_tokens")}
    body["model"] = target.model
    body["stream"] = True
    body["input"] = [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": PROMPT}]}]
    body["max_output_tokens"] = MAX_OUTPUT_TOKENS
    if "prompt_cache_key" in body:
        body["prompt_cache_key"] = session
    return headers, body


def fallback_shape(model: str | None, codex_version: str | None, plan: Any = None) -> Shape:
    """When the binary cannot be asked: the request codex.request reads from the catalog (`plan`,
    the target's RequestPlan), else Codex's defaults for a model its catalog does not know."""
    from codexprov.codex.request import from_catalog
    from codexprov.codex.wire import request_shape

    headers, body = request_shape(plan or from_catalog(model, None, {}), codex_version)
    return Shape(dict(headers), dict(body), "codexprov's copy of Codex's request")


# ---------------------------------------------------------------------------- the shape, from the binary


def capture_shape(paths: Any, info: Any, model: str | None, term: str | None = None) -> Shape | None:
    """What the installed Codex sends for a turn with `model` under this config.toml (cached)."""
    if info is None or info.assumed or info.path is None or not model or not Path(info.path).is_file():
        return None
    binary = Path(info.path)
    try:
        config_text = Path(paths.config_file).read_text(encoding="utf-8")
    except OSError:
        config_text = ""
    try:
        st = binary.resolve().stat()
    except OSError:
        return None
    signature = hashlib.sha256(
        json.dumps([str(binary.resolve()), st.st_size, st.st_mtime_ns, model, config_text, term]).encode()
    ).hexdigest()
    cached = _lookup(paths.cache_dir, signature)
    if cached is not None:
        return cached
    shape = _capture(binary, model, config_text, term)
    if shape is not None:
        _store(paths.cache_dir, signature, shape)
    return shape


def _recording_handler(seen: list[tuple[dict[str, str], Any]], model: str) -> type:
    """A loopback Responses server's handler that keeps each turn request (headers, body) in `seen`
    and answers it with a completed stream."""
    from http.server import BaseHTTPRequestHandler

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._send(200, "application/json", json.dumps({"models": [], "data": []}).encode())

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            if not self.path.split("?")[0].endswith("/responses") or not isinstance(body, dict):
                self._send(404, "application/json", b'{"error": {"message": "not found"}}')
                return
            seen.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self._send(200, "text/event-stream", _completed_stream(model))

        def _send(self, status: int, kind: str, payload: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


def _capture(binary: Path, model: str, config_text: str, term: str | None) -> Shape | None:
    from http.server import ThreadingHTTPServer

    from codexprov.codex.request import run_quietly

    seen: list[tuple[dict[str, str], Any]] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _recording_handler(seen, model))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        with tempfile.TemporaryDirectory(prefix="codexprov-shape-") as tmp:
            home = Path(tmp) / "codex-home"
            home.mkdir()
            (home / "config.toml").write_text(_without_mcp(config_text), encoding="utf-8")
            base = f"http://127.0.0.1:{server.server_address[1]}/v1"
            provider = (
                '{ name = "codexprov shape", base_url = "' + base + '", wire_api = "responses", '
                "request_max_retries = 0, stream_max_retries = 0 }"
            )
            command = [
                str(binary),
                "exec",
                "--skip-git-repo-check",
                "-c",
                "check_for_update_on_startup=false",
                "-c",
                "analytics.enabled=false",
                "-c",
                f"model={json.dumps(model)}",
                "-c",
                'model_provider="codexprov_shape"',
                "-c",
                f"model_providers.codexprov_shape={provider}",
                "ping",
            ]
            dead = "http://127.0.0.1:9"  # anything but the loopback server fails at once
            env = {
                "PATH": os.environ.get("PATH", os.defpath),
                "HOME": tmp,
                "CODEX_HOME": str(home),
                "LANG": "C.UTF-8",
                "NO_COLOR": "1",
                "RUST_BACKTRACE": "0",
                "HTTPS_PROXY": dead,
                "HTTP_PROXY": dead,
                "ALL_PROXY": dead,
                "NO_PROXY": "127.0.0.1,localhost",
                "GIT_TERMINAL_PROMPT": "0",
            }
            if term:
                env["TERM"] = term  # Codex names the terminal in its User-Agent
            work = Path(tmp) / "work"
            work.mkdir()
            run_quietly(command, cwd=str(work), env=env, timeout=CAPTURE_TIMEOUT)
    except OSError:
        return None
    finally:
        server.shutdown()
        server.server_close()
    if not seen:
        return None
    headers, body = seen[0]
    kept = {k: v for k, v in headers.items() if k not in _NOT_SHAPE}
    return Shape(kept, {k: v for k, v in body.items() if k != "input"}, "the installed Codex")


def _without_mcp(text: str) -> str:
    """config.toml without its MCP servers (none may start for the capture) or its provider choice."""
    try:
        import tomlkit

        doc = tomlkit.parse(text)
    except Exception:  # noqa: BLE001 - a config Codex cannot load: the capture runs on defaults
        return ""
    for key in ("mcp_servers", "model_provider", "profile", "profiles"):
        doc.pop(key, None)
    return doc.as_string()


def _completed_stream(model: str) -> bytes:
    rid = "resp_" + uuid.uuid4().hex[:24]
    item = {
        "type": "message",
        "id": "msg_" + uuid.uuid4().hex[:24],
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": "pong", "annotations": []}],
    }
    usage = {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}
    done = {"id": rid, "object": "response", "status": "completed", "model": model, "output": [item], "usage": usage}
    events = [
        ("response.created", {"type": "response.created", "response": {**done, "status": "in_progress", "output": []}}),
        ("response.output_item.done", {"type": "response.output_item.done", "output_index": 0, "item": item}),
        ("response.completed", {"type": "response.completed", "response": done}),
    ]
    return b"".join(f"event: {n}\ndata: {json.dumps(d)}\n\n".encode() for n, d in events)


def _read_cache(cache_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((cache_dir / CACHE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _lookup(cache_dir: Path, signature: str) -> Shape | None:
    entry = _read_cache(cache_dir).get(signature)
    if isinstance(entry, dict) and isinstance(entry.get("headers"), dict) and isinstance(entry.get("body"), dict):
        return Shape(entry["headers"], entry["body"], "the installed Codex")
    return None


def _store(cache_dir: Path, signature: str, shape: Shape) -> None:

    data = _read_cache(cache_dir)
    data[signature] = {"at": time.time(), "headers": shape.headers, "body": shape.body}
    newest = sorted(data.items(), key=lambda kv: kv[1].get("at", 0) if isinstance(kv[1], dict) else 0)
    target = cache_dir / CACHE_FILE
    with contextlib.suppress(OSError, FileAccessError):
        cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(target, json.dumps(dict(newest[-CACHE_ENTRIES:])), existed=target.exists())


# ---------------------------------------------------------------------------- sending it


class Prefetch:
    """`shape()` (capture_shape: usually a cache hit) started in a thread at once; calling it waits for
    the answer (and raises what it raised)."""

    def __init__(self, shape: Any) -> None:
        self._answer: list[Any] = []
        self._error: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, args=(shape,), daemon=True)
        self._thread.start()

    def _run(self, shape: Any) -> None:
        try:
            self._answer.append(shape())
        except BaseException as err:  # noqa: BLE001 - handed to the caller, which raises it
            self._error.append(err)

    def done(self) -> bool:
        return not self._thread.is_alive()

    def join(self) -> None:
        self._thread.join()

    def __call__(self) -> Shape | None:
        self._thread.join()
        if self._error:
            raise self._error[0]
        return self._answer[0]


class StreamResult:
    """What the streamed request saw. (A plain class: a dataclass costs ~2 ms of import here.)"""

    def __init__(self) -> None:
        self.shape: Shape | None = None
        self.status: int | None = None
        self.body = b""
        self.retry_after: str | None = None
        self.error: str | None = None  # the request broke off (a transport error), one line
        self.events = 0
        self.first_event: float | None = None
        self.longest_pause = 0.0
        self.completed = False
        self.terminal: str | None = None  # "failed" | "incomplete" | "error"
        self.terminal_text = ""
        self.idle_exceeded = False
        self.timed_out = False
        self.elapsed = 0.0


async def send(client: Any, target: ProviderTarget, url: str, timeout: float) -> StreamResult:
    """Send the request and read the stream the way Codex does: each wait for the next event is
    bounded by the provider's stream_idle_timeout_ms (and the whole by STREAM_LIMIT)."""
    import asyncio

    import httpx

    result = StreamResult()
    shape = None
    if isinstance(target.stream, Prefetch) and target.stream.done():
        shape = target.stream()
    elif callable(target.stream):
        shape = await asyncio.to_thread(target.stream)
    if shape is None:
        shape = fallback_shape(target.model, target.codex_version, target.request)
    result.shape = shape
    headers, body = codex_request(target, shape)
    idle = target.idle_timeout_ms / 1000
    limit = max(timeout, STREAM_LIMIT)
    start = time.monotonic()
    deadline = start + limit
    waits = list(retry_waits(target.request_retries))  # a 429 or a 5xx is asked again, as Codex retries it
    try:
        async with asyncio.timeout(limit):
            while True:
                async with client.stream(
                    "POST",
                    url,
                    params=target.query_params or None,
                    headers=headers,
                    json=body,
                    timeout=httpx.Timeout(limit),
                    follow_redirects=True,  # as Codex's client does (a 307/308 keeps the request)
                ) as response:
                    result.status = response.status_code
                    if response.status_code >= 400:
                        await response.aread()
                        result.body = response.content
                        result.retry_after = response.headers.get("retry-after")
                        retried = response.status_code >= 500 or (
                            response.status_code == 429 and target.retries_rate_limit
                        )
                        if retried and waits:
                            await asyncio.sleep(waits.pop(0))
                            continue
                        # The cap is the doctor's, not Codex's: a server that refuses it is asked
                        # again without it (the answer to one word stays short).
                        refused_cap = response.status_code in (400, 422) and b"max_output_tokens" in result.body
                        if refused_cap and body.pop("max_output_tokens", None) is not None:
                            continue
                        return result
                    await _read(response, result, idle, deadline)
                    break
    except (TimeoutError, httpx.TimeoutException):
        result.timed_out = True
    except httpx.HTTPError as err:
        result.error = f"{type(err).__name__}: {err}"
    result.elapsed = time.monotonic() - start
    return result


async def _read(response: Any, result: StreamResult, idle: float, deadline: float) -> None:
    """Read events until the stream ends; each wait for the next line is bounded by the idle timeout."""
    import asyncio

    reader = _Events(result, time.monotonic())
    lines = response.aiter_lines().__aiter__()
    last = time.monotonic()
    while not reader.done:
        wait = min(idle, deadline - time.monotonic())
        try:
            line = await asyncio.wait_for(lines.__anext__(), wait)
        except StopAsyncIteration:
            reader.feed("")
            break
        except TimeoutError:
            if wait >= idle:
                result.idle_exceeded = True
            else:
                result.timed_out = True
            result.longest_pause = max(result.longest_pause, time.monotonic() - last)
            break
        now = time.monotonic()
        if line.strip():
            result.longest_pause = max(result.longest_pause, now - last)
            last = now
        reader.feed(line)


class _Events:
    """Server-sent events (transport.SseParser), line by line: what Codex looks at to end a turn."""

    def __init__(self, result: StreamResult, start: float) -> None:
        self.result = result
        self.start = start
        self.parser = SseParser()
        self.done = False

    def feed(self, line: str) -> None:
        event = self.parser.feed(line)
        if event is None:
            return
        kind, payload = event
        result = self.result
        result.events += 1
        if result.first_event is None:
            result.first_event = time.monotonic() - self.start
        if kind == "response.completed":
            result.completed = self.done = True
        elif kind in ("response.failed", "response.incomplete", "error"):
            result.terminal = kind.rsplit(".", 1)[-1]
            self.done = True
            result.terminal_text = terminal_text(payload)


# ---------------------------------------------------------------------------- what it means


def _rate_limited(target: ProviderTarget, result: StreamResult, text: str) -> Finding:
    """The streamed request's 429: the same fault as the probes' 429, under the same check, whichever
    request met it first."""
    after = f"; the server says to retry after {result.retry_after} s" if result.retry_after else ""
    return Finding(
        "net.rate-limit",
        "fail",
        (
            f"the streamed request stays rate-limited (HTTP 429 after asking again{after}): Codex retries a "
            f"few times, then the turn fails ({text})"
            if target.retries_rate_limit
            else f"the streamed request is rate-limited (HTTP 429{after}): Codex {target.codex_version} ends the "
            f"turn on the first 429 without asking again ({text})"
        ),
        provider=target.id,
        fix=(f"wait {result.retry_after} s and try again" if result.retry_after else "wait and try again")
        + ", or ask the provider for a higher rate limit",
    )


def finding(target: ProviderTarget, url: str, result: StreamResult, others: list[Finding]) -> Finding:
    """net.stream: the turn's verdict; a failure another probe already explains is pointed to, not repeated."""

    pid = target.id
    idle_ms = target.idle_timeout_ms
    source = result.shape.source if result.shape is not None else "?"
    failed = next((f for f in others if f.status == "fail" and f.provider == pid), None)
    if failed is not None:
        # One cause, one failure: the token-free probes already named it.
        return Finding(CHECK, "skip", f"{CHECK} skipped: see {failed.check}", provider=pid)
    if result.status is not None and result.status >= 400:
        answer = Answer(status=result.status, body=result.body)
        text = answer.server_text()
        if result.status == 429:
            return _rate_limited(target, result, text)
        if result.status >= 500:
            return Finding(
                CHECK,
                "fail",
                f"POST {shown_url(url)} answered a Codex-shaped request with HTTP {result.status}: {text}",
                provider=pid,
                fix="check the server (its log or status page); `codexprov doctor --live` asks Codex itself",
            )
        if _model_unknown(text, answer):
            return Finding(
                CHECK,
                "fail",
                f"the server does not serve `{one_line(target.model or '')}` (HTTP {result.status}: {text})",
                provider=pid,
                fix=f"codexprov use {pid} --model MODEL   (a model this provider serves; `codexprov models {pid}` lists them)",
            )
        return Finding(
            CHECK,
            "fail",
            f"the server refuses the request Codex sends (HTTP {result.status}: {text}); request shape from {source}",
            provider=pid,
            fix="if it names a tool type, a header or a field, this is a gateway that needs Codex's gateway settings: "
            "`codexprov recipes` (gateway recipes) or `codexprov doctor --live` for Codex's own words",
        )
    if result.error is not None:
        return Finding(CHECK, "fail", f"the streamed request broke off: {one_line(result.error)}", provider=pid)
    first = "no event" if result.first_event is None else f"first event after {result.first_event * 1000:.0f} ms"
    if result.idle_exceeded:
        return Finding(
            CHECK,
            "fail",
            f"the server paused more than {idle_ms / 1000:g} s between stream events ({first}, {_events(result)}); "
            f"Codex gives up after stream_idle_timeout_ms = {idle_ms} and the turn fails",
            provider=pid,
            key="stream_idle_timeout_ms",
            fix=f"raise stream_idle_timeout_ms of `{pid}` above the model's pauses (e.g. {max(idle_ms * 10, 60_000)})",
        )
    if result.terminal == "incomplete" and "max_output_tokens" in result.terminal_text:
        result.completed = True  # stopped at the cap the doctor asked for: the turn itself works
    elif result.terminal in ("failed", "error", "incomplete"):
        why = f": {one_line(result.terminal_text)}" if result.terminal_text else ""
        return Finding(
            CHECK, "fail", f"the model answered with response.{result.terminal} ({first}){why}", provider=pid
        )
    if not result.completed:
        if result.timed_out:
            return Finding(
                CHECK,
                "warn",
                f"no response.completed within {STREAM_LIMIT:g} s ({first}, {_events(result)}, "
                f"longest pause {result.longest_pause:.1f} s); Codex would wait up to {idle_ms / 1000:g} s between events",
                provider=pid,
            )
        return Finding(
            CHECK,
            "fail",
            f"the stream ended without response.completed ({first}, {_events(result)}): Codex retries the "
            "stream, then fails the turn (`stream disconnected before completion`)",
            provider=pid,
            fix="the server (or a proxy in front of it) cuts the stream short: check its streaming support and timeouts",
        )
    return Finding(
        CHECK,
        "ok",
        f"a Codex-shaped streamed request completed in {result.elapsed * 1000:.0f} ms ({first}, longest pause "
        f"{result.longest_pause * 1000:.0f} ms, within stream_idle_timeout_ms = {idle_ms}); shape from {source}",
        provider=pid,
    )


def _model_unknown(text: str, answer: Any) -> bool:
    data = answer.json()
    err = data.get("error") if isinstance(data, dict) else None
    code = str(err.get("code") or "") if isinstance(err, dict) else ""
    lowered = text.lower()
    return code == "model_not_found" or ("model" in lowered and ("does not exist" in lowered or "not found" in lowered))


def _events(result: StreamResult) -> str:
    return "1 event" if result.events == 1 else f"{result.events} events"
