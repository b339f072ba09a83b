"""The Typer app, output rendering and the one error boundary.

Commands live in the sibling modules (one per area) and stay thin: parse, call one core function,
render what it returns. Nothing below this package prints, prompts or exits.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any, Optional

import typer

from codexprov.errors import CodexprovError
from codexprov.output import out, out_json, out_table, report_error, say  # noqa: F401  (the CLI's output helpers)

app = typer.Typer(
    name="codexprov",
    help="Manage model providers for the OpenAI Codex CLI: edits config.toml in place, keeps keys in the OS keyring.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@dataclass
class State:
    codex_home: Optional[str] = None
    codex_binary: Optional[str] = None
    force_write: bool = False

    _paths: Any = None

    @property
    def paths(self):
        if self._paths is None:
            from codexprov import paths

            self._paths = paths.resolve(self.codex_home, write_read_only=self.force_write)
        return self._paths


state = State()


@app.callback()
def _main(
    codex_home: Optional[str] = typer.Option(
        None, "--codex-home", metavar="PATH", help="Codex home folder (default: $CODEX_HOME or ~/.codex)."
    ),
    codex: Optional[str] = typer.Option(
        None, "--codex", metavar="PATH", help="The Codex binary to consult (default: $CODEXPROV_CODEX or `codex` on PATH)."
    ),
    force_write: bool = typer.Option(
        False, "--force", help="Write config files even when they are read-only (chmod 0444); they stay read-only."
    ),
) -> None:
    state.codex_home = codex_home
    state.force_write = force_write
    state.codex_binary = codex or os.environ.get("CODEXPROV_CODEX") or None
    state._paths = None


# ---------------------------------------------------------------------------- output helpers


def _console(stderr: bool):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def show_diff(diff: str) -> None:
    """A unified diff on stdout (it is the data of --dry-run). Already free of secrets."""
    if not diff:
        say("no change")
        return
    sys.stdout.write(diff if diff.endswith("\n") else diff + "\n")


def confirm(question: str, *, yes: bool) -> None:
    from codexprov.errors import CancelledError

    if yes:
        return
    if not sys.stdin.isatty():
        raise CancelledError(
            "cannot ask for confirmation: standard input is not a terminal", hint="Pass --yes to proceed."
        )
    if not typer.confirm(question, default=False, err=True):
        raise CancelledError("cancelled; nothing was changed")


# ---------------------------------------------------------------------------- boundary


def run(argv: list[str]) -> int:
    from codexprov.cli import doctor, keys, profiles, providers, recipes  # noqa: F401  (registers commands)

    # Typer re-exports click's exceptions (vendored in newer Typer, so no `import click`).
    click_exception = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
    try:
        result = app(args=argv, prog_name="codexprov", standalone_mode=False)
    except CodexprovError as err:
        report_error(err)
        return err.exit_code
    except typer.Abort:
        report_error(CodexprovError("cancelled; nothing was changed"))
        return 9
    except click_exception as err:
        err.show()
        return err.exit_code
    except typer.Exit as err:
        return err.exit_code
    return result if isinstance(result, int) else 0
