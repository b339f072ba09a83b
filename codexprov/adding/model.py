"""What `add` works with: the request, the plan rendered from it, and the checked, previewed add."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from codexprov.codex.gateway import GatewayFix
from codexprov.config.transaction import EditResult
from codexprov.errors import UsageError
from codexprov.model import ProviderSpec
from codexprov.result import Note, info

if TYPE_CHECKING:
    from codexprov.bridge.layout import Upstream
    from codexprov.codex.capabilities import Capabilities
    from codexprov.recipes.model import Recipe

KEY_MODES = ("keyring", "env", "none")


@dataclass(frozen=True)
class AddRequest:
    """What `add` was asked: the recipe, the id, the fields given as flags and how the key is kept."""

    recipe: str
    provider_id: str | None = None
    base_url: str | None = None
    name: str | None = None
    model: str | None = None
    key_mode: str | None = None  # None: keyring when the recipe needs a key, else none
    env_key: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    use: bool = False
    replace: bool = False
    dry_run: bool = False
    bridge: bool | None = None  # None: through the bridge when the recipe's endpoint lacks /v1/responses
    allow_plaintext: bool = False  # write keys given in headers, query or URL as they are (warned)
    fallback: str | None = None  # bridged only: another bridged provider that serves its requests on 429/5xx/timeouts


@dataclass(frozen=True)
class AddPlan:
    """What `add` will write: the provider table (or the built-in it configures), the key and the follow-ups."""

    provider_id: str
    recipe_id: str
    spec: ProviderSpec | None  # a custom provider table; None when configuring a built-in
    builtin_id: str | None
    builtin_table: dict[str, Any] | None
    model: str | None
    key_mode: str
    warnings: tuple[str, ...]
    capabilities: Capabilities | None = None  # of the Codex planned for; None: the newest known
    bridge: Upstream | None = None  # when the provider goes through the bridge
    # A key given in a header that now goes into the keyring instead of the file (keyring mode).
    moved_key: str | None = field(default=None, repr=False, compare=False)

    @classmethod
    def custom(
        cls,
        provider_id: str,
        recipe_id: str,
        spec: ProviderSpec,
        model: str | None,
        key_mode: str,
        warnings: Iterable[str],
        capabilities: Capabilities | None,
        *,
        bridge: Upstream | None = None,
        moved_key: str | None = None,
    ) -> AddPlan:
        """The plan of a custom provider table (direct, or through the bridge)."""
        return cls(
            provider_id,
            recipe_id,
            spec,
            None,
            None,
            model,
            key_mode,
            tuple(warnings),
            capabilities,
            bridge=bridge,
            moved_key=moved_key,
        )


@dataclass(frozen=True)
class PreparedAdd:
    """Everything `add` will do, checked and previewed, before any key is read or file written."""

    request: AddRequest
    plan: AddPlan
    preview: EditResult  # the dry run of the config edit (its diff is what the user confirms)
    kept: tuple[str, ...]  # the user's own fields a replace leaves in the table
    recipe: Recipe | None = None
    # The settings that let the recipe's gateway take Codex's requests (written with --use), and the
    # model catalog file text they point at (written before the config).
    gateway: GatewayFix | None = None
    catalog_text: str | None = None
    gateway_notes: tuple[Note, ...] = ()

    @property
    def kept_note(self) -> Note | None:
        if not self.kept:
            return None
        return info(f"kept fields of yours the recipe does not set: {', '.join(self.kept)}")

    @property
    def needs_key(self) -> bool:
        """Whether the key should be asked for (keyring mode; nothing is stored on a dry run)."""
        return self.plan.key_mode == "keyring" and not self.request.dry_run

    @property
    def needs_store(self) -> bool:
        """Whether commit_add needs the keyring: for a key, or for the bridge's master key."""
        return self.needs_key or (self.plan.bridge is not None and not self.request.dry_run)


def parse_pairs(values: list[str] | None, option: str) -> dict[str, str]:
    """`K=V` options (--header, --query, --param) into a dict; a malformed one is a usage error."""
    pairs: dict[str, str] = {}
    for value in values or []:
        key, sep, val = value.partition("=")
        if not sep or not key.strip():
            raise UsageError(
                f"{option} expects KEY=VALUE, got `{value}`", hint=f"Example: {option} api-version=2025-04-01-preview"
            )
        pairs[key.strip()] = val
    return pairs


def default_env_key(provider_id: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", provider_id.upper()).strip("_") + "_API_KEY"
