"""What Codex puts on the wire for a provider: which base URLs and header values it can send, and
what its Responses requests look like per model. `add` refuses what Codex could not send; the
doctor judges and probes with the same rules, so the two never disagree.

Verified with Codex 0.169.0 and a logging server on 127.0.0.1 (see tests/test_doctor_verdicts_codex.py):
- A header whose name is not an HTTP token (`X Org`, `X-Colon:`) or whose value holds a control
  byte other than tab (a newline) is dropped silently, and the turn goes on without it. Non-ASCII
  bytes are sent as UTF-8. The same holds for `env_http_headers` and for the key: an env var
  holding a newline means no Authorization header at all.
- The key from `env_key` is sent byte for byte (`Bearer ` + the value: spaces, quotes, a `Bearer `
  prefix are all sent); the output of an auth command is trimmed of surrounding whitespace first.
- What a turn carries per model (the Responses-Lite header, the tool types) is not kept here: it
  comes from the installed Codex (`codex.request`, `codex.catalog`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from codexprov.codex.capabilities import NEWEST_VERIFIED, format_version

if TYPE_CHECKING:
    from codexprov.codex.request import RequestPlan

# RFC 9110 token characters: what the `http` crate accepts in a header name.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
RESPONSES_LITE_HEADER = "X-OpenAI-Internal-Codex-Responses-Lite"


def header_name_problem(name: str) -> str | None:
    """Why Codex cannot send a header with this name (None: it can)."""
    if not name:
        return "the name is empty"
    if not _TOKEN.fullmatch(name):
        bad = next(c for c in name if not _TOKEN.fullmatch(c))
        return f"the name holds {_describe(bad)}, which no HTTP header name may"
    return None


def header_value_problem(value: str) -> str | None:
    """Why Codex cannot send this header value (None: it can): a control byte other than tab."""
    for char in value:
        code = ord(char)
        if (code < 32 and char != "\t") or code == 127:
            return f"the value holds {_describe(char)}"
    return None


def _describe(char: str) -> str:
    names = {"\n": "a newline", "\r": "a carriage return", " ": "a space", "\t": "a tab", "\x00": "a NUL byte"}
    return names.get(char, f"`{char}`" if char.isprintable() else f"the control byte {ord(char):#04x}")


def base_url_problem(url: str) -> str | None:
    """Why Codex cannot use this base URL (None: an http(s) URL with a host)."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError as err:
        return f"it is not a URL ({err})"
    if parts.scheme.lower() not in ("http", "https"):
        if not parts.scheme or "." in parts.scheme or parts.scheme.isdigit():
            return "it has no scheme: write http:// or https:// in front"
        return f"Codex speaks only http and https, not {parts.scheme}://"
    if not host:
        return "it has no host"
    return None


def key_sent(value: str, source: str) -> str:
    """What Codex puts after `Bearer `: the env var byte for byte; an auth command's output trimmed."""
    return value if source == "env" else value.strip()


def key_problems(sent: str) -> list[str]:
    """What makes a provider refuse this key as Codex sends it (empty: nothing suspicious)."""
    problems = []
    unsendable = header_value_problem(sent)
    if unsendable is not None:
        problems.append(
            unsendable.replace("the value holds", "it holds") + ", so Codex sends no Authorization header at all"
        )
    elif sent != sent.strip():
        problems.append("it has whitespace around it, which Codex sends as part of the key")
    inner = sent.strip()
    if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "\"'":
        problems.append("it is wrapped in quotes, which Codex sends as part of the key")
    if inner.lower().startswith("bearer "):
        problems.append("it starts with `Bearer `, so Codex sends `Bearer Bearer …`")
    return problems


def authorization_value(sent: str) -> str | None:
    """The Authorization header a server receives for this key (None: Codex sends none). Servers
    drop whitespace around a header value, so trailing whitespace never reaches them."""
    if header_value_problem(sent) is not None:
        return None
    return f"Bearer {sent}".rstrip(" \t")


def request_shape(
    plan: RequestPlan, codex_version: str | None = None, *, leave_out: Collection[str] = ()
) -> tuple[dict[str, str], dict[str, object]]:
    """(headers, body fields) of the Codex turn `plan` describes (codex.request: captured from the
    installed Codex, or read from its catalog), as `doctor --live` sends them: the tools are tiny
    stand-ins of the same types, so a gateway that refuses a type (or the Responses-Lite header)
    refuses the probe too. `leave_out` drops request parts (catalog.REQUEST_PARTS; `tool_search`
    goes with `namespace`, as `[features] multi_agent = false` takes both out), to find which one a
    server refuses. Per-request ids are fresh uuids."""

    session = str(uuid.uuid4())
    version = codex_version or format_version(NEWEST_VERIFIED)
    headers = {
        "Accept": "text/event-stream",
        "originator": "codex_exec",
        "User-Agent": f"codex_exec/{version} (codexprov doctor --live)",
        "session-id": session,
        "x-client-request-id": session,
    }
    lite = plan.lite and "responses_lite" not in leave_out
    if lite:
        headers[RESPONSES_LITE_HEADER] = "true"
    empty = {"type": "object", "properties": {}, "additionalProperties": False}
    stand_ins: dict[str, dict[str, object]] = {
        "function": {
            "type": "function",
            "name": PROBE_TOOL,
            "description": "Answers pong. Takes no arguments.",
            "strict": False,
            "parameters": empty,
        },
        "namespace": {
            "type": "namespace",
            "name": "codexprov_probe",
            "description": "Probe tools.",
            "tools": [
                {
                    "type": "function",
                    "name": "noop",
                    "description": "Does nothing.",
                    "strict": False,
                    "parameters": empty,
                }
            ],
        },
        "custom": {
            "type": "custom",
            "name": "echo",
            "description": "Echoes its input. A FREEFORM tool.",
            "format": {"type": "text"},
        },
        "tool_search": {
            "type": "tool_search",
            "execution": "client",
            "description": "Searches deferred tools.",
            "parameters": {
                "type": "object",
                "properties": {"query": {"type": "string"}},
                "required": ["query"],
                "additionalProperties": False,
            },
        },
        "web_search": {"type": "web_search", "external_web_access": False},
    }
    dropped = set(leave_out) | ({"tool_search"} if "namespace" in leave_out else set())
    body: dict[str, object] = {
        "tool_choice": "auto",
        "parallel_tool_calls": not plan.lite,
        "store": False,
        "include": ["reasoning.encrypted_content"],
        **{k: v for k, v in plan.body.items() if k in ("tool_choice", "parallel_tool_calls", "store", "include")},
        "prompt_cache_key": session,
    }
    tools = [stand_ins.get(t, stand_ins["function"]) for t in plan.tool_types if t not in dropped]
    if tools:
        body["tools"] = list({id(t): t for t in tools}.values())
    for key in ("reasoning", "text"):
        if key in plan.body:
            body[key] = plan.body[key]
    return headers, body


PROBE_TOOL = "ping"
