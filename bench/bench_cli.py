"""Times the everyday commands on a config of ~6,000 lines (2,000 [projects] tables), each against
the `python -c pass` floor measured in the same run (issue 25).

    python bench/bench_cli.py [--runs N] [--base DIR] [--only ROW ...] [--record]

Rows and targets (the ratio to the floor, medians):
    list                          ≤ 5x   (issue 15 asked ≤ 6x; issue 25: hold 5x)
    list --json                   ≤ 5x
    list (config changed)         -      the file is touched before each run: the parse cache misses
    show acme                     ≤ 6x
    use (two providers in turn)   ≤ 7x   `use acme`, `use local`, … : each run changes the file

The Codex home is what years of use leave: the big config, 200 saved sessions (rollout files whose
first line holds tens of KB of instructions, over 40 day folders) and, when one is installed in
.cache/codex, a real Codex binary (CODEXPROV_CODEX), so `use` pays for what it asks (the Codex
version, the session scan) as a user's does.

Each run is a fresh process started as a user starts it (the `codexprov` script beside this
interpreter; PYTHONPATH picks the code tree), after a run of `python -c pass`; every row reports its own floor: the machine is shared, and a floor measured
a minute earlier says little about the load now. Bytecode is compiled first for every code tree
timed (pip does so on install; PYTHONDONTWRITEBYTECODE would otherwise make every run compile).

--base DIR: also time a checkout of the code before a change (e.g. `git worktree add /tmp/base
117c2aa`), alternating A (DIR) and B (this repo) run by run in the same Codex home (each with its
own state folder, so each has its own caches), A first on even runs, B first on odd ones.
--record: write this repo's medians and ratios to bench/figures.json, which the `timing` tests
(tests/test_timing.py) read: they fail when a row gets 20 % slower than recorded there.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from make_big_config import make

REPO = Path(__file__).resolve().parent.parent
FIGURES = Path(__file__).resolve().parent / "figures.json"
CODEX_VERSION = "0.169.0"
# What a user types: the console script pip installs beside this interpreter (PYTHONPATH still
# picks the code tree: it comes before the install on sys.path); `python -m` where there is none.
_SCRIPT = Path(sys.executable).parent / "codexprov"
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "codexprov"]

# name -> (argv after `codexprov`, one list per run in turn; target ratio to the floor or None)
ROWS: dict[str, tuple[list[list[str]], float | None]] = {
    "list": ([["list"]], 5.0),
    "list --json": ([["list", "--json"]], 5.0),
    "list (config changed)": ([["list"]], None),
    "show acme": ([["show", "acme"]], 6.0),
    "use (two providers in turn)": ([["use", "acme"], ["use", "local"]], 7.0),
}


def codex_binary() -> Path | None:
    candidate = REPO / ".cache" / "codex" / CODEX_VERSION / "node_modules" / ".bin" / "codex"
    return candidate if candidate.exists() else None


def write_sessions(codex_home: Path, count: int = 200) -> None:
    """Rollout files as Codex writes them: the first line is session_meta, with the instructions."""
    instructions = "You are Codex, a coding agent. " * 700  # ~20 KB, as real base instructions
    providers = ["openai", "acme", "local"]
    for i in range(count):
        day = f"2026/{10 + i // 100:02d}/{1 + (i // 5) % 20:02d}"
        folder = codex_home / "sessions" / day
        folder.mkdir(parents=True, exist_ok=True)
        sid = f"0199{i:04d}-0000-7000-8000-{i:012d}"
        meta = {
            "timestamp": f"{day.replace('/', '-')}T10:00:00.000Z",
            "type": "session_meta",
            "payload": {
                "id": sid,
                "timestamp": f"{day.replace('/', '-')}T10:00:00.000Z",
                "cwd": f"/home/user/src/project-{i % 50:04d}/checkout",
                "originator": "codex_cli_rs",
                "cli_version": CODEX_VERSION,
                "instructions": instructions,
                "model_provider": providers[i % len(providers)],
            },
        }
        turn = {"timestamp": meta["timestamp"], "type": "response_item", "payload": {"type": "message"}}
        (folder / f"rollout-{day.replace('/', '-')}T10-00-00-{sid}.jsonl").write_text(
            json.dumps(meta) + "\n" + json.dumps(turn) + "\n", encoding="utf-8"
        )


CPU: dict[str, list[float]] = {}  # CPU seconds (user + system) per command line, beside the wall times


def run_once(cmd: list[str], env: dict[str, str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    # cwd: `python -m` puts the working folder first on sys.path, before PYTHONPATH's code tree.
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, cwd=env["HOME"])
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr}")
    used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    CPU.setdefault(env.get("PYTHONPATH", "") + ("|floor" if cmd[1:2] == ["-c"] else "|command"), []).append(used)
    return elapsed


def compile_tree(code: Path) -> None:
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(code / "codexprov")], check=True)


def side_env(base_env: dict[str, str], code: Path, state: Path) -> dict[str, str]:
    """Each code tree with its own state folder (its caches), found as a user's is (platformdirs,
    through XDG_STATE_HOME), not through CODEXPROV_STATE_DIR, which would skip that import."""
    return dict(base_env, PYTHONPATH=str(code), XDG_STATE_HOME=str(state))


def time_row(
    argvs: list[list[str]],
    sides: dict[str, dict[str, str]],
    runs: int,
    before_each: Callable[[], None] | None = None,
) -> tuple[dict[str, list[float]], list[float]]:
    """Each run: `python -c pass`, then every side once (the order alternating run by run)."""
    times: dict[str, list[float]] = {label: [] for label in sides}
    floor: list[float] = []
    labels = list(sides)
    CPU.clear()
    for i in range(runs):
        floor.append(run_once([sys.executable, "-c", "pass"], next(iter(sides.values()))))
        for label in labels if i % 2 == 0 else list(reversed(labels)):
            if before_each is not None:
                before_each()
            times[label].append(run_once([*COMMAND, *argvs[i % len(argvs)]], sides[label]))
    return times, floor


def cpu_ms(prefix: str) -> float:
    """Median CPU time of the runs whose command line starts with `prefix` (PYTHONPATH + argv)."""
    values = [v for key, runs in CPU.items() if key.startswith(prefix) for v in runs]
    return statistics.median(values) * 1000


def ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def prepare(tmp: Path, *, sessions: bool = True, codex: bool = True) -> tuple[dict[str, str], Path]:
    """A Codex home in `tmp` as years of use leave it; the environment the commands run in."""
    home = tmp / "codex"
    home.mkdir()
    config = home / "config.toml"
    config.write_text(make(), encoding="utf-8")
    if sessions:
        write_sessions(home)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CODEXPROV_", "CODEX_", "XDG_"))}
    env.update(CODEX_HOME=str(home), HOME=str(tmp), NO_COLOR="1")
    binary = codex_binary() if codex else None
    if binary is not None:
        env["CODEXPROV_CODEX"] = str(binary)
    return env, config


def warm(env: dict[str, str]) -> None:
    """Fill the caches (parse cache, Codex version, session index), as any earlier command would have."""
    for argv in (["list"], ["use", "openai"]):
        run_once([*COMMAND, *argv], env)


def before_each(row: str, config: Path) -> Callable[[], None] | None:
    """For "list (config changed)": touch the file, as after a hand edit (the parse cache misses)."""
    if row != "list (config changed)":
        return None

    def touch() -> None:
        st = config.stat()
        os.utime(config, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))

    return touch


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--base", type=Path, metavar="DIR", help="a checkout of the code before a change (side A)")
    parser.add_argument("--only", nargs="*", metavar="ROW", help="time only these rows (names as printed)")
    parser.add_argument("--record", action="store_true", help="write this repo's figures to bench/figures.json")
    parser.add_argument("--no-codex", action="store_true", help="no Codex binary, even if one is installed")
    parser.add_argument("--no-sessions", action="store_true", help="no saved sessions in the Codex home")
    args = parser.parse_args()
    codes = {"B": REPO} if args.base is None else {"A": args.base.resolve(), "B": REPO}
    for code in codes.values():
        compile_tree(code)
    rows = {name: row for name, row in ROWS.items() if not args.only or name in args.only}
    with tempfile.TemporaryDirectory() as tmp:
        env, config = prepare(Path(tmp), sessions=not args.no_sessions, codex=not args.no_codex)
        codex = env.get("CODEXPROV_CODEX")
        sides = {label: side_env(env, code, Path(tmp) / f"state-{label}") for label, code in codes.items()}
        print(
            f"config: {len(config.read_text().splitlines())} lines; sessions: {0 if args.no_sessions else 200}; "
            f"codex: {codex or 'none'}; {args.runs} runs per row; python {sys.version.split()[0]}; "
            f"{os.cpu_count()} CPUs; load {os.getloadavg()[0]:.2f}"
        )
        for label, code in codes.items():
            print(f"  {label} = {code}")
            warm(sides[label])

        ok = True
        figures: dict[str, dict[str, float]] = {}
        for name, (argvs, target) in rows.items():
            times, floor = time_row(argvs, sides, args.runs, before_each(name, config))
            f = ms(floor)
            f_cpu = cpu_ms(next(iter(sides.values()))["PYTHONPATH"] + "|floor")
            cells = []
            cpu_cells = []
            for label in sides:
                m = ms(times[label])
                cells.append(f"{label} {m:6.1f} ms = {m / f:4.1f}x")
                c = cpu_ms(sides[label]["PYTHONPATH"] + "|command")
                cpu_cells.append(f"{label} {c:5.1f} = {c / f_cpu:4.1f}x")
            b = ms(times["B"])
            verdict = "" if target is None else f"target ≤ {target:.0f}x  {'OK' if b / f <= target else 'OVER'}"
            if target is not None:
                ok &= b / f <= target
            print(f"{name:<30} floor {f:5.1f} ms  " + "  ".join(cells) + f"  {verdict}")
            print(f"{'  (CPU ms, user+system)':<30} floor {f_cpu:5.1f}     " + "  ".join(cpu_cells))
            figures[name] = {"median_ms": round(b, 1), "floor_ms": round(f, 1), "ratio": round(b / f, 2)}
        if args.record:
            recorded = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
            recorded.setdefault("bench_cli", {}).update(figures)
            FIGURES.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n", encoding="utf-8")
            print(f"recorded in {FIGURES}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
