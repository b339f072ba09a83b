"""CLI commands for recipes: `recipes [--json]` and `recipes show ID [--json]` (core: codexprov.recipes)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from codexprov.cli.app import app, context, out, out_json, out_table, say

if TYPE_CHECKING:
    from codexprov.recipes import Catalog

recipes_app = typer.Typer(
    name="recipes",
    help="List the provider recipes behind `codexprov add RECIPE`, or show one.",
    invoke_without_command=True,
    no_args_is_help=False,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(recipes_app, name="recipes")


def _catalog(cli: typer.Context) -> Catalog:
    from codexprov.recipes import load_catalog

    catalog = load_catalog(context(cli).paths)
    for problem in catalog.problems:
        say(f"warning: skipped recipe {problem}", style="yellow")
    return catalog


def _origin(recipe: Any) -> str:
    if recipe.overrides is not None:
        return f"{recipe.source} (overrides {recipe.overrides})"
    return recipe.source


@recipes_app.callback(invoke_without_command=True)
def recipes_list(
    ctx: typer.Context,
    json_: bool = typer.Option(False, "--json", help="Print the list as JSON."),
) -> None:
    """List every recipe: id, name, kind, whether it speaks the Responses API, and where it came from."""
    if ctx.invoked_subcommand is not None:
        return
    catalog = _catalog(ctx)
    if json_:
        out_json([_summary(r) for r in catalog.recipes])
        return
    rows = [[r.id, r.name, r.kind, r.responses, r.verdict_short, _origin(r)] for r in catalog.recipes]
    out_table(["ID", "NAME", "KIND", "RESPONSES", "VERDICT FROM", "SOURCE"], rows)
    say("VERDICT FROM: the provider's docs read on that date, or a real request (`codexprov doctor --live`)")


@recipes_app.command("show")
def recipes_show(
    cli: typer.Context,
    recipe_id: str = typer.Argument(..., metavar="ID", help="The recipe id (see `codexprov recipes`)."),
    json_: bool = typer.Option(False, "--json", help="Print the recipe as JSON."),
) -> None:
    """Show one recipe: the TOML `add` would write, its parameters and notes."""
    from codexprov.recipes import preview

    recipe = _catalog(cli).get(recipe_id)
    shown = preview(recipe)
    if json_:
        out_json(_summary(recipe) | {"toml": shown.toml, "warnings": list(shown.rendered.warnings)})
        return
    out(f"# {recipe.name} ({recipe.id}): {recipe.kind}, /v1/responses: {recipe.responses} ({recipe.verdict_basis})")
    if recipe.responses_source:
        out(f"# verdict from: {recipe.responses_source}")
    out(f"# source: {_origin(recipe)}: {recipe.path}")
    out(shown.toml.rstrip("\n"))
    if recipe.params:
        out("")
        out("Parameters (--param NAME=VALUE):")
        for p in recipe.params:
            need = (
                "required"
                if p.required and p.default is None
                else (f"default {p.default}" if p.default is not None else "optional")
            )
            example = f"; e.g. {p.example}" if p.example else ""
            out(f"  {p.name}  {p.description} ({need}{example})")
    if recipe.models:
        out("")
        out("Known models: " + ", ".join(recipe.models))
    if recipe.notes:
        out("")
        out("Notes:")
        for line in recipe.notes.splitlines():
            out(f"  {line}" if line else "")
    for warning in shown.rendered.warnings:
        say(f"warning: {warning}", style="yellow")


def _summary(recipe: Any) -> dict[str, Any]:
    return {
        "id": recipe.id,
        "name": recipe.name,
        "kind": recipe.kind,
        "responses": recipe.responses,
        "responses_checked": recipe.responses_checked,
        "responses_basis": recipe.responses_basis,
        "responses_source": recipe.responses_source,
        "source": recipe.source,
        "path": str(recipe.path) if recipe.path else None,
        "overrides": str(recipe.overrides) if recipe.overrides else None,
        "builtin": recipe.builtin,
        "base_url": recipe.base_url,
        "env_key": recipe.env_key,
        "needs_key": recipe.needs_key,
        "default_model": recipe.default_model,
        "models": list(recipe.models),
        "params": [
            {"name": p.name, "description": p.description, "default": p.default, "required": p.required}
            for p in recipe.params
        ],
    }
