"""`codexprov import cc-switch`: cc-switch's SQLite database (its real schema, rows for Codex and
for other apps) into config.toml, read-only, keys into the keyring, one transaction, idempotent.
The database's bytes are checked unchanged after every run."""

from __future__ import annotations

import hashlib
import sqlite3
import tomllib
from pathlib import Path

import pytest

from tests.import_sources import CcRow, codex_row, other_app_rows, write_cc_switch

KIMI_KEY = "sk-kimi-import-0123456789abcdef"
RELAY_KEY = "sk-relay-import-fedcba9876543210"
BEARER_KEY = "sk-bearer-in-toml-5555666677778888"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    rows = [
        CcRow("official", "OpenAI Official", {"auth": {}, "config": ""}),
        codex_row("kimi", "Kimi K2", "https://api.moonshot.test/v1", KIMI_KEY, api_format="openai_chat", current=True),
        codex_row("relay", "Relay Station", "https://relay.test/v1", RELAY_KEY, model="gpt-5.6-sol"),
        codex_row(
            "bearer",
            "Bearer Relay",
            "https://bearer.test/v1",
            None,
            api_format=None,
            extra=f'experimental_bearer_token = "{BEARER_KEY}"\n',
        ),
        *other_app_rows(),
    ]
    return write_cc_switch(tmp_path / "cc" / "cc-switch.db", rows)


def config(codex_home: Path) -> dict:
    path = codex_home / "config.toml"
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


PLAN = [
    "CC-SWITCH          ID            ROUTE                   KEY               STATUS",
    "OpenAI Official    -             -                       -                 skip: its config has no [model_providers] "
    "table (Codex's built-in OpenAI login): nothing to import",
    "Kimi K2 (current)  kimi-k2       bridge (custom_openai)  keyring sk-…cdef  new",
    "Relay Station      relay-station direct                  keyring sk-…3210  new",
    "Bearer Relay       bearer-relay  direct                  keyring sk-…8888  new",
]


def test_dry_run_shows_the_plan_and_the_diff_and_writes_nothing(run_cli, db, codex_home, memory_keyring):
    before = digest(db)
    result = run_cli("import", "cc-switch", "--from", str(db), "--dry-run")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [" ".join(line.split()) for line in lines[:5]] == [" ".join(line.split()) for line in PLAN]
    assert "+[model_providers.relay-station]" in result.stdout
    assert '+base_url = "https://relay.test/v1"' in result.stdout
    assert result.stderr.splitlines() == [
        "2 rows of other apps (claude, gemini) ignored",
        "would store keys in the OS keyring for: kimi-k2, relay-station, bearer-relay",
        "dry run: nothing was written",
    ]
    assert not (codex_home / "config.toml").exists()
    assert memory_keyring.get_password("codexprov", "relay-station") is None
    for secret in (KIMI_KEY, RELAY_KEY, BEARER_KEY):
        assert secret not in result.stdout + result.stderr
    assert digest(db) == before


def test_import_writes_all_in_one_transaction_and_a_second_run_changes_nothing(run_cli, db, codex_home, memory_keyring):
    before = digest(db)
    first = run_cli("import", "cc-switch", "--from", str(db), "--yes")
    assert first.exit_code == 0, first.stderr
    data = config(codex_home)
    assert sorted(data["model_providers"]) == ["bearer-relay", "kimi-k2", "relay-station"]
    relay = data["model_providers"]["relay-station"]
    assert relay["name"] == "Relay Station"
    assert relay["base_url"] == "https://relay.test/v1"
    assert relay["wire_api"] == "responses"
    assert relay["auth"]["args"] == ["token", "relay-station"]
    assert "requires_openai_auth" not in relay and "env_key" not in relay
    kimi = data["model_providers"]["kimi-k2"]
    assert kimi["http_headers"] == {"x-litellm-tags": "kimi-k2"}
    assert kimi["base_url"].startswith("http://127.0.0.1:")
    assert "model_provider" not in data  # only with --use
    assert memory_keyring.get_password("codexprov", "relay-station") == RELAY_KEY
    assert memory_keyring.get_password("codexprov", "kimi-k2") == KIMI_KEY
    assert memory_keyring.get_password("codexprov", "bearer-relay") == BEARER_KEY
    text = (codex_home / "config.toml").read_text(encoding="utf-8")
    for secret in (KIMI_KEY, RELAY_KEY, BEARER_KEY):
        assert secret not in text
        assert secret not in first.stdout + first.stderr
    assert "import from cc-switch (kimi-k2, relay-station, bearer-relay): wrote" in first.stderr

    second = run_cli("import", "cc-switch", "--from", str(db), "--yes")
    assert second.exit_code == 0, second.stderr
    assert (codex_home / "config.toml").read_text(encoding="utf-8") == text
    assert "unchanged" in second.stdout and " new" not in second.stdout
    assert (
        f"nothing to import: the 3 providers from cc-switch are already in {codex_home / 'config.toml'} as imported; "
        "nothing changed"
    ) in second.stderr
    assert digest(db) == before

    # One transaction: one undo takes the whole import back.
    undone = run_cli("undo")
    assert undone.exit_code == 0, undone.stderr
    assert config(codex_home).get("model_providers") in (None, {})


