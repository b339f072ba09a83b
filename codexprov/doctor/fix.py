"""`doctor --fix`: the fixes safe to automate, each one an engine transaction (diff, backup, undo).

- a duplicate key or table: every definition but one is removed. Codex refuses such a file, so
  there is no "what Codex did" to keep; on a terminal the user picks, and otherwise (`--yes`) the
  LAST definition stays: it is the one written most recently (an appended line, a re-added table),
  and it is what a later-wins reading (Codex's own layers and `-c` overrides) would pick. The file
  cannot be parsed, so this edit works on the text (definitions found with config.scan) and the
  result is checked with the TOML 1.1 reader: it must parse, or fail only on another duplicate (fixed next).
- `wire_api` -> "responses" (the only value Codex 0.95+ accepts; its own error says so).
- a custom table under a reserved built-in id -> `ID-custom`, with `model_provider` references in
  config.toml and profile files updated.
- plain-text keys -> the keyring (`keys.migrate`), also for keys in fields Codex ignores.
- fields Codex ignores (unknown keys with no better home) -> dropped.

Only config.toml (and, for a rename, the profile files that refer to the id) is changed; the system
and project configs are left to the user. Nothing here prints or prompts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codexprov import credentials, keys, safe_read
from codexprov.config import edit
from codexprov.config.document import load
from codexprov.config.edit import scoped_edit, set_root_keys
from codexprov.config.textedit import Duplicate, find_duplicate, remove_duplicate, rename_table
from codexprov.config.transaction import apply_edit, apply_text_edit
from codexprov.doctor.findings import FixKind, Report
from codexprov.errors import CodexprovError
from codexprov.paths import Paths
from codexprov.profile_state import profile_files
from codexprov.providers import update_provider_fields
from codexprov.safe_write import write_atomic


@dataclass(frozen=True)
class FixAction:
    """A fix the doctor can make: the kind, the check it answers, the file and the provider."""

    kind: FixKind
    check: str
    file: Path
    provider: str | None
    description: str
    fields: tuple[str, ...] = ()
    duplicate: Duplicate | None = None
    codex: tuple[str | None, str | None] = (None, None)  # the Codex binary and version (GATEWAY_SETTINGS)


# ---------------------------------------------------------------------------- planning


def plan_fixes(paths: Paths, report: Report) -> list[FixAction]:
    """The automatic fixes for the findings of `report` that carry a fix kind, in the order they run."""
    actions: list[FixAction] = []
    seen: set[tuple[FixKind, str | None, str]] = set()
    drops: dict[tuple[str, str], list[str]] = {}
    gateway_parts: list[str] = []
    for finding in report.findings:
        kind = finding.fix_kind
        if kind is FixKind.GATEWAY_SETTINGS:
            gateway_parts += [p for p in finding.refused if p not in gateway_parts]
            continue
        if kind is None or finding.file is None:
            continue
        file = Path(finding.file)
        if kind is FixKind.REMOVE_DUPLICATE:
            try:
                text = safe_read.read_text(file)
            except (OSError, ValueError):
                continue
            dup = find_duplicate(text)
            if dup is not None and (kind, None, str(file)) not in seen:
                seen.add((kind, None, str(file)))
                actions.append(
                    FixAction(
                        kind,
                        finding.check,
                        file,
                        None,
                        f"remove the duplicate {dup.name} in {file.name}",
                        duplicate=dup,
                    )
                )
        elif kind in (FixKind.UNQUOTE_NUMBER, FixKind.DROP_CATALOG) and finding.key:
            if (kind, finding.key, str(file)) not in seen:
                seen.add((kind, finding.key, str(file)))
                what = "unquote the number in" if kind is FixKind.UNQUOTE_NUMBER else "drop the dangling"
                actions.append(FixAction(kind, finding.check, file, None, f"{what} {finding.key}", (finding.key,)))
        elif finding.provider is None:
            continue  # every other fix edits one provider's table
        elif kind is FixKind.SET_WIRE_API:
            actions.append(
                FixAction(
                    kind, finding.check, file, finding.provider, f'set wire_api = "responses" for {finding.provider}'
                )
            )
        elif kind is FixKind.RENAME_DISPLAY:
            from codexprov.codex.names import custom_name

            table = _table_of(paths, finding.provider)
            name = table.get("name") if table is not None else None
            if isinstance(name, str):
                new = custom_name(name)
                actions.append(
                    FixAction(kind, finding.check, file, finding.provider, f'name {finding.provider} "{new}"', (new,))
                )
        elif kind is FixKind.RENAME_RESERVED:
            new = f"{finding.provider}-custom"
            actions.append(
                FixAction(
                    kind, finding.check, file, finding.provider, f"rename provider {finding.provider} to {new}", (new,)
                )
            )
        elif kind is FixKind.MIGRATE_KEY:
            if (kind, finding.provider, str(file)) not in seen:
                seen.add((kind, finding.provider, str(file)))
                description = f"move {finding.provider}'s plain-text key into the keyring"
                actions.append(FixAction(kind, finding.check, file, finding.provider, description))
        elif kind is FixKind.DROP_FIELD and finding.key:
            drops.setdefault((str(file), finding.provider), []).append(finding.key)
    for (file_name, pid), fields in drops.items():
        description = f"drop {', '.join(fields)} (ignored by Codex) from {pid}"
        actions.append(
            FixAction(FixKind.DROP_FIELD, "provider.unknown-key", Path(file_name), pid, description, tuple(fields))
        )
    if gateway_parts:
        codex = report.codex or {}
        actions.append(
            FixAction(
                FixKind.GATEWAY_SETTINGS,
                "provider.gateway-requests",
                paths.config_file,
                None,
                "set what takes " + ", ".join(gateway_parts) + " out of Codex's requests",
                tuple(gateway_parts),
                codex=(codex.get("path"), codex.get("version")),
            )
        )
    return sorted(actions, key=lambda a: a.kind.rank)


# ---------------------------------------------------------------------------- applying


def apply_fix(
    paths: Paths, action: FixAction, *, keep: int = -1, store: Any = None, dry_run: bool = False
) -> tuple[Any, ...]:
    """Apply one fix (or, with dry_run, compute its diff); returns the EditResults, config.toml's first."""
    if action.kind is FixKind.REMOVE_DUPLICATE:
        assert action.duplicate is not None
        return (_raw_edit(paths, action.file, action.duplicate, keep, dry_run=dry_run, description=action.description),)
    if action.kind is FixKind.SET_WIRE_API:
        return (_table_edit(paths, action, {"wire_api": "responses"}, (), dry_run),)
    if action.kind is FixKind.RENAME_DISPLAY:
        return (_table_edit(paths, action, {"name": action.fields[0]}, (), dry_run),)
    if action.kind is FixKind.DROP_FIELD:
        return (_table_edit(paths, action, {}, action.fields, dry_run),)
    if action.kind is FixKind.RENAME_RESERVED:
        return _rename(paths, action, dry_run)
    if action.kind in (FixKind.UNQUOTE_NUMBER, FixKind.DROP_CATALOG):
        return (_value_edit(paths, action, dry_run),)
    if action.kind is FixKind.MIGRATE_KEY:
        if store is None and not dry_run:
            store = credentials.open_store()
        result = keys.migrate(paths, store, action.provider, dry_run=dry_run)
        return (result.edit,) if result.edit is not None else ()
    if action.kind is FixKind.GATEWAY_SETTINGS:
        return (_gateway_settings(paths, action, dry_run),)
    raise ValueError(action.kind)


