"""Where the recipe files are, and a look at their raw text that parses nothing.

The recipe package (`codexprov.recipes`) checks every file into a `Recipe`; that costs ~10 ms of
imports and parsing for 25 files. The doctor runs on every `doctor` with a time budget beside the
network (issue 25) and asks one question of the recipes on each run: is the active provider's URL
one of a gateway recipe's? `may_match` answers "certainly not" from the text alone for nearly every
setup, and only a "maybe" loads the catalog.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codexprov.paths import Paths

RECIPES_PATH_ENV = "CODEXPROV_RECIPES_PATH"

# `{name}` in a recipe's templates (base_url, headers, query parameters).
PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_-]+)\}")
# A plain one-line `base_url = "…"` or `base_url = '…'`; any other spelling makes may_match say maybe.
_BASE_URL_LINE = re.compile(r"""^[ \t]*base_url[ \t]*=[ \t]*(?:"([^"\\\n]*)"|'([^'\n]*)')[ \t]*(?:#.*)?$""", re.M)
_BASE_URL_ANY = re.compile(r"^[ \t]*[\"']?base_url\b", re.M)


def shipped_recipes_dir() -> Path:
    """`codexprov/_recipes` in a wheel; `<repo>/recipes` in a source checkout or editable install."""
    package = Path(__file__).resolve().parent
    bundled = package / "_recipes"
    if bundled.is_dir():
        return bundled
    return package.parent / "recipes"


def recipe_folders(paths: Paths, env: Mapping[str, str] | None = None) -> list[tuple[Path, str]]:
    """Folders in load order (later overrides earlier): shipped, user, then each team folder."""
    env = os.environ if env is None else env
    folders = [(shipped_recipes_dir(), "shipped"), (paths.user_recipes_dir, "user")]
    for entry in (env.get(RECIPES_PATH_ENV) or "").split(os.pathsep):
        if entry.strip():
            folders.append((Path(entry.strip()).expanduser(), "team"))
    return folders


def url_matches(template: str, url: str) -> bool:
    """Whether `url` is one a recipe with this base_url template writes (any param values)."""
    pattern = "".join("[^/]+" if i % 2 else re.escape(part) for i, part in enumerate(PLACEHOLDER.split(template)))
    return re.fullmatch(pattern, url.rstrip("/"), flags=re.IGNORECASE) is not None


def may_match(paths: Paths, url: str, field: str, env: Mapping[str, str] | None = None) -> bool:
    """False only when no recipe file that mentions `field` has a base_url template matching `url`:
    then no recipe in the catalog with that field matches it either. True ("maybe": load the
    catalog) otherwise, and for any file it cannot read or whose base_url is not a plain one-line
    string."""
    for folder, _source in recipe_folders(paths, env):
        try:
            files = sorted(folder.glob("*.toml")) if folder.is_dir() else []
        except OSError:
            return True
        for path in files:
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                return True
            if field not in text:
                continue
            plain = [a or b for a, b in _BASE_URL_LINE.findall(text)]
            if len(plain) != len(_BASE_URL_ANY.findall(text)):
                return True  # a spelling this look cannot read
            if any(url_matches(template, url) for template in plain):
                return True
    return False
