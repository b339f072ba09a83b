"""`add` in two steps: `prepare_add` checks everything and previews the edit before a key is read;
`commit_add` stores the key, registers a bridged provider and writes the config."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from codexprov import picker, providers
from codexprov.adding.bridged import bridge_after, bridge_note
from codexprov.adding.gateways import gateway_settings
from codexprov.adding.model import AddPlan, AddRequest, PreparedAdd
from codexprov.adding.plan import check_env_key_free, plan_add
from codexprov.bridge import manage
from codexprov.codex import names
from codexprov.codex.builtins import BUILTIN_PROVIDERS
from codexprov.codex.capabilities import capabilities as caps_for
from codexprov.codex.gateway import GatewayFix
from codexprov.config.transaction import EditResult
from codexprov.errors import UsageError
from codexprov.model import AuthCommand
from codexprov.paths import Paths
from codexprov.redact import mask
from codexprov.result import Outcome, info, next_step, warning
from codexprov.safe_write import write_atomic


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
    plan = _avoid_builtin_name(paths, plan, request, codex_binary)
    shared = check_env_key_free(paths, plan, request)
    if shared:
        plan = dataclasses.replace(plan, warnings=plan.warnings + shared)
    fix, catalog_text, gateway_notes = gateway_settings(paths, recipe, plan, request, codex_binary)
    written = _write(paths, plan, request, dry_run=True, gateway=fix)
    return PreparedAdd(request, plan, written.edit, written.kept, recipe, fix, catalog_text, gateway_notes)


def _avoid_builtin_name(paths: Paths, plan: AddPlan, request: AddRequest, codex_binary: Path | None) -> AddPlan:
    """A custom provider may not carry a name the installed Codex takes for one of its built-ins
    (asked from the binary: codex.names): refused when given with --name, else renamed, warned."""

    if plan.spec is None:
        return plan
    caps = plan.capabilities or caps_for(None)
    taken = names.builtin_display_names(paths, [plan.spec.name], binary=codex_binary, caps=caps)
    if not taken:
        return plan
    if request.name:
        raise UsageError(
            f"--name {request.name!r} is the display name of a Codex built-in; Codex would treat this provider as it",
            hint=f"Pick another --name (e.g. {names.custom_name(request.name)!r}).",
        )
    renamed = names.custom_name(plan.spec.name)
    return dataclasses.replace(
        plan,
        spec=dataclasses.replace(plan.spec, name=renamed),
        warnings=(
            *plan.warnings,
            f"the name {plan.spec.name!r} makes Codex treat a provider as its built-in: written as {renamed!r}",
        ),
    )


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
        planned_url = plan.spec.base_url or ""
        bridge_state = manage.register(bridge_layout, plan.bridge, store, port=manage.port_of(planned_url))
        if bridge_state.base_url != planned_url:
            # Another codexprov set the bridge up meanwhile, on another port: point at that one.
            plan = dataclasses.replace(plan, spec=dataclasses.replace(plan.spec, base_url=bridge_state.base_url))
            reuse = None
    fix = prepared.gateway
    if fix is not None and fix.catalog_path is not None and prepared.catalog_text is not None:
        # Before the config that points at it.

        fix.catalog_path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(fix.catalog_path, prepared.catalog_text, existed=fix.catalog_path.exists())
    written = _write(paths, plan, request, dry_run=False, reuse=reuse, gateway=fix)
    if plan.bridge is not None:
        notes += bridge_after(bridge_layout, store)
    elif bridge_layout is not None and plan.spec is not None and manage.unregister(bridge_layout, plan.provider_id):
        # --replace --no-bridge: the bridge no longer serves it (and the token is the upstream key again).
        manage.reload_if_running(bridge_layout, store)
        notes.append(info(f"{plan.provider_id} no longer goes through the bridge"))
    if plan.key_mode == "keyring":
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
            # A built-in's list is Codex's own: another provider's picker list goes (picker.py).
            root_from=_picker_off(paths) if request.use else None,
        )
        return providers.AddEdit(edit, ())
    settings = gateway.as_root() if gateway is not None else None
    root_from = None
    if request.use and not (settings and ("model_catalog_json",) in settings):
        # Another provider's picker list goes now; this one's is set once it answers (picker.after_add).
        root_from = _picker_off(paths)

    return providers.write_provider(
        paths,
        plan.spec,
        use=request.use,
        model=model,
        replace=request.replace,
        dry_run=dry_run,
        reuse=reuse,
        settings=settings,
        root_from=root_from,
    )


def _picker_off(paths: Paths):
    """The top-level change that takes another provider's picker list away (and leaves any other
    `model_catalog_json` alone), decided from the config as the add's transaction reads it."""

    def root_from(data):
        return picker.root_values(paths, data, None)

    return root_from
