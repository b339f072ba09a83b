"""Redaction is linear: `redact_text` over 100 KB inputs of the shapes that used to be quadratic.

    python bench/bench_redact.py [--runs 7] [--size 100000] [--before REV] [--cap 20]

Each input shape is written to a file; each run is a fresh `python -c` that imports
`codexprov.redact`, reads the file, and calls `redact_text` on it once (with a remembered key, as a
command that read a config has). Runs alternate between this tree and the redaction of REV
(default 117c2aa, the round-3 start, where a 10,000-character word took 1.6 s), and `python -c pass`
is run in the same rotation as the floor. A run of REV that exceeds --cap seconds is stopped and
counted as the cap (the quadratic rows at 100 KB take minutes). Prints the median wall time of each
process, and of the redaction call alone (what the process measured itself).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def shapes(size: int) -> dict[str, str]:
    """Inputs of `size` characters; each defeated one of the old patterns."""
    word = ("abcdefghij" * (size // 10 + 1))[:size]
    return {
        "one long word": word,
        "word after token:": "token: " + word,
        "a.b.c… (URL scheme)": ("a." * (size // 2 + 1))[:size],
        "--flag words": ("--api-key " * (size // 10 + 1))[:size],
        "key=value pairs": ("api_key=abcdefgh12345678&" * (size // 25 + 1))[:size],
        "quoted pairs": ('"x-api-key" = "abcdefgh12345678"\n' * (size // 33 + 1))[:size],
        "alnum argument": ("a1" * (size // 2 + 1))[:size],
        "config text": (
            '[model_providers.p]\nname = "P"\nbase_url = "https://h.example/v1?x=1"\nenv_key = "P_KEY"\n'
            'experimental_bearer_token = "sk-abcdefghijklmnop1234"\n' * (size // 120 + 1)
        )[:size],
    }


RUNNER = """
import sys, time
sys.path.insert(0, sys.argv[1])
from codexprov import redact
redact.remember("remembered0123456789key")
try:
    from codexprov.redact_args import looks_like_key
except ImportError:  # a REV from before the argument rule had a module of its own
    looks_like_key = redact.looks_like_key
text = open(sys.argv[2], encoding="utf-8").read()
start = time.perf_counter()
redact.redact_text(text)
looks_like_key(text)
print(time.perf_counter() - start)
"""


def export_before(rev: str, into: Path) -> Path:
    """REV's codexprov/redact.py as a package of its own (it is stdlib-only)."""
    package = into / "codexprov"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    source = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{rev}:codexprov/redact.py"], capture_output=True, text=True, check=True
    ).stdout
    (package / "redact.py").write_text(source, encoding="utf-8")
    return into


def timed(argv: list[str], cap: float) -> tuple[float, float]:
    """(wall time of the process, the time it printed: the redaction call alone)."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=cap)
    except subprocess.TimeoutExpired:
        return cap, cap
    wall = time.perf_counter() - start
    return wall, float(proc.stdout.strip() or 0.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--before", default="117c2aa")
    parser.add_argument("--cap", type=float, default=20.0)
    parser.add_argument("--skip-before", action="store_true", help="time this tree only")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-redact-") as tmp:
        before_root = None if args.skip_before else export_before(args.before, Path(tmp) / "before")
        floor: list[float] = []
        print(f"redact_text + looks_like_key on {args.size:,}-character inputs, median of {args.runs} runs (s)")
        print(f"{'':24} {'this tree':>21} {'before (' + args.before + ')':>21}")
        print(f"{'input':24} {'process':>10} {'call':>10} {'process':>10} {'call':>10}")
        for name, text in shapes(args.size).items():
            sample = Path(tmp) / "input.txt"
            sample.write_text(text, encoding="utf-8")
            after: list[tuple[float, float]] = []
            before: list[tuple[float, float]] = []
            capped = False
            for _ in range(args.runs):
                floor.append(timed([sys.executable, "-c", "pass"], args.cap)[0])
                after.append(timed([sys.executable, "-c", RUNNER, str(REPO), str(sample)], args.cap))
                if before_root is not None and not capped:
                    took = timed([sys.executable, "-c", RUNNER, str(before_root), str(sample)], args.cap)
                    before.append(took)
                    capped = took[0] >= args.cap  # one capped run is enough to know

            def med(runs: list[tuple[float, float]], at: int) -> str:
                return f"{statistics.median(r[at] for r in runs):.3f}"

            shown = (
                ("-", "-") if not before else (f">{args.cap:g}",) * 2 if capped else (med(before, 0), med(before, 1))
            )
            print(f"{name:24} {med(after, 0):>10} {med(after, 1):>10} {shown[0]:>10} {shown[1]:>10}")
        print(f"{'python -c pass (floor)':24} {statistics.median(floor):10.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
