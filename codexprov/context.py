"""The one context a command hands to the core (pipx's DispatchContext, pdm's Project, hatch's
Application): where the files are, the environment, and, built lazily and once, the installed
Codex's info, the key store and the bridge's layout.

The CLI builds it once from the global options (`codexprov.cli.app.context()`); a use case takes it
instead of building its own dependencies. Nothing heavy is imported until a use case asks for it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from codexprov.paths import Paths

if TYPE_CHECKING:
    from codexprov.bridge.layout import Layout
    from codexprov.codex.version import CodexInfo
    from codexprov.credentials import KeyStore


@dataclass
class Context:
    """The one context a command hands to the core (see the module's docstring)."""

    paths: Paths
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    # The Codex binary the user named (--codex / $CODEXPROV_CODEX); None: `codex` on PATH.
    codex_binary: str | None = None
    _codex: CodexInfo | None = field(default=None, init=False, repr=False)
    _store: KeyStore | None = field(default=None, init=False, repr=False)
    _layout: Layout | None = field(default=None, init=False, repr=False)

    @property
    def codex(self) -> CodexInfo:
        """The installed Codex (version, capabilities), detected once."""
        if self._codex is None:
            from codexprov.codex.version import detect

            self._codex = detect(self.paths, explicit=self.codex_binary)
        return self._codex

    def store(self) -> KeyStore:
        """The OS keyring, opened once (KeyringUnavailableError when there is no usable one)."""
        if self._store is None:
            from codexprov.credentials import open_store

            self._store = open_store()
        return self._store

    @property
    def bridge_layout(self) -> Layout:
        """Where the bridge keeps its files and state."""
        if self._layout is None:
            from codexprov.bridge.layout import resolve

            self._layout = resolve()
        return self._layout
