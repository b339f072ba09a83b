"""`add` as a use case: the two issue-10 bugs (replace keeping the user's fields, --model without
--use) and the order of writes, with exact output and file bytes."""

from __future__ import annotations

from pathlib import Path

USER_TABLE = (
    "[model_providers.groq]\n"
    'name = "Groq"\n'
    'base_url = "https://old.example/v1"\n'
    "request_max_retries = 7  # mine\n"
    'env_key = "OLD_KEY"\n'
    "stream_idle_timeout_ms = 90000\n"
)


AFTER = (
    "[model_providers.groq]\n"
    'name = "Groq"\n'
    'base_url = "https://api.groq.com/openai/v1"\n'
    "request_max_retries = 7  # mine\n"
    'env_key = "GROQ_API_KEY"\n'
    "stream_idle_timeout_ms = 90000\n"
    'env_key_instructions = "Create a key at https://console.groq.com/keys."\n'
    'wire_api = "responses"\n'
)


def test_replace_keeps_fields_the_recipe_does_not_own(run_cli, config_file: Path) -> None:
    config_file.write_text(USER_TABLE)
    diff = [
        f"--- {config_file} (before)",
        f"+++ {config_file} (after)",
        "@@ -1,6 +1,8 @@",
        " [model_providers.groq]",
        ' name = "Groq"',
        '-base_url = "https://old.example/v1"',
        '+base_url = "https://api.groq.com/openai/v1"',
        " request_max_retries = 7  # mine",
        '-env_key = "OLD_KEY"',
        '+env_key = "GROQ_API_KEY"',
        " stream_idle_timeout_ms = 90000",
        '+env_key_instructions = "Create a key at https://console.groq.com/keys."',
        '+wire_api = "responses"',
    ]
    kept = "kept fields of yours the recipe does not set: request_max_retries, stream_idle_timeout_ms"
    dry = run_cli("add", "groq", "--key-mode", "env", "--replace", "--dry-run")
    assert (dry.exit_code, dry.stdout.splitlines()) == (0, diff)
    assert dry.stderr == f"dry run: nothing was written\n{kept}\n"
    assert config_file.read_text() == USER_TABLE

    done = run_cli("add", "groq", "--key-mode", "env", "--replace", "--yes")
    assert (done.exit_code, done.stdout.splitlines()) == (0, diff)
    assert config_file.read_text() == AFTER
    lines = done.stderr.splitlines()
    assert lines[0] == kept  # shown with the diff, before the question
    assert lines[1].startswith(f"replace provider groq: wrote {config_file} (backup: ")
    assert lines[2:] == [
        "Codex reads the key from $GROQ_API_KEY: set it in the environment Codex starts from (or use `codexprov run -- codex`)"
    ]


def test_model_without_use_is_refused(run_cli, config_file: Path) -> None:
    config_file.write_text(USER_TABLE)
    result = run_cli(
        "add", "custom", "--id", "acme", "--base-url", "http://127.0.0.1:9/v1", "--key-mode", "none", "--model", "m1"
    )
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "error: --model sets the model Codex uses, which `add` writes only together with --use\n"
        "hint: Pass --use to switch to this provider now, or later: `codexprov use acme --model m1`.\n"
    )
    assert config_file.read_text() == USER_TABLE
    with_use = run_cli(
        "add",
        "custom",
        "--id",
        "acme",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--key-mode",
        "none",
        "--model",
        "m1",
        "--use",
    )
    assert with_use.exit_code == 0, with_use.stderr
    assert config_file.read_text() == (
        'model_provider = "acme"\nmodel = "m1"\n\n'
        + USER_TABLE
        + '\n[model_providers.acme]\nname = "acme"\nbase_url = "http://127.0.0.1:9/v1"\nwire_api = "responses"\n'
    )
