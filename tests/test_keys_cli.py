"""`codexprov key set/list/rm/migrate`, `env` and `run`, in-process on the in-memory keyring.

Every test checks the exact file text and that no key appears in any output.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from codexprov import credentials, keys
from codexprov.errors import UsageError

KEY = "sk-test-keys-0123456789abcdef"
OTHER = "gsk_test0123456789OTHERKEY"

BASE = """\
# my providers
model = "m"

[model_providers.plain]
name = "Plain"
base_url = "http://127.0.0.1:9/v1"
"""


def write(config_file: Path, text: str) -> None:
    config_file.write_text(text, encoding="utf-8")


def auth_lines(provider_id: str) -> str:
    command, *prefix = credentials.codexprov_executable()
    args = json.dumps([*prefix, "token", provider_id]).replace('","', '", "')
    return f"[model_providers.{provider_id}.auth]\ncommand = {json.dumps(command)}\nargs = {args}\n"


def assert_no_key(result, *keys: str) -> None:
    for key in keys or (KEY,):
        assert key not in result.stdout
        assert key not in result.stderr


def files_containing(root: Path, secret: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


# ------------------------------------------------------------------------------ key set


def test_key_set_stores_and_wires_an_unwired_provider(run_cli, config_file, isolated_home, memory_keyring):
    write(config_file, BASE)
    result = run_cli("key", "set", "plain", input=KEY + "\n")
    assert result.exit_code == 0, result.stderr
    assert memory_keyring.entries == {("codexprov", "plain"): KEY}
    assert config_file.read_text(encoding="utf-8") == BASE + "\n" + auth_lines("plain")
    assert result.stdout.startswith("--- ")
    assert "+[model_providers.plain.auth]\n" in result.stdout
    assert (
        result.stderr.splitlines()[0] == "stored the key for plain in the OS keyring (keyrings MemoryKeyring): sk-…cdef"
    )
    assert result.stderr.splitlines()[-1] == "plain: Codex will run `codexprov token` for the key"
    assert_no_key(result)
    assert files_containing(isolated_home, KEY) == []

    again = run_cli("key", "set", "plain", input=OTHER + "\n")
    assert again.exit_code == 0
    assert again.stdout == ""
    assert again.stderr.splitlines()[-1] == "plain: already reads its key from the keyring"
    assert memory_keyring.entries == {("codexprov", "plain"): OTHER}


def test_key_set_keeps_env_mode_unless_wire(run_cli, config_file, memory_keyring):
    text = BASE + 'env_key = "PLAIN_API_KEY"\n'
    write(config_file, text)
    result = run_cli("key", "set", "plain", "--stdin", input=KEY + "\n")
    assert result.exit_code == 0
    assert config_file.read_text(encoding="utf-8") == text
    assert result.stderr.splitlines()[-1] == (
        "plain: it reads $PLAIN_API_KEY (key mode env): the key is kept for `codexprov env` / `codexprov run`; "
        "pass --wire to make Codex read the keyring instead"
    )
    wired = run_cli("key", "set", "plain", "--wire", input=KEY + "\n")
    assert wired.exit_code == 0
    assert config_file.read_text(encoding="utf-8") == BASE + "\n" + auth_lines("plain")


def test_key_set_replaces_a_plaintext_key_and_the_backup_keeps_it_masked(
    run_cli, config_file, isolated_home, memory_keyring
):
    write(config_file, BASE + f'experimental_bearer_token = "{OTHER}"\n')
    result = run_cli("key", "set", "plain", input=KEY + "\n")
    assert result.exit_code == 0
    assert config_file.read_text(encoding="utf-8") == BASE + "\n" + auth_lines("plain")
    assert_no_key(result, KEY, OTHER)
    assert files_containing(isolated_home, OTHER) == []
    assert files_containing(isolated_home, KEY) == []


def test_key_set_dry_run_stores_and_writes_nothing(run_cli, config_file, memory_keyring):
    write(config_file, BASE)
    result = run_cli("key", "set", "plain", "--dry-run")
    assert result.exit_code == 0
    assert "+[model_providers.plain.auth]\n" in result.stdout
    assert result.stderr.splitlines()[-1] == "dry run: nothing was stored or written"
    assert config_file.read_text(encoding="utf-8") == BASE
    assert memory_keyring.entries == {}


@pytest.mark.parametrize(
    ("args", "stdin", "code", "message"),
    [
        (("key", "set", "nope"), KEY + "\n", 4, "error: no provider `nope` in the config"),
        (("key", "set", "plain"), "\n", 2, "error: no key on standard input; nothing was stored"),
    ],
)
def test_key_set_errors(run_cli, config_file, memory_keyring, args, stdin, code, message):
    write(config_file, BASE)
    result = run_cli(*args, input=stdin)
    assert result.exit_code == code
    assert result.stderr.splitlines()[0] == message
    assert memory_keyring.entries == {}
    assert config_file.read_text(encoding="utf-8") == BASE


# ------------------------------------------------------------------------------ key list / rm


def test_key_list_json(run_cli, config_file, memory_keyring, monkeypatch):
    monkeypatch.setenv("ENVY_API_KEY", OTHER)
    write(
        config_file,
        BASE
        + "\n"
        + auth_lines("plain")
        + '\n[model_providers.envy]\nname = "Envy"\nenv_key = "ENVY_API_KEY"\n'
        + f'\n[model_providers.leak]\nname = "Leak"\nexperimental_bearer_token = "{KEY}"\n'
        + '\n[model_providers.cmd]\nname = "Cmd"\n\n[model_providers.cmd.auth]\ncommand = "/usr/bin/pass"\nargs = ["show", "x"]\n'
        + '\n[model_providers.bare]\nname = "Bare"\n',
    )
    memory_keyring.entries[("codexprov", "plain")] = KEY
    result = run_cli("key", "list", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "keyring_backend": "tests.keyrings.MemoryKeyring",
        "keyring_problem": None,
        "providers": [
            {
                "id": "plain",
                "source": "keyring",
                "detail": "codexprov token plain",
                "keyring": True,
                "masked": "sk-…cdef",
                "env_set": None,
                "plaintext_fields": [],
            },
            {
                "id": "envy",
                "source": "env",
                "detail": "ENVY_API_KEY",
                "keyring": False,
                "masked": "gsk_…RKEY",
                "env_set": True,
                "plaintext_fields": [],
            },
            {
                "id": "leak",
                "source": "plaintext",
                "detail": "experimental_bearer_token",
                "keyring": False,
                "masked": "sk-…cdef",
                "env_set": None,
                "plaintext_fields": ["experimental_bearer_token"],
            },
            {
                "id": "cmd",
                "source": "command",
                "detail": "/usr/bin/pass show x",
                "keyring": False,
                "masked": None,
                "env_set": None,
                "plaintext_fields": [],
            },
            {
                "id": "bare",
                "source": "none",
                "detail": "",
                "keyring": False,
                "masked": None,
                "env_set": None,
                "plaintext_fields": [],
            },
        ],
    }
    assert_no_key(result, KEY, OTHER)

    table = run_cli("key", "list")
    assert table.exit_code == 0
    assert table.stdout.splitlines()[0].split() == ["ID", "KEY", "FROM", "DETAIL", "KEY"]
    assert "plain-text keys found: move them into the keyring with `codexprov key migrate`" in table.stderr
    assert_no_key(table, KEY, OTHER)


def test_key_list_without_a_keyring_still_lists(run_cli, config_file, memory_keyring):
    import keyring
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())
    write(config_file, BASE)
    result = run_cli("key", "list", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["keyring_backend"] is None
    assert data["keyring_problem"].startswith("no usable keyring: ")
    assert data["providers"][0]["keyring"] is None


def test_key_rm(run_cli, config_file, memory_keyring):
    write(config_file, BASE + "\n" + auth_lines("plain"))
    memory_keyring.entries[("codexprov", "plain")] = KEY
    result = run_cli("key", "rm", "plain")
    assert result.exit_code == 0
    assert memory_keyring.entries == {}
    assert result.stderr.splitlines()[0] == "deleted the key for plain from the OS keyring (keyrings MemoryKeyring)"
    assert result.stderr.splitlines()[1].startswith("note: Codex still runs `codexprov token plain`")
    again = run_cli("key", "rm", "plain")
    assert again.exit_code == 4
    assert (
        again.stderr.splitlines()[0]
        == "error: no key for `plain` in the OS keyring (keyrings MemoryKeyring); nothing deleted"
    )


# ------------------------------------------------------------------------------ key migrate

LEAKY = f"""\
model = "m"

