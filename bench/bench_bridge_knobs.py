"""What each setting of the bridge costs or saves: LiteLLMs that differ in one knob, side by side.

    .venv/bin/python bench/bench_bridge_knobs.py [--requests 200] [--only NAME,NAME] [--overlay DIR]

No keyring, no Codex: serve.py (the bridge's own entry point, Guard and all) is started directly
with LiteLLM's interpreter (.cache/litellm/venv), once per variant, each on a listening socket this
script binds and hands down as codexprov does, with the config codexprov generates
(bridge/litellm_config.py) for one `custom --bridge` provider, changed by the variant. The
upstream is tests/fake_server.py in a process of its own (TCP_NODELAY, answering at once), so
that its work does not share this process's GIL with the client.

Then one keep-alive client per target, and rounds that go through every target in turn (the
direct path and each variant, a fresh random order each round) so that machine load hits them
alike: first plain `POST /v1/chat/completions`, then streamed `POST /v1/responses` (what Codex
sends; the bridge turns it into a streamed chat call). Warm-up rounds are not counted. Prints
p50/p95 per target, the added p50/p95 over the direct path, the CPU time each variant's processes
used per request (what no setting of the machine's load changes), the `python -c pass` floor and
the load average before and after.

Variants (the knob, everything else as shipped):
  shipped      the config and serve.py as they are
  no-hooks     without the echo-mask callback (litellm_hooks/codexprov_echo_mask.py); the fast path
               needs the mask, so this one goes through the proxy: compare it with proxy-path
  asyncio      uvicorn on asyncio's event loop instead of uvloop
  httptools    uvicorn's C HTTP parser (httptools) instead of h11, which it falls back to without it
               (needs --overlay: LiteLLM's venv does not have httptools)
  httpx        LiteLLM's upstream calls over httpx's own transport (DISABLE_AIOHTTP_TRANSPORT)
  quiet        LITELLM_LOG=ERROR, set_verbose/json_logs off, LITELLM_MODE=PRODUCTION
  no-spend     general_settings: disable_spend_logs, disable_end_user_cost_tracking, no cost calc
  no-stream-log  litellm_settings.disable_streaming_logging (no success logging/cost of streams)
  no-tokens    litellm_settings.disable_token_counter
  lean-mw      without LiteLLM's middlewares that do nothing here (LEAN_DROP)
  2-workers    two serving processes on the one socket (forked after LiteLLM loads)
  gc-freeze    gc.freeze() once LiteLLM is loaded (fewer objects for each full collection to scan)
  zero-cost    a price of 0 per token on each deployment (LiteLLM prices every answer; an unknown
               model costs it a search of its price list)
  proxy-path   without serve.py's fast path (CODEXPROV_BRIDGE_FAST_PATH=0): every request through
               LiteLLM's proxy layers
--overlay DIR: a virtualenv whose python sees LiteLLM's venv (a .pth) plus packages of its own
(httptools), to measure a package the shipped venv lacks.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench_bridge import floor_ms, group_cpu  # noqa: E402 - bench/ is the script's folder, on sys.path

from codexprov.bridge import litellm_config  # noqa: E402
from codexprov.bridge.layout import State, Upstream  # noqa: E402
from codexprov.bridge.process import serve_script  # noqa: E402

LITELLM_PYTHON = REPO / ".cache" / "litellm" / "venv" / "bin" / "python"
KEY = "sk-bench-upstream-0123456789abcdef"
MASTER = "sk-bridge-bench-" + "0" * 40

# Runs serve.py with uvicorn.Config's options changed by BENCH_UVICORN (JSON), and with
# BENCH_FORKS serving processes sharing the handed-down socket.
WRAPPER = r"""
import json, os, runpy, sys
import uvicorn
over = json.loads(os.environ.get("BENCH_UVICORN") or "{}")
forks = int(os.environ.get("BENCH_FORKS") or 1)
original_init = uvicorn.Config.__init__
def init(self, app, **options):
    options.update(over)

    original_init(self, app, **options)
uvicorn.Config.__init__ = init
original_run = uvicorn.Server.run
def run(self, sockets=None):
    if os.environ.get("BENCH_GC_FREEZE"):
        import gc
        gc.collect()
        gc.freeze()
    for _ in range(forks - 1):
        if os.fork() == 0:
            break
    return original_run(self, sockets=sockets)
