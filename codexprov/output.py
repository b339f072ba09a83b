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
import re
import sys
from typing import Any

from codexprov.errors import CodexprovError
from codexprov.redact import redact_data, redact_text


def _redact(text: str) -> str:
    """The boundary for text going out: secrets masked, then control characters neutralised."""
    return neutralise(redact_text(text))


# C0 controls but tab and newline (ESC starts every terminal escape sequence; CR rewrites a line),
# DEL, C1 controls (CSI 0x9b works like ESC [ on some terminals), and the bidi overrides and
# isolates that make text display in another order than it reads.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def neutralise(text: str) -> str:
    """Text from a config file, a recipe or a server, made harmless for a terminal: each control
    character shown as its escape (`\\x1b`, `\\u202e`), so it can be seen and cannot act."""
    return _CONTROL.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text
    )


def neutralise_line(text: str) -> str:
    """`neutralise`, and newlines and tabs too: for text that must stay on its line (a table
    cell, a pick list entry), where a newline in an id or a folder name would forge a row."""
    text = neutralise(text)
    if "\n" in text or "\t" in text:
        text = text.replace("\n", "\\n").replace("\t", "\\t")
    return text


def style_enabled(stream: Any) -> bool:
    """Colour and bold only for a terminal; NO_COLOR (any value) removes all styling, FORCE_COLOR
    (any value but 0/false) styles even a pipe; TERM=dumb is plain."""
    if os.environ.get("NO_COLOR"):
        return False
    force = os.environ.get("FORCE_COLOR")
    if force and force.lower() not in ("0", "false", "no"):
        return True
    if os.environ.get("TERM") == "dumb":
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def write(text: str, *, stderr: bool = False) -> None:
    """Already-rendered text (a diff, a rich capture) to stdout or stderr, through the boundary."""
    stream = sys.stderr if stderr else sys.stdout
    # Not neutralised: the caller rendered it (its styling is wanted) from neutralised parts.
    stream.write(redact_text(text))
    stream.flush()


def out(text: str = "") -> None:
    """Data on stdout, printed verbatim (no markup interpretation)."""
    sys.stdout.write(_redact(text) + "\n")


_ANSI = {
    "yellow": "33",
    "red": "31",
    "green": "32",
    "cyan": "36",
    "bold": "1",
    "bold red": "1;31",
    "bold green": "1;32",
    "dim": "2",
}


def _color_ok() -> bool:
    return style_enabled(sys.stderr)


def styled(text: str, style: str, stream: Any) -> str:
    """`text` in ANSI style `style` (a key of _ANSI) when `stream` takes styling."""
    return f"\033[{_ANSI[style]}m{text}\033[0m" if style in _ANSI and style_enabled(stream) else text


def say(text: str, style: str | None = None) -> None:
    """Talk on stderr, verbatim (no markup, so [model_providers.x] stays as written). Plain ANSI
    colour on a terminal: importing rich for one line would cost more than the whole `list`."""
    text = _redact(text)
    if style and style in _ANSI and _color_ok():
        text = f"\033[{_ANSI[style]}m{text}\033[0m"
    sys.stderr.write(text + "\n")


def out_json(data: Any) -> None:
    """JSON on stdout: values under secret-named keys masked, then every string through the boundary."""
    text = redact_text(json.dumps(redact_data(data), indent=2, sort_keys=False, ensure_ascii=False))
    # json.dumps leaves DEL, C1 and bidi controls raw (only inside strings): escape them the JSON
    # way, `\u007f`, which parses back to the same text (`\x7f` would make the output invalid JSON).
    sys.stdout.write(_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")


def out_table(columns: list[str], rows: list[list[str]], *, highlight: frozenset[int] = frozenset()) -> None:
    """A plain aligned table on stdout: never truncated, no markup, cheap to import. On a terminal
    the header is bold and the rows numbered in `highlight` (e.g. the active provider) green."""
    rows = [[neutralise_line(redact_text(str(cell))) for cell in row] for row in rows]
    widths = [max(len(str(r[i])) for r in [columns, *rows]) for i in range(len(columns))]
    lines = [
        "  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in [columns, *rows]
    ]
    if highlight or lines:
        lines[0] = styled(lines[0], "bold", sys.stdout)
        for index in highlight:
            lines[index + 1] = styled(lines[index + 1], "bold green", sys.stdout)
    sys.stdout.write("".join(line + "\n" for line in lines))


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
    active = frozenset(i for i, p in enumerate(summary.providers) if p.active)
    out_table(["", "ID", "NAME", "BASE URL", "KEY", "FROM"], rows, highlight=active)
    model = f", model {summary.model}" if summary.model else ""
    model += f", profile {summary.active_profile}" if summary.active_profile else ""
    where = summary.config_path + ("" if summary.config_exists else ", not created yet")
    say(f"active: {summary.active_provider}{model}  ({where})")


# ---------------------------------------------------------------------------- edits and outcomes


def edit_line(result) -> str:
    """The one sentence for a file codexprov changed: what, where, and the backup `undo` uses."""
    if not result.changed:
        return f"{result.path}: already as requested, nothing changed"
    verb = "removed" if not result.new_text and not result.path.exists() else "wrote"
    return f"{result.description}: {verb} {result.path}" + (f" (backup: {result.backup})" if result.backup else "")


_NOTE_STYLE = {"warning": "yellow", "notice": "yellow", "next": "yellow", "done": "green"}


def render(outcome, *, dry_run_message: str = "dry run: nothing was written") -> None:
    """Render a use case's Outcome: diffs and a dry-run line, or one line per file written; then
    its notes (warnings prefixed `warning:`)."""
    render_edits(outcome.edits, dry_run=outcome.dry_run, dry_run_message=dry_run_message)
    for note in outcome.notes:
        text = f"warning: {note.text}" if note.level == "warning" else note.text
        say(text, style=_NOTE_STYLE.get(note.level))
    if outcome.error is not None:
        raise outcome.error


def render_edits(edits, *, dry_run: bool, dry_run_message: str = "dry run: nothing was written") -> None:
    """The edits part of `render`: diffs and a dry-run line, or one line per file written."""
    if dry_run:
        for result in edits:
            show_diff(result.diff)
        say(dry_run_message)
    else:
        for result in edits:
            say(edit_line(result))


_DIFF_STYLE = (("+++", "bold"), ("---", "bold"), ("@@", "cyan"), ("+", "green"), ("-", "red"))


def show_diff(diff: str, *, stderr: bool = False) -> None:
    """A unified diff on stdout (it is the data of --dry-run), through the redaction boundary;
    control characters from the file neutralised; coloured on a terminal."""
    if not diff:
        if not stderr:
            say("no change")
        return
    stream = sys.stderr if stderr else sys.stdout
    lines = []
    for line in neutralise(diff).splitlines():
        style = next((s for prefix, s in _DIFF_STYLE if line.startswith(prefix)), None)
        lines.append(styled(line, style, stream) if style else line)
    write("\n".join(lines) + "\n", stderr=stderr)
