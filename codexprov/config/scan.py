"""Split a TOML text into sections without a full parse.

tomlkit needs ~1 s for a 6,000-line config, most of it `[projects."…"]` tables an edit never
touches. The scanner finds where each table header starts (ignoring `[` inside strings, multi-line
strings and arrays), so an edit can hand tomlkit only the sections it concerns. It assumes the
text already parsed (document.parse); it is not a validator.
"""

from __future__ import annotations

import functools
import re

from codexprov.config.document import loads

# One token of interest on a line: strings (so their brackets and '#' are skipped), comments, brackets.
_TOKEN = re.compile(r'"""|\'\'\'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|#|[\[\]{}]')
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_KEY_PART = re.compile(r'\s*(?:([A-Za-z0-9_-]+)|("(?:[^"\\]|\\.)*")|(\'[^\']*\'))\s*')


class Section:
    """A slice text[start:end]. The preamble (root keys before the first header) has header ().

    A plain class with slots: a big config has thousands of sections and this is on the hot path.
    """

    __slots__ = ("end", "header_start", "is_array", "keys", "last_value_end", "raw_header", "start")

    def __init__(self, raw_header, is_array, start, header_start, end, keys, last_value_end):
        self.raw_header: str = raw_header  # the text between the brackets
        self.is_array: bool = is_array
        self.start: int = start  # includes comment lines directly above the header
        self.header_start: int = header_start
        self.end: int = end
        # First key part of each key/value written directly in this section (e.g. "model_providers"
        # for a dotted `model_providers.x.name = …`).
        self.keys: frozenset[str] = keys
        # Offset just after the last key/value line (where a new key can be added), or None.
        self.last_value_end: int | None = last_value_end

    @property
    def header(self) -> tuple[str, ...]:
        return _header_key(self.raw_header) if self.raw_header else ()

    def under(self, prefix: tuple[str, ...]) -> bool:
        """True when this section's table is `prefix` or inside it."""
        if not prefix:
            return True
        if not self.raw_header:
            return False
        m = _BARE_KEY.match(self.raw_header.lstrip())
        if m and not self.raw_header.lstrip().startswith(('"', "'")) and m.group() != prefix[0]:
            return False  # fast reject without parsing the whole key
        return self.header[: len(prefix)] == prefix

    def __repr__(self) -> str:
        return f"Section({self.header!r}, {self.start}-{self.end})"


@functools.lru_cache(maxsize=4096)
def _header_key(raw: str) -> tuple[str, ...]:
    return parse_key(raw)[0]


def parse_key(text: str) -> tuple[tuple[str, ...], int]:
    """Parse a dotted key at the start of `text`; returns the parts and the offset after it."""
    parts: list[str] = []
    pos = 0
    while True:
        m = _KEY_PART.match(text, pos)
        if not m:
            raise ValueError(f"not a key: {text!r}")
        bare, basic, literal = m.groups()
        if bare is not None:
            parts.append(bare)
        elif literal is not None:
            parts.append(literal[1:-1])
        elif "\\" not in basic:
            parts.append(basic[1:-1])
        else:
            # TOML 1.1 escapes (\e, \xHH) in keys too
            parts.append(loads(f"k = {basic}")["k"])
        pos = m.end()
        if pos < len(text) and text[pos] == ".":
            pos += 1
            continue
        return tuple(parts), pos


