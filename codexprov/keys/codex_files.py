"""Keys in Codex's own login file, `$CODEX_HOME/auth.json`, that a custom provider sends.

A provider table with `requires_openai_auth = true` (what cc-switch writes for every third-party
provider: `[model_providers.custom] requires_openai_auth = true`, the key in auth.json's
`OPENAI_API_KEY`) makes Codex send the login's key as `Authorization: Bearer …` to that provider's
`base_url`. That key sits in plain text in auth.json. `key migrate` moves it into the keyring and
points the provider at `codexprov token ID`; auth.json itself is Codex's (the built-in `openai`
provider and a ChatGPT login live there), so it is left as it is unless the user asks
(`key migrate --clear-auth-json`), and then only `OPENAI_API_KEY` is emptied, the rest kept.
"""

from __future__ import annotations

import json
from pathlib import Path

from codexprov.codex.login import (  # noqa: F401 - FIELD and sends_login_key: keys' names for them
    API_KEY_FIELD,
    FIELD,
    auth_file,
    read_login,
    sends_login_key,
)
from codexprov.safe_write import write_atomic


def read_api_key(codex_home: Path) -> str | None:
    """auth.json's OPENAI_API_KEY, or None (no file, not JSON, no key, not a regular file). The
    key is remembered by the redaction boundary: it is never shown but masked."""
    login = read_login(codex_home)
    return login.api_key if login is not None else None


def clear_api_key(codex_home: Path, expected: str) -> bool:
    """Empty OPENAI_API_KEY in auth.json when it still holds `expected` (written atomically, mode
    kept; every other field, a ChatGPT login included, stays). False when there was nothing to clear."""
    path = auth_file(codex_home)
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (OSError, ValueError):
        return False
    if not isinstance(data, dict) or not isinstance(data.get(API_KEY_FIELD), str):
        return False
    if data[API_KEY_FIELD].strip() != expected:
        return False
    data[API_KEY_FIELD] = None
    write_atomic(path, json.dumps(data, indent=2) + "\n", existed=True)
    return True
