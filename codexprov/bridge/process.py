"""Starting, finding and stopping the bridge process (LiteLLM's proxy on 127.0.0.1).

The bridge runs detached from whoever started it (`codexprov bridge up`, or `codexprov token` when
Codex starts and the bridge is down), in a session of its own, so that it outlives Codex and the
auth command. `run.json` records its pid and port; a start happens under a file lock, so that two
Codex sessions starting at once share one bridge.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codexprov.bridge import identity, litellm_config
from codexprov.bridge.layout import HOST, Layout, State, read_run, write_private
from codexprov.bridge.runner import FD_ENV, SECRET_VARS_ENV, STANDBY_ENV
from codexprov.errors import CodexprovError, ConflictError
from codexprov.redact import redact_text

# Start-up takes ~10 s on a quiet machine; Codex waits for the auth command up to its timeout_ms
# (60 s in the tables codexprov writes).
READY_TIMEOUT = 50.0
# Variables that would make LiteLLM do something else than this bridge: a database, another
# config, another master key.
_STRIPPED_ENV = (
    "DATABASE_URL",
    "DIRECT_URL",
    "STORE_MODEL_IN_DB",
    "CONFIG_FILE_PATH",
    "LITELLM_MASTER_KEY",
    "LITELLM_CONFIG_BUCKET_NAME",
    "WORKER_CONFIG",
)


@dataclass(frozen=True)
class Probe:
    """What answers on the bridge's port: "up" (a LiteLLM proxy), "down" (nothing), "other"."""

    status: str
    detail: str = ""


def probe(port: int, *, timeout: float = 1.0, master_key: str | None = None) -> Probe:
    """What answers on the port. With the master key: the identity challenge, so "up" means our own
    bridge (anything else is "other"). Without it: GET /health/liveliness, which any program can
    answer (enough to tell "down" from "something is there", never to trust it with a key)."""
    if master_key:
        seen = identity.challenge(port, master_key, timeout=timeout)
        status = {"ours": "up", "down": "down"}.get(seen.status, "other")
        return Probe(status, seen.detail)
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as conn:
            conn.settimeout(timeout)
            conn.sendall(
                f"GET /health/liveliness HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n\r\n".encode()
            )
            data = b""
            while len(data) < 8192:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
    except (ConnectionRefusedError, TimeoutError):
        return Probe("down")
    except OSError as err:
        return Probe("down", str(err))
    head, _, body = data.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    if " 200 " in status_line + " " and b"alive" in body:
        return Probe("up")
    return Probe("other", status_line or "no HTTP answer")


def port_free(port: int) -> bool:
    """Whether the bridge could listen on the port. SO_REUSEADDR as uvicorn sets it: connections
    of a bridge that just died (TIME_WAIT) do not make the port taken, a listener does."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if os.name != "nt":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def pick_port() -> int:
    """A free port below Linux's ephemeral range (32768+), so that outgoing connections never take it."""

    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randint(20000, 32000)
        if port_free(port):
            return port
    raise CodexprovError("could not find a free port on 127.0.0.1 for the bridge")


def pid_alive(pid: int) -> bool:
    if os.name == "nt":  # pragma: no cover - Windows
        out = subprocess.run(["tasklist", "/FI", f"PID eq {pid}", "/NH"], capture_output=True, text=True, check=False)
        return str(pid) in out.stdout
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by its parent) is not running.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def running_pid(layout: Layout) -> int | None:
    """The runner's pid from run.json, only while it is still the process that was recorded there
    (same start time and command line): after a reboot the pid may belong to anybody."""
    run = read_run(layout) or {}
    pid = run.get("pid")
    if not isinstance(pid, int) or not pid_alive(pid):
        return None
    return pid if identity.same_process(pid, run.get("fingerprint")) else None


