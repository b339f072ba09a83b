"""Keys in a real Secret Service: gnome-keyring on the private D-Bus session that scripts/test.sh
starts (scripts/in-session.sh sets CODEXPROV_TEST_SECRET_SERVICE once python-keyring round-trips
through it). Everything runs through the installed `codexprov` executable, and `token` runs the
way Codex runs it: the command and args from config.toml, in a child process.

Under CI=true these tests fail instead of skipping when the Secret Service is missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
import uuid
from pathlib import Path

import pytest

from codexprov import credentials
from tests.codexrun import run_codex

pytestmark = pytest.mark.keyring

KEY = "sk-test-real-keyring-" + uuid.uuid4().hex


def write_provider(config_file: Path, pid: str, base_url: str = "http://127.0.0.1:9/v1") -> None:
    config_file.write_text(
        f'model = "fake-model"\nmodel_provider = "{pid}"\n\n[model_providers.{pid}]\n'
        f'name = "Real"\nbase_url = "{base_url}"\nwire_api = "responses"\n'
        "request_max_retries = 0\nstream_max_retries = 0\n",
        encoding="utf-8",
    )


def run_auth_command(config_file: Path, pid: str, dbus: str) -> subprocess.CompletedProcess[str]:
    """What Codex does: run [model_providers.ID.auth] command + args with its own environment."""
    auth = tomllib.loads(config_file.read_text(encoding="utf-8"))["model_providers"][pid]["auth"]
    assert Path(auth["command"]).is_absolute()
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ["HOME"], "DBUS_SESSION_BUS_ADDRESS": dbus}
    return subprocess.run(
        [auth["command"], *auth["args"]], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def files_containing(root: Path, secret: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


def test_keyring_picks_the_secret_service(secret_service):
    assert credentials.open_store().backend_name == "keyring.backends.SecretService.Keyring"


def test_round_trip_through_the_executable(run_exe, config_file, isolated_home, provider_id, secret_service):
    write_provider(config_file, provider_id)
    stored = run_exe("key", "set", provider_id, "--stdin", input=KEY + "\n")
    assert stored.exit_code == 0, stored.stderr
    assert KEY not in stored.stdout + stored.stderr
    assert f"stored the key for {provider_id} in the OS keyring (SecretService): sk-…" in stored.stderr
    assert credentials.open_store().get(provider_id) == KEY

    token = run_auth_command(config_file, provider_id, secret_service)
    assert (token.returncode, token.stdout, token.stderr) == (0, KEY + "\n", "")

    listed = run_exe("key", "list", "--json")
    assert listed.exit_code == 0
    entry = json.loads(listed.stdout)["providers"][0]
    assert entry["source"] == "keyring" and entry["keyring"] is True and entry["masked"] == "sk-…" + KEY[-4:]
    assert KEY not in listed.stdout

    removed = run_exe("key", "rm", provider_id)
    assert removed.exit_code == 0
    assert credentials.open_store().get(provider_id) is None
    missing = run_auth_command(config_file, provider_id, secret_service)
    assert (missing.returncode, missing.stdout) == (4, "")
    assert missing.stderr == (
        f"codexprov token: no key for provider '{provider_id}' in the keyring (SecretService); "
        f"store one with `codexprov key set {provider_id}`\n"
    )
    assert files_containing(isolated_home, KEY) == []


def test_token_without_a_session_bus_explains(run_exe, provider_id, secret_service):
    credentials.open_store().set(provider_id, KEY)
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ["HOME"]}
    proc = run_exe("token", provider_id, env=env)
    assert proc.exit_code == 6
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("codexprov token: no usable keyring: ")


def test_migrate_moves_a_plaintext_key_into_the_secret_service(
    run_exe, config_file, isolated_home, provider_id, secret_service
):
    write_provider(config_file, provider_id)
    with config_file.open("a", encoding="utf-8") as handle:
        handle.write(f'experimental_bearer_token = "{KEY}"\n')
    result = run_exe("key", "migrate", "--yes")
    assert result.exit_code == 0, result.stderr
    assert KEY not in result.stdout + result.stderr
    assert credentials.open_store().get(provider_id) == KEY
    assert run_auth_command(config_file, provider_id, secret_service).stdout == KEY + "\n"
    assert files_containing(isolated_home, KEY) == []


@pytest.mark.codex
def test_codex_gets_the_key_from_the_keyring_end_to_end(
    run_exe, codex_bin, codex_home, config_file, isolated_home, provider_id, secret_service, make_fake_server
):
    server = make_fake_server(expected_key=KEY)
    added = run_exe(
        "add",
        "custom",
        "--id",
        provider_id,
        "--base-url",
        server.base_url,
        "--model",
        "fake-model",
        "--key-mode",
        "keyring",
        "--use",
        "--yes",
        input="",
    )
    assert added.exit_code == 0, added.stderr
    stored = run_exe("key", "set", provider_id, "--stdin", input=KEY + "\n")
    assert stored.exit_code == 0, stored.stderr
    config = tomllib.loads(config_file.read_text(encoding="utf-8"))
    assert config["model_providers"][provider_id]["auth"]["args"] == ["token", provider_id]
    assert "env_key" not in config["model_providers"][provider_id]

    # Codex inherits the user's session, D-Bus included; nothing else tells it the key.
    proc = run_codex(codex_bin, codex_home, env_extra={"DBUS_SESSION_BUS_ADDRESS": secret_service}, timeout=90)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "pong" in proc.stdout
    turns = server.requests_to("/responses", "POST")
    assert turns, [(r.method, r.path) for r in server.requests]
    assert turns[-1].headers["authorization"] == f"Bearer {KEY}"

    # No file under HOME holds the key: not config.toml, backups, journal, nor Codex's own files.
    assert files_containing(isolated_home, KEY) == []


@pytest.mark.codex
def test_codex_shows_why_the_key_is_missing(
    codex_bin, codex_home, config_file, provider_id, secret_service, make_fake_server
):
    server = make_fake_server()
    write_provider(config_file, provider_id, server.base_url)
    auth = credentials.token_auth(provider_id).to_table()
    with config_file.open("a", encoding="utf-8") as handle:
        handle.write(
            f"\n[model_providers.{provider_id}.auth]\ncommand = {json.dumps(auth['command'])}\nargs = {json.dumps(auth['args'])}\n"
        )
    proc = run_codex(codex_bin, codex_home, env_extra={"DBUS_SESSION_BUS_ADDRESS": secret_service}, timeout=90)
    assert (
        f"codexprov token: no key for provider '{provider_id}' in the keyring (SecretService); "
        f"store one with `codexprov key set {provider_id}`"
    ) in proc.stderr
