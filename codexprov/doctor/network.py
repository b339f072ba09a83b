"""The doctor's network checks: every provider probed at once, each within one timeout.

Per provider, `GET {base}/models` and an empty `POST {base}/responses` go out together under one
shared deadline, so a provider that never answers costs its timeout once, not once per check.
Then, only when needed and within what is left of that deadline, `POST {base}/chat/completions`
(is this a Chat-Completions-only endpoint?). With `live`, one real streamed Responses request
with a tiny function tool follows (the only probe that spends tokens).

Probes never spend tokens: the POSTs carry `{}`, which every OpenAI-compatible server refuses
before generating anything (no model, no input); a 400/422 proves the route exists, a 404/405
that it does not. Check ids: net.reachable, net.models, net.responses-route, net.live.

httpx is imported inside `check_network`: the rest of codexprov must not pay for it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from codexprov.doctor.findings import Finding, ProviderTarget
from codexprov.redact import redact_text

# A real model may take several seconds to its first token; the probes' timeout is too short for it.
LIVE_MIN_TIMEOUT = 30.0
LIVE_TOOL = "ping"
# Waits before asking again after a 429 rate limit or a 5xx (Codex retries those, with backoff).
RETRY_WAITS = (0.25, 0.5)
_MAX_SERVER_TEXT = 160


@dataclass(frozen=True)
class _Answer:
    """One probe's outcome: an HTTP status and body, or why there was none."""

    status: int | None = None
    body: bytes = b""
    error: str | None = None  # "timeout" | "connect" | "tls" | "invalid-url" | "other"
    detail: str = ""
    elapsed: float = 0.0
    redirects: tuple[tuple[int, str], ...] = ()  # (status, Location) per hop followed, in order
    method_changed: bool = False  # a 301/302/303 turned the POST into a GET (as Codex's client does)
    retry_after: str | None = None
    attempts: int = 1  # how often it was asked (429 and 5xx are asked again, as Codex does)
    first_status: int | None = None  # the first answer's status, when it was asked again

    @property
    def quota(self) -> bool:
        """A 429 that will not clear by waiting: the account is out of quota or credit."""
        if self.status != 429:
            return False
        data = self.json()
        err = data.get("error") if isinstance(data, dict) else None
        fields = [str(err.get(k) or "") for k in ("code", "type")] if isinstance(err, dict) else []
        if any(f in ("insufficient_quota", "billing_hard_limit_reached", "quota_exceeded") for f in fields):
            return True
        text = self.server_text().lower()
        return "quota" in text or "billing" in text or "credit" in text

    @property
    def transient(self) -> bool:
        """An answer Codex retries: a rate limit that clears, or the server failing (5xx)."""
        return self.status is not None and ((self.status == 429 and not self.quota) or self.status >= 500)

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def server_text(self) -> str:
        """The server's error message (or the start of its body), one line, redacted, short."""
        data = self.json()
        text = ""
        if isinstance(data, dict):
            err = data.get("error")
            if isinstance(err, dict):
                text = str(err.get("message") or "")
            elif isinstance(err, str):
                text = err
            text = text or str(data.get("detail") or data.get("message") or "")
        if not text:
            text = self.body[:400].decode("utf-8", "replace")
        return _one_line(text)


def _one_line(text: str) -> str:
    text = " ".join(str(text).split())
    if len(text) > _MAX_SERVER_TEXT:
        text = text[: _MAX_SERVER_TEXT - 1] + "…"
    return redact_text(text)


def _root(base_url: str) -> str:
    """The base URL the routes hang off. One that already ends in a route is a static finding;
    probing `…/responses/responses` would only repeat it, so the route is dropped here."""
    root = base_url.strip().rstrip("/")
    for suffix in ("/responses", "/chat/completions"):
        if root.endswith(suffix):
            return root[: -len(suffix)]
    return root


def _shown(url: str) -> str:
    """A URL fit to print: no query string (some providers take a key there), redacted."""
    return redact_text(url.split("?", 1)[0])


def _why_unreachable(answer: _Answer, timeout: float) -> str:
    if answer.error == "timeout":
        return f"no answer within {timeout:g} s"
    if answer.error == "tls":
        return f"TLS error ({answer.detail})"
    return answer.detail or "connection failed"


