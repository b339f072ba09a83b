"""Text -> text edits that change only the lines they concern.

Each function takes the whole file text (already validated by document.parse) and returns the new text.
tomlkit only ever sees the few sections an edit concerns (see scan.py for why); everything else is
copied through byte for byte. Callers verify the result means what was intended
(transaction.apply_edit does), so a layout these functions cannot handle fails loudly, never silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from codexprov.config.document import TOMLDecodeError, loads, newline_of, same_data
from codexprov.config.scan import Section, parse_key, scan

_LONE_LF = re.compile(r"(?<!\r)\n")


class EditImpossible(Exception):
    """The edit cannot be made without disturbing other parts of the file (an internal signal)."""


def _to_newline(text: str, newline: str) -> str:
    return _LONE_LF.sub("\r\n", text) if newline == "\r\n" else text


def _always_match(pattern: str, text: str) -> str:
    """What `pattern` finds in `text`, for patterns that also match the empty string (so they always
    match: the first one at the start of the text)."""
    found = re.search(pattern, text)
    return found.group() if found else ""


def _tomlkit_value(value: Any, *, inline: bool):
    import tomlkit

    if isinstance(value, dict):
        if inline:
            inline_table = tomlkit.inline_table()
            for k, v in value.items():
                inline_table[k] = _tomlkit_value(v, inline=True)
            return inline_table
        t = tomlkit.table()
        for k, v in value.items():
            t[k] = _tomlkit_value(v, inline=not _is_subtable(k, v))
        return t
    if isinstance(value, (list, tuple)):
        arr = tomlkit.array()
        arr.extend(_tomlkit_value(v, inline=True) for v in value)
        return arr
    return tomlkit.item(value)


def _is_subtable(key: str, value: Any) -> bool:
    # Small maps (query_params, http_headers) read best inline, as Codex's docs write them; the
    # auth command and nested tables (aws) get their own [a.b.c] section.
    return isinstance(value, dict) and (key in ("auth", "aws") or any(isinstance(v, dict) for v in value.values()))


def toml_item(key: str, value: Any):
    """The tomlkit item codexprov writes for `key = value` in a table: small maps inline, the auth
    command and nested maps as their own [a.b.c] sections. For edits made with `scoped_edit`."""
    return _tomlkit_value(value, inline=not _is_subtable(key, value))


def assign(table: Any, key: str, value: Any) -> None:
    """`table[key] = value` in a tomlkit table, for edits made with `scoped_edit`. An inline table
    already there keeps its layout: a multi-line one (TOML 1.1) keeps its lines, comments and
    trailing comma; removed keys lose their line, changed ones are rewritten in place, new ones are
    added after the last entry in the same indentation. A layout it cannot follow is rewritten."""
    import tomlkit
    import tomlkit.items

    current = table.get(key) if key in table else None
    if isinstance(current, tomlkit.items.InlineTable) and isinstance(value, dict) and not _is_subtable(key, value):
        kept = _edit_inline_text(current.as_string(), value)
        if kept is not None:
            table[key] = tomlkit.parse(f"t = {kept}\n")["t"]
            return
    table[key] = toml_item(key, value)


_COMMENT_OR_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|#')


def _comment_at(line: str) -> int:
    """Offset of the comment on a one-line entry (outside strings), or len(line)."""
    for m in _COMMENT_OR_STRING.finditer(line):
        if m.group() == "#":
            return m.start()
    return len(line)


def _entry(line: str) -> tuple[str, Any] | None:
    """(key, value) when the line is exactly one complete `key = value,` entry of an inline table."""
    if not line.strip() or line.lstrip().startswith("#"):
        return None
    try:
        data = loads("t = {\n" + line + "\n}")["t"]
    except TOMLDecodeError:
        return None
    if len(data) != 1:
        return None
    ((k, v),) = data.items()
    return (k, v) if not isinstance(v, dict) else None


def _edit_inline_text(text: str, new: dict[str, Any]) -> str | None:
    """The inline table `text` changed to hold `new`, every line it keeps as it was; None when its
    layout is not one entry per line (then the caller renders the table afresh)."""
    import tomlkit

    lines = text.split("\n")
    if len(lines) < 3 or "{" not in lines[0] or lines[-1].strip() != "}":
        return None  # one line: tomlkit keeps that layout by itself, but simpler to render it again
    cr = "\r" if lines[0].endswith("\r") else ""
    out = [lines[0]]
    seen: set[str] = set()
    indent = "  "
    last = None  # index in `out` of the last entry line
    for line in lines[1:-1]:
        bare = line.rstrip("\r")
        if not bare.strip() or bare.lstrip().startswith("#"):
            out.append(line)
            continue
        entry = _entry(bare)
        if entry is None:
            return None  # a value over several lines, or two entries on one line
        k, v = entry
        indent = bare[: len(bare) - len(bare.lstrip())]
        if k not in new:
            continue
        seen.add(k)
        if same_data(v, new[k]):
            out.append(line)
        else:
            at = _comment_at(bare)
            comment = bare[at:]
            body = bare[:at].rstrip()
            key_text = bare[: len(indent) + parse_key(bare[len(indent) :])[1]].rstrip()
            gap = bare[len(body) : at] if comment else ""
            value_text = tomlkit.item(new[k]).as_string()
            out.append(f"{key_text} = {value_text}{',' if body.endswith(',') else ''}{gap}{comment}{cr}")
        last = len(out) - 1
    added = [
        f"{indent}{tomlkit.key(k).as_string()} = {tomlkit.item(v).as_string()},{cr}"
        for k, v in new.items()
        if k not in seen
    ]
    if added:
        if last is not None:
            bare = out[last].rstrip("\r")
            at = _comment_at(bare)
            body = bare[:at].rstrip()
            if not body.endswith(","):
                out[last] = body + "," + bare[len(body) :] + cr
        position = last + 1 if last is not None else len(out)
        out[position:position] = added
    out.append(lines[-1])
    result = "\n".join(out)
    try:
        if not same_data(loads(f"t = {result}\n")["t"], new):
            return None
    except TOMLDecodeError:
        return None
    return result


def render_section(key_path: tuple[str, ...], table: dict[str, Any]) -> str:
    """`[a.b]` plus its keys (and sub-table sections), with "\n" newlines and no blank line at the end."""
    plain = _render_plain_section(key_path, table)
    if plain is not None:
        return plain
    import tomlkit

    doc = tomlkit.document()
    node = tomlkit.table(is_super_table=True) if len(key_path) > 1 else None
    inner = _tomlkit_value(table, inline=False)
    if node is None:
        doc[key_path[0]] = inner
    else:
        current = node
        doc[key_path[0]] = node
        for part in key_path[1:-1]:
            nxt = tomlkit.table(is_super_table=True)
            current[part] = nxt
            current = nxt
        current[key_path[-1]] = inner
    return doc.as_string().strip("\n") + "\n"


def _plain_scalar(value: Any) -> str | None:
    """A value's TOML text as tomlkit writes it, for the values provider tables hold: strings that
    need no escaping, booleans, integers, and arrays and small maps of those; None otherwise."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return f'"{value}"' if _UNESCAPED.fullmatch(value) else None
    if isinstance(value, (list, tuple)):
        items = [_plain_scalar(v) if not isinstance(v, (list, tuple, dict)) else None for v in value]
        return None if None in items else "[" + ", ".join(items) + "]"  # type: ignore[arg-type]
    if isinstance(value, dict):
        pairs = [_plain_pair(k, v) if not isinstance(v, (list, tuple, dict)) else None for k, v in value.items()]
        return None if None in pairs else "{" + ", ".join(pairs) + "}"  # type: ignore[arg-type]
    return None


