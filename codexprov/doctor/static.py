"""The doctor's checks that need no network: every config file Codex reads, as the installed Codex
version reads it, and whether each provider's key source can work in this environment.

Files, lowest layer first (codex-facts.md): `/etc/codex/config.toml` (the system layer), the user's
`$CODEX_HOME/config.toml`, profile files `$CODEX_HOME/NAME.config.toml` (only with `codex -p NAME`),
and a project's `.codex/config.toml` (from which Codex strips every provider setting).

A key source is tried the way Codex would use it: the env var's value (empty counts as missing),
the keyring entry behind `codexprov token ID`, or the auth command run with its args, cwd and
timeout. Resolved keys are kept in `StaticResult.keys` (never in a Finding) for the network checks.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
import stat
import subprocess
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from codexprov.doctor import Finding
from codexprov.codex.capabilities import NEWEST_PROVIDER_FIELDS
from codexprov.codex.rules import AUTH_FIELDS

SYSTEM_CONFIG = Path("/etc/codex/config.toml")
DEFAULT_AUTH_TIMEOUT_MS = 5000
# Keys people write that Codex does not read, and what they meant. A target of None: no such field.
ALIASES: dict[str, str | None] = {
    "api_key": "env_key",
    "apikey": "env_key",
    "api-key": "env_key",
    "key": "env_key",
    "token": "env_key",
    "bearer_token": "env_key",
    "envkey": "env_key",
    "env-key": "env_key",
    "api_key_env": "env_key",
    "key_env": "env_key",
    "api_key_env_var": "env_key",
    "base-url": "base_url",
    "baseurl": "base_url",
    "url": "base_url",
    "endpoint": "base_url",
    "api_base": "base_url",
    "base_uri": "base_url",
    "headers": "http_headers",
    "http-headers": "http_headers",
    "query": "query_params",
    "params": "query_params",
    "query-params": "query_params",
    "wire-api": "wire_api",
    "wireapi": "wire_api",
    "model": None,
}
# Fields that say "this is how the key gets here": misspelled, they leave the provider keyless.
_KEY_FIELDS = ("env_key", "experimental_bearer_token", "auth")


@dataclass(frozen=True)
class Layer:
    kind: str  # "system" | "user" | "profile" | "project"
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


@dataclass(frozen=True)
class ResolvedKey:
    provider_id: str
    source: str  # "env" | "keyring" | "command" | "plaintext"
    value: str = field(repr=False)


@dataclass(frozen=True)
class StaticResult:
    findings: tuple[Finding, ...]
    active: str
    model: str | None
    order: tuple[str, ...]  # providers checked, active first
    tables: dict[str, dict[str, Any]] = field(hash=False)  # effective table per provider (system+user)
    keys: dict[str, ResolvedKey] = field(hash=False, repr=False)
    profile_models: dict[str, str] = field(hash=False)  # provider -> a model a profile pairs it with


# ---------------------------------------------------------------------------- reading the layers


def load_layers(
    paths: Any, *, env: Mapping[str, str], cwd: Path | None, system_config: Path | None
) -> tuple[list[Layer], list[Finding]]:
    """Every config file that exists, parsed; a file that does not parse gives a Finding instead."""
    from codexprov.profiles import _profile_files

    findings: list[Finding] = []
    layers: list[Layer] = []
    user = paths.config_file
    candidates: list[tuple[str, Path]] = [("system", system_config or SYSTEM_CONFIG), ("user", user)]
    candidates += [("profile", p) for p in _profile_files(paths)]
    candidates += [("project", p) for p in project_configs(cwd, user)]
    for kind, path in candidates:
        layer, finding = _read_layer(kind, path)
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


def _read_layer(kind: str, path: Path) -> tuple[Layer | None, Finding | None]:
    from codexprov.config.document import parse, read_text
    from codexprov.errors import ConfigError, FileAccessError

    try:
        text, exists = read_text(path)
    except FileAccessError as err:
        return None, Finding("config.unreadable", "fail", err.message, file=str(path), fix=err.hint)
    except ConfigError as err:
        return None, _config_error_finding(err, path)
    if not exists:
        return None, None
    try:
        data = parse(text, path)
    except ConfigError as err:
        return Layer(kind, path, text, None), _config_error_finding(err, path)
    return Layer(kind, path, text, data), None


def _config_error_finding(err: Any, path: Path) -> Finding:
    reason = err.reason
    if reason == "duplicate key":
        check, fixable = "config.duplicate-key", True
        fix = f"codexprov doctor --fix  (or delete one of the two definitions in {path})"
    elif reason.startswith("table ") and reason.endswith("declared twice"):
        check, fixable = "config.duplicate-table", True
        fix = f"codexprov doctor --fix  (or merge the two tables in {path} into one)"
    else:
        check, fixable, fix = "config.invalid", False, err.hint or f"fix the syntax in {path}"
    message = f"{reason}: Codex refuses to start until it is fixed"
    if err.detail:
        message += f" ({err.detail.strip()})"
    return Finding(check, "fail", message, file=str(path), line=err.line, fix=fix, fixable=fixable)


# ---------------------------------------------------------------------------- locating keys


_LINE = re.compile(r"[^\n]*\n?")


def line_of(text: str, table: tuple[str, ...], key: str | None = None) -> int | None:
    """1-based line of `key` in the table at `table` (its header line when key is None)."""
    from codexprov.config.scan import parse_key, scan

    try:
        sections = scan(text)
    except (ValueError, IndexError):
        return None
    header_line = None
    for section in sections:
        if section.header != table and not (not table and section is sections[0]):
            continue
        start = section.header_start
        if table:
            header_line = text.count("\n", 0, start) + 1
            if key is None:
                return header_line
        body = text[start : section.end]
        offset = start
        for m in _LINE.finditer(body):
            line = m.group()
            if not line:
                break
            stripped = line.lstrip()
            if stripped[:1] not in ("", "#", "[") and "=" in stripped:
                try:
                    parts, _ = parse_key(stripped.split("=", 1)[0])
                except ValueError:
                    parts = ()
                if parts[:1] == (key,):
                    return text.count("\n", 0, offset + m.start()) + 1
    if key is not None:
        sub = table + (key,)
        for section in sections[1:]:
            if section.header == sub:
                return text.count("\n", 0, section.header_start) + 1
    if header_line is not None:
        return header_line
    # Written as dotted keys or an inline table further up: the first mention will do.
    needle = key or (table[-1] if table else None)
    if needle:
        m = re.search(rf"(^|[\s.\"'{{,]){re.escape(needle)}[\"']?\s*[=.\]]", text, re.M)
        if m:
            return text.count("\n", 0, m.start()) + 1
    return None


# ---------------------------------------------------------------------------- the checks


@dataclass
class _Ctx:
    paths: Any
    info: Any  # CodexInfo
    env: Mapping[str, str]
    store: Any
    open_store: Callable[[], Any]
    findings: list[Finding] = field(default_factory=list)
    keys: dict[str, ResolvedKey] = field(default_factory=dict)
    auth_outcomes: dict[tuple[tuple[str, ...], str], Any] = field(default_factory=dict)
    _store_error: str | None = None
    _store_opened: bool = False

    def add(self, check: str, status: str, message: str, **kw: Any) -> None:
        from codexprov.redact import redact_text

        self.findings.append(Finding(check, status, redact_text(message), **kw))

    def keystore(self) -> tuple[Any, str | None]:
        if not self._store_opened:
            self._store_opened = True
            if self.store is None:
                from codexprov.errors import KeyringUnavailableError

                try:
                    self.store = self.open_store()
                except KeyringUnavailableError as err:
                    self._store_error = err.message
        return self.store, self._store_error


def _merge(low: dict[str, Any], high: dict[str, Any]) -> dict[str, Any]:
    out = dict(low)
    for key, value in high.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def builtin_ids(info: Any) -> set[str]:
    return info.capabilities.builtin_ids()


def run_static(
    paths: Any,
    layers: list[Layer],
    info: Any,
    *,
    env: Mapping[str, str],
    store: Any = None,
    open_store: Callable[[], Any] | None = None,
    provider: str | None = None,
) -> StaticResult:
    """Every static check; `provider` limits the per-provider checks to that one."""
    if open_store is None:
        from codexprov.credentials import open_store as default_open

        open_store = default_open
    ctx = _Ctx(paths, info, env, store, open_store)
    caps = info.capabilities
    by_kind = {kind: [layer for layer in layers if layer.kind == kind] for kind in ("system", "user", "profile", "project")}
    base = [layer for layer in by_kind["system"] + by_kind["user"] if layer.data is not None]
    effective: dict[str, Any] = {}
    for layer in base:
        effective = _merge(effective, layer.data or {})
    tables: dict[str, dict[str, Any]] = {
        pid: t for pid, t in (effective.get("model_providers") or {}).items() if isinstance(t, dict)
    }
    active = effective.get("model_provider") if isinstance(effective.get("model_provider"), str) else "openai"
    model = effective.get("model") if isinstance(effective.get("model"), str) else None
    builtins = builtin_ids(info)
    known = builtins | set(tables)

    _codex_finding(ctx)
    _location_checks(ctx, env)

    # model_provider in the base layers
    for layer in reversed(base):
        value = (layer.data or {}).get("model_provider")
        if isinstance(value, str):
            if value not in known:
                _undefined_provider(ctx, layer, value, known, "model_provider")
            break

    _legacy_profile_checks(ctx, by_kind["user"] + by_kind["system"], caps, known)

    # which providers to check
    order = [active] + [pid for pid in tables if pid != active]
    if provider is not None:
        order = [provider]
    order = [pid for pid in order if pid in tables or pid in builtins]
    if any(layer.data is None for layer in by_kind["system"] + by_kind["user"]):
        order = []  # what Codex would use cannot be known until the file parses (reported already)
    _prerun_auth_commands(ctx, order, tables, base)
    for pid in order:
        _provider_checks(ctx, pid, tables.get(pid), base, builtins, active=pid == active)

    profile_models: dict[str, str] = {}
    for layer in by_kind["profile"]:
        if layer.data is None:
            continue
        _profile_layer_checks(ctx, layer, known, builtins, tables, provider)
        pm, pmodel = layer.data.get("model_provider"), layer.data.get("model")
        if isinstance(pm, str) and isinstance(pmodel, str):
            profile_models.setdefault(pm, pmodel)
    for layer in by_kind["project"]:
        if layer.data is not None:
            _project_checks(ctx, layer)
    _permission_checks(ctx, [layer for layer in layers if layer.data is not None])

    findings = ctx.findings
    if provider is not None:
        findings = [f for f in findings if f.provider in (None, provider)]
    return StaticResult(tuple(findings), active, model, tuple(order), tables, ctx.keys, profile_models)


def _codex_finding(ctx: _Ctx) -> None:
    info = ctx.info
    caps = info.capabilities
    supports = (
        f"profiles as {'files (-p NAME)' if caps.profile_form == 'file' else '[profiles.*] tables'}, "
        f"wire_api {'/'.join(caps.wire_apis)}, auth commands {'yes' if caps.auth_command else 'no'}"
    )
    if info.assumed:
        ctx.add(
            "codex.installed",
            "warn",
            f"{info.describe()}; checked as that version reads config ({supports})",
            fix="install Codex (npm install -g @openai/codex), or pass --codex PATH",
        )
    else:
        ctx.add("codex.installed", "ok", f"Codex {info.version_text} at {info.path} ({supports})")


def _location_checks(ctx: _Ctx, env: Mapping[str, str]) -> None:
    home = env.get("HOME")
    if not home:
        return
    wrong = Path(home) / ".config" / "codex" / "config.toml"
    try:
        if wrong.is_file() and wrong.resolve() != ctx.paths.config_file.resolve():
            ctx.add(
                "config.wrong-location",
                "warn",
                f"{wrong} exists, but Codex does not read ~/.config/codex; it reads {ctx.paths.config_file}",
                file=str(wrong),
                fix=f"move what you need from {wrong} into {ctx.paths.config_file}",
            )
    except OSError:
        pass


def _undefined_provider(ctx: _Ctx, layer: Layer, value: str, known: set[str], key: str, provider: str | None = None) -> None:
    close = difflib.get_close_matches(value, sorted(known), n=1)
    hint = f" (did you mean `{close[0]}`?)" if close else ""
    fix = f"codexprov use {close[0]}" if close and layer.kind == "user" else f"codexprov add custom --id {value} --base-url URL"
    if layer.kind == "profile":
        fix = (
            f"set model_provider in {layer.path.name} to a defined provider{hint}, or define [model_providers.{value}]"
        )
    ctx.add(
        "config.model-provider",
        "fail",
        f"{key} = \"{value}\" names no provider: neither a Codex built-in nor a [model_providers.{value}] table{hint}",
        provider=provider,
        file=str(layer.path),
        line=line_of(layer.text, (), key),
        fix=fix,
        key=key,
    )


def _legacy_profile_checks(ctx: _Ctx, layers: list[Layer], caps: Any, known: set[str]) -> None:
    for layer in layers:
        data = layer.data or {}
        tables = data.get("profiles") if isinstance(data.get("profiles"), dict) else {}
        default = data.get("profile")
        if caps.profile_form == "file":
            if default is not None:
                ctx.add(
                    "profile.legacy-default",
                    "fail",
                    f"`profile = {json.dumps(default)}` is a load error for Codex {_version(ctx)}: profiles are files now",
                    file=str(layer.path),
                    line=line_of(layer.text, (), "profile"),
                    fix="codexprov profile migrate",
                    key="profile",
                )
            if tables:
                ctx.add(
                    "profile.legacy-tables",
                    "warn",
                    f"[profiles.{', '.join(tables)}] are ignored by Codex {_version(ctx)} (profiles are NAME.config.toml files)",
                    file=str(layer.path),
                    line=line_of(layer.text, ("profiles", next(iter(tables)))),
                    fix="codexprov profile migrate",
                )
        else:
            if isinstance(default, str) and default not in tables:
                ctx.add(
                    "profile.undefined",
                    "fail",
                    f"`profile = \"{default}\"` names no [profiles.{default}] table",
                    file=str(layer.path),
                    line=line_of(layer.text, (), "profile"),
                    fix=f"codexprov profile add {default} --provider ID",
                    key="profile",
                )
        for name, table in tables.items():
            if caps.profile_form != "table" or not isinstance(table, dict):
                continue
            value = table.get("model_provider")
            if isinstance(value, str) and value not in known:
                close = difflib.get_close_matches(value, sorted(known), n=1)
                ctx.add(
                    "config.model-provider",
                    "fail",
                    f"[profiles.{name}] model_provider = \"{value}\" names no provider"
                    + (f" (did you mean `{close[0]}`?)" if close else ""),
                    file=str(layer.path),
                    line=line_of(layer.text, ("profiles", name), "model_provider"),
                    fix=f"set model_provider in [profiles.{name}] to a defined provider",
                    key="model_provider",
                )


def _version(ctx: _Ctx) -> str:
    from codexprov.codex.capabilities import format_version

    return format_version(ctx.info.capabilities.version)


def _where(pid: str, key: str | None, layers: list[Layer]) -> tuple[str | None, int | None, str | None]:
    """(file, line, layer kind) of the highest layer that writes this provider's `key` (or table)."""
    for layer in reversed(layers):
        table = layer.providers().get(pid)
        if isinstance(table, dict) and (key is None or key in table):
            return str(layer.path), line_of(layer.text, ("model_providers", pid), key), layer.kind
    return None, None, None


