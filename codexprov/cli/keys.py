"""CLI: key set/list/rm/migrate, env, run (core: codexprov.credentials).

`codexprov token ID` is not here: it is dispatched by codexprov/__main__.py before typer loads
(codexprov/token.py).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer

from codexprov.cli.app import app, confirm, context, edit_line, out, out_json, out_table, render, say, show_diff
from codexprov.errors import KeyringUnavailableError, NotFoundError, UsageError
from codexprov.result import Outcome

if TYPE_CHECKING:
    from codexprov.keys.migration import MigrationResult

key_app = typer.Typer(
    name="key",
    help="Keys in the OS keyring: set, list, rm, migrate plain-text keys out of config.toml.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(key_app, name="key")


def _read_secret(provider_id: str, from_stdin: bool) -> str:
    """Hidden prompt on a terminal; otherwise (or with --stdin) one line of standard input."""
    from codexprov.cli.app import read_stdin_line

    if from_stdin or not sys.stdin.isatty():
        line = read_stdin_line(provider_id)
        if not line.strip():
            raise UsageError(
                "no key on standard input; nothing was stored",
                hint=f'echo "$KEY" | codexprov key set {provider_id} --stdin',
            )
        return line
    return typer.prompt(f"API key for {provider_id} (hidden)", hide_input=True, err=True)


@key_app.command("set", context_settings={"allow_extra_args": True})
def key_set(
    cli: typer.Context,
    provider_id: str = typer.Argument(..., metavar="ID"),
    from_stdin: bool = typer.Option(False, "--stdin", help="Read the key from one line of standard input."),
    wire: bool = typer.Option(
        False,
        "--wire",
        help="Make Codex read the keyring even if the provider uses an env var or its own auth command.",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the config change; store and write nothing."),
) -> None:
    """Store a provider's key in the OS keyring (and point the provider at it if needed)."""
    from codexprov import keys

    if cli.args:
        # Never echoed: it is probably the key, and it is already in the shell's history.
        raise UsageError(
            "pass the key on stdin or at the prompt, not as an argument; nothing was stored",
            hint=f"Run `codexprov key set {provider_id}` and paste it at the hidden prompt, or "
            f"`printf '%s\\n' \"$KEY\" | codexprov key set {provider_id} --stdin`. "
            "The key you typed is now in your shell history: remove it there (or rotate the key).",
        )
    done = keys.store_key(context(cli), keys.KeySetRequest(provider_id, wire, dry_run), _SecretPrompt(from_stdin))
    result = done.result
    if result.edit is not None:
        show_diff(result.edit.diff)
    if dry_run:
        say("dry run: nothing was stored or written")
        return
    say(f"stored the key for {provider_id} in the OS keyring ({done.keyring_label}): {result.masked}")
    if result.edit is not None and result.edit.changed:
        say(edit_line(result.edit))
    say(f"{provider_id}: {result.wiring.reason}")
    if done.bridge_restarted:
        say(f"the bridge was restarted to use the new key for {provider_id}")


@dataclass(frozen=True)
class _SecretPrompt:
    """`key set`'s KeyDecider: the hidden prompt, or one line of standard input."""

    from_stdin: bool

    def secret(self, provider_id: str) -> str:
        return _read_secret(provider_id, self.from_stdin)


@key_app.command("list")
def key_list(
    cli: typer.Context, as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")
) -> None:
    """Where each provider's key lives (keyring, env var, auth command, plain text, none), masked."""
    from codexprov import keys

    store, problem = None, None
    try:
        store = context(cli).store()
    except KeyringUnavailableError as err:
        problem = err.message
    report = keys.key_report(context(cli).paths, dict(os.environ), store, problem)
    if as_json:
        out_json(
            {
                "keyring_backend": report.keyring_backend,
                "keyring_problem": report.keyring_problem,
                "providers": [s.to_json() for s in report.statuses],
            }
        )
        return
    rows = [[s.provider_id, s.source, s.detail or "-", _key_cell(s)] for s in report.statuses]
    if rows:
        out_table(["ID", "KEY FROM", "DETAIL", "KEY"], rows)
    else:
        say("no providers in the config")
    if report.keyring_problem:
        say(f"warning: keyring not readable: {report.keyring_problem}", style="yellow")
    if any(s.source == "plaintext" for s in report.statuses):
        say("plain-text keys found: move them into the keyring with `codexprov key migrate`", style="yellow")


def _key_cell(status) -> str:
    if status.source == "keyring":
        if status.stored is None:
            return "keyring unreadable"
        return status.masked if status.stored else "MISSING (codexprov key set)"
    if status.source == "env":
        text = f"{status.masked} (set)" if status.env_set else "not set here"
        return text + ("; keyring has one" if status.stored else "")
    if status.source == "plaintext":
        return f"{status.masked} IN PLAIN TEXT"
    return status.masked or ("keyring has one" if status.stored else "-")


