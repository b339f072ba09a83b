"""Read a Codex config file and refuse it, with file:line:col, when Codex would refuse it.

What counts as valid is what the installed Codex (0.169.0) reads: TOML 1.1, parsed with tomli (the
stdlib's tomllib is TOML 1.0 and refuses multi-line inline tables, `\\e`, times without seconds).
Where tomli and Codex disagree, the rule that follows Codex says so next to it (see `loads`).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codexprov import safe_read
from codexprov.errors import ConfigError, FileAccessError
from codexprov.redact import remember_source

if TYPE_CHECKING:
    from tomli import TOMLDecodeError  # noqa: F401 - re-exported (at run time by __getattr__)

BOM = "\ufeff"


def __getattr__(name: str) -> Any:
    # `list` on an unchanged config reads the parse cache and never parses: tomli is imported only
    # when something parses (or asks for TOMLDecodeError, e.g. `from ... import TOMLDecodeError`).
    if name == "TOMLDecodeError":
        import tomli

        return tomli.TOMLDecodeError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_POSITION = re.compile(r"^(?P<msg>.*?) \(at line (?P<line>\d+), column (?P<col>\d+)\)$", re.S)
_AT_END = re.compile(r"^(?P<msg>.*?) \(at end of document\)$", re.S)


@dataclass(frozen=True)
class Snapshot:
    """A config file as read: its path, text, parsed data, whether it exists and had a byte-order mark."""

    path: Path
    text: str
    data: dict[str, Any] = field(hash=False)
    exists: bool
    # The file started with a UTF-8 byte-order mark. `text` never holds it (tomlkit refuses it);
    # a transaction writes it back, so the file keeps it.
    bom: bool = False
    # `data` holds no secret by its place (redact.holds_secret): the parse cache holds it. An edit
    # then checks only the top-level keys it changed before caching the result.
    secret_free: bool = False

    @property
    def newline(self) -> str:
        return newline_of(self.text)


def newline_of(text: str) -> str:
    """The file's line ending: CRLF when its first line ends so, else LF."""
    i = text.find("\n")
    return "\r\n" if i > 0 and text[i - 1] == "\r" else "\n"


def read_text(path: Path) -> tuple[str, bool]:
    """The file's text without a leading byte-order mark, and whether it exists."""
    text, exists, _ = read_file(path)
    return text, exists


