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

    def codex():
        from codexprov.codex.version import detect

        return detect(paths, explicit=codex_binary)

    result = providers.use_provider(paths, provider_id, model=model, dry_run=dry_run, codex=codex)
    render_edits((result,), dry_run=result.dry_run)  # render(Outcome(...)) without importing result.py
    if model is not None:
        # No network here (use is typed often): the list `codexprov models ID` or `add` last fetched.
        from codexprov.served_models import check_remembered

        warning = check_remembered(paths, provider_id, model, result.data)
        if warning:
            say(f"warning: {warning}", style="yellow")
    if result.changed and not dry_run:
        elsewhere = sessions_elsewhere(paths, codex_binary, provider_id)
        note_running_codex(paths, codex_binary, provider_id, sessions_elsewhere=bool(elsewhere))
        if elsewhere:
            say(
                f"note: earlier sessions keep the provider they were started with ({elsewhere}); "
                "`codex resume` continues each there"
            )


def note_running_codex(paths: Paths, codex_binary: str | None, provider_id: str, *, sessions_elsewhere: bool) -> None:
    """One line on what a running Codex does now. Probed on 0.133 to 0.171: the TUI reads
    model_provider again on /new, the app-server (stdio or daemon) on thread/start; an open
    conversation keeps its provider, except that the app-server of 0.166 to 0.169 may refuse to go
    on with it (capabilities.OPEN_THREADS_REFUSED). Said when Codex has been used here or its
    app-server daemon runs (asked over its control socket, only when that socket exists); a daemon
    that still defaults to another provider needs a restart (codex/appserver.py)."""
    from codexprov.codex.appserver import control_socket, daemon_default

    default = daemon_default(paths.codex_home) if control_socket(paths.codex_home).exists() else None
    if default is not None and default != provider_id:
        say(
            f"note: the running Codex app-server daemon still starts new threads on {default}: "
            "restart it with `codex app-server daemon restart`",
            style="yellow",
        )
    elif sessions_elsewhere or default is not None:
        from codexprov.codex.version import detect

        info = detect(paths, explicit=codex_binary)
        tail = (
            f"; Codex {info.version_text}'s app-server may refuse open threads of other providers until you switch back"
            if info.capabilities.open_threads_refused
            else ""
        )
        say(
            f"note: a running Codex starts its next chat (/new, a new thread) on {provider_id}; no restart needed{tail}"
        )


def sessions_elsewhere(paths: Paths, codex_binary: str | None, provider_id: str) -> str:
    """On a Codex that pins sessions to their provider, the sessions switching does not move
    ("2 on acme, 1 on other"; empty: none).
    Cheap when nothing can be said: no session folder and no state database means no scan, and the
    Codex version and the sessions come from caches (codex/version.py, sessions.SessionIndex).
    """
    import os

    from codexprov.codex.version import detect, find_binary
    from codexprov.sessions import find_sessions, has_sessions

    if not has_sessions(paths.codex_home):
        find_binary(codex_binary, os.environ)  # a --codex that is missing is still an error
        return ""
    if not detect(paths, explicit=codex_binary).capabilities.sessions_keep_provider:
        return ""
    others = {p: n for p, n in find_sessions(paths.codex_home, paths.cache_dir).counts().items() if p != provider_id}
    return ", ".join(f"{n} on {p}" for p, n in others.items())
