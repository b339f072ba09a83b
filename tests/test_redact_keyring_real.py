"""Issue 9 against the real parts: gnome-keyring's Secret Service (started by scripts/test.sh) for
key migrate, undo and remove round trips, and the real Codex 0.169.0 completing a turn after
`key migrate` and after `undo`. Everything runs through the installed `codexprov` executable."""

from __future__ import annotations

import pytest

from codexprov import credentials
from tests.codexrun import run_codex
from tests.test_keyring_real import KEY, files_containing, write_provider

pytestmark = pytest.mark.keyring


def _plaintext_config(config_file, pid: str, base_url: str) -> str:
    write_provider(config_file, pid, base_url)
    with config_file.open("a", encoding="utf-8") as handle:
        handle.write(f'experimental_bearer_token = "{KEY}"\n')
    return config_file.read_text(encoding="utf-8")


def _turn(codex_bin, codex_home, dbus: str, server) -> None:
    before = len(server.requests_to("/responses", "POST"))
    proc = run_codex(codex_bin, codex_home, env_extra={"DBUS_SESSION_BUS_ADDRESS": dbus}, timeout=90)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "pong" in proc.stdout
    turns = server.requests_to("/responses", "POST")
    assert len(turns) > before
    assert turns[-1].headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.codex
def test_migrate_then_undo_with_the_real_keyring_and_codex(
    run_exe, codex_bin, codex_home, config_file, isolated_home, provider_id, secret_service, make_fake_server
):
    server = make_fake_server(expected_key=KEY)
    original = _plaintext_config(config_file, provider_id, server.base_url)
    # An earlier edit leaves a backup that holds the plain-text key.
    assert run_exe("use", provider_id, "--model", "fake-model-2").exit_code == 0
    with_model = config_file.read_text(encoding="utf-8")
    # config.toml and its backup; the parse cache keeps no plain-text key (issue 24, item 10).
    held = files_containing(isolated_home, KEY)
    assert len(held) == 2 and config_file in held and any("backups" in p.parts for p in held), held

    migrated = run_exe("key", "migrate", "--yes")
    assert migrated.exit_code == 0, migrated.stderr
    assert KEY not in migrated.stdout + migrated.stderr
    assert "taken out of 1 earlier backup too" in migrated.stderr
    assert credentials.open_store().get(provider_id) == KEY
    assert files_containing(isolated_home, KEY) == []  # no config, backup, journal or cache holds it
    _turn(codex_bin, codex_home, secret_service, server)

    undone = run_exe("undo")
    assert undone.exit_code == 0, undone.stderr
    assert KEY not in undone.stdout + undone.stderr
    assert config_file.read_text(encoding="utf-8") == with_model  # the key back, never a placeholder
    assert f"({provider_id}) are in plain text in {config_file} again" in undone.stderr
    _turn(codex_bin, codex_home, secret_service, server)  # Codex sends experimental_bearer_token again

    again = run_exe("undo")  # the scrubbed earlier backup gets its key back too
    assert again.exit_code == 0, again.stderr
    assert config_file.read_text(encoding="utf-8") == original


def test_remove_then_undo_says_the_key_is_gone(run_exe, config_file, isolated_home, provider_id, secret_service):
    _plaintext_config(config_file, provider_id, "http://127.0.0.1:9/v1")
    assert run_exe("key", "migrate", "--yes").exit_code == 0
    removed = run_exe("remove", provider_id, "--force")
    assert removed.exit_code == 0, removed.stderr
    assert credentials.open_store().get(provider_id) is None
    undone = run_exe("undo")
    assert undone.exit_code == 0
    assert undone.stderr.splitlines()[-1] == (
        f"warning: {provider_id} reads its key from the keyring, which has none for it (`remove` deleted it); "
        f"store it again with `codexprov key set {provider_id}`"
    )
    stored = run_exe("key", "set", provider_id, "--stdin", input=KEY + "\n")
    assert stored.exit_code == 0, stored.stderr
    assert files_containing(isolated_home, KEY) == []


def test_undo_across_migrate_refuses_when_the_keyring_lost_the_key(run_exe, config_file, provider_id, secret_service):
    _plaintext_config(config_file, provider_id, "http://127.0.0.1:9/v1")
    assert run_exe("key", "migrate", "--yes").exit_code == 0
    migrated = config_file.read_text(encoding="utf-8")
    assert run_exe("key", "rm", provider_id).exit_code == 0
    undone = run_exe("undo")
    assert undone.exit_code == 4
    assert "the keyring has no key for it now; nothing was changed" in undone.stderr
    assert config_file.read_text(encoding="utf-8") == migrated