def _provider_checks(
    ctx: _Ctx, pid: str, table: dict[str, Any] | None, layers: list[Layer], builtins: set[str], *, active: bool
) -> None:
    caps = ctx.info.capabilities
    if table is None:
        _builtin_default_checks(ctx, pid)
        return
    where = lambda key=None: _where(pid, key, layers)  # noqa: E731 - a local shorthand
    fixable_file = lambda kind: kind in ("user",)  # noqa: E731 - only config.toml is fixed in place
    if pid in caps.reserved_ids:
        file, line, kind = where()
        ctx.add(
            "provider.reserved-id",
            "fail",
            f"[model_providers.{pid}] redefines a Codex built-in; Codex {_version(ctx)} refuses to load the config",
            provider=pid,
            file=file,
            line=line,
            fix=f"codexprov doctor --fix  (renames it to `{pid}-custom` and updates model_provider)",
            fixable=fixable_file(kind),
        )
        _table_shape_checks(ctx, pid, table, where, fixable_file, custom=True)
        _key_checks(ctx, pid, table, where)
        return
    allowed = caps.builtin_fields(pid)
    if allowed is not None:
        from codexprov.codex.rules import builtin_field_refusals

        bad = builtin_field_refusals(pid, table, caps)
        if bad:
            file, line, _ = where(bad[0].split(".")[0])
            ctx.add(
                "provider.builtin-fields",
                "fail",
                f"the built-in `{pid}` takes only {', '.join(allowed)}; {', '.join(bad)} is a load error for Codex {_version(ctx)}",
                provider=pid,
                file=file,
                line=line,
                fix=f"remove {', '.join(bad)} from [model_providers.{pid}], or give a custom provider another id",
                key=bad[0],
            )
        else:
            ctx.add("provider.table", "ok", f"built-in `{pid}` configured with fields it accepts", provider=pid)
        return
    if not str(table.get("name") or "").strip():
        file, line, _ = where()
        ctx.add(
            "provider.name",
            "fail",
            f"[model_providers.{pid}] has no `name`; Codex refuses it (provider name must not be empty)",
            provider=pid,
            file=file,
            line=line,
            fix=f'add name = "{pid}" to [model_providers.{pid}]',
            key="name",
        )
    _table_shape_checks(ctx, pid, table, where, fixable_file, custom=True)
    _key_checks(ctx, pid, table, where)


