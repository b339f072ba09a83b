"""CLI: `sessions [--provider ID] [--json]` (core: codexprov.sessions). Reads, never writes."""

from __future__ import annotations

import typer

from codexprov.cli.app import app, context, out_json, out_table, say


@app.command("sessions")
def sessions_cmd(
    cli: typer.Context,
    provider_id: str | None = typer.Option(
        None, "--provider", metavar="ID", help="Only the sessions started with this provider."
    ),
    json_: bool = typer.Option(False, "--json", help="Print the sessions as JSON."),
) -> None:
    """List Codex's saved sessions by the provider each was started with (Codex resumes each there)."""
    from codexprov.sessions import session_report

    report = session_report(context(cli).paths, provider_id)
    for problem in report.listing.problems:
        say(f"warning: skipped {problem}", style="yellow")
    if json_:
        out_json(report.to_json())
        return
    sessions = report.sessions
    if not sessions:
        which = f" started with {provider_id}" if provider_id else ""
        say(f"no Codex sessions{which} in {report.listing.codex_home}")
        return
    rows = [
        [
            s.id,
            (s.provider or "?") + (" (not configured)" if s.provider in report.unconfigured else ""),
            s.started or "",
            "yes" if s.archived else "",
            s.cwd or "",
        ]
        for s in sessions
    ]
    out_table(["ID", "PROVIDER", "STARTED", "ARCHIVED", "CWD"], rows)
    if report.unconfigured:
        missing = ", ".join(sorted(report.unconfigured))
        say(
            f"note: Codex cannot resume sessions whose provider is not configured ({missing}) until it is configured again"
        )
