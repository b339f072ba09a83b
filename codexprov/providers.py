"""Providers in a Codex config: list, show, add, use, remove, rewire. Returns data; never prints."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codexprov.codex.builtins import BUILTIN_PROVIDERS
from codexprov.config.document import Snapshot, load
from codexprov.errors import ConflictError, NotFoundError, UsageError
from codexprov.model import AuthCommand, ProviderSpec, check_provider_id
from codexprov.paths import Paths
from codexprov.redact import redact_data

if TYPE_CHECKING:
    from codexprov.codex.capabilities import Capabilities
    from codexprov.codex.version import CodexInfo
    from codexprov.config.transaction import EditResult

# Read-only commands (list, show) must not pay for tomlkit, difflib and friends: the modules that
# edit are imported inside the functions that edit.

DEFAULT_PROVIDER = "openai"


@dataclass(frozen=True)
class KeySource:
    """Where Codex gets a provider's key: a kind and a detail (never a secret)."""

    kind: str  # "env" | "keyring" | "command" | "codex-login" | "plaintext" | "cloud" | "none"
    detail: str  # env var name, command line, or a short description; never a secret

    def describe(self) -> str:
        return {
            "env": f"env ${self.detail}",
            "keyring": "keyring (codexprov token)",
            "command": f"command: {self.detail}",
            "codex-login": self.detail,
            "plaintext": f"PLAIN TEXT in {self.detail}"
            if self.detail.startswith("auth.json")
            else f"PLAIN TEXT in config ({self.detail})",
            "cloud": self.detail,
            "none": "none",
        }.get(self.kind, self.detail)


@dataclass(frozen=True)
class ProviderInfo:
    """One provider as `list` and `show` present it: id, name, URL, where it comes from, its key."""

    id: str
    name: str
    base_url: str | None
    builtin: bool
    configured: bool  # has a [model_providers.ID] table in the config
    active: bool
    key_source: KeySource
    wire_api: str | None
    table: dict[str, Any] = field(default_factory=dict, hash=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "base_url": self.base_url,
            "builtin": self.builtin,
            "configured": self.configured,
            "active": self.active,
            "key_source": {"kind": self.key_source.kind, "detail": self.key_source.detail},
            "wire_api": self.wire_api,
            "table": redact_table(self.table),
        }


@dataclass(frozen=True)
class ProviderList:
    """Every provider of a config, the active one and the model."""

    config_path: str
    config_exists: bool
    active_provider: str
    model: str | None
    providers: tuple[ProviderInfo, ...]
    active_profile: str | None = None


def redact_table(table: dict[str, Any]) -> dict[str, Any]:
    """A copy of a provider table safe to show (the one boundary: codexprov.redact.redact_data)."""
    return redact_data(table)


def is_token_command(auth: dict[str, Any]) -> bool:
    """Is this auth table codexprov's own `codexprov token ID` (or `python -m codexprov token ID`)?"""
    from codexprov.credentials import is_token_auth

    args = auth.get("args") or []
    return bool(args) and is_token_auth(auth, str(args[-1]))


def key_source(pid: str, table: dict[str, Any]) -> KeySource:
    auth = table.get("auth")
    if isinstance(auth, dict) and auth.get("command"):
        if is_token_command(auth):
            return KeySource("keyring", pid)
        return KeySource("command", " ".join([str(auth["command"]), *map(str, auth.get("args") or [])]))
    if table.get("env_key"):
        return KeySource("env", str(table["env_key"]))
    if table.get("experimental_bearer_token"):
        return KeySource("plaintext", "experimental_bearer_token")
    if table.get("requires_openai_auth"):
        return KeySource("codex-login", "codex login (ChatGPT / OpenAI auth)")
    if pid == "openai":
        return KeySource("codex-login", "codex login / OPENAI_API_KEY")
    if pid == "amazon-bedrock":
        return KeySource("cloud", "AWS credentials")
    if pid == "gcp":
        return KeySource("cloud", "Google Cloud credentials")
    return KeySource("none", "")


def _info(pid: str, table: dict[str, Any] | None, active: str) -> ProviderInfo:
    builtin = BUILTIN_PROVIDERS.get(pid)
    merged: dict[str, Any] = {}
    if builtin is not None:
        merged["name"] = builtin.name
        if builtin.base_url:
            merged["base_url"] = builtin.base_url
    merged.update(table or {})
    return ProviderInfo(
        id=pid,
        name=str(merged.get("name") or pid),
        base_url=merged.get("base_url"),
        builtin=builtin is not None,
        configured=table is not None,
        active=pid == active,
        key_source=key_source(pid, merged),
        wire_api=merged.get("wire_api", "responses"),
        table=merged,
    )


