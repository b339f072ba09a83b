"""Loopback stand-ins for the APIs the bridge speaks to upstream, with a tool turn built in.

`ToolTurnServer` answers two APIs, on the same port:
- OpenAI Chat Completions (`POST {prefix}/chat/completions`, streamed or not): the API LiteLLM's
  OpenAI-compatible providers (`custom_openai/`, `gemini/`, `mistral/`, `deepseek/`, `cerebras/` with an
  `api_base`) call. It has no `/responses` route: it is a chat-only endpoint.
- The Anthropic Messages API (`POST /v1/messages`, streamed or not): what LiteLLM's `anthropic/` calls.
- The Gemini API (`POST /v1beta/models/MODEL:generateContent`, or `:streamGenerateContent?alt=sse`):
  what LiteLLM's `gemini/` calls with `api_base` = `http://127.0.0.1:PORT/v1beta`.

Each conversation goes the way a real agent turn does: when no tool result is in the request yet, the
answer is a call of Codex's shell tool (`exec_command`, or `shell` for older Codex) running
`echo bridge-tool-$((6*7))`; once the tool's output comes back, the answer is text quoting it. So a
reply of `tool said: bridge-tool-42` proves that Codex ran the command (the model never wrote "42")
and that the output travelled back through the bridge.

The key must arrive as `Authorization: Bearer KEY` (chat), `x-api-key: KEY` (Anthropic) or
`x-goog-api-key: KEY` (Gemini) when
`expected_key` is set. Requests are recorded like FakeServer's.

Each API lists `models` in its own shape: `GET {prefix}/models` (OpenAI's `data`), Anthropic's
`GET /v1/models` (asked with `x-api-key` and `anthropic-version`; `data` of `type: model` with a
`display_name`), and Gemini's `GET /v1beta/models` (`models` of `models/NAME` with their token limits and
generation methods, plus one embedding model that generates nothing).

Reasoning (`tool_steps=2` makes a multi-step turn: two tool calls, then `tool said: A, B`):
- Anthropic: a request with `thinking` enabled gets a `thinking` block (with a signature this server
  issued) before each `tool_use`, and, as Anthropic does, a 400 ("Expected `thinking` or
  `redacted_thinking`, but found `tool_use`…") when the last assistant message of the conversation
  has a `tool_use` that does not start with a thinking block carrying one of those signatures.
- Chat Completions: a request with `reasoning_effort` (or any request, with `always_reason=True`, as a
  reasoning-only model answers) gets `reasoning_content` with each answer, and,
  as DeepSeek's thinking mode does within a tool loop, a 400 when an assistant message with
  `tool_calls` comes back without its `reasoning_content`.
Refusals are counted in `reasoning_refusals`.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

from tests.fake_server import FakeServer, RecordedRequest, _error, _json

TOOL_COMMAND = "echo bridge-tool-$((6*7))"
TOOL_OUTPUT = "bridge-tool-42"
# With tool_steps=2 the second call runs this (a multi-step turn: two tool calls, then the answer).
STEP_COMMANDS = (TOOL_COMMAND, "echo bridge-step-$((3*3))")
STEP_OUTPUTS = (TOOL_OUTPUT, "bridge-step-9")
THINKING_TEXT = "I should run the check command."
GEMINI_ROUTE = re.compile(r"^/v1beta/models/(?P<model>[^/:]+):(?P<method>generateContent|streamGenerateContent)$")


def final_text(tool_output: str) -> str:
    return f"tool said: {tool_output}"


class ToolTurnServer(FakeServer):
    def __init__(
        self, *, expected_key: str | None = None, tool_steps: int = 1, always_reason: bool = False, **options: Any
    ) -> None:
        super().__init__(responses_route=False, expected_key=expected_key, **options)
        self.tool_steps = tool_steps
        # Chat: reason (and enforce the rule) whether or not the request asks, as a reasoning-only
        # model (deepseek-reasoner) does.
        self.always_reason = always_reason
        self.signatures: set[str] = set()
        self.reasoning_refusals: list[str] = []

    def _next_call(self, outputs: list[str]) -> int | None:
        """Which tool call comes next (0-based), or None when the answer is due."""
        return len(outputs) if len(outputs) < self.tool_steps else None

    # -- routing -------------------------------------------------------------------------------

    def _answer(self, req: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        if req.method == "GET" and req.path == "/v1/models" and "x-api-key" in req.headers:
            return self._anthropic_models(req)
        if req.method == "GET" and req.path == "/v1beta/models":
            return self._gemini_models(req)
        if req.method == "POST" and req.path == "/v1/messages":
            if (refused := self._anthropic_refused(req)) is not None:
                return refused
            return self._messages(req.body)
        gemini = GEMINI_ROUTE.match(req.path) if req.method == "POST" else None
        if gemini is not None:
            if (refused := self._gemini_refused(req)) is not None:
                return refused
            return self._gemini(req.body, gemini["model"], stream=gemini["method"] == "streamGenerateContent")
        return super()._answer(req)

    # -- the key each API expects --------------------------------------------------------------

    def _anthropic_refused(self, req: RecordedRequest) -> tuple[int, dict[str, str], bytes] | None:
        """Anthropic's answer to a missing or wrong `x-api-key` (None: the key is right)."""
        if self.expected_key is None or req.headers.get("x-api-key") == self.expected_key:
            return None
        body = {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}
        return _json(401, body)

    def _gemini_refused(self, req: RecordedRequest) -> tuple[int, dict[str, str], bytes] | None:
        """Gemini's answer to a missing or wrong `x-goog-api-key`: 400 API_KEY_INVALID (None: right)."""
        if self.expected_key is None or req.headers.get("x-goog-api-key") == self.expected_key:
            return None
        body = {
            "error": {
                "code": 400,
                "message": "API key not valid. Please pass a valid API key.",
                "status": "INVALID_ARGUMENT",
            }
        }
        return _json(400, body)

    # -- model lists ---------------------------------------------------------------------------

    def _anthropic_models(self, req: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        if (refused := self._anthropic_refused(req)) is not None:
            return refused
        if not req.headers.get("anthropic-version"):
            body = {
                "type": "error",
                "error": {"type": "invalid_request_error", "message": "anthropic-version: header is required"},
            }
            return _json(400, body)
        data = [
            {
                "type": "model",
                "id": m,
                "display_name": m.replace("-", " ").title(),
                "created_at": "2026-01-01T00:00:00Z",
            }
            for m in self.models
        ]
        return _json(200, {"data": data, "has_more": False, "first_id": self.models[0], "last_id": self.models[-1]})

    def _gemini_models(self, req: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        if (refused := self._gemini_refused(req)) is not None:
            return refused
        models: list[dict[str, Any]] = [
            {
                "name": f"models/{m}",
                "displayName": m,
                "inputTokenLimit": 1048576,
                "outputTokenLimit": 65536,
                "supportedGenerationMethods": ["generateContent", "countTokens"],
                "thinking": True,
            }
            for m in self.models
        ]
        models.append({"name": "models/text-embedding-004", "supportedGenerationMethods": ["embedContent"]})
        return _json(200, {"models": models})

    # -- Gemini --------------------------------------------------------------------------------

    def _gemini(self, body: Any, model: str, *, stream: bool) -> tuple[int, dict[str, str], bytes]:
        if not isinstance(body, dict) or "contents" not in body:
            return _json(400, {"error": {"code": 400, "message": "contents is required", "status": "INVALID_ARGUMENT"}})
        # LiteLLM writes the snake_case spelling, which the API accepts as well as camelCase.
        outputs = [
            json.dumps((part.get("functionResponse") or part.get("function_response") or {}).get("response"))
            for content in body["contents"]
            for part in content.get("parts", [])
            if isinstance(part, dict) and ("functionResponse" in part or "function_response" in part)
        ]
        if outputs:
            part: dict[str, Any] = {"text": final_text(_found(outputs[-1]))}
        else:
            names = [
                d.get("name")
                for tool in body.get("tools") or []
                for d in tool.get("functionDeclarations") or tool.get("function_declarations") or []
            ]
            tool = _shell_tool(names)
            part = {"functionCall": {"name": tool, "args": _shell_arguments(tool)}}
        reply = {
            "candidates": [{"content": {"role": "model", "parts": [part]}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 2, "totalTokenCount": 12},
            "modelVersion": model,
        }
        if not stream:
            return _json(200, reply)
        return 200, {"Content-Type": "text/event-stream"}, b"data: " + json.dumps(reply).encode() + b"\n\n"

    # -- Chat Completions ----------------------------------------------------------------------

    def _chat(self, body: Any) -> tuple[int, dict[str, str], bytes]:
        if not isinstance(body, dict) or "messages" not in body or "model" not in body:
            return _json(400, _error("model and messages are required", type_="invalid_request_error", code=None))
        reasoning = self.always_reason or bool(body.get("reasoning_effort"))
        if reasoning:
            for index, m in enumerate(body["messages"]):
                lost = isinstance(m, dict) and m.get("role") == "assistant" and m.get("tool_calls")
                if lost and not m.get("reasoning_content"):
                    message_ = f"Missing `reasoning_content` field in the assistant message at message index {index}"
                    self.reasoning_refusals.append(message_)
                    return _json(400, _error(message_, type_="invalid_request_error", code="invalid_request_error"))
        outputs = _chat_tool_outputs(body["messages"])
        step = self._next_call(outputs)
        common = {"id": "chatcmpl-" + uuid.uuid4().hex[:24], "created": int(time.time()), "model": body["model"]}
        if step is not None:
            tool = _shell_tool([(t.get("function") or {}).get("name") for t in body.get("tools") or []])
            call = {
                "id": "call_" + uuid.uuid4().hex[:24],
                "type": "function",
                "function": {"name": tool, "arguments": json.dumps(_shell_arguments(tool, step))},
            }
            message: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": [call]}
            finish = "tool_calls"
        else:
            message = {"role": "assistant", "content": final_text(", ".join(outputs))}
            finish = "stop"
        if reasoning:
            message["reasoning_content"] = THINKING_TEXT
        usage = {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}
        if not body.get("stream"):
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
            {**common, "object": "chat.completion.chunk", "choices": [], "usage": usage},
        ]
        payload = b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"
        return 200, {"Content-Type": "text/event-stream"}, payload

    # -- Anthropic Messages --------------------------------------------------------------------

    def _messages(self, body: Any) -> tuple[int, dict[str, str], bytes]:
        if not isinstance(body, dict) or "messages" not in body or "model" not in body:
            err = {
                "type": "error",
                "error": {"type": "invalid_request_error", "message": "model and messages are required"},
            }
            return _json(400, err)
        thinking = (body.get("thinking") or {}).get("type") in ("enabled", "adaptive")
        if thinking:
            refusal = self._thinking_refusal(body["messages"])
            if refusal is not None:
                self.reasoning_refusals.append(refusal)
                return _json(400, {"type": "error", "error": {"type": "invalid_request_error", "message": refusal}})
        outputs = _anthropic_tool_outputs(body["messages"])
        step = self._next_call(outputs)
        if step is not None:
            tool = _shell_tool([t.get("name") for t in body.get("tools") or []])
            block: dict[str, Any] = {
                "type": "tool_use",
                "id": "toolu_" + uuid.uuid4().hex[:24],
                "name": tool,
                "input": _shell_arguments(tool, step),
            }
            stop = "tool_use"
        else:
            block = {"type": "text", "text": final_text(", ".join(outputs))}
            stop = "end_turn"
        blocks = [block]
        if thinking:
            signature = "sig-" + uuid.uuid4().hex
            with self._lock:
                self.signatures.add(signature)
            blocks = [{"type": "thinking", "thinking": THINKING_TEXT, "signature": signature}, block]
        message = {
            "id": "msg_" + uuid.uuid4().hex[:24],
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": blocks,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 2},
        }
        if not body.get("stream"):
            return _json(200, message)
        block_events: list[tuple[str, dict[str, Any]]] = []
        for index, item in enumerate(blocks):
            if item["type"] == "thinking":
                start_block = {"type": "thinking", "thinking": ""}
                deltas = [
                    {"type": "thinking_delta", "thinking": item["thinking"]},
                    {"type": "signature_delta", "signature": item["signature"]},
                ]
            elif item["type"] == "tool_use":
                start_block = {**item, "input": {}}
                deltas = [{"type": "input_json_delta", "partial_json": json.dumps(item["input"])}]
            else:
                start_block = {"type": "text", "text": ""}
                deltas = [{"type": "text_delta", "text": item["text"]}]
            block_events.append(
                (
                    "content_block_start",
                    {"type": "content_block_start", "index": index, "content_block": start_block},
                )
            )
            for delta in deltas:
                block_events.append(
                    ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
                )
            block_events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        events = [
            (
                "message_start",
                {
                    "type": "message_start",
                    "message": {
                        **message,
                        "content": [],
                        "stop_reason": None,
                        "usage": {"input_tokens": 10, "output_tokens": 1},
                    },
                },
            ),
            *block_events,
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop, "stop_sequence": None},
                    "usage": {"output_tokens": 2},
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
        payload = b"".join(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events)
        return 200, {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}, payload

    def _thinking_refusal(self, messages: list[Any]) -> str | None:
        """Anthropic's rule with thinking on: the last assistant message, when it has tool_use, starts
        with a thinking block; a thinking block's signature must be one this server issued."""
        assistants = [(i, m) for i, m in enumerate(messages) if isinstance(m, dict) and m.get("role") == "assistant"]
        for index, message in assistants:
            content = message.get("content")
            for part in content if isinstance(content, list) else []:
                if isinstance(part, dict) and part.get("type") == "thinking":
                    with self._lock:
                        known = part.get("signature") in self.signatures
                    if not known:
                        return f"messages.{index}.content: Invalid `signature` in `thinking` block"
        if not assistants:
            return None
        index, last = assistants[-1]
        content = last.get("content")
        parts = content if isinstance(content, list) else [{"type": "text", "text": content}]
        uses_tool = any(isinstance(p, dict) and p.get("type") == "tool_use" for p in parts)
        first = parts[0].get("type") if parts and isinstance(parts[0], dict) else None
        if uses_tool and first not in ("thinking", "redacted_thinking"):
            return (
                f"messages.{index}.content.0.type: Expected `thinking` or `redacted_thinking`, but found `{first}`. "
                "When `thinking` is enabled, a final `assistant` message must start with a thinking block "
                "(preceeding the lastmost set of `tool_use` and `tool_result` blocks). We recommend you include "
                "thinking blocks from previous turns. To avoid this requirement, disable `thinking`."
            )
        return None

    # -- what was seen -------------------------------------------------------------------------

    def turn_requests(self) -> list[RecordedRequest]:
        """The model calls (chat or Messages) in order."""
        with self._lock:
            seen = list(self.requests)
        return [
            r
            for r in seen
            if r.method == "POST"
            and (r.path in (self.prefix + "/chat/completions", "/v1/messages") or GEMINI_ROUTE.match(r.path))
        ]


def _shell_tool(names: list[str | None]) -> str:
    for wanted in ("exec_command", "shell", "shell_command"):
        if wanted in names:
            return wanted
    return "exec_command"


def _shell_arguments(tool: str, step: int = 0) -> dict[str, Any]:
    command = STEP_COMMANDS[step]
    if tool == "shell":
        return {"command": ["bash", "-lc", command]}
    if tool == "shell_command":
        return {"command": command}
    return {"cmd": command}


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            _text_of(
                part.get("text")
                if isinstance(part, dict) and "text" in part
                else part.get("content")
                if isinstance(part, dict)
                else part
            )
            for part in content
        )
    return "" if content is None else str(content)


def _found(text: str) -> str:
    """What the tool printed, as far as the test cares: the marker when it is there."""
    for marker in STEP_OUTPUTS:
        if marker in text:
            return marker
    return text.strip()[:200]


def _chat_tool_outputs(messages: list[Any]) -> list[str]:
    return [_found(_text_of(m.get("content"))) for m in messages if isinstance(m, dict) and m.get("role") == "tool"]


def _anthropic_tool_outputs(messages: list[Any]) -> list[str]:
    outputs = []
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):
            outputs += [
                _found(_text_of(part.get("content")))
                for part in content
                if isinstance(part, dict) and part.get("type") == "tool_result"
            ]
    return outputs
