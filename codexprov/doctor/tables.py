"""Table-shape checks: is each provider table one the installed Codex loads, and does it mean what
its author meant? Every `@table_check` here runs, in this file's order, on each custom provider
table (config.toml and the system config; profile files with fixes left to the user).
`provider_checks` adds what depends on the id: reserved and partial built-ins, `name`.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from codexprov.codex.capabilities import NEWEST_PROVIDER_FIELDS
from codexprov.codex.rules import AUTH_FIELDS, builtin_field_refusals, table_refusals
from codexprov.codex.wire import base_url_problem, header_name_problem, header_value_problem
from codexprov.doctor.context import TABLE_CHECKS, CheckContext, ProviderTable, table_check
from codexprov.doctor.findings import FixKind
from codexprov.doctor.keysource import KEY_FIELDS, has_key_source, key_checks
from codexprov.doctor.locate import auth_field
from codexprov.keys import looks_like_key
from codexprov.keys.plaintext import KEY_HEADER_NAMES
from codexprov.redact import _is_secret_name

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
KEY_HEADERS = KEY_HEADER_NAMES  # keys.plaintext owns the list


def run_table_checks(ctx: CheckContext, provider: ProviderTable) -> None:
    for check in TABLE_CHECKS:
        check(ctx, provider)


def provider_checks(ctx: CheckContext, provider: ProviderTable) -> None:
    """Checks that depend on the id, then every table check, then the key source (base layers)."""

    pid, table = provider.id, provider.table
    caps = ctx.caps
    if pid in caps.reserved_ids:
        file, line, kind = provider.where()
        ctx.add(
            "provider.reserved-id",
            "fail",
            f"[model_providers.{pid}] redefines a Codex built-in; Codex {ctx.version} refuses to load the config",
            provider=pid,
            file=file,
            line=line,
            fix=f"codexprov doctor --fix  (renames it to `{pid}-custom` and updates model_provider)",
            fix_kind=provider.fix_kind(kind, FixKind.RENAME_RESERVED),
        )
        run_table_checks(ctx, provider)
        key_checks(ctx, provider)
        return
    allowed = caps.builtin_fields(pid)
    if allowed is not None:
        _builtin_fields_check(ctx, provider, allowed)
        return
    if not str(table.get("name") or "").strip():
        file, line, _ = provider.where()
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
    run_table_checks(ctx, provider)
    key_checks(ctx, provider)


def _builtin_fields_check(ctx: CheckContext, provider: ProviderTable, allowed: Any) -> None:
    pid, table = provider.id, provider.table
    bad = builtin_field_refusals(pid, table, ctx.caps)
    if bad:
        file, line, _ = provider.where(bad[0].split(".")[0])
        ctx.add(
            "provider.builtin-fields",
            "fail",
            f"the built-in `{pid}` takes only {', '.join(allowed)}; {', '.join(bad)} is a load error for Codex {ctx.version}",
            provider=pid,
            file=file,
            line=line,
            fix=f"remove {', '.join(bad)} from [model_providers.{pid}], or give a custom provider another id",
            key=bad[0],
        )
    else:
        ctx.add("provider.table", "ok", f"built-in `{pid}` configured with fields it accepts", provider=pid)


# ---------------------------------------------------------------------------- the table checks


@table_check
def wire_api(ctx: CheckContext, provider: ProviderTable) -> None:
    caps = ctx.caps
    wire = provider.table.get("wire_api")
    if wire is None or wire in caps.wire_apis:
        return
    file, line, kind = provider.where("wire_api")
    ctx.add(
        "provider.wire-api",
        "fail",
        f"wire_api = {json.dumps(wire)}: Codex {ctx.version} accepts only {' / '.join(repr(w) for w in caps.wire_apis)}"
        + (" and refuses to load the config" if wire == "chat" or isinstance(wire, str) else ""),
        provider=provider.id,
        file=file,
        line=line,
        fix=f'codexprov doctor --fix  (sets wire_api = "responses" in [model_providers.{provider.id}])',
        fix_kind=provider.fix_kind(kind, FixKind.SET_WIRE_API),
        key="wire_api",
    )


def suggest(key: str) -> str | None:
    """The provider field someone writing `key` most likely meant (None: no likely field)."""
    lowered = key.lower()
    if lowered in ALIASES:
        return ALIASES[lowered]
    import difflib

    close = difflib.get_close_matches(lowered.replace("-", "_"), sorted(NEWEST_PROVIDER_FIELDS), n=1, cutoff=0.75)
    return close[0] if close else None


@table_check
def unknown_keys(ctx: CheckContext, provider: ProviderTable) -> None:
    pid, table = provider.id, provider.table
    unknown = [k for k in table if k not in ctx.caps.provider_fields]
    keyless = not has_key_source(table)
    for key in unknown:
        target = suggest(key)
        file, line, kind = provider.where(key)
        value = table[key]
        key_intent = target in KEY_FIELDS or _is_secret_name(key)
        literal = key_intent and looks_like_key(value)
        if (
            target == "env_key"
            and isinstance(value, str)
            and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value)
            and not literal
        ):
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
        fix_kind = FixKind.MIGRATE_KEY if literal else (FixKind.DROP_FIELD if droppable else None)
        ctx.add(
            "provider.unknown-key",
            "fail" if fails else "warn",
            message,
            provider=pid,
            file=file,
            line=line,
            fix=advice,
            fix_kind=provider.fix_kind(kind, fix_kind) if fix_kind else None,
            key=key,
        )
    auth = table.get("auth")
    if isinstance(auth, dict):
        for key in auth:
            if key not in AUTH_FIELDS:
                import difflib

                close = difflib.get_close_matches(key, sorted(AUTH_FIELDS), n=1)
                file, line, _ = auth_field(pid, key, provider.where("auth"))
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


@table_check
def auth_conflict(ctx: CheckContext, provider: ProviderTable) -> None:
    pid, table = provider.id, provider.table
    if not isinstance(table.get("auth"), dict):
        return
    conflicts: list[str] = [k for k in ("env_key", "experimental_bearer_token") if k in table]
    if table.get("requires_openai_auth"):
        conflicts.append("requires_openai_auth")
    if conflicts:
        file, line, _ = provider.where("auth")
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


@table_check
def auth_unsupported(ctx: CheckContext, provider: ProviderTable) -> None:
    if not isinstance(provider.table.get("auth"), dict) or ctx.caps.auth_command:
        return
    file, line, _ = provider.where("auth")
    ctx.add(
        "provider.auth-unsupported",
        "fail",
        f"Codex {ctx.version} has no provider auth commands: the key is never sent",
        provider=provider.id,
        file=file,
        line=line,
        fix="upgrade Codex to 0.118 or later, or use an env var: codexprov add … --key-mode env",
    )


@table_check
def base_url(ctx: CheckContext, provider: ProviderTable) -> None:
    pid, table = provider.id, provider.table
    url = table.get("base_url")
    if url is None:
        if not table.get("requires_openai_auth"):
            file, line, _ = provider.where()
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
    file, line, _ = provider.where("base_url")
    if not isinstance(url, str):
        return
    parts = urlsplit(url.strip())
    common: dict[str, Any] = dict(provider=pid, file=file, line=line, key="base_url")
    problem = base_url_problem(url)
    if problem is not None:
        no_scheme = problem.startswith("it has no scheme")
        ctx.add(
            "provider.base-url-scheme",
            "fail",
            f"base_url {url!r} is not an http(s) URL ({problem}): Codex cannot reach it",
            fix=f'base_url = "https://{url.strip().lstrip("/")}"'
            if no_scheme
            else "set base_url to the server's http:// or https:// address",
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
            fix=f'move it into query_params = {{ … }} and set base_url = "{url.split("?", 1)[0]}"',
            **common,
        )
    host = (parts.hostname or "").lower()
    if host.endswith((".openai.azure.com", ".cognitiveservices.azure.com")):
        if not (path == "/openai" or path.startswith("/openai/")):
            ctx.add(
                "provider.azure-path",
                "fail",
                f"Azure base_url lacks the /openai path: requests would go to {parts.scheme}://{parts.netloc}{path}/responses",
                fix=f'base_url = "{parts.scheme}://{parts.netloc}/openai/v1"',
                **common,
            )
        elif path == "/openai":
            params = got if isinstance(got := table.get("query_params"), dict) else {}
            if "api-version" not in params and "api-version" not in parts.query:
                ctx.add(
                    "provider.azure-api-version",
                    "fail",
                    "Azure base_url .../openai needs an api-version query parameter (Azure answers 404 without it)",
                    fix=f'add query_params = {{ api-version = "2025-04-01-preview" }} to [model_providers.{pid}] '
                    "(or use base_url …/openai/v1)",
                    **common,
                )


@table_check
def http_headers(ctx: CheckContext, provider: ProviderTable) -> None:
    """Headers Codex cannot send are dropped silently (and the turn goes on without them)."""
    pid, table = provider.id, provider.table
    for field in ("http_headers", "env_http_headers"):
        headers = table.get(field)
        if not isinstance(headers, dict):
            continue
        for raw_name, value in headers.items():
            name = str(raw_name)
            problem = header_name_problem(name)
            if problem is None and field == "http_headers":
                problem = header_value_problem(str(value))
            elif problem is None and isinstance(value, str) and ctx.env.get(value):
                problem = header_value_problem(ctx.env[value])
                problem = problem and problem.replace("the value", f"${value}")
            if problem is None:
                continue
            file, line, _ = provider.where(field)
            carries_key = name.lower() in KEY_HEADERS
            ctx.add(
                "provider.http-header",
                "warn",
                f"{field} `{name}`: {problem}, so Codex drops this header silently and sends the rest"
                + (" (it carries the key: none is sent)" if carries_key else ""),
                provider=pid,
                file=file,
                line=line,
                fix=f"fix or remove `{name}` in {field} of [model_providers.{pid}]",
                key=field,
            )


@table_check
def capabilities_table(ctx: CheckContext, provider: ProviderTable) -> None:
    """[model_providers.ID.capabilities] keys and values this Codex does not take (codex.rules)."""
    if not isinstance(provider.table.get("capabilities"), dict) or "capabilities" not in ctx.caps.provider_fields:
        return
    for refusal in table_refusals(provider.id, provider.table, ctx.caps):
        field = refusal.field or ""
        if not field.startswith("capabilities."):
            continue
        file, line, _ = provider.where("capabilities")
        ctx.add(
            "provider.capabilities",
            "fail" if refusal.load_error else "warn",
            f"[model_providers.{provider.id}.capabilities]: {refusal.message} (Codex {ctx.version})",
            provider=provider.id,
            file=file,
            line=line,
            fix=f"remove `{field.split('.', 1)[1]}` from [model_providers.{provider.id}.capabilities]"
            if refusal.kind == "unknown-field"
            else 'set remote_compaction to "unsupported" or "v2"',
            key=field,
        )


# What Codex's own provider editor (0.169: TUI /config, app-server modelProvider/config/write)
# writes for a new custom provider, in the order it writes them.
_EDITOR_FIELDS = ("base_url", "env_key", "name", "wire_api")


@table_check
def editor_env_key(ctx: CheckContext, provider: ProviderTable) -> None:
    """A provider made by Codex's editor keeps its key in a plain environment variable; offer the keyring."""
    table = provider.table
    keys = list(table)
    env_key = table.get("env_key")
    if (
        not isinstance(env_key, str)
        or not env_key
        or "name" not in table
        or keys != sorted(keys)
        or not set(keys) <= set(_EDITOR_FIELDS)
    ):
        return
    file, line, _ = provider.where("env_key")
    ctx.add(
        "key.editor-env",
        "warn",
        f"`{provider.id}` looks made by Codex's provider editor: its key sits in the plain environment variable ${env_key}",
        provider=provider.id,
        file=file,
        line=line,
        fix=f"codexprov key set {provider.id} --wire  (stores the key in the OS keyring and points Codex at it; "
        f"with the key in ${env_key}: printenv {env_key} | codexprov key set {provider.id} --stdin --wire)",
        key="env_key",
    )
