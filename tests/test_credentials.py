"""The keyring wrapper (codexprov.credentials) and masking (codexprov.redact), on an in-memory
backend (`memory_keyring`, from conftest.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import keyring
import keyring.backend
import keyring.core
import keyring.errors
import pytest
from keyring.backends import chainer, fail, null

from codexprov import credentials, keys, token
from codexprov.errors import KeyringUnavailableError, UsageError
from codexprov.model import AuthCommand
from codexprov.redact import mask, redact_text
from tests.keyrings import PlaintextKeyring

SECRET = "sk-test-credentials-0123456789abcd"


def test_round_trip_set_get_delete(memory_keyring):
    store = credentials.open_store()
    assert store.backend_name == "tests.keyrings.MemoryKeyring"
    assert store.get("acme") is None
    store.set("acme", f"  {SECRET}\n")
    assert memory_keyring.entries == {("codexprov", "acme"): SECRET}
    assert store.get("acme") == SECRET
    assert store.delete("acme") is True
    assert store.delete("acme") is False
    assert store.get("acme") is None


@pytest.mark.parametrize(
    ("provider_id", "secret", "message"),
    [
        ("acme", "   ", "the key is empty; nothing was stored"),
        ("acme", "sk-one\nsk-two", "the key spans several lines; give it on one line"),
        ("bad id", SECRET, "'bad id' is not a valid provider id"),
    ],
)
def test_set_refuses_bad_input(memory_keyring, provider_id, secret, message):
    with pytest.raises(UsageError) as info:
        credentials.open_store().set(provider_id, secret)
    assert info.value.message == message
    assert info.value.exit_code == 2
    assert memory_keyring.entries == {}


@pytest.mark.parametrize(
    ("backend", "reason"),
    [
        (fail.Keyring(), "keyring found no usable backend (it chose its `fail` placeholder)"),
        (null.Keyring(), "the keyring is disabled (the `null` backend is configured)"),
        (PlaintextKeyring(), "that backend stores keys in a plain-text file"),
    ],
)
def test_open_store_rejects_useless_backends(memory_keyring, backend, reason):
    with pytest.raises(KeyringUnavailableError) as info:
        credentials.open_store(backend)
    err = info.value
    assert err.exit_code == 6
    assert err.message == f"no usable keyring: {reason}; codexprov will not store keys in a file instead"
    assert err.detail.splitlines()[0] == (
        f"backend: {credentials.backend_name(backend)} (chosen by keyring's automatic detection)"
    )
    assert err.hint == credentials.WAYS_OUT
    for way_out in ("Secret Service", "install a keyring backend", "--key-mode env"):
        assert way_out in err.hint


def test_open_store_rejects_an_empty_chainer(memory_keyring, monkeypatch):
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [], raising=False)
    with pytest.raises(KeyringUnavailableError) as info:
        credentials.open_store(chainer.ChainerBackend())
    assert info.value.message == (
        "no usable keyring: the chainer backend has no backend to chain; codexprov will not store keys in a file instead"
    )


def test_open_store_names_the_setting_that_chose_the_backend(monkeypatch):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    with pytest.raises(KeyringUnavailableError) as info:
        credentials.open_store()
    assert info.value.detail.splitlines()[0] == (
        "backend: keyring.backends.null.Keyring (chosen by PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring)"
    )


def test_open_store_explains_a_backend_that_cannot_load(monkeypatch):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "no_such_module.Keyring")
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    with pytest.raises(KeyringUnavailableError) as info:
        credentials.open_store()
    assert info.value.message == (
        "no usable keyring: the configured backend cannot be loaded (No module named 'no_such_module')"
    )
    assert info.value.detail == "configured by PYTHON_KEYRING_BACKEND=no_such_module.Keyring"


@pytest.mark.skipif(sys.platform != "linux", reason="the D-Bus explanation is given on Linux only")
def test_no_dbus_session_is_explained(monkeypatch):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    err = credentials.unavailable_error(fail.Keyring(), "keyring found no usable backend")
    assert err.detail.splitlines()[1] == (
        "DBUS_SESSION_BUS_ADDRESS is not set: there is no D-Bus session (typical over SSH, in WSL or in a container)."
    )


def test_locked_keyring_becomes_keyring_unavailable(memory_keyring):
    memory_keyring.fail_with = keyring.errors.KeyringLocked("Failed to unlock the collection!")
    with pytest.raises(KeyringUnavailableError) as info:
        credentials.open_store().get("acme")
    assert info.value.message == "the keyring is locked: cannot read the key for 'acme'"
    assert info.value.exit_code == 6


def test_backend_errors_are_translated_and_redacted(memory_keyring):
    memory_keyring.fail_with = keyring.errors.PasswordSetError(f"refused token={SECRET}")
    with pytest.raises(KeyringUnavailableError) as info:
        credentials.open_store().set("acme", SECRET)
    assert info.value.message == (
        "the keyring (keyrings MemoryKeyring) failed to store the key for 'acme': refused token=sk-…abcd"
    )
    assert SECRET not in info.value.message


def test_other_exceptions_are_bugs_and_propagate(memory_keyring):
    memory_keyring.fail_with = ZeroDivisionError("bug")
    with pytest.raises(ZeroDivisionError):
        credentials.open_store().get("acme")


def test_token_auth_uses_an_absolute_executable():
    auth = credentials.token_auth("groq", executable=["/opt/bin/codexprov"])
    assert auth == AuthCommand(command="/opt/bin/codexprov", args=("token", "groq"))
    assert auth.to_table() == {"command": "/opt/bin/codexprov", "args": ["token", "groq"]}
    found = credentials.codexprov_executable()
    assert Path(found[0]).is_absolute()
    assert credentials.is_token_auth(credentials.token_auth("groq").to_table(), "groq")


def test_is_token_auth():
    assert credentials.is_token_auth({"command": "/x/codexprov", "args": ["token", "a"]}, "a")
    assert credentials.is_token_auth({"command": "/x/python3", "args": ["-m", "codexprov", "token", "a"]}, "a")
    assert not credentials.is_token_auth({"command": "/x/codexprov", "args": ["token", "b"]}, "a")
    assert not credentials.is_token_auth({"command": "/x/other", "args": ["token", "a"]}, "a")
    assert not credentials.is_token_auth(None, "a")


def test_token_module_uses_the_same_service_name():
    assert token.SERVICE == credentials.SERVICE == "codexprov"


# ------------------------------------------------------------------------------ redact


@pytest.mark.parametrize(
    ("secret", "masked"),
    [
        ("sk-proj-abcdefghijklmnopqrstuvwxyz1234", "sk-proj-…1234"),
        ("sk-abcdefghijklmnop", "sk-…mnop"),
        ("gsk_abcdefgh12345678", "gsk_…5678"),
        ("AIzaSyabcdefghijklmnop", "…mnop"),
        ("short-key", "…"),
        ("", "…"),
    ],
)
def test_mask(secret, masked):
    assert mask(secret) == masked


def test_redact_text_masks_secret_values_and_keeps_names():
    text = (
        '+experimental_bearer_token = "sk-abcdefgh12345678"\n'
        '-http_headers = { "Authorization" = "Bearer abcdefghijkl98765", "X-Org" = "org-1" }\n'
        ' env_key = "GROQ_API_KEY"\n'
        "+api_key = 'xyzxyzxyzxyz1234'\n"
        'args = ["token", "groq"]\n'
        "max_output_tokens = 4096\n"
        "export GROQ_API_KEY=gsk_ABCDEFGHIJKL1234\n"
        '{"password": "hunter2", "api-key": "a1b2c3d4e5f6g7h8"}\n'
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abc\n"
        "Unable to initialize SecretService: not enough values to unpack\n"
        'env_http_headers = { "api-key" = "AZURE_KEY" }\n'
        "a stray sk-live-0123456789abcdef in prose\n"
    )
    assert redact_text(text) == (
        '+experimental_bearer_token = "sk-…5678"\n'
        '-http_headers = { "Authorization" = "Bearer …8765", "X-Org" = "org-1" }\n'
        ' env_key = "GROQ_API_KEY"\n'
        "+api_key = '…1234'\n"
        'args = ["token", "groq"]\n'
        "max_output_tokens = 4096\n"
        "export GROQ_API_KEY=gsk_…1234\n"
        '{"password": "…", "api-key": "…g7h8"}\n'
        "Authorization: Bearer ….abc\n"
        "Unable to initialize SecretService: not enough values to unpack\n"
        'env_http_headers = { "api-key" = "AZURE_KEY" }\n'
        "a stray sk-…cdef in prose\n"
    )


# ------------------------------------------------------------------------------ plain text


def test_find_plaintext_in_every_place_codex_or_users_put_keys():
    table = {
        "name": "Acme",
        "experimental_bearer_token": SECRET,
        "http_headers": {"Authorization": f"Bearer {SECRET}", "api-key": SECRET, "X-Org": "org-1"},
        "api_key": SECRET,
        "env_key": "ACME_API_KEY",
        "token_file": "/etc/token",
    }
    found = keys.find_plaintext("acme", table)
    assert [(p.field, p.secret) for p in found] == [
        ("experimental_bearer_token", SECRET),
        ("http_headers.Authorization", SECRET),
        ("http_headers.api-key", SECRET),
        ("api_key", SECRET),
    ]
    assert SECRET not in repr(found)
    assert found[0].masked == "sk-…abcd"


def test_find_plaintext_ignores_names_and_non_bearer_headers():
    table = {
        "name": "Acme",
        "env_key": "ACME_API_KEY",
        "http_headers": {"Authorization": "Basic dXNlcjpwYXNz"},
        "env_http_headers": {"api-key": "AZURE_KEY"},
    }
    assert keys.find_plaintext("acme", table) == []