def _plain_pair(key: Any, value: Any) -> str | None:
    text = _plain_scalar(value)
    return None if text is None or not isinstance(key, str) or not _BARE.fullmatch(key) else f"{key} = {text}"


# No quote, backslash or control character: tomlkit writes such a string as it is, between quotes.
_UNESCAPED = re.compile(r"[^\"\\\x00-\x1f\x7f]*")


def _render_plain_section(key_path: tuple[str, ...], table: dict[str, Any]) -> str | None:
    """render_section without tomlkit (~20 ms to import; `show` is typed often), for tables of plain
    values (see _plain_scalar) with bare keys, and sub-tables (auth, aws) of such values; None for
    anything else. tests/test_speed_paths.py holds it to tomlkit's output, byte for byte."""
    if not all(isinstance(part, str) and _BARE.fullmatch(part) for part in key_path):
        return None
    head = ".".join(key_path)
    lines = [f"[{head}]"]
    subtables: list[str] = []
    for key, value in table.items():
        if _is_subtable(key, value):
            if not isinstance(key, str) or not _BARE.fullmatch(key):
                return None
            sub = [f"[{head}.{key}]"]
            for k, v in value.items():
                if _is_subtable(k, v):
                    return None
                pair = _plain_pair(k, v)
                if pair is None:
                    return None
                sub.append(pair)
            subtables.append("\n".join(sub))
            continue
        pair = _plain_pair(key, value)
        if pair is None:
            return None
        lines.append(pair)
    if len(lines) == 1 and subtables:
        lines = []  # only sub-tables: tomlkit leaves the parent's header out
    return "\n\n".join(["\n".join(lines), *subtables] if lines else subtables) + "\n"


def _join(before: str, insert: str, after: str, newline: str) -> str:
    """Insert a block with one blank line around it, not disturbing the text either side."""
    if before and not before.endswith(("\n",)):
        before += newline
    lead = newline if before.strip() and not before.endswith(newline * 2) else ""
    trail = newline if after.strip() else ""
    return before + lead + insert + trail + after


