"""The bridge end to end: `codexprov add` for every recipe whose endpoint lacks /v1/responses (and
`custom --bridge`), the real LiteLLM proxy, the real Codex 0.169.0 completing a turn with a shell
tool call, the upstream keys in the real Secret Service. One bridge for the session (see
tests/bridge_fixtures.py): the first turn starts it through `codexprov token`."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

from tests.bridge_fixtures import BRIDGED_RECIPES, master_key
from tests.upstream_standin import TOOL_OUTPUT, final_text

pytestmark = [pytest.mark.codex, pytest.mark.keyring]

RECIPES = [recipe for recipe, _, _ in BRIDGED_RECIPES]


@pytest.mark.parametrize("recipe", RECIPES)
def test_bridged_recipe_completes_a_tool_turn(recipe, bridged, codex_bin):
    provider_id = bridged.ids[recipe]
    server = bridged.servers[provider_id]
    before = {pid: len(s.turn_requests()) for pid, s in bridged.servers.items()}

    proc = bridged.codex(codex_bin, provider_id)

    assert proc.returncode == 0, proc.stderr[-3000:]
    assert final_text(TOOL_OUTPUT) in proc.stdout
    turns = server.turn_requests()[before[provider_id] :]
    assert len(turns) == 2, [(r.path, r.body and r.body.get("model")) for r in turns]
    first, second = turns
    if recipe != "gemini":  # Gemini names the model in the path
        assert first.body["model"] == second.body["model"] == bridged.models[provider_id]
    if recipe == "anthropic":
        assert first.path == second.path == "/v1/messages"
        assert first.headers["x-api-key"] == bridged.keys[provider_id]
        assert "authorization" not in first.headers
    elif recipe == "gemini":
        model = bridged.models[provider_id]
        assert first.path == second.path == f"/v1beta/models/{model}:streamGenerateContent"
        assert first.query == {"alt": "sse"}
        assert first.headers["x-goog-api-key"] == bridged.keys[provider_id]
    else:
        assert first.path == second.path == "/v1/chat/completions"
        expected = f"Bearer {bridged.keys[provider_id]}" if provider_id in bridged.keys else "Bearer none"
        assert first.headers["authorization"] == expected
    # Codex sends client_metadata; it never reaches an upstream (they refuse the unknown argument).
    assert "client_metadata" not in first.body and "client_metadata" not in second.body
    # The second call carries the tool's output (Codex ran `echo bridge-tool-$((6*7))`).
    conversation = "contents" if recipe == "gemini" else "messages"
    assert TOOL_OUTPUT in json.dumps(second.body[conversation])
    assert TOOL_OUTPUT not in json.dumps(first.body[conversation])
    # Routing: no other upstream saw anything of this turn.
    others = {pid: len(s.turn_requests()) - before[pid] for pid, s in bridged.servers.items() if pid != provider_id}
    assert others == dict.fromkeys(others, 0)


def test_add_writes_an_ordinary_provider_pointing_at_the_bridge(bridged):
    provider_id = bridged.ids["anthropic"]
    state = json.loads((bridged.bridge_dir / "state.json").read_text())
    port = state["port"]
    assert 20000 <= port <= 32000
    shown = bridged.codexprov("show", provider_id, "--json")
    assert shown.returncode == 0, shown.stderr
    table = json.loads(shown.stdout)["table"]
    assert table["base_url"] == f"http://127.0.0.1:{port}/v1"
    assert table["wire_api"] == "responses"
    assert table["http_headers"] == {"x-litellm-tags": provider_id}
    assert table["auth"]["args"][-2:] == ["token", provider_id]
    assert table["auth"]["timeout_ms"] == 60000
    assert "env_key" not in table
    talk = bridged.add_outputs[provider_id].stderr
    assert (
        f"Anthropic does not serve /v1/responses, so Codex reaches {provider_id} through codexprov's bridge "
        f"(LiteLLM on http://127.0.0.1:{port}/v1, to {bridged.servers[provider_id].root_url} as anthropic/MODEL); "
        "`--no-bridge` writes the direct config instead"
    ) in talk
    assert "will fail on the first turn" not in talk
    entry = next(u for u in state["upstreams"] if u["provider_id"] == provider_id)
    assert entry == {
        "provider_id": provider_id,
        "litellm_prefix": "anthropic",
        "api_base": bridged.servers[provider_id].root_url,
        "key_var": "ANTHROPIC_API_KEY",
    }


def test_no_secret_anywhere_the_bridge_writes_or_shows(bridged, codex_bin):
    # At least one turn has gone through (the session bridge is up), so the log has requests in it.
    proc = bridged.codex(codex_bin, bridged.ids["custom"])
    assert proc.returncode == 0, proc.stderr[-2000:]
    master = subprocess.run(
        ["secret-tool", "lookup", "service", "codexprov-bridge", "username", "master-key"],
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=30,
        check=False,
    ).stdout.strip()
    assert master.startswith("sk-bridge-")
    secrets = [master, *bridged.keys.values()]

    config = bridged.bridge_dir / "litellm.yaml"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(bridged.bridge_dir.stat().st_mode) == 0o700
    text = config.read_text()
    assert "os.environ/CODEXPROV_BRIDGE_MASTER_KEY" in text and "os.environ/ANTHROPIC_API_KEY" in text
    files = [p for p in bridged.bridge_dir.iterdir() if p.is_file()] + [bridged.codex_home / "config.toml"]
    assert bridged.bridge_dir / "bridge.log" in files
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, timeout=30, check=False).stdout
    assert "litellm" in ps and "--config" in ps
    outputs = [
        bridged.codexprov("bridge", "status"),
        bridged.codexprov("bridge", "status", "--json"),
        bridged.codexprov("bridge", "logs", "-n", "500"),
        bridged.codexprov("list", "--json"),
        *bridged.add_outputs.values(),
    ]
    shown = "".join(o.stdout + o.stderr for o in outputs)
    assert '"health": "up"' in shown
    for secret in secrets:
        for path in files:
            assert secret not in path.read_text(errors="replace"), path
        assert secret not in ps
        assert secret not in shown


def _litellm_pid(runner_pid: int) -> int:
    children = Path(f"/proc/{runner_pid}/task/{runner_pid}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def test_bridge_crash_next_codex_turn_recovers(bridged, codex_bin):
    provider_id = bridged.ids["mistral"]
    first = bridged.codex(codex_bin, provider_id)
    assert first.returncode == 0, first.stderr[-2000:]
    runner = json.loads((bridged.bridge_dir / "run.json").read_text())["pid"]
    os.kill(_litellm_pid(runner), signal.SIGKILL)  # LiteLLM dies; its runner follows
    deadline = time.monotonic() + 20
    while Path(f"/proc/{runner}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    status = json.loads(bridged.codexprov("bridge", "status", "--json").stdout)
    assert (status["health"], status["pid"]) == ("down", None)

    again = bridged.codex(codex_bin, provider_id)

    assert again.returncode == 0, again.stderr[-2000:]
    assert final_text(TOOL_OUTPUT) in again.stdout
    status = json.loads(bridged.codexprov("bridge", "status", "--json").stdout)
    assert status["health"] == "up" and status["pid"] not in (None, runner)
    log = bridged.codexprov("bridge", "logs", "-n", "2000").stdout
    assert log.count("--- codexprov bridge starting") >= 2


def test_doctor_tells_upstream_down_from_bridge_up(bridged):
    healthy, down = bridged.ids["custom"], bridged.ids["down"]
    down_url = bridged.servers[down].base_url
    bridged.servers[down].stop()

    report = bridged.codexprov("doctor", down, "--json", "--timeout", "20")
    findings = [f for f in json.loads(report.stdout)["findings"] if f["check"].startswith("bridge.")]
    by_check = {f["check"]: (f["status"], f["message"], f["provider"]) for f in findings}
    assert by_check["bridge.running"][0] == "ok"
    assert by_check["bridge.upstream"] == ("fail", f"upstream down: the bridge is up but cannot reach {down_url}", down)
    assert report.returncode == 1

    report = bridged.codexprov("doctor", healthy, "--json", "--timeout", "20")
    findings = {
        f["check"]: (f["status"], f["message"])
        for f in json.loads(report.stdout)["findings"]
        if f["check"].startswith("bridge.")
    }
    assert findings["bridge.upstream"] == (
        "ok",
        f"upstream answers through the bridge ({bridged.servers[healthy].base_url})",
    )
    failed = [f for f in json.loads(report.stdout)["findings"] if f["status"] == "fail"]
    assert (report.returncode, failed) == (0, [])


def test_key_set_restarts_the_bridge_with_the_new_upstream_key(bridged, codex_bin):
    provider_id = bridged.ids["cerebras"]
    server = bridged.servers[provider_id]
    new_key = "sk-upstream-rotated-" + os.urandom(8).hex()
    server.expected_key = new_key
    bridged.keys[provider_id] = new_key  # the leak check and later tests know the new one
    runner = json.loads(bridged.codexprov("bridge", "status", "--json").stdout)["pid"]

    stored = bridged.codexprov("key", "set", provider_id, "--stdin", input=new_key + "\n")

    assert stored.returncode == 0, stored.stderr
    assert f"the bridge was restarted to use the new key for {provider_id}" in stored.stderr
    assert new_key not in stored.stdout + stored.stderr
    status = json.loads(bridged.codexprov("bridge", "status", "--json").stdout)
    assert status["health"] == "up" and status["pid"] != runner
    proc = bridged.codex(codex_bin, provider_id)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert server.turn_requests()[-1].headers["authorization"] == f"Bearer {new_key}"


def test_admin_ui_management_api_and_cors_are_off(bridged):
    import httpx

    up = bridged.codexprov("bridge", "up")
    assert up.returncode == 0, up.stderr
    port = json.loads((bridged.bridge_dir / "state.json").read_text())["port"]
    base = f"http://127.0.0.1:{port}"
    master = master_key(bridged.env)
    auth = {"Authorization": f"Bearer {master}"}
    with httpx.Client(timeout=30) as client:
        for path in ("/ui/", "/sso/key/generate", "/key/list", "/user/list", "/docs", "/openapi.json", "/metrics"):
            answer = client.get(base + path, headers=auth)
            assert (path, answer.status_code) == (path, 404)
        origin = {"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
        preflight = client.options(base + "/v1/chat/completions", headers=origin)
        assert "access-control-allow-origin" not in preflight.headers
        chat = client.post(
            base + "/v1/chat/completions",
            json={"model": "box-model", "messages": [{"role": "user", "content": "hi"}]},
            headers={**auth, "Origin": "http://evil.example", "x-litellm-tags": bridged.ids["custom"]},
        )
        assert chat.status_code == 200, chat.text
        assert "access-control-allow-origin" not in chat.headers


def test_rotated_master_key_keeps_codex_working(bridged, codex_bin):
    import httpx

    provider_id = bridged.ids["llama-cpp"]
    old = master_key(bridged.env)
    assert old.startswith("sk-bridge-")
    up = bridged.codexprov("bridge", "up")
    assert up.returncode == 0, up.stderr

    rotated = bridged.codexprov("bridge", "rotate-key")

    assert rotated.returncode == 0, rotated.stderr
    assert "new master key in the keyring; bridge restarted with it on http://127.0.0.1:" in rotated.stderr
    new = master_key(bridged.env)
    assert new.startswith("sk-bridge-") and new != old
    assert old not in rotated.stdout + rotated.stderr and new not in rotated.stdout + rotated.stderr
    port = json.loads((bridged.bridge_dir / "state.json").read_text())["port"]
    refused = httpx.post(
        f"http://127.0.0.1:{port}/v1/chat/completions",
        json={"model": "local-model", "messages": [{"role": "user", "content": "hi"}]},
        headers={"Authorization": f"Bearer {old}", "x-litellm-tags": provider_id},
        timeout=30,
    )
    # LiteLLM 1.108 takes a key that is not its master key for a virtual key, which needs a database
    # the bridge does not have: refused.
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["message"] == "No connected db.", refused.text
    token = bridged.codexprov("token", provider_id)
    assert (token.returncode, token.stdout) == (0, new + "\n")

    proc = bridged.codex(codex_bin, provider_id)

    assert proc.returncode == 0, proc.stderr[-2000:]
    assert final_text(TOOL_OUTPUT) in proc.stdout
