"""`codexprov doctor`: tell a working provider setup from a broken one, and say the fix.

The data model lives here; `static` runs the checks that need no network, `network` probes the
providers' endpoints concurrently, `fix` applies the fixes that are safe to automate. Nothing here
prints: the CLI renders a Report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATUSES = ("ok", "warn", "fail", "skip")


@dataclass(frozen=True)
class Finding:
    check: str  # stable id, e.g. "config.duplicate-key", "provider.wire-api", "net.responses-route"
    status: str  # one of STATUSES
    message: str  # one line; never a secret
    provider: str | None = None  # None: about the setup as a whole
    file: str | None = None
    line: int | None = None
    fix: str | None = None  # the exact command (or edit) that fixes it
    fixable: bool = False  # `doctor --fix` can apply it

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
        }


@dataclass(frozen=True)
class ProviderTarget:
    """What the network checks need to probe one provider, keys already resolved (never printed)."""

    id: str
    base_url: str
    query_params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # static + env headers + Authorization
    model: str | None = None  # the model Codex would use with it (active provider or profile)
    has_key: bool = False


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...]
    codex: dict[str, Any] = field(default_factory=dict)  # path, version, assumed
    providers: tuple[str, ...] = ()  # the providers checked, active first

    @property
    def failed(self) -> bool:
        return any(f.status == "fail" for f in self.findings)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def to_json(self) -> dict[str, Any]:
        counts = {s: sum(1 for f in self.findings if f.status == s) for s in STATUSES}
        return {
            "status": "fail" if self.failed else ("warn" if counts["warn"] else "ok"),
            "counts": counts,
            "codex": self.codex,
            "providers": list(self.providers),
            "findings": [f.to_json() for f in self.findings],
        }