@key_app.command("rm")
def key_rm(
    cli: typer.Context,
    provider_id: str = typer.Argument(..., metavar="ID"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say whether there is a key to delete; delete nothing."),
) -> None:
    """Delete a provider's key from the OS keyring (the config is not changed)."""
    from codexprov import providers

    store = context(cli).store()
    if dry_run:
        if store.get(provider_id) is None:
            raise NotFoundError(f"no key for `{provider_id}` in the OS keyring ({store.label}); nothing to delete")
        say(f"dry run: would delete the key for {provider_id} from the OS keyring ({store.label})")
        return
    if not store.delete(provider_id):
        raise NotFoundError(f"no key for `{provider_id}` in the OS keyring ({store.label}); nothing deleted")
    say(f"deleted the key for {provider_id} from the OS keyring ({store.label})")
    try:
        info = providers.get_provider(context(cli).paths, provider_id)
    except NotFoundError:
        return
    if info.key_source.kind == "keyring":
        say(
            f"note: Codex still runs `codexprov token {provider_id}` for this provider and will now fail; "
            f"store a new key with `codexprov key set {provider_id}` or remove it with `codexprov remove {provider_id}`",
            style="yellow",
        )


@key_app.command("migrate")
def key_migrate(
    cli: typer.Context,
    provider_id: str | None = typer.Argument(None, metavar="ID"),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would move and the diff; change nothing."),
    clear_auth_json: bool = typer.Option(
        False,
        "--clear-auth-json",
        help="Also empty OPENAI_API_KEY in auth.json once a provider that sent it reads the keyring.",
    ),
) -> None:
    """Move plain-text keys (experimental_bearer_token, Authorization/api-key headers, ignored
    fields such as api_key, auth.json's key sent by a requires_openai_auth provider) into the
    keyring, rewiring each provider."""
    from codexprov import keys

    request = keys.MigrateRequest(provider_id, dry_run, clear_auth_json)
    render(keys.migrate_keys(context(cli), request, _MigrationTalk(yes)))


@dataclass(frozen=True)
class _MigrationTalk:
    """`key migrate`'s MigrateDecider: what moves and what cannot, the diff, and the question."""

    yes: bool

    def previewed(self, preview: MigrationResult) -> None:
        for item in preview.items:
            for found in item.found:
                note = f" ({found.note})" if found.note else ""
                say(f"{item.provider_id}: {found.field} = {found.masked}{note}")
            if item.skipped:
                say(f"{item.provider_id}: skipped: {item.skipped}", style="yellow")
        for found in preview.unmovable:
            say(
                f"warning: {found.provider_id}: {found.field} holds a key in plain text ({found.masked}) that cannot "
                f"move: {found.note}; "
                + (
                    f"use a header key instead if the server takes one (`codexprov key set {found.provider_id}`)"
                    if found.in_url
                    else "read it from an environment variable with env_http_headers instead"
                ),
                style="yellow",
            )
        if preview.edit is not None and preview.edit.changed:
            show_diff(preview.edit.diff)

    def approve(self, preview: MigrationResult) -> None:
        confirm("Move these keys into the OS keyring and rewrite the config as shown?", yes=self.yes)


@app.command("env")
def env_cmd(
    cli: typer.Context,
    provider_id: str | None = typer.Argument(None, metavar="ID"),
    reveal: bool = typer.Option(False, "--reveal", help="Print the real values even on a terminal."),
) -> None:
    """Shell `export` lines giving env-mode providers their keys from the keyring:
    eval "$(codexprov env)"."""
    from codexprov import keys

    plan = keys.env_plan(context(cli).paths, context(cli).store(), provider_id)
    show = reveal or not sys.stdout.isatty()
    sys.stdout.write(keys.shell_exports(plan, reveal=show))
    for pid in plan.missing:
        say(f"warning: no key for {pid} in the keyring (codexprov key set {pid})", style="yellow")
    if not plan.variables and not plan.missing:
        say("no provider reads its key from an environment variable (key mode env)")
    elif plan.variables and not show:
        say('values masked on a terminal; load them with: eval "$(codexprov env)"  (or pass --reveal)')


@app.command(
    "run",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
def run_cmd(
    cli: typer.Context,
    command: list[str] = typer.Argument(..., metavar="-- CMD [ARGS]...", help="The command to run, e.g. codex exec …"),
    provider_id: str | None = typer.Option(
        None, "--provider", metavar="ID", help='Add -c model_provider="ID" to the codex command.'
    ),
    profile: str | None = typer.Option(None, "--profile", metavar="NAME", help="Add -p NAME to the codex command."),
) -> int:
    """Run a command with env-mode providers' keys from the keyring in its environment (no file
    is touched): codexprov run --provider groq -- codex exec "hi"."""
    from codexprov import credentials, keys

    plan = keys.plan_run(
        context(cli).paths,
        credentials.open_store,
        list(command),
        provider_id=provider_id,
        profile=profile,
        environ=dict(os.environ),
    )
    render(Outcome(notes=plan.notes))
    return keys.execute(plan)


__all__ = ["key_app", "out"]
