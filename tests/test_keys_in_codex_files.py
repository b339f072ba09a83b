"""Keys already in Codex's own files: the cc-switch way (`[model_providers.custom]
requires_openai_auth = true`, the key in auth.json's OPENAI_API_KEY) is a plain-text key that `list`,
`key list`, `doctor` and `key migrate` see; migrate moves it into the keyring and rewires the
provider, leaving auth.json (Codex's login file) as it is unless asked. The end-to-end test runs the
real Codex before and after, with the real Secret Service."""

from __future__ import annotations

import json
import tomllib
import uuid
from pathlib import Path

import pytest

from tests.codexrun import run_codex

KEY = "sk-third-party-in-auth-json-0123456789"
CONFIG = (
    'model_provider = "{pid}"\nmodel = "fake-model"\n\n[model_providers.{pid}]\nname = "{pid}"\n'
    'base_url = "{url}"\nwire_api = "responses"\nrequires_openai_auth = true\n'
)
LOGIN = {
    "OPENAI_API_KEY": KEY,
    "tokens": {"id_token": "eyJ.chatgpt.login", "account_id": "acct-1"},
    "last_refresh": "x",
}


def setup(codex_home: Path, url: str = "https://relay.test/v1", auth: dict | None = None, pid: str = "custom") -> Path:
    (codex_home / "config.toml").write_text(CONFIG.format(url=url, pid=pid), encoding="utf-8")
    path = codex_home / "auth.json"
    path.write_text(json.dumps(LOGIN if auth is None else auth, indent=2), encoding="utf-8")
    path.chmod(0o600)
    return path


def test_list_and_key_list_say_plain_text_not_codex_login(run_cli, codex_home, memory_keyring):
    setup(codex_home)
    listed = run_cli("list", "--json")
    assert listed.exit_code == 0, listed.stderr
    sources = {p["id"]: p["key_source"] for p in json.loads(listed.stdout)["providers"]}
    assert sources["custom"] == {"kind": "plaintext", "detail": "auth.json OPENAI_API_KEY"}
    assert sources["openai"]["kind"] == "codex-login"  # the built-in login is still the login
    text = run_cli("list")
    custom = next(
        line for line in text.stdout.splitlines() if line.split()[:2] == ["*", "custom"] or line.split()[0] == "custom"
    )
    assert "PLAIN TEXT in auth.json OPENAI_API_KEY" in custom
    assert "codex login" not in custom
    keys = run_cli("key", "list", "--json")
    entry = next(p for p in json.loads(keys.stdout)["providers"] if p["id"] == "custom")
    assert (entry["source"], entry["detail"], entry["masked"]) == ("plaintext", "auth.json OPENAI_API_KEY", "sk-…6789")
    assert KEY not in listed.stdout + text.stdout + keys.stdout


def test_doctor_flags_it(run_cli, codex_home, memory_keyring, no_outside_configs):
    setup(codex_home)
    result = run_cli("doctor", "--offline", "--json")
    findings = [f for f in json.loads(result.stdout)["findings"] if f["check"] == "key.plaintext"]
    assert [(f["provider"], f["status"], f["message"], f["fix"]) for f in findings] == [
        (
            "custom",
            "warn",
            "the key Codex sends is in plain text in auth.json OPENAI_API_KEY (sk-…6789): requires_openai_auth "
            "sends Codex's login key to this provider",
            "codexprov key migrate custom",
        )
    ]
    assert KEY not in result.stdout + result.stderr


def test_migrate_moves_it_and_leaves_auth_json_alone(run_cli, codex_home, memory_keyring):
    auth = setup(codex_home)
    before = auth.read_bytes()
    preview = run_cli("key", "migrate", "--dry-run")
    assert preview.exit_code == 0, preview.stderr
    assert (
        "custom: auth.json OPENAI_API_KEY = sk-…6789 (Codex sends the key of its login file to this provider "
        "(requires_openai_auth))"
    ) in preview.stderr
    assert "-requires_openai_auth = true" in preview.stdout
    assert "+[model_providers.custom.auth]" in preview.stdout
    assert "still holds the key: it is Codex's own login file" in preview.stderr
    assert memory_keyring.get_password("codexprov", "custom") is None

    moved = run_cli("key", "migrate", "--yes")
    assert moved.exit_code == 0, moved.stderr
    assert memory_keyring.get_password("codexprov", "custom") == KEY
    table = tomllib.loads((codex_home / "config.toml").read_text(encoding="utf-8"))["model_providers"]["custom"]
    assert "requires_openai_auth" not in table
    assert table["auth"]["args"] == ["token", "custom"]
    assert auth.read_bytes() == before
    assert (
        f"{codex_home / 'auth.json'} still holds the key: it is Codex's own login file (the built-in `openai` provider "
        "reads it too), so it was left as it is; `codexprov key migrate --clear-auth-json` empties its OPENAI_API_KEY"
    ) in moved.stderr
    assert KEY not in preview.stdout + preview.stderr + moved.stdout + moved.stderr
    listed = json.loads(run_cli("list", "--json").stdout)
    assert next(p for p in listed["providers"] if p["id"] == "custom")["key_source"]["kind"] == "keyring"
    again = run_cli("key", "migrate", "--yes")
    assert again.exit_code == 0 and "no plain-text key to move" in again.stderr


