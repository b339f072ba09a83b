"""The doctor's network checks: each status mapping with httpx.MockTransport, then the same
failure classes (and the speed targets) against real FakeServers on 127.0.0.1."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable

import httpx
import pytest

from codexprov.doctor import Finding, ProviderTarget
from codexprov.doctor.network import check_network

BASE = "https://api.example.test/v1"
KEY = "sk-test-doctor-net-000000000001"
BRIDGE_FIX = "codexprov add custom --id acme --base-url https://api.example.test/v1 --bridge --replace"
WRONG_KEY_FIX = "codexprov key set acme (or, if it reads an env var, set that variable to the right key)"


def target(**overrides) -> ProviderTarget:
    values = {
        "id": "acme",
        "base_url": BASE,
        "headers": {"Authorization": f"Bearer {KEY}"},
        "model": "m-1",
        "has_key": True,
    }
    values.update(overrides)
    return ProviderTarget(**values)


def models_list(*ids: str) -> httpx.Response:
    return httpx.Response(200, json={"object": "list", "data": [{"id": i, "object": "model"} for i in ids]})


def err(status: int, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"message": message, "type": "invalid_request_error", "code": None}})


Route = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class Mock:
    """A MockTransport that answers by (method, path) and records every request."""

    def __init__(self, routes: dict[tuple[str, str], Route]) -> None:
        self.routes = routes
        self.seen: list[httpx.Request] = []
        self.transport = httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        answer = self.routes.get((request.method, request.url.path), err(404, "Not Found"))
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        return answer


def run(routes: dict[tuple[str, str], Route], t: ProviderTarget | None = None, **kw) -> tuple[list[Finding], Mock]:
    mock = Mock(routes)
    return check_network([t or target()], transport=mock.transport, **kw), mock


def brief(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.check, f.status) for f in findings]


def by_check(findings: list[Finding], check: str, provider: str = "acme") -> Finding:
    [found] = [f for f in findings if f.check == check and f.provider == provider]
    return found


HEALTHY = {
    ("GET", "/v1/models"): models_list("m-0", "m-1"),
    ("POST", "/v1/responses"): err(400, "Missing required parameter: 'model'."),
}


# ---------------------------------------------------------------------------- mapping (MockTransport)


def test_healthy_provider_all_ok_and_probes_send_no_input() -> None:
    findings, mock = run(HEALTHY)
    assert brief(findings) == [("net.reachable", "ok"), ("net.models", "ok"), ("net.responses-route", "ok")]
    assert re.fullmatch(r"https://api\.example\.test/v1 answers \(\d+ ms\)", findings[0].message)
    assert findings[1] == Finding("net.models", "ok", "serves `m-1` (2 models listed)", provider="acme")
    assert findings[2] == Finding(
        "net.responses-route",
        "ok",
        "POST https://api.example.test/v1/responses exists (HTTP 400 to an empty probe)",
        provider="acme",
    )
    assert sorted((r.method, r.url.path) for r in mock.seen) == [("GET", "/v1/models"), ("POST", "/v1/responses")]
    post = next(r for r in mock.seen if r.method == "POST")
    assert json.loads(post.content) == {}  # no model, no input: nothing to generate, no tokens spent
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in mock.seen)


def test_query_params_and_headers_go_with_every_probe() -> None:
    t = target(query_params={"api-version": "2025-04-01-preview"}, headers={"api-key": KEY, "X-Org": "org-1"})
    findings, mock = run(HEALTHY, t)
    assert [f.status for f in findings] == ["ok", "ok", "ok"]
    for request in mock.seen:
        assert dict(request.url.params) == {"api-version": "2025-04-01-preview"}
        assert request.headers["api-key"] == KEY and request.headers["x-org"] == "org-1"
    # the query string is never shown: some providers take a key there
    assert all("api-version" not in f.message for f in findings)


@pytest.mark.parametrize("status", [401, 403])
def test_models_refusing_the_key_fails_with_the_key_fix(status: int) -> None:
    routes = {
        ("GET", "/v1/models"): err(status, f"Incorrect API key provided: {KEY}."),
        ("POST", "/v1/responses"): err(status, "Incorrect API key provided."),
    }
    findings, _ = run(routes)
    assert brief(findings) == [("net.reachable", "ok"), ("net.models", "fail"), ("net.responses-route", "ok")]
    assert findings[1] == Finding(
        "net.models",
        "fail",
        f"the key is wrong: the server refused it (HTTP {status}: Incorrect API key provided: sk-…0001.)",
        provider="acme",
        fix=WRONG_KEY_FIX,
    )
    assert findings[2].message == (
        f"POST https://api.example.test/v1/responses exists (HTTP {status}: the key problem is reported by net.models)"
    )


def test_no_key_configured_and_server_wants_one() -> None:
    routes = {
        ("GET", "/v1/models"): err(401, "You didn't provide an API key."),
        ("POST", "/v1/responses"): err(401, "no key"),
    }
    findings, mock = run(routes, target(headers={}, has_key=False))
    assert by_check(findings, "net.models") == Finding(
        "net.models",
        "fail",
        "the server wants a key and none is sent (HTTP 401: You didn't provide an API key.)",
        provider="acme",
        fix="codexprov key set acme",
    )
    assert all("authorization" not in r.headers for r in mock.seen)


@pytest.mark.parametrize("status", [404, 405])
def test_models_route_missing_is_a_skip_not_a_failure(status: int) -> None:
    findings, _ = run({**HEALTHY, ("GET", "/v1/models"): err(status, "nope")})
    assert by_check(findings, "net.models") == Finding(
        "net.models",
        "skip",
        f"net.models skipped: GET https://api.example.test/v1/models is not served (HTTP {status}), so the model could not be checked",
        provider="acme",
    )
    assert not any(f.status == "fail" for f in findings)


def test_models_server_error_warns_with_redacted_server_text() -> None:
    findings, _ = run({**HEALTHY, ("GET", "/v1/models"): err(500, f"upstream said: Authorization: Bearer {KEY}")})
    assert by_check(findings, "net.models") == Finding(
        "net.models",
        "warn",
        "GET https://api.example.test/v1/models answered HTTP 500: upstream said: Authorization: Bearer sk-…0001",
        provider="acme",
    )


def test_model_missing_from_list_fails_with_close_matches() -> None:
    """A provider Codex asks for its model list (requires_openai_auth): an unlisted model fails."""
    findings, _ = run(
        {**HEALTHY, ("GET", "/v1/models"): models_list("gpt-4o", "gpt-4o-mini", "o3")},
        target(model="gpt4o-mini", asks_models=True),
    )
    assert by_check(findings, "net.models") == Finding(
        "net.models",
        "fail",
        "`gpt4o-mini` is not among the 3 models the server lists; close: gpt-4o-mini, gpt-4o",
        provider="acme",
        fix="codexprov use acme --model gpt-4o-mini",
    )


def test_model_missing_without_close_match() -> None:
    findings, _ = run(
        {**HEALTHY, ("GET", "/v1/models"): models_list("llama-3.3-70b")}, target(model="zzz", asks_models=True)
    )
    assert by_check(findings, "net.models") == Finding(
        "net.models",
        "fail",
        "`zzz` is not among the 1 model the server lists",
        provider="acme",
        fix="codexprov use acme --model MODEL (one listed by GET https://api.example.test/v1/models)",
    )


def test_model_missing_from_list_only_warns_where_codex_never_asks() -> None:
    """An env_key provider: Codex never fetches /models, and servers serve models they do not list
    (Azure deployment names, gateway aliases); the streamed request decides, not the list."""
    findings, _ = run({**HEALTHY, ("GET", "/v1/models"): models_list("llama-3.3-70b")}, target(model="zzz"))
    assert by_check(findings, "net.models") == Finding(
        "net.models",
        "warn",
        "`zzz` is not among the 1 model the server lists; Codex does not ask for that list, so this matters only "
        "if the server does not serve it (net.stream tells)",
        provider="acme",
        fix="codexprov use acme --model MODEL (one listed by GET https://api.example.test/v1/models)",
    )


@pytest.mark.parametrize(
    "answer,model,expected",
    [
        (models_list(), "m-1", ("ok", "lists no models; `m-1` could not be checked")),
        (models_list("a", "b"), None, ("ok", "lists 2 models; no model is configured to check")),
        (
            httpx.Response(200, json={"data": [{"id": "models/gemini-2.0-flash"}]}),
            "gemini-2.0-flash",
            ("ok", "serves `gemini-2.0-flash` (1 model listed)"),
        ),
        (
            httpx.Response(200, json={"models": [{"name": "qwen3:8b"}, "llama3"]}),
            "llama3",
            ("ok", "serves `llama3` (2 models listed)"),
        ),
        (
            httpx.Response(200, text="<html>hi</html>"),
            "m-1",
            ("warn", "GET https://api.example.test/v1/models did not return a model list"),
        ),
    ],
)
def test_model_list_shapes(answer: httpx.Response, model: str | None, expected: tuple[str, str]) -> None:
    findings, _ = run({**HEALTHY, ("GET", "/v1/models"): answer}, target(model=model))
    found = by_check(findings, "net.models")
    assert (found.status, found.message) == expected


@pytest.mark.parametrize("status", [404, 405])
def test_chat_only_endpoint_gets_the_bridge_advice(status: int) -> None:
    routes = {
        ("GET", "/v1/models"): models_list("m-1"),
        ("POST", "/v1/responses"): err(status, "Not Found"),
        ("POST", "/v1/chat/completions"): err(400, "Missing required parameter: 'messages'."),
    }
    findings, mock = run(routes)
    assert by_check(findings, "net.responses-route") == Finding(
        "net.responses-route",
        "fail",
        f"no POST https://api.example.test/v1/responses (HTTP {status}): this endpoint speaks only Chat Completions, "
        "and Codex needs the Responses API; put a bridge in front",
        provider="acme",
        fix=BRIDGE_FIX,
    )
    chat = [r for r in mock.seen if r.url.path == "/v1/chat/completions"]
    assert len(chat) == 1 and json.loads(chat[0].content) == {}


def test_no_responses_and_no_chat_route() -> None:
    findings, _ = run({("GET", "/v1/models"): models_list("m-1")})
    assert by_check(findings, "net.responses-route") == Finding(
        "net.responses-route",
        "fail",
        "no POST https://api.example.test/v1/responses (HTTP 404); Codex sends every turn there",
        provider="acme",
        fix="set base_url of `acme` to the URL under which the server serves /responses (usually ending in /v1)",
    )


def test_chat_is_not_probed_when_responses_exists() -> None:
    _, mock = run(HEALTHY)
    assert not [r for r in mock.seen if r.url.path.endswith("/chat/completions")]


@pytest.mark.parametrize("status", [400, 422, 200])
def test_responses_route_exists(status: int) -> None:
    findings, _ = run({**HEALTHY, ("POST", "/v1/responses"): err(status, "bad")})
    assert by_check(findings, "net.responses-route").status == "ok"


def test_responses_refusing_key_when_models_cannot_tell() -> None:
    routes = {("GET", "/v1/models"): err(404, "no"), ("POST", "/v1/responses"): err(401, "Invalid token")}
    findings, _ = run(routes)
    assert brief(findings) == [("net.reachable", "ok"), ("net.models", "skip"), ("net.responses-route", "fail")]
    assert by_check(findings, "net.responses-route") == Finding(
        "net.responses-route",
        "fail",
        "the key is wrong: the server refused it (HTTP 401: Invalid token)",
        provider="acme",
        fix=WRONG_KEY_FIX,
    )


@pytest.mark.parametrize("status", [418, 409])
def test_responses_unclear_status_warns(status: int) -> None:
    findings, _ = run({**HEALTHY, ("POST", "/v1/responses"): err(status, "busy")})
    assert by_check(findings, "net.responses-route") == Finding(
        "net.responses-route",
        "warn",
        f"POST https://api.example.test/v1/responses answered HTTP {status} to an empty probe; cannot tell whether the route exists: busy",
        provider="acme",
    )


@pytest.mark.parametrize("suffix", ["/responses", "/responses/", "/chat/completions"])
def test_base_url_ending_in_a_route_is_not_doubled(suffix: str) -> None:
    _, mock = run(HEALTHY, target(base_url=BASE + suffix))
    assert sorted(r.url.path for r in mock.seen) == ["/v1/models", "/v1/responses"]


@pytest.mark.parametrize(
    "error,why",
    [
        (httpx.ConnectError("All connection attempts failed"), "All connection attempts failed"),
        (httpx.ReadTimeout("timed out"), "no answer within 5 s"),
        (httpx.ConnectTimeout("timed out"), "no answer within 5 s"),
    ],
)
def test_unreachable_fails_once_and_skips_the_rest(error: Exception, why: str) -> None:
    findings, _ = run({("GET", "/v1/models"): error, ("POST", "/v1/responses"): error}, live=True)
    fix = "if the server is only slow, give it longer: codexprov doctor --timeout 15" if "no answer" in why else None
    assert findings == [
        Finding("net.reachable", "fail", f"cannot reach https://api.example.test/v1: {why}", provider="acme", fix=fix),
        Finding("net.models", "skip", "net.models skipped: acme is unreachable (net.reachable)", provider="acme"),
        Finding(
            "net.responses-route",
            "skip",
            "net.responses-route skipped: acme is unreachable (net.reachable)",
            provider="acme",
        ),
        Finding("net.live", "skip", "net.live skipped: acme is unreachable (net.reachable)", provider="acme"),
    ]


def test_one_route_timing_out_is_not_unreachable() -> None:
    findings, _ = run({**HEALTHY, ("GET", "/v1/models"): httpx.ReadTimeout("slow")})
    assert brief(findings) == [("net.reachable", "ok"), ("net.models", "warn"), ("net.responses-route", "ok")]
    assert by_check(findings, "net.models").message == "GET https://api.example.test/v1/models: no answer in time"


def test_base_url_without_scheme_is_left_to_the_static_checks() -> None:
    findings, mock = run(HEALTHY, target(base_url="api.example.test/v1"))
    assert brief(findings) == [("net.reachable", "skip"), ("net.models", "skip"), ("net.responses-route", "skip")]
    assert (
        findings[0].message
        == "not probed: base URL `api.example.test/v1` is not an http(s) URL (see provider.base-url-scheme)"
    )
    assert mock.seen == []


def test_no_targets_no_findings() -> None:
    assert check_network([]) == []


def test_findings_keep_target_order() -> None:
    targets = [target(id=f"p{i}", base_url=f"https://p{i}.example.test/v1") for i in range(5)]
    mock = Mock({("GET", "/v1/models"): models_list("m-1"), ("POST", "/v1/responses"): err(400, "x")})
    findings = check_network(targets, transport=mock.transport)
    assert [f.provider for f in findings] == [f"p{i}" for i in range(5) for _ in range(3)]
    assert [f.check for f in findings[:3]] == ["net.reachable", "net.models", "net.responses-route"]


def test_a_key_echoed_by_the_server_never_reaches_a_finding() -> None:
    echo = err(401, f"Incorrect API key provided: {KEY}. Authorization: Bearer {KEY}")
    findings, _ = run({("GET", "/v1/models"): echo, ("POST", "/v1/responses"): echo}, live=True)
    dumped = json.dumps([f.to_json() for f in findings])
    assert KEY not in dumped and KEY[8:] not in dumped


def test_callable_from_inside_a_running_event_loop() -> None:
    import asyncio

    async def inner() -> list[Finding]:
        return check_network([target()], transport=Mock(HEALTHY).transport)

    assert [f.status for f in asyncio.run(inner())] == ["ok", "ok", "ok"]


# ---------------------------------------------------------------------------- --live (MockTransport)


def sse(*events: dict) -> httpx.Response:
    body = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)
    return httpx.Response(200, headers={"Content-Type": "text/event-stream"}, content=body.encode())


CALL = {
    "type": "function_call",
    "id": "fc_1",
    "call_id": "call_1",
    "name": "ping",
    "arguments": "{}",
    "status": "completed",
}
MESSAGE = {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "pong"}]}


def live_routes(stream: Route) -> dict[tuple[str, str], Route]:
    def responses(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if not body.get("input"):
            return err(400, "Missing required parameter: 'input'.")
        return stream(request) if callable(stream) else stream

    return {("GET", "/v1/models"): models_list("m-1"), ("POST", "/v1/responses"): responses}


def test_live_ok_with_function_call() -> None:
    stream = sse(
        {"type": "response.created", "response": {"id": "r1", "status": "in_progress"}},
        {"type": "response.output_item.done", "output_index": 0, "item": CALL},
        {"type": "response.completed", "response": {"id": "r1", "status": "completed", "output": [CALL]}},
    )
    findings, mock = run(live_routes(stream), live=True)
    live = by_check(findings, "net.live")
    assert live.status == "ok"
    assert re.fullmatch(
        r"a turn completed in \d+ ms \(first event after \d+ ms\); function call `ping` came back", live.message
    )
    [real] = [r for r in mock.seen if r.method == "POST" and json.loads(r.content).get("input")]
    body = json.loads(real.content)
    assert body["stream"] is True and body["model"] == "m-1" and body["tool_choice"] == "auto"
    assert [(t["type"], t.get("name")) for t in body["tools"]] == [
        ("function", "ping"),
        ("namespace", "codexprov_probe"),
        ("web_search", None),
    ]
    assert real.headers["accept"] == "text/event-stream" and real.headers["originator"] == "codex_exec"
    assert "x-openai-internal-codex-responses-lite" not in real.headers


def test_live_warns_without_function_call() -> None:
    stream = sse({"type": "response.created"}, {"type": "response.completed", "response": {"output": [MESSAGE]}})
    live = by_check(run(live_routes(stream), live=True)[0], "net.live")
    assert live.status == "warn"
    assert live.message.endswith("but no function call came back: Codex's tools may not work with this model")


def test_live_fails_without_response_completed() -> None:
    stream = sse({"type": "response.created"}, {"type": "response.output_item.done", "item": MESSAGE})
    live = by_check(run(live_routes(stream), live=True)[0], "net.live")
    assert live.status == "fail"
    assert re.fullmatch(
        r"the stream ended without response\.completed \(first event after \d+ ms, 2 events\)", live.message
    )


def test_live_fails_on_response_failed() -> None:
    stream = sse(
        {"type": "response.created"},
        {"type": "response.failed", "response": {"error": {"message": "model overloaded"}}},
    )
    live = by_check(run(live_routes(stream), live=True)[0], "net.live")
    assert live.status == "fail"
    assert re.fullmatch(
        r"the model answered with an error \(first event after \d+ ms\): model overloaded", live.message
    )


def test_live_fails_on_error_status() -> None:
    live = by_check(run(live_routes(err(404, "The model `m-1` does not exist")), live=True)[0], "net.live")
    assert live == Finding(
        "net.live",
        "fail",
        "a streamed Responses request failed: HTTP 404: The model `m-1` does not exist",
        provider="acme",
    )


def test_live_incomplete_warns() -> None:
    stream = sse(
        {"type": "response.created"},
        {"type": "response.incomplete", "response": {"incomplete_details": {"reason": "max_output_tokens"}}},
    )
    live = by_check(run(live_routes(stream), live=True)[0], "net.live")
    assert live.status == "warn" and live.message.startswith(
        "the response stopped incomplete (max_output_tokens); first event after "
    )


def test_live_parses_data_only_sse_and_done_marker() -> None:
    body = (
        f"data: {json.dumps({'type': 'response.created'})}\n\n: a comment\n\n"
        f"data: {json.dumps({'type': 'response.completed', 'response': {'output': [CALL]}})}\n\ndata: [DONE]\n\n"
    )
    stream = httpx.Response(200, headers={"Content-Type": "text/event-stream"}, content=body.encode())
    assert by_check(run(live_routes(stream), live=True)[0], "net.live").status == "ok"


@pytest.mark.parametrize(
    "routes,t,message",
    [
        (
            {("GET", "/v1/models"): models_list("m-1")},
            target(),
            "net.live skipped: no /responses route to call (net.responses-route)",
        ),
        (
            {("GET", "/v1/models"): err(401, "no"), ("POST", "/v1/responses"): err(401, "no")},
            target(),
            "net.live skipped: the key was refused",
        ),
        (HEALTHY, target(model=None), "net.live skipped: no model is configured for this provider"),
    ],
)
def test_live_skipped_when_it_cannot_work(routes, t, message: str) -> None:
    findings, mock = run(routes, t, live=True)
    assert by_check(findings, "net.live") == Finding("net.live", "skip", message, provider="acme")
    assert not [r for r in mock.seen if r.content and json.loads(r.content).get("input")]


def test_live_is_off_by_default() -> None:
    findings, mock = run(live_routes(sse({"type": "response.completed"})))
    assert "net.live" not in [f.check for f in findings]
    assert all(json.loads(r.content) == {} for r in mock.seen if r.method == "POST")


# ---------------------------------------------------------------------------- real servers on 127.0.0.1


def real(server, pid: str = "acme", **overrides) -> ProviderTarget:
    values = {"id": pid, "base_url": server.base_url, "model": "fake-model", "has_key": False}
    values.update(overrides)
    return ProviderTarget(**values)


def test_real_healthy_server(make_fake_server) -> None:
    server = make_fake_server()
    findings = check_network([real(server)])
    assert brief(findings) == [("net.reachable", "ok"), ("net.models", "ok"), ("net.responses-route", "ok")]
    assert [r.body for r in server.requests_to("/responses", "POST")] == [{}]
    assert not server.requests_to("/chat/completions")


def test_real_chat_only_server_gets_the_bridge_advice(make_fake_server) -> None:
    server = make_fake_server(responses_route=False)
    findings = check_network([real(server)])
    route = by_check(findings, "net.responses-route")
    assert route == Finding(
        "net.responses-route",
        "fail",
        f"no POST {server.base_url}/responses (HTTP 404): this endpoint speaks only Chat Completions, "
        "and Codex needs the Responses API; put a bridge in front",
        provider="acme",
        fix=f"codexprov add custom --id acme --base-url {server.base_url} --bridge --replace",
    )
    assert [r.body for r in server.requests_to("/chat/completions", "POST")] == [{}]


def test_real_wrong_key_fails_and_right_key_passes(make_fake_server) -> None:
    server = make_fake_server(expected_key="sk-right-key-00000000000001")
    wrong = real(server, "wrong", headers={"Authorization": "Bearer sk-wrong-key-0000000000002"}, has_key=True)
    right = real(server, "right", headers={"Authorization": "Bearer sk-right-key-00000000000001"}, has_key=True)
    findings = check_network([wrong, right])
    assert by_check(findings, "net.models", "wrong") == Finding(
        "net.models",
        "fail",
        "the key is wrong: the server refused it (HTTP 401: Incorrect API key provided.)",
        provider="wrong",
        fix="codexprov key set wrong (or, if it reads an env var, set that variable to the right key)",
    )
    assert [f.status for f in findings if f.provider == "right"] == ["ok", "ok", "ok"]
    assert "sk-right" not in json.dumps([f.to_json() for f in findings])


def test_real_unknown_model_fails_with_close_match(make_fake_server) -> None:
    server = make_fake_server(models=("fake-model", "fake-model-mini"), unknown_model_error=True)
    findings = check_network([real(server, model="fake-modle", asks_models=True)])
    assert by_check(findings, "net.models") == Finding(
        "net.models",
        "fail",
        "`fake-modle` is not among the 2 models the server lists; close: fake-model, fake-model-mini",
        provider="acme",
        fix="codexprov use acme --model fake-model",
    )


def test_real_path_prefix_other_than_v1_and_query_params(make_fake_server) -> None:
    server = make_fake_server(prefix="/openai/deployments")
    t = real(
        server,
        query_params={"api-version": "2025-04-01-preview"},
        headers={"api-key": "sk-azure-key-000000000003"},
        has_key=True,
    )
    findings = check_network([t])
    assert [f.status for f in findings] == ["ok", "ok", "ok"]
    seen = server.requests_to("/models") + server.requests_to("/responses")
    assert len(seen) == 2 and all(r.query == {"api-version": "2025-04-01-preview"} for r in seen)
    assert {r.path for r in seen} == {"/openai/deployments/models", "/openai/deployments/responses"}


def test_real_connection_refused(make_fake_server) -> None:
    server = make_fake_server()
    url = server.base_url
    server.stop()
    findings = check_network([ProviderTarget("gone", url, model="m")], timeout=2.0)
    assert findings[0] == Finding(
        "net.reachable",
        "fail",
        f"cannot reach {url}: connection refused",
        provider="gone",
        fix=f"start the local server behind {url}, or fix base_url of `gone`",
    )


def test_real_hanging_server_costs_one_timeout(make_fake_server) -> None:
    hanging = make_fake_server(hang=True)
    healthy = make_fake_server()
    findings = check_network([real(hanging, "slow"), real(healthy, "fine")], timeout=1.0, live=True)
    # One deadline for the provider: its two route probes start together, nothing after them is tried.
    assert sorted(r.path for r in hanging.requests) == ["/v1/models", "/v1/responses"]
    assert brief([f for f in findings if f.provider == "slow"]) == [
        ("net.reachable", "fail"),
        ("net.models", "skip"),
        ("net.responses-route", "skip"),
        ("net.live", "skip"),
    ]
    assert (
        by_check(findings, "net.reachable", "slow").message == f"cannot reach {hanging.base_url}: no answer within 1 s"
    )
    assert [f.status for f in findings if f.provider == "fine"] == ["ok", "ok", "ok", "warn"]


def test_real_ten_slow_providers_all_answer(make_fake_server) -> None:
    servers = [make_fake_server(delay=0.3) for _ in range(10)]
    findings = check_network([real(s, f"p{i}") for i, s in enumerate(servers)])
    assert [f.status for f in findings] == ["ok"] * 30


def test_real_ten_slow_chat_only_providers(make_fake_server) -> None:
    # Chat-only providers need a second round trip (the /chat/completions probe).
    servers = [make_fake_server(delay=0.3, responses_route=False) for _ in range(10)]
    findings = check_network([real(s, f"p{i}") for i, s in enumerate(servers)])
    assert [f.status for f in findings if f.check == "net.responses-route"] == ["fail"] * 10


# Wall-clock budgets (bench/bench_doctor.py measures them with medians): run with `-m timing`.


@pytest.mark.timing
def test_timing_hanging_server_costs_one_timeout(make_fake_server) -> None:
    hanging = make_fake_server(hang=True)
    healthy = make_fake_server()
    start = time.monotonic()
    check_network([real(hanging, "slow"), real(healthy, "fine")], timeout=1.0, live=True)
    elapsed = time.monotonic() - start
    assert 1.0 <= elapsed < 1.6, elapsed  # one timeout, not one per check (three checks would be ≥ 3 s)


@pytest.mark.timing
@pytest.mark.parametrize("responses_route", [True, False])
def test_timing_ten_slow_providers_within_budget(make_fake_server, responses_route) -> None:
    servers = [make_fake_server(delay=0.3, responses_route=responses_route) for _ in range(10)]
    start = time.monotonic()
    check_network([real(s, f"p{i}") for i, s in enumerate(servers)])
    elapsed = time.monotonic() - start
    assert elapsed <= 1.5, elapsed


def test_real_live_with_function_call(make_fake_server) -> None:
    server = make_fake_server(function_call=True)
    findings = check_network([real(server)], live=True)
    assert brief(findings) == [
        ("net.reachable", "ok"),
        ("net.models", "ok"),
        ("net.responses-route", "ok"),
        ("net.live", "ok"),
    ]
    assert re.fullmatch(
        r"a turn completed in \d+ ms \(first event after \d+ ms\); function call `ping` came back", findings[3].message
    )
    [live] = [r for r in server.requests_to("/responses", "POST") if r.body.get("input")]
    assert live.body["stream"] is True and live.body["tools"][0]["name"] == "ping"


def test_real_live_without_function_call_warns(make_fake_server) -> None:
    server = make_fake_server(function_call=False)
    live = by_check(check_network([real(server)], live=True), "net.live")
    assert live.status == "warn"


def test_real_live_unknown_model_fails(make_fake_server) -> None:
    server = make_fake_server(unknown_model_error=True, models=())
    live = by_check(check_network([real(server, model="nope")], live=True), "net.live")
    assert live == Finding(
        "net.live",
        "fail",
        "a streamed Responses request failed: HTTP 404: The model `nope` does not exist or you do not have access to it.",
        provider="acme",
    )


def test_tls_context_trusts_nothing_when_no_target_is_https() -> None:
    import ssl

    from codexprov.doctor.network import _tls_context

    ctx = _tls_context([target(base_url="http://127.0.0.1:1234/v1")])
    assert isinstance(ctx, ssl.SSLContext)
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname and ctx.cert_store_stats()["x509_ca"] == 0
    assert (
        _tls_context([target(base_url="http://127.0.0.1:1234/v1"), target(base_url="HTTPS://api.example.test/v1")])
        is True
    )


# ---------------------------------------------------------------------------- every answer has a meaning


def sequence(*answers: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    """A route that gives these answers in turn, then the last one forever."""
    left = list(answers)

    def answer(_: httpx.Request) -> httpx.Response:
        return left.pop(0) if len(left) > 1 else left[0]

    return answer


QUOTA = httpx.Response(
    429,
    json={
        "error": {
            "message": "You exceeded your current quota.",
            "type": "insufficient_quota",
            "code": "insufficient_quota",
        }
    },
)
RATE = httpx.Response(
    429,
    headers={"Retry-After": "20"},
    json={"error": {"message": "Rate limit reached.", "type": "requests", "code": "rate_limit_exceeded"}},
)


def test_quota_429_fails_and_is_not_asked_again() -> None:
    findings, mock = run({**HEALTHY, ("POST", "/v1/responses"): QUOTA}, live=True)
    assert brief(findings) == [
        ("net.reachable", "ok"),
        ("net.models", "ok"),
        ("net.responses-route", "skip"),
        ("net.quota", "fail"),
        ("net.live", "skip"),
    ]
    assert by_check(findings, "net.quota").message == (
        "the server answers HTTP 429 (You exceeded your current quota.): the account is out of quota or credit, "
        "which waiting does not fix; Codex stops at once (`Quota exceeded`)"
    )
    assert by_check(findings, "net.live").message == "net.live skipped: see net.quota"
    assert len([r for r in mock.seen if r.url.path == "/v1/responses"]) == 1


def test_rate_limit_that_stays_fails_with_retry_after() -> None:
    """Still 429 when asked again, as Codex asks again: Codex's retries run out and the turn fails."""
    findings, mock = run({**HEALTHY, ("POST", "/v1/responses"): RATE})
    assert brief(findings) == [
        ("net.reachable", "ok"),
        ("net.models", "ok"),
        ("net.responses-route", "skip"),
        ("net.rate-limit", "fail"),
    ]
    limited = by_check(findings, "net.rate-limit")
    assert limited.message == (
        "POST https://api.example.test/v1/responses is rate-limited (HTTP 429 on 5 tries; the server says to retry "
        "after 20 s): Codex retries a few times, then the turn fails (Rate limit reached.)"
    )
    assert limited.fix == "wait 20 s and try again, or ask the provider for a higher rate limit"
    assert len([r for r in mock.seen if r.url.path == "/v1/responses"]) == 5  # the first ask and Codex's 4 retries


