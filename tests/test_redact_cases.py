"""The nine leaks of issue 9, one test each (the leak fuzzer in test_leaks.py covers the rest), and
the redaction boundary's own rules."""

from __future__ import annotations

import json

import pytest

from codexprov import redact, redact_args
from codexprov.redact import mask, redact_data, redact_text, secrets_in_toml

KEY = "sk-proj-abcdefghijklmnop1234"
GROQ = "gsk_abcdefgh12345678wxyz"


# ------------------------------------------------------------------------------ the boundary's rules


@pytest.mark.parametrize(
    "text,expected",
    [
        ('experimental_bearer_token = "sk-proj-abcdefghijklmnop1234"', 'experimental_bearer_token = "sk-proj-…1234"'),
        ("experimental_bearer_token = 'abcdefghijklmnop1234'", "experimental_bearer_token = '…1234'"),
        ('experimental_bearer_token = "abcdefghijklmnop1234', 'experimental_bearer_token = "…1234'),
        ("experimental_bearer_token = 'abcdefghijklmnop1234", "experimental_bearer_token = '…1234"),
        ('experimental_bearer_token = """\nabcdefghijklmnop1234\n"""', 'experimental_bearer_token = """…1234"""'),
        ('api_key = "123456789012345678"', 'api_key = "…5678"'),
        ('http_headers = {api-key = "abcdefghijklmnop1234"}', 'http_headers = {api-key = "…1234"}'),
        (
            'http_headers = { "Authorization" = "Bearer abcdefghijklmnop1234" }',
            'http_headers = { "Authorization" = "Bearer …1234" }',
        ),
        ('http_headers."x-api-key" = "abcdefghijklmnop1234"', 'http_headers."x-api-key" = "…1234"'),
        ('query_params = {sig="abcdefghijklmnop1234"}', 'query_params = {sig="…1234"}'),
        ("base_url = https://me:abcdefghijklmnop1234@h/v1", "base_url = https://me:…1234@h/v1"),
        ("GET https://h/v1?x=1&api_key=abcdefghijklmnop1234&k", "GET https://h/v1?x=1&api_key=…1234&k"),
        ("https://h/v1?key=abcdefghijklmnop1234", "https://h/v1?key=…1234"),
        ("authorization: Bearer abcdefghijklmnop1234", "authorization: Bearer …1234"),
        # Names and settings stay: env var names, paths, numbers, field names.
        ('env_key = "GROQ_API_KEY"', 'env_key = "GROQ_API_KEY"'),
        ('env_http_headers = { "api-key" = "AZURE_KEY" }', 'env_http_headers = { "api-key" = "AZURE_KEY" }'),
        ("max_tokens = 123456789", "max_tokens = 123456789"),
        ('"key": "wire_api"', '"key": "wire_api"'),
        ("token: no key for provider groq", "token: no key for provider groq"),
    ],
)
def test_redact_text_masks_every_form(text, expected):
    assert redact_text(text) == expected


def test_secrets_in_toml_finds_every_place():
    text = (
        'model = "m"\n'
        "[model_providers.a]\n"
        'base_url = "https://u:pw0123456789ab@h/v1?sig=sig0123456789ab"\n'
        'env_key = "A_KEY"\n'
        'env_http_headers = { "x-api-key" = "B_KEY" }\n'
        "[model_providers.a.http_headers]\n"
        '"X-Org" = "org-0123456789"\n'
        'Authorization = "Bearer auth0123456789ab"\n'
        "[mcp_servers.m]\n"
        'args = ["--api-key", "arg0123456789ab", "--token=tok0123456789ab"]\n'
        'env = {PLAIN_NAME = "env0123456789ab"}\n'
        "[mcp_servers.m.env]\n"
        'OTHER = "envt0123456789ab"\n'
        '[x]\npassword = """\nml0123456789ab\n"""\n'
    )
    found = set(secrets_in_toml(text, {"A_KEY": "fromenv0123456789", "B_KEY": "fromenvb0123456789"}))
    assert {
        "pw0123456789ab",
        "sig0123456789ab",
        "fromenv0123456789",
        "fromenvb0123456789",
        "auth0123456789ab",
        "arg0123456789ab",
        "tok0123456789ab",
        "env0123456789ab",
        "envt0123456789ab",
        "ml0123456789ab",
    } <= found
    assert "org-0123456789" not in found


