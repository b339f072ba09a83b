"""The Typer app, output rendering and the one error boundary.

Commands live in the sibling modules (one per area) and stay thin: parse, call one core function,
render what it returns. Nothing below this package prints, prompts or exits.
"""

from __future__ import annotations

import sys
from typing import Any

import typer

from codexprov.cli.app import (  # noqa: F401 - the names command modules and tests used from here
    app,
    confirm,
    context,
    edit_line,
    read_stdin_line,
    render,
    show_diff,
    version_text,
)
from codexprov.errors import CodexprovError
from codexprov.output import out, out_json, out_table, report_error, say  # noqa: F401  (the CLI's output helpers)
from codexprov.redact import key_like_arguments, redact_text, remember

# ---------------------------------------------------------------------------- boundary


def register_commands() -> None:
    """Import the command modules: each registers its commands on `app` when imported."""
    from codexprov.cli import (  # noqa: F401
        bridge,
        completion,
        doctor,
        importing,
        keys,
        models,
        profiles,
        providers,
        recipes,
        sessions,
    )


def _show_click_error(err: Any, argv: list[str]) -> None:
    """A usage error as click words it, through the redaction boundary; arguments that look like
    keys (a key pasted as an argument, the natural first try) are masked wherever click echoes them."""
    import io

    buffer = io.StringIO()
    err.show(file=buffer)
    sys.stderr.write(redact_text(buffer.getvalue(), extra=key_like_arguments(argv)))


def run(argv: list[str]) -> int:
    register_commands()

    # Typer re-exports click's exceptions (vendored in newer Typer, so no `import click`).
    click_exception: Any = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
    try:
        result = app(args=argv, prog_name="codexprov", standalone_mode=False)
    except CodexprovError as err:
        remember(*key_like_arguments(argv))
        report_error(err)
        return err.exit_code
    except typer.Abort:
        report_error(CodexprovError("cancelled; nothing was changed"))
        return 9
    except click_exception as err:
        _show_click_error(err, argv)
        return err.exit_code
    except typer.Exit as err:
        return err.exit_code
    return result if isinstance(result, int) else 0
