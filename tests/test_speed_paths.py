"""The shortcuts the fast commands take (issue 25) give what the slow way gives, byte for byte:
root keys edited as text (no tomlkit), sections rendered without tomlkit, the verification that
parses only the root lines an edit changed, the hard-linked backup, and `list`/`show`/`use`
answered before Typer loads."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codexprov import paths as paths_mod
from codexprov import providers
from codexprov.config import edit, transaction
from codexprov.config.document import load, parse
from codexprov.errors import ConfigError


def _tomlkit_set_root_keys(text: str, values: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> str:
    with monkeypatch.context() as m:
        m.setattr(edit, "_set_simple_root_values", lambda *_: None)
        return edit.set_root_keys(text, values)


ROOT_LAYOUTS = [
    'model_provider = "openai"  # c\nmodel="x"\n\n[a]\nb=1\n',
    "model_provider='openai'\r\nmodel = \"y\" # z\r\n",
    '# head\nmodel_provider    =   "a"\n',
    'model_provider = "a"\t#c\n',
    '  model_provider = "a"\n',
    '\tmodel = "a"   \n',
    'model = "a"   \n[x]\n',
    'model_provider = "a"',
    'model = "a"#c',
    "x=1\n",
    "",
    "# only\n",
    "\n\n[t]\nk=1\n",
    "model_provider = \"\"\nmodel = ''\n",
    'a = """\nmodel = "q"\n"""\nmodel = "m"\n',
    'model = "a"\r\nmodel_provider = "b"\r\n\r\n[p]\r\nx = 1\r\n',
    'model = "a" \t # x y\n',
    'model.x = 1\nmodel_provider = "a"\n',
]


@pytest.mark.parametrize("text", ROOT_LAYOUTS)
@pytest.mark.parametrize(
    "values",
    [{"model_provider": "acme"}, {"model": "gpt-5.1-codex"}, {"model_provider": "acme", "model": "m/x:1@2+3"}],
)
def test_root_keys_edited_as_text_match_tomlkit(text: str, values: dict[str, Any], monkeypatch) -> None:
    def attempt(fn):
        try:
            return fn()
        except edit.EditImpossible as err:
            return repr(err)

    fast = attempt(lambda: edit.set_root_keys(text, values))
    assert fast == attempt(lambda: _tomlkit_set_root_keys(text, values, monkeypatch))


def test_a_value_that_needs_quoting_goes_through_tomlkit(monkeypatch) -> None:
    text = 'model = "a"\n'
    for value in ('say "hi"', "back\\slash", "tab\there", "é"):
        assert edit.set_root_keys(text, {"model": value}) == _tomlkit_set_root_keys(text, {"model": value}, monkeypatch)


_keys = st.one_of(
    st.sampled_from(["name", "base_url", "env_key", "auth", "aws", "args", "api-version", "X-Key"]),
    st.text(st.characters(min_codepoint=32, max_codepoint=0x7E), min_size=1, max_size=6),
)
_scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.text(st.characters(min_codepoint=32, max_codepoint=0x2030), max_size=12),  # mostly plain
    st.text(max_size=6),  # any character: quotes, backslashes, controls
    st.floats(),
)
_values = st.one_of(
    _scalars,
    st.lists(_scalars, max_size=3),
    st.dictionaries(_keys, _scalars, max_size=3),
    st.dictionaries(_keys, st.one_of(_scalars, st.dictionaries(_keys, _scalars, max_size=2)), max_size=3),
)


def _tomlkit_render(key_path: tuple[str, ...], table: dict[str, Any], monkeypatch) -> str:
    with monkeypatch.context() as m:
        m.setattr(edit, "_render_plain_section", lambda *_: None)
        return edit.render_section(key_path, table)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    pid=st.one_of(st.sampled_from(["acme", "a-b_1"]), st.text(min_size=1, max_size=5)),
    table=st.dictionaries(_keys, _values, max_size=6),
)
def test_sections_rendered_without_tomlkit_match_tomlkit(pid: str, table: dict[str, Any], monkeypatch) -> None:
    fast = edit._render_plain_section(("model_providers", pid), table)
    if fast is not None:
        assert fast == _tomlkit_render(("model_providers", pid), table, monkeypatch)


def test_provider_tables_render_without_tomlkit(monkeypatch) -> None:
    table = {
        "name": "Acme",
        "base_url": "https://api.acme.example/v1",
        "env_key": "ACME_API_KEY",
        "wire_api": "responses",
        "query_params": {"api-version": "2025-04-01-preview"},
        "http_headers": {"X-Title": "codexprov", "HTTP-Referer": "https://example.org"},
        "auth": {"command": "/usr/bin/codexprov", "args": ["token", "acme"], "timeout_ms": 5000},
        "request_max_retries": 4,
        "supports_websockets": False,
        "experimental_bearer_token": "sk-…abcd",
    }
    fast = edit._render_plain_section(("model_providers", "acme"), table)
    assert fast is not None
    assert fast == _tomlkit_render(("model_providers", "acme"), table, monkeypatch)


BIG = "".join(f'[projects."/home/u/p{i}"]\ntrust_level = "trusted"\n\n' for i in range(50))
HEAD = (
    'model = "m"\nmodel_provider = "openai"\n\n[model_providers.acme]\nname = "Acme"\n'
    'base_url = "http://127.0.0.1:9/v1"\nenv_key = "K"\n\n'
)


def _snap(text: str, tmp_path: Path):
    file = tmp_path / "config.toml"
    file.write_text(text)
    return load(file)


@pytest.mark.parametrize(
    ("old", "new", "verdict"),
    [
        (HEAD + BIG, HEAD.replace('"openai"', '"acme"') + BIG, "scoped"),
        (HEAD + BIG, 'model_provider = "acme"\n\n' + HEAD.split("\n\n", 1)[1] + BIG, "scoped"),  # model removed
        # a new root key that a table below also defines: the full parse decides (here: refused)
        (HEAD + BIG, "projects = 1\n" + HEAD + BIG, "invalid"),
        # a root key whose table the sections below add to (`tui.a` and [tui.b])
        ("tui.a = 1\n\n[tui.b]\nc = 2\n", "tui.a = 2\n\n[tui.b]\nc = 2\n", "full"),
        # the new root lines do not end their last line: the header would be glued to it
        (HEAD + BIG, HEAD.rstrip("\n") + BIG, "invalid"),
        # an unterminated string swallows the tables below
        (HEAD + BIG, 'x = """\n' + HEAD + BIG, "invalid"),
        # a change below the root: not this shortcut
        (HEAD + BIG, HEAD + BIG.replace("p7", "q7"), "full"),
    ],
)
def test_root_only_verification_agrees_with_a_full_parse(old: str, new: str, verdict: str, tmp_path: Path) -> None:
    snap = _snap(old, tmp_path)
    quick = transaction._parse_root_edit(snap, new, snap.path)
    if verdict == "invalid":
        assert quick is None
        with pytest.raises(ConfigError):
            parse(new, snap.path)
        return
    full = parse(new, snap.path)
    if verdict == "full":
        assert quick is None
    else:
        assert quick == full and list(quick) == list(full)
        assert list(quick["projects"]) == list(full["projects"])


