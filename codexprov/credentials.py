"""The one wrapper around the OS keyring: keys are stored under service "codexprov", one entry per
provider id.

`open_store()` refuses backends that would keep a key somewhere worse than the OS keyring (the
fail and null backends, plain-text or terminal-prompting file backends, a chainer with nothing to
chain) and says which backend it found and the ways out. It never falls back to a file.
Every `keyring.errors.KeyringError` (a locked collection included) becomes a
`KeyringUnavailableError` where it enters.

`keyring` is imported lazily: importing this module costs nothing, so commands that never touch a
key do not pay for keyring's backend discovery.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from codexprov.errors import KeyringUnavailableError, UsageError
from codexprov.model import AuthCommand, check_provider_id
from codexprov.redact import redact_text, remember

SERVICE = "codexprov"
EXECUTABLE_NAME = "codexprov"

WAYS_OUT = (
    "Start a Secret Service (a desktop session's GNOME Keyring or KWallet, "
    "`gnome-keyring-daemon --start --components=secrets` inside a D-Bus session, or KeePassXC with "
    "its Secret Service integration), install a keyring backend into codexprov's environment, or "
    "keep the key in an environment variable with `--key-mode env`."
)


def backend_name(backend: Any) -> str:
    """`keyring.backends.SecretService.Keyring`: the name PYTHON_KEYRING_BACKEND would take."""
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def backend_label(backend: Any) -> str:
    """A short name for messages: `SecretService`, `macOS`, `Windows WinVaultKeyring`."""
    module = type(backend).__module__.rsplit(".", 1)[-1]
    cls = type(backend).__qualname__
    return module if cls == "Keyring" else f"{module} {cls}"


def unusable_reason(backend: Any) -> str | None:
    """Why `backend` must not hold keys, or None when it is a real OS keyring."""
    module = type(backend).__module__
    cls = type(backend).__qualname__
    if module == "keyring.backends.fail":
        return "keyring found no usable backend (it chose its `fail` placeholder)"
    if module == "keyring.backends.null":
        return "the keyring is disabled (the `null` backend is configured)"
    if "plaintext" in cls.lower() or "plaintext" in module.lower():
        return "that backend stores keys in a plain-text file"
    if module.startswith("keyrings.alt.file") or module == "keyrings.cryptfile.cryptfile":
        return "that backend keeps keys in a file locked by a password typed on a terminal, which Codex cannot type"
    if module == "keyring.backends.chainer":
        chained = list(backend.backends)
        if not chained:
            return "the chainer backend has no backend to chain"
        for member in chained:
            reason = unusable_reason(member)
            if reason is not None:
                return f"it chains {backend_name(member)}, and {reason}"
    return None


def _backend_origin() -> str:
    """Where keyring's choice came from, so the user knows what to change."""
    if os.environ.get("PYTHON_KEYRING_BACKEND"):
        return f"PYTHON_KEYRING_BACKEND={os.environ['PYTHON_KEYRING_BACKEND']}"
    try:
        from keyring.core import _config_path

        path = Path(_config_path())
    except Exception:  # noqa: BLE001 - a diagnostic only; never let it hide the real error
        return "keyring's automatic detection"
    return f"{path}" if path.exists() else "keyring's automatic detection"


def _linux_diagnosis() -> list[str]:
    """Why no Secret Service was found, in the user's terms (Linux and other D-Bus systems)."""
    lines = []
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        lines.append(
            "DBUS_SESSION_BUS_ADDRESS is not set: there is no D-Bus session (typical over SSH, in WSL or in a container)."
        )
    else:
        try:
            from keyring.backends import SecretService

            SecretService.Keyring.priority  # noqa: B018 - raises RuntimeError naming the cause
        except Exception as err:  # noqa: BLE001 - the reason is the message
            lines.append(f"Secret Service: {redact_text(str(err))}")
    try:
        if "microsoft" in Path("/proc/version").read_text(encoding="utf-8", errors="replace").lower():
            lines.append("This looks like WSL, which has no Secret Service unless you start one.")
    except OSError:
        pass
    return lines


def unavailable_error(backend: Any, reason: str, *, origin: str | None = None) -> KeyringUnavailableError:
    origin = origin or _backend_origin()
    detail = [f"backend: {backend_name(backend)} (chosen by {origin})"]
    if sys.platform.startswith("linux") and type(backend).__module__ in (
        "keyring.backends.fail",
        "keyring.backends.chainer",
    ):
        detail += _linux_diagnosis()
    return KeyringUnavailableError(
        f"no usable keyring: {reason}; codexprov will not store keys in a file instead",
        detail="\n".join(detail),
        hint=WAYS_OUT,
    )


def _is_backend_error(err: BaseException) -> bool:
    """Errors raised by keyring or by the D-Bus libraries under its Secret Service backend."""
    from keyring.errors import KeyringError

    if isinstance(err, KeyringError):
        return True
    module = type(err).__module__ or ""
    return module.split(".", 1)[0] in ("secretstorage", "jeepney", "dbus", "gi")


@contextmanager
def _translated(store: KeyStore, action: str, provider_id: str) -> Iterator[None]:
    try:
        yield
    except Exception as err:
        from keyring.errors import KeyringLocked, NoKeyringError

        if isinstance(err, KeyringLocked):
            raise KeyringUnavailableError(
                f"the keyring is locked: cannot {action} the key for '{provider_id}'",
                detail=f"backend: {store.backend_name}",
                hint="Unlock your login keyring (log in to the desktop session, or unlock it in your "
                "keyring manager), then run the command again.",
            ) from None
        if isinstance(err, NoKeyringError):
            raise unavailable_error(store.backend, "keyring found no usable backend") from None
        if not _is_backend_error(err):
            raise
        raise KeyringUnavailableError(
            f"the keyring ({store.label}) failed to {action} the key for '{provider_id}': "
            f"{redact_text(str(err)) or type(err).__name__}",
            detail=f"backend: {store.backend_name}",
            hint="Check that the keyring daemon is running and unlocked. " + WAYS_OUT,
        ) from None


