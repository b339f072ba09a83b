"""CLI: `codexprov doctor` (core: codexprov.doctor.run_doctor; `--fix`: doctor.fix_loop.doctor_fix).

The command body and the report's rendering are in codexprov/doctor_command.py, which the fast path
before Typer (codexprov/__main__.py) calls too. Here: the options, and `--fix`'s questions (a
FixDecider); fix diffs and questions are talk on stderr when --json owns stdout.
"""

from __future__ import annotations

import sys
from typing import Any

import typer

from codexprov.cli.app import app, context, say
from codexprov.errors import CancelledError, UsageError


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
    from codexprov import doctor_command
    from codexprov.doctor.fix_loop import doctor_fix

    request = doctor_command.request(
        provider_id,
        offline=offline,
        no_spend=no_spend,
        live=live,
        profile=profile,
        all_=all_,
        timeout=timeout,
        fix=fix,
        dry_run=dry_run,
    )
    ctx = context(cli)
    applied = None
    if fix:
        outcome = doctor_fix(ctx, request, _Terminal(yes=yes, talk_only=as_json), dry_run=dry_run)
        if not outcome.applied:
            say("nothing to fix automatically")
        elif dry_run:
            say("dry run: nothing was written")
        applied = [record.to_json() for record in outcome.applied]
    code = doctor_command.report(ctx, request, as_json=as_json, fixes=applied, fixes_dry_run=dry_run)
    raise typer.Exit(code)


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