def _builtin_default_checks(ctx: _Ctx, pid: str) -> None:
    if pid == "openai":
        auth_json = ctx.paths.codex_home / "auth.json"
        if auth_json.is_file() or (ctx.env.get("OPENAI_API_KEY") or "").strip():
            ctx.add("key.source", "ok", "OpenAI: codex login / OPENAI_API_KEY found", provider=pid)
        else:
            ctx.add(
                "key.codex-login",
                "warn",
                f"the active provider is OpenAI, and there is no {auth_json} (codex login) nor OPENAI_API_KEY",
                provider=pid,
                fix="codex login  (or: codexprov use ID to pick another provider)",
            )
    elif pid in ("ollama", "lmstudio"):
        ctx.add("key.source", "ok", f"built-in `{pid}` (local server, no key)", provider=pid)
    else:
        ctx.add("key.source", "ok", f"built-in `{pid}` uses its cloud credentials (not checked here)", provider=pid)


def _table_shape_checks(ctx: _Ctx, pid: str, table: dict[str, Any], where, fixable_file, *, custom: bool) -> None:
    caps = ctx.info.capabilities
    wire = table.get("wire_api")
    if wire is not None and wire not in caps.wire_apis:
        file, line, kind = where("wire_api")
        ctx.add(
            "provider.wire-api",
            "fail",
            f"wire_api = {json.dumps(wire)}: Codex {_version(ctx)} accepts only {' / '.join(repr(w) for w in caps.wire_apis)}"
            + (" and refuses to load the config" if wire == "chat" or isinstance(wire, str) else ""),
            provider=pid,
            file=file,
            line=line,
            fix=f'codexprov doctor --fix  (sets wire_api = "responses" in [model_providers.{pid}])',
            fixable=fixable_file(kind),
            key="wire_api",
        )
    _unknown_key_checks(ctx, pid, table, where, fixable_file)
    auth = table.get("auth")
    if isinstance(auth, dict):
        conflicts = [k for k in ("env_key", "experimental_bearer_token") if k in table]
        if table.get("requires_openai_auth"):
            conflicts.append("requires_openai_auth")
        if conflicts:
            file, line, _ = where("auth")
            ctx.add(
                "provider.auth-conflict",
                "fail",
                f"[model_providers.{pid}.auth] cannot be combined with {', '.join(conflicts)}; Codex refuses the config",
                provider=pid,
                file=file,
                line=line,
                fix=f"remove {', '.join(conflicts)} from [model_providers.{pid}] (or remove the auth table)",
                key="auth",
            )
        if not ctx.info.capabilities.auth_command:
            file, line, _ = where("auth")
            ctx.add(
                "provider.auth-unsupported",
                "fail",
                f"Codex {_version(ctx)} has no provider auth commands: the key is never sent",
                provider=pid,
                file=file,
                line=line,
                fix="upgrade Codex to 0.118 or later, or use an env var: codexprov add … --key-mode env",
            )
    _base_url_checks(ctx, pid, table, where)


