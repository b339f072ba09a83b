"""The body of `codexprov doctor` (the report; `--fix` stays with the Typer command), without typer.

`codexprov/__main__.py` answers the plain forms (`doctor [ID] [--json] [--all] [--offline]
[--no-spend] [--live] [-p NAME] [--timeout S]`) before Typer loads (~50 ms of imports and command
tree); the Typer command in `cli/doctor.py` calls these same functions, so both ways print the same
bytes and return the same exit codes. Parse, call the core (`codexprov.doctor.run_doctor`), render.

The report is the command's data, so it goes to stdout (rich, every file/user string escaped, only
for text: `--json` never loads rich); progress is talk on stderr, on a terminal only.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codexprov.doctor import DoctorRequest, run_doctor
from codexprov.errors import UsageError
from codexprov.output import neutralise, out_json, style_enabled, write

if TYPE_CHECKING:
    from codexprov.context import Context
    from codexprov.doctor.findings import Finding, Report

_SYMBOL = {"ok": "[green]✓[/]", "warn": "[yellow]⚠[/]", "fail": "[bold red]✗[/]", "skip": "[dim]-[/]"}


def request(
    provider_id: str | None,
    *,
    offline: bool,
    no_spend: bool,
    live: bool,
    profile: str | None,
    all_: bool,
    timeout: float,
    fix: bool = False,
    dry_run: bool = False,
) -> DoctorRequest:
    """The command line's options as a DoctorRequest, about what plain `codex` uses from this folder;
    UsageError for a combination that makes no sense."""
    if offline and live:
        raise UsageError("--live sends a request; it cannot be combined with --offline")
    if dry_run and not fix:
        raise UsageError(
            "--dry-run shows what --fix would write; doctor alone writes nothing", hint="Pass --fix --dry-run."
        )
    if not timeout > 0:
        raise UsageError(f"--timeout must be a positive number of seconds, not {timeout}")
    return DoctorRequest(
        provider=provider_id,
        profile=profile,
        all_=all_,
        offline=offline,
        no_spend=no_spend,
        live=live,
        codex_run=live,
        timeout=timeout,
        cwd=Path.cwd(),
    )


def report(
    ctx: Context,
    doctor_request: DoctorRequest,
    *,
    as_json: bool,
    fixes: list[dict[str, Any]] | None = None,
    fixes_dry_run: bool = False,
) -> int:
    """Run the doctor and print its report (with `fixes`, what --fix did before); the exit status."""
    with _Progress(enabled=not as_json) as progress:
        result = run_doctor(ctx, doctor_request, progress=progress.say)
    if as_json:
        data = result.to_json()
        if fixes is not None:
            data["fixes"] = fixes
            if fixes_dry_run:
                data["fixes_dry_run"] = True
        out_json(data)
    else:
        render(result)
    return result.exit_code


def render(report: Report) -> None:
    """The report as text. Rendered into a capture, then written through the redaction boundary
    (codexprov.output.write), like every other output: findings quote config lines and server bodies."""
    from rich.console import Console

    # Styles only where they are wanted (NO_COLOR removes bold too; FORCE_COLOR styles a pipe).
    styled = style_enabled(sys.stdout)
    console = Console(highlight=False, soft_wrap=True, color_system="auto" if styled else None, force_terminal=styled)
    with console.capture() as captured:
        _render(console, report)
    write(captured.get())


def _render(console: Any, report: Report) -> None:
    from rich.markup import escape as escape_markup

    def escape(text: str) -> str:
        return escape_markup(neutralise(text))

    def groups(findings: list[Finding]) -> dict[tuple[str | None, str | None], list[Finding]]:
        out: dict[tuple[str | None, str | None], list[Finding]] = {(None, None): []}
        for pid in report.providers:
            out[(pid, None)] = []
        for finding in findings:
            file = finding.file if finding.provider is None and finding.scope == "other" else None
            out.setdefault((finding.provider, file), []).append(finding)
        return out

    def show(findings: list[Finding], indent: str) -> None:
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
        self._timer: threading.Timer | None = None
        self._done = False
        self._lock = threading.Lock()

    def __enter__(self) -> _Progress:
        if self.enabled:
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
