"""Plain-text keys in a provider table: the detector `key migrate`, `key list`, `key set` and the
doctor use (`find_plaintext`), and the keys only the URL can carry (`find_unmovable`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dataclasses_field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from codexprov.redact import _is_secret_name, mask

# Codex sends the auth command's output as `Authorization: Bearer …`, so these headers can move.
BEARER_HEADERS = ("authorization",)
KEY_HEADERS = ("api-key", "x-api-key")
# Fields an auth command cannot sit beside (Codex's ModelProviderInfo::validate).
CONFLICTS_WITH_AUTH = ("env_key", "experimental_bearer_token", "requires_openai_auth")


def looks_like_secret_name(name: str) -> bool:
    """A field or parameter name that says it holds a secret (`api_key`, `token`, …)."""
    return _is_secret_name(name)


def looks_like_key(value: Any) -> bool:
    """A literal key, not an env var name, a path, a number or a placeholder."""
    if not isinstance(value, str):
        return False
    value = value.strip()
    if len(value) < 8 or re.fullmatch(r"[A-Z_][A-Z0-9_]*", value) or value.startswith(("/", "~", "$", "<", "{")):
        return False
    return not any(ch.isspace() for ch in value)


@dataclass(frozen=True)
class PlaintextKey:
    """A key written in plain text in a provider table."""

    provider_id: str
    field: str  # "experimental_bearer_token", "http_headers.Authorization", "api_key", ...
    secret: str = dataclasses_field(repr=False, compare=False)
    note: str | None = None  # e.g. "sent as Authorization: Bearer after the move"

    @property
    def masked(self) -> str:

        return mask(self.secret)


def find_plaintext(provider_id: str, table: dict[str, Any]) -> list[PlaintextKey]:
    """Every plain-text key in one provider table, most authoritative first (what Codex sends)."""
    from codexprov.codex.capabilities import NEWEST_PROVIDER_FIELDS

    found: list[PlaintextKey] = []
    token = table.get("experimental_bearer_token")
    if isinstance(token, str) and token.strip():
        found.append(PlaintextKey(provider_id, "experimental_bearer_token", token.strip()))
    headers = table.get("http_headers")
    if isinstance(headers, dict):
        for name, value in headers.items():
            if not isinstance(value, str) or not value.strip():
                continue
            lower = name.lower()
            if lower in BEARER_HEADERS:
                scheme, _, rest = value.strip().partition(" ")
                if scheme.lower() == "bearer" and rest.strip():
                    found.append(PlaintextKey(provider_id, f"http_headers.{name}", rest.strip()))
            elif lower in KEY_HEADERS:
                found.append(
                    PlaintextKey(
                        provider_id,
                        f"http_headers.{name}",
                        value.strip(),
                        note=f"Codex will send it as `Authorization: Bearer …` instead of `{name}:` "
                        "(Azure's /openai/v1 endpoint accepts both)",
                    )
                )
    for name, value in table.items():
        if name in NEWEST_PROVIDER_FIELDS or not looks_like_secret_name(name) or not looks_like_key(value):
            continue
        found.append(
            PlaintextKey(provider_id, name, value.strip(), note="Codex ignores this field: no key was being sent")
        )
    return found


def find_unmovable(provider_id: str, table: dict[str, Any]) -> list[PlaintextKey]:
    """Keys in a provider table that Codex can only take in plain text, so `key migrate` cannot move
    them: a password (or token) in the base URL, secret-named query parameters in the URL or in
    query_params."""
    found: list[PlaintextKey] = []
    note = "Codex cannot read a key in the URL or a query parameter from the keyring or an env var"
    base_url = table.get("base_url")
    if isinstance(base_url, str) and "://" in base_url:
        try:
            parts = urlsplit(base_url.strip())
            password, username = parts.password, parts.username
        except ValueError:
            parts, password, username = None, None, None
        if parts is not None:
            if password or (username and "@" in parts.netloc):
                found.append(PlaintextKey(provider_id, "base_url (user:password@)", password or username or "", note))
            for name, value in parse_qsl(parts.query):
                if looks_like_secret_name(name) and value.strip():
                    found.append(PlaintextKey(provider_id, f"base_url (query parameter {name})", value.strip(), note))
    query = table.get("query_params")
    if isinstance(query, dict):
        for name, value in query.items():
            if isinstance(value, str) and value.strip() and looks_like_secret_name(name):
                found.append(PlaintextKey(provider_id, f"query_params.{name}", value.strip(), note))
    return found