uvicorn.Server.run = run
drop = {n for n in (os.environ.get("BENCH_DROP_MW") or "").split(",") if n}
if drop:
    from litellm.proxy.proxy_server import app
    app.user_middleware = [m for m in app.user_middleware if m.cls.__name__ not in drop]
sys.argv = [sys.argv[1], *sys.argv[2:]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""

# LiteLLM's middlewares that do nothing for a local, database-less, single-user proxy (metrics,
# budgets, Redis batching, telemetry, security headers for browsers, gzip of small answers).
LEAN_DROP = (
    "AdmissionControlMiddleware",
    "GZipBufferedResponseMiddleware",
    "SecurityHeadersMiddleware",
    "InFlightRequestsMiddleware",
    "LensInternalMiddleware",
    "RedisRequestBatchMiddleware",
    "BudgetReservationReleaseMiddleware",
    "TelemetryMiddleware",
    "BillableRequestMetricsMiddleware",
    "PrometheusAuthMiddleware",
)

VARIANTS: dict[str, dict[str, Any]] = {
    "shipped": {},
    "no-hooks": {"config": lambda c: c["litellm_settings"].pop("callbacks")},
    "asyncio": {"uvicorn": {"loop": "asyncio"}},
    "httptools": {"overlay": True, "uvicorn": {"http": "httptools"}},
    "httpx": {"env": {"DISABLE_AIOHTTP_TRANSPORT": "True"}},
    "quiet": {
        "env": {"LITELLM_LOG": "ERROR", "LITELLM_MODE": "PRODUCTION"},
        "config": lambda c: c["litellm_settings"].update({"set_verbose": False, "json_logs": False}),
    },
    "no-spend": {
        "config": lambda c: (
            c["general_settings"].update({"disable_spend_logs": True, "disable_error_logs": True}),
            c["litellm_settings"].update({"disable_end_user_cost_tracking": True}),
        )
    },
    "no-stream-log": {"config": lambda c: c["litellm_settings"].update({"disable_streaming_logging": True})},
    "no-tokens": {"config": lambda c: c["litellm_settings"].update({"disable_token_counter": True})},
    "lean-mw": {"env": {"BENCH_DROP_MW": ",".join(LEAN_DROP)}},
    "2-workers": {"forks": 2},
    "proxy-path": {"env": {"CODEXPROV_BRIDGE_FAST_PATH": "0"}},
    "gc-freeze": {"env": {"BENCH_GC_FREEZE": "1"}},
    "zero-cost": {
        "config": lambda c: [
            d["litellm_params"].update({"input_cost_per_token": 0.0, "output_cost_per_token": 0.0})
            for d in c["model_list"]
        ]
    },
}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def standin() -> int:
    """--standin: the upstream, in this process; prints its base URL, runs until stdin closes."""
    from tests import fake_server

    fake_server._Handler.disable_nagle_algorithm = True  # TCP_NODELAY, as real servers set it
    server = fake_server.FakeServer(responses_route=True, expected_key=KEY).start()
    sys.stdout.write(server.base_url + "\n")
    sys.stdout.flush()
    sys.stdin.read()
    server.stop()
    return 0


def start_variant(name: str, knob: dict[str, Any], base_url: str, folder: Path, python: Path) -> tuple[Any, int]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    state = State(port, (Upstream("bench", "custom_openai", base_url, "BENCH_UPSTREAM_KEY"),))
    config = litellm_config.render(state)
    if "config" in knob:
        knob["config"](config)
    config_file = folder / f"{name}.yaml"
    config_file.write_text(json.dumps(config))
    wrapper = folder / "wrapper.py"
    wrapper.write_text(WRAPPER)
    env = {
        **os.environ,
        litellm_config.MASTER_KEY_VAR: MASTER,
        "BENCH_UPSTREAM_KEY": KEY,
        "CODEXPROV_BRIDGE_FD": str(listener.fileno()),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "NO_COLOR": "1",
        "BENCH_UVICORN": json.dumps(knob.get("uvicorn", {})),
        "BENCH_FORKS": str(knob.get("forks", 1)),
        **knob.get("env", {}),
    }
    log = open(folder / f"{name}.log", "wb")  # noqa: SIM115 - lives as long as the process
    proc = subprocess.Popen(
        [str(python), str(wrapper), serve_script(), "--config", str(config_file), "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        pass_fds=(listener.fileno(),),
        start_new_session=True,
    )
    listener.close()
    return proc, port


def wait_ready(port: int, proc: Any, name: str, folder: Path) -> None:
    import httpx

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"bench: {name} exited: {(folder / f'{name}.log').read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/liveliness", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"bench: {name} did not answer within 300 s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--only", default="")
    parser.add_argument("--overlay", type=Path, help="a venv with LiteLLM's on its path and httptools in it")
    parser.add_argument("--standin", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.standin:
        return standin()
    import httpx

    names = [n for n in (args.only.split(",") if args.only else VARIANTS) if n]
    if not args.overlay:
        names = [n for n in names if not VARIANTS[n].get("overlay")]
    folder = Path(tempfile.mkdtemp(prefix="bench-knobs-"))
    load_before = os.getloadavg()
    upstream = subprocess.Popen(
        [sys.executable, __file__, "--standin"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    procs = []
    try:
        assert upstream.stdout is not None
        base_url = upstream.stdout.readline().strip()
        ports = {}
        for name in names:
            python = args.overlay / "bin" / "python" if VARIANTS[name].get("overlay") else LITELLM_PYTHON
            proc, ports[name] = start_variant(name, VARIANTS[name], base_url, folder, python)
            procs.append(proc)
            wait_ready(ports[name], proc, name, folder)  # one at a time: loading is CPU-bound
        chat = {"model": "fake-model", "messages": [{"role": "user", "content": "ping"}]}
        responses = {"model": "fake-model", "input": "ping", "stream": True}
        targets: dict[str, tuple[str, dict[str, str]]] = {"direct": (base_url, {"Authorization": f"Bearer {KEY}"})}
        for name in names:
            headers = {"Authorization": f"Bearer {MASTER}", "x-litellm-tags": "bench"}
            targets[name] = (f"http://127.0.0.1:{ports[name]}/v1", headers)
        clients = {name: httpx.Client(timeout=30) for name in targets}
        results: dict[tuple[str, str], list[float]] = {}
        cpu: dict[tuple[str, str], float] = {}
        rng = random.Random(7)
        for kind, path, body in (("chat", "/chat/completions", chat), ("responses", "/responses", responses)):
            for round_ in range(args.warmup + args.requests):
                if round_ == args.warmup:
                    before = {name: group_cpu(proc.pid) for name, proc in zip(names, procs, strict=True)}
                order = list(targets)
                rng.shuffle(order)
                for name in order:
                    url, headers = targets[name]
                    start = time.perf_counter()
                    answer = clients[name].post(url + path, json=body, headers=headers)
                    elapsed = time.perf_counter() - start
                    if answer.status_code != 200 or (
                        kind == "responses" and b"response.completed" not in answer.content
                    ):
                        raise SystemExit(f"bench: {name} {kind} answered {answer.status_code}: {answer.text[:300]}")
                    if round_ >= args.warmup:
                        results.setdefault((kind, name), []).append(elapsed * 1000)
            for name, proc in zip(names, procs, strict=True):
                cpu[(kind, name)] = (group_cpu(proc.pid) - before[name]) * 1000 / args.requests
        for client in clients.values():
            client.close()
        floor = floor_ms()
    finally:
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 15)
        if upstream.stdin:
            upstream.stdin.close()
        upstream.wait(timeout=30)
    load_after = os.getloadavg()
    print(
        f"python -c pass (floor): {floor:.1f} ms median; load average before {load_before[0]:.2f}, after {load_after[0]:.2f}"
    )
    print(f"{args.requests} requests per target and kind, interleaved ({args.warmup} warm-up rounds not counted); ms")
    print(f"{'kind':<10} {'target':<14} {'p50':>7} {'p95':>7} {'added p50':>10} {'added p95':>10} {'CPU/req':>8}")
    for kind in ("chat", "responses"):
        direct = results[(kind, "direct")]
        for name in targets:
            values = results[(kind, name)]
            line = f"{kind:<10} {name:<14} {pct(values, 0.5):7.1f} {pct(values, 0.95):7.1f}"
            if name != "direct":
                line += f" {pct(values, 0.5) - pct(direct, 0.5):+10.1f} {pct(values, 0.95) - pct(direct, 0.95):+10.1f}"
                line += f" {cpu[(kind, name)]:8.1f}"
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
