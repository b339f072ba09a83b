"""The provider commands through the CLI: exact exit codes, output and file bytes; bad input loses nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ADD = [
    "add",
    "custom",
    "--id",
    "acme",
    "--base-url",
    "http://127.0.0.1:9/v1",
    "--name",
    "Acme",
    "--key-mode",
    "env",
    "--env-key",
    "ACME_API_KEY",
]

BASE = (
    '# my config\nmodel = "gpt-5"\n\n[model_providers.local]\nname = "Local"\nbase_url = "http://127.0.0.1:8080/v1"\n'
)


def test_list_empty_home_shows_builtins(run_cli) -> None:
    result = run_cli("list", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["active_provider"] == "openai"
    assert [p["id"] for p in data["providers"]] == ["openai", "ollama", "lmstudio", "amazon-bedrock", "gcp"]


def test_list_table(run_cli, config_file: Path) -> None:
    config_file.write_text(BASE + 'env_key = "LOCAL_KEY"\n')
    result = run_cli("list")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "NAME", "BASE", "URL", "KEY", "FROM"]
    assert lines[-1].split() == ["local", "Local", "http://127.0.0.1:8080/v1", "env", "$LOCAL_KEY", "config"]
    assert lines[1].startswith("*  openai")


def test_add_use_show_remove_undo_cycle(run_cli, config_file: Path) -> None:
    config_file.write_text(BASE)
    result = run_cli(
        *ADD, "--header", "X-Org=org-1", "--query", "api-version=2025-04-01-preview", "--use", "--model", "m1"
    )
    assert result.exit_code == 0, result.stderr
    text = config_file.read_text()
    assert text == (
        '# my config\nmodel = "m1"\nmodel_provider = "acme"\n\n[model_providers.local]\nname = "Local"\n'
        'base_url = "http://127.0.0.1:8080/v1"\n\n[model_providers.acme]\nname = "Acme"\n'
        'base_url = "http://127.0.0.1:9/v1"\nenv_key = "ACME_API_KEY"\n'
        + _instructions_line(text)
        + 'wire_api = "responses"\nquery_params = {api-version = "2025-04-01-preview"}\nhttp_headers = {X-Org = "org-1"}\n'
    )
    shown = run_cli("show", "acme", "--json")
    assert json.loads(shown.stdout)["table"]["query_params"] == {"api-version": "2025-04-01-preview"}
    assert json.loads(shown.stdout)["active"] is True

    refused = run_cli("remove", "acme")
    assert refused.exit_code == 5
    assert "error: `acme` is the active provider" in refused.stderr
    assert config_file.read_text() == text

    assert run_cli("use", "local").exit_code == 0
    assert run_cli("remove", "acme").exit_code == 0
    assert config_file.read_text() == BASE.replace('model = "gpt-5"\n', 'model = "m1"\nmodel_provider = "local"\n')
    undone = run_cli("undo")
    assert undone.exit_code == 0 and "undid `remove provider acme`" in undone.stderr
    assert config_file.read_text() == text.replace('model_provider = "acme"', 'model_provider = "local"')
    assert run_cli("undo").exit_code == 0
    assert run_cli("undo").exit_code == 0
    assert config_file.read_text() == BASE
    nothing = run_cli("undo")
    assert nothing.exit_code == 4 and "nothing to undo" in nothing.stderr


def _instructions_line(text: str) -> str:
    line = [row for row in text.splitlines() if row.startswith("env_key_instructions")]
    return line[0] + "\n" if line else ""


def test_dry_run_prints_diff_and_writes_nothing(run_cli, config_file: Path) -> None:
    config_file.write_text(BASE)
    result = run_cli("use", "local", "--model", "m2", "--dry-run")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"--- {config_file} (before)",
        f"+++ {config_file} (after)",
        "@@ -1,5 +1,6 @@",
        " # my config",
        '-model = "gpt-5"',
        '+model = "m2"',
        '+model_provider = "local"',
        " ",
        " [model_providers.local]",
        ' name = "Local"',
    ]
    assert config_file.read_text() == BASE
    assert run_cli("add", *ADD[1:], "--dry-run").exit_code == 0
    assert run_cli("remove", "local", "--dry-run").exit_code == 0
    assert config_file.read_text() == BASE
    assert run_cli("undo").exit_code == 4  # dry runs leave nothing to undo


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["use", "nope"], 4, "error: no provider `nope`"),
        (["use", "locl"], 4, "Did you mean: local?"),
        (["remove", "nope"], 4, "error: no provider `nope`"),
        (["remove", "ollama"], 4, "built into Codex"),
        (["show", "nope"], 4, "error: no provider `nope`"),
        (
            ["add", "custom", "--id", "ollama", "--base-url", "http://x/v1", "--key-mode", "none"],
            5,
            "is a Codex built-in provider id",
        ),
        (
            ["add", "custom", "--id", "openai", "--base-url", "http://x/v1", "--key-mode", "none"],
            5,
            "is a Codex built-in provider id",
        ),
        (
            ["add", "custom", "--id", "has space", "--base-url", "http://x/v1", "--key-mode", "none"],
            2,
            "is not a valid provider id",
        ),
        (
            ["add", "custom", "--id", "a.b", "--base-url", "http://x/v1", "--key-mode", "none"],
            2,
            "is not a valid provider id",
        ),
        (["add", "custom", "--id", "local", "--base-url", "http://x/v1", "--key-mode", "none"], 5, "already exists"),
        (
            ["add", "custom", "--id", "x", "--base-url", "http://x/v1", "--key-mode", "none", "--header", "novalue"],
            2,
            "--header expects KEY=VALUE",
        ),
        (["add", "custom", "--id", "x", "--base-url", "http://x/v1", "--key-mode", "bogus"], 2, "unknown key mode"),
        (["use"], 2, "missing provider ID"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(run_cli, config_file: Path, args, code, message) -> None:
    config_file.write_text(BASE)
    result = run_cli(*args)
    assert result.exit_code == code, result.stderr
    assert message in result.stderr
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr
    assert config_file.read_text() == BASE


@pytest.mark.parametrize(
    ("content", "where", "reason"),
    [
        ('model = "a"\nmodel = "b"\n', ":2:1: duplicate key", '    2 | model = "b"'),
        (
            '[model_providers.a]\nname = "A"\n\n[model_providers.a]\nname = "B"\n',
            ":4:1: table [model_providers.a] is declared twice",
            "    4 | [model_providers.a]",
        ),
        ('[model_providers.a]\nname = "A"\n  name = "B"\n', ":3:3: duplicate key", '    3 |   name = "B"'),
        ("model = \n", ":1:9: invalid TOML", "    1 | model = "),
        ("model_providers = 3\n", ":1: `model_providers` must be a table", None),
        ('model_providers = { a = "x" }\n', ":1: `model_providers.a` must be a table", None),
    ],
)
@pytest.mark.parametrize("command", [["list"], ["use", "ollama"], ["add", *ADD[1:]], ["remove", "a", "--force"]])
def test_invalid_config_refused_with_line(run_cli, config_file: Path, content, where, reason, command) -> None:
    config_file.write_text(content)
    result = run_cli(*command)
    assert result.exit_code == 3, result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"error: {config_file}{where}")
    if reason:
        assert reason in result.stderr
    assert "hint:" in result.stderr
    assert config_file.read_text() == content


def test_config_that_is_a_directory(run_cli, config_file: Path) -> None:
    config_file.mkdir()
    result = run_cli("list")
    assert (result.exit_code, result.stdout, result.stderr) == (
        8,
        "",
        f"error: {config_file} is a directory, not a config file\n",
    )


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root (and Windows) read a mode-0 file anyway")
def test_unreadable_config(run_cli, config_file: Path) -> None:
    config_file.write_text(BASE)
    config_file.chmod(0)
    result = run_cli("list")
    assert result.exit_code == 8 and "cannot read" in result.stderr


def test_invalid_utf8(run_cli, config_file: Path) -> None:
    config_file.write_bytes(b'model = "a"\nname = "\xff"\n')
    result = run_cli("use", "ollama")
    assert result.exit_code == 3
    assert f"error: {config_file}:2: not valid UTF-8" in result.stderr
    assert config_file.read_bytes() == b'model = "a"\nname = "\xff"\n'


def test_codex_home_option(run_cli, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    result = run_cli("--codex-home", str(other), "use", "ollama")
    assert result.exit_code == 0
    assert (other / "config.toml").read_text() == 'model_provider = "ollama"\n'
    assert oct(other.stat().st_mode & 0o777) == "0o700"
    assert oct((other / "config.toml").stat().st_mode & 0o777) == "0o600"


def test_remove_force_active(run_cli, config_file: Path) -> None:
    config_file.write_text('model_provider = "local"\n' + BASE)
    result = run_cli("remove", "local", "--force")
    assert result.exit_code == 0
    assert config_file.read_text() == '# my config\nmodel = "gpt-5"\n'
    assert "Codex now uses openai" in result.stderr


def test_list_shows_the_active_profile(run_cli, config_file: Path, tmp_path: Path) -> None:
    fake = tmp_path / "codex"
    fake.write_text("#!/bin/sh\necho 'codex-cli 0.169.0'\n")
    fake.chmod(0o755)
    config_file.write_text(BASE)
    assert (
        run_cli("--codex", str(fake), "profile", "add", "work", "--provider", "local", "--model", "m-work").exit_code
        == 0
    )
    assert json.loads(run_cli("list", "--json").stdout)["active_profile"] is None
    assert run_cli("--codex", str(fake), "use", "--profile", "work").exit_code == 0
    listed = run_cli("list", "--json")
    assert json.loads(listed.stdout)["active_profile"] == "work"
    assert "profile work" in run_cli("list").stderr
    assert run_cli("use", "ollama").exit_code == 0  # another selection: the profile is no longer what codex uses
    assert json.loads(run_cli("list", "--json").stdout)["active_profile"] is None


def test_list_fast_path_matches_typer_path(run_cli, config_file: Path, tmp_path: Path) -> None:
    """`list` is served without Typer; the same command spelled with --help goes through Typer."""
    config_file.write_text(BASE)
    other = tmp_path / "other"
    (other).mkdir()
    (other / "config.toml").write_text('model_provider = "ollama"\n')
    fast = run_cli("--codex-home", str(other), "list", "--json")
    assert json.loads(fast.stdout)["active_provider"] == "ollama"
    assert json.loads(run_cli(f"--codex-home={other}", "list", "--json").stdout)["active_provider"] == "ollama"
    from codexprov.cli import run

    typer_path = run(["--codex-home", str(other), "list", "--json"])
    assert typer_path == 0
    config_file.write_text("model = \n")
    broken = run_cli("list")
    assert broken.exit_code == 3 and broken.stderr.startswith(f"error: {config_file}:1:9: invalid TOML")


def test_replace_shows_the_diff_keeps_comments_and_asks(run_cli, config_file: Path) -> None:
    config_file.write_text('[model_providers.groq]\nname = "Groq"  # keep me\nbase_url = "https://old.example/v1"\n')
    refused = run_cli("add", "groq", "--key-mode", "env", "--replace")  # no TTY, no --yes
    assert refused.exit_code == 9
    assert '+base_url = "https://api.groq.com/openai/v1"' in refused.stdout
    assert config_file.read_text().endswith('base_url = "https://old.example/v1"\n')
    done = run_cli("add", "groq", "--key-mode", "env", "--replace", "--yes")
    assert done.exit_code == 0
    assert '-base_url = "https://old.example/v1"' in done.stdout
    text = config_file.read_text()
    assert text.startswith(
        '[model_providers.groq]\nname = "Groq"  # keep me\nbase_url = "https://api.groq.com/openai/v1"\n'
    )
    again = run_cli("add", "groq", "--key-mode", "env", "--replace")
    assert again.exit_code == 0 and "nothing changed" in again.stderr
    assert config_file.read_text() == text