def read_file(path: Path) -> tuple[str, bool, bool]:
    """(text without its byte-order mark, exists, had a byte-order mark). Only a regular file is
    read: a FIFO or a device is refused without waiting (codexprov.safe_read)."""
    try:
        raw = safe_read.read_bytes(path)
    except FileNotFoundError:
        return "", False, False
    except safe_read.NotARegularFile:
        raise  # a FIFO or a device: its own message and hint
    except IsADirectoryError:
        raise FileAccessError(f"{path} is a directory, not a config file") from None
    except OSError as err:
        import errno

        if err.errno == errno.ELOOP:
            raise FileAccessError(
                f"cannot read {path}: it is a symbolic link that loops (it leads back to itself)",
                hint=f"Point {path} at a real file (`ls -l {path}` shows where it leads).",
            ) from None
        raise FileAccessError(
            f"cannot read {path}: {err.strerror or err}",
            hint="Check the file's permissions (codexprov needs to read it as the user who runs Codex).",
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise ConfigError(
            "not valid UTF-8", path=str(path), line=line, hint="Codex reads config.toml as UTF-8; re-save it as UTF-8."
        ) from None

    remember_source(text)  # every secret in a file codexprov read is masked in what it shows
    # Codex 0.169.0 accepts one byte-order mark (and refuses a second one, as tomli does).
    if text.startswith(BOM + BOM):
        # Stripping one here and `loads` another would read as fine what Codex refuses (and
        # tomlkit, editing, would meet the second one and fail).
        raise ConfigError(
            "invalid TOML: a second byte-order mark (U+FEFF) after the first; Codex refuses the file",
            path=str(path),
            line=1,
            column=2,
            hint="Remove the extra byte-order mark at the start of the file (re-save it as UTF-8 with at most one).",
        )
    if text.startswith(BOM):
        return text[1:], True, True
    return text, True, False


# An integer literal that may not fit in 64 bits: only then is the data walked (see loads).
_LONG_INT = re.compile(r"[0-9_]{19}|0x[0-9A-Fa-f_]{16}|0o[0-7_]{22}|0b[01_]{64}")
_INT_LITERAL = re.compile(r"[+-]?(?:0x[0-9A-Fa-f_]+|0o[0-7_]+|0b[01_]+|[0-9_]+)(?![0-9A-Za-z_.:-])")
_I64 = (-(2**63), 2**63 - 1)


def loads(text: str) -> dict[str, Any]:
    """Parse TOML the way Codex does; raises TOMLDecodeError (with line and column) where Codex refuses.

    Codex's reader (the Rust toml crate) and tomli disagree on a few things; these follow Codex:
    - a leading byte-order mark is accepted (Codex 0.169.0 runs with one; tomli refuses it);
    - a float literal too big for a double (`1e400`) is refused: "floating-point number overflowed"
      (tomli reads it as inf; a literal `inf` stays fine);
    - an integer outside 64 bits is refused (Codex: "u64 value was too large"; tomli allows any size);
    - a leap second (`23:59:60`) is accepted (Python's datetime cannot hold it, so tomli refuses it);
      it is read as :59, which is only ever compared with another reading of the same text.
    """
    from tomli import TOMLDecodeError

    if text.startswith(BOM):
        text = text[1:]
    try:
        return _loads(text)
    except TOMLDecodeError:
        if not _LEAP_SECOND.search(text):
            raise
        try:
            return _loads(_LEAP_SECOND.sub(":59", text))
        except TOMLDecodeError:
            pass
        raise


_LEAP_SECOND = re.compile(r"(?<=[0-9]{2}:[0-9]{2}):60(?=[.Zz+ \t\r\n,\]}#-]|\Z)")


def _loads(text: str) -> dict[str, Any]:
    import tomli
    from tomli import TOMLDecodeError

    overflowed: list[str] = []

    def parse_float(literal: str) -> float:
        value = float(literal)
        if math.isinf(value) and "inf" not in literal:
            overflowed.append(literal)
        return value

    data = tomli.loads(text, parse_float=parse_float)
    if overflowed:
        raise TOMLDecodeError("floating-point number overflowed", text, _position_of(text, overflowed[0]))
    if _LONG_INT.search(text) and _has_wide_int(data):
        for m in _INT_LITERAL.finditer(text):
            try:
                value = int(m.group().replace("_", ""), 0)
            except ValueError:
                continue
            if not _I64[0] <= value <= _I64[1]:
                raise TOMLDecodeError("integer does not fit in 64 bits", text, m.start())
        raise TOMLDecodeError("integer does not fit in 64 bits", text, 0)
    return data


def _position_of(text: str, literal: str) -> int:
    m = re.search(rf"(?<![0-9A-Za-z_.]){re.escape(literal)}(?![0-9A-Za-z_.])", text)
    return m.start() if m else 0


def _has_wide_int(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_wide_int(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_wide_int(v) for v in value)
    return type(value) is int and not _I64[0] <= value <= _I64[1]


def same_data(a: Any, b: Any) -> bool:
    """Equality of parsed TOML that knows floats: nan equals nan (plain == says it does not, so a
    config holding `nan` would never "mean the same" after an edit). The same object is the same
    data (an edit's verification shares the tables it did not touch)."""
    if a is b:
        return True
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same_data(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same_data(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def parse(text: str, path: Path) -> dict[str, Any]:
    """`loads`, with its errors turned into ConfigError naming the key's line and column."""
    from tomli import TOMLDecodeError

    try:
        data = loads(text)
    except TOMLDecodeError as err:
        raise config_error_from(err, text, path) from None
    check_shape(data, path, text)
    return data


def config_error_from(err: Exception, text: str, path: Path) -> ConfigError:
    message = str(err)
    line = column = None
    m = _POSITION.match(message)
    if m:
        message, line, column = m.group("msg"), int(m.group("line")), int(m.group("col"))
    else:
        m = _AT_END.match(message)
        if m:
            message = m.group("msg")
            line = text.count("\n") + 1
    lines = text.splitlines()
    shown = lines[line - 1] if line is not None and 0 < line <= len(lines) else None
    duplicate = message.startswith(("Cannot overwrite a value", "Cannot declare", "Duplicate inline table key"))
    if duplicate and shown is not None:
        # tomllib reports the column where it noticed; Codex (and people) point at the key itself.
        column = len(shown) - len(shown.lstrip()) + 1
        if message.startswith("Cannot declare"):
            reason = f"table {_table_name(message)} is declared twice"
            hint = "Merge the two tables into one (keep a single header), then run the command again."
        else:
            reason = "duplicate key"
            hint = "Delete one of the two definitions (keep the one you mean), then run the command again."
    else:
        reason = f"invalid TOML: {message[:1].lower() + message[1:]}"
        hint = "Fix the syntax at that line (codexprov never rewrites a file it cannot parse)."
    detail = f"{line:>5} | {shown}" if shown is not None else None
    return ConfigError(reason, path=str(path), line=line, column=column, hint=hint, detail=detail)


def _table_name(message: str) -> str:
    m = re.search(r"\((.*)\)", message)
    if not m:
        return "a table"
    parts = re.findall(r"'((?:[^'\\]|\\.)*)'", m.group(1))
    return "[" + ".".join(parts) + "]" if parts else "a table"


def check_shape(data: dict[str, Any], path: Path, text: str) -> None:
    """Types Codex insists on for the parts codexprov reads."""
    providers = data.get("model_providers")
    if providers is not None and not isinstance(providers, dict):
        raise ConfigError(
            "`model_providers` must be a table",
            path=str(path),
            line=_line_of_key(text, "model_providers"),
            hint="Write providers as [model_providers.ID] tables.",
        )
    for pid, table in (providers or {}).items():
        if not isinstance(table, dict):
            raise ConfigError(
                f"`model_providers.{pid}` must be a table",
                path=str(path),
                line=_line_of_key(text, pid) or _line_of_key(text, "model_providers"),
                hint=f"Write it as a [model_providers.{pid}] table.",
            )
    for key in ("model_provider", "model"):
        if key in data and not isinstance(data[key], str):
            raise ConfigError(
                f"`{key}` must be a string",
                path=str(path),
                line=_line_of_key(text, key),
                hint=f'Write it as {key} = "…".',
            )


def _line_of_key(text: str, key: str) -> int | None:
    m = re.search(rf"^[ \t]*(?:\[+[ \t]*)?[^=\n]*\b{re.escape(key)}\b", text, re.M)
    return text.count("\n", 0, m.start()) + 1 if m else None


def load(path: Path, cache_dir: Path | None = None) -> Snapshot:
    """Read and validate. With cache_dir, a parse of the unchanged file is reused (see cache.py)."""
    from codexprov.config import cache

    try:
        st = os.stat(path)
    except FileNotFoundError:
        return Snapshot(path=path, text="", data={}, exists=False)
    except OSError:
        st = None
    text, exists, bom = read_file(path)
    if not exists:
        return Snapshot(path=path, text="", data={}, exists=False)
    data = cache.get(cache_dir, path, st) if st is not None else None
    secret_free = data is not None  # the cache keeps no document that holds a secret
    if data is None:
        data = parse(text, path)
        secret_free = cache.put(cache_dir, path, data)
    return Snapshot(path=path, text=text, data=data, exists=True, bom=bom, secret_free=secret_free)
