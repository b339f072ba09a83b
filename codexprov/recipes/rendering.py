"""Rendering a recipe: a recipe plus the user's input into what `add` writes (a custom
`ProviderSpec`, or the few fields of a Codex built-in table), the preview `recipes show` prints,
and whether the installed Codex would take it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from codexprov.codex.builtins import BUILTIN_DISPLAY_NAMES
from codexprov.codex.capabilities import Capabilities
from codexprov.codex.capabilities import capabilities as capabilities_of
from codexprov.codex.rules import custom_id_refusal, table_refusals
from codexprov.errors import ConflictError, UsageError
from codexprov.model import ProviderSpec, check_provider_id
from codexprov.recipes.model import ENV_VAR, PLACEHOLDER, Preview, Recipe, Rendered, placeholder_names


def render(
    recipe: Recipe,
    *,
    provider_id: str,
    params: Mapping[str, str],
    base_url: str | None,
    model: str | None,
    name: str | None,
    env_key: str | None,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    capabilities: Capabilities | None = None,
) -> Rendered:
    """Turn a recipe and the user's input into what `add` writes, for the Codex whose
    `capabilities` are given (None: the newest known).

    A recipe for a Codex built-in configures the built-in (spec None, `builtin_id` set) when the
    provider id is the recipe's or the built-in's own id, no --base-url is given and that Codex has
    the built-in. Otherwise a custom provider (`spec`) is rendered, with wire_api "responses" and
    `env_key` set to the recipe's variable (or `env_key` when given); a custom table is never
    rendered under an id that Codex keeps for a built-in (ConflictError).

    Unknown param names, bad values and missing required params raise UsageError listing the valid
    params.
    """
    values = _resolve_params(recipe, params, base_url_given=base_url is not None)
    return _render(
        recipe,
        provider_id=provider_id,
        values=values,
        base_url=base_url,
        model=model,
        name=name,
        env_key=env_key,
        headers=dict(headers),
        query=dict(query),
        capabilities=capabilities or capabilities_of(None),
    )


def check_params(recipe: Recipe, params: Mapping[str, str]) -> None:
    """UsageError for a param the recipe does not take or a value it refuses (call before prompting)."""
    valid = ", ".join(p.name for p in recipe.params) or "none"
    for key, value in params.items():
        param = recipe.param(key)
        if param is None:
            raise UsageError(
                f"recipe {recipe.id!r} has no param {key!r}",
                hint=f"Valid params: {valid}. `codexprov recipes show {recipe.id}` describes them.",
            )
        reason = param.check(value)
        if reason:
            raise UsageError(
                f"--param {key}={value!r}: {reason}",
                hint=f"{key}: {param.description}" + (f" (e.g. {param.example})" if param.example else ""),
            )


def _resolve_params(recipe: Recipe, params: Mapping[str, str], *, base_url_given: bool) -> dict[str, str]:
    check_params(recipe, params)
    missing = recipe.missing_params(params, base_url_given)
    if missing:
        listing = "\n".join(f"  --param {p.name}=…  {p.description}" for p in missing)
        raise UsageError(
            f"recipe `{recipe.id}` needs: {', '.join(p.name for p in missing)}",
            detail=listing,
            hint="Pass each as --param NAME=VALUE"
            + (
                " (or --base-url to give the whole URL)"
                if any(p.name in recipe.url_only_params() for p in missing)
                else ""
            )
            + ", or run on a terminal to be asked.",
        )
    values = {p.name: p.default for p in recipe.params if p.default is not None}
    values.update(params)
    return values


def _render(
    recipe: Recipe,
    *,
    provider_id: str,
    values: Mapping[str, str],
    base_url: str | None,
    model: str | None,
    name: str | None,
    env_key: str | None,
    headers: dict[str, str],
    query: dict[str, str],
    capabilities: Capabilities,
    placeholders: bool = False,
) -> Rendered:

    check_provider_id(provider_id)
    warnings = list(responses_warnings(recipe, provider_id))
    chosen_model = model or recipe.default_model

    use_builtin = (
        recipe.builtin is not None
        and recipe.builtin in capabilities.restricted_ids()
        and base_url is None
        and provider_id in (recipe.id, recipe.builtin)
        # Codex 0.165 has the gcp built-in but not yet its project_id/location: a custom provider then.
        and set(recipe.builtin_fields) <= set(capabilities.builtin_top_fields(recipe.builtin) or ())
    )
    if use_builtin:
        assert recipe.builtin is not None
        table = _builtin_table(recipe, values, headers, capabilities, placeholders)
        refused = [flag for flag, given in (("--name", name), ("--env-key", env_key), ("--query", query)) if given]
        if refused:
            raise UsageError(
                f"{' and '.join(refused)} cannot be applied to Codex's built-in {recipe.builtin!r} provider",
                hint=f"Pass --id NAME to write a custom provider from the {recipe.id!r} recipe instead.",
            )
        return Rendered(None, recipe.builtin, table, chosen_model, tuple(warnings))

    refusal = custom_id_refusal(provider_id, capabilities)
    if refusal is not None:
        raise ConflictError(refusal.message, hint=f"Pick another id, e.g. --id {provider_id}-custom.")

    url = base_url or _fill(recipe.base_url, values, placeholders)
    if url is None:
        raise UsageError(
            f"the {recipe.id!r} recipe has no base URL of its own for a custom provider",
            hint="Pass --base-url URL.",
        )
    id_values = {"id": provider_id, "ID": re.sub(r"[^A-Za-z0-9]", "_", provider_id).upper()}
    query_params = {k: _fill(v, values, placeholders) or "" for k, v in recipe.query_params.items()}
    query_params.update(query)
    http_headers = {k: _fill(v, values, placeholders) or "" for k, v in recipe.http_headers.items()}
    http_headers.update(headers)

    auth = None
    key_var = env_key
    if key_var is None and recipe.needs_key:
        key_var = _fill(recipe.env_key, id_values, False)
    if key_var is None and recipe.auth_command is not None:
        auth = recipe.auth_command
    if key_var is not None and not ENV_VAR.fullmatch(key_var):
        raise UsageError(f"--env-key {key_var!r} is not an environment variable name")
    instructions = recipe.env_key_instructions if key_var is not None else None
    if recipe.builtin == "gcp" and recipe.auth_command is not None and auth is not None:
        warnings.append(
            "this Codex has no built-in `gcp` provider that takes a project (0.166 and newer have), so the key comes from "
            f"`{recipe.auth_command.command} {' '.join(recipe.auth_command.args)}`; "
            "Vertex's OpenAI-compatible endpoint is not verified to serve /v1/responses"
        )

    display = name or _fill(recipe.name, id_values, False) or provider_id
    if display in BUILTIN_DISPLAY_NAMES:
        # Codex 0.169.0 recognises its built-ins by display name (a custom "Amazon Bedrock" gets
        # SigV4 signing, "OpenAI" gets OpenAI-only behaviour), so a custom table must not reuse them.
        if name:
            raise UsageError(
                f"--name {name!r} is the display name of a Codex built-in; Codex would treat this provider as it",
                hint="Pick another --name.",
            )
        display = f"{display} (custom)"
    spec = ProviderSpec(
        id=provider_id,
        name=display,
        base_url=url,
        env_key=key_var,
        env_key_instructions=instructions,
        wire_api="responses",
        query_params=query_params,
        http_headers=http_headers,
        env_http_headers=dict(recipe.env_http_headers),
        auth=auth,
        extra=dict(recipe.extra),
    )
    return Rendered(spec, None, None, chosen_model, tuple(warnings))


def _builtin_table(
    recipe: Recipe,
    values: Mapping[str, str],
    headers: dict[str, str],
    capabilities: Capabilities,
    placeholders: bool = False,
) -> dict[str, Any]:
    """The built-in's table: each templated field whose params all have values (others left out)."""
    if placeholders:
        values = {p.name: f"<{p.name}>" for p in recipe.params} | dict(values)
    table: dict[str, Any] = {}
    for key, template in recipe.builtin_fields.items():
        if isinstance(template, dict):
            sub = {k: _fill_if_set(v, values) for k, v in template.items()}
            sub = {k: v for k, v in sub.items() if v is not None}
            if sub:
                table[key] = sub
        else:
            value = _fill_if_set(template, values)
            if value is not None:
                table[key] = value
    if headers:
        if "http_headers" not in (capabilities.builtin_top_fields(str(recipe.builtin)) or ()):
            raise UsageError(
                f"Codex does not accept headers for its built-in {recipe.builtin!r} provider",
                hint=f"Pass --id NAME to write a custom provider from the {recipe.id!r} recipe instead.",
            )
        merged = dict(table.get("http_headers", {}))
        merged.update(headers)
        table["http_headers"] = merged
    return table


