"""One real bridge for the whole test session: LiteLLM (installed by scripts/test.sh into
.cache/litellm/venv) in front of loopback stand-ins, set up through `codexprov add` like a user would.

`bridged` (session-scoped) adds one provider per bridged recipe (and a `custom --bridge` one) to a
session CODEX_HOME, each against a stand-in of its own with a key of its own, kept in the real
Secret Service. The bridge is down after the adds: the first Codex turn starts it through the auth
command, and every later test reuses it (a LiteLLM start costs ~10 s). Tests that need a bridge of
their own (fault paths, trust, fallbacks, the standby) use `own`: a separate folder, port and
CODEX_HOME, stopped and its keys removed afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.codexrun import codex_env, run_codex
from tests.conftest import MATRIX_VERSION, codex_path
from tests.upstream_standin import ToolTurnServer

REPO = Path(__file__).resolve().parent.parent
LITELLM_VENV = REPO / ".cache" / "litellm" / "venv"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _require(condition: bool, why: str) -> None:
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required under CI=true: {why}")
    pytest.skip(why)


def require_bridge_parts() -> str:
    """The D-Bus address of the test Secret Service, once LiteLLM and the keyring are there."""
    from codexprov.bridge import install, layout

    venv_layout = layout.Layout(root=LITELLM_VENV.parent, venv=LITELLM_VENV)
    _require(
        install.installed_version(venv_layout) is not None,
        f"LiteLLM is not installed in {LITELLM_VENV} (run scripts/test.sh)",
    )
    _require(
        os.environ.get("CODEXPROV_TEST_SECRET_SERVICE") == "1" and bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS")),
        "no private Secret Service (run the suite through scripts/test.sh)",
    )
    _require(shutil.which("codexprov") is not None, "the codexprov executable is not on PATH (pip install -e .)")
    return os.environ["DBUS_SESSION_BUS_ADDRESS"]


# (recipe, model Codex asks for, the API the stand-in speaks for it, extra add args)
BRIDGED_RECIPES = (
    ("anthropic", "claude-sonnet-4-5", "anthropic"),
    ("gemini", "gemini-2.5-pro", "gemini"),
    ("cerebras", "gpt-oss-120b", "chat"),
    ("mistral", "devstral-medium-latest", "chat"),
    ("deepseek", "deepseek-v4-pro", "chat"),
    ("nvidia-nim", "openai/gpt-oss-120b", "chat"),
    ("llama-cpp", "local-model", "chat"),
    ("custom", "box-model", "chat"),
)


def master_key(env: dict[str, str]) -> str:
    """The bridge's master key as the private Secret Service of `env` holds it ("" when none)."""
    return subprocess.run(
        ["secret-tool", "lookup", "service", "codexprov-bridge", "username", "master-key"],
        capture_output=True,
        text=True,
        env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": env["DBUS_SESSION_BUS_ADDRESS"]},
        timeout=30,
        check=False,
    ).stdout.strip()