def test_rate_limit_that_clears_is_ok() -> None:
    findings, _ = run(
        {**HEALTHY, ("POST", "/v1/responses"): sequence(RATE, err(400, "Missing required parameter: 'model'."))}
    )
    assert brief(findings) == [
        ("net.reachable", "ok"),
        ("net.models", "ok"),
        ("net.responses-route", "ok"),
        ("net.rate-limit", "ok"),
    ]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_upstream_failing_fails(status: int) -> None:
    findings, _ = run({**HEALTHY, ("POST", "/v1/responses"): err(status, "upstream connect error")})
    assert brief(findings) == [
        ("net.reachable", "ok"),
        ("net.models", "ok"),
        ("net.responses-route", "skip"),
        ("net.upstream", "fail"),
    ]
    assert by_check(findings, "net.upstream").message == (
        f"POST https://api.example.test/v1/responses answered HTTP {status} 5 times (upstream connect error): "
        "the server, or the service behind it, is failing; Codex retries, then stops"
    )


def test_upstream_failing_once_is_ok() -> None:
    findings, _ = run({**HEALTHY, ("POST", "/v1/responses"): sequence(err(502, "blip"), err(400, "no model"))})
    assert brief(findings) == [
        ("net.reachable", "ok"),
        ("net.models", "ok"),
        ("net.responses-route", "ok"),
        ("net.upstream", "ok"),
    ]


