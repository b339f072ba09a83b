"""Plain data shared by the core modules: what a provider is. What Codex accepts lives in codexprov.codex."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from codexprov.errors import UsageError

# Codex reads the provider id as a TOML key and uses it in `-c model_providers.ID…` overrides and
# in error messages; we accept the conservative set that works everywhere (bare TOML keys).
PROVIDER_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
PROVIDER_ID_HINT = "Use letters, digits, - and _ (up to 64 characters), starting with a letter or digit."


def check_provider_id(provider_id: str) -> str:
    """The one syntax check for a provider id (also a keyring entry name); UsageError otherwise."""
    if not PROVIDER_ID_RE.match(provider_id or ""):
        raise UsageError(f"{provider_id!r} is not a valid provider id", hint=PROVIDER_ID_HINT)
    return provider_id


# What `add` writes from a recipe, or replaces when the key mode changes; any other field in an
# existing table was put there by the user and `add --replace` keeps it.
RECIPE_OWNED_FIELDS = frozenset(
    {
        "name",
        "base_url",
        "env_key",
        "env_key_instructions",
        "wire_api",
        "query_params",
        "http_headers",
        "env_http_headers",
        "auth",
        "experimental_bearer_token",
        "requires_openai_auth",
    }
)


@dataclass(frozen=True)
class AuthCommand:
    """A provider's `[auth]` table: the command Codex runs for a token, its arguments and timings."""

    command: str
    args: tuple[str, ...] = ()
    timeout_ms: int | None = None
    refresh_interval_ms: int | None = None
    cwd: str | None = None

    def to_table(self) -> dict[str, Any]:
        table: dict[str, Any] = {"command": self.command}
        if self.args:
            table["args"] = list(self.args)
        for key in ("timeout_ms", "refresh_interval_ms", "cwd"):
            value = getattr(self, key)
            if value is not None:
                table[key] = value
        return table


@dataclass(frozen=True)
class ProviderSpec:
    """A provider table as codexprov will write it under [model_providers.ID]."""

    id: str
    name: str
    base_url: str | None = None
    env_key: str | None = None
    env_key_instructions: str | None = None
    wire_api: str | None = "responses"
    query_params: dict[str, str] = field(default_factory=dict)
    http_headers: dict[str, str] = field(default_factory=dict)
    env_http_headers: dict[str, str] = field(default_factory=dict)
    auth: AuthCommand | None = None
    # Any other field Codex accepts (requires_openai_auth, request_max_retries, aws = {...}, ...).
    extra: dict[str, Any] = field(default_factory=dict)

    def to_table(self) -> dict[str, Any]:
        """Key order here is the order written to the file."""
        table: dict[str, Any] = {"name": self.name}
        if self.base_url is not None:
            table["base_url"] = self.base_url
        if self.env_key is not None:
            table["env_key"] = self.env_key
        if self.env_key_instructions is not None:
            table["env_key_instructions"] = self.env_key_instructions
        if self.wire_api is not None:
            table["wire_api"] = self.wire_api
        for key in ("query_params", "http_headers", "env_http_headers"):
            value = getattr(self, key)
            if value:
                table[key] = dict(value)
        table.update(self.extra)
        if self.auth is not None:
            table["auth"] = self.auth.to_table()
        return table

    def owned_fields(self) -> frozenset[str]:
        """The fields a recipe decides when it (re)writes this table: the ones it sets, plus every
        other way of giving a key (a key mode replaces them all). `add --replace` keeps the rest."""
        return RECIPE_OWNED_FIELDS | frozenset(self.extra)
