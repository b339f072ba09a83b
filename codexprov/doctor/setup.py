"""Checks about the setup as a whole: which Codex reads it, where its files are, what
`model_provider` and the profiles name, project and profile files, file permissions.
Each `@setup_check` runs once, in this file's order, before or after the per-provider checks.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from codexprov import recipe_files
from codexprov.codex.builtins import BUILTIN_PROVIDERS
from codexprov.doctor.context import CheckContext, ProviderTable, Setup, setup_check
from codexprov.doctor.findings import FixKind
from codexprov.doctor.layers import Layer
from codexprov.doctor.locate import line_of
from codexprov.doctor.tables import run_table_checks
from codexprov.keys import find_plaintext


@setup_check("before-providers")
def codex_installed(ctx: CheckContext, setup: Setup) -> None:
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


@setup_check("before-providers")
def wrong_location(ctx: CheckContext, setup: Setup) -> None:
    home = ctx.env.get("HOME")
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


@setup_check("before-providers")
def model_provider_defined(ctx: CheckContext, setup: Setup) -> None:
    """The highest base layer's `model_provider` names a provider."""
    for layer in reversed(setup.base):
        value = (layer.data or {}).get("model_provider")
        if isinstance(value, str):
            if value not in setup.known:
                undefined_provider(ctx, layer, value, setup.known, "model_provider")
            break


def undefined_provider(
    ctx: CheckContext, layer: Layer, value: str, known: set[str], key: str, provider: str | None = None
) -> None:
    import difflib

    close = difflib.get_close_matches(value, sorted(known), n=1)
    hint = f" (did you mean `{close[0]}`?)" if close else ""
    fix = (
        f"codexprov use {close[0]}"
        if close and layer.kind == "user"
        else f"codexprov add custom --id {value} --base-url URL"
    )
    if layer.kind == "profile":
        fix = (
            f"set model_provider in {layer.path.name} to a defined provider{hint}, or define [model_providers.{value}]"
        )
    ctx.add(
        "config.model-provider",
        "fail",
        f'{key} = "{value}" names no provider: neither a Codex built-in nor a [model_providers.{value}] table{hint}',
        provider=provider,
        file=str(layer.path),
        line=line_of(layer.text, (), key),
        fix=fix,
        key=key,
    )


