"""An import's plan and its one transaction.

Every candidate goes through `adding.plan_add`, the planning of `codexprov add` (recipe `custom`,
or the recipe whose native bridge route fits, e.g. `anthropic`), so an imported provider is the
table `add` would write: keys to the keyring behind `codexprov token ID`, `${VAR}` keys as
`env_key`, chat-only upstreams behind the bridge, no key in plain text. Then, like `add`: keys
first (the keyring), the bridge's registration, and all new tables (with `--use`, the active
provider) in ONE config transaction, so one `codexprov undo` takes the whole import back.

Ids come from the entries' names (`slug`); a name that maps to a built-in or reserved id gets
`-custom`, a second entry with the same id `-2`, `-3`…. An id already in config.toml holding the
very table the import would write is "unchanged" (a second import changes nothing and says so);
holding another table, the entry is skipped with the reason, never overwritten.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from codexprov import adding
from codexprov import recipes as recipes_mod
from codexprov.bridge import install, manage
from codexprov.codex.builtins import BUILTIN_DISPLAY_NAMES
from codexprov.codex.capabilities import capabilities as caps_for
from codexprov.codex.rules import custom_id_refusal
from codexprov.config import edit
from codexprov.config.document import load
from codexprov.config.transaction import apply_edit
from codexprov.errors import CodexprovError, ConflictError
from codexprov.importers import Candidate, Skipped, Source, slug
from codexprov.paths import Paths
from codexprov.redact import is_secret_name, mask
from codexprov.result import Note, Outcome, info, next_step, warning

if TYPE_CHECKING:
    from codexprov.bridge.layout import Layout
    from codexprov.codex.capabilities import Capabilities
    from codexprov.credentials import KeyStore
    from codexprov.model import AuthCommand
    from codexprov.recipes.model import Catalog

# The default upstream URLs LiteLLM knows itself for a native route: no api_base needed.
_NATIVE_DEFAULTS = {
    "anthropic": ("https://api.anthropic.com", "https://api.anthropic.com/v1"),
    "gemini": (
        "https://generativelanguage.googleapis.com",
        "https://generativelanguage.googleapis.com/v1beta",
        "https://generativelanguage.googleapis.com/v1beta/openai",
    ),
}

NEW, REPLACE, UNCHANGED, KEY_ONLY, SKIP = "new", "replace", "unchanged", "key", "skip"


@dataclass(frozen=True)
class Entry:
    """One source entry in the plan."""

    source_id: str
    provider_id: str | None
    status: str  # new | unchanged | key (table already there, key to store) | skip
    reason: str | None = None  # why skipped
    plan: Any = None  # an adding.AddPlan once planned (status new, replace, unchanged or key)
    secret: str | None = field(default=None, repr=False)  # the key to store in the keyring
    store_key: bool = False  # the keyring does not hold this key yet
    current: bool = False
    model: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def route(self) -> str:
        if self.plan is None:
            return "-"
        if self.plan.bridge is not None:
            return f"bridge ({self.plan.bridge.litellm_prefix})"
        return "direct"

    @property
    def key_label(self) -> str:
        if self.plan is None:
            return "-"
        if self.plan.key_mode == "keyring":
            return f"keyring {mask(self.secret)}" if self.secret else "keyring (none yet)"
        if self.plan.key_mode == "env" and self.plan.spec is not None:
            return f"env ${self.plan.spec.env_key}"
        return "none"

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source_id,
            "id": self.provider_id,
            "status": self.status,
            "reason": self.reason,
            "route": self.route,
            "key_source": self.key_label,
            "current": self.current,
        }


@dataclass(frozen=True)
class ImportPlan:
    """What an import will write: the entries from the source and the provider --use makes active."""

    source: Source
    entries: tuple[Entry, ...]
    use_id: str | None  # the provider --use makes active (None: no change)
    use_model: str | None
    preview: Any  # EditResult of the config edit (None: the config does not change)
    notes: tuple[Note, ...] = ()

    @property
    def new(self) -> tuple[Entry, ...]:
        """The entries whose table is written: new ones, and (with --replace) changed ones."""
        return tuple(e for e in self.entries if e.status in (NEW, REPLACE))

    @property
    def importable(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.status != SKIP)

    @property
    def changes(self) -> bool:
        return bool(self.preview is not None and self.preview.changed) or any(e.store_key for e in self.entries)

    @property
    def needs_store(self) -> bool:
        return any(e.store_key for e in self.entries) or any(
            e.plan is not None and e.plan.bridge is not None for e in self.new
        )


@dataclass
class Planner:
    """What planning needs from outside: the recipe catalog, the auth command factory, the Codex
    planned for, the bridge's URL, and (optional) the keyring to compare keys with."""

    catalog: Catalog
    token_auth: Callable[[str], AuthCommand]
    capabilities: Capabilities | None = None
    codex_label: str = "this Codex"
    bridge_url: Callable[[], str] | None = None
    store: KeyStore | None = None  # None: keys are taken as not stored yet
    replace: bool = False  # rewrite a table that differs from the source (fields of the user's own kept)


