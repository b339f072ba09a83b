"""CLI: `codexprov doctor` (core: codexprov.doctor, .static, .network, .fix).

The report is the command's data, so it goes to stdout (rich, every file/user string escaped);
fix diffs and questions are talk on stderr when --json owns stdout.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from codexprov.cli.app import app, context, out_json, say
from codexprov.errors import CancelledError, UsageError
from codexprov.output import neutralise, style_enabled, write
from codexprov.paths import Paths

_SYMBOL = {"ok": "[green]✓[/]", "warn": "[yellow]⚠[/]", "fail": "[bold red]✗[/]", "skip": "[dim]-[/]"}


@app.command("doctor")
def doctor_cmd(
    cli: typer.Context,
    provider_id: str | None = typer.Argument(
        None, metavar="ID", help="Check only this provider (it then counts toward the verdict)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable report (check ids, status, message, fix)."),
    offline: bool = typer.Option(False, "--offline", help="Static checks only; no network."),
    no_spend: bool = typer.Option(
        False,
        "--no-spend",
        help="Token-free: skip the one streamed Codex-shaped request to the active provider (capped at 16 "
        "output tokens) and keep only the probes no server bills.",
    ),
    live: bool = typer.Option(
        False,
        "--live",
        help="Also send one real streamed request per provider, shaped like Codex's, and run the installed Codex for one "
        "turn on a throwaway copy of this setup: the ground truth (costs a few tokens).",
    ),
    profile: str | None = typer.Option(
        None,
        "--profile",
        "-p",
        metavar="NAME",
        help="Judge `codex -p NAME`: the profile file and its provider count toward the verdict.",
    ),
    all_: bool = typer.Option(
        False,
        "--all",
        help="Let every provider and profile count toward the exit status, not only what `codex` uses here.",
    ),
    fix: bool = typer.Option(
        False, "--fix", help="Apply the fixes that are safe to automate (diff, backup, confirmation)."
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask; a duplicate keeps its last definition."),
    dry_run: bool = typer.Option(False, "--dry-run", help="With --fix: print each fix's diff; write nothing."),
    timeout: float = typer.Option(
        5.0,
        "--timeout",
        metavar="SECONDS",
        help="Seconds each provider gets to answer all its probes (default 5; --live allows at least 30).",
    ),
) -> None:
    """Tell a working provider setup from a broken one, and say the fix.

    The verdict (exit 1 when a check fails) is about what plain `codex` uses from this directory:
    config.toml, the project config, the active provider and model, plus what is named here (ID,
    --profile). Other providers and profile files are checked too and reported under their own
    heading; they count toward the exit status only with --all.
    """
    from codexprov.doctor import run_doctor

    if offline and live:
        raise UsageError("--live sends a request; it cannot be combined with --offline")
    if dry_run and not fix:
        raise UsageError(
            "--dry-run shows what --fix would write; doctor alone writes nothing", hint="Pass --fix --dry-run."
        )
    if not timeout > 0:
        raise UsageError(f"--timeout must be a positive number of seconds, not {timeout}")
    paths = context(cli).paths
    info = context(cli).codex
    common: dict[str, Any] = {"provider": provider_id, "codex_info": info, "cwd": Path.cwd(), "profile": profile}
    applied = _run_fixes(paths, common, yes=yes, talk_only=as_json, dry_run=dry_run, live=live) if fix else None
    with _Progress(enabled=not as_json) as progress:
        report = run_doctor(
            paths,
            offline=offline,
            live=live,
            codex_run=live,
            timeout=timeout,
            all_=all_,
            progress=progress.say,
            no_spend=no_spend,
            **common,
        )
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

    # Styles only where they are wanted (NO_COLOR removes bold too; FORCE_COLOR styles a pipe).
    styled = style_enabled(sys.stdout)
    console = Console(highlight=False, soft_wrap=True, color_system="auto" if styled else None, force_terminal=styled)
    with console.capture() as captured:
        _render(console, report)
    write(captured.get())


def _render(console: Any, report: Any) -> None:
    from rich.markup import escape as escape_markup

    def escape(text: str) -> str:
        return escape_markup(neutralise(text))

    def groups(findings: list[Any]) -> dict[tuple[str | None, str | None], list[Any]]:
        out: dict[tuple[str | None, str | None], list[Any]] = {(None, None): []}
        for pid in report.providers:
            out[(pid, None)] = []
        for finding in findings:
            file = finding.file if finding.provider is None and finding.scope == "other" else None
            out.setdefault((finding.provider, file), []).append(finding)
        return out

    def show(findings: list[Any], indent: str) -> None:
        for (pid, file), items in groups(findings).items():
            if not items:
                continue
            if pid is not None:
                title = f"provider {pid}" + (" (active)" if pid == report.active else "")
            else:
                title = f"profile file {file}" if file else "setup"
            console.print(f"{indent}[bold]{escape(title)}[/]")
            for f in items:
                where = (
                    f" [dim]({escape(f.file)}{':' + str(f.line) if f.line else ''})[/]"
                    if f.file and f.status != "ok"
                    else ""
                )
                console.print(f"{indent}  {_SYMBOL.get(f.status, '?')} {escape(f.message)}{where}")
                if f.status in ("warn", "fail") and f.fix:
                    console.print(f"{indent}      fix: {escape(f.fix)}")

    used = [f for f in report.findings if f.scope == "used"]
    other = [f for f in report.findings if f.scope != "used"]
    show(used, "")
    if other:
        counts_note = "counted, --all" if report.all else "not counted; --all counts them"
        console.print(f"[bold]not used by plain `codex` here[/] [dim]({counts_note})[/]")
        show(other, "  ")
    counted = report.to_json()["counted"]
    verdict = (
        "[bold red]FAIL[/]"
        if report.failed
        else ("[yellow]OK, with warnings[/]" if counted["warn"] else "[green]OK[/]")
    )
    line = f"{verdict}: {counted['fail']} failed, {_plural(counted['warn'], 'warning')}, {counted['ok']} ok"
    ignored = sum(1 for f in other if f.status == "fail") if not report.all else 0
    if ignored:
        line += f" ({_plural(ignored, 'failure')} in unused providers or profiles not counted)"
    console.print(line)


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


class _Progress:
    """What doctor is doing, on stderr, when stderr is a terminal and the run lasts more than a
    second; nothing at all when piped (and nothing left on the screen afterwards)."""

    DELAY = 1.0

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.text = "checking"
        self._status: Any = None
        self._timer: Any = None
        self._done = False
        import threading

        self._lock = threading.Lock()

    def __enter__(self) -> _Progress:
        if self.enabled:
            import threading

            self._timer = threading.Timer(self.DELAY, self._start)
            self._timer.daemon = True
            self._timer.start()
        return self

    def _start(self) -> None:
        from rich.console import Console

        with self._lock:
            if self._done:
                return
            self._status = Console(stderr=True).status(f"doctor: {self.text}…")
            self._status.start()

    def say(self, text: str) -> None:
        self.text = text
        if self._status is not None:
            self._status.update(f"doctor: {text}…")

    def __exit__(self, *exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            self._done = True
            if self._status is not None:
                self._status.stop()


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
            raise UsageError(f"pick a number from 1 to {len(definitions)}")
        return choice - 1

    def previewed(self, action: Any, previews: Any) -> None:
        from codexprov.cli.app import show_diff

        for preview in previews:
            show_diff(preview.diff, stderr=self.talk_only)

    def approve(self, action: Any, previews: Any) -> bool:
        if self.yes:
            return True
        if not sys.stdin.isatty():
            raise CancelledError(
                "cannot ask for confirmation: standard input is not a terminal; nothing was changed",
                hint="Pass --yes to apply the fixes (a duplicate then keeps its last definition).",
            )
        return typer.confirm(f"Apply: {action.description}?", default=False, err=True)

    def applied(self, action: Any, results: Any) -> None:
        from codexprov.cli.app import edit_line

        for result in results:
            say(f"fixed: {edit_line(result)}", style="green")

    def skipped(self, action: Any) -> None:
        say(f"skipped: {action.description}")

    def failed(self, action: Any, error: Any) -> None:
        from codexprov.cli.app import report_error

        report_error(error)


def _run_fixes(
    paths: Paths, common: dict[str, Any], *, yes: bool, talk_only: bool, dry_run: bool = False, live: bool = False
) -> list[dict[str, Any]]:
    from codexprov.doctor import run_doctor
    from codexprov.doctor.fix_loop import run_fixes

    refusals: tuple[Any, ...] = ()
    if live:
        # What a server refuses is only seen by --live: probe once, and let the fix loop (offline
        # rounds) act on those findings too.
        from codexprov.doctor.findings import FixKind

        probed = run_doctor(paths, live=True, **common)
        refusals = tuple(f for f in probed.findings if f.fix_kind is FixKind.GATEWAY_SETTINGS)

    def check() -> Any:
        import dataclasses

        report = run_doctor(paths, offline=True, **common)
        return dataclasses.replace(report, findings=report.findings + refusals) if refusals else report

    outcome = run_fixes(
        paths,
        check,
        _Terminal(yes=yes, talk_only=talk_only),
        dry_run=dry_run,
    )
    if dry_run:
        say("dry run: nothing was written" if outcome.applied else "nothing to fix automatically")
    elif not outcome.applied:
        say("nothing to fix automatically")
    return [record.to_json() for record in outcome.applied]
