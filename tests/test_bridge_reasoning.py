"""Reasoning over tool turns through the bridge, with the real parts (LiteLLM, Codex, Secret
Service): a multi-step turn (two tool calls, then the answer) with reasoning on
(`model_reasoning_effort = "high"`), against stand-ins that enforce the upstream's rule on what must
come back with a tool call:

- the anthropic route: Anthropic refuses a follow-up whose last assistant tool call lost its
  thinking block (or whose signature is not one it issued);
- the chat route: DeepSeek's thinking mode refuses an assistant tool call sent back without its
  `reasoning_content`.

A bridge folder of its own (one LiteLLM start)."""

from __future__ import annotations

import uuid

import pytest

from codexprov.codex.capabilities import capabilities
from codexprov.codex.version import parse_version
from tests.codexrun import codex_version, run_codex
from tests.test_bridge_trust import Own
from tests.upstream_standin import STEP_OUTPUTS, THINKING_TEXT, ToolTurnServer, final_text

pytestmark = [pytest.mark.codex, pytest.mark.keyring]


@pytest.fixture
def own(tmp_path):
    setup = Own(tmp_path)
    servers: list[ToolTurnServer] = []
    yield setup, servers
    setup.codexprov("bridge", "down", timeout=60)
    for provider_id in setup.ids:
        setup.codexprov("key", "rm", provider_id, timeout=30)
    for server in servers:
        server.stop()


def _reasoning_for_unknown_models(codex_bin) -> list[str]:
    """0.133.0 sends no reasoning for a model its catalog lacks (capabilities.UNKNOWN_MODEL_REASONING_SINCE)
    unless told the model reasons; later releases send it anyway, and 0.171.0 refuses that setting."""
    if capabilities(parse_version(codex_version(codex_bin))).unknown_model_reasoning:
        return []
    return ["-c", "model_supports_reasoning_summaries=true"]


def _turn(own: Own, codex_bin, provider_id: str, model: str):
    return run_codex(
        codex_bin,
        own.home / ".codex",
        "run the check",
        args=[
            "-c",
            f"model_provider={provider_id}",
            "-c",
            f'model="{model}"',
            "-c",
            'model_reasoning_effort="high"',
            *_reasoning_for_unknown_models(codex_bin),
            "-s",
            "danger-full-access",
        ],
        env_extra=own.codex_extra(),
        timeout=240,
    )


def test_two_tool_calls_with_reasoning_on_through_both_routes(own, codex_bin):
    setup, servers = own
    tag = uuid.uuid4().hex[:6]
    routes = {}
    for recipe, model in (("anthropic", "claude-sonnet-4-5"), ("custom", "reasoner-model")):
        key = f"sk-upstream-{recipe}-{uuid.uuid4().hex}"
        server = ToolTurnServer(expected_key=key, tool_steps=2, always_reason=recipe == "custom").start()
        servers.append(server)
        provider_id = f"think-{recipe}-{tag}"
        base = server.root_url if recipe == "anthropic" else server.base_url
        args = ["add", recipe, "--id", provider_id, "--base-url", base, "--key-stdin"]
        if recipe == "custom":
            args.append("--bridge")
        added = setup.codexprov(*args, input=key + "\n")
        assert added.returncode == 0, added.stderr
        setup.ids.append(provider_id)
        routes[recipe] = (provider_id, model, server)

    results = {recipe: _turn(setup, codex_bin, pid, model) for recipe, (pid, model, _) in routes.items()}

    for recipe, proc in results.items():
        _, _, server = routes[recipe]
        assert server.reasoning_refusals == [], recipe
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert final_text(", ".join(STEP_OUTPUTS)) in proc.stdout  # tool said: bridge-tool-42, bridge-step-9
        assert len(server.turn_requests()) == 3, recipe

    # Anthropic: thinking on in every request; each assistant tool call came back behind its own
    # signed thinking block (the bridge keeps them over the stream; see bridge/serve.py).
    anthropic = routes["anthropic"][2].turn_requests()
    assert [r.body["thinking"] for r in anthropic] == [{"type": "enabled", "budget_tokens": 4096}] * 3
    for request, calls in zip(anthropic, (0, 1, 2), strict=True):
        assistants = [m for m in request.body["messages"] if m["role"] == "assistant"]
        assert len(assistants) == calls
        for message in assistants:
            kinds = [part["type"] for part in message["content"]]
            assert kinds == ["thinking", "tool_use"]
            assert message["content"][0]["thinking"] == THINKING_TEXT
            assert message["content"][0]["signature"] in routes["anthropic"][2].signatures

    # Chat: the reasoning_content of each tool call came back with it. Codex's effort does not reach
    # a custom_openai upstream (LiteLLM drops reasoning_effort there): it reasons as it does.
    chat = routes["custom"][2].turn_requests()
    assert all("reasoning_effort" not in r.body for r in chat)
    for request, calls in zip(chat, (0, 1, 2), strict=True):
        assistants = [m for m in request.body["messages"] if m["role"] == "assistant"]
        assert [m.get("reasoning_content") for m in assistants] == [THINKING_TEXT] * calls
        assert all(m["tool_calls"] for m in assistants)


def test_the_stand_in_refuses_a_tool_call_that_lost_its_thinking_block():
    import httpx

    with ToolTurnServer(tool_steps=2) as server:
        body = {
            "model": "claude-sonnet-4-5",
            "max_tokens": 100,
            "thinking": {"type": "enabled", "budget_tokens": 50},
            "messages": [
                {"role": "user", "content": "run the check"},
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": "t1", "name": "exec_command", "input": {}}],
                },
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "bridge-tool-42"}],
                },
            ],
        }
        answer = httpx.post(server.root_url + "/v1/messages", json=body, timeout=10)
    assert answer.status_code == 400
    assert answer.json()["error"]["message"].startswith(
        "messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `tool_use`."
    )
