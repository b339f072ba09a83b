"""Read cc-switch's Codex providers from its SQLite database, read-only.

cc-switch (farion1231/cc-switch, and cc-switch-cli) keeps every provider in `cc-switch.db`, table
`providers` (primary key `id, app_type`; columns `name`, `settings_config`, `meta`, `is_current`,
`sort_index`, `created_at`, …). A Codex row (`app_type = 'codex'`) holds in `settings_config` the
JSON `{"auth": {"OPENAI_API_KEY": …}, "config": "<a whole config.toml as a string>"}` that cc-switch
writes into `~/.codex/auth.json` and `config.toml` when it switches, and in `meta` a JSON object
whose `apiFormat` says what the upstream speaks: `openai_responses` (Codex talks to it directly) or
`openai_chat` (Chat Completions only: cc-switch puts its own proxy in front; codexprov its bridge).

The database is opened with `mode=ro` (cc-switch may have it open); nothing is ever written to it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from codexprov.errors import ConfigError, FileAccessError, LockError, NotFoundError
from codexprov.importers import Candidate, Skipped, Source

SQLITE_MAGIC = b"SQLite format 3\x00"
CONFIG_DIR_ENV = "CC_SWITCH_CONFIG_DIR"
DB_NAME = "cc-switch.db"
CHAT_FORMATS = ("openai_chat",)
RESPONSES_FORMATS = ("openai_responses",)
# Where a key can sit in a row's config.toml text, besides auth.json's OPENAI_API_KEY.
TOML_KEY_FIELDS = ("experimental_bearer_token", "apiKey", "api_key")


def default_path(env: Mapping[str, str] | None = None) -> Path:
    """`$CC_SWITCH_CONFIG_DIR/cc-switch.db` (cc-switch-cli's override), else `~/.cc-switch/cc-switch.db`."""
    env = os.environ if env is None else env
    folder = env.get(CONFIG_DIR_ENV)
    base = Path(folder).expanduser() if folder else Path.home() / ".cc-switch"
    return base / DB_NAME


def read(path: Path) -> Source:
    """Every Codex row of the database at `path`; other apps' rows are counted, not read."""
    _check_file(path)
    uri = path.absolute().as_uri() + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=2.0)
    except sqlite3.Error as err:
        raise FileAccessError(f"{path}: cannot open the database read-only ({err})") from None
    try:
        rows, others = _rows(conn, path)
    finally:
        conn.close()
    items = tuple(_candidate(row) for row in rows)
    ignored = None
    if others:
        apps = ", ".join(sorted(others))
        count = sum(others.values())
        ignored = f"{count} row{'s' if count != 1 else ''} of other apps ({apps}) ignored"
    if not rows:
        raise NotFoundError(
            f"{path}: no Codex providers in this cc-switch database" + (f" ({ignored})" if ignored else ""),
            hint="Add your Codex providers in cc-switch first, or pass --from with another cc-switch.db.",
        )
    return Source("cc-switch", path, items, ignored)


def _check_file(path: Path) -> None:
    try:
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        raise NotFoundError(
            f"no cc-switch database at {path}",
            hint=f"Pass --from PATH (cc-switch keeps it in ~/.cc-switch/{DB_NAME}, or ${CONFIG_DIR_ENV}/{DB_NAME}).",
        ) from None
    except IsADirectoryError:
        raise ConfigError(
            f"{path} is a folder, not cc-switch's database", hint=f"Pass --from {path / DB_NAME}."
        ) from None
    except OSError as err:
        raise FileAccessError(f"cannot read {path}: {err.strerror or err}") from None
    if head != SQLITE_MAGIC:
        raise ConfigError(
            f"{path} is not a SQLite database (cc-switch keeps its providers in {DB_NAME})",
            hint="Pass --from with the path of cc-switch.db.",
        )


def _rows(conn: sqlite3.Connection, path: Path) -> tuple[list[dict[str, Any]], dict[str, int]]:
    try:
        columns = {r[1] for r in conn.execute("PRAGMA table_info(providers)").fetchall()}
        if not columns:
            raise ConfigError(
                f"{path}: no `providers` table: not a cc-switch database, or one cc-switch has not set up yet",
                hint="Open cc-switch once (it creates its tables), or pass --from with another cc-switch.db.",
            )
        missing = [c for c in ("id", "app_type", "name", "settings_config") if c not in columns]
        if missing:
            raise ConfigError(
                f"{path}: the `providers` table has no column {', '.join(missing)}: not a database layout codexprov knows",
                hint="Update cc-switch (it migrates its database when it starts), then import again.",
            )
        wanted = [c for c in ("meta", "is_current", "sort_index", "created_at") if c in columns]
        select = ", ".join(["id", "name", "settings_config", *wanted])
        order = ", ".join([f"{c} IS NULL, {c}" for c in ("sort_index", "created_at") if c in columns] + ["name", "id"])
        conn.row_factory = sqlite3.Row
        rows = [
            dict(r) for r in conn.execute(f"SELECT {select} FROM providers WHERE app_type = 'codex' ORDER BY {order}")
        ]
        others = {
            str(app): int(count)
            for app, count in conn.execute(
                "SELECT app_type, COUNT(*) FROM providers WHERE app_type != 'codex' GROUP BY app_type"
            )
        }
    except sqlite3.OperationalError as err:
        if "locked" in str(err).lower() or "busy" in str(err).lower():
            raise LockError(
                f"{path} is locked by another program (cc-switch writing to it); nothing was read",
                hint="Try again in a moment, or close cc-switch and import again.",
            ) from None
        raise ConfigError(
            f"{path}: cannot read the database ({err}); it may be half-written or damaged",
            hint="Close cc-switch so that it finishes writing, then import again; or pass --from with a backup.",
        ) from None
    except sqlite3.DatabaseError as err:
        raise ConfigError(
            f"{path}: not a readable SQLite database ({err}); it may be half-written or damaged",
            hint="Close cc-switch so that it finishes writing, then import again; or pass --from with a backup.",
        ) from None
    return rows, others


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value if isinstance(value, str) else None


