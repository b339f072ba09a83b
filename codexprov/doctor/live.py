"""The doctor's live probe (`doctor --live`): one real streamed Responses turn with a tiny function
tool, shaped as the installed Codex shapes it, and what the SSE stream says about it.
"""

from __future__ import annotations

import json
import time
from typing import Any

from codexprov.doctor.findings import Finding, ProviderTarget
from codexprov.doctor.transport import Answer, Transport, one_line

# A real model may take several seconds to its first token; the probes' timeout is too short for it.
LIVE_MIN_TIMEOUT = 30.0
LIVE_TOOL = "ping"


async def live_turn(prober: Transport, target: ProviderTarget, url: str) -> Finding:
    """One real streamed turn with a tiny function tool: time to first event, did a call come back."""
    import asyncio

    import httpx

    from codexprov.codex.wire import request_shape

    pid = target.id
    limit = max(prober.timeout, LIVE_MIN_TIMEOUT)
    shape_headers, shape = request_shape(target.model, prober.codex_version)
    wants_call = bool(shape.get("tools"))
    ask = (
        f"Call the `{LIVE_TOOL}` tool once, with no arguments." if wants_call else "Answer with the single word: pong."
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
    state = SseState(wants_call=wants_call)
    try:
        async with asyncio.timeout(limit):
            async with prober.client.stream(
                "POST",
                url,
                params=target.query_params or None,
                headers=headers,
                json=body,
                timeout=httpx.Timeout(limit),
            ) as response:
                if response.status_code >= 400:
                    await response.aread()
                    text = Answer(status=response.status_code, body=response.content).server_text()
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
            f"the streamed request broke off: {one_line(type(err).__name__ + ': ' + str(err))}",
            provider=pid,
        )
    return state.finding(pid, limit, time.monotonic() - start)


class SseState:
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
            self.error_text = one_line(str(err))

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