[model_providers.acme]
name = "Acme"
base_url = "http://127.0.0.1:9/v1"
experimental_bearer_token = "{KEY}"  # oops
http_headers = {{ "X-Org" = "org-1" }}

[model_providers.az]
name = "Azure"
http_headers = {{ "api-key" = "{OTHER}", "X-Org" = "o" }}

[model_providers.ign]
name = "Ignored"
env_key = "IGN_API_KEY"
api_key = "{KEY}"
"""


def migrated() -> str:
    return (
        'model = "m"\n\n[model_providers.acme]\nname = "Acme"\nbase_url = "http://127.0.0.1:9/v1"\n'
        'http_headers = { "X-Org" = "org-1" }\n\n'
        + auth_lines("acme")
        + '[model_providers.az]\nname = "Azure"\nhttp_headers = {X-Org = "o"}\n\n'
        + auth_lines("az")
        + '[model_providers.ign]\nname = "Ignored"\n\n'
        + auth_lines("ign")
    )


def test_key_migrate_moves_every_plaintext_key(run_cli, config_file, isolated_home, memory_keyring):
    write(config_file, LEAKY)
    result = run_cli("key", "migrate", "--yes")
    assert result.exit_code == 0, result.stderr
    assert config_file.read_text(encoding="utf-8") == migrated()
    assert memory_keyring.entries == {("codexprov", "acme"): KEY, ("codexprov", "az"): OTHER, ("codexprov", "ign"): KEY}
    assert result.stderr.splitlines()[:3] == [
        "acme: experimental_bearer_token = sk-…cdef",
        "az: http_headers.api-key = gsk_…RKEY (Codex will send it as `Authorization: Bearer …` instead of `api-key:` (Azure's /openai/v1 endpoint accepts both))",
        "ign: api_key = sk-…cdef (Codex ignores this field: no key was being sent)",
    ]
    assert_no_key(result, KEY, OTHER)
    # Neither the config, nor the backup, nor the undo journal keeps a key.
    assert files_containing(isolated_home, KEY) == []
    assert files_containing(isolated_home, OTHER) == []

    # Undo puts the old file back as it was, the keys taken from the keyring (never placeholders),
    # and says that they are in plain text again.
    undone = run_cli("undo")
    assert undone.exit_code == 0
    assert config_file.read_text(encoding="utf-8") == LEAKY
    assert undone.stderr.splitlines()[1:] == [
        f"warning: the keys that had moved into the keyring (acme, az) are in plain text in {config_file} again "
        "(the keyring keeps its copies); `codexprov key migrate` moves them back"
    ]
    assert_no_key(undone, KEY, OTHER)


def test_key_migrate_dry_run_changes_nothing(run_cli, config_file, memory_keyring):
    write(config_file, LEAKY)
    result = run_cli("key", "migrate", "--dry-run")
    assert result.exit_code == 0
    assert '-experimental_bearer_token = "sk-…cdef"  # oops\n' in result.stdout
    assert result.stderr.splitlines()[-1] == "dry run: nothing was stored or written"
    assert config_file.read_text(encoding="utf-8") == LEAKY
    assert memory_keyring.entries == {}
    assert_no_key(result, KEY, OTHER)


def test_key_migrate_asks_first(run_cli, config_file, memory_keyring):
    write(config_file, LEAKY)
    result = run_cli("key", "migrate", input="")
    assert result.exit_code == 9
    assert config_file.read_text(encoding="utf-8") == LEAKY
    assert memory_keyring.entries == {}


def test_key_migrate_one_provider_and_refusals(run_cli, config_file, memory_keyring):
    write(config_file, LEAKY)
    memory_keyring.entries[("codexprov", "acme")] = OTHER
    refused = run_cli("key", "migrate", "acme", "--yes")
    assert refused.exit_code == 5
    assert refused.stderr.splitlines()[-1].startswith(
        "error: not migrating acme: the keyring already holds a different key for it"
    )
    assert config_file.read_text(encoding="utf-8") == LEAKY

    only = run_cli("key", "migrate", "ign", "--yes")
    assert only.exit_code == 0
    assert memory_keyring.entries[("codexprov", "ign")] == KEY
    assert "[model_providers.ign.auth]" in config_file.read_text(encoding="utf-8")
    assert f'experimental_bearer_token = "{KEY}"' in config_file.read_text(encoding="utf-8")


def test_key_migrate_nothing_to_do(run_cli, config_file, memory_keyring):
    write(config_file, BASE)
    result = run_cli("key", "migrate", "--yes")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "no plain-text key to move\n")


# ------------------------------------------------------------------------------ env and run

ENVY = BASE + '\n[model_providers.envy]\nname = "Envy"\nenv_key = "ENVY_API_KEY"\n'


def test_env_prints_exports(run_cli, config_file, memory_keyring):
    write(config_file, ENVY)
    memory_keyring.entries[("codexprov", "envy")] = KEY
    result = run_cli("env")
    assert (result.exit_code, result.stdout) == (0, f"export ENVY_API_KEY={KEY}\n")
    one = run_cli("env", "envy")
    assert (one.exit_code, one.stdout) == (0, f"export ENVY_API_KEY={KEY}\n")
    wrong = run_cli("env", "plain")
    assert wrong.exit_code == 4
    assert wrong.stderr.splitlines()[0] == "error: provider `plain` does not read its key from an environment variable"


def test_env_quotes_for_the_shell():
    plan = keys.EnvPlan((keys.EnvVar("X_KEY", "x", "a'b c"),), ())
    assert keys.shell_exports(plan) == "export X_KEY='a'\"'\"'b c'\n"
    assert keys.shell_exports(plan, reveal=False) == "export X_KEY='…'\n"


def test_run_puts_keys_in_the_child_environment_only(run_cli, config_file, memory_keyring, monkeypatch):
    write(config_file, ENVY)
    monkeypatch.delenv("ENVY_API_KEY", raising=False)
    memory_keyring.entries[("codexprov", "envy")] = KEY
    script = "import os, sys; sys.stdout.write(os.environ['ENVY_API_KEY']); sys.exit(3)"
    result = run_cli("run", "--", sys.executable, "-c", script)
    assert (result.exit_code, result.stdout) == (3, KEY)
    assert config_file.read_text(encoding="utf-8") == ENVY


def test_run_refuses_provider_for_a_non_codex_command(run_cli, config_file, memory_keyring):
    write(config_file, ENVY)
    result = run_cli("run", "--provider", "envy", "--", "echo", "hi")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "error: --provider and --profile apply to a codex command, not `echo`"


def test_codex_command_adds_provider_and_profile():
    assert keys.codex_command(["codex", "exec", "hi"], provider_id="groq", profile="work") == [
        "codex",
        "-c",
        'model_provider="groq"',
        "-p",
        "work",
        "exec",
        "hi",
    ]
    assert keys.codex_command(["/opt/codex"], provider_id=None, profile=None) == ["/opt/codex"]
    with pytest.raises(UsageError):
        keys.codex_command([], provider_id=None, profile=None)
