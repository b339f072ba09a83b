"""`key list`: where each configured provider's key lives (keys only ever masked)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from codexprov import providers
from codexprov.credentials import KeyStore, is_token_auth
from codexprov.errors import KeyringUnavailableError
from codexprov.keys import codex_files
from codexprov.keys.plaintext import find_plaintext
from codexprov.paths import Paths
from codexprov.redact import mask


@dataclass(frozen=True)
class KeyStatus:
    """Where one provider's key comes from, and whether the keyring holds one (never the key)."""

    provider_id: str
    source: str  # "keyring" | "env" | "command" | "plaintext" | "codex-login" | "cloud" | "none"
    detail: str  # env var name, the command, the plain-text field(s); never a secret
    stored: bool | None  # a key in the keyring for this id (None: keyring not usable)
    masked: str | None  # `sk-…abcd` of the key Codex would get, when codexprov can see it
    env_set: bool | None = None  # for source "env": whether the variable is set here
    plaintext_fields: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.provider_id,
            "source": self.source,
            "detail": self.detail,
            "keyring": self.stored,
            "masked": self.masked,
            "env_set": self.env_set,
            "plaintext_fields": list(self.plaintext_fields),
        }


@dataclass(frozen=True)
class KeyReport:
    """Every provider's key status, and the keyring consulted."""

    statuses: tuple[KeyStatus, ...]
    keyring_backend: str | None
    keyring_problem: str | None  # why the keyring could not be read (the rest is still reported)


def key_report(paths: Paths, env: dict[str, str], store: KeyStore | None, store_error: str | None = None) -> KeyReport:
    """Where each configured provider's key lives; keys only ever appear masked."""
    statuses = []
    problem = store_error
    for info in providers.list_providers(paths).providers:
        if not info.configured:
            continue
        pid, source = info.id, info.key_source
        stored: bool | None = None
        stored_value: str | None = None
        if store is not None and problem is None:
            try:
                stored_value = store.get(pid)
                stored = stored_value is not None
            except KeyringUnavailableError as err:
                problem = err.message
        plaintext = tuple(find_plaintext(pid, info.table))
        kind, detail, masked, env_set = source.kind, source.detail, None, None
        if is_token_auth(info.table.get("auth"), pid) or kind == "keyring":
            kind, detail = "keyring", f"codexprov token {pid}"
            masked = mask(stored_value) if stored_value else None
        elif kind == "env":
            value = env.get(source.detail, "")
            env_set = bool(value.strip())
            masked = mask(value) if env_set else None
        elif plaintext:
            kind, detail, masked = "plaintext", ", ".join(p.field for p in plaintext), plaintext[0].masked
        elif kind == "plaintext" and detail == codex_files.FIELD:
            login = codex_files.read_api_key(paths.codex_home)
            masked = mask(login) if login else None
        statuses.append(KeyStatus(pid, kind, detail, stored, masked, env_set, tuple(p.field for p in plaintext)))
    return KeyReport(tuple(statuses), store.backend_name if store is not None else None, problem)
