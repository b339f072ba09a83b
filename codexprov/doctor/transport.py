"""The doctor's HTTP transport: one request the way Codex's HTTP client makes it (redirects,
retries after a 429 or a 5xx, one shared deadline), the answer it got, and the URL helpers.

What the answers mean is `doctor.network`'s job; the live streamed turn is `doctor.live`'s.
httpx is imported inside the functions that use it: the rest of codexprov must not pay for it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from codexprov.doctor.findings import ProviderTarget
from codexprov.redact import redact_text

# Waits before asking again after a 429 rate limit or a 5xx (Codex retries those, with backoff).
RETRY_WAITS = (0.25, 0.5)


def retry_waits(retries: int) -> tuple[float, ...]:
    """The waits of Codex's own retries: `request_max_retries` of them (default 4), 200 ms doubling
    (Codex adds ±10% jitter). A limit that clears within them clears for Codex too; one that outlasts
    them fails Codex's turn."""
    return tuple(0.2 * 2**i for i in range(max(0, min(retries, 6))))


_MAX_SERVER_TEXT = 160


@dataclass(frozen=True)
class Answer:
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
        return one_line(text)


class SseParser:
    """Server-sent events, line by line, as a Responses stream sends them: `event:` and `data:`
    lines, a blank line ends an event, `:` lines are comments. The one reader of the doctor's
    streams (the default streamed request, doctor.stream, and --live's turn, doctor.live)."""

    def __init__(self) -> None:
        self.data: list[str] = []
        self.event: str | None = None

    def feed(self, line: str) -> tuple[str, dict[str, Any]] | None:
        """The event this line completes, as (its type, its JSON payload); None when none ends here.
        `data: [DONE]` ends no event; data that is not a JSON object reads as an empty payload,
        typed by its `event:` line."""
        if line.startswith(":"):
            return None
        if line == "":
            return self._dispatch()
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self.event = value
        elif name == "data":
            self.data.append(value)
        return None

    def _dispatch(self) -> tuple[str, dict[str, Any]] | None:
        if not self.data and self.event is None:
            return None
        raw = "\n".join(self.data)
        name, self.data, self.event = self.event, [], None
        if raw.strip() == "[DONE]":
            return None
        try:
            payload = json.loads(raw) if raw else {}
        except ValueError:
            payload = {}
        if not isinstance(payload, dict):
            payload = {}
        return str(payload.get("type") or name or ""), payload


def terminal_text(payload: dict[str, Any]) -> str:
    """What a `response.failed` / `response.incomplete` / `error` event says went wrong."""
    response = got if isinstance(got := payload.get("response"), dict) else payload
    err = response.get("error") or response.get("incomplete_details") or response.get("message") or ""
    if isinstance(err, dict):
        err = err.get("message") or err.get("reason") or json.dumps(err)
    return str(err)


def one_line(text: str) -> str:
    text = " ".join(str(text).split())
    if len(text) > _MAX_SERVER_TEXT:
        text = text[: _MAX_SERVER_TEXT - 1] + "…"
    return redact_text(text)


def base_root(base_url: str) -> str:
    """The base URL the routes hang off. One that already ends in a route is a static finding;
    probing `…/responses/responses` would only repeat it, so the route is dropped here."""
    root = base_url.strip().rstrip("/")
    for suffix in ("/responses", "/chat/completions"):
        if root.endswith(suffix):
            return root[: -len(suffix)]
    return root


def shown_url(url: str) -> str:
    """A URL fit to print: no query string (some providers take a key there), redacted."""
    return redact_text(url.split("?", 1)[0])


# Modules httpx and httpcore import that the probes never use: trio (httpcore imports it whenever it
# is installed, ~125 ms; the probes run on asyncio) and httpx's own command line (`httpx._main`:
# click, rich and pygments, ~40 ms, for the `httpx` console script).
_NOT_NEEDED = ("trio", "httpx._main")


