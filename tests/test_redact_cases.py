"""The nine leaks of issue 9, one test each (the leak fuzzer in test_leaks.py covers the rest), and
the redaction boundary's own rules."""

from __future__ import annotations

import json

import pytest

from codexprov import redact
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