def _gateway_settings(paths: Any, action: FixAction, dry_run: bool) -> Any:
    """The settings codex.gateway names for the refused parts (action.fields), and the model catalog
    file they point at: the catalog Codex uses now (the current model_catalog_json, else the
    binary's bundled one) with those parts switched off. The catalog first, then the config."""
    from codexprov.codex import catalog, gateway
    from codexprov.codex.capabilities import capabilities
    from codexprov.codex.version import parse_version
    from codexprov.config.document import load
    from codexprov.providers import set_settings

    binary, version = action.codex
    caps = capabilities(parse_version(version or ""))
    fix = gateway.gateway_fix(action.fields, caps, paths.codex_home)
    settings = fix.as_root()
    if fix.catalog_path is not None:
        try:
            current = load(paths.config_file).data.get("model_catalog_json")
        except CodexprovError:
            current = None
        try:
            if isinstance(current, str) and current and Path(current).expanduser() != fix.catalog_path:
                source = catalog.read_file(Path(current).expanduser())
            elif binary:
                source = catalog.bundled(paths, Path(binary), version)
            else:
                raise catalog.CatalogError("no `codex` found to read its model catalog from")
        except catalog.CatalogError as err:
            raise CodexprovError(
                f"cannot write the model catalog file: {err}",
                hint="Pass --codex PATH to the Codex you use, then run `codexprov doctor --live --fix` again.",
            ) from err
        if not dry_run:
            fix.catalog_path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(fix.catalog_path, source.for_server_text(action.fields), existed=fix.catalog_path.exists())
    return set_settings(paths, settings, description=action.description, dry_run=dry_run)


