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
   we ask it directly through `secretstorage` (the library keyring's own backend uses), for the
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
        from contextlib import closing

        import secretstorage

        connection = secretstorage.dbus_init()
    except Exception:  # noqa: BLE001 - no answer here; keyring decides and explains
        return None
    try:
        with closing(connection):
            collection = secretstorage.Collection(connection)  # the "default" alias, as keyring reads it
            if collection.is_locked():
                return None  # keyring would prompt to unlock; let it
            for item in collection.search_items({"username": provider_id, "service": service}):
                if item.is_locked():
                    return None
                return item.get_secret().decode("utf-8") or None
    except Exception:  # noqa: BLE001 - as above
        return None
    return None


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