def check_network(
    targets: list[ProviderTarget],
    *,
    timeout: float = 5.0,
    live: bool = False,
    transport: Any = None,
    codex_version: str | None = None,
) -> list[Finding]:
    """Probe every target concurrently; findings in target order, checks in a fixed order each.
    `codex_version` goes into the --live request's User-Agent, as Codex puts its own."""
    import asyncio

    if not targets:
        return []
    coro = _check_all(list(targets), timeout, live, transport, codex_version)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # Called from inside a running event loop (an async caller): run ours on a thread of its own.
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _import_httpx() -> Any:
    """httpx, without trio: httpcore imports trio whenever it is installed (~125 ms), and these
    probes run on asyncio. The block lasts only while httpcore is first imported."""
    import contextlib
    import sys

    if "httpx" in sys.modules or "trio" in sys.modules:
        import httpx

        return httpx
    sys.modules["trio"] = None  # type: ignore[assignment]  # makes `import trio` raise ImportError
    try:
        import httpx

        # Where httpcore looks for trio, loaded lazily on the first request otherwise; another httpcore
        # layout only costs the import time.
        with contextlib.suppress(ImportError):
            import httpcore._synchronization  # noqa: F401 - imported for its side effect, under the block
    finally:
        if sys.modules.get("trio", 0) is None:
            del sys.modules["trio"]
    return httpx


def _tls_context(targets: list[ProviderTarget]) -> Any:
    """No https target: a context that trusts nothing (a redirect to https then fails closed)
    instead of loading the CA bundle (~55 ms). Otherwise httpx's default verification."""
    import ssl

    if any(t.base_url.strip().lower().startswith("https:") for t in targets):
        return True
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


async def _check_all(
    targets: list[ProviderTarget], timeout: float, live: bool, transport: Any, codex_version: str | None = None
) -> list[Finding]:
    import asyncio

    httpx = _import_httpx()
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    verify = _tls_context(targets)
    async with httpx.AsyncClient(transport=transport, limits=limits, follow_redirects=False, verify=verify) as client:
        prober = _Prober(client, timeout, codex_version)
        results = await asyncio.gather(*(prober.provider(t, live) for t in targets))
    return [finding for findings in results for finding in findings]


