"""Drive the real `codex app-server` over its JSON-RPC (one JSON object per line on stdin/stdout),
the way Codex's own TUI and IDE extensions edit config.toml. Every wait has a timeout."""

from __future__ import annotations

import json
import select
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.codexrun import codex_env


class AppServerError(Exception):
    pass


class AppServer:
    def __init__(
        self, codex_bin: Path, codex_home: Path, timeout: float = 30, env_extra: dict[str, str] | None = None
    ) -> None:
        self.timeout = timeout
        self._next = 0
        self.proc = subprocess.Popen(
            [str(codex_bin), "app-server", "-c", "check_for_update_on_startup=false", "-c", "analytics.enabled=false"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=codex_env(codex_home, env_extra),
            cwd=str(codex_home.parent),
            text=True,
        )
        self.call("initialize", {"clientInfo": {"name": "codexprov-tests", "version": "0"}})
        self._send({"method": "initialized"})

    def _send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()

    def call(self, method: str, params: dict[str, Any]) -> Any:
        """The result of one request; AppServerError with the server's error, or on timeout."""
        self._next += 1
        request_id = self._next
        self._send({"id": request_id, "method": method, "params": params})
        assert self.proc.stdout is not None
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if not ready:
                continue
            line = self.proc.stdout.readline()
            if not line:
                raise AppServerError(f"{method}: the app-server exited ({self.proc.poll()})")
            message = json.loads(line)
            if message.get("id") != request_id or "method" in message:
                continue  # a notification, or a request from the server
            if "error" in message:
                raise AppServerError(f"{method}: {message['error'].get('message')}")
            return message.get("result")
        raise AppServerError(f"{method}: no answer within {self.timeout} s")

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def __enter__(self) -> AppServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