def import_httpx() -> Any:
    """httpx, without what the probes never use (_NOT_NEEDED). The block lasts only while httpx and
    httpcore are first imported: httpx falls back to a stub `main` when its command line is missing."""
    import contextlib
    import sys

    if "httpx" in sys.modules:
        import httpx

        return httpx
    blocked = [name for name in _NOT_NEEDED if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # makes `import name` raise ImportError
    try:
        import httpx

        # Where httpcore looks for trio, loaded lazily on the first request otherwise; another httpcore
        # layout only costs the import time.
        with contextlib.suppress(ImportError):
            import httpcore._synchronization  # noqa: F401 - imported for its side effect, under the block
    finally:
        for name in blocked:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
    _absent_for_good("sniffio")
    return httpx


def _absent_for_good(name: str) -> None:
    """httpcore asks `import sniffio` on every lock it makes (well over a hundred per doctor run)
    and falls back to asyncio when it is missing; a failed import is not remembered, so each one
    searches sys.path again (~4 ms in all). When the module is not installed, say so once: the
    imports then fail at once, with the same ImportError."""
    import importlib.util
    import sys

    if name not in sys.modules and importlib.util.find_spec(name) is None:
        sys.modules[name] = None  # type: ignore[assignment]


def tls_context(targets: list[ProviderTarget]) -> Any:
    """No https target: a context that trusts nothing (a redirect to https then fails closed)
    instead of loading the CA bundle (~55 ms). Otherwise httpx's default verification."""
    import ssl

    if any(t.base_url.strip().lower().startswith("https:") for t in targets):
        return True
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class Transport:
    """An httpx client, the probes' timeout and the Codex version the requests speak for."""

    def __init__(self, client: Any, timeout: float, codex_version: str | None = None) -> None:
        self.client = client
        self.timeout = timeout
        self.codex_version = codex_version

    async def request(self, method: str, url: str, target: ProviderTarget, deadline: float, body: Any = None) -> Answer:
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
            new_url = join_url(url, location)
            if answer.status in (301, 302, 303) and method == "POST":
                method, body, changed = "GET", None, True
            if origin(new_url) != origin(url):
                headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            url, params = new_url, None  # the Location carries its own query
        return Answer(
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
    ) -> tuple[Answer, str | None]:
        import asyncio

        import httpx

        left = deadline - time.monotonic()
        if left <= 0:
            return Answer(error="timeout"), None
        start = time.monotonic()
        try:
            response = await asyncio.wait_for(
                self.client.request(
                    method, url, params=params, headers=headers, json=body, timeout=httpx.Timeout(left)
                ),
                left,
            )
        except (TimeoutError, httpx.TimeoutException):
            return Answer(error="timeout", elapsed=time.monotonic() - start), None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as err:
            return Answer(error="invalid-url", detail=one_line(str(err))), None
        except httpx.ConnectError as err:
            return Answer(error=_connect_kind(err), detail=_connect_detail(err), elapsed=time.monotonic() - start), None
        except httpx.HTTPError as err:
            return Answer(
                error="other", detail=one_line(f"{type(err).__name__}: {err}"), elapsed=time.monotonic() - start
            ), None
        location = response.headers.get("location") if response.status_code in (301, 302, 303, 307, 308) else None
        answer = Answer(
            status=response.status_code,
            body=response.content,
            elapsed=time.monotonic() - start,
            retry_after=response.headers.get("retry-after"),
        )
        return answer, location

    async def asked_again(
        self, method: str, url: str, target: ProviderTarget, deadline: float, first: Answer, body: Any
    ) -> Answer:
        """Ask again after a 429 rate limit or a 5xx, as Codex retries them (its waits, within the deadline)."""
        import asyncio
        import dataclasses

        answer, attempts = first, 1
        for wait in retry_waits(target.request_retries):
            if not answer.transient or time.monotonic() + wait >= deadline:
                break
            if answer.status == 429 and not target.retries_rate_limit:
                break  # this Codex ends the turn on the first 429
            await asyncio.sleep(wait)
            answer = await self.request(method, url, target, deadline, body=body)
            attempts += 1
        return dataclasses.replace(answer, attempts=attempts, first_status=first.status)


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
            return one_line(getattr(cause, "reason", None) or str(cause))
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "the host name does not resolve"
    text = str(err).lower()
    if "unreachable" in text:
        return "network unreachable"
    return one_line(str(err) or type(err).__name__)


def is_http_url(url: str) -> bool:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False


def is_loopback(url: str) -> bool:
    from urllib.parse import urlsplit

    host = (urlsplit(url).hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


def origin(url: str) -> tuple[str, str, int | None]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


def join_url(url: str, location: str) -> str:
    from urllib.parse import urljoin

    return urljoin(url, location)