def test_use_makes_the_current_row_active_with_its_model(run_cli, db, codex_home, memory_keyring):
    result = run_cli("import", "cc-switch", "--from", str(db), "--yes", "--use")
    assert result.exit_code == 0, result.stderr
    data = config(codex_home)
    assert data["model_provider"] == "kimi-k2"
    assert data["model"] == "gpt-5.6-sol"
    again = run_cli("import", "cc-switch", "--from", str(db), "--yes", "--use")
    assert again.exit_code == 0 and "nothing to import" in again.stderr


def test_a_key_changed_in_cc_switch_is_stored_again_without_touching_the_config(
    run_cli, db, codex_home, memory_keyring
):
    assert run_cli("import", "cc-switch", "--from", str(db), "--yes").exit_code == 0
    text = (codex_home / "config.toml").read_text(encoding="utf-8")
    memory_keyring.set_password("codexprov", "relay-station", "sk-old-key-000000000000")
    again = run_cli("import", "cc-switch", "--from", str(db), "--yes")
    assert again.exit_code == 0, again.stderr
    assert "unchanged (key to store)" in again.stdout
    assert memory_keyring.get_password("codexprov", "relay-station") == RELAY_KEY
    assert (codex_home / "config.toml").read_text(encoding="utf-8") == text


def test_ids_from_names_avoid_built_ins_and_each_other(run_cli, tmp_path, codex_home, memory_keyring):
    path = write_cc_switch(
        tmp_path / "cc-switch.db",
        [
            codex_row("1", "OpenAI", "https://one.test/v1", "sk-one-000000000000001"),
            codex_row("2", "Kimi", "https://kimi-a.test/v1", "sk-two-000000000000002"),
            codex_row("3", "kimi", "https://kimi-b.test/v1", "sk-three-0000000000003"),
            codex_row("4", "  中文 ", "https://cn.test/v1", "sk-four-000000000000004"),
        ],
    )
    result = run_cli("import", "cc-switch", "--from", str(path), "--yes")
    assert result.exit_code == 0, result.stderr
    tables = config(codex_home)["model_providers"]
    assert list(tables) == ["openai-custom", "kimi", "kimi-2", "provider"]
    assert tables["openai-custom"]["name"] == "OpenAI (custom)"


def test_an_id_taken_by_another_table_is_skipped_not_overwritten(run_cli, db, codex_home, memory_keyring):
    mine = '[model_providers.relay-station]\nname = "Mine"\nbase_url = "https://mine.test/v1"\n'
    (codex_home / "config.toml").write_text(mine, encoding="utf-8")
    result = run_cli("import", "cc-switch", "--from", str(db), "--yes")
    assert result.exit_code == 0, result.stderr
    assert (
        "skip: id `relay-station` is taken in config.toml by a different provider table; pass --replace to rewrite it "
        "from the source's `Relay Station`, or rename or remove that one (`codexprov remove relay-station`)"
    ) in result.stdout
    text = (codex_home / "config.toml").read_text(encoding="utf-8")
    assert text.startswith(mine)
    assert sorted(config(codex_home)["model_providers"]) == ["bearer-relay", "kimi-k2", "relay-station"]


