"""Codex profiles in either form, chosen by the installed Codex version. Returns data; never prints.

- file form (Codex >= 0.134): `$CODEX_HOME/NAME.config.toml`, layered over config.toml by `codex -p NAME`.
  No key selects a default profile, so `use_profile` copies the profile's selection to the top of
  config.toml and records the profile's name in codexprov's state dir.
- table form (Codex <= 0.133): `[profiles.NAME]` in config.toml, the default chosen by `profile = NAME`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codexprov import picker, profile_state
from codexprov.codex.builtins import BUILTIN_PROVIDERS
from codexprov.codex.version import CodexInfo, format_version
from codexprov.config import edit
from codexprov.config.document import Snapshot, load, loads, parse, same_data
from codexprov.config.textedit import table_as_file
from codexprov.config.transaction import EditResult, apply_edit
from codexprov.config.transaction import delete_file as tx_delete_file
from codexprov.errors import ConflictError, NotFoundError, UsageError
from codexprov.paths import Paths
from codexprov.providers import not_found

# Codex's own rule for `--profile NAME` (codex-rs ProfileV2Name): ASCII letters, digits, '_' and '-'.
# We also refuse a leading '-', which `codex -p -x` would read as a flag.
MAX_NAME = 255 - len(".config.toml")
SELECTION_KEYS = profile_state.SELECTION_KEYS


@dataclass(frozen=True)
class Profile:
    """One Codex profile: its name, form (file or table), file and settings."""

    name: str
    form: str  # "file" | "table"
    path: Path  # the profile file, or config.toml for a table
    settings: dict[str, Any] = field(hash=False)
    active: bool = False
    text: str = ""  # the file's text (file form) or the table as TOML (table form)

    @property
    def provider(self) -> str | None:
        return self.settings.get("model_provider")

    @property
    def model(self) -> str | None:
        return self.settings.get("model")

    @property
    def reasoning_effort(self) -> str | None:
        return self.settings.get("model_reasoning_effort")

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "form": self.form,
            "path": str(self.path),
            "active": self.active,
            "model_provider": self.provider,
            "model": self.model,
            "model_reasoning_effort": self.reasoning_effort,
        }


@dataclass(frozen=True)
class ProfileList:
    """The profiles of a config, the active one, and legacy pieces the installed Codex cannot use."""

    form: str
    active: str | None
    profiles: tuple[Profile, ...]
    # Legacy pieces a file-form Codex cannot use: `profile = …` (a load error) and [profiles.*] tables.
    legacy_default: str | None = None
    legacy_tables: tuple[str, ...] = ()


# ---------------------------------------------------------------------------- checks


def check_name(name: str) -> None:
    if not name or len(name) > MAX_NAME or not profile_state.PROFILE_NAME_RE.fullmatch(name):
        raise UsageError(
            f"invalid profile name `{name}`",
            hint="Codex accepts ASCII letters, digits, '_' and '-' (e.g. `work`, `local-llm`); do not start with '-'.",
        )


def check_provider(data: dict[str, Any], provider: str) -> None:
    known = list(BUILTIN_PROVIDERS) + [p for p in (data.get("model_providers") or {}) if p not in BUILTIN_PROVIDERS]
    if provider not in known:
        raise not_found(provider, known, "config.toml or Codex's built-ins")


def check_effort(info: CodexInfo, effort: str | None) -> None:
    allowed = info.capabilities.reasoning_efforts
    if effort is not None and allowed is not None and effort not in allowed:
        raise UsageError(
            f"Codex {format_version(info.capabilities.version)} does not accept model_reasoning_effort `{effort}`",
            hint=f"Use one of: {', '.join(allowed)}.",
        )


def _selection(provider: str, model: str | None, effort: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {"model_provider": provider}
    if model is not None:
        values["model"] = model
    if effort is not None:
        values["model_reasoning_effort"] = effort
    return values


# ---------------------------------------------------------------------------- active profile record


def recorded_active(paths: Paths) -> str | None:
    return profile_state.recorded_active(paths)


def _record_active(paths: Paths, name: str | None) -> None:
    profile_state.record_active(paths, name)


# ---------------------------------------------------------------------------- reading


def _file_profile(paths: Paths, path: Path, root: dict[str, Any], recorded: str | None) -> Profile:
    snap = load(path)
    name = path.name[: -len(".config.toml")]
    selection = {k: snap.data[k] for k in SELECTION_KEYS if k in snap.data}
    # Recorded by `use --profile`, and still what config.toml selects (a later `use` may have changed it).
    active = name == recorded and profile_state.selection_matches(selection, root)
    return Profile(name, "file", path, dict(snap.data), active, snap.text)


def _table_text(name: str, table: dict[str, Any]) -> str:
    return edit.render_section(("profiles", name), table)


def list_profiles(paths: Paths, info: CodexInfo) -> ProfileList:
    config = load(paths.config_file)
    data = config.data
    tables = got if isinstance(got := data.get("profiles"), dict) else {}
    legacy_default = got if isinstance(got := data.get("profile"), str) else None
    if info.capabilities.profile_form == "table":
        profiles = tuple(
            Profile(n, "table", paths.config_file, dict(t), n == legacy_default, _table_text(n, t))
            for n, t in tables.items()
            if isinstance(t, dict)
        )
        return ProfileList("table", legacy_default, profiles)
    recorded = recorded_active(paths)
    profiles = tuple(_file_profile(paths, p, data, recorded) for p in profile_state.profile_files(paths))
    active = next((p.name for p in profiles if p.active), None)
    return ProfileList("file", active, profiles, legacy_default, tuple(tables))


def get_profile(paths: Paths, name: str, info: CodexInfo) -> Profile:
    listing = list_profiles(paths, info)
    for profile in listing.profiles:
        if profile.name == name:
            return profile
    raise _not_found(name, listing, paths, info)


def _not_found(name: str, listing: ProfileList, paths: Paths, info: CodexInfo) -> NotFoundError:
    import difflib

    known = [p.name for p in listing.profiles]
    where = str(paths.profile_file(name)) if listing.form == "file" else f"[profiles.{name}] in {paths.config_file}"
    close = difflib.get_close_matches(name, known, n=3)
    if close:
        hint = f"Did you mean: {', '.join(close)}?"
    elif listing.form == "file" and name in listing.legacy_tables:
        hint = f"[profiles.{name}] is a legacy table that {info.describe()} ignores; run `codexprov profile migrate`."
    else:
        hint = f"Create it with `codexprov profile add {name} --provider ID`."
    return NotFoundError(f"no profile `{name}` ({where} does not exist)", hint=hint)


# ---------------------------------------------------------------------------- add / rm


def render_profile_file(name: str, selection: dict[str, Any]) -> str:
    import tomlkit

    lines = [f"# Codex profile `{name}`: `codex -p {name}` layers this file over config.toml."]
    lines += [f"{k} = {tomlkit.item(v).as_string()}" for k, v in selection.items()]
    return "\n".join(lines) + "\n"


def add_profile(
    paths: Paths,
    name: str,
    info: CodexInfo,
    *,
    provider: str,
    model: str | None = None,
    reasoning_effort: str | None = None,
    dry_run: bool = False,
) -> EditResult:
    """Create NAME.config.toml (file form) or [profiles.NAME] (table form) selecting provider/model/effort."""
    check_name(name)
    check_effort(info, reasoning_effort)
    selection = _selection(provider, model, reasoning_effort)
    config = load(paths.config_file)
    check_provider(config.data, provider)
    from codexprov import picker

    # The profile carries its own picker list: `codex -p NAME` shows its provider's models.
    selection.update(picker.for_profile(paths, name, provider, config.data, model, info, dry_run=dry_run))
    if info.capabilities.profile_form == "table":
        return _add_table(paths, name, selection, dry_run)
    legacy = got if isinstance(got := config.data.get("profiles"), dict) else {}
    if name in legacy or config.data.get("profile") == name:
        # Codex refuses `-p NAME` while config.toml still holds a legacy [profiles.NAME] / profile = NAME.
        raise ConflictError(
            f'{paths.config_file} still has a legacy `[profiles.{name}]` table or `profile = "{name}"`',
            hint="Run `codexprov profile migrate` first; Codex refuses `-p NAME` while both exist.",
        )
    target = paths.profile_file(name)

    def transform(snap: Snapshot) -> str:
        if snap.exists:
            raise ConflictError(
                f"profile `{name}` already exists ({target})",
                hint=f"Pick another name, or `codexprov profile rm {name}` first.",
            )
        return render_profile_file(name, selection)

    return apply_edit(
        paths, target, transform, dry_run=dry_run, description=f"add profile {name}", expect=lambda _d: dict(selection)
    )


def _add_table(paths: Paths, name: str, selection: dict[str, Any], dry_run: bool) -> EditResult:
    def transform(snap: Snapshot) -> str:
        tables = snap.data.get("profiles") or {}
        if name in tables:
            raise ConflictError(
                f"profile `{name}` already exists ([profiles.{name}] in {snap.path})",
                hint=f"Pick another name, or `codexprov profile rm {name}` first.",
            )
        return edit.add_table(snap.text, ("profiles", name), selection)

    def expect(data: dict[str, Any]) -> dict[str, Any]:
        data.setdefault("profiles", {})[name] = dict(selection)
        return data

    return apply_edit(
        paths, paths.config_file, transform, dry_run=dry_run, description=f"add profile {name}", expect=expect
    )


def remove_profile(
    paths: Paths, name: str, info: CodexInfo, *, force: bool = False, dry_run: bool = False
) -> EditResult:
    check_name(name)
    if info.capabilities.profile_form == "table":
        return _remove_table(paths, name, info, force, dry_run)
    target = paths.profile_file(name)
    if not target.is_file():
        raise _not_found(name, list_profiles(paths, info), paths, info)
    result = delete_file(paths, target, dry_run=dry_run, description=f"remove profile {name}")
    if not dry_run and recorded_active(paths) == name:
        _record_active(paths, None)
    return result


def _remove_table(paths: Paths, name: str, info: CodexInfo, force: bool, dry_run: bool) -> EditResult:
    def transform(snap: Snapshot) -> str:
        tables = snap.data.get("profiles") or {}
        if name not in tables:
            raise _not_found(name, list_profiles(paths, info), paths, info)
        text = edit.remove_table(snap.text, ("profiles", name))
        if snap.data.get("profile") == name:
            if not force:
                raise ConflictError(
                    f'`{name}` is the default profile (profile = "{name}")',
                    hint="Pick another with `codexprov use --profile OTHER`, or pass --force (profile = … is then removed).",
                )
            text = edit.set_root_keys(text, {"profile": None})
        return text

    def expect(data: dict[str, Any]) -> dict[str, Any]:
        del data["profiles"][name]
        if data.get("profile") == name:
            del data["profile"]
        return data

    return apply_edit(
        paths, paths.config_file, transform, dry_run=dry_run, description=f"remove profile {name}", expect=expect
    )


def delete_file(paths: Paths, file: Path, *, dry_run: bool, description: str) -> EditResult:
    return tx_delete_file(paths, file, dry_run=dry_run, description=description)


# ---------------------------------------------------------------------------- use


def use_profile(paths: Paths, name: str, info: CodexInfo, dry_run: bool = False) -> EditResult:
    """Make NAME what a plain `codex` uses. A missing profile is refused and nothing changes."""
    check_name(name)
    if info.capabilities.profile_form == "table":
        return _use_table(paths, name, info, dry_run)
    target = paths.profile_file(name)
    if not target.is_file():
        raise _not_found(name, list_profiles(paths, info), paths, info)
    profile = load(target)
    selection = {k: profile.data[k] for k in SELECTION_KEYS if k in profile.data}
    if not selection:
        raise ConflictError(
            f"profile `{name}` selects no provider, model or reasoning effort ({target})",
            hint=f"Use it with `codex -p {name}`; there is nothing to copy into config.toml.",
        )

    def transform(snap: Snapshot) -> str:
        if "profile" in snap.data:
            raise ConflictError(
                f"{snap.path} has a legacy `profile = …` key, which {info.describe()} refuses to load",
                hint="Run `codexprov profile migrate` first.",
            )
        provider = selection.get("model_provider")
        if provider is not None:
            configured = snap.data.get("model_providers") or {}
            if provider not in configured and provider not in BUILTIN_PROVIDERS:
                raise ConflictError(
                    f"profile `{name}` selects provider `{provider}`, which config.toml does not define",
                    hint=f"A provider defined only in {target.name} works with `codex -p {name}`, not as the default.",
                )
        extra.clear()
        active = provider if provider is not None else snap.data.get("model_provider")
        if isinstance(active, str):
            # The picker follows the provider the profile makes active (picker.py).
            extra.update(
                picker.for_use(paths, active, snap.data, selection.get("model"), lambda: info, dry_run=dry_run)
            )
        return edit.set_root_keys(snap.text, {**selection, **extra})

    def expect(data: dict[str, Any]) -> dict[str, Any]:
        data.update(selection)
        for key, value in extra.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        return data

    extra: dict[str, Any] = {}
    result = apply_edit(
        paths, paths.config_file, transform, dry_run=dry_run, description=f"use profile {name}", expect=expect
    )
    if not dry_run:
        _record_active(paths, name)
    return result


def _use_table(paths: Paths, name: str, info: CodexInfo, dry_run: bool) -> EditResult:
    extra: dict[str, Any] = {}

    def transform(snap: Snapshot) -> str:
        tables = snap.data.get("profiles") or {}
        if name not in tables:
            raise _not_found(name, list_profiles(paths, info), paths, info)
        extra.clear()
        table = tables[name] if isinstance(tables[name], dict) else {}
        active = table.get("model_provider", snap.data.get("model_provider"))
        if isinstance(active, str) and "model_catalog_json" not in table:
            from codexprov import picker

            # A profile without a list of its own shows config.toml's: make it its provider's (picker.py).
            model = table.get("model", snap.data.get("model"))
            extra.update(picker.for_use(paths, active, snap.data, model, lambda: info, dry_run=dry_run))
        return edit.set_root_keys(snap.text, {"profile": name, **extra})

    def expect(data: dict[str, Any]) -> dict[str, Any]:
        data["profile"] = name
        for key, value in extra.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        return data

    return apply_edit(
        paths, paths.config_file, transform, dry_run=dry_run, description=f"use profile {name}", expect=expect
    )


# ---------------------------------------------------------------------------- migrate


@dataclass(frozen=True)
class MigrateResult:
    """What `profile migrate` did: the edits, the profiles moved and the old default."""

    edits: tuple[EditResult, ...]  # the profile files first, config.toml last
    profiles: tuple[str, ...]  # migrated names
    default: str | None  # the old `profile = …`, whose settings are now at the top of config.toml
    skipped: tuple[str, ...]  # names whose file already held exactly the table
    warnings: tuple[str, ...]
    dry_run: bool

    @property
    def changed(self) -> bool:
        return any(e.changed for e in self.edits)


def _file_text_for(text: str, name: str, table: dict[str, Any]) -> str:
    candidate = table_as_file(text, ("profiles", name))
    if candidate is not None:
        try:
            if same_data(parse(candidate, Path(f"{name}.config.toml")), table):
                return candidate
        except Exception:  # noqa: BLE001 - any doubt: fall back to rendering the data
            pass
    # Written as dotted keys / inline tables under [profiles]: render it (comments there are not kept).
    import tomlkit

    doc = tomlkit.document()
    for key, value in table.items():
        doc[key] = edit.toml_item(key, value)
    return doc.as_string()


def migrate(paths: Paths, info: CodexInfo, dry_run: bool = False) -> MigrateResult:
    """Legacy `profile = …` and [profiles.*] -> NAME.config.toml files; the old default stays the default."""
    if info.capabilities.profile_form != "file":
        raise ConflictError(
            f"{info.describe()} reads [profiles.*] tables; profile files would be ignored",
            hint="Upgrade Codex to 0.134 or later first (or keep the tables).",
        )
    config = load(paths.config_file)
    tables = got if isinstance(got := config.data.get("profiles"), dict) else {}
    default = got if isinstance(got := config.data.get("profile"), str) else None
    if not tables and "profile" not in config.data:
        return MigrateResult((), (), None, (), (), dry_run)
    warnings: list[str] = []
    plans: list[tuple[str, Path, str]] = []
    skipped: list[str] = []
    for name, table in tables.items():
        if not isinstance(table, dict):
            raise ConflictError(
                f"`profiles.{name}` in {paths.config_file} is not a table", hint="Fix it by hand first."
            )
        check_name(name)
        file_text = _file_text_for(config.text, name, table)
        target = paths.profile_file(name)
        if target.exists():
            if same_data(load(target).data, table):
                skipped.append(name)
                continue
            raise ConflictError(
                f"{target} already exists and differs from [profiles.{name}]",
                hint="Merge them by hand (or remove one), then run `codexprov profile migrate` again.",
            )
        plans.append((name, target, file_text))
    default_values: dict[str, Any] = {}
    if default is not None:
        if default in tables:
            for key, value in tables[default].items():
                if isinstance(value, dict):
                    warnings.append(
                        f"[profiles.{default}.{key}] of the old default is not copied to config.toml; "
                        f"`codex -p {default}` still applies it"
                    )
                else:
                    default_values[key] = value
        else:
            warnings.append(f'`profile = "{default}"` named no [profiles.{default}] table; it is removed')

    edits: list[EditResult] = []
    for name, target, file_text in plans:
        expected = tables[name]
        edits.append(
            apply_edit(
                paths,
                target,
                functools.partial(_new_file, text=file_text, name=name, target=target),
                dry_run=dry_run,
                description=f"migrate [profiles.{name}] to {target.name}",
                expect=functools.partial(_copy_of, expected),
            )
        )

    def transform(snap: Snapshot) -> str:
        text = snap.text
        for name in snap.data.get("profiles") or {}:
            text = edit.remove_table(text, ("profiles", name))
        if "profiles" in loads(text):
            text = edit.remove_table(text, ("profiles",))
        return edit.set_root_keys(text, {"profile": None, **default_values})

    def expect(data: dict[str, Any]) -> dict[str, Any]:
        data.pop("profiles", None)
        data.pop("profile", None)
        data.update(default_values)
        return data

    edits.append(
        apply_edit(
            paths, paths.config_file, transform, dry_run=dry_run, description="migrate legacy profiles", expect=expect
        )
    )
    if not dry_run and default is not None and default in tables:
        _record_active(paths, default)
    return MigrateResult(
        tuple(edits), tuple(n for n, _t, _x in plans), default, tuple(skipped), tuple(warnings), dry_run
    )


def _copy_of(expected: dict[str, Any], _data: dict[str, Any]) -> dict[str, Any]:
    return dict(expected)


def _new_file(snap: Snapshot, text: str, name: str, target: Path) -> str:
    if snap.exists:
        raise ConflictError(f"{target} appeared meanwhile", hint="Run `codexprov profile migrate` again.")
    return text
