"""CLI: `codexprov models ID [--json]` (core: codexprov.served_models)."""

from __future__ import annotations

import os

import typer

from codexprov.cli.app import app, context, out, out_json, say
from codexprov.errors import UsageError


@app.command("models")
def models_cmd(
    cli: typer.Context,
    provider_id: str = typer.Argument(..., metavar="ID"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    timeout: float = typer.Option(10.0, "--timeout", metavar="SECONDS", help="How long the provider gets to answer."),
) -> None:
    """The models a provider serves (its GET /models, asked with the key Codex would send), so
    --model is not guesswork. Exit 1 when the provider cannot be asked."""
    from codexprov import served_models

    if not timeout > 0:
        raise UsageError(f"--timeout must be a positive number of seconds, not {timeout}")
    from codexprov import picker

    listing = served_models.fetch(context(cli).paths, provider_id, env=dict(os.environ), timeout=timeout)
    shown = picker.view(context(cli).paths, provider_id, listing.ids)
    if as_json:
        out_json({**listing.to_json(), "picker": shown.to_json()})
        return
    for model in listing.ids:
        out(model)
    say(f"{len(listing.ids)} models from GET {listing.url} (key: {listing.key_from})")
    say(shown.describe())