def redirect(status: int, to: str) -> httpx.Response:
    return httpx.Response(status, headers={"Location": to})


@pytest.mark.parametrize("status", [301, 302, 303])
def test_redirect_that_turns_the_post_into_a_get_fails(status: int) -> None:
    routes = {
        ("GET", "/v1/models"): models_list("m-1"),
        ("POST", "/v1/responses"): redirect(status, "/v2/responses"),
        ("GET", "/v2/responses"): err(405, "Method not allowed"),
    }
    findings, mock = run(routes)
    assert brief(findings) == [
        ("net.reachable", "ok"),
        ("net.models", "ok"),
        ("net.responses-route", "skip"),
        ("net.redirect", "fail"),
    ]
    assert by_check(findings, "net.redirect") == Finding(
        "net.redirect",
        "fail",
        f"POST https://api.example.test/v1/responses is redirected (HTTP {status} to https://api.example.test/v2/responses); "
        f"Codex follows a {status} as a GET without the request, and the turn fails",
        provider="acme",
        fix='base_url = "https://api.example.test/v2"',
    )
    assert [(r.method, r.url.path) for r in mock.seen if "responses" in r.url.path] == [
        ("POST", "/v1/responses"),
        ("GET", "/v2/responses"),
    ]


@pytest.mark.parametrize("status", [307, 308])
def test_redirect_that_keeps_the_post_is_healthy(status: int) -> None:
    routes = {
        ("GET", "/v1/models"): models_list("m-1"),
        ("POST", "/v1/responses"): redirect(status, "/v2/responses"),
        ("POST", "/v2/responses"): err(400, "Missing required parameter: 'model'."),
    }
    findings, _ = run(routes)
    assert brief(findings) == [
        ("net.reachable", "ok"),
        ("net.models", "ok"),
        ("net.responses-route", "ok"),
        ("net.redirect", "ok"),
    ]


