"""Locating keys in TOML text: the line a finding points at, and which layer wrote a provider's field.

Works on the text (config.scan), so a table written as a header, as dotted keys or as an inline
table is found alike; nothing here parses values.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from codexprov import safe_read
from codexprov.config.scan import parse_key, scan
from codexprov.doctor.layers import Layer

_LINE = re.compile(r"[^\n]*\n?")


class Location(NamedTuple):
    file: str | None
    line: int | None
    kind: str | None  # the layer kind of the file (None: not written anywhere)


NOWHERE = Location(None, None, None)


def line_of(text: str, table: tuple[str, ...], key: str | None = None) -> int | None:
    """1-based line of `key` in the table at `table` (its header line when key is None)."""
    try:
        sections = scan(text)
    except (ValueError, IndexError):
        return None
    header_line = None
    for section in sections:
        if section.header != table and not (not table and section is sections[0]):
            continue
        start = section.header_start
        if table:
            header_line = text.count("\n", 0, start) + 1
            if key is None:
                return header_line
        body = text[start : section.end]
        offset = start
        for m in _LINE.finditer(body):
            line = m.group()
            if not line:
                break
            stripped = line.lstrip()
            if stripped[:1] not in ("", "#", "[") and "=" in stripped:
                try:
                    parts, _ = parse_key(stripped.split("=", 1)[0])
                except ValueError:
                    parts = ()
                if parts[:1] == (key,):
                    return text.count("\n", 0, offset + m.start()) + 1
    if key is not None:
        sub = (*table, key)
        for section in sections[1:]:
            if section.header == sub:
                return text.count("\n", 0, section.header_start) + 1
    if header_line is not None:
        return header_line
    # Written as dotted keys or an inline table further up: the first mention will do.
    needle = key or (table[-1] if table else None)
    if needle:
        mention = re.search(rf"(^|[\s.\"'{{,]){re.escape(needle)}[\"']?\s*[=.\]]", text, re.M)
        if mention:
            return text.count("\n", 0, mention.start()) + 1
    return None


def provider_field(pid: str, key: str | None, layers: Sequence[Layer]) -> Location:
    """Where the highest layer that writes this provider's `key` (or its table) writes it."""
    for layer in reversed(layers):
        table = layer.providers().get(pid)
        if isinstance(table, dict) and (key is None or key in table):
            return Location(str(layer.path), line_of(layer.text, ("model_providers", pid), key), layer.kind)
    return NOWHERE


def auth_field(pid: str, key: str, auth_table: Location) -> Location:
    """Where `auth.KEY` is written, given where the provider's auth table is."""
    file, line, kind = auth_table
    if file is not None:
        try:
            text = safe_read.read_text(file)
            line = line_of(text, ("model_providers", pid, "auth"), key) or line
        except OSError:
            pass
    return Location(file, line, kind)