def summarize(snap: Snapshot, paths: Paths | None = None) -> ProviderList:
    data = snap.data
    active = data.get("model_provider") or DEFAULT_PROVIDER
    configured: dict[str, Any] = data.get("model_providers") or {}
    ids = list(BUILTIN_PROVIDERS) + [pid for pid in configured if pid not in BUILTIN_PROVIDERS]
    infos = tuple(_info(pid, configured.get(pid), active) for pid in ids)
    if paths is not None and any(i.key_source.kind == "codex-login" and not i.builtin for i in infos):
        infos = _login_keys_in_plain_text(infos, paths)
    profile = None
    if paths is not None:
        from codexprov.profile_state import active_profile

        profile = active_profile(paths, data)
    return ProviderList(str(snap.path), snap.exists, active, data.get("model"), infos, profile)


def _login_keys_in_plain_text(infos: tuple[ProviderInfo, ...], paths: Paths) -> tuple[ProviderInfo, ...]:
    """A custom provider with requires_openai_auth sends auth.json's OPENAI_API_KEY when it holds
    one: that is a plain-text key (`key migrate` moves it), not "codex login"."""
    import dataclasses

    from codexprov.codex.login import FIELD, read_login, sends_login_key  # json: only with such a provider

    login = read_login(paths.codex_home)
    if login is None or login.api_key is None:
        return infos
    plain = KeySource("plaintext", FIELD)
    return tuple(
        dataclasses.replace(i, key_source=plain)
        if not i.builtin and i.configured and sends_login_key(i.id, i.table)
        else i
        for i in infos
    )


def list_providers(paths: Paths) -> ProviderList:
    return summarize(load(paths.config_file, paths.cache_dir), paths)


def get_provider(paths: Paths, pid: str) -> ProviderInfo:
    summary = list_providers(paths)
    for info in summary.providers:
        if info.id == pid:
            return info
    raise not_found(pid, [p.id for p in summary.providers], str(paths.config_file))


def not_found(pid: str, known: list[str], where: str) -> NotFoundError:
    import difflib

    close = difflib.get_close_matches(pid, known, n=3)
    hint = f"Did you mean: {', '.join(close)}?" if close else "Run `codexprov list` to see the providers."
    return NotFoundError(f"no provider `{pid}` in {where}", hint=hint)


# ---------------------------------------------------------------------------- validation


def check_new_id(pid: str, capabilities: Capabilities | None = None) -> None:
    """UsageError for a malformed id; ConflictError when this Codex (default: the newest known)
    refuses a custom table under `pid` (codex.rules.custom_id_refusal)."""
    from codexprov.codex.capabilities import capabilities as caps_for
    from codexprov.codex.rules import custom_id_refusal

    check_provider_id(pid)
    refusal = custom_id_refusal(pid, capabilities or caps_for(None))
    if refusal is not None:
        builtin = f" (or configure the built-in with `codexprov use {pid}`)" if pid in BUILTIN_PROVIDERS else ""
        raise ConflictError(
            refusal.message,
            hint=f"Pick another id, e.g. --id {pid}-custom{builtin}.",
        )


def _providers_of(data: dict[str, Any]) -> dict[str, Any]:
    return data.get("model_providers") or {}


# ---------------------------------------------------------------------------- edits


