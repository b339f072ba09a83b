"""The one room for plain-text keys in a provider table.

One detector (`find_keys`) finds every key written in plain text, and marks the ones the keyring can
take over (`movable`: Codex then sends the key as `Authorization: Bearer …` from `codexprov token`).
One rule (`movable_key`) says when the keyring can take a table's place entirely. Everyone asks
these: `add` refuses a new plain-text key (or moves it into the keyring), `key migrate` moves the
movable ones and reports the rest, `key list` and `key set` find them, and the doctor flags them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dataclasses_field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from codexprov.codex.capabilities import NEWEST_PROVIDER_FIELDS

# The header names that carry a provider key (one list, shared with codex/reach.py).
from codexprov.codex.login import BEARER_HEADERS, KEY_HEADER_NAMES, KEY_HEADERS
from codexprov.redact import is_secret_name, mask

# Fields an auth command cannot sit beside (Codex's ModelProviderInfo::validate).
CONFLICTS_WITH_AUTH = ("env_key", "experimental_bearer_token", "requires_openai_auth")


def looks_like_secret_name(name: str) -> bool:
    """A field or parameter name that says it holds a secret (`api_key`, `token`, …)."""
    return is_secret_name(name)


def looks_like_key(value: Any) -> bool:
    """A literal key, not an env var name, a path, a number or a placeholder."""
    if not isinstance(value, str):
        return False
    value = value.strip()
    if len(value) < 8 or re.fullmatch(r"[A-Z_][A-Z0-9_]*", value) or value.startswith(("/", "~", "$", "<", "{")):
        return False
    return not any(ch.isspace() for ch in value)


def is_key_header(name: str) -> bool:
    """Whether a header of this name carries the provider's key (`Authorization`, `api-key`, …)."""
    return name.lower() in KEY_HEADER_NAMES


# A value that names where a key comes from rather than being one: an env var name, `$VAR`, `{param}`.
_KEY_REFERENCE = re.compile(r"[A-Z_][A-Z0-9_]*|\$.*|\{.*\}")
_URL_NOTE = "Codex cannot read a key in the URL or a query parameter from the keyring or an env var"
_HEADER_NOTE = "Codex sends a key from the keyring only as `Authorization: Bearer …`"


@dataclass(frozen=True)
class PlaintextKey:
    """A key written in plain text in a provider table.

    movable: the keyring can take its place (`key migrate` moves it; `add` stores it there).
    note: for a movable key, what changes when it moves; for another, why it cannot move.
    """

    provider_id: str
    field: str  # "experimental_bearer_token", "http_headers.Authorization", "api_key", "base_url (user:password@)", ...
    secret: str = dataclasses_field(repr=False, compare=False)
    note: str | None = None
    movable: bool = True

    @property
    def masked(self) -> str:
        return mask(self.secret)

    @property
    def in_url(self) -> bool:
        """In the base URL or a query parameter (else in a header or a field)."""
        return self.field.startswith(("base_url", "query_params."))


def find_keys(provider_id: str, table: dict[str, Any]) -> list[PlaintextKey]:
    """Every key written in plain text in one provider table: the movable ones first, most
    authoritative first (what Codex sends), then those only the table itself can carry."""
    found: list[PlaintextKey] = []
    unmovable: list[PlaintextKey] = []
    token = table.get("experimental_bearer_token")
    if isinstance(token, str) and token.strip():
        found.append(PlaintextKey(provider_id, "experimental_bearer_token", token.strip()))
    headers = table.get("http_headers")
    if isinstance(headers, dict):
        for name, value in headers.items():
            key = _header_key(provider_id, str(name), value)
            if key is not None:
                (found if key.movable else unmovable).append(key)
    for name, value in table.items():
        if name in NEWEST_PROVIDER_FIELDS or not looks_like_secret_name(name) or not looks_like_key(value):
            continue
        found.append(
            PlaintextKey(provider_id, name, value.strip(), note="Codex ignores this field: no key was being sent")
        )
    return found + unmovable + _url_keys(provider_id, table)


def _header_key(provider_id: str, name: str, value: Any) -> PlaintextKey | None:
    if not isinstance(value, str) or not value.strip():
        return None
    field = f"http_headers.{name}"
    lower = name.lower()
    scheme, _, rest = value.strip().partition(" ")
    secret = rest.strip() if rest.strip() and scheme.lower() in ("bearer", "basic", "token") else value.strip()
    if _KEY_REFERENCE.fullmatch(secret):
        return None
    if lower in BEARER_HEADERS and scheme.lower() == "bearer" and rest.strip():
        return PlaintextKey(provider_id, field, secret)
    if lower in KEY_HEADERS:
        return PlaintextKey(
            provider_id,
            field,
            secret,
            note=f"Codex will send it as `Authorization: Bearer …` instead of `{name}:` "
            "(Azure's /openai/v1 endpoint accepts both)",
        )
    if lower in BEARER_HEADERS or looks_like_secret_name(name):
        return PlaintextKey(provider_id, field, secret, _HEADER_NOTE, movable=False)
    return None


def _url_keys(provider_id: str, table: dict[str, Any]) -> list[PlaintextKey]:
    """Keys Codex can only take in plain text: a password (or token) in the base URL, secret-named
    query parameters in the URL or in query_params."""
    found: list[PlaintextKey] = []
    base_url = table.get("base_url")
    if isinstance(base_url, str) and "://" in base_url:
        try:
            parts = urlsplit(base_url.strip())
            password, username = parts.password, parts.username
        except ValueError:
            parts, password, username = None, None, None
        if parts is not None:
            if password or (username and "@" in parts.netloc):
                secret = password or username or ""
                found.append(PlaintextKey(provider_id, "base_url (user:password@)", secret, _URL_NOTE, False))
            for name, value in parse_qsl(parts.query):
                if looks_like_secret_name(name) and value.strip():
                    field = f"base_url (query parameter {name})"
                    found.append(PlaintextKey(provider_id, field, value.strip(), _URL_NOTE, False))
    query = table.get("query_params")
    if isinstance(query, dict):
        for name, value in query.items():
            if isinstance(value, str) and value.strip() and looks_like_secret_name(name):
                found.append(PlaintextKey(provider_id, f"query_params.{name}", value.strip(), _URL_NOTE, False))
    return found


def find_plaintext(provider_id: str, table: dict[str, Any]) -> list[PlaintextKey]:
    """The plain-text keys the keyring can take over (`find_keys`, movable only)."""
    return [k for k in find_keys(provider_id, table) if k.movable]


def find_unmovable(provider_id: str, table: dict[str, Any]) -> list[PlaintextKey]:
    """The plain-text keys only the table itself can carry (`find_keys`, not movable)."""
    return [k for k in find_keys(provider_id, table) if not k.movable]


def movable_key(found: list[PlaintextKey]) -> str | None:
    """The rule: the keyring can replace these plain-text keys when every one is movable and they are
    one key. That key, else None (`add` then refuses, `key migrate` leaves the provider alone)."""
    secrets = {k.secret for k in found}
    if not found or len(secrets) != 1 or not all(k.movable for k in found):
        return None
    return found[0].secret
