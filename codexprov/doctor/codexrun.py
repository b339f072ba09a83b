"""The ground truth: run the installed Codex for one tiny turn on a throwaway copy of the setup.

A temporary CODEX_HOME gets copies of config.toml, the profile files and auth.json, and links to
the executables beside them (an auth command given as a relative path still resolves; Codex's own
state, its databases and sessions, is neither copied nor linked, so nothing is written back); Codex runs
in the same cwd and environment, `codex exec` with a one-word prompt, under a hard timeout, its
whole process group killed after it. Sessions and logs land in the temporary home, which is
removed: nothing is left in the user's. Codex's last error line is mapped to the doctor check that
explains it. Check id: codex.run.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from codexprov.doctor.findings import Finding
from codexprov.paths import Paths
from codexprov.redact import redact_text

PROMPT = "ping"
# Quiet flags every Codex version since 0.1xx accepts as -c overrides (unknown keys are ignored).
QUIET = ("-c", "check_for_update_on_startup=false", "-c", "analytics.enabled=false")
_COPIED = ("config.toml", "auth.json")
_NOT_LINKED = {"sessions", "log", "logs", "history.jsonl", "archived_sessions", "tmp", ".tmp"}

# What Codex's last error line says, and the checks that explain it (the first one that failed wins).
EXPLAINED_BY: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (re.compile(pattern, re.I), checks)
    for pattern, checks in (
        (r"Quota exceeded|insufficient_quota", ("net.quota",)),
        (r"stream disconnected|idle timeout|response\.completed", ("net.stream",)),
        (r"\b429\b|Too Many Requests", ("net.rate-limit",)),
        (r"Missing environment variable", ("key.env-missing",)),
        (r"auth command|failed to start", ("key.auth-command", "key.keyring-missing", "key.keyring-unavailable")),
        (
            r"\b40[13]\b|Unauthorized|Forbidden",
            ("key.format", "key.env-missing", "key.keyring-missing", "net.models", "net.responses-route"),
        ),
        (r"\b405\b|Method Not Allowed", ("net.redirect", "net.responses-route")),
        (r"does not exist|model_not_found|model .* not found", ("net.stream", "net.models")),
        (
            r"\b404\b|Not Found",
            ("net.responses-route", "net.models", "provider.base-url-endpoint", "provider.azure-path"),
        ),
        (r"\b5\d\d\b|high demand|Service Unavailable|Internal Server Error|Bad Gateway", ("net.upstream",)),
        (r"duplicate key|declared twice", ("config.duplicate-key", "config.duplicate-table")),
        (r"reserved built-in", ("provider.reserved-id",)),
        (r"wire_api", ("provider.wire-api",)),
        (r"provider name must not be empty", ("provider.name",)),
        (
            r"Error loading config|config\.toml",
            ("config.invalid", "profile.legacy-default", "provider.builtin-fields", "provider.auth-conflict"),
        ),
        (r"error sending request|connect|dns|tls|certificate", ("net.reachable",)),
        (r"\b400\b|Bad Request|invalid_request_error|Unsupported", ("net.stream", "provider.gateway-requests")),
    )
)


def explain(line: str, failed: Sequence[str]) -> str | None:
    """The check that explains Codex's error line: one that failed here, else the likeliest."""
    for pattern, checks in EXPLAINED_BY:
        if pattern.search(line):
            return next((c for c in checks if c in failed), checks[0])
    return None


def last_error(stderr: str) -> str:
    """Codex's last `ERROR:` line (else its last line), one line."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("ERROR") or ln.lower().startswith("error")]
    line = (errors or lines or [""])[-1]
    return line.removeprefix("ERROR:").strip()[:300]


def throwaway_home(codex_home: Path, into: Path) -> Path:
    """A copy of the setup in `into`: config files copied, other top-level files linked."""
    home = into / "codex-home"
    home.mkdir(mode=0o700)
    if not codex_home.is_dir():
        return home
    for entry in codex_home.iterdir():
        if entry.name in _NOT_LINKED or entry.name.startswith(".config.toml."):
            continue
        target = home / entry.name
        try:
            if entry.name in _COPIED or entry.name.endswith(".config.toml"):
                if entry.is_file():
                    shutil.copy2(entry, target)
            elif entry.is_file() and os.access(entry, os.X_OK) and not _is_state(entry.name):
                target.symlink_to(entry)
        except OSError:
            continue
    return home


def _is_state(name: str) -> bool:
    return any(part in name for part in (".sqlite", ".json", ".db", ".lock"))


def run_codex_turn(
    paths: Paths,
    info: Any,
    *,
    env: Mapping[str, str],
    cwd: Path | None,
    profile: str | None,
    timeout: float,
    findings: Sequence[Finding],
    active: str | None,
) -> Finding:
    """Run `codex exec PROMPT` on a throwaway copy of the setup; a Finding says whether the turn finished."""
    if info.assumed or info.path is None:
        return Finding("codex.run", "skip", f"codex.run skipped: {info.reason or 'no Codex found'}", provider=active)
    failed = [f.check for f in findings if f.status == "fail"]
    with tempfile.TemporaryDirectory(prefix="codexprov-doctor-") as tmp:
        home = throwaway_home(paths.codex_home, Path(tmp))
        command = [str(info.path), "exec", "--skip-git-repo-check", *QUIET]
        if profile is not None:
            command += ["-p", profile]
        command.append(PROMPT)
        child_env = {**env, "CODEX_HOME": str(home)}
        start = time.monotonic()
        try:
            proc = subprocess.Popen(
                command,
                cwd=str(cwd) if cwd is not None else tmp,
                env=child_env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
        except OSError as err:
            return Finding("codex.run", "fail", f"Codex could not be started: {err.strerror or err}", provider=active)
        try:
            out, err_text = proc.communicate(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            _kill(proc)
            out, err_text = proc.communicate()
            timed_out = True
        took = time.monotonic() - start
    if proc.returncode == 0 and not timed_out:
        return Finding(
            "codex.run",
            "ok",
            f"Codex finished a turn in {took:.1f} s (`codex exec {PROMPT}` on a copy of this setup)",
            provider=active,
        )
    if timed_out:
        line = last_error(err_text or "")
        message = f"Codex did not finish a turn within {timeout:g} s" + (
            f"; its last error: {redact_text(line)}" if line else ""
        )
        check = explain(line, failed) if line else None
        check = check or ("net.reachable" if "net.reachable" in failed else None)
    else:
        line = last_error(err_text or out or "")
        message = f"Codex did not finish the turn (exit {proc.returncode}): {redact_text(line)}"
        # A load error is Codex's own words about its config: codex.load (doctor/codexload.py) ran the same loader.
        check = explain(line, failed)
        if check not in failed and "codex.load" in failed:
            check = "codex.load"
    fix = None
    if check is not None:
        message += f" (explained by {check})"
        fix = next((f.fix for f in findings if f.check == check and f.status in ("fail", "warn") and f.fix), None)
    return Finding("codex.run", "fail", message, provider=active, fix=fix)


def _kill(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (OSError, AttributeError):
        proc.kill()
