"""An add through codexprov's bridge: Codex talks to the bridge, the bridge to the upstream."""

from __future__ import annotations

import dataclasses

from codexprov import recipes as recipes_mod
from codexprov.adding.model import AddPlan, default_env_key
from codexprov.bridge import install, manage
from codexprov.bridge.layout import ROUTE_HEADER, Upstream
from codexprov.errors import UsageError
from codexprov.model import ProviderSpec
from codexprov.result import Note, info, next_step

BRIDGE_AUTH_TIMEOUT_MS = 60_000  # the bridge may have to start (~10 s, more on a busy machine)


def plan_bridged(recipe, request, rendered, provider_id, token_auth, capabilities, codex_label, bridge_url) -> AddPlan:
    """A provider behind the bridge: Codex talks to the bridge (master key from `codexprov token`),
    the bridge to the upstream (the upstream key from the keyring, in the bridge's environment)."""
    key_mode = request.key_mode or ("keyring" if recipe.needs_key else "none")
    if key_mode == "env":
        raise UsageError(
            "a provider behind the bridge gets its key from the keyring (the bridge reads it there), not from an environment variable",
            hint="Leave out --key-mode env (or pass --key-mode none for an endpoint without a key), or pass --no-bridge.",
        )
    if request.headers or request.query:
        raise UsageError(
            "--header and --query are not passed through the bridge yet",
            hint="Pass --no-bridge to send them to an endpoint that serves /v1/responses itself.",
        )
    if capabilities is not None and not capabilities.auth_command:
        raise UsageError(
            f"{codex_label} cannot run an auth command (Codex 0.118.0 and newer can), which is how it gets the bridge's key",
            hint="Upgrade Codex, or pass --no-bridge.",
        )
    if token_auth is None or bridge_url is None:
        raise ValueError("a bridged provider needs the token auth command and the bridge URL")
    route = recipe.bridge or recipes_mod.GENERIC_BRIDGE
    direct = rendered.spec
    assert direct is not None  # built-ins were turned away above
    if request.base_url is not None:
        api_base = request.base_url
    elif route.api_base is not None:
        values = {p.name: p.default for p in recipe.params if p.default is not None} | dict(request.params)
        api_base = recipes_mod.fill_template(route.api_base, values)
    elif route.litellm_prefix == recipes_mod.GENERIC_BRIDGE.litellm_prefix:
        api_base = direct.base_url
    else:
        api_base = None  # LiteLLM knows the provider's own URL
    key_var = None
    if key_mode == "keyring":
        key_var = request.env_key or route.env_key or recipe.env_key or default_env_key(provider_id)
        if "{" in key_var:
            key_var = default_env_key(provider_id)
    upstream = Upstream(provider_id, route.litellm_prefix, api_base, key_var)
    auth = dataclasses.replace(token_auth(provider_id), timeout_ms=BRIDGE_AUTH_TIMEOUT_MS)
    spec = ProviderSpec(
        id=provider_id,
        name=direct.name,
        base_url=bridge_url(),
        wire_api="responses",
        http_headers={ROUTE_HEADER: provider_id},
        auth=auth,
    )
    # The direct config's "Codex will fail" warnings do not apply; say where the turns go instead.
    dropped = set(recipes_mod.responses_warnings(recipe, provider_id))
    warnings = [w for w in rendered.warnings if w not in dropped]
    return AddPlan.custom(
        provider_id, recipe.id, spec, rendered.model, key_mode, warnings, capabilities, bridge=upstream
    )


def bridge_note(plan: AddPlan, recipe) -> str:
    """What `add` says about a bridged provider (`plan.bridge` is set)."""
    bridge = plan.bridge
    assert bridge is not None
    why = f"{recipe.name} does not serve /v1/responses, so " if recipe.responses == "no" else ""
    target = bridge.api_base or f"LiteLLM's {bridge.litellm_prefix} endpoint"
    url = plan.spec.base_url if plan.spec is not None else None
    flag = "; `--no-bridge` writes the direct config instead" if recipe.responses == "no" else ""
    return (
        f"{why}Codex reaches {plan.provider_id} through codexprov's bridge (LiteLLM on {url}, "
        f"to {target} as {bridge.litellm_prefix}/MODEL){flag}"
    )


def bridge_after(layout, store) -> list[Note]:
    if install.installed_version(layout) is None:
        return [
            next_step("next: install the bridge's LiteLLM with `codexprov bridge install` (a virtualenv of its own)")
        ]
    if manage.reload_if_running(layout, store):
        return [info("the bridge was restarted to serve it")]
    return [info("the bridge starts by itself when Codex next starts (or now: `codexprov bridge up`)")]
