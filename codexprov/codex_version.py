"""Which Codex is installed, and what that version reads. Doctor and every command ask here.

Each boundary below was found by running the real binaries from npm (`@openai/codex@X.Y.Z`) against
a config on a throwaway CODEX_HOME and a fake provider on 127.0.0.1: the first x.y.0 release that
behaves the new way. Patch releases (0.144.3 and the like) were not checked separately.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codexprov.errors import NotFoundError
from codexprov.paths import Paths

Version = tuple[int, int, int]

# The newest release verified; a newer (or undetectable) Codex is assumed to behave like it.
NEWEST_VERIFIED: Version = (0, 169, 0)

PROFILE_FILES_SINCE: Version = (0, 134, 0)  # `-p NAME` layers NAME.config.toml; `profile = …` is a load error
PROFILE_V2_FLAG: tuple[Version, Version] = ((0, 131, 0), (0, 134, 0))  # `--profile-v2 NAME` in [from, to)
CHAT_WIRE_API_REMOVED: Version = (0, 95, 0)  # `wire_api = "chat"` becomes a load error
AUTH_COMMAND_SINCE: Version = (0, 118, 0)  # [model_providers.ID.auth] command
RESERVED_IDS_SINCE: Version = (0, 115, 0)  # a table under openai/ollama/lmstudio is a load error
STRICT_CONFIG_SINCE: Version = (0, 131, 0)  # `codex exec --strict-config`
DOCTOR_SINCE: Version = (0, 131, 0)  # `codex doctor`
FREE_REASONING_EFFORT_SINCE: Version = (0, 140, 0)  # verified enum on 0.134.0, free-form on 0.140.0

RESERVED_IDS = ("openai", "ollama", "lmstudio")
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")

# Built-ins that take a table with only these fields (dotted = a key of a sub-table), by first version.
# Before the first entry the id is an ordinary custom provider id.
_PARTIAL_BUILTINS: dict[str, tuple[tuple[Version, tuple[str, ...]], ...]] = {
    "amazon-bedrock": (
        ((0, 123, 0), ("aws.profile",)),
        ((0, 124, 0), ("aws.profile", "aws.region")),
        ((0, 145, 0), ("base_url", "auth", "http_headers", "aws.profile", "aws.region")),
        ((0, 149, 0), ("base_url", "auth", "http_headers", "aws.profile", "aws.region", "aws.auth_refresh")),
        (
            (0, 155, 0),
            ("base_url", "auth", "http_headers", "aws.profile", "aws.region", "aws.credential_export", "aws.auth_refresh"),
        ),
    ),
    # Seen restricted in 0.169.0 (an ordinary id in 0.133.0); the versions between were not probed.
    "amazon-bedrock-runtime": (
        (
            (0, 169, 0),
            ("base_url", "auth", "http_headers", "aws.profile", "aws.region", "aws.credential_export", "aws.auth_refresh"),
        ),
    ),
    "gcp": (
        ((0, 165, 0), ("base_url", "auth", "http_headers")),
        ((0, 166, 0), ("base_url", "auth", "http_headers", "project_id", "location", "credential_file")),
    ),
}

_VERSION_RE = re.compile(r"(\d+)\.(\d+)\.(\d+)")
CACHE_FILE = "codex-version.json"


def parse_version(text: str) -> Version | None:
    """`codex-cli 0.169.0` (or `0.170.0-alpha.2`) -> (0, 169, 0); None when there is no version."""
    m = _VERSION_RE.search(text)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def format_version(version: Version) -> str:
    return ".".join(map(str, version))


@dataclass(frozen=True)
class Capabilities:
    version: Version
    profile_form: str  # "file" (NAME.config.toml, -p NAME) or "table" ([profiles.NAME], profile = NAME)
    profile_v2_flag: bool  # `--profile-v2 NAME` layers NAME.config.toml (only 0.131 to 0.133)
    wire_apis: tuple[str, ...]
    auth_command: bool
    reserved_ids: tuple[str, ...]
    # id -> the only fields a [model_providers.ID] table may set; dotted names are sub-table keys.
    partial_builtins: tuple[tuple[str, tuple[str, ...]], ...]
    strict_config: bool
    doctor: bool
    reasoning_efforts: tuple[str, ...] | None  # None: any string is accepted

    def builtin_fields(self, provider_id: str) -> tuple[str, ...] | None:
        """The fields a table under this built-in may set, or None when it is not partially reserved."""
        return dict(self.partial_builtins).get(provider_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": format_version(self.version),
            "profile_form": self.profile_form,
            "profile_v2_flag": self.profile_v2_flag,
            "wire_apis": list(self.wire_apis),
            "auth_command": self.auth_command,
            "reserved_ids": list(self.reserved_ids),
            "partial_builtins": {k: list(v) for k, v in self.partial_builtins},
            "strict_config": self.strict_config,
            "doctor": self.doctor,
            "reasoning_efforts": list(self.reasoning_efforts) if self.reasoning_efforts is not None else None,
        }


def capabilities(version: Version | None) -> Capabilities:
    """What this Codex version reads. None (unknown) and versions past NEWEST_VERIFIED: the newest known."""
    v = NEWEST_VERIFIED if version is None or version > NEWEST_VERIFIED else version
    partial = []
    for pid, steps in _PARTIAL_BUILTINS.items():
        fields = [f for since, f in steps if v >= since]
        if fields:
            partial.append((pid, fields[-1]))
    return Capabilities(
        version=version or NEWEST_VERIFIED,
        profile_form="file" if v >= PROFILE_FILES_SINCE else "table",
        profile_v2_flag=PROFILE_V2_FLAG[0] <= v < PROFILE_V2_FLAG[1],
        wire_apis=("responses",) if v >= CHAT_WIRE_API_REMOVED else ("responses", "chat"),
        auth_command=v >= AUTH_COMMAND_SINCE,
        reserved_ids=RESERVED_IDS if v >= RESERVED_IDS_SINCE else (),
        partial_builtins=tuple(partial),
        strict_config=v >= STRICT_CONFIG_SINCE,
        doctor=v >= DOCTOR_SINCE,
        reasoning_efforts=None if v >= FREE_REASONING_EFFORT_SINCE else REASONING_EFFORTS,
    )


@dataclass(frozen=True)
class CodexInfo:
    path: Path | None  # the binary consulted (as found, not resolved); None when none was found
    version: Version | None  # None when unknown
    capabilities: Capabilities
    assumed: bool  # True: no usable Codex, the newest known behaviour is assumed
    reason: str | None = None  # why it was assumed
    cached: bool = field(default=False, compare=False)

    @property
    def version_text(self) -> str | None:
        return format_version(self.version) if self.version else None

    def describe(self) -> str:
        if self.assumed:
            return f"{self.reason}; assuming the newest behaviour known (Codex {format_version(NEWEST_VERIFIED)})"
        return f"Codex {self.version_text} at {self.path}"

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path) if self.path else None,
            "version": self.version_text,
            "assumed": self.assumed,
            "reason": self.reason,
            "capabilities": self.capabilities.to_json(),
        }


def find_binary(explicit: str | None, env: Mapping[str, str]) -> Path | None:
    """`--codex PATH`, else $CODEXPROV_CODEX, else `codex` on PATH. A named binary that is missing is an error."""
    wanted = explicit or env.get("CODEXPROV_CODEX") or None
    search_path = env.get("PATH", os.defpath)
    if wanted:
        candidate = Path(wanted).expanduser()
        if os.sep in wanted or (os.altsep and os.altsep in wanted):
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return candidate
        else:
            found = shutil.which(wanted, path=search_path)
            if found:
                return Path(found)
        raise NotFoundError(
            f"the Codex binary `{wanted}` was not found or is not executable",
            hint="Pass --codex PATH (or set CODEXPROV_CODEX) to the `codex` executable, or drop it to use `codex` on PATH.",
        )
    found = shutil.which("codex", path=search_path)
    return Path(found) if found else None


def _stamp(binary: Path) -> dict[str, Any] | None:
    """What identifies this build of the binary; any reinstall changes it (ctime cannot be set back)."""
    try:
        resolved = binary.resolve()
        st = resolved.stat()
    except OSError:
        return None
    return {"path": str(resolved), "size": st.st_size, "mtime_ns": st.st_mtime_ns, "ctime_ns": st.st_ctime_ns, "ino": st.st_ino}


def _read_cache(paths: Paths) -> dict[str, Any]:
    try:
        data = json.loads((paths.cache_dir / CACHE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_cache(paths: Paths, data: dict[str, Any]) -> None:
    from codexprov.config.transaction import write_atomic
    from codexprov.errors import FileAccessError

    target = paths.cache_dir / CACHE_FILE
    try:
        paths.cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(target, json.dumps(data, indent=1, sort_keys=True), existed=target.exists())
    except (OSError, FileAccessError):
        pass  # only a cache: the next run asks the binary again


def run_version(binary: Path, timeout: float = 20) -> str:
    """The text `codex --version` prints (e.g. `codex-cli 0.169.0`); raises OSError/TimeoutExpired/CalledProcessError."""
    proc = subprocess.run(
        [str(binary), "--version"],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=True,
    )
    return proc.stdout.strip() or proc.stderr.strip()


def detect(paths: Paths, explicit: str | None = None, *, env: Mapping[str, str] | None = None) -> CodexInfo:
    """Find the installed Codex and its version (`codex --version`, cached while the binary is unchanged)."""
    env = os.environ if env is None else env
    binary = find_binary(explicit, env)
    if binary is None:
        return CodexInfo(None, None, capabilities(None), True, "no `codex` found on PATH")
    stamp = _stamp(binary)
    cache = _read_cache(paths)
    if stamp is not None:
        entry = cache.get(stamp["path"])
        if isinstance(entry, dict) and {k: entry.get(k) for k in stamp} == stamp:
            version = parse_version(str(entry.get("version", "")))
            if version is not None:
                return CodexInfo(binary, version, capabilities(version), False, None, cached=True)
    try:
        text = run_version(binary)
    except (OSError, subprocess.SubprocessError) as err:
        reason = f"`{binary} --version` failed ({type(err).__name__})"
        return CodexInfo(binary, None, capabilities(None), True, reason)
    version = parse_version(text)
    if version is None:
        return CodexInfo(binary, None, capabilities(None), True, f"`{binary} --version` printed no version")
    if stamp is not None:
        cache[stamp["path"]] = {**stamp, "version": format_version(version)}
        _write_cache(paths, cache)
    return CodexInfo(binary, version, capabilities(version), False, None)
