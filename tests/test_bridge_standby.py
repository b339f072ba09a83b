"""A standby bridge (`codexprov bridge standby`), with the real parts: LiteLLM loads ahead of need
holding no key and no port; Codex's first turn starts the bridge through `codexprov token`, which
hands the standby the port and the keys instead of waiting for LiteLLM's import. A bridge folder
of its own."""

from __future__ import annotations

import json
import socket
import time
import uuid
from pathlib import Path

import pytest

from tests.codexrun import run_codex

pytestmark = [pytest.mark.codex, pytest.mark.keyring]


def _environ_of(pid: int) -> bytes:
    return Path(f"/proc/{pid}/environ").read_bytes()


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_standby_takes_the_handoff_on_codexs_first_turn(own, codex_bin, make_fake_server):
    upstream_key = f"sk-upstream-{uuid.uuid4().hex}"
    server = make_fake_server(responses_route=False, expected_key=upstream_key, reply_text="served by the standby")
    provider_id = f"standby-{uuid.uuid4().hex[:6]}"
    own.add(provider_id, server.base_url, upstream_key)

    loaded = own.codexprov("bridge", "standby")
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stderr.startswith("standby LiteLLM loading (pid ")
    runner = json.loads((own.bridge_dir / "standby.json").read_text())["pid"]
    log = own.bridge_dir / "bridge.log"
    deadline = time.monotonic() + 120
    while "standby ready" not in (log.read_text() if log.exists() else "") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "codexprov bridge: standby ready (LiteLLM loaded, no key yet)" in log.read_text()
    again = own.codexprov("bridge", "standby")
    alive = Path(f"/proc/{runner}").exists()
    assert again.stderr.startswith(f"standby LiteLLM already loaded (pid {runner})"), (
        alive,
        (own.bridge_dir / "standby.json").read_text(),
        Path(f"/proc/{runner}/cmdline").read_bytes() if alive else None,
        log.read_text()[-2000:],
    )
    shown = own.codexprov("bridge", "status")
    assert (
        f"standby:   LiteLLM loaded ahead of need (pid {runner}); the next start takes about a second\n" in shown.stdout
    )
    # Loaded, but holding no key and no port.
    (litellm,) = _children(runner)
    master = own.master_key()
    for pid in (runner, litellm):
        environ = _environ_of(pid)
        assert master.encode() not in environ and upstream_key.encode() not in environ
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", own.port))

    proc = run_codex(
        codex_bin,
        own.home / ".codex",
        args=["-c", f"model_provider={provider_id}", "-c", 'model="fake-model"'],
        env_extra=own.codex_extra(),
        timeout=120,
    )

    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "served by the standby" in proc.stdout
    assert server.requests_to("/chat/completions", "POST")[0].headers["authorization"] == f"Bearer {upstream_key}"
    run = json.loads((own.bridge_dir / "run.json").read_text())
    assert run["pid"] == runner  # the standby became the bridge: no second LiteLLM was started
    assert not (own.bridge_dir / "standby.json").exists() and not (own.bridge_dir / "standby.sock").exists()
    assert log.read_text().count("--- codexprov bridge starting") == 1
    text = log.read_text()
    assert master not in text and upstream_key not in text
    status = json.loads(own.codexprov("bridge", "status", "--json").stdout)
    assert (status["health"], status["pid"], status["standby"]) == ("up", runner, None)

    down = own.codexprov("bridge", "down")
    assert down.returncode == 0, down.stderr
    assert down.stderr == f"bridge stopped (pid {runner})\n"
    deadline = time.monotonic() + 20
    while Path(f"/proc/{litellm}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{litellm}").exists()
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", own.port))