def _candidate(row: dict[str, Any]) -> Candidate | Skipped:
    source_id = str(row.get("id") or "")
    name = (_text(row.get("name")) or "").strip() or source_id
    label = name or "(unnamed row)"
    raw = _text(row.get("settings_config"))
    if not raw or not raw.strip():
        return Skipped(label, "its settings_config is empty")
    try:
        settings = json.loads(raw)
    except ValueError:
        return Skipped(label, "its settings_config is not JSON")
    if not isinstance(settings, dict):
        return Skipped(label, "its settings_config is not a JSON object")
    meta = _meta(row.get("meta"))
    if meta is None:
        return Skipped(label, "its meta is not a JSON object")
    api_format = meta.get("apiFormat")
    if api_format is not None and api_format not in CHAT_FORMATS + RESPONSES_FORMATS:
        return Skipped(
            label, f"its apiFormat `{api_format}` is not one codexprov knows (openai_responses, openai_chat)"
        )
    config_text = settings.get("config") or ""
    if not isinstance(config_text, str):
        return Skipped(label, "its config is not a config.toml text")
    try:
        config = tomllib.loads(config_text)
    except tomllib.TOMLDecodeError as err:
        return Skipped(label, f"its config.toml text does not parse ({err})")
    table = _provider_table(config)
    if table is None:
        return Skipped(
            label, "its config has no [model_providers] table (Codex's built-in OpenAI login): nothing to import"
        )
    base_url = table.get("base_url")
    if not isinstance(base_url, str) or not base_url.strip():
        return Skipped(label, "its provider table has no base_url")
    auth = settings.get("auth")
    key = _key(auth if isinstance(auth, dict) else {}, table, config)
    env_key = table.get("env_key") if isinstance(table.get("env_key"), str) else None
    wire = str(table.get("wire_api") or "responses")
    bridge = api_format in CHAT_FORMATS or wire == "chat"
    notes: list[str] = []
    if wire == "chat" and api_format not in CHAT_FORMATS:
        notes.append(f'{label}: wire_api = "chat" (Codex no longer speaks it): routed through the bridge')
    model = config.get("model") if isinstance(config.get("model"), str) else None
    return Candidate(
        source_id=label,
        name=name,
        base_url=base_url.strip(),
        model=model,
        key=key,
        key_var=env_key if key is None and env_key else None,
        bridge=bridge,
        headers=_str_dict(table.get("http_headers")),
        query=_str_dict(table.get("query_params")),
        current=bool(row.get("is_current")),
        notes=tuple(notes),
    )


def _meta(value: Any) -> dict[str, Any] | None:
    text = _text(value)
    if text is None or not text.strip():
        return {}
    try:
        meta = json.loads(text)
    except ValueError:
        return None
    return meta if isinstance(meta, dict) else None


def _provider_table(config: dict[str, Any]) -> dict[str, Any] | None:
    """The provider the row's config.toml makes active (its `model_provider`), else its only one."""
    tables = config.get("model_providers")
    if not isinstance(tables, dict) or not tables:
        return None
    active = config.get("model_provider")
    if isinstance(active, str) and isinstance(tables.get(active), dict):
        return tables[active]
    only = [t for t in tables.values() if isinstance(t, dict)]
    return only[0] if len(only) == 1 else None


def _key(auth: dict[str, Any], table: dict[str, Any], config: dict[str, Any]) -> str | None:
    """The key Codex would send: the provider's bearer token, else auth.json's OPENAI_API_KEY (what
    `requires_openai_auth = true` sends), else an apiKey/api_key cc-switch or the user left in the
    TOML (in the provider table, then at the top)."""
    bearer = table.get("experimental_bearer_token")
    candidates = [bearer, auth.get("OPENAI_API_KEY")]
    candidates += [table.get(f) for f in TOML_KEY_FIELDS[1:]]
    candidates += [config.get(f) for f in TOML_KEY_FIELDS]
    for value in candidates:
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _str_dict(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if isinstance(v, str | int | float)}
