"""CLI: `codexprov doctor` (core: codexprov.doctor, .static, .network, .fix).

The report is the command's data, so it goes to stdout (rich, every file/user string escaped);
fix diffs and questions are talk on stderr when --json owns stdout.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

import typer

from codexprov.cli import app, out_json, say, state

_SYMBOL = {"ok": "[green]✓[/]", "warn": "[yellow]⚠[/]", "fail": "[bold red]✗[/]", "skip": "[dim]-[/]"}


@app.command("doctor")
def doctor_cmd(
    provider_id: Optional[str] = typer.Argument(None, metavar="[ID]", help="Check only this provider."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable report (check ids, status, message, fix)."),
    offline: bool = typer.Option(False, "--offline", help="Static checks only; no network."),
    live: bool = typer.Option(False, "--live", help="Also send one real streamed request per provider (costs a few tokens)."),
    fix: bool = typer.Option(False, "--fix", help="Apply the fixes that are safe to automate (diff, backup, confirmation)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask; a duplicate keeps its last definition."),
    timeout: float = typer.Option(5.0, "--timeout", metavar="S", help="Seconds each provider gets to answer all its probes (default 5; --live allows at least 30)."),
) -> None:
    """Tell a working provider setup from a broken one, and say the fix. Exit 1 when a check fails."""
    from codexprov import codex_version
    from codexprov.doctor import run_doctor
    from codexprov.errors import UsageError

    if offline and live:
        raise UsageError("--live sends a request; it cannot be combined with --offline")
    if not timeout > 0:
        raise UsageError(f"--timeout must be a positive number of seconds, not {timeout}")
    paths = state.paths
    info = codex_version.detect(paths, explicit=state.codex_binary)
    common: dict[str, Any] = {"provider": provider_id, "codex_info": info, "cwd": Path.cwd()}
    applied = _run_fixes(paths, common, yes=yes, talk_only=as_json) if fix else None
    report = run_doctor(paths, offline=offline, live=live, timeout=timeout, **common)
    if as_json:
        data = report.to_json()
        if applied is not None:
            data["fixes"] = applied
        out_json(data)
    else:
        render(report)
    raise typer.Exit(report.exit_code)


def render(report: Any) -> None:
    """The report as text. Rendered into a capture, then written through the redaction boundary
    (codexprov.output.write), like every other output: findings quote config lines and server bodies."""
    from rich.console import Console

    from codexprov.output import write

    console = Console(highlight=False, soft_wrap=True)
    with console.capture() as captured:
        _render(console, report)
    write(captured.get())


def _render(console: Any, report: Any) -> None:
    from rich.markup import escape

    groups: dict[str | None, list[Any]] = {None: []}
    for pid in report.providers:
        groups[pid] = []
    for finding in report.findings:
        groups.setdefault(finding.provider, []).append(finding)
    for pid, findings in groups.items():
        if not findings:
            continue
        title = "setup" if pid is None else f"provider {pid}" + (" (active)" if pid == report.active else "")
        console.print(f"[bold]{escape(title)}[/]")
        for f in findings:
            where = f" [dim]({escape(f.file)}{':' + str(f.line) if f.line else ''})[/]" if f.file and f.status != "ok" else ""
            console.print(f"  {_SYMBOL.get(f.status, '?')} {escape(f.message)}{where}")
            if f.status in ("warn", "fail") and f.fix:
                console.print(f"      fix: {escape(f.fix)}")
    counts = report.to_json()["counts"]
    verdict = "[bold red]FAIL[/]" if report.failed else ("[yellow]OK, with warnings[/]" if counts["warn"] else "[green]OK[/]")
    console.print(f"{verdict}: {counts['fail']} failed, {counts['warn']} warnings, {counts['ok']} ok")


# ---------------------------------------------------------------------------- --fix


def _ident(action: Any) -> tuple[Any, ...]:
    if action.duplicate is not None:
        return (action.kind, str(action.file), action.duplicate.name, tuple(d.line for d in action.duplicate.definitions))
    return (action.kind, str(action.file), action.provider, action.fields)


def _run_fixes(paths: Any, common: dict[str, Any], *, yes: bool, talk_only: bool) -> list[dict[str, Any]]:
    """One fix per round, re-checking in between (a fixed duplicate can reveal the next problem)."""
    from codexprov.doctor import fix as fixes
    from codexprov.doctor import run_doctor
    from codexprov.errors import CodexprovError

    applied: list[dict[str, Any]] = []
    attempted: set[tuple[Any, ...]] = set()
    for _round in range(25):
        report = run_doctor(paths, offline=True, **common)
        actions = [a for a in fixes.plan_fixes(paths, report) if _ident(a) not in attempted]
        if not actions:
            break
        action = actions[0]
        attempted.add(_ident(action))
        keep = _choose(action, yes) if action.duplicate is not None else -1
        try:
            previews = fixes.apply_fix(paths, action, keep=keep, dry_run=True)
            for preview in previews:
                _show_diff(preview.diff, talk_only)
            if not previews or not any(p.changed for p in previews):
                continue
            if not _ask(f"Apply: {action.description}?", yes):
                say(f"skipped: {action.description}")
                continue
            results = fixes.apply_fix(paths, action, keep=keep)
        except CodexprovError as err:
            from codexprov.cli import report_error

            if type(err).__name__ == "CancelledError":
                raise
            report_error(err)
            continue
        for result in results:
            backup = f" (backup: {result.backup})" if result.backup else ""
            say(f"fixed: {result.description}: wrote {result.path}{backup}", style="green")
        applied.append({"check": action.check, "provider": action.provider, "file": str(action.file), "fix": action.description})
    if not applied:
        say("nothing to fix automatically")
    return applied


def _show_diff(diff: str, talk_only: bool) -> None:
    from codexprov.output import write

    if not diff:
        return
    write(diff if diff.endswith("\n") else diff + "\n", stderr=talk_only)


def _ask(question: str, yes: bool) -> bool:
    from codexprov.errors import CancelledError

    if yes:
        return True
    if not sys.stdin.isatty():
        raise CancelledError(
            "cannot ask for confirmation: standard input is not a terminal; nothing was changed",
            hint="Pass --yes to apply the fixes (a duplicate then keeps its last definition).",
        )
    return typer.confirm(question, default=False, err=True)


def _choose(action: Any, yes: bool) -> int:
    """Which definition of a duplicate stays: asked on a terminal, else the last one."""
    definitions = action.duplicate.definitions
    if yes or not sys.stdin.isatty():
        return -1
    say(f"{action.file}: {action.duplicate.name} is defined {len(definitions)} times:")
    for number, d in enumerate(definitions, 1):
        say(f"  {number}) line {d.line}: {d.first_line}")
    choice = typer.prompt("Which one stays?", default=len(definitions), type=int, err=True)
    if not 1 <= choice <= len(definitions):
        from codexprov.errors import UsageError

        raise UsageError(f"pick a number from 1 to {len(definitions)}")
    return choice - 1
