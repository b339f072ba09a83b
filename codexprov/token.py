"""`codexprov token ID`: print a provider's key from the keyring, for Codex's provider auth command.

Codex runs this when it starts and whenever it refreshes the token, so it is dispatched from
`codexprov/__main__.py` before typer is imported, and it imports nothing but keyring and three
small codexprov modules (no typer, rich, httpx or tomlkit).

Speed: most of a bare `keyring.get_password()` is backend discovery, which loads every entry
point in the `keyring.backends` group, imports every backend (the macOS one runs
`ctypes.util.find_library`, i.e. subprocesses, even on Linux) and asks each whether it is viable.
We skip that when it cannot change the answer:

0. On Linux with a D-Bus session and no keyring configuration at all (no PYTHON_KEYRING_BACKEND,
   no keyringrc.cfg, no KEYRING_PROPERTY_* variables), keyring's choice is the Secret Service, so
   we ask it directly over D-Bus (jeepney, the library under keyring's own backend), for the
   item keyring's backend writes (attributes service=codexprov, username=ID, in the default
   collection), without importing keyring at all. Anything unexpected on this path (no
   collection, locked, no item, any error) is not an answer: we go on to step 1.
1. PYTHON_KEYRING_BACKEND set, or a keyringrc.cfg naming a backend: keyring would use exactly that
   backend without discovery, and so do we (same functions: `keyring.core.load_env/load_config`).
2. Otherwise the platform's native keyring (the Secret Service when a D-Bus session exists, the
   macOS Keychain, the Windows Credential Locker), which is what keyring's discovery picks unless
   a plugin outranks it. A key found there is printed at once; when it has none, or fails, we
   run keyring's full discovery and read through whatever it picks, exactly as
   `keyring.get_password()` would. (The one case this shortcut answers differently: a plugin that
   outranks the native keyring holds a *different* key for the same provider than the native
   keyring does; `codexprov key set` writes through the full discovery and would not create that.)

Output contract (what Codex reads): stdout is the key alone plus a newline, exit 0. Anything
else is a non-zero exit with one line on stderr, which Codex shows in its error.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

# Equal to codexprov.credentials.SERVICE (a test checks); repeated so that step 0 below imports
# nothing from codexprov but this module.
SERVICE = "codexprov"
USAGE = "usage: codexprov token PROVIDER_ID  (prints the provider's key from the keyring, for Codex)"


def _keyringrc_path() -> Path:
    """Where keyring looks for keyringrc.cfg on Linux (keyring.util.platform_._config_root_Linux)."""
    root = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(root, "python_keyring", "keyringrc.cfg")


def _secret_service_direct(provider_id: str, service: str = SERVICE) -> str | None:
    """Step 0 above: the key straight from the Secret Service, or None to ask keyring."""
    if sys.platform in ("darwin", "win32") or not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return None
    if os.environ.get("PYTHON_KEYRING_BACKEND") or any(k.startswith("KEYRING_PROPERTY_") for k in os.environ):
        return None
    if _keyringrc_path().exists():
        return None
    try:
        from jeepney.io.blocking import open_dbus_connection  # type: ignore[import-untyped]

        connection = open_dbus_connection(bus="SESSION")
    except Exception:  # noqa: BLE001 - no answer here; keyring decides and explains
        return None
    try:
        return _read_secret(connection, {"username": provider_id, "service": service})
    except Exception:  # noqa: BLE001 - as above
        return None
    finally:
        connection.close()


# The Secret Service API as keyring's backend uses it (through secretstorage): the item in the
# default collection, read over an encrypted session (dh-ietf1024-sha256-aes128-cbc-pkcs7, the
# algorithm secretstorage asks for; `plain` only where the service offers nothing else). Spoken
# here with jeepney directly: secretstorage's import loads cryptography's whole OpenSSL backend and
# its calls ask the service 8 times where 5 answer (`codex` waits for this on every start).
_SECRETS = "org.freedesktop.secrets"
_DH_PRIME_1024 = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF",
    16,
)  # RFC 2409's second Oakley group, as the Secret Service specification names it


def _call(connection: Any, path: str, interface: str, method: str, signature: str = "", *body: Any) -> Any:
    from jeepney import DBusAddress, new_method_call  # type: ignore[import-untyped]
    from jeepney.wrappers import unwrap_msg  # type: ignore[import-untyped]

    address = DBusAddress(path, bus_name=_SECRETS, interface=interface)
    return unwrap_msg(connection.send_and_get_reply(new_method_call(address, method, signature, body), timeout=10))


def _locked(connection: Any, path: str, interface: str) -> bool:
    (_, value) = _call(connection, path, "org.freedesktop.DBus.Properties", "Get", "ss", interface, "Locked")[0]
    return bool(value)


def _read_secret(connection: Any, attributes: dict[str, str]) -> str | None:
    collection = "/org/freedesktop/secrets/aliases/default"  # where keyring reads and writes
    if _locked(connection, collection, "org.freedesktop.Secret.Collection"):
        return None  # keyring would prompt to unlock; let it
    (items,) = _call(connection, collection, "org.freedesktop.Secret.Collection", "SearchItems", "a{ss}", attributes)
    if not items:
        return None
    item = items[0]
    if _locked(connection, item, "org.freedesktop.Secret.Item"):
        return None
    session, aes_key = _open_session(connection)
    ((_, parameters, value, _),) = _call(connection, item, "org.freedesktop.Secret.Item", "GetSecret", "o", session)
    if aes_key is not None:
        padded = _aes128_cbc_decrypt(aes_key, bytes(parameters), bytes(value))
        if not 1 <= padded[-1] <= 16 or padded[-padded[-1] :] != bytes([padded[-1]]) * padded[-1]:
            return None  # not PKCS#7: not an answer (keyring explains)
        value = padded[: -padded[-1]]
    return bytes(value).decode("utf-8") or None


def _open_session(connection: Any) -> tuple[str, bytes | None]:
    """(the session's path, its AES key; None for a `plain` session)."""
    from jeepney.wrappers import DBusErrorResponse

    # A 256-bit private exponent: twice the ~80-bit strength of this 1024-bit group, as RFC 3526 §8
    # advises (a full-size one buys nothing, and each of its two pow() calls costs ~2.5 ms).
    private = int.from_bytes(os.urandom(32), "big")
    public = pow(2, private, _DH_PRIME_1024).to_bytes(128, "big")
    path = "/org/freedesktop/secrets"
    try:
        (output, session) = _call(
            connection,
            path,
            "org.freedesktop.Secret.Service",
            "OpenSession",
            "sv",
            "dh-ietf1024-sha256-aes128-cbc-pkcs7",
            ("ay", public),
        )
    except DBusErrorResponse as err:
        if err.name != "org.freedesktop.DBus.Error.NotSupported":
            raise
        (_, session) = _call(
            connection, path, "org.freedesktop.Secret.Service", "OpenSession", "sv", "plain", ("s", "")
        )
        return session, None
    shared = pow(int.from_bytes(output[1], "big"), private, _DH_PRIME_1024).to_bytes(128, "big")
    # HKDF-SHA256 with a zero salt and no info, one block: the first 16 bytes are the AES-128 key.
    prk = _hmac_sha256(b"\x00" * 32, shared)
    return session, _hmac_sha256(prk, b"\x01")[:16]


def _aes128_cbc_decrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    """AES-128 (FIPS-197) in CBC mode, decryption only, for the few blocks of one secret: loading
    cryptography's OpenSSL bindings for them costs `codexprov token` ~8 ms, this ~0.3 ms.
    tests/test_speed_paths.py checks it against FIPS-197's vector and against cryptography."""
    exp, log = [0] * 510, [0] * 256  # powers and logarithms of 3 in GF(2^8)
    x = 1
    for i in range(255):
        exp[i] = exp[i + 255] = x
        log[x] = i
        x ^= (x << 1) ^ (0x11B if x & 0x80 else 0)  # x * 3
    sbox = [0] * 256
    for a in range(256):
        b = exp[255 - log[a]] if a else 0
        s = b
        for _ in range(4):
            b = ((b << 1) | (b >> 7)) & 0xFF
            s ^= b
        sbox[a] = s ^ 0x63
    inverse = [0] * 256
    for a, s in enumerate(sbox):
        inverse[s] = a
    m9, m11, m13, m14 = ([exp[log[a] + log[c]] if a else 0 for a in range(256)] for c in (9, 11, 13, 14))
    w = list(key)  # the key schedule: 11 round keys of 16 bytes
    rcon = 1
    while len(w) < 176:
        t = w[-4:]
        if len(w) % 16 == 0:
            t = [sbox[t[1]] ^ rcon, sbox[t[2]], sbox[t[3]], sbox[t[0]]]
            rcon = ((rcon << 1) ^ (0x11B if rcon & 0x80 else 0)) & 0xFF
        w += [w[len(w) - 16 + i] ^ t[i] for i in range(4)]
    out = bytearray()
    previous = iv
    for start in range(0, len(data), 16):
        block = data[start : start + 16]
        state = [b ^ k for b, k in zip(block, w[160:176], strict=True)]
        for round_ in range(9, -1, -1):
            # InvShiftRows + InvSubBytes (byte r of column c comes from column c - r), AddRoundKey
            state = [inverse[state[(i & 3) + 4 * (((i >> 2) - (i & 3)) & 3)]] ^ w[16 * round_ + i] for i in range(16)]
            if round_:  # InvMixColumns
                mixed = []
                for c in range(0, 16, 4):
                    a0, a1, a2, a3 = state[c : c + 4]
                    mixed += [
                        m14[a0] ^ m11[a1] ^ m13[a2] ^ m9[a3],
                        m9[a0] ^ m14[a1] ^ m11[a2] ^ m13[a3],
                        m13[a0] ^ m9[a1] ^ m14[a2] ^ m11[a3],
                        m11[a0] ^ m13[a1] ^ m9[a2] ^ m14[a3],
                    ]
                state = mixed
        out += bytes(b ^ p for b, p in zip(state, previous, strict=True))
        previous = block
    return bytes(out)


def _hmac_sha256(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256 (RFC 2104) over the interpreter's own SHA-256: `hmac` loads OpenSSL's (~2 ms)."""
    try:
        from _sha256 import sha256  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - other Pythons
        from hashlib import sha256
    key = key.ljust(64, b"\x00")  # keys here are 32 bytes, under SHA-256's 64-byte block
    inner = sha256(bytes(b ^ 0x36 for b in key) + message).digest()
    return sha256(bytes(b ^ 0x5C for b in key) + inner).digest()


def _native_backend() -> Any | None:
    """The backend keyring's discovery picks on this platform when no plugin outranks it."""
    if sys.platform == "darwin":
        from keyring.backends import macOS

        return macOS.Keyring()
    if sys.platform == "win32":
        from keyring.backends import Windows

        return Windows.WinVaultKeyring()
    if os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        from keyring.backends import SecretService

        return SecretService.Keyring()
    return None


def _configured_backend() -> Any | None:
    """The backend named by PYTHON_KEYRING_BACKEND or keyringrc.cfg, loaded the way keyring does."""
    from keyring import core

    return core.load_env() or core.load_config()


def read_key(provider_id: str, service: str = SERVICE) -> tuple[str | None, str]:
    """(the key or None, the backend's short label). Raises KeyringUnavailableError.

    `service` is the keyring service name: codexprov's for provider keys, the bridge's for its
    master key (codexprov.bridge.layout.MASTER_KEY_SERVICE)."""
    direct = _secret_service_direct(provider_id, service)
    if direct is not None:
        return direct, "SecretService"

    from codexprov.credentials import KeyStore, open_store
    from codexprov.errors import KeyringUnavailableError

    def open_for_service(backend: Any = None) -> Any:
        store = open_store(backend)
        return store if service == SERVICE else KeyStore(store.backend, service=service)

    try:
        configured = _configured_backend()
    except (ImportError, AttributeError, RuntimeError, ValueError):
        # A setting naming a missing or unviable backend: open_store() loads it again and explains.
        return _read_through(open_for_service(), provider_id)
    if configured is not None:
        return _read_through(open_for_service(configured), provider_id)

    try:
        native = _native_backend()
    except Exception:  # noqa: BLE001 - the shortcut failing is not an answer; discovery decides
        native = None
    if native is not None:
        try:
            value = KeyStore(native, service=service).get(provider_id)
        except KeyringUnavailableError:
            value = None  # e.g. no Secret Service behind the bus: let discovery pick and explain
        if value is not None:
            return value, KeyStore(native).label
    return _read_through(open_for_service(), provider_id)


def _read_through(store: Any, provider_id: str) -> tuple[str | None, str]:
    return store.get(provider_id), store.label


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0].startswith("-"):
        if argv[:1] in (["-h"], ["--help"]):
            sys.stdout.write(USAGE + "\n")
            return 0
        sys.stderr.write(USAGE + "\n")
        return 2
    provider_id = argv[0]

    # A provider behind the bridge gets the bridge's master key, once the bridge answers (started
    # here when it is down). Costs one small file read for the others.
    from codexprov.bridge import autostart

    bridged = autostart.lookup(provider_id)
    if bridged is not None:
        return autostart.serve_token(*bridged, read_key=read_key)
    elsewhere = autostart.bridged_elsewhere(provider_id)
    if elsewhere is not None:
        sys.stderr.write(f"codexprov token: {elsewhere}\n")
        return 5

    from codexprov.errors import CodexprovError

    try:
        secret, label = read_key(provider_id)
    except CodexprovError as err:
        # One line: Codex shows it inside its own error message.
        sys.stderr.write(f"codexprov token: {err.message}" + (f" ({err.hint})" if err.hint else "") + "\n")
        return err.exit_code
    if secret is None:
        sys.stderr.write(
            f"codexprov token: no key for provider '{provider_id}' in the keyring ({label}); "
            f"store one with `codexprov key set {provider_id}`\n"
        )
        return 4
    sys.stdout.write(secret + "\n")
    sys.stdout.flush()
    return 0
