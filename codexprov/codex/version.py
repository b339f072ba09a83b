"""Which Codex is installed: the binary (`--codex`, $CODEXPROV_CODEX or PATH) and its version,
cached per build of the binary so that only the first command after an install runs it."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codexprov.codex.capabilities import NEWEST_VERIFIED, Capabilities, Version, capabilities, format_version
from codexprov.errors import FileAccessError, NotFoundError
from codexprov.paths import Paths, private_dir
from codexprov.safe_write import write_atomic

__all__ = ["CodexInfo", "Version", "detect", "find_binary", "format_version", "parse_version", "run_version", "stamp"]

_VERSION_RE = re.compile(r"(\d+)\.(\d+)\.(\d+)")
CACHE_FILE = "codex-version.json"


def parse_version(text: str) -> Version | None:
    """`codex-cli 0.169.0` (or `0.170.0-alpha.2`) -> (0, 169, 0); None when there is no version."""
    m = _VERSION_RE.search(text)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


@dataclass(frozen=True)
class CodexInfo:
    """The installed Codex: the binary consulted, its version and its capabilities."""

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
            found = _which(wanted, search_path)
            if found:
                return Path(found)
        raise NotFoundError(
            f"the Codex binary `{wanted}` was not found or is not executable",
            hint="Pass --codex PATH (or set CODEXPROV_CODEX) to the `codex` executable, or drop it to use `codex` on PATH.",
        )
    found = _which("codex", search_path)
    return Path(found) if found else None


def _which(name: str, search_path: str) -> str | None:
    """`shutil.which(name, path=search_path)` for a bare name. On POSIX worked out as shutil does it
    (each PATH entry once, the first existing executable that is not a folder): importing shutil
    loads bz2 and lzma, ~2 ms of every `use`."""
    if os.name == "nt":
        import shutil

        return shutil.which(name, path=search_path)
    if not search_path:
        return None
    seen = set()
    for folder in search_path.split(os.pathsep):
        if folder in seen:
            continue
        seen.add(folder)
        candidate = os.path.join(folder, name)
        if os.path.exists(candidate) and os.access(candidate, os.X_OK) and not os.path.isdir(candidate):
            return candidate
    return None


def stamp(binary: Path) -> dict[str, Any] | None:
    """What identifies this build of the binary (also the catalog cache's key); any reinstall
    changes it (ctime cannot be set back)."""
    try:
        resolved = binary.resolve()
        st = resolved.stat()
    except OSError:
        return None
    return {
        "path": str(resolved),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "ctime_ns": st.st_ctime_ns,
        "ino": st.st_ino,
    }


def _read_cache(paths: Paths) -> dict[str, Any]:
    try:
        data = json.loads((paths.cache_dir / CACHE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_cache(paths: Paths, data: dict[str, Any]) -> None:
    target = paths.cache_dir / CACHE_FILE
    try:
        private_dir(paths.cache_dir, root=paths.state_dir)
        write_atomic(target, json.dumps(data, indent=1, sort_keys=True), existed=target.exists())
    except (OSError, FileAccessError):
        pass  # only a cache: the next run asks the binary again


def run_version(binary: Path, timeout: float = 20) -> str:
    """The text `codex --version` prints (e.g. `codex-cli 0.169.0`); raises OSError/TimeoutExpired/CalledProcessError."""
    import subprocess  # only when the cache misses: `use` asks for the version on every switch

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
    mark = stamp(binary)
    cache = _read_cache(paths)
    if mark is not None:
        entry = cache.get(mark["path"])
        if isinstance(entry, dict) and {k: entry.get(k) for k in mark} == mark:
            version = parse_version(str(entry.get("version", "")))
            if version is not None:
                return CodexInfo(binary, version, capabilities(version), False, None, cached=True)
    import subprocess

    try:
        text = run_version(binary)
    except (OSError, subprocess.SubprocessError) as err:
        reason = f"`{binary} --version` failed ({type(err).__name__})"
        return CodexInfo(binary, None, capabilities(None), True, reason)
    version = parse_version(text)
    if version is None:
        return CodexInfo(binary, None, capabilities(None), True, f"`{binary} --version` printed no version")
    if mark is not None:
        cache[mark["path"]] = {**mark, "version": format_version(version)}
        _write_cache(paths, cache)
    return CodexInfo(binary, version, capabilities(version), False, None)
