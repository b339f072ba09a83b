"""The ground truth: run the installed Codex for one tiny turn on a throwaway copy of the setup.

A temporary CODEX_HOME gets copies of config.toml, the profile files and auth.json, and links to
the executables beside them (an auth command given as a relative path still resolves; Codex's own
state, its databases, history and sessions, is neither copied nor linked, so nothing is written
back). The copies keep only what the check needs: `notify` (the user's hook would run),
`sqlite_home` and `log_dir` (they would point Codex at the user's real state) are taken out, and
`CODEX_SQLITE_HOME` is not passed on; overrides point the state and logs into the temporary home
too. Codex runs in the same cwd, `codex exec` with a one-word prompt, in a process group of its
own that is killed at the timeout and again when it exits (whatever it left running). Its output
goes to files, not pipes: a descendant that keeps them open cannot make the doctor wait. The
temporary home is removed. Codex's last error line is mapped to the doctor check that explains it.
Check id: codex.run.
"""

from __future__ import annotations

import contextlib
import json
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
# Settings of a copied config the check must not use: the user's notify hook, their real state and
# log folders (and history, which goes to the throwaway home anyway, is not kept).
_DROPPED = ("notify", "sqlite_home", "log_dir", "history")
_DROPPED_ENV = ("CODEX_SQLITE_HOME",)
_NOT_LINKED = {"sessions", "log", "logs", "history.jsonl", "archived_sessions", "tmp", ".tmp"}

# What Codex's last error line says, and the checks that explain it (the first one that failed wins).
EXPLAINED_BY: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (re.compile(pattern, re.I), checks)
    for pattern, checks in (
        (r"Quota exceeded|insufficient_quota", ("net.quota",)),
        # 0.133 with no retries: "stream disconnected before completion: error sending request for url".
        (r"stream disconnected|idle timeout|response\.completed", ("net.stream", "net.reachable")),
        # 0.133 reports an exhausted quota as a plain 429 ("exceeded retry limit, last status: 429").
        (r"\b429\b|Too Many Requests", ("net.rate-limit", "net.quota")),
        (r"Missing environment variable", ("key.env-missing",)),
        (r"auth command|failed to start", ("key.auth-command", "key.keyring-missing", "key.keyring-unavailable")),
        (
            r"\b40[13]\b|Unauthorized|Forbidden",
            ("key.format", "key.env-missing", "key.keyring-missing", "net.models", "net.responses-route"),
        ),
        (r"\b405\b|Method Not Allowed", ("net.redirect", "net.responses-route")),
        # `model_provider = "nope"` (a profile's, loaded by `codex -p NAME`): "Model provider `nope` not found".
        (r"Model provider `[^`]*` not found", ("config.model-provider",)),
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
                    if entry.name != "auth.json":
                        _sandbox_config(target)
            elif entry.is_file() and os.access(entry, os.X_OK) and not _is_state(entry.name):
                target.symlink_to(entry)
        except OSError:
            continue
    return home


def _sandbox_config(path: Path) -> None:
    """Take the settings in _DROPPED out of a copied config (top level, and every [profiles.X]).
    A file tomlkit cannot edit loses those lines as text instead (Codex reports the file as it is)."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    text = path.read_text(encoding="utf-8")
    try:
        doc = tomlkit.parse(text)
    except TOMLKitError:
        kept = [ln for ln in text.splitlines(keepends=True) if not _DROPPED_LINE.match(ln)]
        path.write_text("".join(kept), encoding="utf-8")
        return
    tables: list[Any] = [doc]
    profiles = doc.get("profiles")
    if isinstance(profiles, dict):
        tables += [t for t in profiles.values() if isinstance(t, dict)]
    for table in tables:
        for key in _DROPPED:
            if key in table:
                del table[key]
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")


_DROPPED_LINE = re.compile(rf"^\s*(?:{'|'.join(_DROPPED)})\s*[=.]")


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
    # A descendant may still write into the folder as it is removed: that is no error of the check.
    with tempfile.TemporaryDirectory(prefix="codexprov-doctor-", ignore_cleanup_errors=True) as tmp:
        home = throwaway_home(paths.codex_home, Path(tmp))
        command = [
            str(info.path),
            "exec",
            "--skip-git-repo-check",
            *QUIET,
            *("-c", f"sqlite_home={json.dumps(str(home))}"),
            *("-c", f"log_dir={json.dumps(str(home / 'log'))}"),
            *("-c", 'history.persistence="none"'),
        ]
        if profile is not None:
            command += ["-p", profile]
        command.append(PROMPT)
        child_env = {k: v for k, v in env.items() if k not in _DROPPED_ENV}
        child_env["CODEX_HOME"] = str(home)
        start = time.monotonic()
        with open(Path(tmp) / "stdout", "w+b") as out_file, open(Path(tmp) / "stderr", "w+b") as err_file:
            try:
                proc = subprocess.Popen(
                    command,
                    cwd=str(cwd) if cwd is not None else tmp,
                    env=child_env,
                    stdin=subprocess.DEVNULL,
                    stdout=out_file,
                    stderr=err_file,
                    start_new_session=True,
                )
            except OSError as err:
                return Finding(
                    "codex.run", "fail", f"Codex could not be started: {err.strerror or err}", provider=active
                )
            try:
                proc.wait(timeout=timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                timed_out = True
            _kill(proc)  # at the timeout Codex itself; else whatever it left running in its group
            proc.wait()
            took = time.monotonic() - start
            out, err_text = _read(out_file), _read(err_file)
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


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL to Codex's whole process group (it leads one of its own); on Windows, Codex."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # the group is gone: nothing was left running
    except (OSError, AttributeError):
        with contextlib.suppress(OSError):
            proc.kill()


def _read(handle: Any, limit: int = 1 << 20) -> str:
    """The last `limit` bytes a child wrote to a file, as text."""
    handle.flush()
    size = handle.seek(0, os.SEEK_END)
    handle.seek(max(0, size - limit))
    return handle.read().decode("utf-8", "replace")