class _Prober:
    def __init__(self, client: Any, timeout: float, codex_version: str | None = None) -> None:
        self.client = client
        self.timeout = timeout
        self.codex_version = codex_version

    async def request(
        self, method: str, url: str, target: ProviderTarget, deadline: float, body: Any = None
    ) -> _Answer:
        """One request the way Codex's HTTP client makes it: redirects followed (at most 10; a
        301/302/303 turns a POST into a bodiless GET; another host gets no Authorization)."""
        start = time.monotonic()
        headers = {"Accept": "application/json", **target.headers}
        params: Any = target.query_params or None
        hops: list[tuple[int, str]] = []
        changed = False
        while True:
            answer, location = await self._once(method, url, params, headers, body, deadline)
            if location is None or answer.status is None or len(hops) >= 10:
                break
            hops.append((answer.status, location))
            new_url = _join(url, location)
            if answer.status in (301, 302, 303) and method == "POST":
                method, body, changed = "GET", None, True
            if _origin(new_url) != _origin(url):
                headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            url, params = new_url, None  # the Location carries its own query
        return _Answer(
            answer.status,
            answer.body,
            answer.error,
            answer.detail,
            time.monotonic() - start,
            tuple(hops),
            changed,
            answer.retry_after,
        )

    async def _once(
        self, method: str, url: str, params: Any, headers: dict[str, Any], body: Any, deadline: float
    ) -> tuple[_Answer, str | None]:
        import asyncio

        import httpx

        left = deadline - time.monotonic()
        if left <= 0:
            return _Answer(error="timeout"), None
        start = time.monotonic()
        try:
            response = await asyncio.wait_for(
                self.client.request(
                    method, url, params=params, headers=headers, json=body, timeout=httpx.Timeout(left)
                ),
                left,
            )
        except (TimeoutError, httpx.TimeoutException):
            return _Answer(error="timeout", elapsed=time.monotonic() - start), None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as err:
            return _Answer(error="invalid-url", detail=_one_line(str(err))), None
        except httpx.ConnectError as err:
            return _Answer(
                error=_connect_kind(err), detail=_connect_detail(err), elapsed=time.monotonic() - start
            ), None
        except httpx.HTTPError as err:
            return _Answer(
                error="other", detail=_one_line(f"{type(err).__name__}: {err}"), elapsed=time.monotonic() - start
            ), None
        location = response.headers.get("location") if response.status_code in (301, 302, 303, 307, 308) else None
        answer = _Answer(
            status=response.status_code,
            body=response.content,
            elapsed=time.monotonic() - start,
            retry_after=response.headers.get("retry-after"),
        )
        return answer, location

    async def asked_again(
        self, method: str, url: str, target: ProviderTarget, deadline: float, first: _Answer, body: Any
    ) -> _Answer:
        """Ask again after a 429 rate limit or a 5xx, as Codex retries them (short waits, within the deadline)."""
        import asyncio
        import dataclasses

        answer, attempts = first, 1
        for wait in RETRY_WAITS:
            if not answer.transient or time.monotonic() + wait >= deadline:
                break
            await asyncio.sleep(wait)
            answer = await self.request(method, url, target, deadline, body=body)
            attempts += 1
        return dataclasses.replace(answer, attempts=attempts, first_status=first.status)

    async def provider(self, target: ProviderTarget, live: bool) -> list[Finding]:
        import asyncio

        pid = target.id
        root = _root(target.base_url)
        checks = ["net.models", "net.responses-route"] + (["net.live"] if live else [])
        if not _is_http_url(root):
            why = (
                f"not probed: base URL `{_shown(target.base_url)}` is not an http(s) URL (see provider.base-url-scheme)"
            )
            return [Finding("net.reachable", "skip", why, provider=pid)] + [
                Finding(c, "skip", f"{c} skipped: the base URL is not an http(s) URL", provider=pid) for c in checks
            ]
        deadline = time.monotonic() + self.timeout
        models_url, responses_url, chat_url = root + "/models", root + "/responses", root + "/chat/completions"
        models, responses = await asyncio.gather(
            self.request("GET", models_url, target, deadline),
            self.request("POST", responses_url, target, deadline, body={}),
        )
        if models.transient or responses.transient:
            models, responses = await asyncio.gather(
                self.asked_again("GET", models_url, target, deadline, models, None),
                self.asked_again("POST", responses_url, target, deadline, responses, {}),
            )
        answered = [a for a in (models, responses) if a.status is not None]
        if not answered:
            return [_unreachable(target, root, models, self.timeout)] + [
                Finding(c, "skip", f"{c} skipped: {pid} is unreachable (net.reachable)", provider=pid) for c in checks
            ]
        fastest = min(a.elapsed for a in answered)
        findings = [Finding("net.reachable", "ok", f"{_shown(root)} answers ({fastest * 1000:.0f} ms)", provider=pid)]

        key_failed = models.status in (401, 403)
        findings.append(_models_finding(target, models_url, models))
        chat = None
        if responses.status in (404, 405) and not responses.method_changed:
            chat = await self.request("POST", chat_url, target, deadline, body={})
        findings.append(_responses_finding(target, responses_url, responses, chat, key_failed))
        conditions = _condition_findings(target, responses_url, models, responses)
        findings += conditions
        if live:
            blocking = next((f for f in conditions if f.status == "fail"), None)
            if responses.status in (404, 405) and not responses.method_changed:
                findings.append(
                    Finding(
                        "net.live",
                        "skip",
                        "net.live skipped: no /responses route to call (net.responses-route)",
                        provider=pid,
                    )
                )
            elif key_failed or responses.status in (401, 403):
                findings.append(Finding("net.live", "skip", "net.live skipped: the key was refused", provider=pid))
            elif blocking is not None:
                findings.append(Finding("net.live", "skip", f"net.live skipped: see {blocking.check}", provider=pid))
            elif not target.model:
                findings.append(
                    Finding(
                        "net.live", "skip", "net.live skipped: no model is configured for this provider", provider=pid
                    )
                )
            else:
                findings.append(await self.live(target, responses_url))
        return findings

    async def live(self, target: ProviderTarget, url: str) -> Finding:
        """One real streamed turn with a tiny function tool: time to first event, did a call come back."""
        import asyncio

        import httpx

        from codexprov.codex.wire import request_shape

        pid = target.id
        limit = max(self.timeout, LIVE_MIN_TIMEOUT)
        shape_headers, shape = request_shape(target.model, self.codex_version)
        wants_call = bool(shape.get("tools"))
        ask = (
            f"Call the `{LIVE_TOOL}` tool once, with no arguments."
            if wants_call
            else "Answer with the single word: pong."
        )
        body = {
            "model": target.model,
            "stream": True,
            "input": [
                {
                    "type": "message",
                    "role": "developer",
                    "content": [{"type": "input_text", "text": f"You are a connectivity probe. {ask}"}],
                },
                {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "ping"}]},
            ],
            **shape,
        }
        headers = {**shape_headers, **target.headers}
        start = time.monotonic()
        state = _SseState(wants_call=wants_call)
        try:
            async with asyncio.timeout(limit):
                async with self.client.stream(
                    "POST",
                    url,
                    params=target.query_params or None,
                    headers=headers,
                    json=body,
                    timeout=httpx.Timeout(limit),
                ) as response:
                    if response.status_code >= 400:
                        await response.aread()
                        text = _Answer(status=response.status_code, body=response.content).server_text()
                        return Finding(
                            "net.live",
                            "fail",
                            f"a streamed Responses request failed: HTTP {response.status_code}: {text}",
                            provider=pid,
                        )
                    async for line in response.aiter_lines():
                        state.feed(line, time.monotonic() - start)
                        if state.done:
                            break
                    state.feed("", time.monotonic() - start)
        except (TimeoutError, httpx.TimeoutException):
            state.timed_out = True
        except httpx.HTTPError as err:
            return Finding(
                "net.live",
                "fail",
                f"the streamed request broke off: {_one_line(type(err).__name__ + ': ' + str(err))}",
                provider=pid,
            )
        return state.finding(pid, limit, time.monotonic() - start)


