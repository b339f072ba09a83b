"""Read a Codex config file and refuse it, with file:line:col, when Codex would refuse it."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codexprov.errors import ConfigError, FileAccessError

_POSITION = re.compile(r"^(?P<msg>.*?) \(at line (?P<line>\d+), column (?P<col>\d+)\)$", re.S)
_AT_END = re.compile(r"^(?P<msg>.*?) \(at end of document\)$", re.S)


@dataclass(frozen=True)
class Snapshot:
    path: Path
    text: str
    data: dict[str, Any] = field(hash=False)
    exists: bool

    @property
    def newline(self) -> str:
        from codexprov.config.scan import newline_of

        return newline_of(self.text)


def read_text(path: Path) -> tuple[str, bool]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return "", False
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
    from codexprov.redact import remember_source

    remember_source(text)  # every secret in a file codexprov read is masked in what it shows
    if text.startswith("\ufeff"):
        raise ConfigError(
            "starts with a byte-order mark (BOM)",
            path=str(path),
            line=1,
            column=1,
            hint="Re-save the file as UTF-8 without BOM.",
        )
    return text, True


def parse(text: str, path: Path) -> dict[str, Any]:
    """tomllib's parse, with its errors turned into ConfigError naming the key's line and column."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
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
                f"`{key}` must be a string", path=str(path), line=_line_of_key(text, key), hint=f'Write it as {key} = "…".'
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
    text, exists = read_text(path)
    if not exists:
        return Snapshot(path=path, text="", data={}, exists=False)
    data = cache.get(cache_dir, path, st) if st is not None else None
    if data is None:
        data = parse(text, path)
        cache.put(cache_dir, path, data)
    return Snapshot(path=path, text=text, data=data, exists=True)