def test_rows_with_problems_are_skipped_with_the_reason(run_cli, tmp_path, codex_home, memory_keyring):
    secret = "sk-in-url-password-99998888"
    path = write_cc_switch(
        tmp_path / "cc-switch.db",
        [
            CcRow("a", "No JSON", "{not json"),
            CcRow("b", "No URL", {"auth": {}, "config": '[model_providers.x]\nname = "x"\n'}),
            CcRow("c", "Bad TOML", {"auth": {}, "config": "model = \n"}),
            CcRow("d", "Odd Format", {"auth": {}, "config": ""}, meta={"apiFormat": "anthropic"}),
            codex_row("e", "Creds In URL", f"https://user:{secret}@relay.test/v1", None),
            codex_row("f", "Key In Query", f"https://relay.test/v1?api_key={secret}", None),
            codex_row("g", "Fine", "https://fine.test/v1", "sk-fine-000000000000000"),
        ],
    )
    result = run_cli("import", "cc-switch", "--from", str(path), "--yes")
    assert result.exit_code == 0, result.stderr
    assert "skip: its settings_config is not JSON" in result.stdout
    assert "skip: its provider table has no base_url" in result.stdout
    assert "skip: its config.toml text does not parse (Invalid value (at line 1, column 9))" in result.stdout
    assert "skip: its apiFormat `anthropic` is not one codexprov knows (openai_responses, openai_chat)" in result.stdout
    assert (
        "skip: its base URL holds credentials (user:password@), which Codex can only send in plain text; "
        "nothing imported for it"
    ) in result.stdout
    assert (
        "skip: its base URL holds a key in the query parameter `api_key`, which Codex can only send in plain text"
        in result.stdout
    )
    assert secret not in result.stdout + result.stderr
    assert list(config(codex_home)["model_providers"]) == ["fine"]


def test_nothing_importable_is_an_error_and_writes_nothing(run_cli, tmp_path, codex_home, memory_keyring):
    path = write_cc_switch(tmp_path / "cc-switch.db", [CcRow("a", "Official", {"auth": {}, "config": ""})])
    before = digest(path)
    result = run_cli("import", "cc-switch", "--from", str(path), "--yes")
    assert result.exit_code == 1
    assert (
        f"error: nothing imported from {path}: every provider was skipped (reasons above); nothing was written"
        in result.stderr
    )
    assert not (codex_home / "config.toml").exists()
    assert digest(path) == before


@pytest.mark.parametrize(
    ("make", "code", "message"),
    [
        (lambda p: None, 4, "error: no cc-switch database at {p}"),
        (lambda p: p.write_text("not sqlite\n"), 3, "error: {p} is not a SQLite database"),
        (lambda p: p.write_bytes(b""), 3, "error: {p} is not a SQLite database"),
        (
            lambda p: sqlite3.connect(p).executescript("CREATE TABLE other (x);").close(),
            3,
            "error: {p}: no `providers` table",
        ),
        (
            lambda p: write_cc_switch(p, other_app_rows()),
            4,
            "error: {p}: no Codex providers in this cc-switch database (2 rows of other apps (claude, gemini) ignored)",
        ),
    ],
    ids=["missing", "text", "empty", "no-table", "no-codex-rows"],
)
def test_bad_sources_are_one_clear_error(run_cli, tmp_path, codex_home, memory_keyring, make, code, message):
    path = tmp_path / "cc-switch.db"
    make(path)
    result = run_cli("import", "cc-switch", "--from", str(path), "--yes")
    assert result.exit_code == code, result.stderr
    assert result.stderr.startswith(message.format(p=path)), result.stderr
    assert "Traceback" not in result.stderr
    assert not (codex_home / "config.toml").exists()


def test_a_half_written_database_is_refused(run_cli, db, codex_home, memory_keyring):
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2 + 100])  # the header survives; the pages do not
    result = run_cli("import", "cc-switch", "--from", str(db), "--yes")
    assert result.exit_code == 3, result.stderr
    assert "it may be half-written or damaged" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (codex_home / "config.toml").exists()


def test_a_locked_database_is_exit_7(run_cli, db, codex_home, memory_keyring):
    writer = sqlite3.connect(db)
    writer.execute("BEGIN EXCLUSIVE")
    try:
        result = run_cli("import", "cc-switch", "--from", str(db), "--yes")
    finally:
        writer.rollback()
        writer.close()
    assert result.exit_code == 7, result.stderr
    assert result.stderr.startswith(f"error: {db} is locked by another program (cc-switch writing to it)")
    assert not (codex_home / "config.toml").exists()