def set_root_keys(text: str, values: dict[str, Any]) -> str:
    """Set (or, with value None, delete) top-level keys such as model_provider and model."""
    newline = newline_of(text)
    pre = scan(text, preamble_only=True)[0]
    preamble, rest = text[: pre.end], text[pre.end :]
    existing = {k: v for k, v in values.items() if k in pre.keys}
    new = {k: v for k, v in values.items() if k not in pre.keys and v is not None}
    if existing:
        simple = _set_simple_root_values(preamble, existing)
        if simple is not None:
            preamble = simple
        else:
            import tomlkit

            doc = tomlkit.parse(preamble)
            for key, value in existing.items():
                if key not in doc:
                    raise EditImpossible(f"{key} is written as a dotted key")
                if value is None:
                    del doc[key]
                else:
                    doc[key] = value
            preamble = doc.as_string() if _LONE_LF.search(preamble) else _to_newline(doc.as_string(), newline)
    if new:
        lines = "".join(f"{_key_text(k)} = {_value_text(v)}{newline}" for k, v in new.items())
        end = scan(preamble, preamble_only=True)[0].last_value_end
        if end is not None:
            head, tail = preamble[:end], preamble[end:]
            if head and not head.endswith("\n"):
                head += newline
            preamble = head + lines + tail
        else:
            # No root key yet: after whatever comments open the file, before the first table.
            head = preamble
            if head and not head.endswith("\n"):
                head += newline
            if head.strip() and not head.endswith(newline * 2):
                head += newline
            preamble = head + lines + (newline if rest.strip() else "")
    return preamble + rest


# Values `use` writes (provider ids, model names) need no escaping and read the same in a basic or a
# literal string: for them, the line is edited as text, as tomlkit would (`tomlkit` costs ~20 ms to
# import, and `use` is typed often). Anything else goes through tomlkit.
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9_.:/@+-]*", re.ASCII)
_BARE = re.compile(r"[A-Za-z0-9_-]+", re.ASCII)


def _plain_string(value: Any) -> bool:
    return isinstance(value, str) and _PLAIN_VALUE.fullmatch(value) is not None


def _key_text(key: str) -> str:
    if _BARE.fullmatch(key):
        return key
    import tomlkit

    return tomlkit.key(key).as_string()


def _value_text(value: Any) -> str:
    if _plain_string(value):
        return f'"{value}"'
    import tomlkit

    return tomlkit.item(value).as_string()


def _set_simple_root_values(preamble: str, values: dict[str, Any]) -> str | None:
    """The preamble with each `key = "…"` line (a one-line string, maybe a comment after it) holding
    its new plain string value; None when a value or a line is anything else (tomlkit then edits).
    Checked by parsing: a line that only looked like the key (inside a multi-line string) gives None."""
    if not all(_plain_string(v) and _BARE.fullmatch(k) for k, v in values.items()):
        return None
    text = preamble
    for key, value in values.items():
        line = re.compile(
            rf"^(?P<head>[ \t]*{key}[ \t]*=[ \t]*)(?P<q>[\"'])(?P<old>[^\"'\\\r\n]*)(?P=q)(?P<tail>[ \t]*(?:#[^\r\n]*)?)(?=\r?\n|\Z)",
            re.M,
        )
        found = list(line.finditer(text))
        if len(found) != 1:
            return None
        m = found[0]
        text = (
            f"{text[: m.start()]}{m.group('head')}{m.group('q')}{value}{m.group('q')}{m.group('tail')}{text[m.end() :]}"
        )
    try:
        before, after = loads(preamble), loads(text)
    except TOMLDecodeError:
        return None
    return text if same_data(after, {**before, **values}) and list(after) == list(before) else None


def _provider_like_sections(sections: list[Section], key_path: tuple[str, ...]) -> list[Section]:
    return [s for s in sections[1:] if s.under(key_path)]


def add_table(text: str, key_path: tuple[str, ...], table: dict[str, Any]) -> str:
    """Add a new table at key_path (which must not exist), after its siblings when there are any."""
    newline = newline_of(text)
    sections = scan(text)
    block = _to_newline(render_section(key_path, table), newline)
    parent = key_path[:-1]
    siblings = _provider_like_sections(sections, parent) if parent else []
    anchor = siblings[-1].end if siblings else len(text)
    if siblings and anchor < len(text):
        # Before the trailing comment lines that lead into the next section, after the siblings' values.
        last = siblings[-1]
        anchor = last.last_value_end if last.last_value_end is not None else last.end
        # Keep the blank line(s) that followed the sibling where they were.
        after = text[anchor:]
        gap = _always_match(r"(?:[ \t]*\r?\n)*", after)
        candidate = (
            text[:anchor] + newline + block + gap + after[len(gap) :]
            if gap
            else _join(text[:anchor], block, after, newline)
        )
    else:
        before = text[:anchor]
        if anchor == len(text) and before.endswith(newline * 2):
            # The file ends with blank lines: keep them all and still add the separator, so that
            # removing this table again (remove_table drops one blank line) gives back the file.
            before += newline
        candidate = _join(before, block, text[anchor:], newline)
    if _means(candidate, text, key_path, table):
        return candidate
    # The parent is an inline table or similar: edit it where it stands.
    return scoped_edit(text, key_path[:1], lambda doc: _set_in(doc, key_path, table))


