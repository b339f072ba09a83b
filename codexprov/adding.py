"""`codexprov add RECIPE`: from a recipe, options and a key mode to the provider table written."""

from __future__ import annotations

import dataclasses
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codexprov import providers
from codexprov.codex.builtins import BUILTIN_PROVIDERS
from codexprov.codex.gateway import GatewayFix
from codexprov.config.transaction import EditResult
from codexprov.errors import UsageError
from codexprov.model import AuthCommand, ProviderSpec
from codexprov.paths import Paths
from codexprov.result import Note, Outcome, info, next_step, warning

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
    use: bool = False
    replace: bool = False
    dry_run: bool = False
    bridge: bool | None = None  # None: through the bridge when the recipe's endpoint lacks /v1/responses
    allow_plaintext: bool = False  # write keys given in headers, query or URL as they are (warned)


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
    bridge: Any = None  # a bridge.layout.Upstream when the provider goes through the bridge
    # A key given in a header that now goes into the keyring instead of the file (keyring mode).
    moved_key: str | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class PreparedAdd:
    """Everything `add` will do, checked and previewed, before any key is read or file written."""

    request: AddRequest
    plan: AddPlan
    preview: EditResult  # the dry run of the config edit (its diff is what the user confirms)
    kept: tuple[str, ...]  # the user's own fields a replace leaves in the table
    recipe: Any = None
    # The settings that let the recipe's gateway take Codex's requests (written with --use), and the
    # model catalog file text they point at (written before the config).
    gateway: GatewayFix | None = None
    catalog_text: str | None = None
    gateway_notes: tuple[Note, ...] = ()

    @property
    def kept_note(self) -> Note | None:
        if not self.kept:
            return None
        return info(f"kept fields of yours the recipe does not set: {', '.join(self.kept)}")

    @property
    def needs_key(self) -> bool:
        """Whether the key should be asked for (keyring mode; nothing is stored on a dry run)."""
        return self.plan.key_mode == "keyring" and not self.request.dry_run

    @property
    def needs_store(self) -> bool:
        """Whether commit_add needs the keyring: for a key, or for the bridge's master key."""
        return self.needs_key or (self.plan.bridge is not None and not self.request.dry_run)


def parse_pairs(values: list[str] | None, option: str) -> dict[str, str]:
    """`K=V` options (--header, --query, --param) into a dict; a malformed one is a usage error."""
    pairs: dict[str, str] = {}
    for value in values or []:
        key, sep, val = value.partition("=")
        if not sep or not key.strip():
            raise UsageError(
                f"{option} expects KEY=VALUE, got `{value}`", hint=f"Example: {option} api-version=2025-04-01-preview"
            )
        pairs[key.strip()] = val
    return pairs