def url_problem(url: str) -> str | None:
    """Credentials in a URL (user:password@, ?key=…) can only be sent in plain text: refused."""
    try:
        parts = urlsplit(url)
        password, username = parts.password, parts.username
    except ValueError:
        return "its base URL does not parse"
    if password or (username and "@" in parts.netloc):
        return "its base URL holds credentials (user:password@), which Codex can only send in plain text"
    for name, value in parse_qsl(parts.query):
        if is_secret_name(name) and value:
            return f"its base URL holds a key in the query parameter `{name}`, which Codex can only send in plain text"
    return None


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def choose_id(name: str, taken: set[str], capabilities: Capabilities | None = None) -> str:
    """The provider id for an entry named `name`: its slug, `-custom` when Codex reserves it,
    `-2`, `-3`… when an earlier entry of this import has it."""

    base = slug(name) or "provider"
    if not base[0].isalnum():
        base = "p-" + base
    if custom_id_refusal(base, capabilities or caps_for(None)) is not None:
        base += "-custom"
    pid, n = base, 2
    while pid in taken:
        pid, n = f"{base}-{n}", n + 1
    return pid


def _request(candidate: Candidate, pid: str, catalog: Any):
    recipe_id = candidate.route if candidate.bridge and candidate.route else "custom"
    recipe = catalog.get(recipe_id)
    base_url: str | None = candidate.base_url
    if recipe_id in _NATIVE_DEFAULTS and candidate.base_url.rstrip("/") in _NATIVE_DEFAULTS[recipe_id]:
        base_url = None  # LiteLLM calls the provider's own URL
    if candidate.keyless:
        key_mode = "none"
    elif candidate.key_var and not candidate.bridge:
        key_mode = "env"
    else:
        key_mode = "keyring"
    request = adding.AddRequest(
        recipe=recipe_id,
        provider_id=pid,
        base_url=base_url,
        # Codex knows its built-ins by display name: an imported "OpenAI" must not pass for one.
        name=f"{candidate.name} (custom)" if candidate.name in BUILTIN_DISPLAY_NAMES else candidate.name,
        key_mode=key_mode,
        env_key=candidate.key_var if key_mode == "env" else None,
        headers=dict(candidate.headers),
        query=dict(candidate.query),
        bridge=candidate.bridge,
    )
    return recipe, request


def _entry(candidate: Candidate, pid: str, existing: dict[str, Any], planner: Planner, env: dict[str, str]) -> Entry:
    def skip(reason: str) -> Entry:
        return Entry(candidate.source_id, pid, SKIP, reason, current=candidate.current)

    problem = url_problem(candidate.base_url)
    if problem:
        return skip(problem + "; nothing imported for it")
    if candidate.bridge and (candidate.headers or candidate.query):
        names = ", ".join([*candidate.headers, *candidate.query])
        return skip(f"its headers/query parameters ({names}) cannot be passed through the bridge yet")
    recipe, request = _request(candidate, pid, planner.catalog)
    try:
        plan = adding.plan_add(
            recipe,
            request,
            token_auth=planner.token_auth,
            capabilities=planner.capabilities,
            codex_label=planner.codex_label,
            bridge_url=planner.bridge_url,
        )
    except CodexprovError as err:
        return skip(err.message)
    if plan.spec is None:
        return skip("it maps to a Codex built-in provider")
    # The source says the upstream serves /v1/responses (or it goes through the bridge): the
    # custom recipe's "Codex may fail on the first turn" warning does not apply.
    dropped = set(recipes_mod.responses_warnings(recipe, pid))
    plan = dataclasses.replace(plan, warnings=tuple(w for w in plan.warnings if w not in dropped))
    notes = list(candidate.notes) + [f"{pid}: {w}" for w in plan.warnings]
    secret = plan.moved_key or candidate.key if plan.key_mode == "keyring" else None
    if plan.key_mode == "keyring" and secret is None and candidate.key_var:
        value = env.get(candidate.key_var, "").strip()
        if value:
            secret = value
            notes.append(
                f"{pid}: the key was read from ${candidate.key_var} into the keyring (the bridge reads keys there)"
            )
        else:
            notes.append(f"{pid}: ${candidate.key_var} is not set here: store the key with `codexprov key set {pid}`")
    status = NEW
    old = existing.get(pid)
    spec = plan.spec
    assert spec is not None  # built-ins were skipped above
    if old is not None:
        table, owned = spec.to_table(), spec.owned_fields()
        # Fields the user added by hand (request_max_retries, …) are theirs: not a difference.
        if _plain({k: v for k, v in old.items() if k in owned or k in table}) != _plain(table):
            if not planner.replace:
                return skip(
                    f"id `{pid}` is taken in config.toml by a different provider table; pass --replace to rewrite "
                    f"it from {planner_source(candidate)}, or rename or remove that one (`codexprov remove {pid}`)"
                )
            status = REPLACE
        else:
            status = UNCHANGED
    store_key = False
    if secret is not None:
        stored = planner.store.get(pid) if planner.store is not None else None
        store_key = stored != secret
        if status == UNCHANGED and store_key:
            status = KEY_ONLY
    return Entry(
        candidate.source_id,
        pid,
        status,
        None,
        plan,
        secret,
        store_key,
        candidate.current,
        candidate.model,
        tuple(notes),
    )


