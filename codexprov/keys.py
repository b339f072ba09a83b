"""Keys per provider: where each provider's key lives, plain-text keys found in config files,
`key set` wiring, `key migrate`, and the env/run plans. Joins the keyring (codexprov.credentials)
with the config engine (codexprov.providers, codexprov.config); takes explicit inputs and returns
frozen data; the CLI (codexprov/cli/keys.py) renders it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from dataclasses import field as dataclasses_field
from pathlib import Path
from typing import Any

from codexprov.credentials import KeyStore, check_provider_id, check_secret, is_token_auth, token_auth
from codexprov.errors import KeyringUnavailableError, UsageError
from codexprov.model import PROVIDER_ID_RE, AuthCommand
from codexprov.result import Note, Outcome

#
# The functions below join the keyring with the config (engine in codexprov.providers and
# codexprov.config). They take explicit inputs and return frozen data; the CLI renders it.

# Codex sends the auth command's output as `Authorization: Bearer …`, so these headers can move.
_BEARER_HEADERS = ("authorization",)
_KEY_HEADERS = ("api-key", "x-api-key")
# Fields an auth command cannot sit beside (Codex's ModelProviderInfo::validate).
_CONFLICTS_WITH_AUTH = ("env_key", "experimental_bearer_token", "requires_openai_auth")


def _looks_like_secret_name(name: str) -> bool:
    from codexprov.redact import _is_secret_name

    return _is_secret_name(name)


def _looks_like_key(value: Any) -> bool:
    """A literal key, not an env var name, a path, a number or a placeholder."""
    import re

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
        from codexprov.redact import mask

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
            if lower in _BEARER_HEADERS:
                scheme, _, rest = value.strip().partition(" ")
                if scheme.lower() == "bearer" and rest.strip():
                    found.append(PlaintextKey(provider_id, f"http_headers.{name}", rest.strip()))
            elif lower in _KEY_HEADERS:
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
        if name in NEWEST_PROVIDER_FIELDS or not _looks_like_secret_name(name) or not _looks_like_key(value):
            continue
        found.append(
            PlaintextKey(provider_id, name, value.strip(), note="Codex ignores this field: no key was being sent")
        )
    return found


def find_unmovable(provider_id: str, table: dict[str, Any]) -> list[PlaintextKey]:
    """Keys in a provider table that Codex can only take in plain text, so `key migrate` cannot move
    them: a password (or token) in the base URL, secret-named query parameters in the URL or in
    query_params."""
    from urllib.parse import parse_qsl, urlsplit

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
                if _looks_like_secret_name(name) and value.strip():
                    found.append(PlaintextKey(provider_id, f"base_url (query parameter {name})", value.strip(), note))
    query = table.get("query_params")
    if isinstance(query, dict):
        for name, value in query.items():
            if isinstance(value, str) and value.strip() and _looks_like_secret_name(name):
                found.append(PlaintextKey(provider_id, f"query_params.{name}", value.strip(), note))
    return found


@dataclass(frozen=True)
class KeyStatus:
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
    statuses: tuple[KeyStatus, ...]
    keyring_backend: str | None
    keyring_problem: str | None  # why the keyring could not be read (the rest is still reported)


def key_report(paths: Any, env: dict[str, str], store: KeyStore | None, store_error: str | None = None) -> KeyReport:
    """Where each configured provider's key lives; keys only ever appear masked."""
    from codexprov import providers
    from codexprov.redact import mask

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
        elif kind == "plaintext" and detail.startswith("auth.json"):
            from codexprov.importers import codex_files

            login = codex_files.read_api_key(paths.codex_home)
            masked = mask(login) if login else None
        statuses.append(KeyStatus(pid, kind, detail, stored, masked, env_set, tuple(p.field for p in plaintext)))
    return KeyReport(tuple(statuses), store.backend_name if store is not None else None, problem)


# --------------------------------------------------------------------------- env mode


@dataclass(frozen=True)
class EnvVar:
    name: str
    provider_id: str
    value: str = dataclasses_field(repr=False)


@dataclass(frozen=True)
class EnvPlan:
    variables: tuple[EnvVar, ...]
    missing: tuple[str, ...]  # env-mode providers with no key in the keyring


def _env_names(table: dict[str, Any]) -> list[str]:
    """The variables Codex reads a provider's key from: env_key, and env_http_headers that carry one."""
    names = []
    if isinstance(table.get("env_key"), str) and table["env_key"]:
        names.append(table["env_key"])
    headers = table.get("env_http_headers")
    if isinstance(headers, dict):
        for header, var in headers.items():
            if header.lower() in _BEARER_HEADERS + _KEY_HEADERS and isinstance(var, str) and var not in names:
                names.append(var)
    return names


