"""Speed regressions (issue 25): each row of bench/bench_cli.py and bench/bench_token.py, measured as
the bench measures it (alternating with the `python -c pass` floor, medians), must stay within
20 % of the ratio last recorded in bench/figures.json (`--record`). Deselected by default (the
`timing` marker): run with `-m timing` on a quiet machine; re-record after a deliberate change."""

from __future__ import annotations

import json
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
    recorded = FIGURES["bench_cli"][row]["ratio"]
    bench_cli.compile_tree(REPO)
    env, config = bench_cli.prepare(tmp_path)
    env = bench_cli.side_env(env, REPO, tmp_path / "state")
    bench_cli.warm(env)
    argvs, _ = bench_cli.ROWS[row]
    times, floor = bench_cli.time_row(argvs, {"B": env}, RUNS, bench_cli.before_each(row, config))
    ratio = statistics.median(times["B"]) / statistics.median(floor)
    assert ratio <= recorded * SLACK, f"{row}: {ratio:.2f}x the floor, recorded {recorded:.2f}x"


@pytest.mark.keyring
def test_token_within_20_percent_of_the_recorded_figure(provider_id: str) -> None:
    from codexprov.credentials import SERVICE, open_store, token_auth

    recorded = FIGURES["bench_token"]["ratio"]
    open_store().set(provider_id, "sk-timing-0000000000000000000000")
    auth = token_auth(provider_id)
    token = [auth.command, *auth.args]
    bare = [sys.executable, "-c", f"import keyring; print(keyring.get_password({SERVICE!r}, {provider_id!r}))"]
    times: dict[str, list[float]] = {"token": [], "bare": []}
    for i in range(RUNS):
        pair = [("token", token), ("bare", bare)]
        for name, argv in pair if i % 2 == 0 else reversed(pair):
            times[name].append(_timed(argv))
    ratio = statistics.median(times["token"]) / statistics.median(times["bare"])
    assert ratio <= recorded * SLACK, f"token: {ratio:.2f}x a bare keyring lookup, recorded {recorded:.2f}x"


def _timed(argv: list[str]) -> float:
    import time

    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
    elapsed = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "sk-timing-0000000000000000000000\n"
    return elapsed
