"""`key set`: store a provider's key and point the provider at `codexprov token ID` (the wiring)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclasses_field
from typing import TYPE_CHECKING, Any, Protocol

from codexprov import providers
from codexprov.bridge import manage
from codexprov.codex.capabilities import capabilities as caps_for
from codexprov.config.backups import scrub_text
from codexprov.config.document import load
from codexprov.config.transaction import scrub_backups
from codexprov.credentials import KeyStore, check_provider_id, check_secret, is_token_auth, token_auth
from codexprov.errors import NotFoundError
from codexprov.keys.plaintext import CONFLICTS_WITH_AUTH, find_plaintext
from codexprov.model import AuthCommand
from codexprov.paths import Paths
from codexprov.redact import ELLIPSIS, mask

if TYPE_CHECKING:
    from codexprov.codex.capabilities import Capabilities
    from codexprov.context import Context


@dataclass(frozen=True)
class WirePlan:
    """Whether `key set` points a provider's table at the keyring, and why."""

    provider_id: str
    wire: bool  # whether the provider's table changes
    reason: str  # why (or why not), for the user
    set_fields: dict[str, Any] = dataclasses_field(default_factory=dict, hash=False)
    delete_fields: tuple[str, ...] = ()


def plan_wiring(
    table: dict[str, Any] | None,
    provider_id: str,
    *,
    force: bool = False,
    auth: AuthCommand | None = None,
    capabilities: Capabilities | None = None,
) -> WirePlan:
    """Whether `key set` should point the provider at `codexprov token ID`, and how. `capabilities`:
    what the installed Codex accepts (codex.capabilities.Capabilities; None: the newest known)."""
    if table is None:
        raise NotFoundError(
            f"no provider `{provider_id}` in the config",
            hint=f"Add it first (`codexprov add RECIPE --id {provider_id}`), which also stores its key.",
        )
    caps = capabilities or caps_for(None)
    if provider_id in caps.builtin_ids() and "auth" not in (caps.builtin_top_fields(provider_id) or ()):
        return WirePlan(
            provider_id, False, f"`{provider_id}` is built into Codex; its table cannot take an auth command"
        )
    current = table.get("auth")
    if is_token_auth(current, provider_id):
        return WirePlan(provider_id, False, "already reads its key from the keyring")
    if isinstance(current, dict) and current.get("command") and not force:
        return WirePlan(provider_id, False, "it has its own auth command; pass --wire to replace it with the keyring")
    if table.get("env_key") and not force:
        return WirePlan(
            provider_id,
            False,
            f"it reads ${table['env_key']} (key mode env): the key is kept for `codexprov env` / `codexprov run`; "
            "pass --wire to make Codex read the keyring instead",
        )
    auth = auth or token_auth(provider_id)
    deletes = tuple(k for k in CONFLICTS_WITH_AUTH if k in table)
    deletes += tuple(
        p.field for p in find_plaintext(provider_id, table) if "." not in p.field and p.field not in deletes
    )
    set_fields: dict[str, Any] = {"auth": auth.to_table()}
    headers = headers_without_plaintext(provider_id, table)
    if headers is not None:
        if headers:
            set_fields["http_headers"] = headers
        else:
            deletes += ("http_headers",)
    return WirePlan(provider_id, True, "Codex will run `codexprov token` for the key", set_fields, deletes)


def headers_without_plaintext(provider_id: str, table: dict[str, Any]) -> dict[str, Any] | None:
    """http_headers minus the plain-text key headers, or None when there are none to remove."""
    headers = table.get("http_headers")
    moved = {
        p.field.split(".", 1)[1] for p in find_plaintext(provider_id, table) if p.field.startswith("http_headers.")
    }
    if not isinstance(headers, dict) or not moved:
        return None
    return {k: v for k, v in headers.items() if k not in moved}


def keyring_backup(moved: dict[str, str]):
    """For transactions that take plain-text keys out of a file because the keyring now holds the
    provider's key: the backup gets a keyring placeholder where each key was (never the key, never a
    mask that `undo` would write back). `moved`: secret -> provider id. `undo` puts the keyring's key there (config.backups)."""
    return lambda text: scrub_text(text, moved)


class KeyDecider(Protocol):
    def secret(self, provider_id: str) -> str:
        """The key for `provider_id`; asked only once the keyring is open (no keyring, no question)."""
        ...


@dataclass(frozen=True)
class KeySetRequest:
    """What `key set` was asked: the provider, whether to wire it, a dry run."""

    provider_id: str
    wire: bool = False  # point the provider at the keyring even if it reads its key otherwise on purpose
    dry_run: bool = False


@dataclass(frozen=True)
class KeySetOutcome:
    """What `key set` did: the key stored, the keyring, and whether a running bridge has it."""

    result: SetKeyResult
    keyring_label: str | None  # None on a dry run (the keyring is not opened)
    bridge_restarted: bool = False  # a running bridge serves this provider and now has the new key


def store_key(ctx: Context, request: KeySetRequest, decider: KeyDecider) -> KeySetOutcome:
    """`key set`: open the keyring, ask for the key, store it and wire the provider (set_key), and
    restart a running bridge that serves the provider. A dry run opens nothing and asks nothing."""
    pid, dry_run = request.provider_id, request.dry_run
    store = None if dry_run else ctx.store()
    secret = None if dry_run else decider.secret(pid)
    result = set_key(ctx.paths, store, pid, secret, wire=request.wire, dry_run=dry_run)
    if store is None:
        return KeySetOutcome(result, None)
    return KeySetOutcome(result, store.label, manage.key_changed(ctx.bridge_layout, pid, store))


@dataclass(frozen=True)
class SetKeyResult:
    """A stored key (masked) and the edit that wired its provider, if any."""

    provider_id: str
    masked: str
    wiring: WirePlan
    edit: Any  # EditResult | None


def set_key(
    paths: Paths,
    store: KeyStore | None,
    provider_id: str,
    secret: str | None,
    *,
    wire: bool = False,
    dry_run: bool = False,
) -> SetKeyResult:
    """Store a provider's key and, unless it reads its key otherwise on purpose, wire it to the
    keyring. The key is stored first: a config that points at the keyring never lacks its key
    because of this command. With dry_run nothing is stored or written (store and secret may be
    None)."""
    check_provider_id(provider_id)
    if secret is not None or not dry_run:
        secret = check_secret(secret or "")
    data = load(paths.config_file).data
    table = (data.get("model_providers") or {}).get(provider_id)
    plan = plan_wiring(table, provider_id, force=wire)
    old_secrets = [p.secret for p in find_plaintext(provider_id, table or {})]
    if not dry_run:
        # Both are given unless dry_run (see the docstring); check_secret above made `secret` a str.
        assert store is not None and secret is not None
        store.set(provider_id, secret)
    result = None
    if plan.wire:
        result = providers.update_provider_fields(
            paths,
            provider_id,
            plan.set_fields,
            list(plan.delete_fields),
            dry_run=dry_run,
            description=f"wire {provider_id} to the keyring",
            backup_text=keyring_backup(dict.fromkeys(old_secrets, provider_id)),
        )
    if not dry_run and secret is not None:
        scrub_backups(paths, {secret: provider_id})  # earlier backups must not hold a key the keyring has
    return SetKeyResult(provider_id, mask(secret) if secret else ELLIPSIS, plan, result)