def scan(text: str, *, preamble_only: bool = False) -> list[Section]:
    """The preamble first (possibly empty), then one Section per table header, in file order.

    With preamble_only, stops at the first header (enough to edit root keys)."""
    lines = text.splitlines(keepends=True)
    ml: str | None = None  # inside a multi-line string: its delimiter
    depth = 0  # inside a multi-line array / inline table
    # Per line, top level only: "b"lank, "c"omment, "h"eader, "v"alue (part of a key/value).
    kinds: list[str] = []
    headers: list[tuple[int, str, bool]] = []  # (line index, raw key text, is_array)
    keys_by_section: list[set[str]] = [set()]
    last_value_line: list[int | None] = [None]
    key_part = _KEY_PART.match
    token = _TOKEN.search

    for index, line in enumerate(lines):
        if ml is None and depth == 0:
            stripped = line.strip()
            if not stripped:
                kinds.append("b")
                continue
            first_char = stripped[0]
            if first_char == "#":
                kinds.append("c")
                continue
            if first_char == "[":
                if preamble_only:
                    break
                is_array = stripped.startswith("[[")
                inner = stripped[2:] if is_array else stripped[1:]
                _, after = parse_key(inner) if ('"' in inner or "'" in inner) else (None, inner.index("]"))
                headers.append((index, inner[:after].strip(), is_array))
                keys_by_section.append(set())
                last_value_line.append(None)
                kinds.append("h")
                continue
            m = key_part(line)
            first = m.group(1) if m else None
            if first is None:
                first = parse_key(line)[0][0]
            keys_by_section[-1].add(first)
            kinds.append("v")
            last_value_line[-1] = index
            pos = line.find("=") + 1
            rest = line[pos:]
            if '"""' not in rest and "'''" not in rest and "[" not in rest and "{" not in rest:
                continue  # a one-line scalar: nothing can stay open
        else:
            kinds.append("v")
            last_value_line[-1] = index
            pos = 0
        if ml is not None:
            close = _find_close(line, ml, 0)
            if close < 0:
                continue
            ml = None
            pos = close
        while True:
            m = token(line, pos)
            if not m:
                break
            tok = m.group()
            if tok == "#":
                break
            if tok in ('"""', "'''"):
                close = _find_close(line, tok, m.end())
                if close < 0:
                    ml = tok
                    break
                pos = close
                continue
            if tok in "[{":
                depth += 1
            elif tok in "]}":
                depth -= 1
            pos = m.end()

    return _sections(text, lines, kinds, headers, keys_by_section, last_value_line, preamble_only)


def _sections(
    text: str,
    lines: list[str],
    kinds: list[str],
    headers: list[tuple[int, str, bool]],
    keys_by_section: list[set[str]],
    last_value_line: list[int | None],
    preamble_only: bool,
) -> list[Section]:
    """`scan`'s second pass: the line classes it found, turned into sections with byte offsets."""
    offsets = [0] * (len(lines) + 1)
    total = 0
    for i, line in enumerate(lines):
        offsets[i] = total
        total += len(line)
    offsets[len(lines)] = total

    def end_of(line_index: int | None) -> int | None:
        return None if line_index is None else offsets[line_index + 1]

    starts = []
    for line_index, raw, is_array in headers:
        # Comment lines directly above a header belong to it, unless they open the file.
        probe = line_index - 1
        while probe >= 0 and kinds[probe] == "c":
            probe -= 1
        start_line = probe + 1 if 0 <= probe < line_index - 1 else line_index
        starts.append((offsets[start_line], offsets[line_index], raw, is_array))

    preamble_end = starts[0][0] if starts else (offsets[len(kinds)] if preamble_only else len(text))
    if preamble_only and not starts and len(kinds) < len(lines):
        # Stopped at the first header: the comment lines above it belong to it.
        probe = len(kinds) - 1
        while probe >= 0 and kinds[probe] == "c":
            probe -= 1
        preamble_end = offsets[probe + 1] if 0 <= probe < len(kinds) - 1 else offsets[len(kinds)]
    sections = [Section("", False, 0, 0, preamble_end, frozenset(keys_by_section[0]), end_of(last_value_line[0]))]
    for i, (start, header_start, raw, is_array) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        sections.append(
            Section(
                raw,
                is_array,
                start,
                header_start,
                end,
                frozenset(keys_by_section[i + 1]),
                end_of(last_value_line[i + 1]),
            )
        )
    return sections


def _find_close(line: str, delim: str, pos: int) -> int:
    """Offset just after the closing multi-line delimiter on this line, or -1."""
    while True:
        i = line.find(delim, pos)
        if i < 0:
            return -1
        if delim == '"""':
            backslashes = 0
            j = i - 1
            while j >= 0 and line[j] == "\\":
                backslashes += 1
                j -= 1
            if backslashes % 2 == 1:
                pos = i + 1
                continue
        end = i + 3
        # Up to two extra quotes just before the delimiter belong to the string.
        extra = 0
        while end < len(line) and line[end] == delim[0] and extra < 2:
            end += 1
            extra += 1
        return end
