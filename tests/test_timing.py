"""Speed regressions (issue 25): each row of bench/bench_cli.py, bench/bench_token.py and
bench/bench_doctor.py, measured as the bench measures it (alternating with the `python -c pass`
floor, medians), must stay within
20 % of the ratio last recorded in bench/figures.json (`--record`). Deselected by default (the
`timing` marker): run with `-m timing` on a quiet machine; re-record after a deliberate change."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

import bench_cli  # noqa: E402 - bench/ is not a package

pytestmark = pytest.mark.timing
FIGURES = json.loads((REPO / "bench" / "figures.json").read_text(encoding="utf-8"))
SLACK = 1.2
RUNS = 11


@pytest.mark.parametrize("row", list(bench_cli.ROWS))
def test_cli_row_within_20_percent_of_the_recorded_figure(row: str, tmp_path: Path) -> None:
    recorded = FIGURES["bench_cli"][row]
    bench_cli.compile_tree(REPO)
    env, config = bench_cli.prepare(tmp_path)
    env = bench_cli.side_env(env, REPO, tmp_path / "state")
    bench_cli.warm(env)
    argvs, _ = bench_cli.ROWS[row]
    times, floor = bench_cli.time_row(argvs, {"B": env}, RUNS, bench_cli.before_each(row, config))
    ratio = statistics.median(times["B"]) / statistics.median(floor)
    cpu_ratio = bench_cli.cpu_ms(env["PYTHONPATH"] + "|command") / bench_cli.cpu_ms(env["PYTHONPATH"] + "|floor")
    assert cpu_ratio <= recorded["cpu_ratio"] * SLACK, (
        f"{row}: {cpu_ratio:.2f}x the floor in CPU time, recorded {recorded['cpu_ratio']:.2f}x"
    )
    if _quiet():
        assert ratio <= recorded["ratio"] * SLACK, f"{row}: {ratio:.2f}x the floor, recorded {recorded['ratio']:.2f}x"


def test_doctor_within_20_percent_of_the_recorded_figure() -> None:
    """bench/bench_doctor.py's row: `doctor --all --json` over 10 providers answering after 300 ms, its
    CPU time against the floor's, and (on a quiet machine) its wall time beyond the servers' delay."""
    import bench_doctor

    recorded = FIGURES["bench_doctor"]
    fake_server = bench_doctor.load_fake_server()
    servers = [fake_server(delay=bench_doctor.SERVER_DELAY_S).start() for _ in range(10)]
    try:
        _, figures = bench_doctor.time_doctor({"B": REPO}, servers, RUNS)
    finally:
        for server in servers:
            server.stop()
    cpu_ratio = figures["cpu_ms"] / figures["cpu_floor_ms"]
    recorded_ratio = recorded["cpu_ms"] / recorded["cpu_floor_ms"]
    assert cpu_ratio <= recorded_ratio * SLACK, (
        f"doctor: {cpu_ratio:.1f}x the floor in CPU time, recorded {recorded_ratio:.1f}x"
    )
    if _quiet():
        beyond = figures["beyond_network_ms"]
        assert beyond <= recorded["beyond_network_ms"] * SLACK, (
            f"doctor: {beyond:.0f} ms beyond the network, recorded {recorded['beyond_network_ms']:.0f} ms"
        )


def _quiet() -> bool:
    """Wall times mean something only when the machine is not busier than its CPUs (then only the
    CPU-time ratio is checked: waiting for a CPU inflates wall times, not CPU times)."""
    return os.getloadavg()[0] < (os.cpu_count() or 1)


@pytest.mark.keyring
def test_token_within_20_percent_of_the_recorded_figure(provider_id: str) -> None:
    from codexprov.credentials import SERVICE, open_store, token_auth

    recorded = FIGURES["bench_token"]["ratio"]
    open_store().set(provider_id, "sk-timing-0000000000000000000000")
    auth = token_auth(provider_id)
    token = [auth.command, *auth.args]
    bare = [sys.executable, "-c", f"import keyring; print(keyring.get_password({SERVICE!r}, {provider_id!r}))"]
    times: dict[str, list[float]] = {"token": [], "bare": []}
    cpu = {"token": 0.0, "bare": 0.0}
    for i in range(RUNS):
        pair = [("token", token), ("bare", bare)]
        for name, argv in pair if i % 2 == 0 else reversed(pair):
            elapsed, used = _timed(argv)
            times[name].append(elapsed)
            cpu[name] += used
    cpu_ratio = cpu["token"] / cpu["bare"]
    assert cpu_ratio <= FIGURES["bench_token"]["cpu_ratio"] * SLACK, (
        f"token: {cpu_ratio:.2f}x a bare keyring lookup in CPU time, recorded {FIGURES['bench_token']['cpu_ratio']:.2f}x"
    )
    ratio = statistics.median(times["token"]) / statistics.median(times["bare"])
    if _quiet():
        assert ratio <= recorded * SLACK, f"token: {ratio:.2f}x a bare keyring lookup, recorded {recorded:.2f}x"


def _timed(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child)."""
    import resource
    import time

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "sk-timing-0000000000000000000000\n"
    return elapsed, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