def test_remembered_secrets_are_masked_wherever_they_appear():
    redact.forget_all()
    redact.remember("plainword0123456789")
    redact.remember_source('[mcp_servers.m.env]\nNAME = "fromfile0123456789"\n')
    assert redact_text("a plainword0123456789 b fromfile0123456789") == "a …6789 b …6789"
    redact.forget_all()
    assert redact_text("a plainword0123456789") == "a plainword0123456789"


def test_redact_data_masks_secret_named_keys_and_keeps_names():
    data = {
        "table": {
            "api_key": "abcdefghijklmnop1234",
            "env_key": "GROQ_API_KEY",
            "http_headers": {"X-Api-Key": "xk0123456789abcd"},
        },
        "key": "wire_api",
    }
    assert redact_data(data) == {
        "table": {"api_key": "…1234", "env_key": "GROQ_API_KEY", "http_headers": {"X-Api-Key": "…abcd"}},
        "key": "wire_api",
    }


# ------------------------------------------------------------------------------ case 1: source lines in errors


def test_case1_unterminated_key_is_masked_in_list_add_use(run_cli, config_file):
    config_file.write_text(f'[model_providers.a]\nname = "A"\nexperimental_bearer_token = "{GROQ}\n', encoding="utf-8")
    expected = (
        f"error: {config_file}:3:54: invalid TOML: illegal character '\\n'\n"
        '    3 | experimental_bearer_token = "gsk_…wxyz\n'
        "hint: Fix the syntax at that line (codexprov never rewrites a file it cannot parse).\n"
    )
    for argv in (
        ["list"],
        ["use", "a"],
        ["add", "custom", "--id", "x", "--base-url", "http://127.0.0.1:9/v1", "--key-mode", "none"],
    ):
        result = run_cli(*argv)
        assert (result.exit_code, result.stdout, result.stderr) == (3, "", expected), argv


def test_case1_doctor_masks_a_duplicated_key_line(run_cli, config_file):
    config_file.write_text(
        f'x = 1\nexperimental_bearer_token = "{KEY}"\nexperimental_bearer_token = "{KEY}"\n', encoding="utf-8"
    )
    text = run_cli("doctor", "--offline")
    as_json = run_cli("doctor", "--offline", "--json")
    assert KEY not in text.stdout + text.stderr + as_json.stdout + as_json.stderr
    messages = [f["message"] for f in json.loads(as_json.stdout)["findings"] if f.get("line") == 3]
    assert messages == [
        'duplicate key: Codex refuses to start until it is fixed (3 | experimental_bearer_token = "sk-proj-…1234")'
    ]
    assert '3 | experimental_bearer_token = "sk-proj-…1234"' in text.stdout


# ------------------------------------------------------------------------------ case 2: diffs


def test_case2_diff_masks_inline_headers_without_spaces_and_digit_keys(run_cli, config_file):
    config_file.write_text(
        'model_provider = "b"\n\n[model_providers.a]\nname = "A"\n'
        'http_headers = {api-key = "azkey0123456789abcdef"}\nexperimental_bearer_token = "123456789012345678"\n',
        encoding="utf-8",
    )
    result = run_cli("remove", "a", "--dry-run")
    assert result.exit_code == 0
    assert result.stdout == (
        f"--- {config_file} (before)\n"
        f"+++ {config_file} (after)\n"
        "@@ -1,6 +1 @@\n"
        ' model_provider = "b"\n'
        "-\n"
        "-[model_providers.a]\n"
        '-name = "A"\n'
        '-http_headers = {api-key = "…cdef"}\n'
        '-experimental_bearer_token = "…5678"\n'
    )


# ------------------------------------------------------------------------------ case 7: keys as arguments


