"""--dry-run on every command that writes: the diff on stdout, `dry run: …` on stderr, nothing
written (file bytes, keyring and undo journal unchanged)."""

from __future__ import annotations

from pathlib import Path

import pytest

CHAT = (
    '# providers\nmodel = "m"\nmodel_provider = "acme"\n\n'
    '[model_providers.acme]  # mine\nname = "Acme"\nbase_url = "http://127.0.0.1:9/v1"\nwire_api = "chat"\n'
)


@pytest.fixture
def sealed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEXPROV_SYSTEM_CONFIG", str(tmp_path / "no-etc" / "config.toml"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)


def test_doctor_fix_dry_run_shows_the_fix_and_writes_nothing(run_cli, config_file: Path, sealed) -> None:
    config_file.write_text(CHAT)
    result = run_cli("doctor", "--offline", "--fix", "--dry-run")
    assert result.exit_code == 1  # the finding is still there: nothing was fixed
    assert result.stdout.splitlines()[:9] == [
        f"--- {config_file} (before)",
        f"+++ {config_file} (after)",
        "@@ -5,4 +5,4 @@",
        " [model_providers.acme]  # mine",
        ' name = "Acme"',
        ' base_url = "http://127.0.0.1:9/v1"',
        '-wire_api = "chat"',
        '+wire_api = "responses"',
        "setup",
    ]
    assert result.stderr == "dry run: nothing was written\n"
    assert config_file.read_text() == CHAT
    assert run_cli("undo").exit_code == 4  # nothing in the journal


def test_doctor_dry_run_without_fix_is_a_usage_error(run_cli, config_file: Path, sealed) -> None:
    result = run_cli("doctor", "--dry-run")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "error: --dry-run shows what --fix would write; doctor alone writes nothing\nhint: Pass --fix --dry-run.\n"
    )


def test_key_rm_dry_run_deletes_nothing(run_cli, memory_keyring) -> None:
    memory_keyring.entries[("codexprov", "acme")] = "sk-dry-run-key-0123456789"
    result = run_cli("key", "rm", "acme", "--dry-run")
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == "dry run: would delete the key for acme from the OS keyring (keyrings MemoryKeyring)\n"
    assert memory_keyring.entries == {("codexprov", "acme"): "sk-dry-run-key-0123456789"}
    none = run_cli("key", "rm", "other", "--dry-run")
    assert none.exit_code == 4
    assert none.stderr == "error: no key for `other` in the OS keyring (keyrings MemoryKeyring); nothing to delete\n"