class _SseState:
    """Reads a Responses SSE stream line by line and remembers what matters to the doctor."""

    def __init__(self, *, wants_call: bool = True) -> None:
        self.wants_call = wants_call
        self.first_event: float | None = None
        self.data: list[str] = []
        self.event: str | None = None
        self.completed = False
        self.terminal: str | None = None  # "failed" | "incomplete" | "error": how the stream ended otherwise
        self.error_text = ""
        self.calls: list[str] = []
        self.events = 0
        self.done = False
        self.timed_out = False

    def feed(self, line: str, at: float) -> None:
        if line.startswith(":"):
            return
        if line == "":
            self._dispatch(at)
            return
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self.event = value
        elif name == "data":
            self.data.append(value)

    def _dispatch(self, at: float) -> None:
        if not self.data and self.event is None:
            return
        raw = "\n".join(self.data)
        event_name, self.data, self.event = self.event, [], None
        if raw.strip() == "[DONE]":
            return
        try:
            payload = json.loads(raw) if raw else {}
        except ValueError:
            payload = {}
        if not isinstance(payload, dict):
            payload = {}
        kind = str(payload.get("type") or event_name or "")
        if self.first_event is None:
            self.first_event = at
        self.events += 1
        if kind == "response.output_item.done":
            self._item(payload.get("item"))
        elif kind == "response.completed":
            self.completed = True
            self.done = True
            response = payload.get("response") or {}
            if isinstance(response, dict):
                for item in response.get("output") or []:
                    self._item(item)
        elif kind in ("response.failed", "response.incomplete", "error"):
            self.terminal = kind.rsplit(".", 1)[-1]
            self.done = True
            response = got if isinstance(got := payload.get("response"), dict) else payload
            err = response.get("error") or response.get("incomplete_details") or response.get("message") or ""
            if isinstance(err, dict):
                err = err.get("message") or err.get("reason") or json.dumps(err)
            self.error_text = _one_line(str(err))

    def _item(self, item: Any) -> None:
        if isinstance(item, dict) and item.get("type") == "function_call":
            name = str(item.get("name") or "?")
            if name not in self.calls:
                self.calls.append(name)

    def finding(self, pid: str, limit: float, total: float) -> Finding:
        first = "no event" if self.first_event is None else f"first event after {self.first_event * 1000:.0f} ms"
        if self.terminal in ("failed", "error"):
            why = f": {self.error_text}" if self.error_text else ""
            return Finding("net.live", "fail", f"the model answered with an error ({first}){why}", provider=pid)
        if self.terminal == "incomplete":
            why = f" ({self.error_text})" if self.error_text else ""
            return Finding("net.live", "warn", f"the response stopped incomplete{why}; {first}", provider=pid)
        if not self.completed:
            ended = (
                f"no response.completed within {limit:g} s"
                if self.timed_out
                else "the stream ended without response.completed"
            )
            return Finding("net.live", "fail", f"{ended} ({first}, {self.events} events)", provider=pid)
        if not self.wants_call:
            return Finding(
                "net.live",
                "ok",
                f"a turn completed in {total * 1000:.0f} ms ({first}), sent as Codex sends it for this model",
                provider=pid,
            )
        if not self.calls:
            return Finding(
                "net.live",
                "warn",
                f"a turn completed in {total * 1000:.0f} ms ({first}) but no function call came back: Codex's tools may not work with this model",
                provider=pid,
            )
        return Finding(
            "net.live",
            "ok",
            f"a turn completed in {total * 1000:.0f} ms ({first}); function call `{_one_line(self.calls[0])}` came back",
            provider=pid,
        )