def test_use_backs_up_through_a_hard_link_and_keeps_the_file_mode(config_file: Path) -> None:
    text = HEAD + BIG
    config_file.write_text(text)
    config_file.chmod(0o640)
    paths = paths_mod.resolve()
    result = providers.use_provider(paths, "acme")
    assert result.backup is not None
    assert result.backup.read_text() == text
    assert stat.S_IMODE(result.backup.stat().st_mode) == 0o600
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o640
    assert result.backup.stat().st_nlink == 1 and config_file.stat().st_nlink == 1
    assert config_file.read_text() == text.replace('model_provider = "openai"', 'model_provider = "acme"')
    transaction.undo(paths)
    assert config_file.read_text() == text


def test_a_file_with_another_name_is_backed_up_as_a_copy(config_file: Path, tmp_path: Path) -> None:
    text = HEAD
    config_file.write_text(text)
    other = tmp_path / "elsewhere.toml"
    config_file.chmod(0o644)
    os.link(config_file, other)
    result = providers.use_provider(paths_mod.resolve(), "acme")
    assert result.backup is not None and result.backup.stat().st_nlink == 1
    assert result.backup.read_text() == text == other.read_text()
    assert stat.S_IMODE(other.stat().st_mode) == 0o644  # the user's other name is left as it was


# ---------------------------------------------------------------------------- token's direct read


def test_token_hmac_is_hmac_sha256() -> None:
    import hashlib
    import hmac

    from codexprov.token import _hmac_sha256

    for key, message in ((b"\x00" * 32, b"shared secret" * 10), (os.urandom(32), b"\x01"), (b"", b"")):
        assert _hmac_sha256(key, message) == hmac.new(key, message, hashlib.sha256).digest()


@pytest.mark.keyring
@pytest.mark.parametrize("key", ["sk-plain-0123456789abcdef", "ключ-with-ü-and-🔑", "x" * 300, "15bytes-exactly"])
def test_token_reads_what_keyring_wrote_straight_from_the_secret_service(provider_id: str, key: str) -> None:
    """The encrypted session (DH, HKDF, AES-CBC, PKCS#7 padding of any length) against the real
    gnome-keyring, for what keyring itself stored and reads back."""
    import keyring

    from codexprov import token

    keyring.set_password("codexprov", provider_id, key)
    assert token._secret_service_direct(provider_id) == key == keyring.get_password("codexprov", provider_id)
    assert token._secret_service_direct(provider_id + "-none") is None
    assert token._secret_service_direct(provider_id, service="another-service") is None


def test_token_aes_decrypts_as_fips_197_and_cryptography_say() -> None:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    from codexprov.token import _aes128_cbc_decrypt

    # FIPS-197 appendix C.1 (one block; CBC with a zero IV is the bare cipher)
    key, cipher = bytes(range(16)), bytes.fromhex("69c4e0d86a7b0430d8cdb78070b4c55a")
    assert _aes128_cbc_decrypt(key, bytes(16), cipher).hex() == "00112233445566778899aabbccddeeff"
    for size in (16, 32, 48, 160, 320):
        key, iv, plain = os.urandom(16), os.urandom(16), os.urandom(size)
        encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
        assert _aes128_cbc_decrypt(key, iv, encryptor.update(plain) + encryptor.finalize()) == plain