def _table_of(paths: Any, provider_id: str) -> dict[str, Any] | None:
    from codexprov.config.document import load

    try:
        table = (load(paths.config_file).data.get("model_providers") or {}).get(provider_id)
    except CodexprovError:
        return None
    return table if isinstance(table, dict) else None


def _raw_edit(paths: Paths, file: Path, dup: Duplicate, keep: int, *, dry_run: bool, description: str) -> Any:
    """The duplicate's file does not parse, so the engine's text transaction does the edit."""

    def transform(text: str) -> str:
        current = find_duplicate(text)
        if current is None or current.definitions != dup.definitions:
            raise CodexprovError(
                f"{file} changed meanwhile; nothing was written", hint="Run `codexprov doctor --fix` again."
            )
        return remove_duplicate(text, dup, keep)

    return apply_text_edit(paths, file, transform, dry_run=dry_run, description=description)


def _table_edit(
    paths: Paths, action: FixAction, set_fields: dict[str, Any], drop: tuple[str, ...], dry_run: bool
) -> Any:
    assert action.provider is not None
    return update_provider_fields(
        paths, action.provider, set_fields, drop, dry_run=dry_run, description=action.description, file=action.file
    )


def _value_edit(paths: Any, action: FixAction, dry_run: bool) -> Any:
    """One value at a dotted key path of config.toml: a quoted number unquoted, or the key dropped."""
    path = tuple(action.fields[0].split("."))
    unquote = action.kind is FixKind.UNQUOTE_NUMBER

    def number(text: str) -> int | float:
        try:
            return int(text)
        except ValueError:
            return float(text)

    def at(node: Any) -> Any:
        for part in path[:-1]:
            node = node.get(part) if hasattr(node, "get") else None
            if node is None:
                raise CodexprovError(
                    f"{action.file} no longer sets {action.fields[0]}; nothing was written",
                    hint="Run `codexprov doctor` again.",
                )
        return node

    def change(container: Any) -> None:
        value = container.get(path[-1]) if hasattr(container, "get") else None
        if not isinstance(value, str) or (unquote and not _is_number(value)):
            raise CodexprovError(
                f"{action.fields[0]} in {action.file} changed meanwhile; nothing was written",
                hint="Run `codexprov doctor` again.",
            )
        if unquote:
            container[path[-1]] = number(str(value).strip())
        else:
            del container[path[-1]]

    def transform(snap: Any) -> str:
        if len(path) == 1:
            change(dict(snap.data))  # checks the value is still what the finding saw
            value = number(str(snap.data[path[0]]).strip()) if unquote else None
            return set_root_keys(snap.text, {path[0]: value})  # None deletes it
        return scoped_edit(snap.text, path[:-1], lambda doc: change(at(doc)))

    def expect(data: dict[str, Any]) -> dict[str, Any]:
        change(at(data))
        return data

    return apply_edit(paths, action.file, transform, dry_run=dry_run, description=action.description, expect=expect)


def _is_number(text: str) -> bool:
    return re.fullmatch(r"\s*[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+)\s*", text) is not None


def free_id(taken: set[str], wanted: str) -> str:
    candidate, n = wanted, 2
    while candidate in taken:
        candidate, n = f"{wanted}-{n}", n + 1
    return candidate


def _rename(paths: Paths, action: FixAction, dry_run: bool) -> tuple[Any, ...]:
    old = action.provider
    assert old is not None
    data = load(action.file).data
    new = free_id(set(data.get("model_providers") or {}), action.fields[0] if action.fields else f"{old}-custom")
    description = f"rename provider {old} to {new} (a reserved built-in id)"

    def transform(snap: Any) -> str:
        text = rename_table(snap.text, ("model_providers", old), ("model_providers", new))
        if snap.data.get("model_provider") == old:
            text = edit.set_root_keys(text, {"model_provider": new})
        return text

    def expect(data: dict[str, Any]) -> dict[str, Any]:
        providers = data["model_providers"]
        providers[new] = providers.pop(old)
        if data.get("model_provider") == old:
            data["model_provider"] = new
        return data

    results = [apply_edit(paths, action.file, transform, dry_run=dry_run, description=description, expect=expect)]
    for profile in profile_files(paths):
        try:
            pdata = load(profile).data
        except CodexprovError:
            continue
        if pdata.get("model_provider") != old or old in (pdata.get("model_providers") or {}):
            continue
        results.append(
            apply_edit(
                paths,
                profile,
                lambda snap: edit.set_root_keys(snap.text, {"model_provider": new}),
                dry_run=dry_run,
                description=f"{profile.name}: model_provider {old} -> {new}",
                expect=lambda d: {**d, "model_provider": new},
            )
        )
    return tuple(results)