def test_case7_key_set_with_the_key_as_an_argument(run_cli, config_file):
    result = run_cli("key", "set", "groq", GROQ)
    assert result.exit_code == 2
    assert GROQ not in result.stdout + result.stderr
    assert result.stderr.startswith(
        "error: pass the key on stdin or at the prompt, not as an argument; nothing was stored\n"
    )


def test_case7_usage_errors_mask_arguments_that_look_like_keys(run_cli):
    result = run_cli("show", "groq", GROQ)
    assert result.exit_code == 2
    assert result.stderr.endswith("Error: Got unexpected extra argument(s) (gsk_…wxyz)\n")
    result = run_cli("remove", "a", "--id", "x0123456789abcdefghijk")
    assert result.exit_code == 2
    assert "x0123456789abcdefghijk" not in result.stderr


def test_mask_shape():
    assert mask(KEY) == "sk-proj-…1234"
    assert mask("short") == "…"


# ------------------------------------------------------------------------------ cases 3 and 8: backups, undo, remove

PLAIN = 'model = "m"\nmodel_provider = "acme"\n\n[model_providers.acme]\nname = "Acme"\nbase_url = "http://127.0.0.1:9/v1"\nexperimental_bearer_token = "{key}"\n'


def _files_with(root, secret: str) -> list:
    return sorted(p for p in root.rglob("*") if p.is_file() and secret.encode() in p.read_bytes())


def test_case3_key_migrate_scrubs_every_earlier_backup(run_cli, config_file, isolated_home, memory_keyring):
    config_file.write_text(PLAIN.format(key=KEY), encoding="utf-8")
    for model in ("m1", "m2"):  # two edits: two backups that hold the plain-text key
        assert run_cli("use", "acme", "--model", model).exit_code == 0
    backups = sorted((isolated_home / ".local" / "state").rglob("*-config.toml"))
    assert len(backups) == 2 and all(KEY in b.read_text(encoding="utf-8") for b in backups)
    result = run_cli("key", "migrate", "--yes")
    assert result.exit_code == 0, result.stderr
    assert memory_keyring.entries == {("codexprov", "acme"): KEY}
    assert (
        "no backup holds the moved keys (the new backup names their keyring entries instead; taken out of 2 earlier "
        "backups too); `codexprov undo` puts them back from the keyring, in plain text"
    ) in result.stderr
    assert _files_with(isolated_home, KEY) == []
    assert [b.read_text(encoding="utf-8").count("{{codexprov-keyring:acme}}") for b in backups] == [1, 1]


def test_case8_undo_across_migrate_puts_the_key_back_from_the_keyring(run_cli, config_file, memory_keyring):
    config_file.write_text(PLAIN.format(key=KEY), encoding="utf-8")
    assert run_cli("use", "acme", "--model", "m1").exit_code == 0
    assert run_cli("key", "migrate", "--yes").exit_code == 0
    first = run_cli("undo")
    assert first.exit_code == 0, first.stderr
    assert config_file.read_text(encoding="utf-8") == PLAIN.format(key=KEY).replace('model = "m"', 'model = "m1"')
    assert first.stderr == (
        f"undid `move plain-text keys into the keyring (acme)`: {config_file} restored\n"
        f"warning: the keys that had moved into the keyring (acme) are in plain text in {config_file} again "
        "(the keyring keeps its copies); `codexprov key migrate` moves them back\n"
    )
    # The chain goes on: the earlier (scrubbed) backup gets its key back too.
    second = run_cli("undo")
    assert second.exit_code == 0, second.stderr
    assert config_file.read_text(encoding="utf-8") == PLAIN.format(key=KEY)
    assert "{{codexprov" not in config_file.read_text(encoding="utf-8")
    assert KEY not in first.stdout + first.stderr + second.stdout + second.stderr