def _suggest(key: str) -> str | None:
    lowered = key.lower()
    if lowered in ALIASES:
        return ALIASES[lowered]
    close = difflib.get_close_matches(lowered.replace("-", "_"), sorted(NEWEST_PROVIDER_FIELDS), n=1, cutoff=0.75)
    return close[0] if close else None


def _has_key_source(table: dict[str, Any]) -> bool:
    if any(table.get(k) for k in _KEY_FIELDS) or table.get("requires_openai_auth"):
        return True
    for name in ("http_headers", "env_http_headers"):
        headers = table.get(name)
        if isinstance(headers, dict) and any(h.lower() in ("authorization", "api-key", "x-api-key") for h in headers):
            return True
    return False


def _unknown_key_checks(ctx: _Ctx, pid: str, table: dict[str, Any], where, fixable_file) -> None:
    from codexprov.keys import _looks_like_key
    from codexprov.redact import _is_secret_name

    unknown = [k for k in table if k not in ctx.info.capabilities.provider_fields]
    keyless = not _has_key_source(table)
    for key in unknown:
        target = _suggest(key)
        file, line, kind = where(key)
        value = table[key]
        key_intent = target in _KEY_FIELDS or _is_secret_name(key)
        literal = key_intent and _looks_like_key(value)
        if target == "env_key" and isinstance(value, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value) and not literal:
            advice = f'write env_key = "{value}" instead of {key}'
        elif literal:
            advice = f"codexprov key migrate {pid}  (moves the key into the keyring and wires it)"
        elif target is not None and target not in table:
            advice = f"rename `{key}` to `{target}`"
        elif key.lower() == "model":
            advice = "remove it: the model is chosen by the top-level `model` key (or a profile)"
        else:
            advice = f"remove `{key}` (codexprov doctor --fix drops it)"
        did_you_mean = f" (did you mean `{target}`?)" if target and target != key else ""
        fails = key_intent and keyless
        message = f"`{key}` is not a provider field; Codex ignores it{did_you_mean}"
        if fails:
            message += ": no key will be sent"
        droppable = not literal and (target is None or target in table or key.lower() == "model")
        ctx.add(
            "provider.unknown-key",
            "fail" if fails else "warn",
            message,
            provider=pid,
            file=file,
            line=line,
            fix=advice,
            fixable=fixable_file(kind) and (literal or droppable),
            key=key,
        )
    auth = table.get("auth")
    if isinstance(auth, dict):
        for key in auth:
            if key not in AUTH_FIELDS:
                close = difflib.get_close_matches(key, sorted(AUTH_FIELDS), n=1)
                file, line, _ = _where_auth(pid, key, where)
                ctx.add(
                    "provider.unknown-key",
                    "warn",
                    f"`auth.{key}` is not an auth field; Codex ignores it"
                    + (f" (did you mean `{close[0]}`?)" if close else ""),
                    provider=pid,
                    file=file,
                    line=line,
                    fix=f"rename it to `{close[0]}`" if close else f"remove `{key}` from [model_providers.{pid}.auth]",
                    key=f"auth.{key}",
                )


