"""Test isolation: no test touches the real home, keyring or network.

Fixtures here: an autouse isolated HOME/CODEX_HOME/state dir, `codex_bin` (the pinned real Codex
CLI installed by scripts/test.sh), and `run_cli` (codexprov in-process, exit code and output).
Under CI=true a missing real part is a failure, never a skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CODEX_CACHE = REPO / ".cache" / "codex"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition: bool, why: str) -> None:
    """Skip when a real part is missing on a dev machine; fail under CI, where it must exist."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required under CI=true: {why}")
    pytest.skip(why)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    codex_home = home / ".codex"
    codex_home.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    monkeypatch.setenv("CODEX_HOME", str(codex_home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.delenv("CODEXPROV_STATE_DIR", raising=False)
    monkeypatch.delenv("CODEXPROV_RECIPES_PATH", raising=False)
    monkeypatch.delenv("CODEXPROV_CODEX", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("TERM", "dumb")
    from codexprov import redact

    redact.forget_all()  # secrets remembered by an earlier test must not mask this one's output
    return home


@pytest.fixture
def codex_home(isolated_home: Path) -> Path:
    return isolated_home / ".codex"


@pytest.fixture
def config_file(codex_home: Path) -> Path:
    return codex_home / "config.toml"


def codex_path(version: str) -> Path:
    return CODEX_CACHE / version / "node_modules" / ".bin" / "codex"


# bench/codex_matrix.py runs the Codex-facing tests once per Codex version by setting this; CI
# leaves it unset and tests the pinned 0.169.0 (and 0.133.0 through codex_bin_0133).
MATRIX_VERSION = os.environ.get("CODEXPROV_MATRIX_CODEX") or "0.169.0"


@pytest.fixture
def codex_bin() -> Path:
    path = codex_path(MATRIX_VERSION)
    require(path.exists(), f"the real Codex CLI {MATRIX_VERSION} is not installed at {path} (run scripts/test.sh)")
    return path


@pytest.fixture
def codex_bin_0133() -> Path:
    path = codex_path("0.133.0")
    require(path.exists(), f"the real Codex CLI 0.133.0 is not installed at {path} (run scripts/test.sh)")
    return path


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(capfd: pytest.CaptureFixture[str]):
    """Runs codexprov in-process (fast) and returns exit code, stdout and stderr."""
    from codexprov.__main__ import main

    def _run(*args: str, input: str | None = None) -> CliResult:
        capfd.readouterr()
        old_stdin = sys.stdin
        if input is not None:
            import io

            sys.stdin = io.StringIO(input)
        try:
            code = main(list(args))
        finally:
            sys.stdin = old_stdin
        captured = capfd.readouterr()
        return CliResult(code, captured.out, captured.err)

    return _run


@pytest.fixture
def run_exe():
    """Runs the installed `codexprov` executable as a subprocess (what Codex and users run)."""
    exe = shutil.which("codexprov")
    require(exe is not None, "the codexprov executable is not on PATH (pip install -e .)")

    def _run(*args: str, input: str | None = None, env: dict[str, str] | None = None, timeout: float = 60):
        proc = subprocess.run(
            [exe, *args], input=input, capture_output=True, text=True, env=env, timeout=timeout, check=False
        )
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    return _run


# The fake provider server's fixtures, for every test module.
from tests.bridge_fixtures import bridged  # noqa: E402,F401
from tests.fake_server import fake_server, make_fake_server  # noqa: E402,F401