def test_case8_undo_refuses_when_the_keyring_lost_the_key(run_cli, config_file, memory_keyring):
    config_file.write_text(PLAIN.format(key=KEY), encoding="utf-8")
    assert run_cli("key", "migrate", "--yes").exit_code == 0
    migrated = config_file.read_text(encoding="utf-8")
    memory_keyring.entries.clear()
    result = run_cli("undo")
    assert result.exit_code == 4
    assert result.stderr == (
        "error: cannot undo `move plain-text keys into the keyring (acme)`: the file it restores held the key of acme, "
        "which moved into the keyring, and the keyring has no key for it now; nothing was changed\n"
        "hint: Store it again with `codexprov key set acme`, then run `codexprov undo` again.\n"
    )
    assert config_file.read_text(encoding="utf-8") == migrated


def test_case8_undo_of_remove_says_the_key_is_gone(run_cli, config_file, memory_keyring):
    config_file.write_text(PLAIN.format(key=KEY), encoding="utf-8")
    assert run_cli("key", "migrate", "--yes").exit_code == 0
    removed = run_cli("remove", "acme", "--force")
    assert removed.exit_code == 0, removed.stderr
    assert memory_keyring.entries == {}
    assert (
        "deleted the key for acme from the OS keyring (`codexprov undo` brings the provider back without it; pass --keep-key to keep it)"
        in removed.stderr
    )
    undone = run_cli("undo")
    assert undone.exit_code == 0
    assert undone.stderr.splitlines()[-1] == (
        "warning: acme reads its key from the keyring, which has none for it (`remove` deleted it); "
        "store it again with `codexprov key set acme`"
    )


# ------------------------------------------------------------------------------ cases 4 and 5: keys in URLs and headers


def test_case4_url_credentials_are_masked_in_list_show_and_json(run_cli, config_file):
    config_file.write_text(
        '[model_providers.u]\nname = "U"\nbase_url = "https://me:pw0123456789abcd@h.example/v1?api_key=q0123456789abcdef&v=1"\n',
        encoding="utf-8",
    )
    for argv in (["list"], ["list", "--json"], ["show", "u"], ["show", "u", "--json"]):
        result = run_cli(*argv)
        assert result.exit_code == 0
        assert "pw0123456789abcd" not in result.stdout + result.stderr
        assert "q0123456789abcdef" not in result.stdout + result.stderr
    assert "https://me:…abcd@h.example/v1?api_key=…cdef&v=1" in run_cli("list").stdout


def test_case4_key_migrate_and_doctor_flag_url_credentials(run_cli, config_file, memory_keyring):
    config_file.write_text(
        '[model_providers.u]\nname = "U"\nbase_url = "https://me:pw0123456789abcd@h.example/v1?key=q0123456789abcdef"\n'
        'wire_api = "responses"\n',
        encoding="utf-8",
    )
    note = "Codex cannot read a key in the URL or a query parameter from the keyring or an env var"
    migrate = run_cli("key", "migrate", "--dry-run")
    assert migrate.exit_code == 0
    assert migrate.stderr.splitlines() == [
        f"warning: u: base_url (user:password@) holds a key in plain text (…abcd) that cannot move: {note}; "
        "use a header key instead if the server takes one (`codexprov key set u`)",
        f"warning: u: base_url (query parameter key) holds a key in plain text (…cdef) that cannot move: {note}; "
        "use a header key instead if the server takes one (`codexprov key set u`)",
        "nothing to move",
    ]
    doctor = run_cli("doctor", "--offline", "--json", "u")
    flagged = [
        (f["check"], f["status"], f["key"])
        for f in json.loads(doctor.stdout)["findings"]
        if f["check"] == "key.plaintext"
    ]
    assert flagged == [
        ("key.plaintext", "warn", "base_url (user:password@)"),
        ("key.plaintext", "warn", "base_url (query parameter key)"),
    ]
    assert "pw0123456789abcd" not in doctor.stdout + migrate.stderr
    result = run_cli("add", "custom", "--id", "v", "--base-url", "https://me:pw0123456789abcd@h.example/v1")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: refusing to write a key in plain text into the config (base_url (user:password@), given on the command line); nothing was written\n"
    )
    assert "pw0123456789abcd" not in result.stderr


