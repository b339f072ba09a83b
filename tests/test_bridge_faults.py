"""Fault paths of the bridge with the real parts: two `add`s racing, LiteLLM not installed and the
bridge's port taken (what Codex then shows). Each test has a bridge folder of its own; none starts
a LiteLLM (the session bridge in test_bridge_codex covers starts, crashes and upstream failures)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.bridge_fixtures import require_bridge_parts, session_env
from tests.codexrun import run_codex

pytestmark = [pytest.mark.codex, pytest.mark.keyring]


@pytest.fixture
def own_bridge(tmp_path: Path):
    dbus = require_bridge_parts()
    home = tmp_path / "own"
    (home / ".codex").mkdir(parents=True)
    env = session_env(home, tmp_path / "own-bridge", dbus)
    exe = shutil.which("codexprov")
    assert exe is not None

    def codexprov(*args: str, env_over: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [exe, *args], env={**env, **(env_over or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    yield home, env, codexprov
    subprocess.run([exe, "bridge", "down"], env=env, capture_output=True, timeout=60, check=False)


def _codex_stderr(codex_bin: Path, home: Path, pid: str, env_extra: dict[str, str]) -> str:
    """What Codex shows when the auth command fails. Codex 0.169 logs the command's error line and
    then waits for the network without end (nothing answers on the bridge's port), so the run is
    cut after a few seconds and its stderr read."""
    try:
        proc = run_codex(
            codex_bin, home / ".codex", args=["-c", f"model_provider={pid}"], env_extra=env_extra, timeout=12
        )
    except subprocess.TimeoutExpired as err:
        return (err.stderr or b"").decode() if isinstance(err.stderr, bytes) else (err.stderr or "")
    assert proc.returncode == 1
    return proc.stderr


def _add(codexprov, pid: str, url: str, **kw) -> subprocess.Popen[str]:
    return codexprov("add", "custom", "--id", pid, "--base-url", url, "--bridge", "--key-mode", "none", **kw)


def test_two_adds_racing_both_land_on_one_port(own_bridge):
    home, env, codexprov = own_bridge
    ids = [f"race-{n}-{uuid.uuid4().hex[:6]}" for n in range(2)]
    procs = [_add(codexprov, pid, f"http://127.0.0.1:9/{pid}/v1") for pid in ids]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    state = json.loads((Path(env["CODEXPROV_BRIDGE_DIR"]) / "state.json").read_text())
    assert sorted(u["provider_id"] for u in state["upstreams"]) == sorted(ids)
    config = (home / ".codex" / "config.toml").read_text()
    for pid in ids:
        assert f"[model_providers.{pid}]" in config
    assert config.count(f'base_url = "http://127.0.0.1:{state["port"]}/v1"') == 2
    litellm = (Path(env["CODEXPROV_BRIDGE_DIR"]) / "litellm.yaml").read_text()
    assert all(f'"tags": [\n          "{pid}"' in litellm for pid in ids)


def test_litellm_not_installed_codex_says_how_to_fix(own_bridge, codex_bin, fake_server):
    home, env, codexprov = own_bridge
    missing = str(home / "no-litellm")
    add = _add(codexprov, "nolite", fake_server.base_url, env_over={"CODEXPROV_BRIDGE_VENV": missing})
    _, talk = add.communicate(timeout=120)
    assert add.returncode == 0, talk
    assert "next: install the bridge's LiteLLM with `codexprov bridge install` (a virtualenv of its own)" in talk

    extra = {k: env[k] for k in ("DBUS_SESSION_BUS_ADDRESS", "CODEXPROV_BRIDGE_DIR", "XDG_DATA_HOME")}
    stderr = _codex_stderr(codex_bin, home, "nolite", {**extra, "CODEXPROV_BRIDGE_VENV": missing})
    assert f"codexprov token: the bridge's LiteLLM is not installed (looked in {missing})" in stderr
    assert not fake_server.requests


def test_port_taken_codex_says_which_port_and_the_way_out(own_bridge, codex_bin, fake_server):
    home, env, codexprov = own_bridge
    add = _add(codexprov, "squat", fake_server.base_url)
    _, talk = add.communicate(timeout=120)
    assert add.returncode == 0, talk
    port = json.loads((Path(env["CODEXPROV_BRIDGE_DIR"]) / "state.json").read_text())["port"]
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        extra = {
            k: env[k]
            for k in ("DBUS_SESSION_BUS_ADDRESS", "CODEXPROV_BRIDGE_DIR", "CODEXPROV_BRIDGE_VENV", "XDG_DATA_HOME")
        }
        stderr = _codex_stderr(codex_bin, home, "squat", extra)
    assert f"codexprov token: port {port} on 127.0.0.1, the bridge's, is taken by another program" in stderr
    assert "codexprov bridge restart --new-port" in stderr
    assert not fake_server.requests

    # The way out it names: the bridge moves, config.toml follows, and Codex gets through.
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        moved = codexprov("bridge", "restart", "--new-port")
        _, talk = moved.communicate(timeout=120)
    assert moved.returncode == 0, talk
    new_port = json.loads((Path(env["CODEXPROV_BRIDGE_DIR"]) / "state.json").read_text())["port"]
    assert new_port != port
    assert f"bridge restarted on http://127.0.0.1:{new_port}/v1" in talk
    assert "point squat at the bridge: wrote" in talk
    assert f'base_url = "http://127.0.0.1:{new_port}/v1"' in (home / ".codex" / "config.toml").read_text()
    proc = run_codex(
        codex_bin,
        home / ".codex",
        args=["-c", "model_provider=squat", "-c", 'model="fake-model"'],
        env_extra=extra,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "pong" in proc.stdout
    assert fake_server.requests_to("/chat/completions", "POST")


def test_remove_takes_the_provider_off_the_bridge(own_bridge, fake_server):
    _home, env, codexprov = own_bridge
    for pid in ("keep", "gone"):
        add = _add(codexprov, pid, fake_server.base_url)
        _, talk = add.communicate(timeout=120)
        assert add.returncode == 0, talk
    removed = codexprov("remove", "gone")
    _, talk = removed.communicate(timeout=120)
    assert removed.returncode == 0, talk
    assert "gone removed from the bridge" in talk
    bridge_dir = Path(env["CODEXPROV_BRIDGE_DIR"])
    assert [u["provider_id"] for u in json.loads((bridge_dir / "state.json").read_text())["upstreams"]] == ["keep"]
    assert '"gone"' not in (bridge_dir / "litellm.yaml").read_text()
