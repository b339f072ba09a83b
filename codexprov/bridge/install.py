"""LiteLLM in its own virtualenv, managed by codexprov (`codexprov bridge install`).

Why a virtualenv of its own: LiteLLM's proxy brings ~100 packages (fastapi, uvicorn, openai,
pydantic, …). In codexprov's environment they would slow every command and pin codexprov's
dependencies; beside it, they cost nothing when no bridge is used.

Why this pin: the bridge is tested against LiteLLM 1.108.7 (tag routing, wildcard deployments,
fallbacks, serve.py's use of its app as done here), the newest release that installs from the
package index this project is tested with (1.108.8 and later need companion packages it lacks).
1.104.0 stopped forwarding Codex's `client_metadata` to chat upstreams; 1.106.0 answers Codex's
model-list request in Codex's own catalog shape. It excludes 1.82.7 and 1.82.8, the releases that
were published compromised (the range starts far above them; `in_tested_range` checks it).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from codexprov.bridge.layout import Layout
from codexprov.errors import CodexprovError, NotFoundError
from codexprov.paths import private_dir
from codexprov.redact import redact_text

LITELLM_REQUIREMENT = "litellm[proxy]>=1.108.7,<1.108.8"
_MIN = (1, 108, 7)
_BELOW = (1, 108, 8)
_COMPROMISED = ((1, 82, 7), (1, 82, 8))
_DIST_INFO = re.compile(r"^litellm-(\d+)\.(\d+)\.(\d+)[^/]*\.dist-info$")


@dataclass(frozen=True)
class InstallResult:
    """The bridge's LiteLLM after `bridge install`: where it is, which version, whether it changed."""

    venv: Path
    version: str
    changed: bool  # False: a LiteLLM in the tested range was already there


def installed_version(layout: Layout) -> str | None:
    """The LiteLLM version in the bridge's virtualenv (read from its dist-info; no subprocess)."""
    if not layout.litellm_exe.exists():
        return None
    lib = layout.venv / ("Lib" if os.name == "nt" else "lib")
    candidates = [lib / "site-packages"] if os.name == "nt" else sorted(lib.glob("python3*/site-packages"))
    for site in candidates:
        try:
            names = os.listdir(site)
        except OSError:
            continue
        for name in names:
            match = _DIST_INFO.match(name)
            if match:
                return ".".join(match.groups())
    return None


def in_tested_range(version: str) -> bool:
    parts = tuple(int(p) for p in version.split(".")[:3])
    return _MIN <= parts < _BELOW and parts not in _COMPROMISED


def require_installed(layout: Layout) -> str:
    """The installed LiteLLM version, or NotFoundError saying how to install it."""
    version = installed_version(layout)
    if version is None:
        raise NotFoundError(
            f"the bridge's LiteLLM is not installed (looked in {layout.venv})",
            hint="Run `codexprov bridge install` (it creates a virtualenv of its own; codexprov's stays as it is).",
        )
    return version


def install(layout: Layout, *, python: str | None = None, upgrade: bool = False) -> InstallResult:
    """Create the virtualenv (when missing) and install LiteLLM's proxy in the tested range."""
    current = installed_version(layout)
    if current is not None and in_tested_range(current) and not upgrade:
        return InstallResult(layout.venv, current, False)
    interpreter = python or sys.executable
    if not layout.venv_python.exists():
        private_dir(layout.venv.parent)
        _run([interpreter, "-m", "venv", str(layout.venv)], "create the bridge's virtualenv")
    command = [str(layout.venv_python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if upgrade:
        command.append("--upgrade")
    _run([*command, LITELLM_REQUIREMENT], f"install {LITELLM_REQUIREMENT}")
    version = installed_version(layout)
    if version is None:
        raise CodexprovError(
            f"pip finished but no LiteLLM is in {layout.venv}", hint="Run `codexprov bridge install` again."
        )
    return InstallResult(layout.venv, version, True)


def _run(command: list[str], what: str) -> None:
    try:
        # umask 077: the virtualenv runs code with the user's keys at hand; under umask 000 it was
        # world-writable (anyone could replace LiteLLM).
        proc = subprocess.run(
            command,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            check=False,
            umask=0o077 if os.name != "nt" else -1,
        )
    except OSError as err:
        raise CodexprovError(f"could not {what}: {err.strerror or err}") from None
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
        raise CodexprovError(
            f"could not {what} (exit {proc.returncode})",
            detail=redact_text(tail) or None,
            hint="Check that PyPI (or your index) is reachable, then run `codexprov bridge install` again.",
        )