@pytest.mark.parametrize(
    "option,where",
    [
        (["--header", "x-goog-api-key=hk0123456789abcdef"], "http_headers.x-goog-api-key"),
        (["--query", "api_key=qk0123456789abcdef"], "query_params.api_key"),
        (["--header", "Authorization=Bearer ak0123456789abcdef", "--key-mode", "env"], "http_headers.Authorization"),
    ],
)
def test_case5_add_refuses_plaintext_keys(run_cli, config_file, memory_keyring, option, where):
    result = run_cli("add", "custom", "--id", "h", "--base-url", "http://127.0.0.1:9/v1", *option)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        f"error: refusing to write a key in plain text into the config ({where}, given on the command line); nothing was written"
    )
    assert not config_file.exists()
    assert memory_keyring.entries == {}


def test_case5_add_moves_an_authorization_header_into_the_keyring(run_cli, config_file, memory_keyring):
    result = run_cli(
        "add",
        "custom",
        "--id",
        "h",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--header",
        "Authorization=Bearer ak0123456789abcdef",
        "--header",
        "X-Org=o1",
    )
    assert result.exit_code == 0, result.stderr
    assert memory_keyring.entries == {("codexprov", "h"): "ak0123456789abcdef"}
    text = config_file.read_text(encoding="utf-8")
    assert "ak0123456789abcdef" not in text
    assert 'http_headers = {X-Org = "o1"}\n' in text
    assert "ak0123456789abcdef" not in result.stdout + result.stderr


def test_case5_allow_plaintext_writes_it_with_a_warning(run_cli, config_file, memory_keyring):
    result = run_cli(
        "add",
        "custom",
        "--id",
        "h",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--query",
        "api_key=qk0123456789abcdef",
        "--key-mode",
        "none",
        "--allow-plaintext",
    )
    assert result.exit_code == 0, result.stderr
    assert "qk0123456789abcdef" in config_file.read_text(encoding="utf-8")
    assert (
        "warning: --allow-plaintext: writing a key in plain text into the config (query_params.api_key); anyone who can "
        "read the file or its backups can use it. `codexprov key migrate` moves header keys into the keyring later."
    ) in result.stderr.splitlines()
    assert "qk0123456789abcdef" not in result.stdout + result.stderr


def test_case5_recipe_fixed_header_with_a_key_is_refused(run_cli, config_file, isolated_home, memory_keyring):
    recipes = isolated_home / ".config" / "codexprov" / "recipes"
    recipes.mkdir(parents=True)
    (recipes / "team.toml").write_text(
        'name = "Team gateway"\nkind = "gateway"\nresponses = "native"\nresponses_checked = "2026-11-22"\n'
        'base_url = "http://127.0.0.1:9/v1"\nenv_key = "TEAM_API_KEY"\n\n[http_headers]\n"X-Team-Token" = "tt0123456789abcdef"\n',
        encoding="utf-8",
    )
    result = run_cli("add", "team")
    assert result.exit_code == 2, result.stderr
    assert result.stderr.splitlines()[0] == (
        "error: refusing to write a key in plain text into the config (http_headers.X-Team-Token, set by recipe `team`); nothing was written"
    )
    assert "tt0123456789abcdef" not in result.stderr


# ------------------------------------------------------------------------------ case 6: server bodies


def test_case6_doctor_masks_a_key_the_server_echoes(run_cli, config_file, memory_keyring, monkeypatch):
    from tests.test_leaks import echo_server_port

    with echo_server_port() as (port, seen):
        config_file.write_text(
            f'model_provider = "e"\n[model_providers.e]\nname = "E"\nbase_url = "http://127.0.0.1:{port}/v1"\nenv_key = "E_KEY"\n',
            encoding="utf-8",
        )
        monkeypatch.setenv("E_KEY", "ek0123456789abcdefgh")
        text = run_cli("doctor", "--timeout", "3")
        as_json = run_cli("doctor", "--json", "--timeout", "3")
    assert any("ek0123456789abcdefgh" in s for s in seen), "the server was not asked with the key"
    assert "ek0123456789abcdefgh" not in text.stdout + text.stderr + as_json.stdout + as_json.stderr
    assert "…efgh" in text.stdout + as_json.stdout


