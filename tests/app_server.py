"""Drive the real `codex app-server` over its JSON-RPC (one JSON object per line on stdin/stdout),
the way Codex's own TUI and IDE extensions edit config.toml. Every wait has a timeout."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
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
        # One thread reads stdout line by line into a queue. Waiting with select() on the pipe and
        # then calling readline() loses lines: readline() pulls every line the server already wrote
        # into Python's buffer, select() then sees an empty pipe, and the answer sits unread.
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read_lines, daemon=True).start()
        self.call("initialize", {"clientInfo": {"name": "codexprov-tests", "version": "0"}})
        self._send({"method": "initialized"})

    def _read_lines(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put("")  # end of output: the server exited

    def _send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()

    def call(self, method: str, params: dict[str, Any]) -> Any:
        """The result of one request; AppServerError with the server's error, or on timeout."""
        self._next += 1
        request_id = self._next
        self._send({"id": request_id, "method": method, "params": params})
        deadline = time.monotonic() + self.timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                break
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
