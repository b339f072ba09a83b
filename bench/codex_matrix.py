"""Run the Codex-facing end-to-end tests against a list of real Codex versions; print pass/fail per version.

CI tests the two pinned versions (scripts/test.sh: 0.171.0, the primary one, and 0.133.0). This
script is for the releases in between and before, outside CI: for each version it installs
`@openai/codex@VERSION` from npm into .cache/codex/VERSION when missing (as scripts/test.sh does),
then runs pytest on every Codex-facing test file (each file under tests/ that uses the `codex_bin`
fixture, found when the script runs) with CODEXPROV_MATRIX_CODEX=VERSION, which points the
`codex_bin` fixture at that version (tests that pin 0.133.0 keep using it). A test that needs what a
version lacks skips itself, so "pass" means no failures and no errors.

    python bench/codex_matrix.py                      # the default eight versions
    python bench/codex_matrix.py 0.163.0 0.170.0      # any list
    python bench/codex_matrix.py --no-install -- -k sessions   # pytest arguments after --
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


def run_version(version: str, pytest_args: list[str]) -> tuple[dict[str, int], float, str]:
    env = dict(os.environ, CODEXPROV_MATRIX_CODEX=version, CI="")
    python = REPO / ".venv" / "bin" / "python"
    files = codex_tests()
    command = [
        str(python if python.exists() else sys.executable),
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
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
    return counts, elapsed, proc.stdout if proc.returncode else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("versions", nargs="*", default=list(DEFAULT_VERSIONS))
    parser.add_argument(
        "--no-install", action="store_true", help="Skip versions that are not installed instead of installing them."
    )
    parser.add_argument("--show-failures", action="store_true", help="Print pytest's output for each failing version.")
    args, pytest_args = parser.parse_known_args()
    pytest_args = [a for a in pytest_args if a != "--"]

    rows = []
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
        if not ok and args.show_failures:
            print(output, file=sys.stderr)
    width = max(len(r[0]) for r in rows)
    print(f"{'CODEX':<{width}}  RESULT  TESTS{'':<40}TIME")
    for version, result, detail, elapsed in rows:
        print(f"{version:<{width}}  {result:<6}  {detail:<45}{elapsed}")
    return 0 if all(r[1] == "PASS" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