def run_env(paths: Any, open_keystore: Any, provider_id: str | None = None) -> EnvPlan:
    """The variables `codexprov run` adds: like `env_plan`, but a provider given by id that needs no
    variable (it reads the keyring through its auth command) is fine, and the keyring is opened
    (`open_keystore()`) only when some provider needs a variable."""
    from codexprov import providers

    if provider_id is not None:
        info = providers.get_provider(paths, provider_id)
        if not _env_names(info.table):
            return EnvPlan((), ())
        return env_plan(paths, open_keystore(), provider_id)
    summary = providers.list_providers(paths)
    if not any(p.configured and _env_names(p.table) for p in summary.providers):
        return EnvPlan((), ())
    return env_plan(paths, open_keystore(), None)


def env_plan(paths: Any, store: KeyStore, provider_id: str | None = None) -> EnvPlan:
    """The variables that give env-mode providers their keys from the keyring.

    With an id: that provider, which must read its key from an env var and have a key stored
    (NotFoundError otherwise). Without: every such provider that has a key stored.
    """
    from codexprov import providers
    from codexprov.errors import NotFoundError

    if provider_id is not None:
        info = providers.get_provider(paths, provider_id)
        names = _env_names(info.table)
        if not names:
            raise NotFoundError(
                f"provider `{provider_id}` does not read its key from an environment variable",
                hint="`codexprov env` is for providers added with `--key-mode env`; "
                "keyring-mode providers need nothing: Codex runs `codexprov token` itself.",
            )
        value = store.get(provider_id)
        if value is None:
            raise NotFoundError(
                f"no key for `{provider_id}` in the keyring",
                hint=f"Store it with `codexprov key set {provider_id}`.",
            )
        return EnvPlan(tuple(EnvVar(n, provider_id, value) for n in names), ())
    variables: list[EnvVar] = []
    missing: list[str] = []
    for info in providers.list_providers(paths).providers:
        names = _env_names(info.table) if info.configured else []
        if not names:
            continue
        value = store.get(info.id)
        if value is None:
            missing.append(info.id)
            continue
        variables.extend(EnvVar(n, info.id, value) for n in names)
    return EnvPlan(tuple(variables), tuple(missing))


def shell_exports(plan: EnvPlan, *, reveal: bool = True) -> str:
    """`export NAME='value'` lines (POSIX shells). With reveal=False the values are masked."""
    import shlex

    from codexprov.redact import mask

    lines = [f"export {v.name}={shlex.quote(v.value if reveal else mask(v.value))}" for v in plan.variables]
    return "\n".join(lines) + ("\n" if lines else "")


def codex_command(argv: list[str], *, provider_id: str | None, profile: str | None) -> list[str]:
    """`argv` with `-c model_provider="ID"` and/or `-p NAME` after the codex executable."""
    if not argv:
        raise UsageError(
            "no command to run", hint="Usage: codexprov run [--provider ID] [--profile NAME] -- codex ARGS…"
        )
    if provider_id is None and profile is None:
        return list(argv)
    if not Path(argv[0]).name.lower().startswith("codex") or Path(argv[0]).name.lower().startswith("codexprov"):
        raise UsageError(
            f"--provider and --profile apply to a codex command, not `{Path(argv[0]).name}`",
            hint="Usage: codexprov run --provider ID -- codex ARGS…",
        )
    extra: list[str] = []
    if provider_id is not None:
        check_provider_id(provider_id)
        extra += ["-c", f'model_provider="{provider_id}"']
    if profile is not None:
        extra += ["-p", profile]
    return [argv[0], *extra, *argv[1:]]


# --------------------------------------------------------------------------- key set: wiring


@dataclass(frozen=True)
class WirePlan:
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
    capabilities: Any = None,
) -> WirePlan:
    """Whether `key set` should point the provider at `codexprov token ID`, and how. `capabilities`:
    what the installed Codex accepts (codex.capabilities.Capabilities; None: the newest known)."""
    from codexprov.codex.capabilities import capabilities as caps_for
    from codexprov.errors import NotFoundError

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
    deletes = tuple(k for k in _CONFLICTS_WITH_AUTH if k in table)
    deletes += tuple(
        p.field for p in find_plaintext(provider_id, table) if "." not in p.field and p.field not in deletes
    )
    set_fields: dict[str, Any] = {"auth": auth.to_table()}
    headers = _headers_without_plaintext(provider_id, table)
    if headers is not None:
        if headers:
            set_fields["http_headers"] = headers
        else:
            deletes += ("http_headers",)
    return WirePlan(provider_id, True, "Codex will run `codexprov token` for the key", set_fields, deletes)


def _headers_without_plaintext(provider_id: str, table: dict[str, Any]) -> dict[str, Any] | None:
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
    from codexprov.config.backups import scrub_text

    return lambda text: scrub_text(text, moved)


@dataclass(frozen=True)
class SetKeyResult:
    provider_id: str
    masked: str
    wiring: WirePlan
    edit: Any  # EditResult | None


