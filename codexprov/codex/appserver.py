"""Asking a Codex app-server (JSON-RPC, one message per line on stdio, or websocket text frames on
the daemon's control socket) what the installed Codex makes of a setup.

Probed with 0.169.0 and 0.171.0:
- `modelProvider/list` reports, per provider, how Codex will authenticate it. A custom provider whose
  display name is one Codex recognises as a built-in ("OpenAI", "Amazon Bedrock", "Google Cloud
  Vertex AI"; exact, case-sensitive) is reported with auth mode `externallyConfigured` although it
  has an `env_key`: Codex treats it as that built-in (SigV4 signing, Google credentials, OpenAI
  login). Any other name gets `environmentVariable`. `builtin_names` asks exactly that.
- A running Codex reads `model_provider` again for every new conversation: the TUI on `/new`, the
  app-server (stdio, and the daemon behind `codex app-server daemon`) on `thread/start`. A
  conversation already open keeps its provider (0.133.0 to 0.171.0). 0.171's
  `modelProvider/default/set {providerId}` writes the same `model_provider` line; codexprov's own
  edit already reaches the running Codex, so `use` only asks the daemon (when one runs) which
  provider it now starts new threads on (`daemon_default`).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["AppServerError", "builtin_names", "control_socket", "daemon_default"]

CLIENT_INFO = {"name": "codexprov", "version": "0"}


class AppServerError(Exception):
    """The app-server could not be started or asked, or it answered with an error."""


def _quiet_env(codex_home: Path) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(codex_home.parent),
        "CODEX_HOME": str(codex_home),
    }
    for name in ("SYSTEMROOT", "TEMP", "TMP", "USERPROFILE", "LANG"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def _stdio_call(binary: Path, codex_home: Path, method: str, params: Mapping[str, Any], timeout: float) -> Any:
    """Start `codex app-server` (stdio) on codex_home, initialize, make one call, stop it."""
    import queue
    import subprocess
    import threading

    command = [
        str(binary),
        "app-server",
        "-c",
        "check_for_update_on_startup=false",
        "-c",
        "analytics.enabled=false",
    ]
    try:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_quiet_env(codex_home),
            cwd=str(codex_home.parent),
            text=True,
            encoding="utf-8",
        )
    except OSError as err:
        raise AppServerError(f"`{binary} app-server` could not start ({err.strerror or err})") from err
    deadline = time.monotonic() + timeout
    try:
        assert proc.stdin is not None and proc.stdout is not None
        messages = [
            {"id": 1, "method": "initialize", "params": {"clientInfo": CLIENT_INFO}},
            {"method": "initialized"},
            {"id": 2, "method": method, "params": dict(params)},
        ]
        try:
            proc.stdin.write("".join(json.dumps(m) + "\n" for m in messages))
            proc.stdin.flush()
        except OSError as err:  # it exited at once: not an app-server (an old or a fake `codex`)
            raise AppServerError(f"`{binary} app-server` did not take a request ({err.strerror or err})") from err
        # A reader thread, not select(): select() takes no pipes on Windows.
        lines: queue.Queue[str] = queue.Queue()
        stdout = proc.stdout

        def pump() -> None:
            for text in iter(stdout.readline, ""):
                lines.put(text)
            lines.put("")

        threading.Thread(target=pump, daemon=True).start()
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if not line:
                raise AppServerError(f"`{binary} app-server` exited before answering {method}")
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if message.get("id") == 2 and "method" not in message:
                if "error" in message:
                    raise AppServerError(f"{method}: {message['error'].get('message')}")
                return message.get("result")
        raise AppServerError(f"`{binary} app-server` gave no answer to {method} within {timeout:g} s")
    finally:
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def builtin_names(binary: Path, names: Iterable[str], timeout: float = 20) -> frozenset[str]:
    """Which of `names` the installed Codex treats as the display name of one of its built-in
    providers (needs `modelProvider/list`: 0.169 and newer). Raises AppServerError."""
    import tempfile

    wanted = list(dict.fromkeys(n for n in names if n))
    if not wanted:
        return frozenset()
    with tempfile.TemporaryDirectory(prefix="codexprov-names-") as tmp:
        codex_home = Path(tmp) / ".codex"
        codex_home.mkdir()
        lines = ['model_provider = "p0"']
        for i, name in enumerate(wanted):
            lines += [
                f"[model_providers.p{i}]",
                f"name = {json.dumps(name)}",
                'base_url = "http://127.0.0.1:9/v1"',
                'env_key = "CODEXPROV_PROBE_KEY"',
            ]
        (codex_home / "config.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        listed = _stdio_call(binary, codex_home, "modelProvider/list", {}, timeout)
    special = set()
    for entry in (listed or {}).get("data") or []:
        pid = str(entry.get("id", ""))
        if not pid.startswith("p") or not pid[1:].isdigit() or int(pid[1:]) >= len(wanted):
            continue
        settings = entry.get("settings") or {}
        auth = settings.get("auth") or {}
        if settings.get("type") != "customGateway" or auth.get("mode") != "environmentVariable":
            special.add(wanted[int(pid[1:])])
    return frozenset(special)


# ---------------------------------------------------------------------------- the daemon


def control_socket(codex_home: Path) -> Path:
    """Where `codex app-server daemon` listens (0.171: CODEX_HOME/app-server-control/…sock)."""
    return codex_home / "app-server-control" / "app-server-control.sock"


def daemon_default(codex_home: Path, timeout: float = 2) -> str | None:
    """The provider a running app-server daemon starts new threads on (`modelProvider/list`'s
    defaultProviderId); None when no daemon answers on its control socket."""
    import socket

    path = control_socket(codex_home)
    if not hasattr(socket, "AF_UNIX") or not path.exists():
        return None
    try:
        with _Websocket(path, timeout) as ws:
            ws.call(1, "initialize", {"clientInfo": CLIENT_INFO})
            ws.send({"method": "initialized"})
            listed = ws.call(2, "modelProvider/list", {})
    except (OSError, ValueError, AppServerError):
        return None
    default = (listed or {}).get("defaultProviderId")
    return default if isinstance(default, str) else None


class _Websocket:
    """A minimal websocket client (RFC 6455: text frames, masked) over a unix socket."""

    def __init__(self, path: Path, timeout: float) -> None:
        import base64
        import socket
        import tempfile

        self.deadline = time.monotonic() + timeout
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)  # type: ignore[attr-defined,unused-ignore]
        self.sock.settimeout(timeout)
        self.buf = b""
        if len(os.fsencode(path)) < 100:
            self.sock.connect(str(path))
        else:
            # Longer than sun_path takes (108 bytes on Linux, 104 on macOS): through a short link.
            with tempfile.TemporaryDirectory(prefix="cxp-") as short:
                link = Path(short) / "s"
                link.symlink_to(path)
                self.sock.connect(str(link))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        while b"\r\n\r\n" not in self.buf:
            self._more()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n", 1)[0] + b" ":
            raise AppServerError("the control socket refused the websocket upgrade")

    def __enter__(self) -> _Websocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def _more(self) -> None:
        if time.monotonic() > self.deadline:
            raise AppServerError("no answer from the control socket in time")
        chunk = self.sock.recv(65536)
        if not chunk:
            raise AppServerError("the control socket closed")
        self.buf += chunk

    def _take(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._more()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, message: Mapping[str, Any]) -> None:
        import struct

        data = json.dumps(message).encode()
        mask = os.urandom(4)
        n = len(data)
        if n < 126:
            head = bytes([0x81, 0x80 | n])
        elif n < 65536:
            head = bytes([0x81, 0x80 | 126]) + struct.pack(">H", n)
        else:
            head = bytes([0x81, 0x80 | 127]) + struct.pack(">Q", n)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def receive(self) -> Any:
        import struct

        payload = b""
        while True:
            first, second = self._take(2)
            opcode, size = first & 0x0F, second & 0x7F
            if size == 126:
                size = struct.unpack(">H", self._take(2))[0]
            elif size == 127:
                size = struct.unpack(">Q", self._take(8))[0]
            mask = self._take(4) if second & 0x80 else b"\0\0\0\0"
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(self._take(size)))
            if opcode == 8:
                raise AppServerError("the control socket closed the connection")
            if opcode in (9, 10):
                continue  # ping / pong
            payload += data
            if first & 0x80:
                return json.loads(payload)

    def call(self, request_id: int, method: str, params: Mapping[str, Any]) -> Any:
        self.send({"id": request_id, "method": method, "params": dict(params)})
        while True:
            message = self.receive()
            if isinstance(message, dict) and message.get("id") == request_id and "method" not in message:
                if "error" in message:
                    raise AppServerError(f"{method}: {message['error'].get('message')}")
                return message.get("result")
