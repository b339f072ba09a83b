"""CLI commands for profiles (see codexprov/profiles.py). `use --profile` lives with `use`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from codexprov.cli.app import app, confirm, context, edit_line, out, out_json, out_table, render, say, show_diff
from codexprov.result import Outcome

if TYPE_CHECKING:
    from codexprov.codex.version import CodexInfo

profile_app = typer.Typer(
    help="Codex profiles: NAME.config.toml files (Codex >= 0.134) or [profiles.NAME] tables (older Codex).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(profile_app, name="profile")


def _info(cli: typer.Context) -> CodexInfo:
    info = context(cli).codex
    if info.assumed:
        say(f"note: {info.describe()}", style="yellow")
    return info


def _done(result) -> None:
    render(Outcome((result,), dry_run=result.dry_run))


@profile_app.command("add")
def add_cmd(
    cli: typer.Context,
    name: str = typer.Argument(..., metavar="NAME"),
    provider: str = typer.Option(..., "--provider", metavar="ID", help="The provider this profile uses."),
    model: str | None = typer.Option(None, "--model", metavar="MODEL", help="The model."),
    effort: str | None = typer.Option(None, "--reasoning-effort", metavar="EFFORT", help="model_reasoning_effort."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the diff; write nothing."),
) -> None:
    """Add a profile in the form the installed Codex reads."""
    from codexprov import profiles

    info = _info(cli)
    result = profiles.add_profile(
        context(cli).paths, name, info, provider=provider, model=model, reasoning_effort=effort, dry_run=dry_run
    )
    _done(result)
    if not dry_run:
        say(f"try it: codex -p {name}")


@profile_app.command("list")
def list_cmd(
    cli: typer.Context, as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")
) -> None:
    """Profiles, the active one, and any legacy pieces the installed Codex cannot use."""
    from codexprov import profiles

    info = _info(cli)
    listing = profiles.list_profiles(context(cli).paths, info)
    if as_json:
        out_json(
            {
                "codex": info.to_json(),
                "form": listing.form,
                "active": listing.active,
                "profiles": [p.to_json() for p in listing.profiles],
                "legacy_default": listing.legacy_default if listing.form == "file" else None,
                "legacy_tables": list(listing.legacy_tables),
            }
        )
        return
    rows = [
        ["*" if p.active else "", p.name, p.provider or "-", p.model or "-", p.reasoning_effort or "-", str(p.path)]
        for p in listing.profiles
    ]
    out_table(["", "NAME", "PROVIDER", "MODEL", "EFFORT", "WHERE"], rows)
    if not listing.profiles:
        say("no profiles yet; add one with `codexprov profile add NAME --provider ID`")
    if listing.form == "file" and (listing.legacy_tables or listing.legacy_default):
        say("legacy [profiles.*] / `profile = …` found in config.toml: run `codexprov profile migrate`", style="yellow")


@profile_app.command("show")
def show_cmd(cli: typer.Context, name: str = typer.Argument(..., metavar="NAME")) -> None:
    """A profile as Codex reads it."""
    from codexprov import profiles

    profile = profiles.get_profile(context(cli).paths, name, _info(cli))
    out(profile.text.rstrip("\n"))
    say(f"{profile.path}" + (" (active)" if profile.active else ""))


@profile_app.command("rm")
def rm_cmd(
    cli: typer.Context,
    name: str = typer.Argument(..., metavar="NAME"),
    force: bool = typer.Option(False, "--force", help="Remove even the default profile (table form)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the diff; write nothing."),
) -> None:
    """Remove a profile (a backup is kept; `codexprov undo` puts it back)."""
    from codexprov import profiles

    _done(profiles.remove_profile(context(cli).paths, name, _info(cli), force=force, dry_run=dry_run))


@profile_app.command("migrate")
def migrate_cmd(
    cli: typer.Context,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the diffs; write nothing."),
) -> None:
    """Turn legacy `profile = …` and [profiles.*] into NAME.config.toml files; the old default stays the default."""
    from codexprov import profiles

    info = _info(cli)
    plan = profiles.migrate(context(cli).paths, info, dry_run=True)
    if not plan.changed:
        say("nothing to migrate: no legacy `profile = …` or [profiles.*] in config.toml")
        return
    for result in plan.edits:
        show_diff(result.diff)
    for warning in plan.warnings:
        say(f"warning: {warning}", style="yellow")
    if dry_run:
        say("dry run: nothing was written")
        return
    confirm(f"Write {len(plan.edits)} file(s)?", yes=yes)
    done = profiles.migrate(context(cli).paths, info, dry_run=False)
    for result in done.edits:
        say(edit_line(result))
    if done.default:
        say(f"the old default `{done.default}` stays the default (its settings are now at the top of config.toml)")
    rows = [[n, f"codex -p {n}"] for n in done.profiles]
    if rows:
        out_table(["PROFILE", "USE WITH"], rows)