def _fill(template: str | None, values: Mapping[str, str], placeholders: bool) -> str | None:
    if template is None:
        return None

    def sub(match: re.Match[str]) -> str:
        key = match.group(1)
        if key in values:
            return values[key]
        if placeholders:
            return f"<{key}>"
        # An optional param that the custom-provider URL needs (e.g. Bedrock's region).
        raise UsageError(
            f"a custom provider from this recipe needs --param {key}=…",
            hint="Pass it, or give the whole URL with --base-url.",
        )

    return PLACEHOLDER.sub(sub, template)


def _fill_if_set(template: str, values: Mapping[str, str]) -> str | None:
    if any(name not in values for name in placeholder_names(template)):
        return None
    return _fill(template, values, False)


def responses_warnings(recipe: Recipe, provider_id: str) -> list[str]:
    """What `add` says about a direct (not bridged) provider whose endpoint may lack /v1/responses."""
    if recipe.responses == "no" and recipe.bridge is not None:
        return [
            f"{recipe.name} does not serve /v1/responses ({recipe.verdict_basis}): Codex will "
            f"fail on the first turn. Drop --no-bridge to route it through codexprov's bridge "
            f"(`codexprov add {recipe.id} --id {provider_id} --replace`)."
        ]
    if recipe.responses == "no":
        return [
            f"{recipe.name} does not serve /v1/responses ({recipe.verdict_basis}): Codex will "
            f"fail on the first turn. Route it through codexprov's bridge: `codexprov add {recipe.id} --id {provider_id} --bridge --replace`."
        ]
    if recipe.responses == "unknown":
        return (
            [
                f"codexprov cannot know whether this endpoint serves /v1/responses (Codex needs it); "
                f"`codexprov doctor {provider_id}` checks it, and `--bridge` routes it through codexprov's bridge if not "
                f"(`codexprov add custom --id {provider_id} --base-url URL --bridge --replace`)."
            ]
            if recipe.id == "custom"
            else [
                f"it is not known whether {recipe.name} serves /v1/responses ({recipe.verdict_basis}); "
                f"if Codex fails with 404 on /responses, route it through codexprov's bridge "
                f"(`codexprov add {recipe.id} --id {provider_id} --bridge --replace`)."
            ]
        )
    return []


