"""Source files built the way cc-switch and ocx write them, for the import tests.

cc-switch: the `providers` table exactly as cc-switch creates it (farion1231/cc-switch,
src-tauri/src/database/schema.rs: primary key `(id, app_type)`, `settings_config` and `meta` JSON
text, `is_current` boolean), with the neighbouring tables it creates alongside, and rows for Codex
and for other apps. A Codex row's `settings_config` is `{"auth": {...}, "config": "<config.toml>"}`
as cc-switch's presets generate it (`generateThirdPartyAuth` / `generateThirdPartyConfig`:
`model_provider = "custom"`, `[model_providers.custom]`, `requires_openai_auth = true`); `meta`
holds `apiFormat` (`openai_chat` for chat-only upstreams).

ocx: `~/.opencodex/config.json` as opencodex writes it (`port`, `defaultProvider`, `providers:
{NAME: {adapter, baseUrl, apiKey, apiKeyPool: [{id, key, label, addedAt}], defaultModel, models,
headers, disabled}}`).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CC_SWITCH_SCHEMA = """
CREATE TABLE IF NOT EXISTS providers (
    id TEXT NOT NULL,
    app_type TEXT NOT NULL,
    name TEXT NOT NULL,
    settings_config TEXT NOT NULL,
    website_url TEXT,
    category TEXT,
    created_at INTEGER,
    sort_index INTEGER,
    notes TEXT,
    icon TEXT,
    icon_color TEXT,
    meta TEXT NOT NULL DEFAULT '{}',
    is_current BOOLEAN NOT NULL DEFAULT 0,
    in_failover_queue BOOLEAN NOT NULL DEFAULT 0,
    PRIMARY KEY (id, app_type)
);
CREATE TABLE IF NOT EXISTS provider_endpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    provider_id TEXT NOT NULL,
    app_type TEXT NOT NULL,
    url TEXT NOT NULL,
    added_at INTEGER,
    FOREIGN KEY (provider_id, app_type) REFERENCES providers(id, app_type) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT);
"""


def third_party_config(name: str, base_url: str, model: str = "gpt-5.6-sol", extra: str = "") -> str:
    """The config.toml text cc-switch's preset generator writes for a third-party provider."""
    return (
        'model_provider = "custom"\n'
        f"model = {json.dumps(model)}\n"
        'model_reasoning_effort = "high"\n'
        "disable_response_storage = true\n\n"
        "[model_providers.custom]\n"
        f"name = {json.dumps(name)}\n"
        f"base_url = {json.dumps(base_url)}\n"
        'wire_api = "responses"\n'
        "requires_openai_auth = true\n" + extra
    )


@dataclass
class CcRow:
    id: str
    name: str
    settings: dict[str, Any] | str  # a dict is written as JSON; a str as it is (broken rows)
    app_type: str = "codex"
    meta: dict[str, Any] | str = field(default_factory=dict)
    current: bool = False
    sort_index: int | None = None


def codex_row(
    pid: str,
    name: str,
    base_url: str,
    key: str | None,
    *,
    api_format: str | None = "openai_responses",
    model: str = "gpt-5.6-sol",
    current: bool = False,
    extra: str = "",
    sort_index: int | None = None,
) -> CcRow:
    meta: dict[str, Any] = {"apiFormat": api_format} if api_format else {}
    return CcRow(
        pid,
        name,
        {"auth": {"OPENAI_API_KEY": key or ""}, "config": third_party_config(name, base_url, model, extra)},
        meta=meta,
        current=current,
        sort_index=sort_index,
    )


def write_cc_switch(path: Path, rows: list[CcRow]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    try:
        conn.executescript(CC_SWITCH_SCHEMA)
        conn.execute("INSERT INTO settings (key, value) VALUES ('language', 'en')")
        for n, row in enumerate(rows):
            settings = row.settings if isinstance(row.settings, str) else json.dumps(row.settings)
            meta = row.meta if isinstance(row.meta, str) else json.dumps(row.meta)
            conn.execute(
                "INSERT INTO providers (id, app_type, name, settings_config, website_url, category, created_at,"
                " sort_index, meta, is_current) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row.id,
                    row.app_type,
                    row.name,
                    settings,
                    "https://example.test",
                    "custom",
                    1_760_000_000_000 + n,
                    row.sort_index if row.sort_index is not None else n,
                    meta,
                    1 if row.current else 0,
                ),
            )
        conn.commit()
    finally:
        conn.close()
    return path


def other_app_rows() -> list[CcRow]:
    """Rows cc-switch keeps for Claude Code and Gemini CLI in the same table: never imported."""
    return [
        CcRow(
            "claude-1",
            "Claude Relay",
            {"env": {"ANTHROPIC_AUTH_TOKEN": "sk-ant-claude-row-0000", "ANTHROPIC_BASE_URL": "https://relay.test"}},
            app_type="claude",
            current=True,
        ),
        CcRow("gemini-1", "Gemini", {"env": {"GEMINI_API_KEY": "gemini-row-key-0000"}}, app_type="gemini"),
    ]


def write_ocx(path: Path, providers: dict[str, dict[str, Any]], default: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    config = {
        "port": 10100,
        "hostname": "127.0.0.1",
        "defaultProvider": default or next(iter(providers), ""),
        "providers": providers,
    }
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return path
