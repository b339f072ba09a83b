"""What every static check receives, and the registries that make adding a check one function.

A check is a function decorated where it lives:

- `@table_check` — `check(ctx, table: ProviderTable)`: one custom provider table (config.toml,
  the system config, or a profile file); runs in definition order (doctor/tables.py).
- `@setup_check("before-providers" | "after-providers")` — `check(ctx, setup: Setup)`: the setup as
  a whole (doctor/setup.py).

A check reports through `ctx.add(...)`; it never raises for a broken config. Resolved keys go to
`ctx.keys` (never into a Finding).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from codexprov.codex.capabilities import format_version
from codexprov.doctor.findings import Finding, FixKind
from codexprov.doctor.layers import Layer
from codexprov.doctor.locate import Location, provider_field
from codexprov.errors import KeyringUnavailableError
from codexprov.paths import Paths
from codexprov.redact import redact_text, remember


@dataclass(frozen=True)
class ResolvedKey:
    """The key Codex would send to a provider and where it comes from (the value never shown)."""

    provider_id: str
    source: str  # "env" | "keyring" | "command" | "plaintext"
    value: str = field(repr=False)  # exactly what Codex sends after `Bearer ` (an env var: untrimmed)

    def __post_init__(self) -> None:
        # Whatever it came from (an auth command that is not codexprov's, an env var, a TOML-escaped
        # plain-text value as decoded): a server that echoes it back is quoted with it masked.
        remember(self.value)


@dataclass
class CheckContext:
    """What the doctor's checks read: the paths, the installed Codex, the environment, the key store."""

    paths: Paths
    info: Any  # CodexInfo
    env: Mapping[str, str]
    store: Any
    open_store: Callable[[], Any]
    findings: list[Finding] = field(default_factory=list)
    keys: dict[str, ResolvedKey] = field(default_factory=dict)
    auth_outcomes: dict[tuple[tuple[str, ...], str], Any] = field(default_factory=dict)
    _store_error: str | None = None
    _store_opened: bool = False

    def add(self, check: str, status: str, message: str, **kw: Any) -> None:
        self.findings.append(Finding(check, status, redact_text(message), **kw))

    @property
    def caps(self) -> Any:
        return self.info.capabilities

    @property
    def version(self) -> str:
        """The Codex version checks are made for, as text (e.g. "0.169.0")."""
        return format_version(self.info.capabilities.version)

    def keystore(self) -> tuple[Any, str | None]:
        if not self._store_opened:
            self._store_opened = True
            if self.store is None:
                try:
                    self.store = self.open_store()
                except KeyringUnavailableError as err:
                    self._store_error = err.message
        return self.store, self._store_error


@dataclass(frozen=True)
class ProviderTable:
    """One provider table as a check sees it: its merged fields and where each is written."""

    id: str
    table: dict[str, Any] = field(hash=False)
    layers: tuple[Layer, ...] = field(hash=False)  # the layers it is read from, lowest first
    editable: bool = True  # False: `--fix` leaves it to the user (profile files)

    def where(self, key: str | None = None) -> Location:
        return provider_field(self.id, key, self.layers)

    def fix_kind(self, written_in: str | None, kind: FixKind) -> FixKind | None:
        """`kind` when --fix may edit the file the field is written in: config.toml only."""
        return kind if self.editable and written_in == "user" else None


@dataclass(frozen=True)
class Setup:
    """Every layer, and what the system and user layers mean together."""

    layers: tuple[Layer, ...] = field(hash=False)
    by_kind: dict[str, list[Layer]] = field(hash=False)
    base: tuple[Layer, ...] = field(hash=False)  # system + user layers that parse, lowest first
    tables: dict[str, dict[str, Any]] = field(hash=False)  # effective table per provider
    active: str
    model: str | None
    builtins: frozenset[str]
    only: str | None  # the provider named on the command line

    @property
    def known(self) -> set[str]:
        return set(self.builtins) | set(self.tables)


TableCheck = Callable[[CheckContext, ProviderTable], None]
SetupCheck = Callable[[CheckContext, Setup], None]
TABLE_CHECKS: list[TableCheck] = []
SETUP_CHECKS: dict[str, list[SetupCheck]] = {"before-providers": [], "after-providers": []}


def table_check(check: TableCheck) -> TableCheck:
    TABLE_CHECKS.append(check)
    return check


def setup_check(phase: str) -> Callable[[SetupCheck], SetupCheck]:
    def register(check: SetupCheck) -> SetupCheck:
        SETUP_CHECKS[phase].append(check)
        return check

    return register
