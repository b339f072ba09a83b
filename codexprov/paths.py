"""Where files are. Resolved once, at the edge, and passed down: core code never calls Path.home()."""

from __future__ import annotations

import os
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
    import platformdirs

    home = Path(codex_home).expanduser() if codex_home else default_codex_home()
    state = os.environ.get("CODEXPROV_STATE_DIR")
    return Paths(
        codex_home=home.absolute(),
        state_dir=Path(state) if state else Path(platformdirs.user_state_dir(APP_NAME, appauthor=False)),
        config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        write_read_only=write_read_only,
    )
