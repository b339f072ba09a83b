"""What the bridge costs: added latency per request, and the autostart on Codex's first turn.

    dbus-run-session -- bash scripts/in-session.sh --run .venv/bin/python bench/bench_bridge.py [--requests 200] [--cold-runs 3]

Sets up everything in a throwaway HOME (needs the keyring that command starts, and LiteLLM in
.cache/litellm/venv, which scripts/test.sh installs): a chat-completions-only server on 127.0.0.1
(tests/fake_server.py, answering "pong" at once), `codexprov add custom --bridge` in front of it.

1. Latency, bridge up and warm, one keep-alive client, requests alternating between the paths so
   that machine load hits them alike: `POST /v1/chat/completions` straight to the server and the
   same through the bridge; a streamed `POST /v1/responses` (what Codex sends) straight to the server
   and through the bridge (LiteLLM turns it into a streamed chat call). p50 and p95 of each, and the
   bridge's added p50/p95 over the direct path of the same kind.
2. Cold start: from running `codexprov token` with the bridge down (it starts the bridge) until a
   chat request through the bridge is answered, medians of --cold-runs; on demand (LiteLLM imports
   then), and with a standby loaded ahead of need (`codexprov bridge standby`: a handoff). Also the
   standby's resident memory (runner + LiteLLM, RSS, Linux).
3. Autostart seen from Codex: wall time from starting `codex exec` until the server gets the model
   call, with the bridge down (the auth command starts it) and with it up (warm).
4. The floor: `python -c pass`, in the same run.

The stand-in sets TCP_NODELAY on its connections (as real HTTP servers do): without it, its small
writes on the bridge's reused keep-alive connections wait for a delayed ACK (~40 ms on Linux), a
cost of the stand-in, not of the bridge.

The machine is shared (2 cores, other jobs): read the medians, not single runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests import fake_server  # noqa: E402 - needs the repo on sys.path
from tests.codexrun import QUIET_ARGS, codex_env  # noqa: E402
from tests.fake_server import FakeServer  # noqa: E402

# socketserver's StreamRequestHandler sets TCP_NODELAY on each accepted connection with this.
fake_server._Handler.disable_nagle_algorithm = True

KEY = "sk-bench-upstream-0123456789abcdef"
CODEX = REPO / ".cache" / "codex" / "0.169.0" / "node_modules" / ".bin" / "codex"
LITELLM_VENV = REPO / ".cache" / "litellm" / "venv"
WARMUP = 20


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def group_cpu(pgid: int) -> float:
    """CPU seconds (user + system) used so far by the processes of a process group (Linux: the
    bridge's runner leads one, LiteLLM in it): the work per request, which load does not change."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # field 5, pgrp
            total += (int(fields[11]) + int(fields[12])) / tick  # fields 14, 15: utime, stime
    return total


def floor_ms(runs: int = 15) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--cold-runs", type=int, default=3)
    args = parser.parse_args()
    exe = shutil.which("codexprov") or str(Path(sys.executable).parent / "codexprov")
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        raise SystemExit("bench: needs the test keyring: dbus-run-session -- bash scripts/in-session.sh --run …")

    root = Path(tempfile.mkdtemp(prefix="bench-bridge-"))
    home = root / "home"
    (home / ".codex").mkdir(parents=True)
    env = {
        **codex_env(home / ".codex"),
        "DBUS_SESSION_BUS_ADDRESS": os.environ["DBUS_SESSION_BUS_ADDRESS"],
        "CODEXPROV_BRIDGE_DIR": str(root / "bridge"),
        "CODEXPROV_BRIDGE_VENV": str(LITELLM_VENV),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "CODEXPROV_CODEX": str(CODEX),
    }

    def cli(*argv: str, input: str | None = None) -> str:
        proc = subprocess.run([exe, *argv], env=env, input=input, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"bench: codexprov {' '.join(argv)} failed: {proc.stderr.strip()}")
        return proc.stdout

    # It serves /v1/responses too (the direct Responses path); the bridge's custom_openai route
    # calls its /chat/completions.
    server = FakeServer(responses_route=True, expected_key=KEY).start()
    try:
        cli(
            "add",
            "custom",
            "--id",
            "bench",
            "--base-url",
            server.base_url,
            "--bridge",
            "--key-stdin",
            "--use",
            "--model",
            "fake-model",
            input=KEY + "\n",
        )
        cli("bridge", "up")
        port = json.loads(cli("bridge", "status", "--json"))["port"]
        master = cli("token", "bench").strip()
        runner = json.loads(cli("bridge", "status", "--json"))["pid"]
        load_before = os.getloadavg()[0]
        cpu_before = group_cpu(runner)
        results = latency(server, port, master, args.requests)
        cpu_ms = (group_cpu(runner) - cpu_before) * 1000 / ((args.requests + WARMUP) * 2)
        load_after = os.getloadavg()[0]
        token_cold = cold_token(cli, exe, env, port, args.cold_runs)
        standby_cold, standby_rss = cold_token(cli, exe, env, port, args.cold_runs, standby=root / "bridge"), RSS[:]
        cold, warm = autostart(cli, env, home, server, args.cold_runs)
        floor = floor_ms()
    finally:
        subprocess.run([exe, "bridge", "down"], env=env, capture_output=True, check=False)
        subprocess.run([exe, "key", "rm", "bench"], env=env, capture_output=True, check=False)
        server.stop()
        shutil.rmtree(root, ignore_errors=True)

    print(f"python -c pass (floor): {floor:.1f} ms median")
    print(f"load average (1 min) before the latency rounds {load_before:.2f}, after {load_after:.2f}")
    print(f"latency over {args.requests} requests each, after {WARMUP} warm-up rounds (ms):")
    for name, values in results.items():
        line = f"  {name:<26} p50 {pct(values, 0.5) * 1000:7.1f}   p95 {pct(values, 0.95) * 1000:7.1f}"
        if name.startswith("bridge"):
            direct = results[name.replace("bridge", "direct")]
            line += f"   added p50 {(pct(values, 0.5) - pct(direct, 0.5)) * 1000:+7.1f}   added p95 {(pct(values, 0.95) - pct(direct, 0.95)) * 1000:+7.1f}"
        print(line)
    print(f"  bridge CPU (runner + LiteLLM) per bridged request, both kinds: {cpu_ms:.1f} ms")
    print(f"cold start, `codexprov token` (bridge down) -> first answered request, median of {args.cold_runs}:")
    print(
        f"  on demand:      {statistics.median(token_cold):6.2f} s   runs {', '.join(f'{t:.2f}' for t in token_cold)}"
    )
    print(
        f"  with a standby: {statistics.median(standby_cold):6.2f} s   runs {', '.join(f'{t:.2f}' for t in standby_cold)}"
    )
    if standby_rss:
        print(f"  standby resident memory (runner + LiteLLM): {statistics.median(standby_rss):.0f} MB")
    print(f"codex exec start -> model call at the upstream, median of {args.cold_runs}:")
    print(f"  bridge down (autostart): {statistics.median(cold):6.2f} s   runs {', '.join(f'{t:.2f}' for t in cold)}")
    print(f"  bridge up (warm):        {statistics.median(warm):6.2f} s   runs {', '.join(f'{t:.2f}' for t in warm)}")
    print(f"  autostart cost:          {statistics.median(cold) - statistics.median(warm):6.2f} s")
    return 0


def latency(server: FakeServer, port: int, master: str, count: int) -> dict[str, list[float]]:
    import httpx

    chat = {"model": "fake-model", "messages": [{"role": "user", "content": "ping"}]}
    responses = {"model": "fake-model", "input": "ping", "stream": True}
    direct_headers = {"Authorization": f"Bearer {KEY}"}
    bridge_headers = {"Authorization": f"Bearer {master}", "x-litellm-tags": "bench"}
    paths = {
        "direct chat": (f"{server.base_url}/chat/completions", chat, direct_headers),
        "bridge chat": (f"http://127.0.0.1:{port}/v1/chat/completions", chat, bridge_headers),
        "direct responses (stream)": (f"{server.base_url}/responses", responses, direct_headers),
        "bridge responses (stream)": (f"http://127.0.0.1:{port}/v1/responses", responses, bridge_headers),
    }
    results: dict[str, list[float]] = {name: [] for name in paths}
    with httpx.Client(timeout=30) as client:
        for round_ in range(count + WARMUP):
            for name, (url, body, headers) in paths.items():
                start = time.perf_counter()
                response = client.post(url, json=body, headers=headers)
                elapsed = time.perf_counter() - start
                if response.status_code != 200:
                    raise SystemExit(f"bench: {name} answered {response.status_code}: {response.text[:300]}")
                if round_ >= WARMUP:  # warm-up rounds are not counted
                    results[name].append(elapsed)
    return results


RSS: list[float] = []


def _tree_rss_mb(pid: int) -> float:
    total = 0
    for p in [pid, *(int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def cold_token(cli, exe: str, env: dict[str, str], port: int, runs: int, standby: Path | None = None) -> list[float]:
    """Seconds from `codexprov token bench` with the bridge down to an answered chat request; with
    `standby` (the bridge folder), a standby is loaded first and the clock starts once it is ready."""
    import httpx

    times = []
    for _ in range(runs):
        cli("bridge", "down")
        if standby is not None:
            log = standby / "bridge.log"
            before = log.read_text().count("standby ready") if log.exists() else 0
            cli("bridge", "standby")
            deadline = time.monotonic() + 180
            while log.read_text().count("standby ready") == before:
                if time.monotonic() > deadline:
                    raise SystemExit("bench: the standby did not load within 180 s")
                time.sleep(0.1)
            if sys.platform.startswith("linux"):
                RSS.append(_tree_rss_mb(json.loads((standby / "standby.json").read_text())["pid"]))
        start = time.perf_counter()
        token = subprocess.run([exe, "token", "bench"], env=env, capture_output=True, text=True, check=False)
        if token.returncode != 0:
            raise SystemExit(f"bench: codexprov token failed: {token.stderr.strip()}")
        answer = httpx.post(
            f"http://127.0.0.1:{port}/v1/chat/completions",
            json={"model": "fake-model", "messages": [{"role": "user", "content": "ping"}]},
            headers={"Authorization": f"Bearer {token.stdout.strip()}", "x-litellm-tags": "bench"},
            timeout=120,
        )
        if answer.status_code != 200:
            raise SystemExit(f"bench: the first request answered {answer.status_code}: {answer.text[:300]}")
        times.append(time.perf_counter() - start)
    return times


def autostart(cli, env: dict[str, str], home: Path, server: FakeServer, runs: int) -> tuple[list[float], list[float]]:
    cold: list[float] = []
    warm: list[float] = []
    for _ in range(runs):
        for bucket, bridge_up in ((cold, False), (warm, True)):
            cli("bridge", "up" if bridge_up else "down")
            bucket.append(first_call(env, home, server))
    return cold, warm


def first_call(env: dict[str, str], home: Path, server: FakeServer) -> float:
    """Seconds from starting `codex exec` until the upstream sees the first model call."""
    before = len(server.requests_to("/chat/completions", "POST"))
    cwd = tempfile.mkdtemp(prefix="cwd-", dir=home)
    command = [str(CODEX), "exec", "--skip-git-repo-check", *QUIET_ARGS, "say pong"]
    start = time.perf_counter()
    proc = subprocess.Popen(
        command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        while len(server.requests_to("/chat/completions", "POST")) == before:
            if proc.poll() is not None or time.perf_counter() - start > 120:
                raise SystemExit(
                    f"bench: codex exited or hung before the model call: {proc.stderr.read().decode()[-800:] if proc.stderr else ''}"
                )
            time.sleep(0.01)
        elapsed = time.perf_counter() - start
        proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    return elapsed


if __name__ == "__main__":
    sys.exit(main())
