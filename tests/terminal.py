"""A real terminal for tests: run a command on a pseudo-terminal (stdin, stdout and stderr all on
it, as in an interactive shell), wait for text and type answers, like `expect`."""

from __future__ import annotations

import os
import re
import select
import subprocess
import time
from pathlib import Path


class Terminal:
    def __init__(self, argv: list[str], *, env: dict[str, str], cwd: Path | None = None, cols: int = 200):
        import fcntl
        import struct
        import termios

        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, cols, 0, 0))
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd, close_fds=True, start_new_session=True
        )
        os.close(slave)
        self.output = ""

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: the other side closed
            return False
        if not chunk:
            return False
        self.output += chunk.decode("utf-8", "replace")
        return True

    def expect(self, pattern: str, timeout: float = 30) -> str:
        """Wait until the output so far matches `pattern` (a regex); returns the output."""
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.output):
            if time.monotonic() > deadline or not self._read(min(0.2, max(0.0, deadline - time.monotonic()))):
                if re.search(pattern, self.output):
                    break
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise AssertionError(f"did not see {pattern!r}; the terminal shows:\n{self.output}")
        return self.output

    def send(self, text: str) -> None:
        os.write(self.master, text.encode("utf-8"))

    def wait(self, timeout: float = 30) -> int:
        """Read until the program exits; its exit code."""
        deadline = time.monotonic() + timeout
        while self._read(0.1) and time.monotonic() < deadline:
            if self.proc.poll() is not None:
                while self._read(0.05):
                    pass
                break
        code = self.proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        os.close(self.master)
        return code


def run(argv: list[str], *, env: dict[str, str], timeout: float = 30) -> tuple[int, str]:
    term = Terminal(argv, env=env)
    code = term.wait(timeout)
    return code, term.output
