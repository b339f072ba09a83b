"""Where files are. Resolved once, at the edge, and passed down: core code never calls Path.home()."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "codexprov"


@dataclass(frozen=True)
class Paths:
    codex_home: Path
    state_dir: Path  # backups, undo journal, caches
    config_dir: Path  # user recipes
    # The global --force: replace a config file even when it is read-only (see
    # config.transaction.refuse_read_only). A choice made once at the edge, like the paths.
    write_read_only: bool = False

    @property
    def config_file(self) -> Path:
        return self.codex_home / "config.toml"

    @property
    def backup_dir(self) -> Path:
        return self.state_dir / "backups"

    @property
    def cache_dir(self) -> Path:
        return self.state_dir / "cache"

    @property
    def user_recipes_dir(self) -> Path:
        return self.config_dir / "recipes"

    def profile_file(self, name: str) -> Path:
        return self.codex_home / f"{name}.config.toml"


def default_codex_home(env: Mapping[str, str] | None = None) -> Path:
    value = (os.environ if env is None else env).get("CODEX_HOME")
    if value:
        return Path(value).expanduser()
    return Path("~/.codex").expanduser()


def resolve(codex_home: str | os.PathLike[str] | None = None, *, write_read_only: bool = False) -> Paths:
    """The one place that consults the environment and the user's home."""
    home = Path(codex_home).expanduser() if codex_home else default_codex_home()
    state = os.environ.get("CODEXPROV_STATE_DIR")
    return Paths(
        codex_home=home.absolute(),
        state_dir=Path(state) if state else user_dir("state"),
        config_dir=user_dir("config"),
        write_read_only=write_read_only,
    )


_XDG = {"state": ("XDG_STATE_HOME", ".local/state"), "config": ("XDG_CONFIG_HOME", ".config")}


def user_dir(kind: str) -> Path:
    """`platformdirs.user_{kind}_dir("codexprov", appauthor=False)`. Worked out here in the plain
    Linux case (the XDG variable when it is an absolute path, else under an absolute $HOME), as
    platformdirs does it: importing platformdirs costs every command ~4 ms (it loads tempfile).
    Anything else (macOS, Windows, Android, no usable $HOME) is asked of platformdirs; a test
    checks that both agree."""
    var, default = _XDG[kind]
    home = os.environ.get("HOME", "")
    android = os.environ.get("ANDROID_DATA") or os.environ.get("ANDROID_ROOT") or hasattr(sys, "getandroidapilevel")
    if sys.platform.startswith("linux") and not android and os.path.isabs(home):
        base = os.environ.get(var, "")
        return Path(base if os.path.isabs(base) else os.path.join(home, default), APP_NAME)
    import platformdirs

    found = platformdirs.user_state_dir if kind == "state" else platformdirs.user_config_dir
    return Path(found(APP_NAME, appauthor=False))