def planner_source(candidate: Candidate) -> str:
    return f"the source's `{candidate.source_id}`"


def plan_import(paths: Paths, source: Source, planner: Planner, *, use: bool, env: dict[str, str]) -> ImportPlan:
    """Decide every entry and preview the one config edit (nothing stored or written)."""

    data = load(paths.config_file).data
    existing = data.get("model_providers") if isinstance(data.get("model_providers"), dict) else {}
    assert isinstance(existing, dict)
    if planner.bridge_url is not None:
        # One URL for every bridged entry: with no bridge set up yet, each call picks a free port.
        planner = dataclasses.replace(planner, bridge_url=_once(planner.bridge_url))
    taken: set[str] = set()
    entries: list[Entry] = []
    for item in source.items:
        if isinstance(item, Skipped):
            entries.append(Entry(item.source_id, None, SKIP, item.reason))
            continue
        pid = choose_id(item.name, taken, planner.capabilities)
        taken.add(pid)
        entries.append(_entry(item, pid, existing, planner, env))
    notes: list[Note] = []
    use_id = use_model = None
    if use:
        current = [e for e in entries if e.current]
        if not current:
            notes.append(warning(f"no provider is marked as the live one in {source.tool}: --use changed nothing"))
        elif current[0].status == SKIP:
            notes.append(
                warning(
                    f"the live provider in {source.tool} ({current[0].source_id}) was skipped: --use changed nothing"
                )
            )
        else:
            use_id, use_model = current[0].provider_id, current[0].model
            if data.get("model_provider") == use_id and (use_model is None or data.get("model") == use_model):
                use_id = use_model = None  # already active
    new = [e for e in entries if e.status in (NEW, REPLACE)]
    preview = None
    if new or use_id:
        preview = write_tables(paths, new, use_id, use_model, source, dry_run=True)
    return ImportPlan(source, tuple(entries), use_id, use_model, preview, tuple(notes))


def _once(make: Callable[[], str]) -> Callable[[], str]:
    value: list[str] = []

    def get() -> str:
        if not value:
            value.append(make())
        return value[0]

    return get


def write_tables(
    paths: Paths,
    entries: list[Entry],
    use_id: str | None,
    use_model: str | None,
    source: Source,
    *,
    dry_run: bool,
    reuse: Any = None,
) -> Any:
    """All new provider tables (and replaced ones), and the active provider with --use, in one transaction."""

    tables: dict[str, dict[str, Any]] = {
        str(e.provider_id): e.plan.spec.to_table() for e in entries if e.plan is not None and e.plan.spec is not None
    }
    replaced = {
        str(e.provider_id): e.plan.spec.owned_fields() for e in entries if e.status == REPLACE and e.plan is not None
    }
    kept: dict[str, dict[str, Any]] = {}
    root: dict[str, Any] = {}
    if use_id is not None:
        root["model_provider"] = use_id
        if use_model is not None:
            root["model"] = use_model

    def transform(snap: Any) -> str:
        present = snap.data.get("model_providers") or {}
        clash = [pid for pid in tables if (pid in present) != (pid in replaced)]
        if clash:
            raise ConflictError(
                f"{snap.path} changed while importing ({', '.join(clash)}); nothing was written",
                hint="Run the import again.",
            )
        text = snap.text
        for pid, table in tables.items():
            if pid in replaced:
                old = present[pid]
                kept[pid] = {k: v for k, v in old.items() if k not in replaced[pid] and k not in table}
                text = edit.scoped_edit(
                    text,
                    ("model_providers", pid),
                    functools.partial(_rewrite, pid=pid, table=table, owned=replaced[pid]),
                )
            else:
                text = edit.add_table(text, ("model_providers", pid), table)
        return edit.set_root_keys(text, root) if root else text

    def expect(data: dict[str, Any]) -> dict[str, Any]:
        data.setdefault("model_providers", {}).update({pid: {**kept.get(pid, {}), **t} for pid, t in tables.items()})
        data.update(root)
        return data

    ids = ", ".join(tables) or "no new provider"
    description = f"import from {source.tool} ({ids})" + (f", use {use_id}" if use_id else "")
    return apply_edit(
        paths, paths.config_file, transform, dry_run=dry_run, description=description, expect=expect, reuse=reuse
    )