def test_default_path_follows_cc_switch_config_dir(run_cli, tmp_path, codex_home, memory_keyring, monkeypatch):
    write_cc_switch(
        tmp_path / "ccdir" / "cc-switch.db", [codex_row("g", "Fine", "https://fine.test/v1", "sk-f-00000000000")]
    )
    monkeypatch.setenv("CC_SWITCH_CONFIG_DIR", str(tmp_path / "ccdir"))
    result = run_cli("import", "cc-switch", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "fine" in result.stdout
    monkeypatch.delenv("CC_SWITCH_CONFIG_DIR")
    missing = run_cli("import", "cc-switch", "--dry-run")
    assert missing.exit_code == 4
    assert missing.stderr.startswith(f"error: no cc-switch database at {Path.home() / '.cc-switch' / 'cc-switch.db'}")


def test_without_a_terminal_it_asks_for_yes(run_cli, db, codex_home, memory_keyring):
    result = run_cli("import", "cc-switch", "--from", str(db), input="")
    assert result.exit_code == 9
    assert "error: cannot ask for confirmation: standard input is not a terminal" in result.stderr
    assert not (codex_home / "config.toml").exists()
    assert memory_keyring.get_password("codexprov", "relay-station") is None


def test_two_chat_rows_share_one_bridge_port(run_cli, tmp_path, codex_home, memory_keyring):
    path = write_cc_switch(
        tmp_path / "cc-switch.db",
        [
            codex_row("a", "Chat A", "https://a.test/v1", "sk-chat-a-0000000000", api_format="openai_chat"),
            codex_row("b", "Chat B", "https://b.test/v1", "sk-chat-b-0000000000", api_format="openai_chat"),
        ],
    )
    result = run_cli("import", "cc-switch", "--from", str(path), "--yes")
    assert result.exit_code == 0, result.stderr
    tables = config(codex_home)["model_providers"]
    assert tables["chat-a"]["base_url"] == tables["chat-b"]["base_url"]


def test_json_plan(run_cli, db, codex_home, memory_keyring):
    import json

    result = run_cli("import", "cc-switch", "--from", str(db), "--dry-run", "--json")
    assert result.exit_code == 0, result.stderr
    plan = json.loads(result.stdout)
    assert (plan["tool"], plan["source"], plan["dry_run"], plan["use"]) == ("cc-switch", str(db), True, None)
    assert [
        (e["source"], e["id"], e["status"], e["route"], e["key_source"], e["current"]) for e in plan["entries"]
    ] == [
        ("OpenAI Official", None, "skip", "-", "-", False),
        ("Kimi K2", "kimi-k2", "new", "bridge (custom_openai)", "keyring sk-…cdef", True),
        ("Relay Station", "relay-station", "new", "direct", "keyring sk-…3210", False),
        ("Bearer Relay", "bearer-relay", "new", "direct", "keyring sk-…8888", False),
    ]
    for secret in (KIMI_KEY, RELAY_KEY, BEARER_KEY):
        assert secret not in result.stdout + result.stderr


def test_a_row_changed_in_cc_switch_is_rewritten_only_with_replace(run_cli, tmp_path, codex_home, memory_keyring):
    path = tmp_path / "cc-switch.db"
    write_cc_switch(path, [codex_row("r", "Relay", "https://old.test/v1", RELAY_KEY)])
    assert run_cli("import", "cc-switch", "--from", str(path), "--yes").exit_code == 0
    # A field of the user's own, added by hand, is not a difference from the source.
    config_path = codex_home / "config.toml"
    text = config_path.read_text(encoding="utf-8").replace(
        'wire_api = "responses"\n', 'wire_api = "responses"\nrequest_max_retries = 7\n'
    )
    config_path.write_text(text, encoding="utf-8")
    same = run_cli("import", "cc-switch", "--from", str(path), "--yes")
    assert same.exit_code == 0 and "nothing to import" in same.stderr

    path.unlink()
    write_cc_switch(path, [codex_row("r", "Relay", "https://new.test/v1", RELAY_KEY)])
    without = run_cli("import", "cc-switch", "--from", str(path), "--yes")
    assert without.exit_code == 1
    assert (
        "skip: id `relay` is taken in config.toml by a different provider table; pass --replace to rewrite it from "
        "the source's `Relay`, or rename or remove that one (`codexprov remove relay`)"
    ) in without.stdout
    assert config_path.read_text(encoding="utf-8") == text

    replaced = run_cli("import", "cc-switch", "--from", str(path), "--yes", "--replace")
    assert replaced.exit_code == 0, replaced.stderr
    import re

    assert re.split(r"\s{2,}", replaced.stdout.splitlines()[1].strip()) == [
        "Relay",
        "relay",
        "direct",
        "keyring sk-…3210",
        "replace",
    ]
    table = config(codex_home)["model_providers"]["relay"]
    assert table["base_url"] == "https://new.test/v1"
    assert table["request_max_retries"] == 7
    assert table["auth"]["args"] == ["token", "relay"]
    assert "nothing to import" in run_cli("import", "cc-switch", "--from", str(path), "--yes", "--replace").stderr
    assert run_cli("undo").exit_code == 0
    assert config(codex_home)["model_providers"]["relay"]["base_url"] == "https://old.test/v1"