def _models_finding(target: ProviderTarget, url: str, answer: _Answer) -> Finding:
    pid, shown = target.id, _shown(url)
    if answer.status is None:
        return Finding("net.models", "warn", f"GET {shown}: {_no_answer(answer)}", provider=pid)
    if answer.status in (401, 403):
        return _key_finding("net.models", target, answer)
    if answer.status in (404, 405):
        return Finding(
            "net.models",
            "skip",
            f"net.models skipped: GET {shown} is not served (HTTP {answer.status}), so the model could not be checked",
            provider=pid,
        )
    if answer.quota:
        return Finding(
            "net.models", "skip", "net.models skipped: the account is out of quota (net.quota)", provider=pid
        )
    if not 200 <= answer.status < 300:
        return Finding(
            "net.models", "warn", f"GET {shown} answered HTTP {answer.status}: {answer.server_text()}", provider=pid
        )
    ids = _model_ids(answer.json())
    if ids is None:
        return Finding("net.models", "warn", f"GET {shown} did not return a model list", provider=pid)
    if not target.model:
        return Finding(
            "net.models", "ok", f"lists {_count(len(ids), 'model')}; no model is configured to check", provider=pid
        )
    if not ids:
        return Finding("net.models", "ok", f"lists no models; `{target.model}` could not be checked", provider=pid)
    if _serves(target.model, ids):
        return Finding(
            "net.models", "ok", f"serves `{target.model}` ({_count(len(ids), 'model')} listed)", provider=pid
        )
    import difflib

    close = difflib.get_close_matches(target.model, ids, n=3, cutoff=0.5)
    hint = f"; close: {', '.join(close)}" if close else ""
    fix = (
        f"codexprov use {pid} --model {close[0]}"
        if close
        else f"codexprov use {pid} --model MODEL (one listed by GET {shown})"
    )
    return Finding(
        "net.models",
        "fail",
        f"`{_one_line(target.model)}` is not among the {_count(len(ids), 'model')} the server lists{hint}",
        provider=pid,
        fix=fix,
    )


def _model_ids(data: Any) -> list[str] | None:
    """Model ids from an OpenAI list (`data: [{id}]`) or the `models: [{name}|str]` forms some servers use."""
    entries: object
    if isinstance(data, list):
        entries = data
    elif isinstance(data, dict):
        entries = data.get("data")
        if not entries and isinstance(data.get("models"), list):
            entries = data["models"]
        if entries is None:
            return None
    else:
        return None
    if not isinstance(entries, list):
        return None
    ids = []
    for entry in entries:
        if isinstance(entry, str):
            ids.append(entry)
        elif isinstance(entry, dict):
            value = entry.get("id") or entry.get("name") or entry.get("model")
            if isinstance(value, str):
                ids.append(value)
    return ids


def _serves(model: str, ids: list[str]) -> bool:
    # Some servers list models with a `models/` path (Gemini: `models/gemini-2.0-flash`) that requests leave out.
    def bare(name: str) -> str:
        return name.removeprefix("models/")

    return any(bare(model) == bare(i) for i in ids)