def _where_auth(pid: str, key: str, where) -> tuple[str | None, int | None, str | None]:
    file, line, kind = where("auth")
    if file is not None:
        try:
            text = Path(file).read_text(encoding="utf-8")
            line = line_of(text, ("model_providers", pid, "auth"), key) or line
        except OSError:
            pass
    return file, line, kind


def _base_url_checks(ctx: _Ctx, pid: str, table: dict[str, Any], where) -> None:
    url = table.get("base_url")
    if url is None:
        if not table.get("requires_openai_auth"):
            file, line, _ = where()
            ctx.add(
                "provider.base-url-missing",
                "warn",
                f"[model_providers.{pid}] has no base_url: Codex sends its requests to https://api.openai.com/v1",
                provider=pid,
                file=file,
                line=line,
                fix=f'add base_url = "https://…/v1" to [model_providers.{pid}]',
                key="base_url",
            )
        return
    file, line, _ = where("base_url")
    if not isinstance(url, str):
        return
    parts = urlsplit(url.strip())
    common = dict(provider=pid, file=file, line=line, key="base_url")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        ctx.add(
            "provider.base-url-scheme",
            "fail",
            f"base_url {url!r} is not an http(s) URL: Codex cannot reach it",
            fix=f'write the full URL, e.g. base_url = "https://{url.strip().lstrip("/")}"',
            **common,
        )
        return
    path = parts.path.rstrip("/")
    for suffix in ("/responses", "/chat/completions", "/completions"):
        if path.endswith(suffix):
            fixed = url.strip().rstrip("/")[: -len(suffix)]
            ctx.add(
                "provider.base-url-endpoint",
                "fail",
                f"base_url ends in {suffix}: Codex appends /responses itself (it would POST {path}/responses)",
                fix=f'base_url = "{fixed}"',
                **common,
            )
            return
    if parts.query:
        ctx.add(
            "provider.base-url-query",
            "fail",
            f"base_url has a query string ({parts.query}); Codex appends /responses after it",
            fix=f"move it into query_params = {{ … }} and set base_url = \"{url.split('?', 1)[0]}\"",
            **common,
        )
    host = (parts.hostname or "").lower()
    if host.endswith(".openai.azure.com") or host.endswith(".cognitiveservices.azure.com"):
        if not (path == "/openai" or path.startswith("/openai/")):
            ctx.add(
                "provider.azure-path",
                "fail",
                f"Azure base_url lacks the /openai path: requests would go to {parts.scheme}://{parts.netloc}{path}/responses",
                fix=f'base_url = "{parts.scheme}://{parts.netloc}/openai/v1"',
                **common,
            )
        elif path == "/openai":
            params = table.get("query_params") if isinstance(table.get("query_params"), dict) else {}
            if "api-version" not in params and "api-version" not in parts.query:
                ctx.add(
                    "provider.azure-api-version",
                    "fail",
                    "Azure base_url .../openai needs an api-version query parameter (Azure answers 404 without it)",
                    fix=f'add query_params = {{ api-version = "2025-04-01-preview" }} to [model_providers.{pid}] '
                    "(or use base_url …/openai/v1)",
                    **common,
                )


