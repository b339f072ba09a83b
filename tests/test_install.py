"""The install paths the README shows, from a clean environment: `pipx install` and `uv tool
install` of this checkout into empty tool homes. The entry point works, and `token` from that
install stays on its fast path (it imports neither typer nor rich nor tomlkit: the start-up cost
Codex pays on every request; bench/bench_token.py times it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codexprov import __version__
from tests.conftest import REPO, require

pytestmark = pytest.mark.install

HEAVY = ("typer", "rich", "tomlkit", "httpx")


def _clean_env(tmp_path: Path) -> dict[str, str]:
    """No virtualenv, no codexprov on PATH: a user's shell before the install."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PIPX_HOME", "PIPX_BIN_DIR")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(REPO)))
    env["HOME"] = str(tmp_path / "home")
    env["CODEX_HOME"] = str(tmp_path / "home" / ".codex")
    return env


def _tool(name: str) -> str:
    path = shutil.which(name, path=str(Path(sys.executable).parent))
    require(path is not None, f"{name} is not installed in the test environment (scripts/test.sh installs it)")
    return str(path)


def _check_install(bin_dir: Path, env: dict[str, str]) -> None:
    exe = bin_dir / "codexprov"
    assert exe.exists(), list(bin_dir.iterdir())
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True, env=env, check=False, timeout=60)
    assert (version.returncode, version.stdout) == (0, f"codexprov {__version__}\n")
    listed = subprocess.run(
        [str(exe), "list", "--json"], capture_output=True, text=True, env=env, check=False, timeout=60
    )
    assert listed.returncode == 0, listed.stderr
    # The interpreter behind the entry point (the tool's own venv) imports only what token needs.
    python = Path(exe.read_text(encoding="utf-8", errors="replace").splitlines()[0].removeprefix("#!").strip())
    if not python.exists():  # a symlinked or binary launcher: its venv's python
        python = Path(os.path.realpath(exe)).parent / "python"
    token = subprocess.run(
        [
            str(python),
            "-X",
            "importtime",
            "-c",
            "import sys; from codexprov.__main__ import main; sys.exit(main(['token', 'acme']))",
        ],
        capture_output=True,
        text=True,
        env={**env, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"},
        check=False,
        timeout=60,
    )
    imported = {
        line.split("|")[-1].strip().split(".")[0]
        for line in token.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "codexprov" in imported, token.stderr[-2000:]
    assert not imported & set(HEAVY), sorted(imported & set(HEAVY))


def test_pipx_install_from_the_checkout(tmp_path: Path) -> None:
    env = _clean_env(tmp_path)
    env.update(PIPX_HOME=str(tmp_path / "pipx"), PIPX_BIN_DIR=str(tmp_path / "bin"), PIPX_MAN_DIR=str(tmp_path / "man"))
    env["PIP_CACHE_DIR"] = str(REPO / ".cache" / "pip")
    done = subprocess.run(
        [_tool("pipx"), "install", str(REPO)], capture_output=True, text=True, env=env, check=False, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    _check_install(tmp_path / "bin", env)


def test_uv_tool_install_from_the_checkout(tmp_path: Path) -> None:
    env = _clean_env(tmp_path)
    # Tool homes are fresh; the download cache is shared between runs (it changes no outcome).
    env.update(
        UV_TOOL_DIR=str(tmp_path / "uv-tools"),
        UV_TOOL_BIN_DIR=str(tmp_path / "bin"),
        UV_CACHE_DIR=str(REPO / ".cache" / "uv"),
    )
    done = subprocess.run(
        [_tool("uv"), "tool", "install", "--python", sys.executable, str(REPO)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    _check_install(tmp_path / "bin", env)
