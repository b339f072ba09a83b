"""`key migrate`: move plain-text keys from config.toml into the keyring and rewire their providers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from codexprov.config import edit as config_edit
from codexprov.config.document import load
from codexprov.config.transaction import apply_edit, scrub_backups
from codexprov.credentials import KeyStore, is_token_auth
from codexprov.errors import ConflictError, KeyringUnavailableError, NotFoundError
from codexprov.keys import codex_files
from codexprov.keys.plaintext import CONFLICTS_WITH_AUTH, PlaintextKey, find_plaintext, find_unmovable, movable_key
from codexprov.keys.wiring import WirePlan, headers_without_plaintext, keyring_backup, plan_wiring
from codexprov.model import PROVIDER_ID_RE
from codexprov.paths import Paths
from codexprov.result import Note, Outcome

if TYPE_CHECKING:
    from codexprov.context import Context


@dataclass(frozen=True)
class MigrationItem:
    """One provider's plain-text keys found by `key migrate`, or why it is left alone."""

    provider_id: str
    found: tuple[PlaintextKey, ...]
    skipped: str | None = None  # why this provider is left alone
    store_needed: bool = True  # False when the keyring already holds this exact key
    wiring: WirePlan | None = None

    @property
    def secret(self) -> str:
        return self.found[0].secret


@dataclass(frozen=True)
class MigrationResult:
    """What `key migrate` did: the keys found, the edit, the keys stored, the backups scrubbed."""

    items: tuple[MigrationItem, ...]
    edit: Any  # EditResult | None (None: nothing to move)
    stored: tuple[str, ...]  # provider ids whose key was written to the keyring
    scrubbed: int = 0  # earlier backups the moved keys were taken out of
    unmovable: tuple[PlaintextKey, ...] = ()  # keys only the URL or query can carry (find_unmovable)
    login_key: str | None = field(default=None, repr=False)  # auth.json's key, when a provider sent it
    cleared_auth_json: bool = False  # auth.json's OPENAI_API_KEY was emptied (--clear-auth-json)


def plan_migration(
    data: dict[str, Any], store: KeyStore | None, provider_id: str | None = None, *, login_key: str | None = None
) -> list[MigrationItem]:
    """Providers with a plain-text key, and what moving each into the keyring involves.
    `login_key`: auth.json's OPENAI_API_KEY, which a custom provider with `requires_openai_auth`
    sends (codexprov.keys.codex_files)."""

    tables: dict[str, Any] = data.get("model_providers") or {}
    if provider_id is not None and provider_id not in tables:
        raise NotFoundError(
            f"no provider `{provider_id}` in the config", hint="Run `codexprov key list` to see the providers."
        )
    items = []
    for pid, table in tables.items():
        if (provider_id is not None and pid != provider_id) or not isinstance(table, dict):
            continue
        found = tuple(find_plaintext(pid, table))
        if not found and login_key is not None:
            found = _login_key_found(pid, table, login_key)
        if not found:
            continue
        items.append(_plan_item(pid, table, found, store))
    return items


def _login_key_found(pid: str, table: dict[str, Any], login_key: str) -> tuple[PlaintextKey, ...]:
    if not codex_files.sends_login_key(pid, table):
        return ()
    note = "Codex sends the key of its login file to this provider (requires_openai_auth)"
    return (PlaintextKey(pid, codex_files.FIELD, login_key, note=note),)


