"""Backups never hold a key that lives in the keyring.

When a key moves from a file into the keyring (`key migrate`, `key set` over a plain-text key),
every backup codexprov keeps of that file gets a placeholder where the key was,
`{{codexprov-keyring:ID}}`, naming the keyring entry that holds it. `codexprov undo` puts the
key back from the keyring when it restores such a backup (the file then works as it did, with the
key in plain text again, and the user is told), or refuses when the keyring has no key for it.
A placeholder is never written into a config file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from codexprov import safe_read

_PLACEHOLDER = re.compile(r"\{\{codexprov-keyring:(?P<id>[A-Za-z0-9._-]+)\}\}")


def placeholder(provider_id: str) -> str:
    return "{{codexprov-keyring:" + provider_id + "}}"


def scrub_text(text: str, moved: Mapping[str, str]) -> str:
    """`text` with each moved secret (secret -> provider id) replaced by its placeholder."""
    for secret in sorted(moved, key=len, reverse=True):
        if secret:
            text = text.replace(secret, placeholder(moved[secret]))
    return text


def placeholders_in(text: str) -> list[str]:
    """The provider ids whose keyring key a backup's text stands for, in order, without repeats."""
    return list(dict.fromkeys(m.group("id") for m in _PLACEHOLDER.finditer(text)))


def fill(text: str, key_for: Callable[[str], str | None]) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """(text with the keys put back, provider ids filled, provider ids the keyring has no key for).
    With missing ids the text still holds their placeholders and must not be written."""
    filled: list[str] = []
    missing: list[str] = []
    keys: dict[str, str] = {}
    for pid in placeholders_in(text):
        key = key_for(pid)
        if key is None:
            missing.append(pid)
        else:
            keys[pid] = key
            filled.append(pid)
    if keys:
        text = _PLACEHOLDER.sub(lambda m: keys.get(m.group("id"), m.group(0)), text)
    return text, tuple(filled), tuple(missing)


def scrub_journal_backups(
    entries: list[dict[str, Any]], moved: Mapping[str, str], write: Callable[[Path, str], None]
) -> int:
    """Replace the moved secrets in every backup the journal lists; how many backups changed.
    `write(path, text)` rewrites one backup (atomically, keeping it private)."""
    changed = 0
    for entry in entries:
        backup = entry.get("backup")
        if not backup:
            continue
        path = Path(backup)
        try:
            text = safe_read.read_text(path)
        except (OSError, UnicodeDecodeError):
            continue
        scrubbed = scrub_text(text, moved)
        if scrubbed != text:
            write(path, scrubbed)
            changed += 1
    return changed