def _root_values(pid: str | None, model: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if pid is not None:
        values["model_provider"] = pid
    if model is not None:
        values["model"] = model
    return values


@dataclass(frozen=True)
class AddEdit:
    """The edit `add` made, and the fields of a replaced table it kept."""

    edit: EditResult
    kept: tuple[str, ...]  # fields of the replaced table that the recipe does not own, left as they were


def add_provider(
    paths: Paths,
    spec: ProviderSpec,
    *,
    use: bool = False,
    model: str | None = None,
    replace: bool = False,
    dry_run: bool = False,
    reuse: EditResult | None = None,
) -> EditResult:
    """Add [model_providers.ID] (or, with replace, rewrite an existing one from `spec`)."""
    return write_provider(paths, spec, use=use, model=model, replace=replace, dry_run=dry_run, reuse=reuse).edit


def write_provider(
    paths: Paths,
    spec: ProviderSpec,
    *,
    use: bool = False,
    model: str | None = None,
    replace: bool = False,
    dry_run: bool = False,
    reuse: EditResult | None = None,
    settings: dict[tuple[str, ...], Any] | None = None,
    root_from: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> AddEdit:
    """add_provider, also saying which of the user's own fields a replace kept. The caller has
    checked the id (the add use case, through recipes.render; check_new_id otherwise).
    `settings`: other top-level values to set in the same edit (a path of one or two keys, e.g.
    ("web_search",) or ("features", "multi_agent")), such as a gateway's (codex.gateway).
    `root_from`: more top-level values, decided from the config as it is (None deletes a key)."""
    from codexprov.config import edit
    from codexprov.config.transaction import apply_edit

    settings = settings or {}

    table = spec.to_table()
    owned = spec.owned_fields()
    root = _root_values(spec.id if use else None, model if use else None)
    kept: dict[str, Any] = {}
    extra: dict[str, Any] = {}

    def transform(snap: Snapshot) -> str:
        existing = _providers_of(snap.data).get(spec.id)
        if existing is not None and not replace:
            raise ConflictError(
                f"provider `{spec.id}` already exists in {snap.path}",
                hint=f"Pass --replace to update it, pick another --id, or `codexprov remove {spec.id}` first.",
            )
        kept.clear()
        if existing is not None:
            kept.update({k: v for k, v in existing.items() if k not in owned and k not in table})
            text = edit.scoped_edit(
                snap.text, ("model_providers", spec.id), lambda doc: _replace_table(doc, spec.id, table, owned)
            )
        else:
            text = edit.add_table(snap.text, ("model_providers", spec.id), table)
        extra.clear()
        if root_from is not None:
            extra.update(root_from(snap.data))
        text = edit.set_root_keys(text, {**root, **extra}) if root or extra else text
        return _apply_settings(text, snap.data, settings)

    def expect(data: dict[str, Any]) -> dict[str, Any]:
        data.setdefault("model_providers", {})[spec.id] = {**kept, **table}
        data.update(root)
        _set_or_drop(data, extra)
        for path, value in settings.items():
            node = data
            for key in path[:-1]:
                node = node.setdefault(key, {})
            node[path[-1]] = value
        return data

    verb = "replace" if replace else "add"
    result = apply_edit(
        paths,
        paths.config_file,
        transform,
        dry_run=dry_run,
        description=f"{verb} provider {spec.id}",
        expect=expect,
        reuse=reuse,
    )
    return AddEdit(result, tuple(kept))


def set_settings(
    paths: Paths, settings: dict[tuple[str, ...], Any], *, description: str, dry_run: bool = False
) -> EditResult:
    """Set top-level values of config.toml (paths of one or two keys, as write_provider's
    `settings`), e.g. the ones a gateway needs (codex.gateway), in one transaction."""
    from codexprov.config.transaction import apply_edit

    def transform(snap: Snapshot) -> str:
        return _apply_settings(snap.text, snap.data, settings)

    def expect(data: dict[str, Any]) -> dict[str, Any]:
        for path, value in settings.items():
            node = data
            for key in path[:-1]:
                node = node.setdefault(key, {})
            node[path[-1]] = value
        return data

    return apply_edit(paths, paths.config_file, transform, dry_run=dry_run, description=description, expect=expect)


def _apply_settings(text: str, data: dict[str, Any], settings: dict[tuple[str, ...], Any]) -> str:
    """Set top-level values (one key) and values of top-level tables (two keys, e.g. [features])."""
    from codexprov.config import edit

    root = {path[0]: value for path, value in settings.items() if len(path) == 1}
    if root:
        text = edit.set_root_keys(text, root)
    for path, value in settings.items():
        if len(path) != 2:
            continue
        table, key = path
        if isinstance(data.get(table), dict):

            def set_value(doc: Any, t: str = table, k: str = key, v: Any = value) -> None:
                doc[t][k] = v

            text = edit.scoped_edit(text, (table,), set_value)
        else:
            text = edit.add_table(text, (table,), {key: value})
    return text


def _replace_table(doc, pid: str, table: dict[str, Any], owned: frozenset[str] | None = None) -> None:
    """Make the table hold `table`; of the other fields, only those in `owned` are deleted
    (None: delete none, e.g. a built-in's table, where the user's other overrides stay)."""
    from codexprov.config import edit

    current = doc["model_providers"][pid]
    for key in [k for k in current if k not in table and owned is not None and k in owned]:
        del current[key]
    for key, value in table.items():
        if key in current and _plain(current[key]) == value:
            continue  # unchanged: keep its formatting and comment
        edit.assign(current, key, value)


def _plain(item: Any) -> Any:
    return item.unwrap() if hasattr(item, "unwrap") else item


def configure_builtin(
    paths: Paths,
    builtin_id: str,
    table: dict[str, Any] | None,
    *,
    use: bool = False,
    model: str | None = None,
    dry_run: bool = False,
    reuse: EditResult | None = None,
    capabilities: Capabilities | None = None,
    root_from: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> EditResult:
    """Configure a built-in provider: only the fields this Codex (default: the newest known) lets a
    table under its id set. `root_from`: more top-level values, decided from the config as it is
    (None deletes a key)."""
    from codexprov.codex.capabilities import capabilities as caps_for
    from codexprov.config import edit
    from codexprov.config.transaction import apply_edit

    if table:
        allowed = (capabilities or caps_for(None)).builtin_top_fields(builtin_id) or ()
        bad = [k for k in table if k not in allowed]
        if bad:
            raise UsageError(
                f"the built-in `{builtin_id}` provider does not accept {', '.join(bad)}",
                hint=f"It accepts only: {', '.join(allowed) or 'nothing'}. Use --id to write a custom provider instead.",
            )
    root = _root_values(builtin_id if use else None, model if use else None)
    extra: dict[str, Any] = {}

    def transform(snap: Snapshot) -> str:
        text = snap.text
        if table:
            if builtin_id in _providers_of(snap.data):
                text = edit.scoped_edit(
                    text, ("model_providers", builtin_id), lambda doc: _replace_table(doc, builtin_id, table)
                )
            else:
                text = edit.add_table(text, ("model_providers", builtin_id), table)
        extra.clear()
        if root_from is not None:
            extra.update(root_from(snap.data))
        return edit.set_root_keys(text, {**root, **extra}) if root or extra else text

    def expect(data: dict[str, Any]) -> dict[str, Any]:
        if table:
            current = data.setdefault("model_providers", {}).get(builtin_id) or {}
            data["model_providers"][builtin_id] = {**current, **table}
        data.update(root)
        _set_or_drop(data, extra)
        return data

    return apply_edit(
        paths,
        paths.config_file,
        transform,
        dry_run=dry_run,
        description=f"configure {builtin_id}",
        expect=expect,
        reuse=reuse,
    )


def use_provider(
    paths: Paths,
    pid: str,
    *,
    model: str | None = None,
    dry_run: bool = False,
    codex: Callable[[], CodexInfo] | None = None,
) -> EditResult:
    """Make `pid` active. With `codex` (a callable giving the CodexInfo, asked only when needed),
    Codex's model picker switches to the provider's remembered list in the same edit (picker.py)."""
    from codexprov.config import edit
    from codexprov.config.transaction import apply_edit

    root = _root_values(pid, model)
    extra: dict[str, Any] = {}

    def transform(snap: Snapshot) -> str:
        known = list(BUILTIN_PROVIDERS) + list(_providers_of(snap.data))
        if pid not in known:
            raise not_found(pid, known, str(snap.path))
        extra.clear()
        if codex is not None:
            from codexprov import picker

            extra.update(picker.for_use(paths, pid, snap.data, model, codex, dry_run=dry_run))
        return edit.set_root_keys(snap.text, {**root, **extra})

    def expect(data: dict[str, Any]) -> dict[str, Any]:
        data.update(root)
        _set_or_drop(data, extra)
        return data

    return apply_edit(paths, paths.config_file, transform, dry_run=dry_run, description=f"use {pid}", expect=expect)


def _set_or_drop(data: dict[str, Any], values: dict[str, Any]) -> None:
    """Top-level values as set_root_keys writes them: None deletes the key."""
    for key, value in values.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value


@dataclass(frozen=True)
class RemoveResult:
    """What `remove` did: the edit, whether the provider was active, its key, its sessions."""

    edit: EditResult
    was_active: bool
    key_source: KeySource
    sessions: int = 0  # Codex sessions started with this provider (left on disk, never touched)
    sessions_pinned: bool = True  # whether this Codex resumes them only on this provider


def remove_provider(
    paths: Paths, pid: str, *, force: bool = False, dry_run: bool = False, capabilities: Capabilities | None = None
) -> RemoveResult:
    """Remove [model_providers.ID]. Refused without `force` when it is the active provider, or when
    saved sessions were started with it and this Codex (`capabilities`, default: the newest known)
    resumes a session only on its own provider: removing the table would orphan them."""
    from codexprov.codex.capabilities import capabilities as caps_for
    from codexprov.config import edit
    from codexprov.config.transaction import apply_edit
    from codexprov.sessions import find_sessions

    pinned = (capabilities or caps_for(None)).sessions_keep_provider
    facts: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    in_use = len(find_sessions(paths.codex_home, paths.cache_dir).for_provider(pid))

    def transform(snap: Snapshot) -> str:
        providers = _providers_of(snap.data)
        if pid not in providers:
            if pid in BUILTIN_PROVIDERS:
                raise NotFoundError(
                    f"`{pid}` is built into Codex and has no table in {snap.path}; there is nothing to remove",
                    hint="Switch away from it with `codexprov use OTHER`.",
                )
            raise not_found(pid, list(providers), str(snap.path))
        active = snap.data.get("model_provider") == pid
        if active and not force:
            raise ConflictError(
                f'`{pid}` is the active provider (model_provider = "{pid}")',
                hint="Switch first with `codexprov use OTHER`, or pass --force (model_provider is then removed and Codex falls back to openai).",
            )
        if in_use and pinned and not force:
            raise ConflictError(
                f"{in_use} Codex session{'s' if in_use != 1 else ''} {'were' if in_use != 1 else 'was'} started with `{pid}`; "
                "Codex cannot resume them once its table is gone",
                hint=f"See them with `codexprov sessions --provider {pid}`. Pass --force to remove it anyway (the sessions "
                f"stay on disk and can be resumed again once a provider `{pid}` is configured).",
            )
        facts["active"] = active
        facts["source"] = key_source(pid, providers[pid])
        from codexprov import picker

        extra.clear()
        extra.update(picker.for_remove(paths, pid, snap.data))
        text = edit.remove_table(snap.text, ("model_providers", pid))
        root = {"model_provider": None} if active else {}
        return edit.set_root_keys(text, {**root, **extra}) if root or extra else text

    def expect(data: dict[str, Any]) -> dict[str, Any]:
        del data["model_providers"][pid]
        if data.get("model_provider") == pid:
            del data["model_provider"]
        _set_or_drop(data, extra)
        return data

    result = apply_edit(
        paths, paths.config_file, transform, dry_run=dry_run, description=f"remove provider {pid}", expect=expect
    )
    return RemoveResult(result, facts["active"], facts["source"], in_use, pinned)


def update_provider_fields(
    paths: Paths,
    pid: str,
    set_fields: dict[str, Any],
    delete_fields: list[str] | tuple[str, ...] = (),
    *,
    dry_run: bool = False,
    description: str | None = None,
    backup_text=None,
    file: Path | None = None,
) -> EditResult:
    """Set and delete fields of an existing [model_providers.ID] table (a nested dict is a sub-table),
    in config.toml or, with `file`, another config layer (a profile file)."""
    from codexprov.config import edit
    from codexprov.config.transaction import apply_edit

    def change(doc) -> None:
        table = doc["model_providers"][pid]
        for key in delete_fields:
            if key in table:
                del table[key]
        for key, value in set_fields.items():
            edit.assign(table, key, value)

    def transform(snap: Snapshot) -> str:
        providers = _providers_of(snap.data)
        if pid not in providers:
            raise not_found(pid, list(providers), str(snap.path))
        return edit.scoped_edit(snap.text, ("model_providers", pid), change)

    def expect(data: dict[str, Any]) -> dict[str, Any]:
        table = data["model_providers"][pid]
        for key in delete_fields:
            table.pop(key, None)
        table.update(set_fields)
        return data

    return apply_edit(
        paths,
        file or paths.config_file,
        transform,
        dry_run=dry_run,
        description=description or f"update provider {pid}",
        expect=expect,
        backup_text=backup_text,
    )


def set_provider_auth(
    paths: Paths, pid: str, auth: AuthCommand | None, *, drop_env_key: bool = True, dry_run: bool = False
) -> EditResult:
    """Point a provider at an auth command (Codex forbids env_key beside it), or remove its auth."""
    delete = ["env_key"] if drop_env_key or auth is not None else []
    if auth is None:
        return update_provider_fields(
            paths, pid, {}, ["auth"], dry_run=dry_run, description=f"remove auth command of {pid}"
        )
    return update_provider_fields(
        paths, pid, {"auth": auth.to_table()}, delete, dry_run=dry_run, description=f"wire {pid} to an auth command"
    )