def _set_in(doc, key_path: tuple[str, ...], table: dict[str, Any]) -> None:
    node = doc
    for part in key_path[:-1]:
        node = node[part]
    import tomlkit.items

    inline = isinstance(node, tomlkit.items.InlineTable)
    node[key_path[-1]] = _tomlkit_value(table, inline=inline)


def _means(candidate: str, old: str, key_path: tuple[str, ...], table: dict[str, Any]) -> bool:
    try:
        new_data = loads(candidate)
    except TOMLDecodeError:
        return False
    old_data = loads(old)
    node = old_data
    for part in key_path[:-1]:
        node = node.setdefault(part, {})
    node[key_path[-1]] = table
    return same_data(new_data, old_data)


def remove_table(text: str, key_path: tuple[str, ...]) -> str:
    """Remove the table at key_path with its sub-tables and the comment lines directly above it."""
    sections = scan(text)
    targets = [s for s in sections[1:] if s.under(key_path)]
    holders = [s for s in sections if s not in targets and defines_under(s, key_path)]
    out = text
    for section in reversed(targets):
        out = out[: section.start] + out[section.end :]
    if targets and targets[-1].end == len(text):
        # Removed the end of the file: drop the one blank line that separated the table (add_table
        # puts exactly one there); blank lines the file had before that are the user's.
        out = re.sub(r"(?<=\n)[ \t]*\r?\n\Z", "", out)
    if holders and _still_defined(out, key_path):
        # Also (or only) defined as dotted keys or an inline table in a parent: let tomlkit drop it.
        out = scoped_edit(out, key_path[:1], lambda doc: _del_in(doc, key_path))
    return out


def _still_defined(text: str, key_path: tuple[str, ...]) -> bool:
    node: Any = loads(text)
    for part in key_path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _del_in(doc, key_path: tuple[str, ...]) -> None:
    node = doc
    for part in key_path[:-1]:
        node = node[part]
    del node[key_path[-1]]


def defines_under(section: Section, prefix: tuple[str, ...]) -> bool:
    """Can keys under `prefix` be written in this section (as its table, or as dotted/inline keys)?"""
    if section.header and section.under(prefix):
        return True
    header = section.header
    return len(header) < len(prefix) and prefix[: len(header)] == header and prefix[len(header)] in section.keys


def keep_missing_final_newline(old: str, new: str) -> str:
    """A file that ended without a newline still does after an edit at its end."""
    if old and not old.endswith("\n") and new.endswith("\n"):
        return new.rstrip("\r\n")
    return new


def scoped_edit(text: str, prefix: tuple[str, ...], fn: Callable[[Any], None]) -> str:
    """Let `fn` edit a tomlkit document holding every section that can define keys under `prefix`.

    The document is the smallest run of consecutive sections that covers them; the rest of the file
    is not parsed by tomlkit and is copied through unchanged.
    """
    import tomlkit

    newline = newline_of(text)
    sections = scan(text)
    relevant = [i for i, s in enumerate(sections) if defines_under(s, prefix)]
    lo, hi = (sections[relevant[0]].start, sections[relevant[-1]].end) if relevant else (len(text), len(text))
    block = text[lo:hi]
    doc = tomlkit.parse(block)
    fn(doc)
    new_block = doc.as_string()
    if new_block == block:
        return text
    if not _LONE_LF.search(block):
        new_block = _to_newline(new_block, newline)  # lines tomlkit added use "\n"
    if not relevant:
        if not new_block.strip():
            return text
        if new_block.strip() and text.strip() and not new_block.lstrip().startswith("["):
            raise EditImpossible("would append root keys after a table")
        return _join(text, new_block.strip("\r\n") + newline, "", newline) if text.strip() else new_block
    # Keep the blank line(s) that separated the block from what follows.
    old_gap = _always_match(r"(?:\r?\n)*\Z", block)
    new_gap = _always_match(r"(?:\r?\n)*\Z", new_block)
    if hi < len(text) and len(new_gap) < len(old_gap):
        new_block = new_block[: len(new_block) - len(new_gap)] + old_gap
    return text[:lo] + new_block + text[hi:]
