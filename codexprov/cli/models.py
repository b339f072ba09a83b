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
    refresh: bool = typer.Option(
        False, "--refresh", help="Also rewrite the list Codex's model picker shows for it (and its profiles')."
    ),
) -> None:
    """The models a provider serves (its GET /models, asked with the key Codex would send), so
    --model is not guesswork. Exit 1 when the provider cannot be asked."""
    from codexprov import served_models

    if not timeout > 0:
        raise UsageError(f"--timeout must be a positive number of seconds, not {timeout}")
    from codexprov import picker

    listing = served_models.fetch(context(cli).paths, provider_id, env=dict(os.environ), timeout=timeout)
    refreshed = None
    if refresh:
        from codexprov.config.document import load

        data = load(context(cli).paths.config_file, context(cli).paths.cache_dir).data or {}
        refreshed = picker.refresh(
            context(cli).paths, provider_id, listing.ids, context(cli).codex, data, listing.facts
        )
    shown = picker.view(context(cli).paths, provider_id, listing.ids)
    if as_json:
        extra = {} if refreshed is None else {"refreshed": refreshed.to_json()}
        out_json({**listing.to_json(), "picker": shown.to_json(), **extra})
        return
    for model in listing.ids:
        out(model)
    say(f"{len(listing.ids)} models from GET {listing.url} (key: {listing.key_from})")
    if refreshed is not None:
        for line in refreshed.describe(provider_id):
            say(line)
    say(shown.describe())
