"""The Typer app, the global options and the CLI's shared rendering helpers.

Every command module registers on `app` from here; `codexprov.cli` (the package) imports the
command modules and owns the error boundary, so nothing here imports a command module back.
"""

from __future__ import annotations

import os
import sys

import typer

from codexprov import paths
from codexprov.context import Context
from codexprov.errors import CancelledError, UsageError
from codexprov.output import (  # noqa: F401 - the CLI's output helpers (typer-free, in output.py for the fast paths)
    edit_line,
    out,
    out_json,
    out_table,
    render,
    report_error,
    say,
    show_diff,
)

app = typer.Typer(
    name="codexprov",
    help="Manage model providers for the OpenAI Codex CLI: edits config.toml in place, keeps keys in the OS keyring.",
    no_args_is_help=True,
    # Typer's own completion options cost imports on every command; `codexprov completion SHELL`
    # (codexprov/cli/completion.py) replaces them and is answered before Typer loads.
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    # -h everywhere: child contexts inherit the help option names.
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _plain_metavar(self: typer.core.TyperArgument, *args: object, usage: bool = False, **kwargs: object) -> str:
    """Arguments in help as people write them: `ID`, `[ID]` when optional (Typer writes `{ID}`
    for a required one and names without a metavar in lower case)."""
    var = self.metavar or (self.name or "").upper()
    if usage and not self.required and not var.startswith("["):
        var = f"[{var}]"
    if self.metavar is None and self.nargs != 1:
        var += "..."
    return var


typer.core.TyperArgument.make_metavar = _plain_metavar  # type: ignore[method-assign]


def version_text() -> str:
    from codexprov import __version__

    return f"codexprov {__version__}"


def _show_version(value: bool) -> None:
    if value:
        out(version_text())
        raise typer.Exit(0)


@app.callback()
def _main(
    cli: typer.Context,
    codex_home: str | None = typer.Option(
        None, "--codex-home", metavar="PATH", help="Codex home folder (default: $CODEX_HOME or ~/.codex)."
    ),
    codex: str | None = typer.Option(
        None,
        "--codex",
        metavar="PATH",
        help="The Codex binary to consult (default: $CODEXPROV_CODEX or `codex` on PATH).",
    ),
    version: bool = typer.Option(
        False, "--version", "-V", is_eager=True, callback=_show_version, help="Print codexprov's version and exit."
    ),
    force_write: bool = typer.Option(
        False, "--force", help="Write config files even when they are read-only (chmod 0444); they stay read-only."
    ),
) -> None:
    # The one Context of this invocation (click hands `obj` down to every subcommand's context).
    cli.obj = Context(
        paths.resolve(codex_home, write_read_only=force_write),
        codex_binary=codex or os.environ.get("CODEXPROV_CODEX") or None,
    )


def context(cli: typer.Context) -> Context:
    """The Context the callback built from the global options: what a command hands to the core."""
    found = cli.find_object(Context)
    if found is None:  # a command invoked without the app's callback: a bug, not a user error
        raise RuntimeError("codexprov's CLI callback did not run")
    return found


# ---------------------------------------------------------------------------- output helpers


def read_stdin_line(provider_id: str) -> str:
    """One line of standard input holding a key; bytes that are not UTF-8 are a usage error, not a
    traceback (the key is not echoed)."""
    try:
        return sys.stdin.readline()
    except UnicodeDecodeError:
        raise UsageError(
            "the key on standard input is not valid UTF-8 text; nothing was stored or written",
            hint=f"Pipe the key as plain text, e.g. `printf '%s\\n' \"$KEY\" | codexprov key set {provider_id} --stdin`.",
        ) from None


def confirm(question: str, *, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise CancelledError(
            "cannot ask for confirmation: standard input is not a terminal", hint="Pass --yes to proceed."
        )
    if not typer.confirm(question, default=False, err=True):
        raise CancelledError("cancelled; nothing was changed")
