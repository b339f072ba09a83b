"""The doctor's live probe (`doctor --live`): one real streamed Responses turn with a tiny function
tool, shaped as the installed Codex shapes it, and what the SSE stream says about it.
"""

from __future__ import annotations

import time
from typing import Any

from codexprov.doctor.findings import Finding, ProviderTarget
from codexprov.doctor.transport import Answer, SseParser, Transport, one_line, terminal_text

# A real model may take several seconds to its first token; the probes' timeout is too short for it.
LIVE_MIN_TIMEOUT = 30.0
LIVE_TOOL = "ping"


async def live_turn(prober: Transport, target: ProviderTarget, url: str) -> Finding:
    """One real streamed turn shaped as Codex's (target.request: the Responses-Lite header, the
    tool types, as tiny stand-ins): time to first event, did a call come back. When the server
    refuses it, find which parts it refuses (codex.request / catalog.REQUEST_PARTS) and say so."""
    import asyncio

    import httpx

    from codexprov.codex.request import from_catalog

    pid = target.id
    plan = target.request or from_catalog(target.model, None, {})
    limit = max(prober.timeout, LIVE_MIN_TIMEOUT)
    headers, body = _live_request(prober, target, plan, ())
    wants_call = bool(body.get("tools"))
    start = time.monotonic()
    state = SseState(wants_call=wants_call)
    try:
        async with asyncio.timeout(limit):
            async with _open_stream(prober, target, url, headers, body, limit) as response:
                if response.status_code >= 400:
                    await response.aread()
                    text = Answer(status=response.status_code, body=response.content).server_text()
                    message = f"a streamed Responses request failed: HTTP {response.status_code}: {text}"
                    refused: tuple[str, ...] = ()
                    if response.status_code in (400, 422) and plan.parts():
                        refused = await refused_parts(prober, target, url, plan, limit)
                    if refused:
                        return _refusal_finding(pid, target.model, plan, refused, message)
                    return Finding("net.live", "fail", message, provider=pid)
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
            f"the streamed request broke off: {one_line(type(err).__name__ + ': ' + str(err))}",
            provider=pid,
        )
    return state.finding(pid, limit, time.monotonic() - start)


def _open_stream(
    prober: Transport, target: ProviderTarget, url: str, headers: dict[str, Any], body: dict[str, Any], limit: float
) -> Any:
    """The streamed POST the live probe and each refusal test send (`async with` it)."""
    import httpx

    return prober.client.stream(
        "POST", url, params=target.query_params or None, headers=headers, json=body, timeout=httpx.Timeout(limit)
    )


def _live_request(
    prober: Transport, target: ProviderTarget, plan: Any, leave_out: tuple[str, ...]
) -> tuple[dict[str, Any], dict[str, Any]]:
    from codexprov.codex.wire import request_shape

    shape_headers, shape = request_shape(plan, prober.codex_version, leave_out=leave_out)
    ask = (
        f"Call the `{LIVE_TOOL}` tool once, with no arguments."
        if shape.get("tools")
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
    return {**shape_headers, **target.headers}, body


async def refused_parts(
    prober: Transport, target: ProviderTarget, url: str, plan: Any, limit: float
) -> tuple[str, ...]:
    """Which request parts the server refuses, each tried alone on a request without the others
    (a refusal comes back at once, before any model runs). When it refuses the Responses-Lite
    header, the tool types Codex sends without it are tried too: taking Lite out brings them.
    Empty when the request without any of them is refused as well (the refusal is about
    something else)."""
    import asyncio
    import dataclasses

    import httpx

    async def refused(probe: Any, leave_out: tuple[str, ...]) -> bool | None:
        headers, body = _live_request(prober, target, probe, leave_out)
        try:
            async with asyncio.timeout(limit):
                async with _open_stream(prober, target, url, headers, body, limit) as response:
                    return response.status_code in (400, 422)
        except (TimeoutError, httpx.HTTPError):
            return None

    parts = plan.parts()
    if await refused(plan, parts) is not False:
        return ()
    found = [p for p in parts if await refused(plan, tuple(q for q in parts if q != p))]
    if "responses_lite" in found:
        body = {k: v for k, v in plan.body.items() if k not in ("reasoning", "text", "parallel_tool_calls")}
        for part in ("web_search", "namespace", "custom"):
            if part not in found:
                probe = dataclasses.replace(plan, lite=False, tool_types=("function", part), body=body)
                if await refused(probe, ()):
                    found.append(part)
    return tuple(found)


_PART_TEXT = {
    "responses_lite": "the Responses-Lite header",
    "web_search": "`web_search` tools",
    "namespace": "`namespace` tools",
    "custom": "freeform (`custom`) tools",
}


def _refusal_finding(pid: str, model: str | None, plan: Any, refused: tuple[str, ...], message: str) -> Finding:
    """net.live failed because the server refuses parts of Codex's request: say which, and offer the
    settings that take them out (doctor --fix writes them)."""
    from codexprov.doctor.findings import FixKind

    what = ", ".join(_PART_TEXT[p] for p in refused)
    return Finding(
        "net.live",
        "fail",
        f"{message}; the server refuses {what}, which Codex sends with {model} ({plan.source})",
        provider=pid,
        fix=f"codexprov doctor --live --fix  (sets what takes out {what}; `--dry-run` shows it first)",
        fix_kind=FixKind.GATEWAY_SETTINGS,
        refused=refused,
    )


class SseState:
    """Reads a Responses SSE stream line by line and remembers what matters to the doctor."""

    def __init__(self, *, wants_call: bool = True) -> None:
        self.wants_call = wants_call
        self.first_event: float | None = None
        self.parser = SseParser()
        self.completed = False
        self.terminal: str | None = None  # "failed" | "incomplete" | "error": how the stream ended otherwise
        self.error_text = ""
        self.calls: list[str] = []
        self.events = 0
        self.done = False
        self.timed_out = False

    def feed(self, line: str, at: float) -> None:
        event = self.parser.feed(line)
        if event is None:
            return
        kind, payload = event
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
            self.error_text = one_line(terminal_text(payload))

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
            f"a turn completed in {total * 1000:.0f} ms ({first}); function call `{one_line(self.calls[0])}` came back",
            provider=pid,
        )