def set_key(
    paths: Any,
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
    from codexprov.config.document import load
    from codexprov.redact import ELLIPSIS, mask

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
        from codexprov import providers

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
        from codexprov.config.transaction import scrub_backups

        scrub_backups(paths, {secret: provider_id})  # earlier backups must not hold a key the keyring has
    return SetKeyResult(provider_id, mask(secret) if secret else ELLIPSIS, plan, result)


# --------------------------------------------------------------------------- key migrate


@dataclass(frozen=True)
class MigrationItem:
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
    sends (codexprov.importers.codex_files)."""
    from codexprov.errors import NotFoundError

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
    from codexprov.importers import codex_files

    if not codex_files.sends_login_key(pid, table):
        return ()
    note = "Codex sends the key of its login file to this provider (requires_openai_auth)"
    return (PlaintextKey(pid, codex_files.FIELD, login_key, note=note),)


def _plan_item(
    pid: str, table: dict[str, Any], found: tuple[PlaintextKey, ...], store: KeyStore | None
) -> MigrationItem:
    if len({p.secret for p in found}) > 1:
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
        deletes = tuple(k for k in _CONFLICTS_WITH_AUTH if k in table)
        deletes += tuple(p.field for p in found if "." not in p.field and p.field not in deletes)
        set_fields: dict[str, Any] = {}
        headers = _headers_without_plaintext(pid, table)
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
    paths: Any,
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
    from codexprov.config import edit as config_edit
    from codexprov.config.document import load
    from codexprov.config.transaction import apply_edit
    from codexprov.errors import ConflictError
    from codexprov.importers import codex_files

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
        description="move plain-text keys into the keyring (" + ", ".join(i.provider_id for i, _w in todo) + ")",
        expect=expect,
        backup_text=keyring_backup(moved),
    )
    scrubbed = 0
    if not dry_run:
        from codexprov.config.transaction import scrub_backups

        scrubbed = scrub_backups(paths, moved)
    sent = login_key if any(f.field == codex_files.FIELD for i, _w in todo for f in i.found) else None
    cleared = False
    if sent is not None and clear_auth_json and not dry_run:
        cleared = codex_files.clear_api_key(paths.codex_home, sent)
    return MigrationResult(tuple(items), result, tuple(stored), scrubbed, unmovable, sent, cleared)


# ---------------------------------------------------------------------------- use cases: migrate, run


def preview_migration(paths: Any, store: KeyStore | None, provider_id: str | None = None) -> MigrationResult:
    """`key migrate`'s first step: what would move (nothing stored or written). Asked for one
    provider that cannot be migrated, this is a ConflictError saying why."""
    from codexprov.errors import ConflictError

    preview = migrate(paths, store, provider_id, dry_run=True)
    for item in preview.items:
        if item.skipped and provider_id is not None:
            raise ConflictError(f"not migrating {item.provider_id}: {item.skipped}")
    return preview


def commit_migration(
    paths: Any, store: KeyStore, provider_id: str | None = None, *, clear_auth_json: bool = False
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


def auth_json_note(paths: Any) -> Note:
    """auth.json is Codex's own login file: left as it is unless asked, and said so."""
    return Note(
        f"{paths.codex_home / 'auth.json'} still holds the key: it is Codex's own login file (the built-in `openai` "
        "provider reads it too), so it was left as it is; `codexprov key migrate --clear-auth-json` empties its "
        "OPENAI_API_KEY"
    )


@dataclass(frozen=True)
class RunPlan:
    argv: tuple[str, ...]
    env: dict[str, str] = dataclasses_field(repr=False)
    missing: tuple[str, ...]  # env-mode providers with no key in the keyring

    @property
    def notes(self) -> tuple[Note, ...]:
        return tuple(
            Note(f"no key for {pid} in the keyring (codexprov key set {pid})", "warning") for pid in self.missing
        )


def plan_run(
    paths: Any,
    open_keystore: Any,
    command: list[str],
    *,
    provider_id: str | None,
    profile: str | None,
    environ: dict[str, str],
) -> RunPlan:
    """`codexprov run`: the command (with -c model_provider / -p for codex) and its environment."""
    argv = codex_command(list(command), provider_id=provider_id, profile=profile)
    plan = run_env(paths, open_keystore, provider_id)
    env = dict(environ)
    env.update({v.name: v.value for v in plan.variables})
    return RunPlan(tuple(argv), env, plan.missing)


def execute(plan: RunPlan) -> int:
    """Run the command; its exit status (128+N for a signal N, as shells report it). The child owns
    the terminal: Ctrl-C reaches it directly while we wait."""
    import signal
    import subprocess

    from codexprov.errors import NotFoundError

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        completed = subprocess.run(list(plan.argv), env=plan.env, check=False)
    except FileNotFoundError:
        raise NotFoundError(f"command not found: {plan.argv[0]}") from None
    except PermissionError:
        raise NotFoundError(f"command not executable: {plan.argv[0]}") from None
    finally:
        signal.signal(signal.SIGINT, previous)
    code = completed.returncode
    return 128 - code if code < 0 else code
