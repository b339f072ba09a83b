"""Codex's model picker for the active provider: its own models, through a `model_catalog_json` file.

Why a catalog file (issue 23): for a custom provider Codex (0.169 to 0.171) shows its bundled gpt-*
catalog unless a catalog replaces it. Asking the provider does not help: Codex GETs `/models` only
with an `[auth]` command and decodes only its own `{"models": [...]}` shape, which no provider
answers; `model_catalog_url` gives an empty list for anything else. The top-level
`model_catalog_json` replaces the list for whichever provider is active, so codexprov writes one
file per provider (complete entries from codex.picker, built on the installed release's own) and
points `model_catalog_json` at the active provider's file in the same transaction that makes it
active.

The files live in codexprov's state folder (`picker/<CODEX_HOME digest>/<provider>.json`), never in
CODEX_HOME, and are never deleted: a backup that `undo` restores may point at one, and Codex refuses
to start on a missing file. Each file only ever holds its own provider's models, so whatever config
`undo` brings back points at the right list. codexprov touches `model_catalog_json` only to set one
of its own files or to take one of them away (switching to a provider without a list, removing the
active one); a user's own catalog, or a gateway recipe's, is replaced only by a list that also keeps
every request part a gateway may refuse out (codex.picker), and otherwise left alone.

Where the list comes from: `add --use` asks the provider (a few seconds at most; it is not a hot
path; a bridged provider's upstream, served_models says why); `use` reads the list `add` or `codexprov models ID` last fetched (no network on `use`). A
provider whose list cannot be had keeps what works today: Codex's bundled list.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codexprov.codex.builtins import BUILTIN_PROVIDERS
from codexprov.errors import CodexprovError
from codexprov.paths import Paths

__all__ = [
    "SETTING",
    "PickerList",
    "PickerView",
    "build",
    "catalog_file",
    "for_remove",
    "for_use",
    "is_ours",
    "remembered_ids",
    "root_values",
    "view",
    "write",
]

SETTING = "model_catalog_json"
_SAFE_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


@dataclass(frozen=True)
class PickerList:
    """What Codex's picker shows for one provider: the slugs, and the catalog text that says it."""

    provider_id: str
    file: Path
    slugs: tuple[str, ...]
    text: str


def _folder(paths: Paths) -> Path:
    return paths.state_dir / "picker"


