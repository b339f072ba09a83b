"""The doctor's data model: a Finding per check result, the Report that holds them, the typed fix
kinds `doctor --fix` dispatches on, and what the network checks need per provider.

Nothing here imports the checks; every other doctor module imports this one.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

STATUSES = ("ok", "warn", "fail", "skip")


class FixKind(str, enum.Enum):
    """What `doctor --fix` would do for a finding. Declared in the order fixes run: a duplicate
    first (the file does not parse until it is gone), a rename before edits that name the table."""

    REMOVE_DUPLICATE = "remove-duplicate"  # keep one definition of a duplicate key or table
    RENAME_RESERVED = "rename-reserved"  # [model_providers.<built-in>] -> <id>-custom
    SET_WIRE_API = "set-wire-api"  # wire_api = "responses"
    RENAME_DISPLAY = "rename-display-name"  # name = "<name> (custom)" (a built-in's display name)
    DROP_FIELD = "drop-field"  # a provider field Codex ignores (finding.key names it)
    UNQUOTE_NUMBER = "unquote-number"  # `x = "600000"` -> `x = 600000` (finding.key: the dotted key path)
    DROP_CATALOG = "drop-catalog"  # a model_catalog_json codexprov wrote, whose file is gone
    MIGRATE_KEY = "migrate-key"  # a plain-text key -> the keyring (codexprov key migrate)
    # The top-level settings (and model catalog file) that take out what a server refuses
    # (finding.refused: catalog.REQUEST_PARTS), as codex.gateway says.
    GATEWAY_SETTINGS = "gateway-settings"

    @property
    def rank(self) -> int:
        return list(FixKind).index(self)


@dataclass(frozen=True)
class Finding:
    """One doctor finding: the check, its status, a one-line message, the provider and the fix."""

    check: str  # stable id, e.g. "config.duplicate-key", "provider.wire-api", "net.responses-route"
    status: str  # one of STATUSES
    message: str  # one line; never a secret
    provider: str | None = None  # None: about the setup as a whole
    file: str | None = None
    line: int | None = None
    fix: str | None = None  # the exact command (or edit) that fixes it
    fix_kind: FixKind | None = None  # set when `doctor --fix` can apply the fix itself
    key: str | None = None  # the config key concerned (e.g. "wire_api", "api_key")
    # "used": about what plain `codex` uses from here (or what the command line named);
    # "other": a provider or profile it does not use, which counts toward the exit only with --all.
    scope: str = "used"
    # The parts of Codex's requests the provider refuses (catalog.REQUEST_PARTS), for GATEWAY_SETTINGS.
    refused: tuple[str, ...] = ()

    @property
    def fixable(self) -> bool:
        return self.fix_kind is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "status": self.status,
            "message": self.message,
            "provider": self.provider,
            "file": self.file,
            "line": self.line,
            "fix": self.fix,
            "fixable": self.fixable,
            "key": self.key,
            "fix_kind": self.fix_kind.value if self.fix_kind is not None else None,
            "scope": self.scope,
        } | ({"refused": list(self.refused)} if self.refused else {})


@dataclass(frozen=True)
class ProviderTarget:
    """What the network checks need to probe one provider, keys already resolved (never printed)."""

    id: str
    base_url: str
    query_params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str | bytes] = field(default_factory=dict)  # static + env headers + Authorization, as sent
    model: str | None = None  # the model Codex would use with it (active provider or profile)
    has_key: bool = False
    # The provider plain `codex` uses gets one streamed Codex-shaped request (doctor/stream.py):
    # `stream` returns its shape (the installed Codex's, or None for codexprov's copy).
    stream: Any = field(default=None, compare=False)
    idle_timeout_ms: int = 300_000  # stream_idle_timeout_ms as Codex reads it for this provider
    request_retries: int = 4  # request_max_retries: how often Codex asks again after a 429 or a 5xx
    retries_rate_limit: bool = True  # this Codex asks again after a 429 (capabilities.RATE_LIMIT_RETRY_SINCE)
    codex_version: str | None = None
    bridged: bool = False  # goes through codexprov's bridge: judged by the bridge checks and the stream
    asks_models: bool = False  # Codex fetches /models from it (OpenAI login); else an unlisted model may still work
    # What Codex sends in a turn to it (codex.request.RequestPlan); None: Codex's defaults.
    request: Any = None


@dataclass(frozen=True)
class Report:
    """The doctor's report: the findings, the Codex consulted, the providers checked."""

    findings: tuple[Finding, ...]
    codex: dict[str, Any] = field(default_factory=dict)  # path, version, assumed
    providers: tuple[str, ...] = ()  # the providers checked, active first
    active: str | None = None  # the provider Codex uses (model_provider, or openai)
    in_use: tuple[str, ...] = ()  # the providers the verdict is about (active, and what was named)
    all: bool = False  # --all: findings about unused providers and profiles count too

    def counts(self, finding: Finding) -> bool:
        """Whether this finding counts toward the verdict and the exit status."""
        return self.all or finding.scope == "used"

    @property
    def failed(self) -> bool:
        return any(f.status == "fail" and self.counts(f) for f in self.findings)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def to_json(self) -> dict[str, Any]:
        counts = {s: sum(1 for f in self.findings if f.status == s) for s in STATUSES}
        counted = {s: sum(1 for f in self.findings if f.status == s and self.counts(f)) for s in STATUSES}
        return {
            "status": "fail" if self.failed else ("warn" if counted["warn"] else "ok"),
            "counts": counts,
            "counted": counted,
            "codex": self.codex,
            "providers": list(self.providers),
            "active": self.active,
            "in_use": list(self.in_use),
            "all": self.all,
            "findings": [f.to_json() for f in self.findings],
        }
