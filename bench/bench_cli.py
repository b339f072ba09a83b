"""Times `codexprov list` and `codexprov use …` on a config of ~6,000 lines (2,000 [projects] tables).

Targets (issue 2): list ≤ 150 ms median, use ≤ 300 ms median, on the 2-core dev machine. Issue 15:
`list` faster than 6.0x the `python -c pass` floor measured in the same run; "list (config
changed)" touches the file before each run, so the parse cache misses and the TOML reader runs.
Each run is a fresh process, as a user typing the command gets. Usage:
    python bench/bench_cli.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from make_big_config import make


def timed(cmd: list[str], env: dict[str, str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr}")
    return times


def report(name: str, times: list[float], target_ms: float, floor: float) -> bool:
    median = statistics.median(times) * 1000
    ok = median <= target_ms
    print(
        f"{name:<32} median {median:7.1f} ms ({median / floor:4.1f}x floor)  min {min(times) * 1000:7.1f} ms"
        f"  max {max(times) * 1000:7.1f} ms  target ≤ {target_ms:.0f} ms  {'OK' if ok else 'OVER'}"
    )
    return ok


def timed_after_touch(cmd: list[str], env: dict[str, str], config: Path, runs: int) -> list[float]:
    """Each run after the config's mtime changed (as after a hand edit): the parse cache misses."""
    times = []
    for _ in range(runs):
        st = config.stat()
        os.utime(config, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
        times += timed(cmd, env, 1)
    return times


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    exe = shutil.which("codexprov")
    cmd = [exe] if exe else [sys.executable, "-m", "codexprov"]
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "codex"
        home.mkdir()
        (home / "config.toml").write_text(make(), encoding="utf-8")
        env = dict(os.environ, CODEX_HOME=str(home), CODEXPROV_STATE_DIR=str(Path(tmp) / "state"), NO_COLOR="1")
        print(f"config: {len((home / 'config.toml').read_text().splitlines())} lines; command: {' '.join(cmd)}")
        baseline = timed([sys.executable, "-c", "pass"], env, args.runs)
        floor = statistics.median(baseline) * 1000
        print(f"{'python -c pass (floor)':<32} median {floor:7.1f} ms")
        ok = report("codexprov list", timed([*cmd, "list"], env, args.runs), 150, floor)
        ok &= report("codexprov list --json", timed([*cmd, "list", "--json"], env, args.runs), 150, floor)
        ok &= report(
            "codexprov list (config changed)", timed_after_touch([*cmd, "list"], env, home / "config.toml", args.runs), 150, floor
        )
        models = iter(f"m{i}" for i in range(10**6))
        use_times = []
        for _ in range(args.runs):
            use_times += timed([*cmd, "use", "acme", "--model", next(models)], env, 1)
        ok &= report("codexprov use acme --model", use_times, 300, floor)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
