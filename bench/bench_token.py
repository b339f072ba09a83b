"""How long Codex waits for a key: `codexprov token ID` against a bare keyring one-liner.

    python bench/bench_token.py [--runs 30] [--provider codexprov-bench] [--base DIR] [--record]

Runs, alternately (so that machine load hits both alike), the exact auth command codexprov
writes into config.toml (`token_auth(ID)`) and
`python -c "import keyring; print(keyring.get_password('codexprov', ID))"` on the same
interpreter, in the same environment, hence the same keyring backend. Prints the median and mean
wall time of each and the ratio token / bare (issue 25's target: at most 0.35; the Secret
Service round trip is the floor a key lookup cannot go under, the rest is start-up and imports).

--base DIR: also time the same token command with the code of DIR (a checkout from before a
change, on PYTHONPATH), in the same alternation. --record: write the figures to bench/figures.json
(read by tests/test_timing.py).

It needs a usable keyring. If no key is stored for the provider id, it stores a dummy one first
and deletes it at the end; a key that already exists is left alone.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from codexprov.credentials import SERVICE, open_store, token_auth  # noqa: E402 - needs the repo on sys.path


def interpreter_of(command: list[str]) -> str:
    """The Python that runs `command` (a console script's shebang, or the command itself)."""
    head = Path(command[0])
    if head.name.startswith("python"):
        return str(head)
    try:
        first = head.read_bytes().split(b"\n", 1)[0].decode()
    except OSError:
        return sys.executable
    if first.startswith("#!") and "python" in first:
        return first[2:].strip().split()[0]
    return sys.executable


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"bench: {argv[:2]}… exited {proc.returncode}: {proc.stderr.strip()}")
    return elapsed, proc.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--provider", default="codexprov-bench")
    parser.add_argument("--base", type=Path, metavar="DIR", help="a checkout of the code before a change")
    parser.add_argument("--record", action="store_true", help="write the figures to bench/figures.json")
    args = parser.parse_args()

    store = open_store()
    created = store.get(args.provider) is None
    if created:
        store.set(args.provider, "sk-bench-0000000000000000000000")
    try:
        auth = token_auth(args.provider)
        token_cmd = [auth.command, *auth.args]
        python = interpreter_of(token_cmd)
        bare_cmd = [
            python,
            "-c",
            f"import keyring; print(keyring.get_password({SERVICE!r}, {args.provider!r}))",
        ]
        print(f"backend:  {store.backend_name}")
        print(f"token:    {' '.join(token_cmd)}")
        print(f"bare:     {' '.join(bare_cmd)}")

        base_env = None
        if args.base is not None:
            base_env = dict(os.environ, PYTHONPATH=str(args.base.resolve()))
            print(f"base:     the token command with PYTHONPATH={args.base.resolve()}")
        for _ in range(args.warmup):
            timed(token_cmd)
            timed(bare_cmd)
        token_times, bare_times, floor_times, base_times = [], [], [], []
        for i in range(args.runs):
            # Alternate which goes first, so neither always runs on a warmer cache.
            runs = [(token_cmd, token_times, None), (bare_cmd, bare_times, None)]
            if base_env is not None:
                runs.insert(1, (token_cmd, base_times, base_env))
            for argv, sink, env in runs if i % 2 == 0 else reversed(runs):
                elapsed, output = timed(argv, env)
                sink.append(elapsed)
                if output != store.get(args.provider):
                    raise SystemExit("bench: the commands printed different keys")
            floor_times.append(timed([python, "-c", "pass"])[0])
    finally:
        if created:
            store.delete(args.provider)

    def row(name: str, times: list[float]) -> str:
        return (
            f"{name:<6} median {statistics.median(times) * 1000:7.1f} ms   mean {statistics.mean(times) * 1000:7.1f} ms"
            f"   stdev {statistics.stdev(times) * 1000:6.1f} ms   (n={len(times)})"
        )

    print(row("floor", floor_times) + "   (python -c pass)")
    if base_times:
        print(
            row("base", base_times)
            + f"   (ratio base/bare {statistics.median(base_times) / statistics.median(bare_times):.2f})"
        )
    print(row("token", token_times))
    print(row("bare", bare_times))
    ratio = statistics.median(token_times) / statistics.median(bare_times)
    mean_ratio = statistics.mean(token_times) / statistics.mean(bare_times)
    print(f"ratio token/bare: median {ratio:.2f}   mean {mean_ratio:.2f}   (target <= 0.35)")
    if args.record:
        figures = REPO / "bench" / "figures.json"
        recorded = json.loads(figures.read_text()) if figures.exists() else {}
        recorded["bench_token"] = {
            "token_ms": round(statistics.median(token_times) * 1000, 1),
            "bare_ms": round(statistics.median(bare_times) * 1000, 1),
            "floor_ms": round(statistics.median(floor_times) * 1000, 1),
            "ratio": round(ratio, 2),
        }
        figures.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"recorded in {figures}")
    return 0 if ratio <= 0.35 else 1


if __name__ == "__main__":
    sys.exit(main())
