"""Planning an add: render the recipe for the request, apply the key mode, and check what Codex
would get (a sendable table, a variable no other provider reads)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from codexprov import recipes as recipes_mod
from codexprov.adding.bridged import plan_bridged
from codexprov.adding.model import KEY_MODES, AddPlan, AddRequest, default_env_key
from codexprov.adding.plaintext import keep_keys_out_of_the_file
from codexprov.codex.wire import base_url_problem, header_name_problem, header_value_problem
from codexprov.config.document import load
from codexprov.errors import ConflictError, UsageError
from codexprov.model import AuthCommand, ProviderSpec
from codexprov.paths import Paths


def wants_bridge(recipe, request: AddRequest) -> bool:
    """--bridge / --no-bridge, else the recipe's default: bridged when its endpoint has no /v1/responses."""
    if request.bridge is not None:
        return request.bridge
    return recipe.responses == "no" and recipe.bridge is not None and recipe.builtin is None


def plan_add(
    recipe,
    request: AddRequest,
    *,
    token_auth: Callable[[str], AuthCommand] | None = None,
    capabilities=None,
    codex_label: str = "this Codex",
    bridge_url: Callable[[], str] | None = None,
) -> AddPlan:
    """Render the recipe for this request and apply the key mode. `token_auth` is the keyring
    auth command factory (credentials.token_auth), called only for key mode keyring.
    `capabilities` (codex.capabilities.Capabilities) says what the installed Codex reads (None: the
    newest known).
    `bridge_url` gives the bridge's base URL, asked only when the provider goes through the bridge."""
    provider_id = request.provider_id or recipe.id
    if request.key_mode is not None and request.key_mode not in KEY_MODES:
        raise UsageError(f"unknown key mode `{request.key_mode}`", hint=f"Use one of: {', '.join(KEY_MODES)}.")
    rendered = recipes_mod.render(
        recipe,
        provider_id=provider_id,
        params=request.params,
        base_url=request.base_url,
        model=request.model,
        # "Custom provider" for every custom endpoint would make `list` useless: name it by its id.
        name=request.name or (provider_id if recipe.id == "custom" else None),
        env_key=request.env_key,
        headers=request.headers,
        query=request.query,
        capabilities=capabilities,
    )
    warnings = list(rendered.warnings)
    if rendered.spec is None:
        if request.key_mode == "keyring":
            warnings.append(
                f"the built-in `{rendered.builtin_id}` provider gets its credentials from Codex itself; --key-mode keyring was ignored"
            )
        if request.bridge:
            raise UsageError(
                f"Codex's built-in `{rendered.builtin_id}` provider cannot go through the bridge",
                hint="Pass --id NAME to write a custom provider from this recipe, or leave out --bridge.",
            )
        return AddPlan(
            provider_id,
            recipe.id,
            None,
            rendered.builtin_id,
            rendered.builtin_table,
            rendered.model,
            "none",
            tuple(warnings),
            capabilities,
        )
    check_sendable(rendered.spec)  # the direct table, or the upstream a bridge will call
    if wants_bridge(recipe, request):
        return plan_bridged(recipe, request, rendered, provider_id, token_auth, capabilities, codex_label, bridge_url)
    needs_key = bool(getattr(recipe, "needs_key", True))
    key_mode = request.key_mode or getattr(recipe, "key_mode", None) or ("keyring" if needs_key else "none")
    spec = rendered.spec
    spec, moved_key, plaintext_warnings = keep_keys_out_of_the_file(spec, request, recipe.id, key_mode, provider_id)
    warnings += plaintext_warnings
    if key_mode == "keyring":
        if capabilities is not None and not capabilities.auth_command:
            raise UsageError(
                f"{codex_label} cannot fetch keys with an auth command (Codex 0.118.0 and newer can), so it cannot read the keyring",
                hint="Upgrade Codex, or pass --key-mode env to keep the key in an environment variable.",
            )
        if token_auth is None:
            raise ValueError("key mode keyring needs the token auth command")
        spec = dataclasses.replace(spec, env_key=None, env_key_instructions=None, auth=token_auth(provider_id))
    elif key_mode == "env":
        spec = dataclasses.replace(
            spec, env_key=request.env_key or spec.env_key or default_env_key(provider_id), auth=None
        )
    else:
        # No key from codexprov; a recipe's own auth command (vertex: gcloud) stays.
        spec = dataclasses.replace(spec, env_key=None, env_key_instructions=None)
    check_sendable(spec)
    return AddPlan.custom(
        provider_id, recipe.id, spec, rendered.model, key_mode, warnings, capabilities, moved_key=moved_key
    )


def check_sendable(spec: ProviderSpec) -> None:
    """Refuse a table Codex would quietly get wrong: a base URL it cannot reach (not http(s)), or a
    header it cannot send (Codex drops such a header silently and the request goes out without it)."""
    if spec.base_url is not None:
        problem = base_url_problem(spec.base_url)
        if problem is not None:
            raise UsageError(
                f"base URL {spec.base_url!r} is not an http(s) URL: {problem}",
                hint="Codex speaks only http:// and https://, e.g. --base-url https://api.example.com/v1",
            )
    for name, value in spec.http_headers.items():
        problem = header_name_problem(name) or header_value_problem(str(value))
        if problem is not None:
            raise UsageError(
                f"header `{name}` cannot be sent: {problem}",
                hint="Codex would drop it silently; pass --header NAME=VALUE with a token name and a one-line value.",
            )


def check_env_key_free(paths: Paths, plan: AddPlan, request: AddRequest) -> tuple[str, ...]:
    """Another provider reading the same variable would get this provider's key (and `env` would
    export one of them). A variable codexprov picked is refused; one the user named with --env-key
    is theirs to share, so it is only a warning."""
    if plan.key_mode != "env" or plan.spec is None or not plan.spec.env_key:
        return ()
    providers_table = load(paths.config_file).data.get("model_providers")
    if not isinstance(providers_table, dict):
        return ()
    env_key = plan.spec.env_key
    readers = sorted(
        pid
        for pid, table in providers_table.items()
        if pid != plan.provider_id and isinstance(table, dict) and table.get("env_key") == env_key
    )
    if not readers:
        return ()
    others = ", ".join(f"`{p}`" for p in readers)
    if request.env_key is None:
        raise ConflictError(
            f"${env_key} is already read by {others}; `{plan.provider_id}` would get the same key",
            hint=f"Pass --env-key with a variable of its own, e.g. --env-key {default_env_key(plan.provider_id)}"
            if default_env_key(plan.provider_id) != env_key
            else "Pass --env-key with a variable of its own.",
        )
    return (f"${env_key} is also read by {others}: both providers get the same key",)