# ---------------------------------------------------------------------------- keys


def _key_checks(ctx: _Ctx, pid: str, table: dict[str, Any], where) -> None:
    from codexprov.credentials import is_token_auth
    from codexprov.keys import find_plaintext
    from codexprov.redact import mask

    plaintext = [p for p in find_plaintext(pid, table) if p.field.split(".", 1)[0] in NEWEST_PROVIDER_FIELDS]
    for found in plaintext:
        file, line, kind = where(found.field.split(".", 1)[0])
        ctx.add(
            "key.plaintext",
            "warn",
            f"a key is written in plain text in {found.field} ({found.masked})",
            provider=pid,
            file=file,
            line=line,
            fix=f"codexprov key migrate {pid}",
            fixable=kind == "user",
            key=found.field,
        )
    auth = table.get("auth")
    if isinstance(auth, dict) and auth.get("command"):
        if is_token_auth(auth, pid):
            _keyring_check(ctx, pid, auth, where)
        else:
            _command_check(ctx, pid, auth, where)
        return
    env_key = table.get("env_key")
    if isinstance(env_key, str) and env_key:
        value = (ctx.env.get(env_key) or "").strip()
        if not value:
            file, line, _ = where("env_key")
            state = "empty" if env_key in ctx.env else "not set"
            ctx.add(
                "key.env-missing",
                "fail",
                f"${env_key} is {state} in this environment: Codex stops with `Missing environment variable`",
                provider=pid,
                file=file,
                line=line,
                fix=f"export {env_key}=… where Codex starts (or keep it in the keyring: codexprov key set {pid} --wire)",
                key="env_key",
            )
        else:
            ctx.keys[pid] = ResolvedKey(pid, "env", value)
            ctx.add("key.source", "ok", f"key from ${env_key} ({mask(value)})", provider=pid)
        return
    token = table.get("experimental_bearer_token")
    if isinstance(token, str) and token.strip():
        ctx.keys[pid] = ResolvedKey(pid, "plaintext", token.strip())
        return
    if table.get("requires_openai_auth"):
        ctx.add("key.source", "ok", "key from codex login (requires_openai_auth)", provider=pid)
        return
    if any(f.check == "provider.unknown-key" and f.status == "fail" and f.provider == pid for f in ctx.findings):
        return
    if not plaintext and _has_key_source(table):
        ctx.add("key.source", "ok", "key from http headers", provider=pid)
    elif not plaintext:
        ctx.add("key.source", "ok", "no key configured: Codex sends no Authorization header", provider=pid)