def _rewrite(doc: Any, *, pid: str, table: dict[str, Any], owned: Any) -> None:
    """The table holds `table`; of its other fields only the ones an import decides are dropped."""

    current = doc["model_providers"][pid]
    for key in [k for k in current if k not in table and k in owned]:
        del current[key]
    for key, value in table.items():
        if (
            key in current
            and _plain(current[key].unwrap() if hasattr(current[key], "unwrap") else current[key]) == value
        ):
            continue
        edit.assign(current, key, value)


def commit_import(plan: ImportPlan, paths: Paths, *, store: KeyStore | None, bridge_layout: Layout) -> Outcome:
    """Do what the plan previewed: keys into the keyring, bridged upstreams registered, then the
    one config transaction; a running bridge is restarted afterwards to serve the new upstreams.
    `store` may be None only when no entry has a key to store (the CLI opens it whenever one has)."""
    notes: list[Note] = []
    for entry in plan.entries:
        if entry.store_key and entry.secret:
            assert store is not None
            store.set(str(entry.provider_id), entry.secret)
            notes.append(info(f"key for {entry.provider_id} stored in the OS keyring ({mask(entry.secret)})"))
    bridged = [e for e in plan.importable if e.plan is not None and e.plan.bridge is not None]
    if bridged:
        known = set(manage.bridged_ids(bridge_layout))
        for entry in bridged:
            if entry.status not in (NEW, REPLACE) and entry.provider_id in known:
                continue
            planned = entry.plan.spec.base_url or ""
            state = manage.register(bridge_layout, entry.plan.bridge, store, port=manage.port_of(planned))
            if state.base_url != planned:
                raise ConflictError(
                    f"the bridge moved to {state.base_url} while importing; config.toml was not changed",
                    hint="Run the import again (it plans for the bridge's new port).",
                )
    edits: tuple[Any, ...] = ()
    if plan.preview is not None and plan.preview.changed:
        result = write_tables(
            paths, list(plan.new), plan.use_id, plan.use_model, plan.source, dry_run=False, reuse=plan.preview
        )
        edits = (result,)
    if bridged:
        notes += _bridge_after(bridge_layout, store)
    for entry in plan.new:
        if entry.plan.key_mode == "keyring" and not entry.secret:
            notes.append(
                next_step(f"next: store the key for {entry.provider_id} with `codexprov key set {entry.provider_id}`")
            )
        elif entry.plan.key_mode == "env":
            notes.append(
                info(
                    f"{entry.provider_id}: Codex reads the key from ${entry.plan.spec.env_key}: set it in the environment Codex starts from"
                )
            )
    return Outcome(edits, tuple(notes))


def _bridge_after(layout: Layout, store: KeyStore | None) -> list[Note]:
    if install.installed_version(layout) is None:
        return [
            next_step("next: install the bridge's LiteLLM with `codexprov bridge install` (a virtualenv of its own)")
        ]
    if manage.reload_if_running(layout, store):
        return [info("the bridge was restarted to serve the imported providers")]
    return [info("the bridge starts by itself when Codex next starts (or now: `codexprov bridge up`)")]


def summary(plan: ImportPlan) -> list[Note]:
    """The plan's talk: per-entry notes, what is unchanged, and what --use does."""
    notes: list[Note] = [info(n) for e in plan.entries if e.status != SKIP for n in e.notes]
    if plan.source.ignored:
        notes.append(info(plan.source.ignored))
    notes += list(plan.notes)
    return notes


def nothing_left(plan: ImportPlan) -> CodexprovError | None:
    """The error when nothing at all can be imported (every entry skipped)."""
    if plan.importable:
        return None
    return CodexprovError(
        f"nothing imported from {plan.source.path}: every provider was skipped (reasons above); nothing was written",
        hint="Fix the entries in the source, or add them one by one with `codexprov add custom --id ID --base-url URL`.",
    )


__all__ = [
    "Entry",
    "ImportPlan",
    "Planner",
    "Skipped",
    "choose_id",
    "commit_import",
    "plan_import",
    "url_problem",
]