def check_secret(secret: str) -> str:
    """The key as it will be stored: surrounding whitespace removed, nothing else changed."""
    secret = secret.strip()
    if not secret:
        raise UsageError("the key is empty; nothing was stored")
    if any(ch in secret for ch in "\r\n\0"):
        raise UsageError("the key spans several lines; give it on one line")
    return secret


class KeyStore:
    """Keys by provider id in one keyring backend. Construct it with `open_store()`."""

    def __init__(self, backend: Any, *, service: str = SERVICE):
        self.backend = backend
        self.service = service

    @property
    def backend_name(self) -> str:
        return backend_name(self.backend)

    @property
    def label(self) -> str:
        return backend_label(self.backend)

    def get(self, provider_id: str) -> str | None:
        with _translated(self, "read", provider_id):
            value = self.backend.get_password(self.service, provider_id)
        remember(value)  # whatever is shown later, this key is masked in it
        return value if value else None

    def set(self, provider_id: str, secret: str) -> None:
        check_provider_id(provider_id)
        secret = check_secret(secret)
        remember(secret)
        with _translated(self, "store", provider_id):
            self.backend.set_password(self.service, provider_id, secret)

    def delete(self, provider_id: str) -> bool:
        """Deletes the key; False when there was none."""
        if self.get(provider_id) is None:
            return False
        from keyring.errors import PasswordDeleteError

        with _translated(self, "delete", provider_id):
            try:
                self.backend.delete_password(self.service, provider_id)
            except PasswordDeleteError:
                # Gone between the read and the delete (another codexprov): not this call's doing.
                if self.backend.get_password(self.service, provider_id) is None:
                    return False
                raise
        return True


def remember_stored_keys(provider_ids: list[str]) -> None:
    """Make the redaction boundary know the keyring's keys for these ids, for output that can quote
    a key codexprov did not read itself (the bridge's log). Reading them is the point: the keyring
    is opened only by commands that show such output, never by `list`. No keyring: nothing to know."""
    try:
        store = open_store()
        for provider_id in provider_ids:
            store.get(provider_id)  # KeyStore.get remembers what it reads
    except (KeyringUnavailableError, UsageError):
        return


def open_store(backend: Any | None = None) -> KeyStore:
    """The keyring as codexprov uses it, or KeyringUnavailableError saying why not and what to do.

    `backend` defaults to keyring's own choice (PYTHON_KEYRING_BACKEND, then keyringrc.cfg, then
    the best detected backend).
    """
    if backend is None:
        try:
            import keyring
            import keyring.errors

            backend = keyring.get_keyring()
        except (ImportError, AttributeError, RuntimeError, ValueError) as err:
            # A PYTHON_KEYRING_BACKEND or keyringrc.cfg naming a missing or unusable class.
            raise KeyringUnavailableError(
                f"no usable keyring: the configured backend cannot be loaded ({redact_text(str(err)) or type(err).__name__})",
                detail=f"configured by {_backend_origin()}",
                hint="Fix or remove that setting. " + WAYS_OUT,
            ) from None
    reason = unusable_reason(backend)
    if reason is not None:
        raise unavailable_error(backend, reason)
    return KeyStore(backend)


# --------------------------------------------------------------------------- the auth command


def codexprov_executable() -> list[str]:
    """How Codex should start codexprov: an absolute path, so that it works when Codex is started
    from a GUI or an IDE with a minimal PATH.

    The running `codexprov` script when that is what runs; else the script installed next to this
    interpreter (a venv or pipx); else the one on PATH; else this interpreter with `-m codexprov`.
    """
    names = (EXECUTABLE_NAME, EXECUTABLE_NAME + ".exe")
    argv0 = sys.argv[0] if sys.argv else ""
    if argv0 and Path(argv0).name in names and Path(argv0).is_file():
        return [os.path.abspath(argv0)]
    bindir = Path(sys.executable).parent
    for name in names:
        candidate = bindir / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return [str(candidate.absolute())]
    import shutil

    found = shutil.which(EXECUTABLE_NAME)
    if found:
        return [os.path.abspath(found)]
    return [os.path.abspath(sys.executable), "-m", "codexprov"]


def token_auth(provider_id: str, *, executable: list[str] | None = None) -> AuthCommand:
    """The `[model_providers.ID.auth]` table that makes Codex read the key from the keyring."""
    check_provider_id(provider_id)
    command, *prefix = executable or codexprov_executable()
    return AuthCommand(command=command, args=(*prefix, "token", provider_id))


def is_token_auth(auth: Any, provider_id: str) -> bool:
    """Whether an `auth` table (dict or AuthCommand) runs `codexprov token ID` for this provider."""
    command: object
    args: object
    if isinstance(auth, AuthCommand):
        command, args = auth.command, list(auth.args)
    elif isinstance(auth, dict):
        command, args = auth.get("command"), auth.get("args") or []
    else:
        return False
    if not isinstance(command, str) or not isinstance(args, list):
        return False
    if args[-2:] != ["token", provider_id]:
        return False
    stem = Path(command).name.lower().removesuffix(".exe")
    return stem == EXECUTABLE_NAME or args[:-2] == ["-m", "codexprov"]
