"""Which file profile `codexprov use --profile` made active. Codex has no key for it in the
file-profile era, so codexprov records it in its own state; `list` reads it, so this module stays
light (no tomlkit, no engine)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from codexprov import safe_read
from codexprov.config.document import loads
from codexprov.paths import Paths, check_private, private_dir
from codexprov.safe_write import write_atomic

STATE_FILE = "profiles.json"
SELECTION_KEYS = ("model_provider", "model", "model_reasoning_effort")
# A file profile's name: `NAME.config.toml` in CODEX_HOME, which `codex -p NAME` reads.
PROFILE_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")


def profile_files(paths: Paths) -> list[Path]:
    """The file profiles in CODEX_HOME, by name (here, not in profiles.py, so that the doctor, which
    reads them on every run, does not load the profile editor)."""
    if not paths.codex_home.is_dir():
        return []
    found = []
    for path in sorted(paths.codex_home.glob("*.config.toml")):
        name = path.name[: -len(".config.toml")]
        if PROFILE_NAME_RE.fullmatch(name) and path.is_file():
            found.append(path)
    return found


def state_path(paths: Paths) -> Path:
    return paths.state_dir / STATE_FILE


def recorded_active(paths: Paths) -> str | None:
    check_private(paths.state_dir)  # another user's profiles.json would pick the active profile
    try:
        data = json.loads(safe_read.read_text(state_path(paths)))
    except (OSError, ValueError):
        return None
    value = (data.get("active") or {}).get(str(paths.codex_home)) if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def record_active(paths: Paths, name: str | None) -> None:

    target = state_path(paths)
    try:
        data = json.loads(safe_read.read_text(target))
        if not isinstance(data, dict):
            data = {}
    except (OSError, ValueError):
        data = {}
    active = data.setdefault("active", {})
    if name is None:
        active.pop(str(paths.codex_home), None)
    else:
        active[str(paths.codex_home)] = name
    private_dir(paths.state_dir)
    write_atomic(target, json.dumps(data, indent=1, sort_keys=True) + "\n", existed=target.exists())


def selection_matches(selection: dict[str, Any], root: dict[str, Any]) -> bool:
    """A recorded profile is active only while config.toml still holds its selection."""
    return bool(selection) and all(root.get(k) == v for k, v in selection.items())


def active_profile(paths: Paths, root: dict[str, Any]) -> str | None:
    """The active profile for `list`: legacy `profile = …`, else the recorded file profile if
    config.toml still selects what it selects."""
    legacy = root.get("profile")
    if isinstance(legacy, str):
        return legacy
    name = recorded_active(paths)
    if name is None:
        return None
    try:
        data = loads(safe_read.read_text(paths.profile_file(name)))
    except (OSError, ValueError):
        return None
    return name if selection_matches({k: data[k] for k in SELECTION_KEYS if k in data}, root) else None