# ------------------------------------------------------------------------------ case 9: the parse cache


def test_case9_parse_cache_is_plain_data_checked_before_loading(tmp_path):
    import os
    import pickle

    from codexprov.config import cache
    from codexprov.config.document import load

    config = tmp_path / "config.toml"
    config.write_text('model = "m"\n', encoding="utf-8")
    cache_dir = tmp_path / "state" / "cache"
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    entry = cache._entry(cache_dir, config)
    entry.parent.mkdir(parents=True, mode=0o700)
    cache_dir.chmod(0o700)
    entry.write_bytes(pickle.dumps(Evil()))
    entry.with_suffix(".pickle").write_bytes(pickle.dumps(Evil()))
    assert load(config, cache_dir).data == {"model": "m"}
    assert not marker.exists()
    assert not entry.with_suffix(".pickle").exists()
    assert entry.read_bytes().split(b"\n", 1)[1] == b'{"model":"m"}'

    # A well-formed entry whose signature does not match is not parsed at all.
    entry.write_bytes(b'[0]\n{"model": "planted"')
    assert load(config, cache_dir).data == {"model": "m"}
    # In a folder others can write, the cache is not used.
    st = os.stat(config)
    import json as json_mod

    entry.write_bytes(json_mod.dumps(cache._signature(st)).encode() + b'\n{"model": "planted"}')
    assert cache.get(cache_dir, config, st) == {"model": "planted"}
    entry.parent.chmod(0o777)
    assert cache.get(cache_dir, config, st) is None
    entry.parent.chmod(0o700)


def test_bridge_logs_mask_the_keyring_keys_they_quote(run_cli, config_file, memory_keyring):
    from codexprov.bridge.layout import resolve

    config_file.write_text(
        '[model_providers.acme]\nname = "Acme"\nbase_url = "http://127.0.0.1:9/v1"\n', encoding="utf-8"
    )
    memory_keyring.entries[("codexprov", "acme")] = "upstreamplain0123456789"
    memory_keyring.entries[("codexprov", "master-key")] = "masterplain0123456789"
    log = resolve().log_file
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("calling upstream with upstreamplain0123456789\nmaster masterplain0123456789 ok\n", encoding="utf-8")
    result = run_cli("bridge", "logs")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "calling upstream with …6789\nmaster …6789 ok\n"


# ------------------------------------------------------------------------------ issue 24: keys that look like names

UPPER = "ABCD1234EFGH5678IJKL9012"
HEX = "0123456789ABCDEF0123456789ABCDEF"
SLASH = "/abcDEFghiJKL+mno012345=="


@pytest.mark.parametrize(
    "text,expected",
    [
        (f'experimental_bearer_token = "{UPPER}"', 'experimental_bearer_token = "…9012"'),
        (f'experimental_bearer_token = "{HEX}"', 'experimental_bearer_token = "…CDEF"'),
        (f'experimental_bearer_token = "{SLASH}"', 'experimental_bearer_token = "…45=="'),
        ('experimental_bearer_token = "ABCDEFGHIJKLMNOPQRSTUVWX"', 'experimental_bearer_token = "…UVWX"'),
        (f'http_headers = {{ "x-api-key" = "{SLASH}" }}', 'http_headers = { "x-api-key" = "…45==" }'),
        (f'"api_key": "{UPPER}"', '"api_key": "…9012"'),
        # Fields that hold names keep them: env_key, *_file, command, env_http_headers values.
        ('env_key = "ABCD_EFGH_KEY"', 'env_key = "ABCD_EFGH_KEY"'),
        ('token_file = "/run/secrets/token"', 'token_file = "/run/secrets/token"'),
        ('token_command = "/usr/bin/get-token"', 'token_command = "/usr/bin/get-token"'),
        ('env_http_headers = { "api-key" = "AZURE_KEY" }', 'env_http_headers = { "api-key" = "AZURE_KEY" }'),
        (
            '[model_providers.a.env_http_headers]\n"x-api-key" = "A_KEY"',
            '[model_providers.a.env_http_headers]\n"x-api-key" = "A_KEY"',
        ),
        (
            '+[model_providers.a.http_headers]\n+"x-api-key" = "ABCDEFGHIJKLMNOP"',
            '+[model_providers.a.http_headers]\n+"x-api-key" = "…MNOP"',
        ),
    ],
)
def test_issue24_item1_masked_by_place_whatever_the_shape(text, expected):
    assert redact_text(text) == expected


