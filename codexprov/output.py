"""Output helpers with no dependency on typer or rich: stdout is data, stderr is talk.

Kept out of the `cli` package so that the `list` fast path in __main__ can render without
importing typer (see codexprov/__main__.py).

This is the output edge: every helper here passes its text through the one redaction boundary
(`codexprov.redact.redact_text`, or `redact_data` for JSON), so a command never masks on its own
and new output is covered by using these helpers. `write()` is the edge for text rendered
elsewhere (rich, diffs). The only writes that bypass it are the deliberate ones: `codexprov token`
and `codexprov env` print keys because that is their job.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from codexprov.errors import CodexprovError


def _redact(text: str) -> str:
    from codexprov.redact import redact_text

    return redact_text(text)


def write(text: str, *, stderr: bool = False) -> None:
    """Already-rendered text (a diff, a rich capture) to stdout or stderr, through the boundary."""
    stream = sys.stderr if stderr else sys.stdout
    stream.write(_redact(text))
    stream.flush()


def out(text: str = "") -> None:
    """Data on stdout, printed verbatim (no markup interpretation)."""
    sys.stdout.write(_redact(text) + "\n")


_ANSI = {"yellow": "33", "red": "31", "green": "32", "bold": "1", "bold red": "1;31", "dim": "2"}


def _color_ok() -> bool:
    return sys.stderr.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def say(text: str, style: str | None = None) -> None:
    """Talk on stderr, verbatim (no markup, so [model_providers.x] stays as written). Plain ANSI
    colour on a terminal: importing rich for one line would cost more than the whole `list`."""
    text = _redact(text)
    if style and style in _ANSI and _color_ok():
        text = f"\033[{_ANSI[style]}m{text}\033[0m"
    sys.stderr.write(text + "\n")


def out_json(data: Any) -> None:
    """JSON on stdout: values under secret-named keys masked, then every string through the boundary."""
    from codexprov.redact import redact_data

    sys.stdout.write(_redact(json.dumps(redact_data(data), indent=2, sort_keys=False, ensure_ascii=False)) + "\n")


def out_table(columns: list[str], rows: list[list[str]]) -> None:
    """A plain aligned table on stdout: never truncated, no markup, cheap to import."""
    rows = [[_redact(str(cell)) for cell in row] for row in rows]
    widths = [max(len(str(r[i])) for r in [columns, *rows]) for i in range(len(columns))]
    sys.stdout.write(
        "".join(
            "  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() + "\n"
            for row in [columns, *rows]
        )
    )


def report_error(err: CodexprovError) -> None:
    label = "\033[1;31merror:\033[0m" if _color_ok() else "error:"
    sys.stderr.write(f"{label} {_redact(err.message)}\n")
    if err.detail:
        say(err.detail, style="dim")
    if err.hint:
        say(f"hint: {err.hint}")


def render_provider_list(summary, *, as_json: bool) -> None:
    """`codexprov list`: a table on stdout (or JSON), the active selection on stderr."""
    if as_json:
        out_json(
            {
                "config": summary.config_path,
                "active_provider": summary.active_provider,
                "model": summary.model,
                "active_profile": summary.active_profile,
                "providers": [p.to_json() for p in summary.providers],
            }
        )
        return
    rows = [
        [
            "*" if p.active else "",
            p.id,
            p.name,
            p.base_url or "-",
            p.key_source.describe(),
            "built-in" if p.builtin and not p.configured else ("built-in+config" if p.builtin else "config"),
        ]
        for p in summary.providers
    ]
    out_table(["", "ID", "NAME", "BASE URL", "KEY", "FROM"], rows)
    model = f", model {summary.model}" if summary.model else ""
    model += f", profile {summary.active_profile}" if summary.active_profile else ""
    where = summary.config_path + ("" if summary.config_exists else ", not created yet")
    say(f"active: {summary.active_provider}{model}  ({where})")
