"""`python -m codexprov.bridge.runner LOG -- LITELLM_PYTHON serve.py ARGS...`: runs LiteLLM and writes its output
to LOG with every secret masked, so that no key reaches the log file (LiteLLM's own redaction covers
its callbacks, not every line it prints).

The secrets are the values of the variables named in CODEXPROV_BRIDGE_SECRET_VARS (the bridge's
master key and the upstream keys, which this process got in its environment, never on a command
line). Stdlib and codexprov.redact only. Stops LiteLLM when it is told to stop (SIGTERM, SIGINT,
SIGHUP) and exits with LiteLLM's exit code.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

from codexprov.redact import mask, redact_text

SECRET_VARS_ENV = "CODEXPROV_BRIDGE_SECRET_VARS"
FD_ENV = "CODEXPROV_BRIDGE_FD"  # serve.FD_VAR
PARENT_ENV = "CODEXPROV_BRIDGE_PARENT"  # serve.PARENT_VAR
HANDOFF_ENV = "CODEXPROV_BRIDGE_HANDOFF_FD"  # serve.HANDOFF_VAR
STANDBY_ENV = "CODEXPROV_BRIDGE_STANDBY"  # the Unix socket a standby waits on
MAX_LOG_BYTES = 5_000_000
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class _Masker:
    """Masks the secrets it knows (more arrive with a standby's handoff) and what redact finds."""

    def __init__(self, secrets: list[str]) -> None:
        self.ordered: list[str] = []
        self.add(secrets)

    def add(self, secrets: list[str]) -> None:
        self.ordered = sorted({s for s in [*self.ordered, *secrets] if s}, key=len, reverse=True)

    def __call__(self, line: str) -> str:

        line = _ANSI.sub("", line)
        for secret in self.ordered:
            if secret in line:
                line = line.replace(secret, mask(secret))
        return redact_text(line)


def _relay_handoff(path: str, to_child: socket.socket, masker: _Masker, log_fd: int) -> None:
    """Standby: wait on the Unix socket `path` (0600, in the bridge's 0700 folder) for codexprov's
    handoff (the listening socket and the keys), learn the keys for masking, pass it all to LiteLLM."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        old = os.umask(0o177)
        try:
            server.bind(path)
        finally:
            os.umask(old)
        server.listen(1)
        conn, _ = server.accept()
    except OSError as err:
        os.write(log_fd, f"--- standby: no handoff socket: {err.strerror or err}\n".encode())
        return
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        server.close()
    with conn:
        data, fds, _flags, _addr = socket.recv_fds(conn, 1 << 20, 4)
        try:
            env = json.loads(data.decode("utf-8")).get("env") or {}
            masker.add([str(v) for v in env.values()])
            socket.send_fds(to_child, [data], fds)
            conn.sendall(b"ok\n")
        finally:
            for handed in fds:
                with contextlib.suppress(OSError):
                    os.close(handed)


def _open_log(path: str) -> int:
    try:
        if os.path.getsize(path) > MAX_LOG_BYTES:
            os.replace(path, path + ".1")
    except OSError:
        pass
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        sys.stderr.write("usage: python -m codexprov.bridge.runner LOG -- COMMAND...\n")
        return 2
    log_path, command = argv[0], argv[2:]
    names = [n for n in os.environ.get(SECRET_VARS_ENV, "").split(",") if n]
    clean = _Masker([os.environ.get(n, "") for n in names])
    env = {k: v for k, v in os.environ.items() if k not in (SECRET_VARS_ENV, STANDBY_ENV)}
    standby_path = os.environ.get(STANDBY_ENV)
    fd = _open_log(log_path)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    os.write(fd, f"--- codexprov bridge starting {stamp} (pid {os.getpid()})\n".encode())
    # The listening socket codexprov bound (serve.py serves on it): handed on, and not kept here,
    # so that the port is free as soon as LiteLLM is gone.
    listen_fd = int(env.get(FD_ENV) or -1)
    env[PARENT_ENV] = str(os.getpid())
    passed = [listen_fd] if listen_fd >= 0 else []
    to_child = from_runner = None
    if standby_path:
        # A standby: LiteLLM loads now, and gets its socket and keys later through this pair.
        to_child, from_runner = socket.socketpair()
        passed.append(from_runner.fileno())
        env[HANDOFF_ENV] = str(from_runner.fileno())
    try:
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            pass_fds=tuple(passed),
        )
    except OSError as err:
        os.write(fd, f"--- could not start LiteLLM: {err.strerror or err}\n".encode())
        return 127
    finally:
        if listen_fd >= 0:
            with contextlib.suppress(OSError):
                os.close(listen_fd)
        if from_runner is not None:
            from_runner.close()
    if standby_path and to_child is not None:
        threading.Thread(
            target=_relay_handoff, args=(standby_path, to_child, clean, fd), daemon=True, name="handoff"
        ).start()

    def stop(signum: int, frame: object) -> None:
        if child.poll() is None:
            child.terminate()

    for name in ("SIGTERM", "SIGINT", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), stop)
    assert child.stdout is not None
    for raw in iter(child.stdout.readline, b""):
        os.write(fd, clean(raw.decode("utf-8", "replace")).encode())
    code = child.wait()
    os.write(fd, f"--- codexprov bridge stopped (LiteLLM exit {code})\n".encode())
    os.close(fd)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