def _keyring_check(ctx: _Ctx, pid: str, auth: dict[str, Any], where) -> None:
    from codexprov.redact import mask

    file, line, _ = where("auth")
    command = str(auth["command"])
    if _resolve_command(command, _auth_cwd(ctx, auth, file), ctx.env) is None:
        ctx.add(
            "key.auth-command",
            "fail",
            f"the auth command `{command}` (codexprov token {pid}) is not found: Codex cannot get the key",
            provider=pid,
            file=file,
            line=line,
            fix=f"codexprov key set {pid} --wire  (re-points it at this codexprov)",
            key="auth",
        )
        return
    store, problem = ctx.keystore()
    if store is None:
        ctx.add(
            "key.keyring-unavailable",
            "fail",
            f"the key comes from the OS keyring, which cannot be read here: {problem}",
            provider=pid,
            file=file,
            line=line,
            fix="start or unlock the keyring (see `codexprov key list`), or use an env var: codexprov add … --key-mode env",
        )
        return
    from codexprov.errors import KeyringUnavailableError

    try:
        value = store.get(pid)
    except KeyringUnavailableError as err:
        ctx.add("key.keyring-unavailable", "fail", err.message, provider=pid, file=file, line=line, fix=err.hint)
        return
    if value is None:
        ctx.add(
            "key.keyring-missing",
            "fail",
            f"Codex runs `codexprov token {pid}`, but the keyring has no key for {pid}",
            provider=pid,
            file=file,
            line=line,
            fix=f"codexprov key set {pid}",
        )
        return
    ctx.keys[pid] = ResolvedKey(pid, "keyring", value.strip())
    ctx.add("key.source", "ok", f"key from the OS keyring ({mask(value)})", provider=pid)


def _auth_cwd(ctx: _Ctx, auth: dict[str, Any], file: str | None) -> Path:
    """Codex resolves `cwd` (default ".") against the folder of the config file that sets it."""
    base = Path(file).parent if file else ctx.paths.codex_home
    cwd = auth.get("cwd")
    return (base / str(cwd)) if isinstance(cwd, str) and cwd else base


def _resolve_command(command: str, cwd: Path, env: Mapping[str, str]) -> str | None:
    if os.sep in command or (os.altsep and os.altsep in command):
        path = Path(command).expanduser()
        path = path if path.is_absolute() else cwd / path
        return str(path) if path.is_file() and os.access(path, os.X_OK) else None
    return shutil.which(command, path=env.get("PATH", os.defpath))


def _command_check(ctx: _Ctx, pid: str, auth: dict[str, Any], where) -> None:
    from codexprov.redact import mask, redact_text

    file, line, _ = where("auth")
    command = str(auth["command"])
    args = [str(a) for a in auth.get("args") or []]
    shown = " ".join([command, *args])
    cwd = _auth_cwd(ctx, auth, file)
    common = dict(provider=pid, file=file, line=line, key="auth")
    resolved = _resolve_command(command, cwd, ctx.env)
    if resolved is None:
        ctx.add(
            "key.auth-command",
            "fail",
            f"the auth command `{command}` is not found (PATH, or relative to {cwd}): Codex fails to start it",
            fix=f"install it or fix `command` in [model_providers.{pid}.auth] (or: codexprov key set {pid} --wire)",
            **common,
        )
        return
    job, timeout = _plan_command(ctx, pid, auth, file)  # type: ignore[misc]
    outcome = ctx.auth_outcomes.get(job) or run_auth_command(list(job[0]), cwd=cwd, env=dict(ctx.env), timeout=timeout)
    if outcome.error is not None:
        ctx.add(
            "key.auth-command",
            "fail",
            f"the auth command `{shown}` {redact_text(outcome.error)}: Codex gets no key",
            fix=f"run `{shown}` yourself and fix it (or: codexprov key set {pid} --wire)",
            **common,
        )
        return
    ctx.keys[pid] = ResolvedKey(pid, "command", outcome.token)
    ctx.add("key.source", "ok", f"key from the auth command `{shown}` ({mask(outcome.token)})", provider=pid)


def _plan_command(ctx: _Ctx, pid: str, auth: dict[str, Any], file: str | None):
    """((argv, cwd), timeout in seconds) for an auth command, or None when it cannot be found."""
    cwd = _auth_cwd(ctx, auth, file)
    resolved = _resolve_command(str(auth["command"]), cwd, ctx.env)
    if resolved is None:
        return None
    timeout_ms = auth.get("timeout_ms")
    timeout = (timeout_ms if isinstance(timeout_ms, int) and timeout_ms > 0 else DEFAULT_AUTH_TIMEOUT_MS) / 1000
    argv = (resolved, *(str(a) for a in auth.get("args") or []))
    return (argv, str(cwd)), timeout


@dataclass(frozen=True)
class CommandOutcome:
    token: str = field(repr=False, default="")
    error: str | None = None