def _key_finding(check: str, target: ProviderTarget, answer: _Answer) -> Finding:
    text = answer.server_text()
    said = f" (HTTP {answer.status}: {text})" if text else f" (HTTP {answer.status})"
    if target.has_key:
        message = f"the key is wrong: the server refused it{said}"
        fix = f"codexprov key set {target.id} (or, if it reads an env var, set that variable to the right key)"
    else:
        message = f"the server wants a key and none is sent{said}"
        fix = f"codexprov key set {target.id}"
    return Finding(check, "fail", message, provider=target.id, fix=fix)


def _responses_finding(
    target: ProviderTarget, url: str, answer: _Answer, chat: _Answer | None, key_failed: bool
) -> Finding:
    pid, shown = target.id, _shown(url)
    status = answer.status
    if status is None:
        return Finding("net.responses-route", "warn", f"POST {shown}: {_no_answer(answer)}", provider=pid)
    if answer.method_changed:
        return Finding(
            "net.responses-route",
            "skip",
            "net.responses-route skipped: the POST is redirected as a GET (net.redirect)",
            provider=pid,
        )
    if answer.quota or answer.transient:
        why = "net.quota" if answer.quota else ("net.rate-limit" if status == 429 else "net.upstream")
        return Finding(
            "net.responses-route",
            "skip",
            f"net.responses-route skipped: the server answers HTTP {status}, so whether the route exists is unknown ({why})",
            provider=pid,
        )
    if status in (400, 422) or 200 <= status < 300:
        return Finding(
            "net.responses-route", "ok", f"POST {shown} exists (HTTP {status} to an empty probe)", provider=pid
        )
    if status in (401, 403):
        if key_failed:
            return Finding(
                "net.responses-route",
                "ok",
                f"POST {shown} exists (HTTP {status}: the key problem is reported by net.models)",
                provider=pid,
            )
        return _key_finding("net.responses-route", target, answer)
    if status in (404, 405):
        chat_status = chat.status if chat is not None else None
        if chat_status is not None and (chat_status in (400, 401, 403, 422) or 200 <= chat_status < 300):
            return Finding(
                "net.responses-route",
                "fail",
                f"no POST {shown} (HTTP {status}): this endpoint speaks only Chat Completions, and Codex needs the Responses API; put a bridge in front",
                provider=pid,
                # codexprov's bridge (LiteLLM on 127.0.0.1) in front of the same endpoint.
                fix=f"codexprov add custom --id {pid} --base-url {target.base_url} --bridge --replace",
            )
        return Finding(
            "net.responses-route",
            "fail",
            f"no POST {shown} (HTTP {status}); Codex sends every turn there",
            provider=pid,
            fix=f"set base_url of `{pid}` to the URL under which the server serves /responses (usually ending in /v1)",
        )
    return Finding(
        "net.responses-route",
        "warn",
        f"POST {shown} answered HTTP {status} to an empty probe; cannot tell whether the route exists: {answer.server_text()}",
        provider=pid,
    )


def _no_answer(answer: _Answer) -> str:
    return "no answer in time" if answer.error == "timeout" else (answer.detail or "no answer")


