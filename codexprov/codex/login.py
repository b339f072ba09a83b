"""What both sides of "a key Codex sends" read: the header names that carry a key, and Codex's
login file, `$CODEX_HOME/auth.json`.

`codex/reach.py` (which key Codex sends) and `keys/` (which keys sit in plain text, and where) both
ask this module, so the two cannot disagree on either. It is a leaf (the standard library and the
redaction boundary): `reach` is on the `models` path, where importing the `keys` package would cost.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codexprov.codex.builtins import BUILTIN_PROVIDERS
from codexprov.redact import remember

# The header names that carry a provider key. Codex sends the auth command's output as
# `Authorization: Bearer …`; Azure and most gateways that take `api-key`/`x-api-key` accept the
# Bearer form too, so a key in any of them can move into the keyring.
BEARER_HEADERS = ("authorization",)
KEY_HEADERS = ("api-key", "x-api-key")
KEY_HEADER_NAMES = BEARER_HEADERS + KEY_HEADERS

AUTH_FILE = "auth.json"
API_KEY_FIELD = "OPENAI_API_KEY"
FIELD = f"auth.json {API_KEY_FIELD}"  # how a plain-text key's place there is named (PlaintextKey.field)
MAX_BYTES = 1024 * 1024


def auth_file(codex_home: Path) -> Path:
    return codex_home / AUTH_FILE


@dataclass(frozen=True)
class Login:
    """auth.json as far as keys go. Both keys are remembered by the redaction boundary when read."""

    api_key: str | None  # OPENAI_API_KEY, trimmed (`codex login --with-api-key`, cc-switch's key)
    access_token: str | None  # tokens.access_token (a ChatGPT login)
    # A UTF-8 byte order mark: codexprov reads past it (the key is still in plain text on disk), but
    # Codex's JSON reader refuses the file, so Codex sends neither key.
    bom: bool = False

    @property
    def sent_key(self) -> str | None:
        """The key Codex sends from its login: OPENAI_API_KEY, else the ChatGPT access token."""
        if self.bom:
            return None
        return self.api_key or self.access_token


def read_login(codex_home: Path) -> Login | None:
    """auth.json's keys, or None when there is no readable JSON object there (no file, not a
    regular file, over 1 MiB, not JSON)."""
    path = auth_file(codex_home)
    try:
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            return None
        raw = path.read_bytes()
        data = json.loads(raw.decode("utf-8-sig"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    value = data.get(API_KEY_FIELD)
    api_key = value.strip() if isinstance(value, str) and value.strip() else None
    tokens = data.get("tokens")
    token = tokens.get("access_token") if isinstance(tokens, dict) else None
    access_token = token if isinstance(token, str) and token else None
    remember(api_key, access_token)
    return Login(api_key, access_token, bom=raw.startswith(b"\xef\xbb\xbf"))


def sends_login_key(pid: str, table: Mapping[str, Any]) -> bool:
    """A custom provider that sends the login's key: requires_openai_auth and no other key source
    (an auth command, env_key or a bearer token take precedence in Codex)."""
    if pid in BUILTIN_PROVIDERS or table.get("requires_openai_auth") is not True:
        return False
    auth = table.get("auth")
    if isinstance(auth, dict) and auth.get("command"):
        return False
    return not table.get("env_key") and not table.get("experimental_bearer_token")