def catalog_file(paths: Paths, provider_id: str) -> Path:
    """The provider's catalog file: per CODEX_HOME (two homes may hold the same id), per provider."""
    home = hashlib.sha256(str(paths.codex_home).encode("utf-8", "surrogateescape")).hexdigest()[:12]
    name = provider_id if _SAFE_ID.fullmatch(provider_id) and not provider_id.startswith(".") else None
    if name is None:
        name = "id-" + hashlib.sha256(provider_id.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return _folder(paths) / home / f"{name}.json"


def is_ours(paths: Paths, value: Any) -> bool:
    """Whether a `model_catalog_json` value is one of codexprov's picker files."""
    if not isinstance(value, str) or not value:
        return False
    try:
        return Path(value).expanduser().parent.parent == _folder(paths)
    except (OSError, ValueError):
        return False


def build(paths: Paths, provider_id: str, ids: Iterable[str], model: str | None, codex) -> PickerList | None:
    """The picker list for `ids` (configured `model` first), built on the installed Codex's catalog
    (`codex`: a codex.version.CodexInfo). None when this Codex has no `model_catalog_json`, or gives
    no catalog, or the provider listed nothing: Codex then keeps its bundled list."""
    from codexprov.codex import catalog, picker

    if codex.path is None or not codex.capabilities.model_catalog_json:
        return None
    try:
        bundled = catalog.bundled(paths, Path(codex.path), codex.version_text)
        slugs = picker.picker_order(ids, model)
        text = picker.picker_catalog_text(bundled, slugs)
    except catalog.CatalogError:
        return None
    return PickerList(provider_id, catalog_file(paths, provider_id), tuple(slugs), text)


def write(paths: Paths, listing: PickerList) -> None:
    """Write the provider's catalog file (before the config that points at it)."""
    from codexprov.config.transaction import write_atomic

    listing.file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_atomic(listing.file, listing.text, existed=listing.file.exists())


def root_values(paths: Paths, data: Mapping[str, Any], listing: PickerList | None) -> dict[str, Any]:
    """The top-level change that goes with making `listing`'s provider active (`data`: the config as
    it is): point at its file; with no list, take away a picker file of another provider (so Codex
    shows its bundled list rather than someone else's models), and leave any other catalog alone."""
    if listing is not None:
        return {SETTING: str(listing.file)}
    if is_ours(paths, data.get(SETTING)):
        return {SETTING: None}
    return {}


def remembered_ids(paths: Paths, provider_id: str, data: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The ids a custom provider listed when it was last asked (no network), if asked at its current
    base_url. None for built-ins: Codex's own list is theirs (openai), or Codex asks them itself."""
    from codexprov.model_lists import remembered

    table = (data.get("model_providers") or {}).get(provider_id)
    if provider_id in BUILTIN_PROVIDERS or not isinstance(table, Mapping) or not table.get("base_url"):
        return None
    listing = remembered(paths, provider_id, str(table["base_url"]))
    return listing.ids if listing is not None and listing.ids else None


def for_use(
    paths: Paths,
    provider_id: str,
    data: Mapping[str, Any],
    model: str | None,
    codex: Callable[[], Any],
    *,
    dry_run: bool,
) -> dict[str, Any]:
    """For `use ID`, inside its transaction: the top-level change that switches the picker to the
    provider's remembered list (writing its file first, unless a dry run), or away from another
    provider's. `codex` gives the CodexInfo, asked only when there is a list."""
    ids = remembered_ids(paths, provider_id, data)
    listing = None
    if ids is not None:
        listing = build(paths, provider_id, ids, model or _str(data.get("model")), codex())
        if listing is not None and not dry_run:
            write(paths, listing)
    return root_values(paths, data, listing)


def for_remove(paths: Paths, provider_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """For `remove ID`: take away `model_catalog_json` when it points at this provider's list (the
    file stays: an `undo` brings back a config that points at it)."""
    value = data.get(SETTING)
    if is_ours(paths, value) and Path(str(value)).expanduser() == catalog_file(paths, provider_id):
        return {SETTING: None}
    return {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class AfterAdd:
    """What `add --use` did for the picker: the list the provider gave (None: it could not be
    asked), the picker list built from it, and the edit that points Codex at it."""

    served: Any  # served_models.ModelList | None
    listing: PickerList | None
    edit: Any  # config.transaction.EditResult | None


def after_add(
    paths: Paths, provider_id: str, model: str | None, codex: Callable[[], Any], *, ask: Callable[[], Any]
) -> AfterAdd:
    """After `add --use`: ask the provider for its models (a few seconds at most) and point Codex's
    picker at them (its own undo step, after the add: the key and the table the request needs exist
    only now). Nothing changes when it cannot be asked; the add already took away another
    provider's list. Only while the provider is still the active one. `ask`: the provider's
    models (served_models.fetch, passed in: served_models asks providers, which calls this module)."""
    from codexprov.config import edit
    from codexprov.config.transaction import apply_edit

    try:
        served = ask()
    except CodexprovError:
        return AfterAdd(None, None, None)
    listing = None if provider_id in BUILTIN_PROVIDERS else build(paths, provider_id, served.ids, model, codex())
    if listing is None:
        return AfterAdd(served, None, None)
    write(paths, listing)
    values = {SETTING: str(listing.file)}

    def transform(snap) -> str:
        if snap.data.get("model_provider") != provider_id:
            return str(snap.text)
        return edit.set_root_keys(snap.text, values)

    def expect(data: dict[str, Any]) -> dict[str, Any]:
        if data.get("model_provider") == provider_id:
            data.update(values)
        return data

    result = apply_edit(
        paths,
        paths.config_file,
        transform,
        dry_run=False,
        description=f"show {provider_id}'s models in Codex's picker",
        expect=expect,
    )
    return AfterAdd(served, listing, result if result.changed else None)


@dataclass(frozen=True)
class PickerView:
    """For `codexprov models ID`: what Codex's picker shows for the provider once it is active (the
    list just fetched, which `use` takes), and whether Codex is pointed at it now."""

    provider_id: str
    slugs: tuple[str, ...]  # empty: Codex keeps its own list for this provider
    active: bool
    shown_now: bool  # model_catalog_json is this provider's file
    file: Path | None

    def describe(self) -> str:
        pid = self.provider_id
        if not self.slugs:
            return f"Codex's model picker keeps its own list for {pid} (built-in, or nothing listed)"
        if self.shown_now:
            return f"Codex's model picker lists {pid}'s models (model_catalog_json = {self.file})"
        if self.active:
            return f"Codex's model picker shows its own list; `codexprov use {pid}` puts these models in it"
        return f"`codexprov use {pid}` puts these models in Codex's model picker"

    def to_json(self) -> dict[str, Any]:
        return {
            "models": list(self.slugs),
            "active": self.active,
            "shown_now": self.shown_now,
            "catalog": str(self.file) if self.file is not None else None,
        }


def view(paths: Paths, provider_id: str, ids: Iterable[str], data: Mapping[str, Any] | None = None) -> PickerView:
    """What the picker shows for the provider with the list `ids` (`data`: the config as it is, read
    when not given)."""
    from codexprov.codex.picker import picker_order

    if data is None:
        from codexprov.config.document import load

        data = load(paths.config_file, paths.cache_dir).data or {}

    active = data.get("model_provider") == provider_id
    if provider_id in BUILTIN_PROVIDERS:
        return PickerView(provider_id, (), active, False, None)
    slugs = tuple(picker_order(ids, _str(data.get("model")) if active else None))
    file = catalog_file(paths, provider_id)
    value = data.get(SETTING)
    now = active and bool(slugs) and is_ours(paths, value) and Path(str(value)).expanduser() == file
    return PickerView(provider_id, slugs, active, now, file if slugs else None)
