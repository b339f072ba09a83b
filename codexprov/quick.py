"""The bodies of the commands people type often (`list`, `show`, `use ID`), without typer or rich.

`codexprov/__main__.py` answers their plain forms before Typer loads (~45 ms of imports and command
tree); the Typer commands in `cli/providers.py` call these same functions, so both ways print the
same bytes and return the same exit codes. Parse, call the core, render: nothing else belongs here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from codexprov.output import out, out_json, render_edits, render_provider_list, say

if TYPE_CHECKING:
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


def use(paths: Paths, codex_binary: str | None, provider_id: str, *, model: str | None, dry_run: bool) -> None:
    """`use ID [--model M] [--dry-run]`: the edit, the remembered-models check, the sessions note."""
    from codexprov import providers

    result = providers.use_provider(paths, provider_id, model=model, dry_run=dry_run)
    render_edits((result,), dry_run=result.dry_run)  # render(Outcome(...)) without importing result.py
    if model is not None:
        # No network here (use is typed often): the list `codexprov models ID` or `add` last fetched.
        from codexprov.served_models import check_remembered

        warning = check_remembered(paths, provider_id, model, result.data)
        if warning:
            say(f"warning: {warning}", style="yellow")
    if result.changed and not dry_run:
        note_sessions_elsewhere(paths, codex_binary, provider_id)


def note_sessions_elsewhere(paths: Paths, codex_binary: str | None, provider_id: str) -> None:
    """On a Codex that pins sessions to their provider, say that switching does not move them.
    Cheap when nothing can be said: no session folder and no state database means no scan, and the
    Codex version and the sessions come from caches (codex/version.py, sessions.SessionIndex)."""
    import os

    from codexprov.codex.version import detect, find_binary
    from codexprov.sessions import find_sessions, has_sessions

    if not has_sessions(paths.codex_home):
        find_binary(codex_binary, os.environ)  # a --codex that is missing is still an error
        return
    if not detect(paths, explicit=codex_binary).capabilities.sessions_keep_provider:
        return
    others = {p: n for p, n in find_sessions(paths.codex_home, paths.cache_dir).counts().items() if p != provider_id}
    if others:
        listed = ", ".join(f"{n} on {p}" for p, n in others.items())
        say(
            f"note: earlier sessions keep the provider they were started with ({listed}); `codex resume` continues each there"
        )
