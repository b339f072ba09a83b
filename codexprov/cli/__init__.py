"""The Typer app, output rendering and the one error boundary.

Commands live in the sibling modules (one per area) and stay thin: parse, call one core function,
render what it returns. Nothing below this package prints, prompts or exits.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from typing import Any, Optional

import typer

from codexprov.errors import CodexprovError

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

    _paths: Any = None

    @property
    def paths(self):
        if self._paths is None:
            from codexprov import paths

            self._paths = paths.resolve(self.codex_home)
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
) -> None:
    state.codex_home = codex_home
    state.codex_binary = codex or os.environ.get("CODEXPROV_CODEX") or None
    state._paths = None


# ---------------------------------------------------------------------------- output helpers


def _console(stderr: bool):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def out(text: str = "") -> None:
    """Data on stdout, printed verbatim (no markup interpretation)."""
    sys.stdout.write(text + "\n")


_ANSI = {"yellow": "33", "red": "31", "green": "32", "bold": "1", "bold red": "1;31", "dim": "2"}


def _color_ok() -> bool:
    return sys.stderr.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def say(text: str, style: str | None = None) -> None:
    """Talk on stderr, verbatim (no markup, so [model_providers.x] stays as written). Plain ANSI
    colour on a terminal: importing rich for one line would cost more than the whole `list`."""
    if style and style in _ANSI and _color_ok():
        text = f"\033[{_ANSI[style]}m{text}\033[0m"
    sys.stderr.write(text + "\n")


def out_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n")


def out_table(columns: list[str], rows: list[list[str]]) -> None:
    """A plain aligned table on stdout: never truncated, no markup, cheap to import."""
    widths = [max(len(str(r[i])) for r in [columns, *rows]) for i in range(len(columns))]
    for row in [columns, *rows]:
        sys.stdout.write("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)).rstrip() + "\n")


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


def report_error(err: CodexprovError) -> None:
    from codexprov.redact import redact_text

    label = "\033[1;31merror:\033[0m" if _color_ok() else "error:"
    sys.stderr.write(f"{label} {redact_text(err.message)}\n")
    if err.detail:
        say(redact_text(err.detail), style="dim")
    if err.hint:
        say(f"hint: {redact_text(err.hint)}")


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