def test_issue24_item1_redact_data_masks_every_shape_and_keeps_header_variable_names():
    data = {
        "experimental_bearer_token": SLASH,
        "http_headers": {"x-api-key": UPPER},
        "env_http_headers": {"x-api-key": "A_KEY"},
        "env_key": "B_KEY",
    }
    assert redact_data(data) == {
        "experimental_bearer_token": "…45==",
        "http_headers": {"x-api-key": "…9012"},
        "env_http_headers": {"x-api-key": "A_KEY"},
        "env_key": "B_KEY",
    }


@pytest.mark.parametrize("secret", [UPPER, HEX, SLASH, "ABCDEFGHIJKLMNOPQRSTUVWX"])
def test_issue24_item1_remembered_keys_are_masked_whatever_the_shape_and_encoding(secret):
    from urllib.parse import quote

    redact.forget_all()
    redact.remember(secret)
    shown = redact_text(f"a {secret} b {quote(secret, safe='')} c {json.dumps(secret)}")
    assert secret not in shown and quote(secret, safe="") not in shown
    assert shown.count("…") == 3
    redact.forget_all()


@pytest.mark.parametrize("secret", [UPPER, HEX, SLASH])
def test_issue24_item1_commands_mask_keys_that_look_like_names(run_cli, config_file, memory_keyring, secret):
    config_file.write_text(
        'model_provider = "b"\n[model_providers.a]\nname = "A"\nbase_url = "http://127.0.0.1:9/v1"\n'
        f'experimental_bearer_token = "{secret}"\n[model_providers.a.http_headers]\n"x-api-key" = "{secret}"\n',
        encoding="utf-8",
    )
    for argv in (
        ["list"],
        ["list", "--json"],
        ["show", "a"],
        ["show", "a", "--json"],
        ["key", "migrate", "--dry-run"],
        ["remove", "a", "--dry-run"],
    ):
        redact.forget_all()
        result = run_cli(*argv)
        assert result.exit_code == 0, (argv, result.stderr)
        assert secret not in result.stdout + result.stderr, argv
        if argv != ["list"]:  # the table names where the key is, not the key
            assert f"…{secret[-4:]}" in result.stdout + result.stderr, argv


def test_issue24_item1_key_set_diff_masks_an_all_upper_case_key(run_cli, config_file, memory_keyring):
    config_file.write_text(
        f'[model_providers.a]\nname = "A"\nbase_url = "http://127.0.0.1:9/v1"\nexperimental_bearer_token = "{UPPER}"\n',
        encoding="utf-8",
    )
    result = run_cli("key", "set", "a", "--dry-run", input="newkey0123456789abcd\n")
    assert UPPER not in result.stdout + result.stderr


# ------------------------------------------------------------------------------ issue 24 item 9: smaller escapes


@pytest.mark.parametrize(
    "text,expected",
    [
        ("authorization: bearer abcdefghijklmnop1234", "authorization: bearer …1234"),
        ("auth: get-key --api-key abcdefghijklmnop1234 --region eu", "auth: get-key --api-key …1234 --region eu"),
        ("auth: get-key --token=abcdefghijklmnop1234", "auth: get-key --token=…1234"),
        ("auth: get-key -k abcdefghijklmnop1234", "auth: get-key -k …1234"),
        ('args = ["--api-key", "abcdefghijklmnop1234"]', 'args = ["--api-key", "…1234"]'),
        ("https://h/v1?api%5Fkey=abcdefghijklmnop1234", "https://h/v1?api%5Fkey=…1234"),
        ("https://h/v1#access_token=abcdefghijklmnop1234", "https://h/v1#access_token=…1234"),
        ("https://h/key/abcdefghijklmnop1234/v1", "https://h/key/…1234/v1"),
        # Flags that take names, not keys, keep their values.
        (
            "codexprov add groq --key-mode keyring --env-key GROQ_API_KEY",
            "codexprov add groq --key-mode keyring --env-key GROQ_API_KEY",
        ),
    ],
)
def test_issue24_item9_smaller_escapes(text, expected):
    assert redact_text(text) == expected


