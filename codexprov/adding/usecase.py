"""`codexprov add` as one use case over the context: the request completed by a decider (the
guided walk is one decider, the flags another), checked and previewed, confirmed, committed, and
the live model check as a note."""

from __future__ import annotations

from typing import Protocol

from codexprov import credentials, picker
from codexprov.adding.commit import commit_add, prepare_add
from codexprov.adding.model import AddPlan, AddRequest, PreparedAdd
from codexprov.bridge import manage
from codexprov.codex.version import CodexInfo, format_version
from codexprov.context import Context
from codexprov.errors import UsageError
from codexprov.model_lists import unserved_warning
from codexprov.recipes import Catalog, load_catalog
from codexprov.result import Outcome, info, warning
from codexprov.served_models import CHECK_TIMEOUT, fetch


class AddDecider(Protocol):
    """The questions `add` asks. The CLI's two implementations: the flags (ask only what a terminal
    must supply) and the guided walk (ask everything)."""

    def complete(self, ctx: Context, catalog: Catalog, request: AddRequest) -> AddRequest:
        """The request with what it lacks filled in (the recipe and its params on the guided walk,
        the recipe's missing params on a terminal); UsageError when something cannot be asked."""
        ...

    def key(self, prepared: PreparedAdd) -> str | None:
        """The key to store (keyring mode, not a dry run); None: set it later."""
        ...

    def confirm(self, prepared: PreparedAdd) -> None:
        """Shown the preview, go ahead? CancelledError to stop (not asked on a dry run)."""
        ...


def codex_label(codex: CodexInfo) -> str:
    """How messages name the installed Codex: `Codex 0.169.0`, or `Codex` when its version is unknown."""
    return f"Codex {format_version(codex.version)}" if codex.version else "Codex"


def add(ctx: Context, request: AddRequest, decider: AddDecider) -> Outcome:
    """Add a provider from a recipe. Nothing is asked before the whole request is checked, the key
    is stored before the config points at it, and with --use and a model the provider is asked
    (3 s at most) whether it serves the model."""
    catalog = load_catalog(ctx.paths)
    request = decider.complete(ctx, catalog, request)
    recipe = catalog.get(request.recipe)
    codex = ctx.codex
    prepared = prepare_add(
        ctx.paths,
        recipe,
        request,
        token_auth=credentials.token_auth,
        capabilities=codex.capabilities,
        codex_label=codex_label(codex),
        codex_binary=codex.path,
        bridge_url=lambda: manage.planned_base_url(ctx.bridge_layout),
    )
    if request.fallback is not None:
        check_fallback(prepared.plan, request.fallback, manage.bridged_ids(ctx.bridge_layout))
    store = ctx.store() if prepared.needs_store else None  # before the prompt: no usable keyring, no question
    key = None
    if prepared.needs_key:
        # A key given in an Authorization/api-key header goes to the keyring instead of the file.
        key = prepared.plan.moved_key or decider.key(prepared)
    if not request.dry_run:
        decider.confirm(prepared)
    outcome = commit_add(prepared, ctx.paths, store=store, key=key, bridge_layout=ctx.bridge_layout)
    if request.fallback is not None and not request.dry_run:
        pid = prepared.plan.provider_id
        manage.set_fallback(ctx.bridge_layout, pid, request.fallback, store)
        outcome = outcome.with_notes(info(f"fallback: {pid} -> {request.fallback} (on 429, 5xx and timeouts)"))
    if request.use and not request.dry_run:
        outcome = _after_use(ctx, prepared, outcome)
    return outcome


def _after_use(ctx: Context, prepared: PreparedAdd, outcome: Outcome) -> Outcome:
    """add is not a hot path: ask the provider now (3 s at most) for its models, for Codex's picker
    and to say whether it serves the model."""
    pid, model = prepared.plan.provider_id, prepared.plan.model
    bridged = prepared.plan.bridge is not None
    done = picker.after_add(
        ctx.paths,
        pid,
        model,
        lambda: ctx.codex,
        # A bridged provider's list comes from its upstream, with the key the bridge sends it.
        ask=lambda: fetch(
            ctx.paths, pid, env=dict(ctx.env), timeout=CHECK_TIMEOUT, store=ctx.store() if bridged else None
        ),
        recipe_facts=getattr(prepared.recipe, "model_facts", None),
    )
    if done.edit is not None and done.listing is not None:
        outcome = outcome.with_notes(
            info(
                f"Codex's model picker now lists the {len(done.listing.slugs)} models of {pid} "
                f"(model_catalog_json = {done.listing.file})"
            )
        )
    said = unserved_warning(done.served, model) if done.served and model else None
    return outcome.with_notes(warning(said)) if said else outcome


def check_fallback(plan: AddPlan, fallback: str, bridged: tuple[str, ...]) -> None:
    """`add --fallback OTHER_ID`: checked before anything is written."""
    if plan.bridge is None:
        raise UsageError(
            "--fallback needs a provider that goes through the bridge",
            hint="Add it with --bridge, or leave out --fallback.",
        )
    if fallback == plan.provider_id or fallback not in bridged:
        raise UsageError(
            f"--fallback {fallback}: not another provider behind the bridge (bridged: {', '.join(bridged) or 'none'})",
            hint="Add the fallback first (`codexprov add RECIPE --id OTHER_ID --bridge`), then this one.",
        )
