"""CLI: `codexprov doctor` (core: codexprov.doctor, .static, .network, .fix).

The report is the command's data, so it goes to stdout (rich, every file/user string escaped);
fix diffs and questions are talk on stderr when --json owns stdout.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from codexprov.cli import app, out_json, say, state

_SYMBOL = {"ok": "[green]✓[/]", "warn": "[yellow]⚠[/]", "fail": "[bold red]✗[/]", "skip": "[dim]-[/]"}


@app.command("doctor")
def doctor_cmd(
    provider_id: str | None = typer.Argument(None, metavar="ID", help="Check only this provider."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable report (check ids, status, message, fix)."),
    offline: bool = typer.Option(False, "--offline", help="Static checks only; no network."),
    live: bool = typer.Option(False, "--live", help="Also send one real streamed request per provider (costs a few tokens)."),
    fix: bool = typer.Option(False, "--fix", help="Apply the fixes that are safe to automate (diff, backup, confirmation)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask; a duplicate keeps its last definition."),
    dry_run: bool = typer.Option(False, "--dry-run", help="With --fix: print each fix's diff; write nothing."),
    timeout: float = typer.Option(5.0, "--timeout", metavar="SECONDS", help="Seconds each provider gets to answer all its probes (default 5; --live allows at least 30)."),
) -> None:
    """Tell a working provider setup from a broken one, and say the fix. Exit 1 when a check fails."""
    from codexprov.codex.version import detect
    from codexprov.doctor import run_doctor
    from codexprov.errors import UsageError

    if offline and live:
        raise UsageError("--live sends a request; it cannot be combined with --offline")
    if dry_run and not fix:
        raise UsageError("--dry-run shows what --fix would write; doctor alone writes nothing", hint="Pass --fix --dry-run.")
    if not timeout > 0:
        raise UsageError(f"--timeout must be a positive number of seconds, not {timeout}")
    paths = state.paths
    info = detect(paths, explicit=state.codex_binary)
    common: dict[str, Any] = {"provider": provider_id, "codex_info": info, "cwd": Path.cwd()}
    applied = _run_fixes(paths, common, yes=yes, talk_only=as_json, dry_run=dry_run) if fix else None
    report = run_doctor(paths, offline=offline, live=live, timeout=timeout, **common)
    if as_json:
        data = report.to_json()
        if applied is not None:
            data["fixes"] = applied
            if dry_run:
                data["fixes_dry_run"] = True
        out_json(data)
    else:
        render(report)
    raise typer.Exit(report.exit_code)


def render(report: Any) -> None:
    """The report as text. Rendered into a capture, then written through the redaction boundary
    (codexprov.output.write), like every other output: findings quote config lines and server bodies."""
    from rich.console import Console

    from codexprov.output import style_enabled, write

    # Styles only where they are wanted (NO_COLOR removes bold too; FORCE_COLOR styles a pipe).
    styled = style_enabled(sys.stdout)
    console = Console(highlight=False, soft_wrap=True, color_system="auto" if styled else None, force_terminal=styled)
    with console.capture() as captured:
        _render(console, report)
    write(captured.get())


def _render(console: Any, report: Any) -> None:
    from rich.markup import escape as escape_markup

    from codexprov.output import neutralise

    def escape(text: str) -> str:
        return escape_markup(neutralise(text))

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


class _Terminal:
    """doctor --fix's questions and talk (core: codexprov.doctor.fix_loop)."""

    def __init__(self, *, yes: bool, talk_only: bool):
        self.yes = yes
        self.talk_only = talk_only  # --json owns stdout: diffs go to stderr

    def keep(self, action: Any) -> int:
        """Which definition of a duplicate stays: asked on a terminal, else the last one."""
        definitions = action.duplicate.definitions
        if self.yes or not sys.stdin.isatty():
            return -1
        say(f"{action.file}: {action.duplicate.name} is defined {len(definitions)} times:")
        for number, d in enumerate(definitions, 1):
            say(f"  {number}) line {d.line}: {d.first_line}")
        choice = typer.prompt("Which one stays?", default=len(definitions), type=int, err=True)
        if not 1 <= choice <= len(definitions):
            from codexprov.errors import UsageError

            raise UsageError(f"pick a number from 1 to {len(definitions)}")
        return choice - 1

    def previewed(self, action: Any, previews: Any) -> None:
        from codexprov.cli import show_diff

        for preview in previews:
            show_diff(preview.diff, stderr=self.talk_only)

    def approve(self, action: Any, previews: Any) -> bool:
        from codexprov.errors import CancelledError

        if self.yes:
            return True
        if not sys.stdin.isatty():
            raise CancelledError(
                "cannot ask for confirmation: standard input is not a terminal; nothing was changed",
                hint="Pass --yes to apply the fixes (a duplicate then keeps its last definition).",
            )
        return typer.confirm(f"Apply: {action.description}?", default=False, err=True)

    def applied(self, action: Any, results: Any) -> None:
        from codexprov.cli import edit_line

        for result in results:
            say(f"fixed: {edit_line(result)}", style="green")

    def skipped(self, action: Any) -> None:
        say(f"skipped: {action.description}")

    def failed(self, action: Any, error: Any) -> None:
        from codexprov.cli import report_error

        report_error(error)


def _run_fixes(paths: Any, common: dict[str, Any], *, yes: bool, talk_only: bool, dry_run: bool = False) -> list[dict[str, Any]]:
    from codexprov.doctor import run_doctor
    from codexprov.doctor.fix_loop import run_fixes

    outcome = run_fixes(
        paths, lambda: run_doctor(paths, offline=True, **common), _Terminal(yes=yes, talk_only=talk_only), dry_run=dry_run
    )
    if dry_run:
        say("dry run: nothing was written" if outcome.applied else "nothing to fix automatically")
    elif not outcome.applied:
        say("nothing to fix automatically")
    return [record.to_json() for record in outcome.applied]