def _plan_item(
    pid: str, table: dict[str, Any], found: tuple[PlaintextKey, ...], store: KeyStore | None
) -> MigrationItem:
    if movable_key(list(found)) is None:
        fields = ", ".join(p.field for p in found)
        return MigrationItem(
            pid, found, skipped=f"its plain-text fields ({fields}) hold different keys; keep one by hand, then migrate"
        )
    current = table.get("auth")
    if isinstance(current, dict) and current.get("command") and not is_token_auth(current, pid):
        return MigrationItem(pid, found, skipped="it has its own auth command; remove the plain-text key by hand")
    if not PROVIDER_ID_RE.match(pid):
        return MigrationItem(pid, found, skipped="its id cannot be a keyring entry name; rename the provider first")
    wiring = plan_wiring(table, pid, force=True)
    if not wiring.wire and not is_token_auth(current, pid):
        return MigrationItem(pid, found, skipped=wiring.reason)
    if is_token_auth(current, pid):
        # Already wired; only the leftover plain text goes (and Codex refuses the mix anyway).
        deletes = tuple(k for k in CONFLICTS_WITH_AUTH if k in table)
        deletes += tuple(p.field for p in found if "." not in p.field and p.field not in deletes)
        set_fields: dict[str, Any] = {}
        headers = headers_without_plaintext(pid, table)
        if headers is not None:
            if headers:
                set_fields["http_headers"] = headers
            else:
                deletes += ("http_headers",)
        wiring = WirePlan(pid, True, "already reads the keyring; the plain-text copy is removed", set_fields, deletes)
    store_needed = True
    if store is not None:
        existing = store.get(pid)
        if existing is not None and existing != found[0].secret:
            return MigrationItem(
                pid,
                found,
                skipped="the keyring already holds a different key for it; "
                f"run `codexprov key set {pid}` with the right one, then `codexprov key migrate {pid}`",
            )
        store_needed = existing is None
    return MigrationItem(pid, found, None, store_needed, wiring)


def migrate(
    paths: Paths,
    store: KeyStore | None,
    provider_id: str | None = None,
    *,
    dry_run: bool = False,
    clear_auth_json: bool = False,
) -> MigrationResult:
    """Move plain-text keys from config.toml into the keyring and rewire their providers.

    Keys go into the keyring first, then one transaction rewrites the config; its backup keeps
    keyring placeholders instead of the keys (see `keyring_backup`), and so does every earlier
    backup in the journal (`scrubbed` counts those changed). With dry_run nothing is stored or written, and
    `store` may be None (the keyring is then not consulted).
    """
    data = load(paths.config_file).data
    login_key = codex_files.read_api_key(paths.codex_home)
    items = plan_migration(data, store, provider_id, login_key=login_key)
    unmovable = tuple(
        found
        for pid, table in (data.get("model_providers") or {}).items()
        if isinstance(table, dict) and provider_id in (None, pid)
        for found in find_unmovable(pid, table)
    )
    todo = [(i, i.wiring) for i in items if i.skipped is None and i.wiring is not None]
    if not todo:
        return MigrationResult(tuple(items), None, (), 0, unmovable)

    def change(doc: Any) -> None:
        providers_table = doc["model_providers"]
        for item, wiring in todo:
            table = providers_table[item.provider_id]
            for key in wiring.delete_fields:
                if key in table:
                    del table[key]
            for key, value in wiring.set_fields.items():
                config_edit.assign(table, key, value)

    def transform(snap: Any) -> str:
        again = {i.provider_id: i for i in plan_migration(snap.data, None, provider_id, login_key=login_key)}
        for item, _wiring in todo:
            now = again.get(item.provider_id)
            if now is None or [(p.field, p.secret) for p in now.found] != [(p.field, p.secret) for p in item.found]:
                raise ConflictError(
                    f"{snap.path} changed while migrating; nothing was written",
                    hint="Run `codexprov key migrate` again.",
                )
        return config_edit.scoped_edit(snap.text, ("model_providers",), change)

    def expect(data: dict[str, Any]) -> dict[str, Any]:
        for item, wiring in todo:
            table = data["model_providers"][item.provider_id]
            for key in wiring.delete_fields:
                table.pop(key, None)
            table.update(wiring.set_fields)
        return data

    moved: dict[str, str] = {}  # secret -> the (first) provider whose keyring entry now holds it
    for item, _wiring in todo:
        for found in item.found:
            moved.setdefault(found.secret, item.provider_id)
    stored: list[str] = []
    if not dry_run:
        assert store is not None
        for item, _wiring in todo:
            if item.store_needed:
                store.set(item.provider_id, item.secret)
                stored.append(item.provider_id)
    result = apply_edit(
        paths,
        paths.config_file,
        transform,
        dry_run=dry_run,
        description="move plain-text keys into the keyring ("
        + ", ".join(i.provider_id for i, _w in todo)
        + ("; auth.json left as it is" if any(f.field == codex_files.FIELD for i, _w in todo for f in i.found) else "")
        + ")",
        expect=expect,
        backup_text=keyring_backup(moved),
    )
    scrubbed = 0
    if not dry_run:
        scrubbed = scrub_backups(paths, moved)
    sent = login_key if any(f.field == codex_files.FIELD for i, _w in todo for f in i.found) else None
    cleared = False
    if sent is not None and clear_auth_json and not dry_run:
        cleared = codex_files.clear_api_key(paths.codex_home, sent)
    return MigrationResult(tuple(items), result, tuple(stored), scrubbed, unmovable, sent, cleared)


