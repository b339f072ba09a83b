"""The bodies of the commands people type often (`list`, `show`, `use ID`), without typer or rich.

`codexprov/__main__.py` answers their plain forms before Typer loads (~45 ms of imports and command
tree); the Typer commands in `cli/providers.py` call these same functions, so both ways print the
same bytes and return the same exit codes. Parse, call the core, render: nothing else belongs here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from codexprov.output import out, out_json, render, render_provider_list, say

if TYPE_CHECKING:
    from codexprov.context import Context
    from codexprov.paths import Paths


def list_providers(paths: Paths, *, as_json: bool) -> None:
    from codexprov import providers

    render_provider_list(providers.list_providers(paths), as_json=as_json)


def show(paths: Paths, provider_id: str, *, as_json: bool) -> None:
    from codexprov import providers

    info = providers.get_provider(paths, provider_id)
    if as_json:
        out_json(info.to_json())
        return
    from codexprov.config.edit import render_section

    out(render_section(("model_providers", info.id), providers.redact_table(info.table)).rstrip("\n"))
    flags = ["active" if info.active else "inactive", "built-in" if info.builtin else "custom"]
    if info.builtin and not info.configured:
        flags.append("defaults only, no table in config")
    say(f"{', '.join(flags)}; key: {info.key_source.describe()}")


def use(ctx: Context, provider_id: str, *, model: str | None, dry_run: bool) -> None:
    """`use ID [--model M] [--dry-run]`: the `use` use case (codexprov/using.py), nothing asked."""
    from codexprov.using import NoQuestions, UseRequest
    from codexprov.using import use as use_case

    render(use_case(ctx, UseRequest(provider_id, model, dry_run=dry_run), NoQuestions()))
