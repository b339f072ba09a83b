"""The one room for plain-text keys (codexprov/keys/plaintext.py): one detector, one header-name
list and one rule, asked by `add` (refuses or moves), `key migrate` (moves or reports) and `doctor`
(flags). The same table gets the same answer from all three."""

from __future__ import annotations

import json

import pytest

from codexprov.keys.plaintext import KEY_HEADER_NAMES, find_keys, is_key_header, movable_key

KEY = "sk-abcdefghijklmnop1234"
URL_NOTE = "Codex cannot read a key in the URL or a query parameter from the keyring or an env var"
HEADER_NOTE = "Codex sends a key from the keyring only as `Authorization: Bearer …`"


def test_the_detector_finds_every_form_and_marks_what_can_move():
    table = {
        "name": "Acme",
        "base_url": "https://me:pw0123456789abcd@h.example/v1?api_key=q0123456789abcdef",
        "experimental_bearer_token": KEY,
        "http_headers": {
            "Authorization": f"Bearer {KEY}",
            "api-key": KEY,
            "X-Goog-Api-Key": "g0123456789abcdef",
            "X-Org": "org-1",
            "x-api-key": "AZURE_KEY",  # a variable's name in the wrong table: not a key
        },
        "query_params": {"sig": "s0123456789abcdef", "api-version": "2025-04-01"},
        "api_key": KEY,
        "env_key": "ACME_API_KEY",
    }
    found = find_keys("acme", table)
    assert [(k.field, k.secret, k.movable) for k in found] == [
        ("experimental_bearer_token", KEY, True),
        ("http_headers.Authorization", KEY, True),
        ("http_headers.api-key", KEY, True),
        ("api_key", KEY, True),
        ("http_headers.X-Goog-Api-Key", "g0123456789abcdef", False),
        ("base_url (user:password@)", "pw0123456789abcd", False),
        ("base_url (query parameter api_key)", "q0123456789abcdef", False),
        ("query_params.sig", "s0123456789abcdef", False),
    ]
    assert [k.note for k in found if not k.movable] == [HEADER_NOTE, URL_NOTE, URL_NOTE, URL_NOTE]
    assert [k.in_url for k in found if not k.movable] == [False, True, True, True]
    assert KEY not in repr(found)


def test_an_authorization_header_that_is_not_bearer_cannot_move():
    found = find_keys("acme", {"http_headers": {"Authorization": "Basic dXNlcjpwYXNzd29yZA=="}})
    assert [(k.field, k.secret, k.movable) for k in found] == [
        ("http_headers.Authorization", "dXNlcjpwYXNzd29yZA==", False)
    ]


def test_the_rule_one_key_every_place_movable():
    one = find_keys("a", {"http_headers": {"Authorization": f"Bearer {KEY}", "api-key": KEY}})
    assert movable_key(one) == KEY
    two = find_keys("a", {"http_headers": {"Authorization": f"Bearer {KEY}", "api-key": "sk-other0123456789"}})
    assert movable_key(two) is None
    mixed = find_keys("a", {"http_headers": {"api-key": KEY}, "query_params": {"key": KEY}})
    assert movable_key(mixed) is None
    assert movable_key([]) is None


def test_one_header_name_list():
    assert KEY_HEADER_NAMES == ("authorization", "api-key", "x-api-key")
    assert [is_key_header(n) for n in ("Authorization", "API-Key", "X-Api-Key", "X-Org")] == [True, True, True, False]


@pytest.mark.parametrize(
    "header,value,field",
    [
        ("X-Goog-Api-Key", "g0123456789abcdef", "http_headers.X-Goog-Api-Key"),
        ("Authorization", "Basic dXNlcjpwYXNzd29yZA==", "http_headers.Authorization"),
    ],
)
def test_add_migrate_and_doctor_agree_on_a_key_that_cannot_move(
    run_cli, config_file, memory_keyring, header, value, field
):
    added = run_cli(
        "add", "custom", "--id", "h", "--base-url", "http://127.0.0.1:9/v1", "--header", f"{header}={value}"
    )
    assert added.exit_code == 2
    assert added.stderr.splitlines()[0] == (
        f"error: refusing to write a key in plain text into the config ({field}, given on the command line); "
        "nothing was written"
    )
    assert not config_file.exists()

    config_file.write_text(
        f'[model_providers.h]\nname = "H"\nbase_url = "http://127.0.0.1:9/v1"\nwire_api = "responses"\n'
        f'http_headers = {{ "{header}" = "{value}" }}\n',
        encoding="utf-8",
    )
    before = config_file.read_bytes()
    migrate = run_cli("key", "migrate", "--dry-run")
    assert migrate.exit_code == 0
    masked = "…" + value[-4:]
    assert migrate.stderr.splitlines() == [
        f"warning: h: {field} holds a key in plain text ({masked}) that cannot move: {HEADER_NOTE}; "
        "read it from an environment variable with env_http_headers instead",
        "nothing to move",
    ]
    assert config_file.read_bytes() == before

    doctor = run_cli("doctor", "--offline", "--json", "h")
    flagged = [
        (f["check"], f["status"], f["key"], f["message"], f["fix"])
        for f in json.loads(doctor.stdout)["findings"]
        if f["check"] == "key.plaintext"
    ]
    assert flagged == [
        (
            "key.plaintext",
            "warn",
            field,
            f"a key is written in plain text in {field} ({masked}); {HEADER_NOTE}",
            "read it from an environment variable with env_http_headers, then remove it from http_headers by hand",
        )
    ]
    assert value not in doctor.stdout + migrate.stderr + added.stderr


def test_add_migrate_and_doctor_agree_on_a_key_that_can_move(run_cli, config_file, memory_keyring):
    added = run_cli("add", "custom", "--id", "h", "--base-url", "http://127.0.0.1:9/v1", "--header", f"api-key={KEY}")
    assert added.exit_code == 0, added.stderr
    assert memory_keyring.entries == {("codexprov", "h"): KEY}
    assert KEY not in config_file.read_text(encoding="utf-8")

    config_file.write_text(
        '[model_providers.m]\nname = "M"\nbase_url = "http://127.0.0.1:9/v1"\nwire_api = "responses"\n'
        f'http_headers = {{ "api-key" = "{KEY}" }}\n',
        encoding="utf-8",
    )
    doctor = run_cli("doctor", "--offline", "--json", "m")
    flagged = [(f["key"], f["fix"]) for f in json.loads(doctor.stdout)["findings"] if f["check"] == "key.plaintext"]
    assert flagged == [("http_headers.api-key", "codexprov key migrate m")]
    migrate = run_cli("key", "migrate", "m", "--yes")
    assert migrate.exit_code == 0, migrate.stderr
    assert memory_keyring.entries[("codexprov", "m")] == KEY
    assert KEY not in config_file.read_text(encoding="utf-8")
    doctor = run_cli("doctor", "--offline", "--json", "m")
    assert [f for f in json.loads(doctor.stdout)["findings"] if f["check"] == "key.plaintext"] == []