def test_redirect_to_another_host_drops_the_key() -> None:
    routes = {
        ("GET", "/v1/models"): models_list("m-1"),
        ("POST", "/v1/responses"): lambda r: (
            redirect(307, "https://other.example.test/v1/responses")
            if r.url.host == "api.example.test"
            else err(401, "no key")
        ),
    }
    findings, mock = run(routes)
    other = [r for r in mock.seen if r.url.host == "other.example.test"]
    assert len(other) == 1 and "authorization" not in other[0].headers
    assert by_check(findings, "net.responses-route").status == "fail"


def test_retries_follow_the_providers_request_max_retries() -> None:
    """A provider with request_max_retries = 0: Codex does not ask again, so neither does the doctor."""
    findings, mock = run({**HEALTHY, ("POST", "/v1/responses"): RATE}, target(request_retries=0))
    assert by_check(findings, "net.rate-limit").status == "fail"
    assert "HTTP 429 on 1 try;" in by_check(findings, "net.rate-limit").message
    assert len([r for r in mock.seen if r.url.path == "/v1/responses"]) == 1


def test_a_release_that_does_not_retry_429_fails_on_the_first_one() -> None:
    """Before 0.163.0 (probed: 0.133.0 and 0.160.0) Codex ends the turn on the first 429, so a limit
    that would clear when asked again still fails it: the doctor asks once, as that Codex does."""
    findings, mock = run(
        {**HEALTHY, ("POST", "/v1/responses"): sequence(RATE, err(400, "Missing required parameter: 'model'."))},
        target(retries_rate_limit=False, codex_version="0.160.0"),
    )
    assert brief(findings) == [
        ("net.reachable", "ok"),
        ("net.models", "ok"),
        ("net.responses-route", "skip"),
        ("net.rate-limit", "fail"),
    ]
    assert by_check(findings, "net.rate-limit").message == (
        "POST https://api.example.test/v1/responses is rate-limited (HTTP 429 on 1 try; the server says to retry "
        "after 20 s): Codex 0.160.0 ends the turn on the first 429 without asking again (Rate limit reached.)"
    )
    assert len([r for r in mock.seen if r.url.path == "/v1/responses"]) == 1


