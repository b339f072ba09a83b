"""Is what listens on the bridge's port codexprov's own bridge, and is a pid the one codexprov started?

Two proofs, both stdlib only (this module is on `codexprov token`'s path):

- **The challenge.** The bridge (codexprov/bridge/serve.py, in front of LiteLLM) answers
  `GET /codexprov/identity?nonce=N` with its pid and HMAC-SHA256(master key, port, pid, nonce). Only a
  process that holds the master key can answer; the key itself never crosses the socket, and an
  answer relayed from a bridge on another port (another data dir, same keyring) names the wrong port.
  `token` hands out the master key only after this proof; `bridge down` signals the pid it proves.
- **The fingerprint of a pid.** `run.json` records the runner's pid with its start time and command
  line; a pid is signalled only while both still match (after a reboot the pid may be anybody's).
  Linux reads /proc; other POSIX systems ask `ps`; elsewhere there is no fingerprint and no pid is
  signalled on the strength of run.json alone.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

HOST = "127.0.0.1"
IDENTITY_PATH = "/codexprov/identity"


def proof(master_key: str, port: int, pid: int, nonce: str) -> str:
    """What only a holder of the master key can compute (serve.py computes the same)."""
    message = f"codexprov-bridge-identity\n{port}\n{pid}\n{nonce}".encode()
    return hmac.new(master_key.encode(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Seen:
    """What answers on the bridge's port.

    status: "ours" (proved it holds the master key; `pid` is its process), "down" (nothing listens),
    "silent" (a listener that does not answer in time: a bridge still starting, or a stalled
    program), "other" (answers, but not with the proof).
    """

    status: str
    pid: int | None = None
    detail: str = ""


def challenge(port: int, master_key: str, *, timeout: float = 1.0) -> Seen:
    nonce = secrets.token_hex(16)
    request = (
        f"GET {IDENTITY_PATH}?nonce={nonce} HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n\r\n"
    ).encode()
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as conn:
            conn.settimeout(timeout)
            conn.sendall(request)
            data = b""
            while len(data) < 16384:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
    except ConnectionRefusedError:
        return Seen("down")
    except TimeoutError:
        return Seen("silent", detail="no answer in time")
    except OSError as err:
        return Seen("down", detail=str(err))
    head, _, body = data.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    if not status_line:
        return Seen("other", detail="no HTTP answer")
    try:
        answer = json.loads(body)
        pid, got = answer["pid"], answer["proof"]
    except (ValueError, KeyError, TypeError):
        return Seen("other", detail=status_line)
    if " 200 " not in status_line + " " or not isinstance(pid, int) or not isinstance(got, str):
        return Seen("other", detail=status_line)
    if not hmac.compare_digest(proof(master_key, port, pid, nonce), got):
        return Seen("other", detail="the identity proof does not match this keyring's master key")
    return Seen("ours", pid=pid)


def fingerprint(pid: int) -> str | None:
    """Start time and command line of a running pid, or None (no such process, or no way to tell)."""
    if pid <= 0:
        return None
    if sys.platform.startswith("linux"):
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                cmdline = handle.read()
            with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as handle:
                boot = handle.read().strip()
        except OSError:
            return None
        if fields[0] == "Z":
            return None
        # field 22 of stat (starttime, clock ticks after boot) is the 20th after "(comm)"
        return f"linux:{boot}:{fields[19]}:{hashlib.sha256(cmdline).hexdigest()}"
    if os.name == "posix":
        try:
            out = subprocess.run(
                ["ps", "-o", "lstart=", "-o", "command=", "-p", str(pid)],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None
        return f"ps:{hashlib.sha256(out.encode()).hexdigest()}" if out else None
    return None  # pragma: no cover - Windows: run.json alone never justifies a signal


def fingerprint_started(pid: int, argv: Sequence[str], *, timeout: float = 5.0) -> str | None:
    """The fingerprint of a process this one has just started with `argv`, taken once it runs `argv`.

    When Popen returns, the kernel may still be inside the child's exec: it closes the close-on-exec
    pipe Popen waits on before it sets the new command line, so /proc/PID/cmdline can read empty
    for a moment. A fingerprint taken then never matched the process again (the bridge was "up"
    but without a pid in `bridge status`, and could not be signalled by its pid). Waits up to
    `timeout` for the command line; then (or when the process is gone) takes what it gets."""
    deadline = time.monotonic() + timeout
    while not _runs(pid, argv) and time.monotonic() < deadline:
        time.sleep(0.002)
    return fingerprint(pid)


def _runs(pid: int, argv: Sequence[str]) -> bool:
    """Whether `pid` runs `argv` now (True where that cannot be told, or when it is gone)."""
    if sys.platform.startswith("linux"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                if handle.read() == b"".join(os.fsencode(arg) + b"\0" for arg in argv):
                    return True
            with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as handle:
                return handle.read().rsplit(")", 1)[1].split()[0] == "Z"  # it exited already
        except (OSError, IndexError):
            return True
    if os.name == "posix":
        try:
            out = subprocess.run(
                ["ps", "-o", "command=", "-p", str(pid)], capture_output=True, text=True, timeout=5, check=False
            ).stdout
        except (OSError, subprocess.SubprocessError):
            return True
        return not out.strip() or (bool(argv) and argv[-1] in out)
    return True  # pragma: no cover - Windows: no fingerprint at all


def same_process(pid: int, recorded: object) -> bool:
    """Whether `pid` is still the process whose fingerprint was `recorded`."""
    if not isinstance(recorded, str) or not recorded:
        return False
    now = fingerprint(pid)
    return now is not None and hmac.compare_digest(now, recorded)