def _chain(err: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    node: BaseException | None = err
    while node is not None and node not in seen and len(seen) < 8:
        seen.append(node)
        node = node.__cause__ or node.__context__
    return seen


def _connect_kind(err: Exception) -> str:
    import ssl

    return "tls" if any(isinstance(e, ssl.SSLError) for e in _chain(err)) else "connect"


def _connect_detail(err: Exception) -> str:
    import socket
    import ssl

    for cause in _chain(err):
        if isinstance(cause, ssl.SSLError):
            return _one_line(getattr(cause, "reason", None) or str(cause))
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "the host name does not resolve"
    text = str(err).lower()
    if "unreachable" in text:
        return "network unreachable"
    return _one_line(str(err) or type(err).__name__)


def _is_http_url(url: str) -> bool:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False


def _is_loopback(url: str) -> bool:
    from urllib.parse import urlsplit

    host = (urlsplit(url).hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


def _origin(url: str) -> tuple[str, str, int | None]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


def _join(url: str, location: str) -> str:
    from urllib.parse import urljoin

    return urljoin(url, location)


def _count(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {plural or noun + 's'}"


def _unreachable(target: ProviderTarget, root: str, answer: _Answer, timeout: float) -> Finding:
    pid = target.id
    message = f"cannot reach {_shown(root)}: {_why_unreachable(answer, timeout)}"
    fix = None
    detail = answer.detail.lower().replace("_", " ")
    if answer.error == "connect" and _is_loopback(root):
        fix = f"start the local server behind {_shown(root)}, or fix base_url of `{pid}`"
    elif answer.error == "tls" and any(
        w in detail for w in ("wrong version", "record layer", "packet length", "http request")
    ):
        message += "; the server speaks plain HTTP, not HTTPS"
        fix = f'base_url = "{_shown(root).replace("https://", "http://", 1)}"'
    elif answer.error == "tls" and "certificate" in detail:
        message += "; Codex refuses this certificate too"
        fix = "give the server a certificate a trusted CA signed (or add its CA to the system trust store)"
    elif answer.error == "timeout":
        fix = f"if the server is only slow, give it longer: codexprov doctor --timeout {max(10, int(timeout * 3))}"
    return Finding("net.reachable", "fail", message, provider=pid, fix=fix)


def _condition_findings(target: ProviderTarget, url: str, models: _Answer, responses: _Answer) -> list[Finding]:
    """What the answers say beyond "the route exists": quota, rate limits, a failing upstream, redirects."""
    pid, shown = target.id, _shown(url)
    out: list[Finding] = []
    quota = next((a for a in (responses, models) if a.quota), None)
    if quota is not None:
        out.append(
            Finding(
                "net.quota",
                "fail",
                f"the server answers HTTP 429 ({quota.server_text()}): the account is out of quota or credit, which waiting "
                "does not fix; Codex stops at once (`Quota exceeded`)",
                provider=pid,
                fix="add credit or raise the quota at the provider (or switch provider: codexprov use ID)",
            )
        )
    elif responses.status == 429:
        after = f", Retry-After {responses.retry_after} s" if responses.retry_after else ""
        out.append(
            Finding(
                "net.rate-limit",
                "warn",
                f"POST {shown} is rate-limited right now (HTTP 429{after}, {_count(responses.attempts, 'try', 'tries')}): "
                f"Codex retries a few times, then stops; a limit like this clears by itself ({responses.server_text()})",
                provider=pid,
                fix="wait and try again, or ask the provider for a higher rate limit",
            )
        )
    elif responses.first_status == 429:
        out.append(
            Finding(
                "net.rate-limit",
                "ok",
                "rate-limited once (HTTP 429), answered when asked again, as Codex retries",
                provider=pid,
            )
        )
    if responses.status is not None and responses.status >= 500:
        out.append(
            Finding(
                "net.upstream",
                "fail",
                f"POST {shown} answered HTTP {responses.status} {_count(responses.attempts, 'time')} ({responses.server_text()}): "
                "the server, or the service behind it, is failing; Codex retries, then stops",
                provider=pid,
                fix="check the server (its log or status page); `codexprov doctor --live` asks Codex itself",
            )
        )
    elif responses.first_status is not None and responses.first_status >= 500:
        out.append(
            Finding(
                "net.upstream",
                "ok",
                f"failed once (HTTP {responses.first_status}), answered when asked again, as Codex retries",
                provider=pid,
            )
        )
    if responses.redirects:
        code, location = responses.redirects[0]
        final = _join(url, responses.redirects[-1][1]).split("?", 1)[0]
        new_base = final[: -len("/responses")] if final.rstrip("/").endswith("/responses") else None
        fix = f'base_url = "{redact_text(new_base)}"' if new_base else None
        if responses.method_changed:
            out.append(
                Finding(
                    "net.redirect",
                    "fail",
                    f"POST {shown} is redirected (HTTP {code} to {_shown(_join(url, location))}); Codex follows a {code} "
                    "as a GET without the request, and the turn fails",
                    provider=pid,
                    fix=fix or "point base_url at the address the server redirects to",
                )
            )
        else:
            out.append(
                Finding(
                    "net.redirect",
                    "ok",
                    f"POST {shown} is redirected (HTTP {code} to {_shown(_join(url, location))}); Codex follows it with the same request",
                    provider=pid,
                    fix=fix,
                )
            )
    return out


# Public names for the model-list rules, used by `codexprov models` (codexprov/served_models.py).
model_ids = _model_ids
serves = _serves