@pytest.mark.parametrize("kind", ["state", "config"])
@pytest.mark.parametrize("xdg", [None, "", "relative/dir", "/abs/xdg", "/abs/xdg/"])
@pytest.mark.parametrize("home", ["/home/someone", "/home/someone/", "/"])
def test_user_dirs_are_platformdirs_own(kind: str, xdg: str | None, home: str, monkeypatch) -> None:
    import platformdirs

    var = "XDG_STATE_HOME" if kind == "state" else "XDG_CONFIG_HOME"
    monkeypatch.setenv("HOME", home)
    if xdg is None:
        monkeypatch.delenv(var, raising=False)
    else:
        monkeypatch.setenv(var, xdg)
    expected = platformdirs.user_state_dir if kind == "state" else platformdirs.user_config_dir
    assert paths_mod.user_dir(kind) == Path(expected("codexprov", appauthor=False))


def test_which_finds_what_shutil_which_finds(tmp_path: Path, monkeypatch) -> None:
    import shutil

    from codexprov.codex.version import _which

    plain, folder, executable, linked = (tmp_path / n for n in ("plain", "folder", "exe", "link"))
    for d in (plain, folder, executable, linked):
        d.mkdir()
    (plain / "codex").write_text("not executable")
    (folder / "codex").mkdir()
    (executable / "codex").write_text("#!/bin/sh\n")
    (executable / "codex").chmod(0o755)
    (linked / "codex").symlink_to(executable / "codex")
    monkeypatch.chdir(executable)  # an empty PATH entry is the working folder
    for entries in (
        [plain, folder, executable],
        [folder, linked, executable],
        [plain, plain, folder],
        ["", plain],
        [plain, ""],
        [],
        [tmp_path / "missing", executable],
    ):
        search = os.pathsep.join(map(str, entries))
        for name in ("codex", "nothing-by-this-name"):
            assert _which(name, search) == shutil.which(name, path=search), (entries, name)


class _FakeSecretService:
    """What token._call sends, answered as a Secret Service would: (path, interface, method) -> reply."""

    def __init__(self, replies: dict[tuple[str, str], Any]) -> None:
        self.replies = replies
        self.calls: list[tuple[str, str]] = []

    def __call__(self, connection: Any, path: str, interface: str, method: str, signature: str = "", *body: Any):
        key = (method, body[1] if method == "Get" else body[0] if method == "OpenSession" else path)
        self.calls.append(key)
        reply = self.replies[key]
        if isinstance(reply, Exception):
            raise reply
        return reply


def _not_supported() -> Exception:
    from jeepney import DBusAddress, new_error, new_method_call
    from jeepney.wrappers import DBusErrorResponse

    call = new_method_call(DBusAddress("/org/freedesktop/secrets", "org.freedesktop.secrets"), "OpenSession")
    return DBusErrorResponse(new_error(call, "org.freedesktop.DBus.Error.NotSupported"))


def test_token_falls_back_to_a_plain_session_only_when_encryption_is_not_supported(monkeypatch) -> None:
    from codexprov import token

    item = "/org/freedesktop/secrets/collection/login/7"
    fake = _FakeSecretService(
        {
            ("Get", "Locked"): (("b", False),),
            ("SearchItems", "/org/freedesktop/secrets/aliases/default"): ([item],),
            ("OpenSession", "dh-ietf1024-sha256-aes128-cbc-pkcs7"): _not_supported(),
            ("OpenSession", "plain"): (("s", ""), "/org/freedesktop/secrets/session/1"),
            ("GetSecret", item): (("/org/freedesktop/secrets/session/1", b"", b"sk-plain-key", "text/plain"),),
        }
    )
    monkeypatch.setattr(token, "_call", fake)
    assert token._read_secret(None, {"username": "acme", "service": "codexprov"}) == "sk-plain-key"
    assert ("OpenSession", "plain") in fake.calls


@pytest.mark.parametrize("locked", ["collection", "item"])
def test_token_leaves_a_locked_keyring_to_keyring(monkeypatch, locked: str) -> None:
    """keyring would prompt to unlock: the direct read gives no answer (and asks for no secret)."""
    from codexprov import token

    item = "/org/freedesktop/secrets/collection/login/7"
    states = iter([locked == "collection", locked == "item"])
    fake = _FakeSecretService({("SearchItems", "/org/freedesktop/secrets/aliases/default"): ([item],)})

    def answer(connection, path, interface, method, signature="", *body):
        if method == "Get":
            fake.calls.append(("Get", path))
            return (("b", next(states)),)
        return fake(connection, path, interface, method, signature, *body)

    monkeypatch.setattr(token, "_call", answer)
    assert token._read_secret(None, {"username": "acme", "service": "codexprov"}) is None
    assert not any(method in ("OpenSession", "GetSecret") for method, _ in fake.calls)
