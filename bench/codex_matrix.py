"""Run the Codex-facing end-to-end tests against a list of real Codex versions; print pass/fail per version.

CI tests the two pinned versions (scripts/test.sh: 0.171.0, the primary one, and 0.133.0). This
script is for the releases in between and before, outside CI: for each version it installs
`@openai/codex@VERSION` from npm into .cache/codex/VERSION when missing (as scripts/test.sh does),
then runs pytest on every Codex-facing test file (each file under tests/ that uses the `codex_bin`
fixture, found when the script runs) with CODEXPROV_MATRIX_CODEX=VERSION, which points the `codex_bin` fixture at
that version (tests that pin 0.133.0 keep using it), and CI=true (a missing real part fails, as in CI). A test that needs what a
version lacks skips itself, so "pass" means no failures and no errors.

    python bench/codex_matrix.py                      # the default eight versions
    python bench/codex_matrix.py 0.163.0 0.170.0      # any list
    python bench/codex_matrix.py --no-install -- -k sessions   # pytest arguments after --
    python bench/codex_matrix.py --log-dir /tmp/matrix 0.133.0 # keep each row's pytest output

Each row prints its counts, then one line per failing test and one line per distinct skip reason
(a skip in the matrix must say which release lacks what): the matrix table of the closing notes.
Run it under `nice -n 15` on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_VERSIONS = ("0.133.0", "0.160.0", "0.163.0", "0.165.0", "0.166.0", "0.169.0", "0.170.0", "0.171.0")
_USES_CODEX = re.compile(r"\bcodex_bin\b")


def codex_tests() -> list[str]:
    """The test files that run the real Codex (they take the `codex_bin` fixture), sorted."""
    return sorted(
        f"tests/{p.name}"
        for p in (REPO / "tests").glob("test_*.py")
        if _USES_CODEX.search(p.read_text(encoding="utf-8"))
    )


_SUMMARY = re.compile(r"(\d+) (passed|failed|skipped|error|errors|deselected|xfailed|xpassed)")


def install(version: str) -> Path:
    prefix = REPO / ".cache" / "codex" / version
    binary = prefix / "node_modules" / ".bin" / "codex"
    if not binary.exists():
        prefix.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--silent",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(prefix),
                f"@openai/codex@{version}",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return binary


_SHORT = re.compile(r"^(FAILED|ERROR) (\S+)")
_SKIP = re.compile(r"^SKIPPED \[(\d+)\] [^:]+(?::\d+)?: (.*)$")


def summary_lines(output: str) -> tuple[list[str], dict[str, int]]:
    """The failing tests (FAILED/ERROR lines of pytest's short summary) and the skip reasons with counts."""
    failures: list[str] = []
    skips: dict[str, int] = {}
    for line in output.splitlines():
        if match := _SHORT.match(line):
            failures.append(f"{match.group(1)} {match.group(2)}")
        elif match := _SKIP.match(line):
            skips[match.group(2)] = skips.get(match.group(2), 0) + int(match.group(1))
    return failures, skips


def run_version(version: str, pytest_args: list[str]) -> tuple[dict[str, int], float, str]:
    python = REPO / ".venv" / "bin" / "python"
    env = dict(os.environ, CODEXPROV_MATRIX_CODEX=version, CI="true")
    # As scripts/test.sh: the tests that run the installed `codexprov` find this checkout's.
    env["PATH"] = os.pathsep.join([str(python.parent), env.get("PATH", "")])
    files = codex_tests()
    command = [
        str(python if python.exists() else sys.executable),
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-rfEs",  # the short summary names each failure, error and skip reason
        *files,
        *pytest_args,
    ]
    if shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon"):
        # The same private Secret Service as scripts/test.sh, for tests that store a key.
        command = ["dbus-run-session", "--", "bash", "scripts/in-session.sh", *command[3:]]
        env["PYTHON"] = str(python if python.exists() else sys.executable)
    start = time.monotonic()
    proc = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - start
    tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr.strip()[-300:]
    counts = {kind.rstrip("s") if kind.startswith("error") else kind: int(n) for n, kind in _SUMMARY.findall(tail)}
    if proc.returncode not in (0, 1) and not counts:
        counts = {"error": 1}
    return counts, elapsed, proc.stdout + proc.stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("versions", nargs="*", default=list(DEFAULT_VERSIONS))
    parser.add_argument(
        "--no-install", action="store_true", help="Skip versions that are not installed instead of installing them."
    )
    parser.add_argument("--show-failures", action="store_true", help="Print pytest's output for each failing version.")
    parser.add_argument("--log-dir", type=Path, help="Write each version's pytest output to DIR/VERSION.log.")
    args, pytest_args = parser.parse_known_args()
    pytest_args = [a for a in pytest_args if a != "--"]

    rows = []
    details: dict[str, list[str]] = {}
    for version in args.versions:
        binary = REPO / ".cache" / "codex" / version / "node_modules" / ".bin" / "codex"
        if not binary.exists():
            if args.no_install:
                rows.append((version, "not installed", "", ""))
                continue
            install(version)
        counts, elapsed, output = run_version(version, pytest_args)
        ok = counts.get("failed", 0) == 0 and counts.get("error", 0) == 0 and counts.get("passed", 0) > 0
        detail = ", ".join(f"{n} {k}" for k, n in counts.items()) or "no result"
        rows.append((version, "PASS" if ok else "FAIL", detail, f"{elapsed:.0f} s"))
        failures, skips = summary_lines(output)
        details[version] = [f"  {f}" for f in failures] + [f"  skipped {n}: {why}" for why, n in skips.items()]
        if args.log_dir is not None:
            args.log_dir.mkdir(parents=True, exist_ok=True)
            (args.log_dir / f"{version}.log").write_text(output, encoding="utf-8")
        # Each row as soon as it is known: a full run takes hours on a loaded machine.
        print(f"{version}: {'PASS' if ok else 'FAIL'} ({detail}, {elapsed:.0f} s)", file=sys.stderr, flush=True)
        if not ok and args.show_failures:
            print(output, file=sys.stderr)
    width = max(len(r[0]) for r in rows)
    print(f"{'CODEX':<{width}}  RESULT  TESTS{'':<40}TIME")
    for version, result, detail, elapsed in rows:
        print(f"{version:<{width}}  {result:<6}  {detail:<45}{elapsed}")
        for line in details.get(version, []):
            print(line)
    return 0 if all(r[1] == "PASS" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