def run_auth_command(argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float) -> CommandOutcome:
    """Run a provider auth command as Codex does: stdout trimmed is the token, any failure is none."""
    try:
        proc = subprocess.run(
            argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return CommandOutcome(error=f"did not finish within its timeout ({int(timeout * 1000)} ms)")
    except OSError as err:
        return CommandOutcome(error=f"failed to start ({err.strerror or err})")
    if proc.returncode != 0:
        first = next((ln.strip() for ln in (proc.stderr or "").splitlines() if ln.strip()), "")
        return CommandOutcome(error=f"exited with status {proc.returncode}" + (f" ({first[:200]})" if first else ""))
    token = (proc.stdout or "").strip()
    if not token:
        return CommandOutcome(error="printed nothing")
    return CommandOutcome(token=token)


# ---------------------------------------------------------------------------- other files


def _profile_layer_checks(
    ctx: _Ctx, layer: Layer, known: set[str], builtins: set[str], tables: dict[str, Any], only: str | None
) -> None:
    data = layer.data or {}
    own = layer.providers()
    value = data.get("model_provider")
    if isinstance(value, str) and value not in known | set(own) and only in (None, value):
        _undefined_provider(ctx, layer, value, known | set(own), "model_provider", provider=None)
    caps = ctx.info.capabilities
    if caps.profile_form == "table":
        ctx.add(
            "profile.file-ignored",
            "warn",
            f"Codex {_version(ctx)} reads [profiles.*] tables; {layer.path.name} is ignored",
            file=str(layer.path),
            fix="upgrade Codex to 0.134 or later (or write a [profiles.NAME] table)",
        )
    for pid, table in own.items():
        if not isinstance(table, dict) or only not in (None, pid):
            continue
        where = lambda key=None, p=pid: _where(p, key, [layer])  # noqa: E731
        not_fixable = lambda kind: False  # noqa: E731 - profile files are fixed by hand
        if pid in caps.reserved_ids:
            ctx.add(
                "provider.reserved-id",
                "fail",
                f"[model_providers.{pid}] in {layer.path.name} redefines a Codex built-in; `codex -p {layer.name}` refuses to load",
                provider=pid,
                file=str(layer.path),
                line=line_of(layer.text, ("model_providers", pid)),
                fix=f"rename it (e.g. `{pid}-custom`) in {layer.path.name}",
            )
        if caps.builtin_fields(pid) is None:
            _table_shape_checks(ctx, pid, table, where, not_fixable, custom=True)


def _project_checks(ctx: _Ctx, layer: Layer) -> None:
    data = layer.data or {}
    stripped = [k for k in ("model_provider", "model_providers", "openai_base_url", "profile") if k in data]
    if stripped:
        ctx.add(
            "config.project-ignored",
            "warn",
            f"{', '.join(stripped)} in a project config is ignored by Codex (providers come from the user config)",
            file=str(layer.path),
            line=line_of(layer.text, (), stripped[0]) or line_of(layer.text, (stripped[0],)),
            fix=f"move {', '.join(stripped)} to {ctx.paths.config_file} (codexprov add / use), and remove it here",
            key=stripped[0],
        )


def _permission_checks(ctx: _Ctx, layers: list[Layer]) -> None:
    from codexprov.keys import find_plaintext

    for layer in layers:
        if not any(find_plaintext(pid, t) for pid, t in layer.providers().items() if isinstance(t, dict)):
            continue
        try:
            mode = stat.S_IMODE(os.stat(layer.path).st_mode)
        except OSError:
            continue
        if mode & 0o044:
            ctx.add(
                "config.permissions",
                "warn",
                f"{layer.path} holds a plain-text key and is readable by {'others' if mode & 0o004 else 'its group'} (mode {mode:o})",
                file=str(layer.path),
                fix=f"chmod 600 {layer.path}  (better: codexprov key migrate)",
            )


def _prerun_auth_commands(ctx: _Ctx, order: list[str], tables: dict[str, Any], layers: list[Layer]) -> None:
    """Start every auth command at once: each may take up to its timeout, and they are independent."""
    from codexprov.credentials import is_token_auth

    jobs: dict[tuple[tuple[str, ...], str], float] = {}
    for pid in order:
        auth = (tables.get(pid) or {}).get("auth")
        if not isinstance(auth, dict) or not auth.get("command") or is_token_auth(auth, pid):
            continue
        planned = _plan_command(ctx, pid, auth, _where(pid, "auth", layers)[0])
        if planned is not None:
            jobs[planned[0]] = planned[1]
    if len(jobs) < 2:
        return
    with ThreadPoolExecutor(max_workers=min(8, len(jobs))) as pool:
        futures = {
            job: pool.submit(run_auth_command, list(job[0]), cwd=Path(job[1]), env=dict(ctx.env), timeout=timeout)
            for job, timeout in jobs.items()
        }
        for job, future in futures.items():
            ctx.auth_outcomes[job] = future.result()
