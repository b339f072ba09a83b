"""Text surgery: edits made on the text itself, for what a tomlkit edit cannot do.

- duplicates: a file with a duplicate key or a table declared twice does not parse (Codex refuses
  it too), so `find_duplicate` locates every definition with the scanner and `remove_duplicate`
  cuts all but one; `doctor --fix` runs it through `transaction.apply_text_edit`.
- `rename_table`: rewrite the headers of a table and its sub-tables (a provider under a reserved id).
- `table_as_file`: a table and its sub-tables as a file of their own (a legacy [profiles.NAME] as
  NAME.config.toml), comments kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codexprov.config.document import TOMLDecodeError, config_error_from, loads
from codexprov.config.edit import EditImpossible, defines_under
from codexprov.config.scan import parse_key, scan
from codexprov.errors import CodexprovError
from codexprov.redact import redact_text


@dataclass(frozen=True)
class Definition:
    """One definition of a key or table in the text: its line and the span that goes with it."""

    line: int  # 1-based
    start: int  # text offsets of the span removed when this definition goes
    end: int
    first_line: str  # the definition's first line, secrets masked


@dataclass(frozen=True)
class Duplicate:
    """A key or table defined more than once, with every definition."""

    kind: str  # "key" | "table"
    name: str  # e.g. `model` or `[model_providers.acme]`
    definitions: tuple[Definition, ...]


def find_duplicate(text: str) -> Duplicate | None:
    """The duplicate the reader stops at, with every definition of it, or None (parses, or another error)."""
    try:
        loads(text)
        return None
    except TOMLDecodeError as err:
        error = config_error_from(err, text, Path("config.toml"))
    if error.line is None:
        return None
    lines = text.splitlines(keepends=True)
    if error.line > len(lines):
        return None
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    shown = lines[error.line - 1]
    try:
        sections = scan(text)
    except (ValueError, IndexError):
        return None
    if error.reason.endswith("declared twice") or shown.lstrip().startswith("["):
        return _duplicate_table(text, shown, sections)
    if error.reason == "duplicate key":
        return _duplicate_key(text, lines, offsets, error.line, sections)
    return None


def _duplicate_table(text: str, shown: str, sections: list[Any]) -> Duplicate | None:
    body = shown.strip()
    if body.startswith("[["):
        return None
    try:
        parts, _ = parse_key(body[1:])
    except ValueError:
        return None
    found = [s for s in sections[1:] if s.header == parts and not s.is_array]
    if len(found) < 2:
        return None
    defs = tuple(
        Definition(text.count("\n", 0, s.header_start) + 1, s.start, s.end, _first_line(text, s.header_start))
        for s in found
    )
    return Duplicate("table", "[" + ".".join(parts) + "]", defs)


def _duplicate_key(
    text: str, lines: list[str], offsets: list[int], line_no: int, sections: list[Any]
) -> Duplicate | None:
    def key_of(line: str) -> tuple[str, ...] | None:
        stripped = line.lstrip()
        if not stripped or stripped[0] in "#[":
            return None
        try:
            parts, after = parse_key(stripped)
        except ValueError:
            return None
        return parts if stripped[after:].lstrip().startswith("=") else None

    wanted = key_of(lines[line_no - 1])
    if wanted is None:
        return None
    at = offsets[line_no - 1]
    section = sections[0]
    for s in sections[1:]:
        if s.header_start <= at:
            section = s
    lo = section.header_start if section is not sections[0] else 0
    hi = section.end
    defs = []
    index = next(i for i, off in enumerate(offsets) if off >= lo)
    while index < len(lines) and offsets[index] < hi:
        if key_of(lines[index]) == wanted:
            end = _value_end(lines, index, offsets, hi)
            if end is None:
                return None
            defs.append(Definition(index + 1, offsets[index], offsets[end], _first_line(text, offsets[index])))
            index = end
            continue
        index += 1
    if len(defs) < 2:
        return None
    return Duplicate("key", ".".join(wanted), tuple(defs))


def _value_end(lines: list[str], index: int, offsets: list[int], hi: int) -> int | None:
    """Index of the line after the key/value starting at `index` (it may span lines)."""
    for end in range(index + 1, min(len(lines), index + 400) + 1):
        if offsets[end - 1] >= hi and end - 1 > index:
            return None
        try:
            loads("".join(lines[index:end]))
            return end
        except TOMLDecodeError:
            continue
    return None


def _first_line(text: str, start: int) -> str:
    end = text.find("\n", start)
    return redact_text(text[start : end if end >= 0 else len(text)].rstrip("\r"))


def remove_duplicate(text: str, dup: Duplicate, keep: int) -> str:
    """`text` with every definition of `dup` but `keep` (an index; -1 = the last) removed."""
    keep = keep % len(dup.definitions)
    out = text
    for i, d in reversed(list(enumerate(dup.definitions))):
        if i != keep:
            out = out[: d.start] + out[d.end :]
    try:
        loads(out)
    except TOMLDecodeError as err:
        again = find_duplicate(out)
        if again is None:
            raise CodexprovError(
                f"removing the duplicate {dup.name} would leave the file invalid ({err}); nothing was written",
                hint="Edit the file by hand.",
            ) from None
    return out


def rename_table(text: str, old: tuple[str, ...], new: tuple[str, ...]) -> str:
    """Rewrite the headers of the table at `old` and its sub-tables to `new`; everything else kept.
    EditImpossible when the table is (also) written as dotted keys or an inline table."""
    import tomlkit

    sections = scan(text)
    targets = [s for s in sections[1:] if s.under(old)]
    if not targets or any(defines_under(s, old) for s in sections if s not in targets):
        raise EditImpossible(f"[{'.'.join(old)}] is written as dotted keys or an inline table")
    out = text
    for s in reversed(targets):
        end = text.find("\n", s.header_start)
        end = len(text) if end < 0 else end
        line = text[s.header_start : end]
        opener = "[[" if s.is_array else "["
        inner = line[len(opener) :]
        parts, after = parse_key(inner)
        key = ".".join(tomlkit.key(k).as_string() for k in (*new, *parts[len(old) :]))
        out = out[: s.header_start] + opener + key + inner[after:] + out[end:]
    return out


def table_as_file(text: str, key_path: tuple[str, ...]) -> str | None:
    """The table at key_path and its sub-tables as a file of their own (e.g. [profiles.NAME] as
    NAME.config.toml): comments kept, headers re-rooted, "\n" line ends. None when the table is
    not written as [headers] (dotted keys or an inline table: render its data instead)."""
    import tomlkit

    depth = len(key_path)
    sections = [s for s in scan(text)[1:] if s.under(key_path)]
    if not sections:
        return None
    # The table's own keys must come before any sub-table in a file.
    sections.sort(key=lambda s: len(s.header) != depth)
    parts = []
    for s in sections:
        chunk = text[s.start : s.end]
        head_at = s.header_start - s.start
        line_end = chunk.find("\n", head_at)
        line_end = len(chunk) if line_end < 0 else line_end + 1
        header_line = chunk[head_at:line_end]
        comment = ""
        close = header_line.find("]]" if s.is_array else "]")
        rest = header_line[close + (2 if s.is_array else 1) :] if close >= 0 else "\n"
        if rest.strip().startswith("#"):
            comment = rest.rstrip("\r\n")
        if len(s.header) == depth:
            new_header = ""
        else:
            key = ".".join(tomlkit.key(k).as_string() for k in s.header[depth:])
            new_header = (f"[[{key}]]" if s.is_array else f"[{key}]") + comment + "\n"
            comment = ""
        body = chunk[:head_at] + (comment.lstrip() + "\n" if comment else "") + new_header + chunk[line_end:]
        parts.append(body)
    out = "".join(parts).strip("\r\n") + "\n"
    return out.replace("\r\n", "\n")
