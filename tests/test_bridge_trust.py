"""Codex's key to the bridge goes only to codexprov's own bridge, with the real parts: the real
Secret Service, the real LiteLLM, the real Codex.

- An impostor on the kept port (while the bridge is down, and trying to take the port while a start
  is under way) gets nothing: no master key, no prompt.
- A stale run.json whose pid now belongs to an unrelated process leaves that process alive.
- `kill -9` of the runner, then `bridge down`, leaves the port free.
- A hand-edited base_url gets no master key; a bridged table seen from another data dir gets no
  upstream key.

Each test has a bridge folder of its own (and so a port of its own); only one starts a LiteLLM.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.bridge_fixtures import Own
from tests.codexrun import run_codex

pytestmark = [pytest.mark.codex, pytest.mark.keyring]


class Impostor:
    """Answers everything on a given port like a healthy LiteLLM would ("alive", 200), records what
    it is sent, and fakes an identity answer (it cannot compute the proof)."""

    def __init__(self, port: int) -> None:
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []
        impostor = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                impostor.seen.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                if self.path.startswith("/codexprov/identity"):
                    payload = json.dumps({"pid": os.getpid(), "proof": "0" * 64}).encode()
                else:
                    payload = b'"I\'m alive!"'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_POST = do_GET

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def carried(self, secret: str) -> bool:
        return any(secret in json.dumps(headers) or secret.encode() in body for _, _, headers, body in self.seen)


def _codex_stderr(codex_bin: Path, own: Own, provider_id: str, **env_over: str) -> str:
    """What Codex shows when the auth command refuses (Codex 0.169 then waits without end: cut)."""
    try:
        proc = run_codex(
            codex_bin,
            own.home / ".codex",
            args=["-c", f"model_provider={provider_id}", "-c", 'model="fake-model"'],
            env_extra=own.codex_extra(**env_over),
            timeout=15,
        )
    except subprocess.TimeoutExpired as err:
        return (err.stderr or b"").decode() if isinstance(err.stderr, bytes) else (err.stderr or "")
    return proc.stderr


def test_impostor_on_the_port_while_down_gets_nothing(own, codex_bin, fake_server):
    upstream_key = f"sk-upstream-{uuid.uuid4().hex}"
    provider_id = f"trust-{uuid.uuid4().hex[:6]}"
    own.add(provider_id, fake_server.base_url, upstream_key)
    impostor = Impostor(own.port)
    try:
        token = own.codexprov("token", provider_id)
        stderr = _codex_stderr(codex_bin, own, provider_id)
        status = json.loads(own.codexprov("bridge", "status", "--json").stdout)
    finally:
        impostor.stop()
    master = own.master_key()
    assert token.returncode == 5
    assert token.stdout == ""
    expected = (
        f"codexprov token: something else answers on port {own.port} on 127.0.0.1, the bridge's, and it is not "
        "codexprov's bridge (the identity proof does not match this keyring's master key); the bridge's master key "
        "is not handed out"
    )
    assert token.stderr.startswith(expected), token.stderr
    assert expected in stderr
    assert status["health"] == "other" and status["running"] is False
    # What the impostor got from codexprov: identity challenges (a nonce each), never a key. Codex
    # 0.169, once its auth command has failed, still sends the turn without an Authorization header
    # (a Codex behaviour: README, "The bridge's port"); no key travels with it.
    paths = {path.split("?")[0] for _, path, _, _ in impostor.seen}
    assert "/codexprov/identity" in paths and paths <= {"/codexprov/identity", "/v1/models", "/v1/responses"}
    assert not impostor.carried(master) and not impostor.carried(upstream_key)
    assert not any("authorization" in headers for _, _, headers, _ in impostor.seen)
    assert not fake_server.requests


def test_stale_pid_start_race_kill9_and_down(own, fake_server, tmp_path):
    """One LiteLLM start: a stale run.json names a live unrelated process (it survives `token` and
    `bridge down`); while `token` starts the bridge, nothing else can take the port; after `kill -9`
    of the runner, `bridge down` leaves the port free."""
    upstream_key = f"sk-upstream-{uuid.uuid4().hex}"
    provider_id = f"trust-{uuid.uuid4().hex[:6]}"
    own.add(provider_id, fake_server.base_url, upstream_key)
    port = own.port
    # An unrelated process, leader of its own process group, whose pid a stale run.json names.
    bystander = subprocess.Popen(["sleep", "600"], start_new_session=True)
    try:
        stale = {"pid": bystander.pid, "port": port, "started": time.time() - 86400, "fingerprint": "linux:old-boot"}
        (own.bridge_dir / "run.json").write_text(json.dumps(stale))
        down = own.codexprov("bridge", "down")
        assert down.returncode == 0, down.stderr
        assert down.stderr == "bridge was not running\n"
        assert bystander.poll() is None

        (own.bridge_dir / "run.json").write_text(json.dumps(stale))
        token = subprocess.Popen(
            [sys.executable, "-m", "codexprov", "token", provider_id],
            env=own.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # From the moment the start has the port (run.json names the new runner) until LiteLLM
        # answers, another program trying to take the port fails every time.
        deadline = time.monotonic() + 60
        while token.poll() is None and time.monotonic() < deadline:
            try:
                run = json.loads((own.bridge_dir / "run.json").read_text())
            except FileNotFoundError:  # the stale one is gone, the new one not written yet
                run = {"pid": bystander.pid}
            if run["pid"] != bystander.pid:
                break
            time.sleep(0.02)
        taken_by_us = 0
        stolen = 0
        while token.poll() is None:
            with socket.socket() as thief:
                try:
                    thief.bind(("127.0.0.1", port))
                    thief.listen()
                    stolen += 1
                except OSError:
                    taken_by_us += 1
            time.sleep(0.05)
        out, err = token.communicate()
        assert token.returncode == 0, err
        master = own.master_key()
        assert out == master + "\n"
        assert stolen == 0
        assert taken_by_us > 10  # LiteLLM takes seconds to load; the port was ours all along
        assert bystander.poll() is None

        run = json.loads((own.bridge_dir / "run.json").read_text())
        assert run["pid"] != bystander.pid
        os.kill(run["pid"], signal.SIGKILL)
        deadline = time.monotonic() + 20
        while Path(f"/proc/{run['pid']}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        down = own.codexprov("bridge", "down")
        assert down.returncode == 0, down.stderr
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", port))  # free: no LiteLLM left behind
        assert bystander.poll() is None
        ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=False).stdout
        assert str(own.bridge_dir / "litellm.yaml") not in ps
    finally:
        bystander.kill()
        bystander.wait()


def test_hand_edited_base_url_gets_no_master_key(own, codex_bin, make_fake_server):
    upstream = make_fake_server(responses_route=False)
    elsewhere = make_fake_server()
    provider_id = f"trust-{uuid.uuid4().hex[:6]}"
    own.add(provider_id, upstream.base_url, f"sk-upstream-{uuid.uuid4().hex}")
    config = own.home / ".codex" / "config.toml"
    bridge_url = f"http://127.0.0.1:{own.port}/v1"
    text = config.read_text()
    assert f'base_url = "{bridge_url}"' in text
    config.write_text(text.replace(f'base_url = "{bridge_url}"', f'base_url = "{elsewhere.base_url}"'))

    token = own.codexprov("token", provider_id)
    stderr = _codex_stderr(codex_bin, own, provider_id)

    assert token.returncode == 5 and token.stdout == ""
    expected = (
        f"codexprov token: provider '{provider_id}' in {config} has base_url '{elsewhere.base_url}', not the bridge "
        f"({bridge_url}); the bridge's master key goes only to the bridge"
    )
    assert token.stderr.startswith(expected), token.stderr
    assert expected in stderr
    master = own.master_key()
    assert all(master not in json.dumps(r.headers) for r in elsewhere.requests)
    assert not (own.bridge_dir / "run.json").exists()  # nothing was started for it


def test_bridged_table_from_another_data_dir_gets_no_upstream_key(own, fake_server):
    upstream_key = f"sk-upstream-{uuid.uuid4().hex}"
    provider_id = f"trust-{uuid.uuid4().hex[:6]}"
    own.add(provider_id, fake_server.base_url, upstream_key)
    other_data = own.home / "ide-data"
    token = own.codexprov(
        "token",
        provider_id,
        env_over={"XDG_DATA_HOME": str(other_data), "CODEXPROV_BRIDGE_DIR": ""},
    )
    assert token.returncode == 5
    assert token.stdout == ""
    config = own.home / ".codex" / "config.toml"
    assert token.stderr == (
        f"codexprov token: provider '{provider_id}' in {config} goes through codexprov's bridge "
        f"(http://127.0.0.1:{own.port}/v1), but the bridge folder this command sees "
        f"({other_data / 'codexprov' / 'bridge'}) does not serve it; its upstream key is not handed to the bridge's "
        "URL (run Codex with the XDG_DATA_HOME / CODEXPROV_BRIDGE_DIR that set the bridge up)\n"
    )
    assert upstream_key not in token.stderr
