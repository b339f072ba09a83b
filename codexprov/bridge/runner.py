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
import os
import re
import signal
import subprocess
import sys
import time

from codexprov.redact import mask, redact_text

SECRET_VARS_ENV = "CODEXPROV_BRIDGE_SECRET_VARS"
FD_ENV = "CODEXPROV_BRIDGE_FD"  # serve.FD_VAR
PARENT_ENV = "CODEXPROV_BRIDGE_PARENT"  # serve.PARENT_VAR
MAX_LOG_BYTES = 5_000_000
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _masker(secrets: list[str]):
    ordered = sorted({s for s in secrets if s}, key=len, reverse=True)

    def clean(line: str) -> str:
        line = _ANSI.sub("", line)
        for secret in ordered:
            if secret in line:
                line = line.replace(secret, mask(secret))
        return redact_text(line)

    return clean


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
    clean = _masker([os.environ.get(n, "") for n in names])
    env = {k: v for k, v in os.environ.items() if k != SECRET_VARS_ENV}
    fd = _open_log(log_path)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    os.write(fd, f"--- codexprov bridge starting {stamp} (pid {os.getpid()})\n".encode())
    # The listening socket codexprov bound (serve.py serves on it): handed on, and not kept here,
    # so that the port is free as soon as LiteLLM is gone.
    listen_fd = int(env.get(FD_ENV) or -1)
    env[PARENT_ENV] = str(os.getpid())
    try:
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            pass_fds=(listen_fd,) if listen_fd >= 0 else (),
        )
    except OSError as err:
        os.write(fd, f"--- could not start LiteLLM: {err.strerror or err}\n".encode())
        return 127
    finally:
        if listen_fd >= 0:
            with contextlib.suppress(OSError):
                os.close(listen_fd)

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
