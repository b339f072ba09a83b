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

A provider behind the bridge gets the same kind of file, built from its upstream's own list
(served_models asks the upstream in its API with the key the bridge sends), rather than a
`model_catalog_url` served by the bridge: that would need LiteLLM's process (in its own venv) to build
whole entries from the installed Codex's catalog, exists only from Codex 0.160 (the file from 0.133),
and gives an empty list, silently, whenever the bridge is down or answers anything else; the file
works with no bridge running (Codex reads it at start, before the auth command starts the bridge).

Where the list comes from: `add --use` asks the provider (a few seconds at most; it is not a hot
path; a bridged provider's upstream, served_models says why); `use` reads the list `add` or `codexprov models ID` last fetched (no network on `use`). A
provider whose list cannot be had keeps what works today: Codex's bundled list.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codexprov.codex.builtins import BUILTIN_PROVIDERS
from codexprov.config import edit
from codexprov.config.cache import sha256  # the interpreter's own: hashlib loads OpenSSL (~2 ms) on `use`
from codexprov.config.document import load
from codexprov.config.transaction import apply_edit
from codexprov.errors import CodexprovError
from codexprov.model_lists import merge_facts, remember, remembered
from codexprov.paths import Paths
from codexprov.safe_write import write_atomic

__all__ = [
    "SETTING",
    "PickerList",
    "PickerView",
    "build",
    "catalog_file",
    "file_stem",
    "for_profile",
    "for_remove",
    "for_use",
    "is_ours",
    "owner_of",
    "provider_files",
    "refresh",
    "remembered_ids",
    "remembered_list",
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


def catalog_file(paths: Paths, provider_id: str, profile: str | None = None, model: str | None = None) -> Path:
    """The provider's catalog file: per CODEX_HOME (two homes may hold the same id), per provider;
    a profile's own beside it (`PROVIDER+PROFILE`); per configured model when it is listed
    (`…@MODEL`: that model first), so that whatever config `undo` brings back points at a file in
    its own order (files are never deleted)."""
    home = sha256(str(paths.codex_home).encode("utf-8", "surrogateescape")).hexdigest()[:12]
    name = file_stem(provider_id)
    if profile is not None:
        name += "+" + file_stem(profile)
    if model is not None:
        name += "@" + file_stem(model)
    return _folder(paths) / home / f"{name}.json"


def file_stem(name: str) -> str:
    if _SAFE_ID.fullmatch(name) and not name.startswith("."):
        return name
    return "id-" + sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def owner_of(file: Path) -> tuple[str, str | None]:
    """The provider and profile parts of a catalog file's name (`+` and `@` are in no file stem)."""
    stem = file.name.removesuffix(".json").split("@", 1)[0]
    provider, _, profile = stem.partition("+")
    return provider, profile or None


def provider_files(paths: Paths, provider_id: str) -> list[Path]:
    """The catalog files that hold the provider's list: its own (one per configured model), and
    each profile's."""
    folder = catalog_file(paths, provider_id).parent
    stem = file_stem(provider_id)
    if not folder.is_dir():
        return []
    return sorted(f for f in folder.glob("*.json") if owner_of(f)[0] == stem)


def _is_providers(paths: Paths, value: Any, provider_id: str) -> bool:
    """Whether a `model_catalog_json` value is one of the provider's own files (not a profile's)."""
    if not is_ours(paths, value):
        return False
    file = Path(str(value)).expanduser()
    return file.parent == catalog_file(paths, provider_id).parent and owner_of(file) == (file_stem(provider_id), None)


def is_ours(paths: Paths, value: Any) -> bool:
    """Whether a `model_catalog_json` value is one of codexprov's picker files."""
    if not isinstance(value, str) or not value:
        return False
    try:
        return Path(value).expanduser().parent.parent == _folder(paths)
    except (OSError, ValueError):
        return False


def build(
    paths: Paths,
    provider_id: str,
    ids: Iterable[str],
    model: str | None,
    codex,
    *,
    profile: str | None = None,
    facts: Mapping[str, Any] | None = None,
) -> PickerList | None:
    """The picker list for `ids` (configured `model` first), built on the installed Codex's catalog
    (`codex`: a codex.version.CodexInfo), for the provider's file or a profile's. None when this
    Codex has no `model_catalog_json`, or gives no catalog, or the provider listed nothing: Codex
    then keeps its bundled list."""
    from codexprov.codex import catalog, picker

    if codex.path is None or not codex.capabilities.model_catalog_json:
        return None
    try:
        bundled = catalog.bundled(paths, Path(codex.path), codex.version_text)
        slugs = picker.picker_order(ids, model)
        text = picker.picker_catalog_text(bundled, slugs, None, facts)
    except catalog.CatalogError:
        return None
    first = model if model in slugs else None
    return PickerList(provider_id, catalog_file(paths, provider_id, profile, first), tuple(slugs), text)


def for_profile(
    paths: Paths,
    name: str,
    provider_id: str,
    data: Mapping[str, Any],
    model: str | None,
    codex: Any,
    *,
    dry_run: bool,
) -> dict[str, Any]:
    """For a profile that selects `provider_id` (`profile add`): its own `model_catalog_json` (a
    profile may set it: seen on 0.133's `[profiles.NAME]` and 0.171's NAME.config.toml, where it
    wins over config.toml's), so that `codex -p NAME` lists that provider's models whatever the
    default provider is. Empty when the provider has no remembered list (no network here)."""
    known = remembered_list(paths, provider_id, data)
    listing = (
        build(paths, provider_id, known.ids, model, codex, profile=name, facts=known.facts)
        if known is not None
        else None
    )
    if listing is None:
        return {}
    if not dry_run:
        write(paths, listing)
    return {SETTING: str(listing.file)}


def write(paths: Paths, listing: PickerList) -> None:
    """Write the provider's catalog file (before the config that points at it)."""

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


def remembered_list(paths: Paths, provider_id: str, data: Mapping[str, Any]) -> Any:
    """The list a custom provider gave when it was last asked (model_lists.ModelList: ids and what
    is known of them; no network), if asked at its current base_url and not empty. None for
    built-ins: Codex's own list is theirs (openai), or Codex asks them itself."""

    table = (data.get("model_providers") or {}).get(provider_id)
    if provider_id in BUILTIN_PROVIDERS or not isinstance(table, Mapping) or not table.get("base_url"):
        return None
    listing = remembered(paths, provider_id, str(table["base_url"]))
    return listing if listing is not None and listing.ids else None


def remembered_ids(paths: Paths, provider_id: str, data: Mapping[str, Any]) -> tuple[str, ...] | None:
    listing = remembered_list(paths, provider_id, data)
    return listing.ids if listing is not None else None


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
    known = remembered_list(paths, provider_id, data)
    listing = None
    if known is not None:
        listing = build(paths, provider_id, known.ids, model or _str(data.get("model")), codex(), facts=known.facts)
        if listing is not None and not dry_run:
            write(paths, listing)
    return root_values(paths, data, listing)


def for_remove(paths: Paths, provider_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """For `remove ID`: take away `model_catalog_json` when it points at this provider's list (the
    file stays: an `undo` brings back a config that points at it)."""
    if _is_providers(paths, data.get(SETTING), provider_id):
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
    paths: Paths,
    provider_id: str,
    model: str | None,
    codex: Callable[[], Any],
    *,
    ask: Callable[[], Any],
    recipe_facts: Mapping[str, Any] | None = None,
) -> AfterAdd:
    """After `add --use`: ask the provider for its models (a few seconds at most) and point Codex's
    picker at them (its own undo step, after the add: the key and the table the request needs exist
    only now). Nothing changes when it cannot be asked; the add already took away another
    provider's list. Only while the provider is still the active one. `ask`: the provider's
    models (served_models.fetch, passed in: served_models asks providers, which calls this module)."""
    try:
        served = ask()
    except CodexprovError:
        return AfterAdd(None, None, None)
    if recipe_facts:
        # The recipe's `models` table fills what the provider's list does not say, and is kept with it.
        served = remember(paths, dataclasses.replace(served, facts=merge_facts(served.facts, recipe_facts, served.ids)))
    listing = (
        None
        if provider_id in BUILTIN_PROVIDERS
        else build(paths, provider_id, served.ids, model, codex(), facts=served.facts)
    )
    if listing is None:
        return AfterAdd(served, None, None)
    write(paths, listing)
    result = _point_at(paths, provider_id, listing, f"show {provider_id}'s models in Codex's picker")
    return AfterAdd(served, listing, result)


def _point_at(paths: Paths, provider_id: str, listing: PickerList, description: str) -> Any:
    """Point `model_catalog_json` at the provider's file while it is the active provider (its own
    undo step). The EditResult, or None when nothing changed."""

    values = {SETTING: str(listing.file)}

    def transform(snap) -> str:
        if snap.data.get("model_provider") != provider_id:
            return str(snap.text)
        return edit.set_root_keys(snap.text, values)

    def expect(data: dict[str, Any]) -> dict[str, Any]:
        if data.get("model_provider") == provider_id:
            data.update(values)
        return data

    result = apply_edit(paths, paths.config_file, transform, dry_run=False, description=description, expect=expect)
    return result if result.changed else None


@dataclass(frozen=True)
class Refreshed:
    """What `models ID --refresh` did: the provider's list (None: Codex keeps its own: a built-in,
    nothing listed, or a Codex without `model_catalog_json`), the profile files rewritten with it,
    and the edit that pointed Codex at it (None: not the active provider, or already pointed)."""

    listing: PickerList | None
    profiles: tuple[Path, ...]
    edit: Any

    def describe(self, provider_id: str) -> list[str]:
        if self.listing is None:
            return [f"no list written: Codex's model picker keeps its own for {provider_id}"]
        lines = [f"rewrote {provider_id}'s list for Codex's model picker ({self.listing.file})"]
        lines += [f"rewrote profile list {file}" for file in self.profiles]
        return lines

    def to_json(self) -> dict[str, Any]:
        return {
            "catalog": str(self.listing.file) if self.listing is not None else None,
            "profiles": [str(f) for f in self.profiles],
            "pointed": self.edit is not None,
        }


def refresh(
    paths: Paths, provider_id: str, ids: Iterable[str], codex: Any, data: Mapping[str, Any], facts: Any = None
) -> Refreshed:
    """For `models ID --refresh`, with the list just fetched: rewrite the provider's catalog file
    (the configured model first when it is the active provider), each profile's file for it (its
    model, the one it listed first, stays first), and point Codex at it when it is active."""
    if provider_id in BUILTIN_PROVIDERS:
        return Refreshed(None, (), None)
    ids = tuple(ids)
    active = data.get("model_provider") == provider_id
    listing = build(paths, provider_id, ids, _str(data.get("model")) if active else None, codex, facts=facts)
    if listing is None:
        return Refreshed(None, (), None)
    rewritten = []
    for file in provider_files(paths, provider_id):
        if file == listing.file:
            continue
        # each file keeps its own first model first (its name says whose order it is), at its path
        again = build(paths, provider_id, ids, _first_slug(file), codex, facts=facts)
        if again is not None:
            write(paths, dataclasses.replace(again, file=file))
            if owner_of(file)[1] is not None:
                rewritten.append(file)
    write(paths, listing)
    result = (
        _point_at(paths, provider_id, listing, f"refresh {provider_id}'s models in Codex's picker") if active else None
    )
    return Refreshed(listing, tuple(rewritten), result)


def _first_slug(file: Path) -> str | None:
    try:
        models = json.loads(file.read_text(encoding="utf-8")).get("models") or []
        return str(models[0]["slug"]) if models else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


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
        data = load(paths.config_file, paths.cache_dir).data or {}

    active = data.get("model_provider") == provider_id
    if provider_id in BUILTIN_PROVIDERS:
        return PickerView(provider_id, (), active, False, None)
    model = _str(data.get("model")) if active else None
    slugs = tuple(picker_order(ids, model))
    value = data.get(SETTING)
    now = active and bool(slugs) and _is_providers(paths, value, provider_id)
    file = (
        Path(str(value)).expanduser()
        if now
        else catalog_file(paths, provider_id, None, model if model in slugs else None)
    )
    return PickerView(provider_id, slugs, active, now, file if slugs else None)
