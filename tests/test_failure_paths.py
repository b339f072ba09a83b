"""Every failure path has its documented exit code, one `error:` line and no traceback, and says
what was and was not changed (issue 9)."""

from __future__ import annotations

import io
import sys

import keyring.errors

ADD = ["add", "custom", "--id", "a", "--base-url", "http://127.0.0.1:9/v1", "--key-mode", "none"]
CONFIG = '[model_providers.a]\nname = "a"\nbase_url = "http://127.0.0.1:9/v1"\nwire_api = "responses"\n'


def state_dir(home):
    return home / ".local" / "state" / "codexprov"


def test_symlink_loop(run_cli, codex_home, config_file):
    (codex_home / "loop.toml").symlink_to(config_file)
    config_file.symlink_to(codex_home / "loop.toml")
    for argv in (["list"], ADD):
        result = run_cli(*argv)
        assert (result.exit_code, result.stdout) == (8, ""), argv
        assert result.stderr == (
            f"error: cannot read {config_file}: it is a symbolic link that loops (it leads back to itself)\n"
            f"hint: Point {config_file} at a real file (`ls -l {config_file}` shows where it leads).\n"
        )


def test_state_dir_that_cannot_be_created(run_cli, config_file, isolated_home, monkeypatch):
    blocker = isolated_home / "file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("CODEXPROV_STATE_DIR", str(blocker / "state"))
    result = run_cli(*ADD)
    assert result.exit_code == 8
    assert result.stderr.startswith(f"error: cannot create the lock file {blocker}/state/locks/")
    assert result.stderr.splitlines()[0].endswith(": Not a directory; nothing was changed")
    assert not config_file.exists()


def test_damaged_journal_stops_the_edit_before_the_file_changes(run_cli, config_file, isolated_home):
    journal = state_dir(isolated_home) / "journal.json"
    journal.parent.mkdir(parents=True)
    journal.write_text("{not json", encoding="utf-8")
    result = run_cli(*ADD)
    assert result.exit_code == 8
    assert result.stderr.splitlines()[0] == (
        f"error: codexprov's undo journal {journal} is damaged (not the list of edits codexprov writes); "
        f"{config_file} was not changed (codexprov writes the undo journal first)"
    )
    assert not config_file.exists()
    assert not (state_dir(isolated_home) / "backups").exists() or not any(
        (state_dir(isolated_home) / "backups").rglob("*.toml")
    )
    undo = run_cli("undo")
    assert undo.exit_code == 8
    assert (
        undo.stderr.splitlines()[0]
        == f"error: codexprov's undo journal {journal} is damaged (not the list of edits codexprov writes)"
    )


def test_journal_that_cannot_be_written(run_cli, config_file, isolated_home):
    config_file.write_text(CONFIG, encoding="utf-8")
    journal = state_dir(isolated_home) / "journal.json"
    journal.mkdir(parents=True)  # a folder where the journal file should be
    result = run_cli("use", "a")
    assert result.exit_code == 8
    assert result.stderr.splitlines()[0] == (
        f"error: cannot read codexprov's undo journal {journal}: Is a directory; {config_file} was not changed "
        "(codexprov writes the undo journal first)"
    )
    assert config_file.read_text(encoding="utf-8") == CONFIG
    assert list((state_dir(isolated_home) / "backups").rglob("*-config.toml")) == []


def test_missing_backup(run_cli, config_file, isolated_home):
    config_file.write_text(CONFIG, encoding="utf-8")
    assert run_cli("use", "a").exit_code == 0
    after = config_file.read_text(encoding="utf-8")
    (backup,) = (state_dir(isolated_home) / "backups").rglob("*-config.toml")
    backup.unlink()
    result = run_cli("undo")
    assert result.exit_code == 4
    assert (
        result.stderr.splitlines()[0]
        == f"error: cannot undo `use a`: its backup {backup} is missing; nothing was changed"
    )
    assert config_file.read_text(encoding="utf-8") == after


def _bytes_stdin(monkeypatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def test_non_utf8_key_on_stdin(run_cli, config_file, memory_keyring, monkeypatch):
    config_file.write_text(CONFIG, encoding="utf-8")
    for argv in (
        ["key", "set", "a", "--stdin"],
        ["add", "custom", "--id", "b", "--base-url", "http://127.0.0.1:9/v1", "--key-stdin"],
    ):
        _bytes_stdin(monkeypatch, b"\xff\xfesk-\x80\n")
        result = run_cli(*argv)
        assert result.exit_code == 2, argv
        assert (
            result.stderr.splitlines()[0]
            == "error: the key on standard input is not valid UTF-8 text; nothing was stored or written"
        )
        assert "Traceback" not in result.stderr
    assert memory_keyring.entries == {}
    assert config_file.read_text(encoding="utf-8") == CONFIG


def test_add_key_stdin_stores_the_key_before_writing_the_config(run_cli, config_file, memory_keyring):
    memory_keyring.fail_with = keyring.errors.KeyringError("the collection is gone")
    result = run_cli(
        "add",
        "custom",
        "--id",
        "b",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--key-stdin",
        input="sk-0123456789abcdef\n",
    )
    assert result.exit_code == 6
    assert not config_file.exists()
    assert "sk-0123456789abcdef" not in result.stderr