def test_issue24_item9_auth_args_after_a_key_flag_are_masked_in_list_and_show(run_cli, config_file):
    config_file.write_text(
        '[model_providers.a]\nname = "A"\nbase_url = "http://127.0.0.1:9/v1"\n[model_providers.a.auth]\n'
        'command = "get-key"\nargs = ["--api-key", "ak0123456789abcdef", "-k", "kk0123456789abcdef", "--region", "eu-west-1"]\n',
        encoding="utf-8",
    )
    for argv in (["list"], ["list", "--json"], ["show", "a"], ["show", "a", "--json"]):
        redact.forget_all()
        result = run_cli(*argv)
        assert result.exit_code == 0, result.stderr
        shown = result.stdout + result.stderr
        assert "ak0123456789abcdef" not in shown and "kk0123456789abcdef" not in shown, argv
        assert "eu-west-1" in shown or argv[0] == "list", argv


def test_issue24_item9_toml_escaped_key_is_remembered_decoded():
    found = secrets_in_toml('[model_providers.a]\nexperimental_bearer_token = "\\u0073k0123456789abcdefgh"\n')
    assert "sk0123456789abcdefgh" in found


# ------------------------------------------------------------------------------ issue 24 item 2: doctor echoes


@pytest.mark.parametrize(
    "auth",
    [
        '[model_providers.e.auth]\ncommand = "sh"\nargs = ["-c", "echo ECHOED0123456789KEYABCD"]\n',
        'experimental_bearer_token = "\\u0045CHOED0123456789KEYABCD"\n',
    ],
    ids=["foreign-auth-command", "toml-escaped-plaintext"],
)
def test_issue24_item2_doctor_masks_an_echoed_key_it_learned(
    run_cli, config_file, memory_keyring, no_outside_configs, auth
):
    from tests.test_leaks import echo_server_port

    key = "ECHOED0123456789KEYABCD"
    with echo_server_port() as (port, seen):
        config_file.write_text(
            f'model_provider = "e"\n[model_providers.e]\nname = "E"\nbase_url = "http://127.0.0.1:{port}/v1"\n'
            f'wire_api = "responses"\n{auth}',
            encoding="utf-8",
        )
        redact.forget_all()
        text = run_cli("doctor", "--timeout", "3")
        redact.forget_all()
        as_json = run_cli("doctor", "--json", "--timeout", "3")
    assert any(key in s for s in seen), "the server was not sent the key"
    assert key not in text.stdout + text.stderr + as_json.stdout + as_json.stderr
    assert "…ABCD" in text.stdout


# ------------------------------------------------------------------------------ issue 24 item 7: linear


def test_issue24_item7_redaction_of_a_100k_word_is_linear():
    import time

    for word in ("a" * 100_000, "token: " + "b" * 100_000, "a." * 50_000, "a1" * 50_000):
        start = time.perf_counter()
        assert redact_text(word) == word
        assert redact_args.looks_like_pasted_key(word) is (word[:2] == "a1")
        # Not a speed target (bench/bench_redact.py measures that): quadratic took minutes here.
        assert time.perf_counter() - start < 10


@pytest.mark.parametrize(
    "argv,code",
    [(["models", "W"], 4), (["sessions", "--provider", "W"], 0), (["completion", "W"], 2)],
    ids=["models", "sessions", "completion"],
)
def test_issue24_item7_commands_with_a_100k_argument_finish(run_exe, isolated_home, argv, code):
    import os

    word = "w" * 100_000
    result = run_exe(*[word if a == "W" else a for a in argv], env=dict(os.environ), timeout=10)
    assert result.exit_code == code, result.stderr[:300]
    assert "Traceback" not in result.stderr