def bridge_env(secrets: Mapping[str, str], base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The bridge process's environment: the caller's, minus what would redirect LiteLLM, plus the keys."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in _STRIPPED_ENV}
    env.update(secrets)
    env[SECRET_VARS_ENV] = ",".join(sorted(secrets))
    # No download of LiteLLM's model price list at start-up (it has a copy; the machine may be offline).
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    env["NO_COLOR"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def bind_listener(port: int) -> socket.socket:
    """Bind and listen on the bridge's port now, before LiteLLM loads (the socket is handed down to
    it): from here on no other program can take the port. ConflictError when one holds it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if os.name == "nt":  # pragma: no cover - Windows: nobody may bind over it
            sock.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_EXCLUSIVEADDRUSE", -5), 1)
        else:
            # TIME_WAIT connections of a bridge that just stopped do not count; a listener does.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise ConflictError(
            f"port {port} on {HOST}, the bridge's, is taken by another program",
            hint="Stop that program, or move the bridge with `codexprov bridge restart --new-port` "
            "(it updates the bridged providers in config.toml).",
        ) from None
    return sock


def serve_script() -> str:
    """serve.py, run by path with LiteLLM's interpreter (codexprov is not installed there)."""
    return str(Path(__file__).with_name("serve.py"))


def start(layout: Layout, state: State, secrets: Mapping[str, str], *, timeout: float = READY_TIMEOUT) -> int:
    """Take the port, write the config, start the bridge detached and wait until it proves it is
    ours (identity.challenge). Returns the runner's pid.

    `secrets` maps variable names to values (the master key, the upstream keys); they go into the
    process's environment only. Raises ConflictError when something else holds the port, and
    CodexprovError with the end of the (masked) log when LiteLLM exits or does not answer in time.
    """
    listener = bind_listener(state.port)
    master_key = secrets.get(litellm_config.MASTER_KEY_VAR, "")
    try:
        write_private(layout.config_file, litellm_config.render_text(state))
        proc, fingerprint = _spawn(layout, ["--port", str(state.port)], bridge_env(secrets), listener)
    finally:
        listener.close()
    record = {"pid": proc.pid, "port": state.port, "started": time.time(), "fingerprint": fingerprint}
    write_private(layout.run_file, json.dumps(record) + "\n")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = identity.challenge(state.port, master_key, timeout=min(2.0, max(0.2, deadline - time.monotonic())))
        if seen.status == "ours":
            return proc.pid
        if proc.poll() is not None:
            raise CodexprovError(
                f"the bridge exited while starting (exit {proc.returncode})",
                detail=log_tail(layout, 12) or None,
                hint="`codexprov bridge logs` shows its whole log; `codexprov doctor` checks the setup.",
            )
        if seen.status != "silent":
            time.sleep(0.1)
    stop_pid(proc.pid)
    raise CodexprovError(
        f"the bridge did not answer within {timeout:.0f} s",
        detail=log_tail(layout, 12) or None,
        hint="The machine may be busy; run `codexprov bridge up` and see `codexprov bridge logs`.",
    )


def _spawn(
    layout: Layout, tail: list[str], env: dict[str, str], listener: socket.socket | None
) -> tuple[subprocess.Popen[bytes], str | None]:
    """Start the runner (and through it serve.py) detached, with `listener` handed down (POSIX; on
    Windows the child binds the port itself, so the listener is closed first). Returns the process
    and its fingerprint, taken once it runs its own command line (identity.fingerprint_started)."""
    command = [
        sys.executable,
        "-m",
        "codexprov.bridge.runner",
        str(layout.log_file),
        "--",
        str(layout.venv_python),
        serve_script(),
        "--config",
        str(layout.config_file),
        *tail,
    ]
    options: dict[str, Any] = {}
    if sys.platform == "win32":  # pragma: no cover - Windows
        options["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.DETACHED_PROCESS
        if listener is not None:
            listener.close()
    else:
        options["start_new_session"] = True
        if listener is not None:
            options["pass_fds"] = (listener.fileno(),)
            env[FD_ENV] = str(listener.fileno())
    try:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=layout.root,
            env=env,
            **options,
        )
    except OSError as err:
        raise CodexprovError(f"could not start the bridge: {err.strerror or err}") from None
    return proc, identity.fingerprint_started(proc.pid, command)


def standby_pid(layout: Layout) -> int | None:
    """The standby's runner, while it is still the process recorded in standby.json."""
    try:
        record = json.loads(layout.standby_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    pid = record.get("pid") if isinstance(record, dict) else None
    if not isinstance(pid, int) or not pid_alive(pid):
        return None
    return pid if identity.same_process(pid, record.get("fingerprint")) else None


def start_standby(layout: Layout) -> int:
    """Load a LiteLLM ahead of need, holding no key and no port (POSIX: it needs fd passing). Its
    runner waits on standby.sock for `handoff`. Returns the runner's pid."""
    if os.name == "nt" or not hasattr(socket, "send_fds"):  # pragma: no cover - Windows
        raise CodexprovError("a standby bridge needs a POSIX system (it receives its socket from codexprov)")
    if len(str(layout.standby_socket)) > 100:
        raise CodexprovError(
            f"the bridge folder's path is too long for a Unix socket ({layout.standby_socket})",
            hint="Move it with CODEXPROV_BRIDGE_DIR to a shorter path.",
        )
    layout.root.mkdir(parents=True, exist_ok=True, mode=0o700)
    env = bridge_env({})
    env[STANDBY_ENV] = str(layout.standby_socket)
    proc, fingerprint = _spawn(layout, ["--standby"], env, None)
    record = {"pid": proc.pid, "started": time.time(), "fingerprint": fingerprint}
    write_private(layout.standby_file, json.dumps(record) + "\n")
    return proc.pid


def handoff(layout: Layout, state: State, secrets: Mapping[str, str], *, timeout: float = READY_TIMEOUT) -> int | None:
    """Start the bridge by handing a standby (if one is there) the port and the keys: a second or so
    instead of LiteLLM's import. None when there is no standby (the caller starts one the long way)."""
    pid = standby_pid(layout)
    if pid is None or not layout.standby_socket.exists():
        return None
    listener = bind_listener(state.port)
    try:
        write_private(layout.config_file, litellm_config.render_text(state))
        # Only the keys: the runner masks every value in "env" in the log from now on.
        message = json.dumps({"port": state.port, "env": dict(secrets)}).encode()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(5)
            conn.connect(str(layout.standby_socket))
            socket.send_fds(conn, [message], [listener.fileno()])
            if conn.recv(16) != b"ok\n":
                raise OSError("the standby did not take the handoff")
    except OSError:
        stop_pid(pid)
        with contextlib.suppress(OSError):
            layout.standby_file.unlink()
        return None  # the long way, then
    finally:
        listener.close()
    record = json.loads(layout.standby_file.read_text(encoding="utf-8"))
    write_private(layout.run_file, json.dumps({**record, "port": state.port, "started": time.time()}) + "\n")
    with contextlib.suppress(OSError):
        layout.standby_file.unlink()
    if wait_ready(state.port, secrets.get(litellm_config.MASTER_KEY_VAR, ""), pid, timeout=timeout):
        return pid
    stop_pid(pid)
    raise CodexprovError(
        f"the bridge (a standby, handed the port) did not answer within {timeout:.0f} s",
        detail=log_tail(layout, 12) or None,
        hint="See `codexprov bridge logs`; `codexprov bridge restart` starts it the usual way.",
    )


def stop_standby(layout: Layout) -> int | None:
    pid = standby_pid(layout)
    if pid is not None:
        stop_pid(pid)
    for path in (layout.standby_file, layout.standby_socket):
        with contextlib.suppress(OSError):
            path.unlink()
    return pid


def wait_ready(port: int, master_key: str, pid: int, *, timeout: float = READY_TIMEOUT) -> bool:
    """A bridge of ours is starting (its runner `pid` is alive): wait until it proves itself."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and pid_alive(pid):
        seen = identity.challenge(port, master_key, timeout=min(2.0, max(0.2, deadline - time.monotonic())))
        if seen.status == "ours":
            return True
        if seen.status != "silent":
            time.sleep(0.1)
    return False


def stop_pid(pid: int, *, timeout: float = 15.0) -> None:
    """Stop the bridge's runner and its LiteLLM (one process group), politely first. Only for a pid
    whose identity was checked (running_pid) or that this process started."""
    if os.name == "nt":  # pragma: no cover - Windows
        subprocess.run(["taskkill", "/T", "/F", "/PID", str(pid)], capture_output=True, check=False)
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + (timeout if sig == signal.SIGTERM else 5)
        while time.monotonic() < deadline:
            if not pid_alive(pid) and not _group_alive(pid):
                return
            time.sleep(0.1)


def stop_proven(pid: int, *, timeout: float = 15.0) -> None:
    """Stop one process that proved it is our bridge (or whose command line names our files)."""
    if os.name == "nt":  # pragma: no cover - Windows
        subprocess.run(["taskkill", "/F", "/PID", str(pid)], capture_output=True, check=False)
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + (timeout if sig == signal.SIGTERM else 5)
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                return
            time.sleep(0.1)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def orphans(layout: Layout) -> list[int]:
    """LiteLLMs of this bridge folder left without their runner (Linux: their command line names
    serve.py and this folder's config file). Other platforms: none found this way (the identity
    challenge still finds one that answers)."""
    if not sys.platform.startswith("linux"):
        return []
    wanted = (serve_script().encode(), str(layout.config_file).encode())
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    me = os.getpid()
    for entry in entries:
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                args = handle.read().split(b"\0")
        except OSError:
            continue
        ours = wanted[0] in args and wanted[1] in args and b"codexprov.bridge.runner" not in args
        if ours and not _has_runner_parent(int(entry)):
            found.append(int(entry))
    return found


def _has_runner_parent(pid: int) -> bool:
    """Whether pid's parent is a bridge runner (then it is not an orphan: a running bridge or standby)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as handle:
            ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        with open(f"/proc/{ppid}/cmdline", "rb") as handle:
            return b"codexprov.bridge.runner" in handle.read().split(b"\0")
    except (OSError, ValueError, IndexError):
        return False


def stop(layout: Layout, port: int | None = None, master_key: str | None = None) -> int | None:
    """Stop the bridge: the runner recorded in run.json (if it is still that process), an orphaned
    LiteLLM of this folder, and whatever proves to be our bridge on the port. Returns the pid that
    was stopped, or None when none was running. Nothing else is ever signalled."""
    stopped = None
    pid = running_pid(layout)
    if pid is not None:
        stop_pid(pid)
        stopped = pid
    for orphan in orphans(layout):
        stop_proven(orphan)
        stopped = stopped or orphan
    if port is not None and master_key:
        seen = identity.challenge(port, master_key, timeout=2.0)
        if seen.status == "ours" and seen.pid is not None and seen.pid != os.getpid():
            stop_proven(seen.pid)
            stopped = stopped or seen.pid
    with contextlib.suppress(FileNotFoundError):
        layout.run_file.unlink()
    return stopped


def log_tail(layout: Layout, lines: int) -> str:
    """The last `lines` lines of the bridge's log (already masked when written; masked again here)."""
    try:
        with open(layout.log_file, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 200_000))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return redact_text("\n".join(text.splitlines()[-lines:]))