def test_clear_auth_json_empties_only_the_api_key(run_cli, codex_home, memory_keyring):
    auth = setup(codex_home)
    result = run_cli("key", "migrate", "--yes", "--clear-auth-json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(auth.read_text()) == {**LOGIN, "OPENAI_API_KEY": None}
    assert auth.stat().st_mode & 0o777 == 0o600
    assert (
        f"emptied OPENAI_API_KEY in {auth} (its other fields, a ChatGPT login included, are kept; `undo` does not put "
        "the key back there)"
    ) in result.stderr


def test_the_built_in_login_alone_is_never_touched(run_cli, codex_home, memory_keyring):
    (codex_home / "config.toml").write_text('model = "gpt-5.6-sol"\n', encoding="utf-8")
    auth = codex_home / "auth.json"
    auth.write_text(json.dumps({"OPENAI_API_KEY": KEY}), encoding="utf-8")
    before = auth.read_bytes()
    result = run_cli("key", "migrate", "--yes", "--clear-auth-json")
    assert result.exit_code == 0, result.stderr
    assert "no plain-text key to move" in result.stderr
    assert auth.read_bytes() == before
    assert memory_keyring.entries == {}


@pytest.mark.codex
@pytest.mark.keyring
def test_codex_works_from_the_keyring_after_the_key_leaves_auth_json(
    run_exe, codex_bin, codex_home, isolated_home, secret_service, make_fake_server
):
    from codexprov import credentials

    key = "sk-auth-json-e2e-" + uuid.uuid4().hex
    pid = "cc" + uuid.uuid4().hex[:8]
    server = make_fake_server(expected_key=key)
    auth = setup(codex_home, server.base_url, {"OPENAI_API_KEY": key}, pid)
    env = {"DBUS_SESSION_BUS_ADDRESS": secret_service}
    try:
        before = run_codex(codex_bin, codex_home, env_extra=env, timeout=90)
        assert before.returncode == 0, before.stderr[-2000:]
        assert server.requests_to("/responses", "POST")[-1].headers["authorization"] == f"Bearer {key}"

        moved = run_exe("key", "migrate", pid, "--yes", "--clear-auth-json")
        assert moved.exit_code == 0, moved.stderr
        assert json.loads(auth.read_text())["OPENAI_API_KEY"] is None
        assert credentials.open_store().get(pid) == key
        count = len(server.requests_to("/responses", "POST"))

        after = run_codex(codex_bin, codex_home, env_extra=env, timeout=90)
        assert after.returncode == 0, after.stderr[-2000:]
        assert "pong" in after.stdout
        turns = server.requests_to("/responses", "POST")
        assert len(turns) > count and turns[-1].headers["authorization"] == f"Bearer {key}"
        # The key is in the keyring only: not in auth.json, config.toml, backups or the journal.
        assert [p for p in isolated_home.rglob("*") if p.is_file() and key.encode() in p.read_bytes()] == []
    finally:
        credentials.open_store().delete(pid)


def test_doctor_fix_moves_it_too(run_cli, codex_home, memory_keyring, no_outside_configs):
    auth = setup(codex_home)
    before = auth.read_bytes()
    result = run_cli("doctor", "--offline", "--fix", "--yes")
    assert "fixed: move plain-text keys into the keyring (custom; auth.json left as it is): wrote" in result.stderr
    assert memory_keyring.get_password("codexprov", "custom") == KEY
    table = tomllib.loads((codex_home / "config.toml").read_text(encoding="utf-8"))["model_providers"]["custom"]
    assert "requires_openai_auth" not in table and table["auth"]["args"] == ["token", "custom"]
    assert auth.read_bytes() == before
    assert KEY not in result.stdout + result.stderr