# ---------------------------------------------------------------------------- use cases: migrate, run


def preview_migration(paths: Paths, store: KeyStore | None, provider_id: str | None = None) -> MigrationResult:
    """`key migrate`'s first step: what would move (nothing stored or written). Asked for one
    provider that cannot be migrated, this is a ConflictError saying why."""

    preview = migrate(paths, store, provider_id, dry_run=True)
    for item in preview.items:
        if item.skipped and provider_id is not None:
            raise ConflictError(f"not migrating {item.provider_id}: {item.skipped}")
    return preview


def commit_migration(
    paths: Paths, store: KeyStore, provider_id: str | None = None, *, clear_auth_json: bool = False
) -> Outcome:
    """Move the keys (keyring first, then the config), as previewed."""
    result = migrate(paths, store, provider_id, dry_run=False, clear_auth_json=clear_auth_json)
    notes = [Note(f"stored the key for {pid} in the OS keyring ({store.label})") for pid in result.stored]
    if result.edit is not None and result.edit.backup:
        earlier = (
            f"; taken out of {result.scrubbed} earlier backup{'s' if result.scrubbed != 1 else ''} too"
            if result.scrubbed
            else ""
        )
        notes.append(
            Note(
                f"no backup holds the moved keys (the new backup names their keyring entries instead{earlier}); "
                "`codexprov undo` puts them back from the keyring, in plain text"
            )
        )
    if result.cleared_auth_json:
        notes.append(
            Note(
                f"emptied OPENAI_API_KEY in {paths.codex_home / 'auth.json'} (its other fields, a ChatGPT login "
                "included, are kept; `undo` does not put the key back there)"
            )
        )
    elif result.login_key is not None:
        notes.append(auth_json_note(paths))
    return Outcome((result.edit,) if result.edit is not None else (), tuple(notes))


def auth_json_note(paths: Paths) -> Note:
    """auth.json is Codex's own login file: left as it is unless asked, and said so."""
    return Note(
        f"{paths.codex_home / 'auth.json'} still holds the key: it is Codex's own login file (the built-in `openai` "
        "provider reads it too), so it was left as it is; `codexprov key migrate --clear-auth-json` empties its "
        "OPENAI_API_KEY"
    )


class MigrateDecider(Protocol):
    def previewed(self, preview: MigrationResult) -> None:
        """What would move, what stays and why, and the diff (when the config would change)."""
        ...

    def approve(self, preview: MigrationResult) -> None:
        """Move them as shown? CancelledError to stop (not asked on a dry run)."""
        ...


@dataclass(frozen=True)
class MigrateRequest:
    """What `key migrate` was asked: which provider, a dry run, auth.json too."""

    provider_id: str | None = None  # None: every provider
    dry_run: bool = False
    clear_auth_json: bool = False  # also empty auth.json's OPENAI_API_KEY once its providers read the keyring


def migrate_keys(ctx: Context, request: MigrateRequest, decider: MigrateDecider) -> Outcome:
    """`key migrate`: preview (the keyring is consulted when there is one; a dry run needs none),
    show, ask, then move: keyring first, then one config transaction."""
    try:
        store: KeyStore | None = ctx.store()
    except KeyringUnavailableError:
        if not request.dry_run:
            raise
        store = None
    preview = preview_migration(ctx.paths, store, request.provider_id)
    decider.previewed(preview)
    if preview.edit is None or not preview.edit.changed:
        nothing = "no plain-text key to move" if not preview.items and not preview.unmovable else "nothing to move"
        return Outcome(notes=(Note(nothing),))
    if request.dry_run:
        about_auth_json = preview.login_key is not None and not request.clear_auth_json
        notes = (auth_json_note(ctx.paths),) if about_auth_json else ()
        return Outcome(notes=(*notes, Note("dry run: nothing was stored or written")))
    decider.approve(preview)
    assert store is not None  # ctx.store() raised above unless dry_run
    return commit_migration(ctx.paths, store, request.provider_id, clear_auth_json=request.clear_auth_json)
