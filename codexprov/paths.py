"""Where files are. Resolved once, at the edge, and passed down: core code never calls Path.home()."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from codexprov.errors import FileAccessError

APP_NAME = "codexprov"


@dataclass(frozen=True)
class Paths:
    """Where the files are: the Codex home and config, codexprov's state, config and cache folders."""

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


def private_dir(path: Path, *, root: Path | None = None) -> Path:
    """`make_dirs(path)`, then refuse it (and every folder from `root` down to it) when others can
    write it: another user could plant a state file or a backup there. Returns `path`."""
    make_dirs(path)
    check_private(path, root=root)
    return path


def make_dirs(path: Path) -> None:
    """Create `path` and every missing parent 0700 whatever the umask (`mkdir(parents=True,
    mode=0o700)` gives the parents the umask's mode: 0777 under umask 000)."""
    missing: list[Path] = []
    at = path
    while not os.path.lexists(at) and at.parent != at:
        missing.append(at)
        at = at.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            continue
        if os.name != "nt":
            os.chmod(folder, 0o700)  # the umask may have taken bits away (0o200 would leave 0500)


def check_private(path: Path, *, root: Path | None = None) -> None:
    """Refuse (FileAccessError, with the fix) a codexprov folder that another user owns or can
    write, and every folder between `root` and it. A folder that does not exist yet passes."""
    if os.name == "nt" or not hasattr(os, "getuid"):
        return  # Windows: the folders are under the user's profile, ACL'd to them
    folders = [path]
    if root is not None and path != root and root in path.parents:
        at = path.parent
        while at != root:
            folders.append(at)
            at = at.parent
        folders.append(root)
    uid = os.getuid()
    for folder in folders:
        try:
            st = os.stat(folder)
        except OSError:
            continue
        if uid not in (st.st_uid, 0):
            _refuse(
                folder,
                f"belongs to another user (uid {st.st_uid})",
                f"Move it away, or set {_ENV_FOR_HINT} to a folder of yours.",
            )
        if st.st_mode & 0o022:
            _refuse(
                folder,
                f"can be written by other users (mode {st.st_mode & 0o777:04o})",
                f"Run `chmod go-w {folder}` (codexprov creates it 0700).",
            )


_ENV_FOR_HINT = "CODEXPROV_STATE_DIR"


def _refuse(folder: Path, why: str, hint: str) -> None:
    raise FileAccessError(
        f"refusing to use {folder}: it {why}, so another user could plant files codexprov reads there",
        hint=hint,
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
