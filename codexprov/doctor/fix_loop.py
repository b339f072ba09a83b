"""`doctor --fix` as a use case (`doctor_fix`): one fix per round, re-checking in between (a fixed
duplicate can reveal the next problem), each fix previewed, approved, then applied as a transaction.

The questions (which definition of a duplicate stays, apply this fix?) are the caller's: it passes
a FixDecider, so this module never prints or prompts. With dry_run nothing is approved or applied;
each fix's preview is handed to the decider and recorded as what would be done.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from codexprov.doctor import DoctorRequest, run_doctor
from codexprov.doctor import fix as fixes
from codexprov.doctor.findings import FixKind, Report
from codexprov.errors import CancelledError, CodexprovError
from codexprov.paths import Paths

if TYPE_CHECKING:
    from codexprov.context import Context

MAX_ROUNDS = 25


class FixDecider(Protocol):
    def keep(self, action: fixes.FixAction) -> int:
        """Which definition of a duplicate stays (an index into its definitions; -1 the last)."""

    def approve(self, action: fixes.FixAction, previews: tuple[Any, ...]) -> bool:
        """Shown the previews (EditResults with diffs): apply this fix? Not called on a dry run."""

    def previewed(self, action: fixes.FixAction, previews: tuple[Any, ...]) -> None:
        """The diffs of a fix about to be asked about (or, on a dry run, that would be applied)."""

    def applied(self, action: fixes.FixAction, results: tuple[Any, ...]) -> None:
        """A fix was written (results: its EditResults)."""

    def skipped(self, action: fixes.FixAction) -> None: ...

    def failed(self, action: fixes.FixAction, error: CodexprovError) -> None:
        """This fix could not be made; the others are still tried."""


@dataclass(frozen=True)
class FixRecord:
    """A fix `doctor --fix` made (or would make, on a dry run)."""

    check: str
    provider: str | None
    file: str
    fix: str

    def to_json(self) -> dict[str, Any]:
        return {"check": self.check, "provider": self.provider, "file": self.file, "fix": self.fix}


@dataclass(frozen=True)
class FixOutcome:
    """What `doctor --fix` did: the fixes made, and whether it was a dry run."""

    applied: tuple[FixRecord, ...]  # on a dry run: the fixes that would be applied
    dry_run: bool


def _ident(action: fixes.FixAction) -> tuple[Any, ...]:
    if action.duplicate is not None:
        return (
            action.kind,
            str(action.file),
            action.duplicate.name,
            tuple(d.line for d in action.duplicate.definitions),
        )
    return (action.kind, str(action.file), action.provider, action.fields)


def doctor_fix(ctx: Context, request: DoctorRequest, decider: FixDecider, *, dry_run: bool = False) -> FixOutcome:
    """`doctor --fix`: what an offline doctor run over the same setup (`request`'s provider, profile
    and folder) finds, fixed round by round. With `request.live`, what only a server shows (the
    parts of Codex's request it refuses) is probed once first, and those findings are fixed too."""
    base = DoctorRequest(provider=request.provider, profile=request.profile, cwd=request.cwd)
    refusals: tuple[Any, ...] = ()
    if request.live:
        probed = run_doctor(ctx, dataclasses.replace(base, live=True))
        refusals = tuple(f for f in probed.findings if f.fix_kind is FixKind.GATEWAY_SETTINGS)

    def check() -> Report:
        report = run_doctor(ctx, dataclasses.replace(base, offline=True))
        return dataclasses.replace(report, findings=report.findings + refusals) if refusals else report

    return run_fixes(ctx.paths, check, decider, dry_run=dry_run)


def run_fixes(paths: Paths, check: Callable[[], Report], decider: FixDecider, *, dry_run: bool = False) -> FixOutcome:
    """Fix what `check()` (an offline doctor run) finds, until nothing fixable is left."""
    done: list[FixRecord] = []
    attempted: set[tuple[Any, ...]] = set()
    for _round in range(MAX_ROUNDS):
        actions = [a for a in fixes.plan_fixes(paths, check()) if _ident(a) not in attempted]
        if not actions:
            break
        action = actions[0]
        attempted.add(_ident(action))
        keep = decider.keep(action) if action.duplicate is not None else -1
        try:
            previews = fixes.apply_fix(paths, action, keep=keep, dry_run=True)
            if not any(p.changed for p in previews):
                continue
            decider.previewed(action, previews)
            if dry_run:
                done.append(_record(action))
                continue
            if not decider.approve(action, previews):
                decider.skipped(action)
                continue
            results = fixes.apply_fix(paths, action, keep=keep)
        except CancelledError:
            raise
        except CodexprovError as err:
            decider.failed(action, err)
            continue
        decider.applied(action, results)
        done.append(_record(action))
    return FixOutcome(tuple(done), dry_run)


def _record(action: fixes.FixAction) -> FixRecord:
    return FixRecord(action.check, action.provider, str(action.file), action.description)
