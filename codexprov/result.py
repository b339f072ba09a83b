"""What a use case returns for the CLI to render: the files it changed (or would change) and what
the user should be told. One type for every command that writes, so the "wrote PATH (backup: …)"
line, the dry-run diff and the warnings are rendered by one function (codexprov.cli.render).

The core never prints: it returns an Outcome; the CLI decides colours, streams and wording of the
frame around it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from codexprov.errors import CodexprovError

if TYPE_CHECKING:
    from codexprov.config.transaction import EditResult

Level = Literal["info", "warning", "notice", "next", "done"]


@dataclass(frozen=True)
class Note:
    """One line of talk. `warning`, `notice` (said as written, highlighted) and `next` are shown
    highlighted; the text is never a secret."""

    text: str
    level: Level = "info"


@dataclass(frozen=True)
class Outcome:
    """What a use case did: the edits, the notes to show, and the JSON form where there is one."""

    edits: tuple[EditResult, ...] = ()
    notes: tuple[Note, ...] = ()
    dry_run: bool = False
    # What --json shows, when the command has a JSON form.
    data: dict[str, Any] | None = field(default=None, compare=False)
    # A failure after the edits were made (e.g. the keyring, once the config changed): rendered
    # after them, so the user sees what was done and then why the rest was not.
    error: CodexprovError | None = field(default=None, compare=False)

    def with_notes(self, *notes: Note) -> Outcome:
        return Outcome(self.edits, self.notes + tuple(notes), self.dry_run, self.data, self.error)


def warning(text: str) -> Note:
    return Note(text, "warning")


def info(text: str) -> Note:
    return Note(text, "info")


def notice(text: str) -> Note:
    return Note(text, "notice")


def next_step(text: str) -> Note:
    return Note(text, "next")