def preview(recipe: Recipe, *, capabilities: Capabilities | None = None) -> Preview:
    """What `recipes show` prints: the TOML `add RECIPE` would write, with `<param>` placeholders."""
    values = {p.name: p.default for p in recipe.params if p.default is not None}
    rendered = _render(
        recipe,
        provider_id=recipe.id,
        values=values,
        base_url=None,
        model=None,
        name=None,
        env_key=None,
        headers={},
        query={},
        capabilities=capabilities or capabilities_of(None),
        placeholders=True,
    )
    return Preview(toml_for(rendered), rendered)


def toml_for(rendered: Rendered) -> str:
    """The TOML text for a render: the root keys, then the provider table (if any)."""
    import tomlkit

    doc = tomlkit.document()
    if rendered.model:
        doc["model"] = rendered.model
    doc["model_provider"] = rendered.provider_id
    if rendered.spec is not None:
        table: dict[str, Any] = rendered.spec.to_table()
        provider_id = rendered.spec.id
    else:
        table = rendered.builtin_table or {}
        provider_id = str(rendered.builtin_id)
    if table:
        outer = tomlkit.table(is_super_table=True)
        inner = tomlkit.table()
        for key, value in table.items():
            if key in ("auth", "aws") and isinstance(value, dict):
                sub = tomlkit.table()
                sub.update(value)
                inner[key] = sub
            elif isinstance(value, dict):
                inline = tomlkit.inline_table()
                inline.update(value)
                inner[key] = inline
            else:
                inner[key] = value
        outer[provider_id] = inner
        doc["model_providers"] = outer
    return tomlkit.dumps(doc)


def check_against_codex(rendered: Rendered, capabilities: Capabilities | None = None) -> list[str]:
    """Why this Codex (default: the newest known) would refuse or misread this render; [] when it
    would take it (codex.rules)."""

    caps = capabilities or capabilities_of(None)
    if rendered.spec is not None:
        table = rendered.spec.to_table()
        return [r.message for r in table_refusals(rendered.spec.id, table, caps)]
    builtin_id = str(rendered.builtin_id)
    if builtin_id not in caps.restricted_ids():
        return [f"{builtin_id!r} is not a Codex built-in"]
    if not rendered.builtin_table:
        return []  # selecting a built-in without a table is always fine
    return [r.message for r in table_refusals(builtin_id, rendered.builtin_table or {}, caps)]


def fill_template(template: str, values: Mapping[str, str]) -> str:
    """A recipe template with its `{param}` placeholders filled (UsageError naming a missing one)."""
    return _fill(template, values, False) or ""
