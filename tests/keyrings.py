"""In-memory keyring backends for unit tests (the `memory_keyring` fixture in conftest.py installs
one). Real KeyringBackend subclasses, so codexprov's wrapper treats them as it treats an OS keyring."""

from __future__ import annotations

import keyring.backend
import keyring.errors


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A real KeyringBackend that keeps passwords in a dict (units never touch an OS keyring)."""

    # KeyringBackend's metaclass registers every subclass for keyring's own discovery: a negative
    # priority keeps these test backends out of it (and out of the chainer) in the real-keyring tests.
    priority = -1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}
        self.fail_with: Exception | None = None

    def _check(self) -> None:
        if self.fail_with is not None:
            raise self.fail_with

    def get_password(self, service, username):
        self._check()
        return self.entries.get((service, username))

    def set_password(self, service, username, password):
        self._check()
        self.entries[(service, username)] = password

    def delete_password(self, service, username):
        self._check()
        if (service, username) not in self.entries:
            raise keyring.errors.PasswordDeleteError("not found")
        del self.entries[(service, username)]


class PlaintextKeyring(MemoryKeyring):
    """Stands in for keyrings.alt's PlaintextKeyring (matched by name)."""