@setup_check("before-providers")
def legacy_profiles(ctx: CheckContext, setup: Setup) -> None:
    """`profile = …` and [profiles.*] in config.toml, as the installed Codex reads them."""
    caps, known = ctx.caps, setup.known
    for layer in setup.by_kind["user"] + setup.by_kind["system"]:
        data = layer.data or {}
        tables = got if isinstance(got := data.get("profiles"), dict) else {}
        default = data.get("profile")
        if caps.profile_form == "file":
            if default is not None:
                ctx.add(
                    "profile.legacy-default",
                    "fail",
                    f"`profile = {json.dumps(default)}` is a load error for Codex {ctx.version}: profiles are files now",
                    file=str(layer.path),
                    line=line_of(layer.text, (), "profile"),
                    fix="codexprov profile migrate",
                    key="profile",
                )
            if tables:
                ctx.add(
                    "profile.legacy-tables",
                    "warn",
                    f"[profiles.{', '.join(tables)}] are ignored by Codex {ctx.version} (profiles are NAME.config.toml files)",
                    file=str(layer.path),
                    line=line_of(layer.text, ("profiles", next(iter(tables)))),
                    fix="codexprov profile migrate",
                )
        elif isinstance(default, str) and default not in tables:
            ctx.add(
                "profile.undefined",
                "fail",
                f'`profile = "{default}"` names no [profiles.{default}] table',
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
                import difflib

                close = difflib.get_close_matches(value, sorted(known), n=1)
                ctx.add(
                    "config.model-provider",
                    "fail",
                    f'[profiles.{name}] model_provider = "{value}" names no provider'
                    + (f" (did you mean `{close[0]}`?)" if close else ""),
                    file=str(layer.path),
                    line=line_of(layer.text, ("profiles", name), "model_provider"),
                    fix=f"set model_provider in [profiles.{name}] to a defined provider",
                    key="model_provider",
                )


@setup_check("after-providers")
def shared_env_key(ctx: CheckContext, setup: Setup) -> None:
    """Two providers reading one env var get one key: `env` exports it once, `run` gives both the same."""
    readers: dict[str, list[str]] = {}
    for pid, table in setup.tables.items():
        env_key = table.get("env_key")
        auth = table.get("auth")
        if isinstance(env_key, str) and env_key and not (isinstance(auth, dict) and auth.get("command")):
            readers.setdefault(env_key, []).append(pid)
    for env_key, pids in readers.items():
        if len(pids) < 2:
            continue
        for pid in pids:
            if setup.only not in (None, pid):
                continue
            from codexprov.adding.model import default_env_key

            others = ", ".join(f"`{p}`" for p in pids if p != pid)
            file, line, _ = ProviderTable(pid, setup.tables[pid], setup.base).where("env_key")
            ctx.add(
                "provider.env-key-shared",
                "warn",
                f"${env_key} is also read by {others}: both get the same key (if they need different keys, one gets the other's)",
                provider=pid,
                file=file,
                line=line,
                fix=f'give each its own variable, e.g. env_key = "{default_env_key(pid)}" in [model_providers.{pid}]',
                key="env_key",
            )


@setup_check("after-providers")
def profile_files(ctx: CheckContext, setup: Setup) -> None:
    """Each NAME.config.toml: what it names, whether this Codex reads it, the tables it defines."""
    caps, only = ctx.caps, setup.only
    for layer in setup.by_kind["profile"]:
        if layer.data is None:
            continue
        own = layer.providers()
        value = layer.data.get("model_provider")
        if isinstance(value, str) and value not in setup.known | set(own) and only in (None, value):
            undefined_provider(ctx, layer, value, setup.known | set(own), "model_provider", provider=None)
        if caps.profile_form == "table":
            ctx.add(
                "profile.file-ignored",
                "warn",
                f"Codex {ctx.version} reads [profiles.*] tables; {layer.path.name} is ignored",
                file=str(layer.path),
                fix="upgrade Codex to 0.134 or later (or write a [profiles.NAME] table)",
            )
        for pid, table in own.items():
            if not isinstance(table, dict) or only not in (None, pid):
                continue
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
                run_table_checks(ctx, ProviderTable(pid, table, (layer,), editable=False))


@setup_check("after-providers")
def project_ignored(ctx: CheckContext, setup: Setup) -> None:
    """Provider settings in a project's .codex/config.toml, which Codex strips."""
    for layer in setup.by_kind["project"]:
        data = layer.data
        if data is None:
            continue
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


@setup_check("after-providers")
def permissions(ctx: CheckContext, setup: Setup) -> None:
    """A file holding a plain-text key that others can read."""
    for layer in setup.layers:
        if layer.data is None:
            continue
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


@setup_check("after-providers")
def gateway_request_shape(ctx: CheckContext, setup: Setup) -> None:
    """The active provider is a gateway (by its recipe's URL) that refuses parts of Codex's requests
    (codex.gateway), and the settings that take them out are missing."""
    table = setup.tables.get(setup.active)
    url = table.get("base_url") if isinstance(table, dict) else None
    if not isinstance(url, str) or not recipe_files.may_match(ctx.paths, url, "rejects"):
        return
    from codexprov.recipes import load_catalog

    recipe = next((r for r in load_catalog(ctx.paths).recipes if r.rejects and r.matches_url(url)), None)
    if recipe is None:
        return
    from codexprov.codex import gateway

    effective: dict = {}
    for layer in setup.base:
        effective |= layer.data or {}
    fix = gateway.gateway_fix(recipe.rejects, ctx.caps, ctx.paths.codex_home)
    absent = gateway.missing(fix, effective, recipe.rejects)
    if not absent:
        return
    ctx.add(
        "provider.gateway-requests",
        "warn",
        f"`{setup.active}` is a {recipe.name} endpoint, which refuses parts of the requests Codex {ctx.version} sends "
        f"({', '.join(s.why for s in absent)})",
        provider=setup.active,
        fix="codexprov doctor --fix  (sets "
        + "; ".join(s.text for s in absent)
        + " in config.toml"
        + (", and writes the model catalog file" if any(s.path == ("model_catalog_json",) for s in absent) else "")
        + ")",
        fix_kind=FixKind.GATEWAY_SETTINGS,
        refused=tuple(recipe.rejects),
    )


@setup_check("after-providers")
def builtin_display_name(ctx: CheckContext, setup: Setup) -> None:
    """A custom provider whose name the installed Codex takes for one of its built-ins (asked from
    the binary, once for every name: codex.names), so Codex signs or authenticates it as that one."""
    from codexprov.codex import names

    custom: dict[str, str] = {
        pid: table["name"]
        for pid, table in setup.tables.items()
        if pid not in ctx.caps.builtin_ids() and isinstance(table, dict) and isinstance(table.get("name"), str)
    }
    if not custom:
        return
    binary = None if ctx.info.assumed else ctx.info.path
    taken = names.builtin_display_names(ctx.paths, custom.values(), binary=binary, caps=ctx.caps)
    for pid, name in custom.items():
        if name not in taken:
            continue
        provider = ProviderTable(pid, setup.tables[pid], setup.base)
        file, line, kind = provider.where("name")
        new = names.custom_name(name)
        # Taken for OpenAI, a turn still goes out with the provider's own key (0.171); taken for
        # Bedrock or Vertex, Codex signs it with AWS or Google credentials and the turn fails.
        openai = name == BUILTIN_PROVIDERS["openai"].name
        ctx.add(
            "provider.builtin-name",
            "warn" if openai else "fail",
            f"[model_providers.{pid}] is named {name!r}, which Codex {ctx.version} takes for its built-in provider"
            + ("" if openai else ": it authenticates the provider as that one, not with its own key"),
            provider=pid,
            file=file,
            line=line,
            fix=f"codexprov doctor --fix  (sets name = {json.dumps(new)} in [model_providers.{pid}])",
            fix_kind=provider.fix_kind(kind, FixKind.RENAME_DISPLAY),
            key="name",
        )


@setup_check("before-providers")
def newer_tables(ctx: CheckContext, setup: Setup) -> None:
    """A top-level table this Codex does not know yet (capabilities: `[responses]`, `[code_mode]`,
    `[rollout_trace]` arrived in 0.171): ignored, and a load error under `--strict-config`."""
    from codexprov.codex.capabilities import first_release_with

    for layer in setup.base:
        for table in sorted(ctx.caps.top_level_tables_unknown):
            if table not in (layer.data or {}):
                continue
            ctx.add(
                "config.newer-table",
                "warn",
                f"[{table}] is read from Codex {first_release_with(table)} on; Codex {ctx.version} ignores it "
                "(and `codex --strict-config` refuses the file)",
                file=str(layer.path),
                line=line_of(layer.text or "", (table,)) or line_of(layer.text or "", (), table),
                fix=f"upgrade Codex, or remove [{table}] from {layer.path}",
                key=table,
            )