@dataclass
class Bridged:
    home: Path
    codex_home: Path
    bridge_dir: Path
    env: dict[str, str]  # for codexprov and Codex children: the session's HOME, bridge dir, keyring bus
    servers: dict[str, ToolTurnServer] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)
    add_outputs: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)  # recipe -> provider id

    def codexprov(self, *args: str, input: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        exe = shutil.which("codexprov")
        assert exe is not None
        return subprocess.run(
            [exe, *args], input=input, capture_output=True, text=True, env=self.env, timeout=timeout, check=False
        )

    def codex(
        self, codex_bin: Path, provider_id: str, prompt: str = "run the check", timeout: float = 150
    ) -> subprocess.CompletedProcess[str]:
        # The tool turn needs Codex to run `echo`; the container has no user namespaces for Codex's
        # sandbox, so the command runs unsandboxed (in the test's throwaway folder).
        args = [
            "-c",
            f"model_provider={provider_id}",
            "-c",
            f'model="{self.models[provider_id]}"',
            "-s",
            "danger-full-access",
        ]
        return run_codex(codex_bin, self.codex_home, prompt, args=args, env_extra=self.codex_extra, timeout=timeout)

    @property
    def codex_extra(self) -> dict[str, str]:
        keep = (
            "DBUS_SESSION_BUS_ADDRESS",
            "CODEXPROV_BRIDGE_DIR",
            "CODEXPROV_BRIDGE_VENV",
            "XDG_DATA_HOME",
            "XDG_CONFIG_HOME",
            "XDG_STATE_HOME",
        )
        return {k: self.env[k] for k in keep if k in self.env}


def session_env(home: Path, bridge_dir: Path, dbus: str) -> dict[str, str]:
    env = codex_env(home / ".codex")
    env.update(
        {
            "DBUS_SESSION_BUS_ADDRESS": dbus,
            "CODEXPROV_BRIDGE_DIR": str(bridge_dir),
            "CODEXPROV_BRIDGE_VENV": str(LITELLM_VENV),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_STATE_HOME": str(home / ".local" / "state"),
            "CODEXPROV_CODEX": str(codex_path(MATRIX_VERSION)),
        }
    )
    return env


@pytest.fixture(scope="session")
def bridged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bridged]:
    dbus = require_bridge_parts()
    root = tmp_path_factory.mktemp("bridge-session")
    home = root / "home"
    (home / ".codex").mkdir(parents=True)
    bridge_dir = root / "bridge"
    setup = Bridged(home, home / ".codex", bridge_dir, session_env(home, bridge_dir, dbus))
    tag = uuid.uuid4().hex[:6]
    try:
        for recipe, model, api in BRIDGED_RECIPES:
            provider_id = f"b-{recipe}-{tag}"
            needs_key = recipe != "llama-cpp"
            key = f"sk-upstream-{recipe}-{uuid.uuid4().hex}" if needs_key else None
            server = ToolTurnServer(expected_key=key).start()
            setup.servers[provider_id], setup.models[provider_id] = server, model
            setup.ids[recipe] = provider_id
            if key:
                setup.keys[provider_id] = key
            # The Anthropic stand-in serves /v1/messages at its root, as api.anthropic.com does.
            base = {"anthropic": server.root_url, "gemini": server.root_url + "/v1beta"}.get(api, server.base_url)
            args = ["add", recipe, "--id", provider_id, "--base-url", base]
            if recipe in ("deepseek", "nvidia-nim", "llama-cpp", "custom"):
                args.append("--bridge")  # "unknown" Responses support: direct unless asked
            if key:
                args.append("--key-stdin")
            proc = setup.codexprov(*args, input=(key + "\n") if key else None)
            assert proc.returncode == 0, proc.stderr
            setup.add_outputs[provider_id] = proc
        # One more chat endpoint, which the doctor test takes down.
        down_id = f"b-down-{tag}"
        server = ToolTurnServer().start()
        setup.servers[down_id], setup.models[down_id], setup.ids["down"] = server, "down-model", down_id
        proc = setup.codexprov(
            "add", "custom", "--id", down_id, "--base-url", server.base_url, "--bridge", "--key-mode", "none"
        )
        assert proc.returncode == 0, proc.stderr
        setup.add_outputs[down_id] = proc
        yield setup
    finally:
        setup.codexprov("bridge", "down", timeout=60)
        for provider_id in setup.servers:
            setup.codexprov("key", "rm", provider_id, timeout=30)
        for server in setup.servers.values():
            server.stop()


class Own:
    """A bridge folder (and so a port) of its own, with its own CODEX_HOME, for a test that starts,
    kills or replaces a bridge; the `own` fixture stops it and removes its keys afterwards."""

    def __init__(self, tmp_path: Path) -> None:
        dbus = require_bridge_parts()
        self.home = tmp_path / "own"
        (self.home / ".codex").mkdir(parents=True)
        self.bridge_dir = tmp_path / "own-bridge"
        self.env = session_env(self.home, self.bridge_dir, dbus)
        self.ids: list[str] = []

    def codexprov(
        self, *args: str, input: str | None = None, env_over: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "codexprov", *args],
            input=input,
            capture_output=True,
            text=True,
            env={**self.env, **(env_over or {})},
            timeout=timeout,
            check=False,
        )

    def add(self, provider_id: str, url: str, key: str) -> None:
        proc = self.codexprov(
            "add", "custom", "--id", provider_id, "--base-url", url, "--bridge", "--key-stdin", input=key + "\n"
        )
        assert proc.returncode == 0, proc.stderr
        self.ids.append(provider_id)

    @property
    def port(self) -> int:
        return int(json.loads((self.bridge_dir / "state.json").read_text())["port"])

    def master_key(self) -> str:
        out = master_key(self.env)
        assert out.startswith("sk-bridge-")
        return out

    def codex_extra(self, **over: str) -> dict[str, str]:
        keep = ("DBUS_SESSION_BUS_ADDRESS", "CODEXPROV_BRIDGE_DIR", "CODEXPROV_BRIDGE_VENV", "XDG_DATA_HOME")
        return {**{k: self.env[k] for k in keep}, **over}


@pytest.fixture
def own(tmp_path: Path) -> Iterator[Own]:
    setup = Own(tmp_path)
    yield setup
    setup.codexprov("bridge", "down", timeout=60)
    for provider_id in setup.ids:
        setup.codexprov("key", "rm", provider_id, timeout=30)