def default_env_key(provider_id: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", provider_id.upper()).strip("_") + "_API_KEY"


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
        return _plan_bridged(recipe, request, rendered, provider_id, token_auth, capabilities, codex_label, bridge_url)
    needs_key = bool(getattr(recipe, "needs_key", True))
    key_mode = request.key_mode or ("keyring" if needs_key else "none")
    spec = rendered.spec
    spec, moved_key, plaintext_warnings = _keep_keys_out_of_the_file(spec, request, recipe.id, key_mode, provider_id)
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
    return AddPlan(
        provider_id,
        recipe.id,
        spec,
        None,
        None,
        rendered.model,
        key_mode,
        tuple(warnings),
        capabilities,
        moved_key=moved_key,
    )


# Headers whose key Codex can send from the keyring (auth command: `Authorization: Bearer …`; Azure
# and most gateways that take `api-key`/`x-api-key` accept the Bearer form too, as key migrate says).
_BEARER_HEADERS = ("authorization",)
_KEY_HEADERS = ("api-key", "x-api-key")


def plaintext_secrets(spec: ProviderSpec) -> list[tuple[str, str]]:
    """(where, secret) for every key a provider table would hold in plain text: secret-named
    headers and query parameters, URL userinfo and secret query parameters in the base URL."""
    from urllib.parse import parse_qsl, urlsplit

    from codexprov.redact import is_secret_name

    found: list[tuple[str, str]] = []
    for name, value in spec.http_headers.items():
        scheme, _, rest = str(value).strip().partition(" ")
        secret = rest.strip() if rest and scheme.lower() in ("bearer", "basic", "token") else str(value).strip()
        if is_secret_name(name) and secret and not re.fullmatch(r"[A-Z_][A-Z0-9_]*|\$.*|\{.*\}", secret):
            found.append((f"http_headers.{name}", secret))
    for name, value in spec.query_params.items():
        if is_secret_name(name) and str(value).strip():
            found.append((f"query_params.{name}", str(value).strip()))
    if spec.base_url:
        parts = urlsplit(spec.base_url)
        if parts.password or (parts.username and "@" in parts.netloc):
            found.append(("base_url (user:password@)", parts.password or parts.username or ""))
        for name, value in parse_qsl(parts.query, keep_blank_values=False):
            if is_secret_name(name):
                found.append((f"base_url ?{name}=", value))
    return found


def _keep_keys_out_of_the_file(
    spec: ProviderSpec, request: AddRequest, recipe_id: str, key_mode: str, provider_id: str
) -> tuple[ProviderSpec, str | None, list[str]]:
    """No new plain-text key in config.toml: a key header in keyring mode moves into the keyring
    (Codex sends it as `Authorization: Bearer` through `codexprov token`); any other key is refused
    with the way to do it right, unless --allow-plaintext (then written, with a warning)."""
    found = plaintext_secrets(spec)
    if not found:
        return spec, None, []
    where = ", ".join(w for w, _s in found)
    if request.allow_plaintext:
        return (
            spec,
            None,
            [
                f"--allow-plaintext: writing a key in plain text into the config ({where}); anyone who can read the "
                "file or its backups can use it. `codexprov key migrate` moves header keys into the keyring later."
            ],
        )
    movable = [
        (w, s)
        for w, s in found
        if w.split(".", 1)[-1].lower() in _BEARER_HEADERS + _KEY_HEADERS and w.startswith("http_headers.")
    ]
    from_options = {**request.headers, **request.query}
    in_url = bool(request.base_url) and any(w.startswith("base_url") for w, _s in found)
    given = in_url or any(w.split(".", 1)[-1] in from_options for w, _s in found)
    origin = "given on the command line" if given else f"set by recipe `{recipe_id}`"
    if key_mode == "keyring" and len(movable) == len(found) and len({s for _w, s in movable}) == 1:
        headers = {k: v for k, v in spec.http_headers.items() if f"http_headers.{k}" not in {w for w, _s in movable}}
        names = ", ".join(w.split(".", 1)[1] for w, _s in movable)
        note = (
            f"the key in the {names} header goes into the OS keyring instead of the config; Codex sends it as "
            f"`Authorization: Bearer …` through `codexprov token {provider_id}`"
        )
        return dataclasses.replace(spec, http_headers=headers), movable[0][1], [note]
    if key_mode == "keyring":
        hint = (
            f"Leave the key out of the command: `codexprov add {recipe_id} …` stores it in the OS keyring (typed at the "
            "prompt or with --key-stdin) and Codex sends it as `Authorization: Bearer`. Codex cannot take a query "
            "parameter or URL password from the keyring; if the server needs one, pass --allow-plaintext."
        )
    else:
        hint = (
            f"Drop --key-mode {key_mode} and the key from the command: keyring mode stores it in the OS keyring and "
            "Codex sends it as `Authorization: Bearer`. Or pass --allow-plaintext to write it anyway."
        )
    raise UsageError(
        f"refusing to write a key in plain text into the config ({where}, {origin}); nothing was written", hint=hint
    )


def check_sendable(spec: ProviderSpec) -> None:
    """Refuse a table Codex would quietly get wrong: a base URL it cannot reach (not http(s)), or a
    header it cannot send (Codex drops such a header silently and the request goes out without it)."""
    from codexprov.codex.wire import base_url_problem, header_name_problem, header_value_problem

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
    from codexprov.config.document import load
    from codexprov.errors import ConflictError

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


BRIDGE_AUTH_TIMEOUT_MS = 60_000  # the bridge may have to start (~10 s, more on a busy machine)


def _plan_bridged(recipe, request, rendered, provider_id, token_auth, capabilities, codex_label, bridge_url) -> AddPlan:
    """A provider behind the bridge: Codex talks to the bridge (master key from `codexprov token`),
    the bridge to the upstream (the upstream key from the keyring, in the bridge's environment)."""
    from codexprov import recipes as recipes_mod
    from codexprov.bridge.layout import ROUTE_HEADER, Upstream

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
    return AddPlan(
        provider_id,
        recipe.id,
        spec,
        None,
        None,
        rendered.model,
        key_mode,
        tuple(warnings),
        capabilities,
        bridge=upstream,
    )


def bridge_note(plan: AddPlan, recipe) -> str:
    """What `add` says about a bridged provider."""
    why = (
        f"{recipe.name} does not serve /v1/responses, so "
        if recipe.responses == "no" and plan.bridge is not None
        else ""
    )
    target = plan.bridge.api_base or f"LiteLLM's {plan.bridge.litellm_prefix} endpoint"
    url = plan.spec.base_url if plan.spec is not None else None
    flag = "; `--no-bridge` writes the direct config instead" if recipe.responses == "no" else ""
    return (
        f"{why}Codex reaches {plan.provider_id} through codexprov's bridge (LiteLLM on {url}, "
        f"to {target} as {plan.bridge.litellm_prefix}/MODEL){flag}"
    )


def prepare_add(
    paths: Paths,
    recipe,
    request: AddRequest,
    *,
    token_auth: Callable[[str], AuthCommand] | None = None,
    capabilities=None,
    codex_label: str = "this Codex",
    codex_binary: Path | None = None,
    bridge_url: Callable[[], str] | None = None,
) -> PreparedAdd:
    """Check the whole request (id, params, key mode, --model without --use) and preview the edit.
    Raises before anything is asked or written; the config is read once here and the preview's
    parse is reused by commit_add. `codex_binary` builds a gateway's model catalog from that
    Codex's own (codex.gateway)."""
    if request.model is not None and not request.use:
        raise UsageError(
            "--model sets the model Codex uses, which `add` writes only together with --use",
            hint=f"Pass --use to switch to this provider now, or later: `codexprov use {request.provider_id or recipe.id} --model {request.model}`.",
        )
    plan = plan_add(
        recipe,
        request,
        token_auth=token_auth,
        capabilities=capabilities,
        codex_label=codex_label,
        bridge_url=bridge_url,
    )
    shared = check_env_key_free(paths, plan, request)
    if shared:
        plan = dataclasses.replace(plan, warnings=plan.warnings + shared)
    fix, catalog_text, gateway_notes = _gateway(paths, recipe, plan, request, codex_binary)
    written = _write(paths, plan, request, dry_run=True, gateway=fix)
    return PreparedAdd(request, plan, written.edit, written.kept, recipe, fix, catalog_text, gateway_notes)


def _gateway(paths: Paths, recipe, plan: AddPlan, request: AddRequest, codex_binary: Path | None):
    """The gateway settings for a recipe that `rejects` parts of Codex's requests (custom providers only)."""
    from codexprov.codex import gateway
    from codexprov.codex.capabilities import capabilities as caps_for

    rejects = tuple(getattr(recipe, "rejects", ()))
    if not rejects or plan.spec is None:
        return None, None, ()
    fix = gateway.gateway_fix(rejects, plan.capabilities or caps_for(None), paths.codex_home)
    notes = [warning(n) for n in fix.notes]
    if not request.use:
        listed = "; ".join(s.text for s in fix.settings)
        notes.append(
            next_step(
                f"{plan.provider_id} is a gateway that refuses parts of Codex's requests: with `--use` add also writes {listed}"
            )
        )
        return None, None, tuple(notes)
    catalog_text = None
    if fix.catalog_path is not None:
        try:
            if codex_binary is None:
                raise OSError("no `codex` found")
            catalog_text = gateway.gateway_catalog(gateway.bundled_catalog(codex_binary))
        except (OSError, ValueError, subprocess.SubprocessError) as err:
            fix = dataclasses.replace(
                fix, settings=tuple(s for s in fix.settings if s.path != ("model_catalog_json",)), catalog_path=None
            )
            notes.append(
                warning(
                    f"no model catalog written ({err}): Codex's catalog models may still get Responses-lite requests and freeform tools"
                )
            )
    notes.append(
        info(f"for the {recipe.id} gateway, also set (for every provider): " + "; ".join(s.text for s in fix.settings))
    )
    return fix, catalog_text, tuple(notes)


def commit_add(
    prepared: PreparedAdd, paths: Paths, *, store=None, key: str | None = None, bridge_layout=None
) -> Outcome:
    """Do what prepare_add previewed. In keyring mode the key is stored first, so a failing keyring
    leaves the config untouched (never pointing Codex at a key that does not exist). A bridged
    provider is registered with the bridge before config.toml points at it, and a running bridge
    is restarted afterwards so that it serves the provider."""
    plan, request = prepared.plan, prepared.request
    notes = [warning(w) for w in plan.warnings]
    if plan.bridge is not None:
        notes.insert(0, info(bridge_note(plan, prepared.recipe)))
    notes += prepared.gateway_notes
    if request.dry_run:
        kept = [prepared.kept_note] if prepared.kept_note else []
        return Outcome((prepared.preview,), tuple(kept + notes), dry_run=True)
    if plan.key_mode == "keyring" and key:
        if store is None:
            raise ValueError("a key to store needs the key store")
        store.set(plan.provider_id, key)
    reuse: EditResult | None = prepared.preview
    if plan.bridge is not None and plan.spec is not None:
        from codexprov.bridge import manage

        planned_url = plan.spec.base_url or ""
        bridge_state = manage.register(bridge_layout, plan.bridge, store, port=manage.port_of(planned_url))
        if bridge_state.base_url != planned_url:
            # Another codexprov set the bridge up meanwhile, on another port: point at that one.
            plan = dataclasses.replace(plan, spec=dataclasses.replace(plan.spec, base_url=bridge_state.base_url))
            reuse = None
    fix = prepared.gateway
    if fix is not None and fix.catalog_path is not None and prepared.catalog_text is not None:
        # Before the config that points at it.
        from codexprov.config.transaction import write_atomic

        fix.catalog_path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(fix.catalog_path, prepared.catalog_text, existed=fix.catalog_path.exists())
    written = _write(paths, plan, request, dry_run=False, reuse=reuse, gateway=fix)
    if plan.bridge is not None:
        notes += _bridge_after(bridge_layout, store)
    elif bridge_layout is not None and plan.spec is not None:
        from codexprov.bridge import manage

        if manage.unregister(bridge_layout, plan.provider_id):
            # --replace --no-bridge: the bridge no longer serves it (and the token is the upstream key again).
            manage.reload_if_running(bridge_layout, store)
            notes.append(info(f"{plan.provider_id} no longer goes through the bridge"))
    if plan.key_mode == "keyring":
        from codexprov.redact import mask

        if key:
            notes.append(
                info(
                    f"key for {plan.provider_id} stored in the OS keyring ({mask(key)}); Codex gets it from `codexprov token {plan.provider_id}`"
                )
            )
        else:
            notes.append(next_step(f"next: store the key with `codexprov key set {plan.provider_id}`"))
    elif plan.key_mode == "env" and plan.spec is not None:
        notes.append(
            info(
                f"Codex reads the key from ${plan.spec.env_key}: set it in the environment Codex starts from (or use `codexprov run -- codex`)"
            )
        )
    return Outcome((written.edit,), tuple(notes))


def _bridge_after(layout, store) -> list[Note]:
    from codexprov.bridge import install, manage

    if install.installed_version(layout) is None:
        return [
            next_step("next: install the bridge's LiteLLM with `codexprov bridge install` (a virtualenv of its own)")
        ]
    if manage.reload_if_running(layout, store):
        return [info("the bridge was restarted to serve it")]
    return [info("the bridge starts by itself when Codex next starts (or now: `codexprov bridge up`)")]


def _write(
    paths: Paths,
    plan: AddPlan,
    request: AddRequest,
    *,
    dry_run: bool,
    reuse: EditResult | None = None,
    gateway: GatewayFix | None = None,
) -> providers.AddEdit:
    model = plan.model if request.use else None
    if plan.spec is None:
        assert plan.builtin_id in BUILTIN_PROVIDERS
        edit = providers.configure_builtin(
            paths,
            plan.builtin_id,
            plan.builtin_table,
            use=request.use,
            model=model,
            dry_run=dry_run,
            reuse=reuse,
            capabilities=plan.capabilities,
        )
        return providers.AddEdit(edit, ())
    return providers.write_provider(
        paths,
        plan.spec,
        use=request.use,
        model=model,
        replace=request.replace,
        dry_run=dry_run,
        reuse=reuse,
        settings=gateway.as_root() if gateway is not None else None,
    )
