"""`codexprov add RECIPE`: from a recipe, options and a key mode to the provider table written."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from codexprov import providers
from codexprov.config.transaction import EditResult
from codexprov.codex.builtins import BUILTIN_PROVIDERS
from codexprov.errors import UsageError
from codexprov.model import AuthCommand, ProviderSpec
from codexprov.paths import Paths

KEY_MODES = ("keyring", "env", "none")


@dataclass(frozen=True)
class AddRequest:
    recipe: str
    provider_id: str | None = None
    base_url: str | None = None
    name: str | None = None
    model: str | None = None
    key_mode: str | None = None  # None: keyring when the recipe needs a key, else none
    env_key: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AddPlan:
    provider_id: str
    recipe_id: str
    spec: ProviderSpec | None  # a custom provider table; None when configuring a built-in
    builtin_id: str | None
    builtin_table: dict[str, Any] | None
    model: str | None
    key_mode: str
    warnings: tuple[str, ...]
    capabilities: Any = None  # codex.capabilities.Capabilities of the Codex planned for; None: the newest known


def parse_pairs(values: list[str] | None, option: str) -> dict[str, str]:
    """`K=V` options (--header, --query, --param) into a dict; a malformed one is a usage error."""
    pairs: dict[str, str] = {}
    for value in values or []:
        key, sep, val = value.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{option} expects KEY=VALUE, got `{value}`", hint=f"Example: {option} api-version=2025-04-01-preview")
        pairs[key.strip()] = val
    return pairs


def default_env_key(provider_id: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", provider_id.upper()).strip("_") + "_API_KEY"


def plan_add(
    recipe,
    request: AddRequest,
    *,
    token_auth: Callable[[str], AuthCommand] | None = None,
    capabilities=None,
    codex_label: str = "this Codex",
) -> AddPlan:
    """Render the recipe for this request and apply the key mode. `token_auth` is the keyring
    auth command factory (credentials.token_auth), called only for key mode keyring.
    `capabilities` (codex.capabilities.Capabilities) says what the installed Codex reads (None: the
    newest known)."""
    from codexprov import recipes as recipes_mod

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
            warnings.append(f"the built-in `{rendered.builtin_id}` provider gets its credentials from Codex itself; --key-mode keyring was ignored")
        return AddPlan(provider_id, recipe.id, None, rendered.builtin_id, rendered.builtin_table, rendered.model, "none", tuple(warnings), capabilities)
    needs_key = bool(getattr(recipe, "needs_key", True))
    key_mode = request.key_mode or ("keyring" if needs_key else "none")
    spec = rendered.spec
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
        spec = dataclasses.replace(spec, env_key=request.env_key or spec.env_key or default_env_key(provider_id), auth=None)
    else:
        # No key from codexprov; a recipe's own auth command (vertex: gcloud) stays.
        spec = dataclasses.replace(spec, env_key=None, env_key_instructions=None)
    return AddPlan(provider_id, recipe.id, spec, None, None, rendered.model, key_mode, tuple(warnings), capabilities)


def apply_add(paths: Paths, plan: AddPlan, *, use: bool, replace: bool, dry_run: bool) -> EditResult:
    if plan.spec is None:
        assert plan.builtin_id in BUILTIN_PROVIDERS
        return providers.configure_builtin(
            paths, plan.builtin_id, plan.builtin_table, use=use, model=plan.model, dry_run=dry_run, capabilities=plan.capabilities
        )
    return providers.add_provider(
        paths, plan.spec, use=use, model=plan.model, replace=replace, dry_run=dry_run, capabilities=plan.capabilities
    )
