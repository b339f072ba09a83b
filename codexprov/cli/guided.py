"""Guided flows on a terminal: `codexprov use` with no argument offers a numbered pick;
`codexprov add` with no recipe walks recipe -> id -> key (hidden) -> model -> use now?. Only the
questions live here; what is written is decided by the same core calls the flags use. Without a
terminal both are usage errors that name the flags (the callers check `interactive()`)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace

import typer

from codexprov.adding.model import AddRequest, PreparedAdd
from codexprov.cli.app import say, show_diff
from codexprov.context import Context
from codexprov.errors import CancelledError, UsageError
from codexprov.model import check_provider_id
from codexprov.output import neutralise_line
from codexprov.recipes import Catalog
from codexprov.using import UseChoice


def interactive() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def _pick(title: str, entries: list[tuple[str, str]], *, default: int | None = None) -> int:
    """A numbered list on stderr; the answer is a number or the entry's id. Returns the index."""
    say(title)
    width = len(str(len(entries)))
    for number, (ident, label) in enumerate(entries, 1):
        say(f"  {number:>{width}}) {neutralise_line(ident)}" + (f"  {neutralise_line(label)}" if label else ""))
    ids = [ident for ident, _label in entries]
    while True:
        answer = typer.prompt(
            "Pick a number", default=str(default + 1) if default is not None else None, err=True
        ).strip()
        if answer.isdigit() and 1 <= int(answer) <= len(entries):
            return int(answer) - 1
        if answer in ids:
            return ids.index(answer)
        say(f"pick a number from 1 to {len(entries)}", style="yellow")


class GuidedUse:
    """`use` with no argument on a terminal: a numbered pick of providers, then profiles, the
    active one preselected (using.UseDecider). Without a terminal nothing is asked."""

    def pick(self, ctx: Context) -> UseChoice | None:
        if not interactive():
            return None
        from codexprov import profiles, providers

        listing = providers.list_providers(ctx.paths)
        entries = [(p.id, p.name + ("  (active)" if p.active else "")) for p in listing.providers]
        kinds: list[tuple[str, str]] = [("provider", p.id) for p in listing.providers]
        try:
            found = profiles.list_profiles(ctx.paths, ctx.codex).profiles
        except Exception:  # noqa: BLE001 - profiles are an extra here: a problem with them must not block picking a provider
            found = ()
        entries += [(f"profile {p.name}", (p.provider or "") + ("  (active)" if p.active else "")) for p in found]
        kinds += [("profile", p.name) for p in found]
        active = next((i for i, p in enumerate(listing.providers) if p.active), None)
        kind, value = kinds[_pick("Which provider (or profile) should Codex use?", entries, default=active)]
        return UseChoice(provider_id=value) if kind == "provider" else UseChoice(profile=value)


@dataclass(frozen=True)
class AddAnswers:
    """The guided `add`'s answers: the recipe, the id, the base URL and the recipe's parameters."""

    recipe: str
    provider_id: str
    base_url: str | None
    params: dict[str, str]
    key: str | None
    model: str | None
    use: bool


def walk_add(ctx: Context, catalog: Catalog) -> AddAnswers:
    """`add` with no recipe: recipe, id, what the recipe still needs, key (hidden), model, use now?"""
    entries = [(r.id, f"{r.name} ({r.kind})") for r in catalog.recipes]
    recipe = catalog.recipes[
        _pick("Which kind of provider? (recipes: `codexprov recipes show ID` describes one)", entries)
    ]
    while True:
        provider_id = typer.prompt("Provider id", default=recipe.id, err=True).strip()
        try:
            check_provider_id(provider_id)
            break
        except UsageError as err:
            say(f"{err.message}: {err.hint}", style="yellow")
    base_url = None
    if recipe.base_url is None and recipe.builtin is None:
        base_url = typer.prompt("Base URL (e.g. http://127.0.0.1:8000/v1)", err=True).strip()
    params: dict[str, str] = {}
    for p in recipe.missing_params({}, base_url is not None):
        params[p.name] = typer.prompt(f"{p.name} ({p.description})", default=p.default or None, err=True)
    key = None
    if recipe.needs_key and recipe.builtin is None:
        ctx.store()  # no usable keyring: say so before asking for the key
        key = (
            typer.prompt(
                f"API key for {provider_id} (hidden; stored in the OS keyring; empty to set it later)",
                default="",
                hide_input=True,
                show_default=False,
                err=True,
            ).strip()
            or None
        )
    model = typer.prompt(
        "Model (empty: none)", default=recipe.default_model or "", show_default=bool(recipe.default_model), err=True
    ).strip()
    use = typer.confirm(f"Make {provider_id} the provider Codex uses now?", default=True, err=True)
    if model and not use:
        say(
            f"the model is written with the provider switch: `codexprov use {provider_id} --model {model}` when you switch",
            style="yellow",
        )
    return AddAnswers(recipe.id, provider_id, base_url, params, key, (model or None) if use else None, use)


class GuidedAdd:
    """`add` with no recipe on a terminal: the walk above answers `add`'s questions (an AddDecider)."""

    def __init__(self) -> None:
        self.answers: AddAnswers | None = None
        self.config_file = ""

    def complete(self, ctx: Context, catalog: Catalog, request: AddRequest) -> AddRequest:
        self.answers = a = walk_add(ctx, catalog)
        self.config_file = str(ctx.paths.config_file)
        return replace(
            request,
            recipe=a.recipe,
            provider_id=a.provider_id,
            base_url=a.base_url,
            params=a.params,
            model=a.model,
            use=a.use,
        )

    def key(self, prepared: PreparedAdd) -> str | None:
        return self.answers.key if self.answers is not None else None

    def confirm(self, prepared: PreparedAdd) -> None:
        show_diff(prepared.preview.diff)
        confirm_write(f"Write {self.config_file} as shown?")


def confirm_write(question: str) -> None:
    if not typer.confirm(question, default=True, err=True):
        raise CancelledError("cancelled; nothing was changed")
