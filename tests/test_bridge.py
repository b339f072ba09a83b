"""The bridge's core without a running LiteLLM: layout, generated config, recipe routes, the add
plan, registration, and the fault paths that need no proxy (not installed, port taken)."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from codexprov import adding, recipes
from codexprov import paths as paths_mod
from codexprov.bridge import identity, install, layout, litellm_config, manage, process
from codexprov.bridge.layout import State, Upstream
from codexprov.errors import ConflictError, NotFoundError, UsageError
from codexprov.model import AuthCommand


class MemoryStore:
    """An in-memory stand-in for credentials.KeyStore (a unit test; the real keyring is in test_bridge_codex)."""

    label = "memory"

    def __init__(self, backend=None, service="codexprov"):
        self.backend = backend if backend is not None else {}
        self.service = service

    def get(self, provider_id):
        return self.backend.get((self.service, provider_id))

    def set(self, provider_id, secret):
        self.backend[(self.service, provider_id)] = secret

    def delete(self, provider_id):
        return self.backend.pop((self.service, provider_id), None) is not None


@pytest.fixture
def store(monkeypatch):
    monkeypatch.setattr(manage, "master_store", lambda s: MemoryStore(s.backend, "codexprov-bridge"))
    return MemoryStore()


@pytest.fixture
def bridge_layout(tmp_path, monkeypatch) -> layout.Layout:
    monkeypatch.setenv("CODEXPROV_BRIDGE_DIR", str(tmp_path / "bridge"))
    monkeypatch.setenv("CODEXPROV_BRIDGE_VENV", str(tmp_path / "no-venv"))
    return layout.resolve()


def _catalog():
    return recipes.load_catalog(paths_mod.resolve())


def _auth(provider_id: str) -> AuthCommand:
    return AuthCommand("/usr/bin/codexprov", ("token", provider_id))


def _plan(recipe_id: str, **request):
    recipe = _catalog().get(recipe_id)
    req = adding.AddRequest(recipe=recipe_id, **request)
    return adding.plan_add(recipe, req, token_auth=_auth, bridge_url=lambda: "http://127.0.0.1:23456/v1")


def test_data_dir_is_platformdirs_own(monkeypatch, tmp_path):
    import platformdirs

    monkeypatch.delenv("CODEXPROV_BRIDGE_DIR", raising=False)
    monkeypatch.delenv("CODEXPROV_BRIDGE_VENV", raising=False)
    for xdg in (str(tmp_path / "data"), None):
        if xdg is None:
            monkeypatch.delenv("XDG_DATA_HOME", raising=False)
        else:
            monkeypatch.setenv("XDG_DATA_HOME", xdg)
        found = layout.resolve()
        assert found.root == Path(platformdirs.user_data_dir("codexprov", appauthor=False)) / "bridge"
        assert found.venv == found.root / "venv"


def test_generated_config_has_references_not_secrets():
    state = State(
        24000,
        (
            Upstream("claude", "anthropic", None, "ANTHROPIC_API_KEY"),
            Upstream("box", "custom_openai", "http://10.0.0.5:8080/v1", None),
        ),
    )
    assert litellm_config.render(state) == {
        "model_list": [
            {
                "model_name": "*",
                "litellm_params": {
                    "model": "anthropic/*",
                    "api_key": "os.environ/ANTHROPIC_API_KEY",
                    "tags": ["claude"],
                },
            },
            {
                "model_name": "*",
                "litellm_params": {
                    "model": "custom_openai/*",
                    "api_base": "http://10.0.0.5:8080/v1",
                    "api_key": "none",
                    "tags": ["box"],
                },
            },
        ],
        "general_settings": {"master_key": "os.environ/CODEXPROV_BRIDGE_MASTER_KEY"},
        "router_settings": {"enable_tag_filtering": True},
        "litellm_settings": {
            "drop_params": True,
            "turn_off_message_logging": True,
            "telemetry": False,
            "callbacks": ["codexprov_echo_mask.handler"],
        },
    }
    text = litellm_config.render_text(state)
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    assert json.loads(body) == litellm_config.render(state)


def test_recipes_without_responses_route_through_the_bridge_by_default():
    catalog = _catalog()
    no_responses = sorted(r.id for r in catalog.recipes if r.responses == "no")
    assert no_responses == ["anthropic", "cerebras", "gemini", "mistral"]
    routes = {r.id: r.bridge.model_template for r in catalog.recipes if r.bridge is not None}
    assert routes == {
        "anthropic": "anthropic/{model}",
        "cerebras": "cerebras/{model}",
        "custom": "custom_openai/{model}",
        "deepseek": "deepseek/{model}",
        "gemini": "gemini/{model}",
        "llama-cpp": "custom_openai/{model}",
        "mistral": "mistral/{model}",
        "nvidia-nim": "nvidia_nim/{model}",
    }
    assert {r.id: r.bridge.env_key for r in catalog.recipes if r.bridge is not None and r.bridge.env_key} == {
        "anthropic": "ANTHROPIC_API_KEY",
        "cerebras": "CEREBRAS_API_KEY",
        "deepseek": "DEEPSEEK_API_KEY",
        "gemini": "GEMINI_API_KEY",
        "mistral": "MISTRAL_API_KEY",
        "nvidia-nim": "NVIDIA_NIM_API_KEY",
    }


@pytest.mark.parametrize(
    ("table", "field", "message"),
    [
        (
            {"model": "anthropic"},
            "bridge.model",
            'must be LiteLLM\'s provider prefix and {model}, e.g. "anthropic/{model}"',
        ),
        ({"model": "anthropic/{model}", "key": "X"}, "bridge.key", "unknown field (known: api_base, env_key, model)"),
        (
            {"model": "anthropic/{model}", "env_key": "not a var"},
            "bridge.env_key",
            "must be an environment variable name",
        ),
        (
            {"model": "custom_openai/{model}", "api_base": "http://{host}/v1"},
            "bridge.api_base",
            "uses {host}, which is not a param of this recipe (params: none declared)",
        ),
    ],
)
def test_bad_bridge_table_is_a_load_problem(tmp_path, table, field, message):
    data = {
        "id": "x",
        "name": "X",
        "kind": "hosted",
        "responses": "no",
        "responses_checked": "2026-12-01",
        "base_url": "https://x/v1",
        "env_key": "X_KEY",
        "bridge": table,
    }
    with pytest.raises(recipes._Problem) as caught:
        recipes.parse_recipe(data)
    assert (caught.value.field, caught.value.message) == (field, message)


def test_plan_for_anthropic_is_bridged():
    plan = _plan("anthropic")
    assert plan.bridge == Upstream("anthropic", "anthropic", None, "ANTHROPIC_API_KEY")
    assert plan.key_mode == "keyring"
    assert plan.spec.to_table() == {
        "name": "Anthropic",
        "base_url": "http://127.0.0.1:23456/v1",
        "wire_api": "responses",
        "http_headers": {"x-litellm-tags": "anthropic"},
        "auth": {"command": "/usr/bin/codexprov", "args": ["token", "anthropic"], "timeout_ms": 60000},
    }
    assert plan.warnings == ()


def test_no_bridge_writes_the_direct_config_and_warns():
    plan = _plan("anthropic", bridge=False)
    assert plan.bridge is None
    assert plan.spec.base_url == "https://api.anthropic.com/v1"
    assert plan.warnings == (
        "Anthropic does not serve /v1/responses (per its docs, read 2026-11-22): Codex will fail on the first turn. "
        "Drop --no-bridge to route it through codexprov's bridge (`codexprov add anthropic --id anthropic --replace`).",
    )


def test_custom_bridge_sends_chat_to_the_given_url():
    plan = _plan("custom", provider_id="box", base_url="http://10.0.0.5:8080/v1", bridge=True)
    assert plan.bridge == Upstream("box", "custom_openai", "http://10.0.0.5:8080/v1", "BOX_API_KEY")
    plan = _plan("custom", provider_id="box", base_url="http://10.0.0.5:8080/v1", bridge=True, key_mode="none")
    assert plan.bridge == Upstream("box", "custom_openai", "http://10.0.0.5:8080/v1", None)
    assert plan.spec.auth is not None  # the master key still comes from `codexprov token box`


def test_a_recipe_without_route_bridges_as_a_chat_endpoint():
    plan = _plan("groq", bridge=True)
    assert plan.bridge == Upstream("groq", "custom_openai", "https://api.groq.com/openai/v1", "GROQ_API_KEY")


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (
            {"key_mode": "env"},
            "a provider behind the bridge gets its key from the keyring (the bridge reads it there), not from an environment variable",
        ),
        ({"headers": {"X-A": "1"}}, "--header and --query are not passed through the bridge yet"),
    ],
)
def test_bridge_refuses_what_it_cannot_carry(request_, message):
    with pytest.raises(UsageError) as caught:
        _plan("mistral", **request_)
    assert caught.value.message == message


def test_builtin_cannot_be_bridged():
    with pytest.raises(UsageError) as caught:
        _plan("openai", bridge=True)
    assert caught.value.message == "Codex's built-in `openai` provider cannot go through the bridge"


def test_register_keeps_port_and_separates_key_variables(bridge_layout, store):
    first = manage.register(
        bridge_layout, Upstream("claude", "anthropic", None, "ANTHROPIC_API_KEY"), store, port=24567
    )
    assert first.port == 24567
    second = manage.register(
        bridge_layout, Upstream("claude-work", "anthropic", None, "ANTHROPIC_API_KEY"), store, port=29999
    )
    assert second.port == 24567
    assert [u.key_var for u in second.upstreams] == ["ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY_CLAUDE_WORK"]
    master = store.backend[("codexprov-bridge", "master-key")]
    assert master.startswith("sk-bridge-") and len(master) > 40
    for path in (bridge_layout.state_file, bridge_layout.config_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert master not in path.read_text()
    assert stat.S_IMODE(bridge_layout.root.stat().st_mode) == 0o700
    assert manage.unregister(bridge_layout, "claude") is True
    assert manage.unregister(bridge_layout, "claude") is False
    assert manage.bridged_ids(bridge_layout) == ("claude-work",)


def test_up_without_litellm_says_how_to_install(bridge_layout, store):
    with pytest.raises(NotFoundError) as caught:
        manage.up(bridge_layout, store)
    assert caught.value.message == f"the bridge's LiteLLM is not installed (looked in {bridge_layout.venv})"
    assert (
        caught.value.hint
        == "Run `codexprov bridge install` (it creates a virtualenv of its own; codexprov's stays as it is)."
    )


@pytest.mark.keyring
def test_token_for_bridged_provider_without_litellm_is_one_line(bridge_layout, store, tmp_path, secret_service):
    # The child `codexprov token` reads the bridge's master key from the keyring before it looks for
    # LiteLLM: the private Secret Service.
    import subprocess

    manage.register(bridge_layout, Upstream("claude", "anthropic", None, "ANTHROPIC_API_KEY"), store, port=24568)
    # The table `codexprov add` writes: it points at the bridge (else token refuses before anything).
    codex_home = Path(os.environ["CODEX_HOME"])
    codex_home.mkdir(parents=True, exist_ok=True)
    (codex_home / "config.toml").write_text(
        '[model_providers.claude]\nname = "Claude"\nbase_url = "http://127.0.0.1:24568/v1"\n'
        'wire_api = "responses"\nhttp_headers = { "x-litellm-tags" = "claude" }\n'
    )
    proc = subprocess.run(
        [sys.executable, "-m", "codexprov", "token", "claude"], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 4
    assert proc.stdout == ""
    assert proc.stderr == (
        f"codexprov token: the bridge's LiteLLM is not installed (looked in {bridge_layout.venv}) "
        "(Run `codexprov bridge install` (it creates a virtualenv of its own; codexprov's stays as it is).)\n"
    )


def test_port_taken_by_another_program(bridge_layout, tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        with pytest.raises(ConflictError) as caught:
            process.start(bridge_layout, State(port), {})
    assert caught.value.message == f"port {port} on 127.0.0.1, the bridge's, is taken by another program"
    assert caught.value.exit_code == 5
    assert not bridge_layout.run_file.exists()


def test_status_before_anything(bridge_layout, run_cli):
    result = run_cli("bridge", "status", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data == {
        "installed": None,
        "requirement": "litellm[proxy]>=1.108.7,<1.108.8",
        "venv": str(bridge_layout.venv),
        "port": None,
        "base_url": None,
        "health": "unset",
        "running": False,
        "pid": None,
        "upstreams": [],
        "config_file": str(bridge_layout.config_file),
        "log_file": str(bridge_layout.log_file),
        "standby": None,
    }


def test_tested_range_excludes_the_compromised_releases():
    assert not install.in_tested_range("1.82.7") and not install.in_tested_range("1.82.8")
    assert install.in_tested_range("1.108.7")
    assert not install.in_tested_range("1.100.5") and not install.in_tested_range("1.108.8")
    assert install.LITELLM_REQUIREMENT == "litellm[proxy]>=1.108.7,<1.108.8"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (the race it covers is Linux's)")
def test_fingerprint_is_taken_once_the_child_runs_its_command(tmp_path):
    # Right after Popen returns, the child may still be inside its exec, /proc/PID/cmdline empty:
    # a fingerprint taken then (what start() recorded in run.json) never matched the bridge again,
    # so `bridge status` said "up" with no pid. Here the child runs another command line (sh) until
    # told to exec the one it was started for, which makes that window as long as the test wants.
    go = tmp_path / "go"
    argv = [sys.executable, "-c", "import time; time.sleep(60)", "fingerprint-test"]
    script = 'while [ ! -e "$0" ]; do sleep 0.01; done; exec "$@"'
    child = subprocess.Popen(["sh", "-c", script, str(go), *argv])
    try:
        early = identity.fingerprint(child.pid)
        threading.Timer(0.3, go.touch).start()

        taken = identity.fingerprint_started(child.pid, argv)

        assert go.exists()
        assert early is not None and taken is not None and taken != early
        assert identity.same_process(child.pid, taken)
        assert not identity.same_process(child.pid, early)
    finally:
        child.kill()
        child.wait()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_fingerprint_of_a_child_that_already_exited_does_not_wait():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    stat_file = Path(f"/proc/{child.pid}/stat")
    deadline = time.monotonic() + 30
    while stat_file.read_text().rsplit(")", 1)[1].split()[0] != "Z":  # exited, not reaped yet
        assert time.monotonic() < deadline
        time.sleep(0.01)
    began = time.monotonic()

    assert identity.fingerprint_started(child.pid, ["never-this"], timeout=10) is None

    assert time.monotonic() - began < 2
    child.wait()
