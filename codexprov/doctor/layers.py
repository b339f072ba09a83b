"""Reading the config layers Codex reads, lowest first: `/etc/codex/config.toml`
(the system layer), the user's `$CODEX_HOME/config.toml`, profile files `$CODEX_HOME/NAME.config.toml`
(only with `codex -p NAME`), and a project's `.codex/config.toml` (from which Codex strips every
provider setting). A file that does not parse becomes a Finding (config.*), not an exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codexprov.config.document import parse, read_text
from codexprov.doctor.findings import Finding, FixKind
from codexprov.errors import ConfigError, FileAccessError
from codexprov.paths import Paths
from codexprov.profile_state import profile_files

SYSTEM_CONFIG = Path("/etc/codex/config.toml")
LAYER_KINDS = ("system", "user", "profile", "project")


@dataclass(frozen=True)
class Layer:
    """One layer of Codex's configuration (system, user, profile, project) as read."""

    kind: str  # one of LAYER_KINDS
    path: Path
    text: str
    data: dict[str, Any] | None = field(hash=False)  # None: the file does not parse
    exists: bool = True

    @property
    def name(self) -> str:
        """A profile's name (for profile layers)."""
        return self.path.name[: -len(".config.toml")] if self.kind == "profile" else ""

    def providers(self) -> dict[str, Any]:
        table = (self.data or {}).get("model_providers")
        return table if isinstance(table, dict) else {}


def load_layers(
    paths: Paths, *, env: Mapping[str, str], cwd: Path | None, system_config: Path | None
) -> tuple[list[Layer], list[Finding]]:
    """Every config file that exists, parsed; a file that does not parse gives a Finding instead."""
    findings: list[Finding] = []
    layers: list[Layer] = []
    user = paths.config_file
    candidates: list[tuple[str, Path]] = [("system", system_config or SYSTEM_CONFIG), ("user", user)]
    candidates += [("profile", p) for p in profile_files(paths)]
    candidates += [("project", p) for p in project_configs(cwd, user)]
    for kind, path in candidates:
        layer, finding = read_layer(kind, path)
        if finding is not None:
            findings.append(finding)
        if layer is not None:
            layers.append(layer)
    return layers, findings


def project_configs(cwd: Path | None, user_config: Path) -> list[Path]:
    """`.codex/config.toml` in cwd and its parents up to the project root (the folder with .git)."""
    if cwd is None:
        return []
    found = []
    try:
        user_real = user_config.resolve()
    except OSError:
        user_real = user_config
    for folder in [cwd, *cwd.parents]:
        candidate = folder / ".codex" / "config.toml"
        try:
            if candidate.is_file() and candidate.resolve() != user_real:
                found.append(candidate)
        except OSError:
            pass
        if (folder / ".git").exists():
            break
    return list(reversed(found))


def read_layer(kind: str, path: Path) -> tuple[Layer | None, Finding | None]:
    try:
        text, exists = read_text(path)
    except FileAccessError as err:
        return None, Finding("config.unreadable", "fail", err.message, file=str(path), fix=err.hint)
    except ConfigError as err:
        return None, config_error_finding(err, path)
    if not exists:
        return None, None
    try:
        data = parse(text, path)
    except ConfigError as err:
        return Layer(kind, path, text, None), config_error_finding(err, path)
    return Layer(kind, path, text, data), None


def config_error_finding(err: Any, path: Path) -> Finding:
    reason = err.reason
    fix_kind: FixKind | None = FixKind.REMOVE_DUPLICATE
    if reason == "duplicate key":
        check = "config.duplicate-key"
        fix = f"codexprov doctor --fix  (or delete one of the two definitions in {path})"
    elif reason.startswith("table ") and reason.endswith("declared twice"):
        check = "config.duplicate-table"
        fix = f"codexprov doctor --fix  (or merge the two tables in {path} into one)"
    else:
        check, fix_kind, fix = "config.invalid", None, err.hint or f"fix the syntax in {path}"
    message = f"{reason}: Codex refuses to start until it is fixed"
    if err.detail:
        message += f" ({err.detail.strip()})"
    return Finding(check, "fail", message, file=str(path), line=err.line, fix=fix, fix_kind=fix_kind)


def merge(low: dict[str, Any], high: dict[str, Any]) -> dict[str, Any]:
    """`high` layered over `low` the way Codex layers config files: tables merge, values replace."""
    out = dict(low)
    for key, value in high.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out