def test_a_streamed_request_meeting_the_429_fails_as_net_rate_limit() -> None:
    """When the streamed request meets the 429 and the probe does not, the fault is the same one: a
    release that does not ask again fails the turn, and the finding says so under net.rate-limit."""
    import json as _json

    def responses(request: httpx.Request) -> httpx.Response:
        if not _json.loads(request.content).get("input"):
            return err(400, "Missing required parameter: 'model'.")
        return RATE

    findings, mock = run(
        {**HEALTHY, ("POST", "/v1/responses"): responses},
        target(stream=lambda: None, retries_rate_limit=False, codex_version="0.160.0"),
    )
    assert [f for f in brief(findings) if f[1] != "ok"] == [("net.rate-limit", "fail")]
    assert by_check(findings, "net.rate-limit").message == (
        "the streamed request is rate-limited (HTTP 429; the server says to retry after 20 s): Codex 0.160.0 ends "
        "the turn on the first 429 without asking again (Rate limit reached.)"
    )
    streamed = [r for r in mock.seen if r.url.path == "/v1/responses" and r.content != b"{}"]
    assert len(streamed) == 1


def test_stream_without_the_cap_when_the_server_refuses_it() -> None:
    """max_output_tokens is the doctor's addition, not Codex's: a server that refuses it is asked
    again without it, so it is no false alarm."""
    import json as _json

    def responses(request: httpx.Request) -> httpx.Response:
        body = _json.loads(request.content)
        if not body.get("input"):
            return err(400, "Missing required parameter: 'model'.")
        if "max_output_tokens" in body:
            return err(400, "Unsupported parameter: 'max_output_tokens'.")
        return sse({"type": "response.created"}, {"type": "response.completed", "response": {"output": []}})

    findings, mock = run({**HEALTHY, ("POST", "/v1/responses"): responses}, target(stream=lambda: None))
    stream = by_check(findings, "net.stream")
    assert stream.status == "ok", stream
    assert stream.message.endswith("shape from codexprov's copy of Codex's request")
    sent = [_json.loads(r.content) for r in mock.seen if r.url.path == "/v1/responses" and r.content != b"{}"]
    assert ["max_output_tokens" in b for b in sent] == [True, False]
    assert sent[1]["input"] == [
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "Reply with the single word: pong."}],
        }
    ]
