"""CLI: import cc-switch / ocx (core: codexprov.importers)."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from codexprov.cli.app import app, confirm, context, out, out_json, out_table, render, say, show_diff
from codexprov.errors import KeyringUnavailableError

if TYPE_CHECKING:
    from codexprov.context import Context
    from codexprov.importers import Source

import_app = typer.Typer(
    name="import",
    help="Import providers from other tools (cc-switch, ocx) into config.toml: keys into the keyring.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(import_app, name="import")


def _import_command(name: str, importer: str, *, doc: str, default: str, use_help: str) -> None:
    """Register `import NAME`: read the tool's file with `codexprov.importers.<importer>` (its
    `default_path()` and `read(path)`), then `run_import`. Every import format has these options."""

    @import_app.command(name, help=doc)
    def command(
        cli: typer.Context,
        source_path: str | None = typer.Option(
            None, "--from", metavar="PATH", help=f"The file to read (default: {default})."
        ),
        dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan and the diff; write nothing."),
        yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
        use: bool = typer.Option(False, "--use", help=use_help),
        replace: bool = typer.Option(
            False, "--replace", help="Rewrite providers imported before whose table now differs from the source."
        ),
        as_json: bool = typer.Option(False, "--json", help="The plan as JSON (with --dry-run, or after writing)."),
    ) -> None:
        reader = importlib.import_module(f"codexprov.importers.{importer}")  # its own deps (sqlite3) only when run
        path = Path(source_path).expanduser() if source_path else reader.default_path()
        run_import(context(cli), reader.read(path), dry_run=dry_run, yes=yes, use=use, as_json=as_json, replace=replace)


_import_command(
    "cc-switch",
    "cc_switch",
    doc="Import cc-switch's Codex providers (its SQLite database, opened read-only).",
    default="$CC_SWITCH_CONFIG_DIR/cc-switch.db, else ~/.cc-switch/cc-switch.db",
    use_help="Also make cc-switch's current provider the active one.",
)
_import_command(
    "ocx",
    "ocx",
    doc="Import ocx (opencodex) providers from its config.json.",
    default="$OPENCODEX_HOME/config.json, else ~/.opencodex/config.json",
    use_help="Also make ocx's default provider the active one.",
)


def run_import(
    ctx: Context, source: Source, *, dry_run: bool, yes: bool, use: bool, as_json: bool = False, replace: bool = False
) -> None:
    """Plan, show the plan and the diff, confirm, then write in one transaction."""
    from codexprov.bridge import manage as bridge_manage
    from codexprov.cli.providers import _codex_label, _token_auth
    from codexprov.importers import plan as planning
    from codexprov.recipes import load_catalog

    paths = ctx.paths
    layout = ctx.bridge_layout
    codex = ctx.codex
    store = _open_store(source, dry_run=dry_run)
    planner = planning.Planner(
        catalog=load_catalog(paths),
        token_auth=_token_auth,
        capabilities=codex.capabilities,
        codex_label=_codex_label(codex),
        bridge_url=lambda: bridge_manage.planned_base_url(layout),
        store=store,
        replace=replace,
    )
    plan = planning.plan_import(paths, source, planner, use=use, env=dict(os.environ))
    if as_json:
        out_json(_plan_json(plan, dry_run))
    else:
        _show_plan(plan)
    for note in planning.summary(plan):
        say(
            f"warning: {note.text}" if note.level == "warning" else note.text,
            style="yellow" if note.level == "warning" else None,
        )
    problem = planning.nothing_left(plan)
    if problem is not None:
        raise problem
    if not plan.changes:
        count = len(plan.importable)
        say(
            f"nothing to import: the {count} provider{'s' if count != 1 else ''} from {source.tool} "
            f"{'are' if count != 1 else 'is'} already in {paths.config_file} as imported; nothing changed"
        )
        return
    if plan.preview is not None and not as_json:
        show_diff(plan.preview.diff)
    if dry_run:
        keys = [str(e.provider_id) for e in plan.entries if e.store_key]
        if keys:
            say(f"would store keys in the OS keyring for: {', '.join(keys)}")
        say("dry run: nothing was written")
        return
    count = len(plan.new)
    confirm(f"Import {count} provider{'s' if count != 1 else ''} into {paths.config_file} as shown?", yes=yes)
    render(planning.commit_import(plan, paths, store=store, bridge_layout=layout))


def _open_store(source, *, dry_run: bool):
    """The keyring, to compare keys with (so a second import knows they are there). A dry run goes
    on without it; a real import needs it whenever a key or the bridge is involved."""
    from codexprov import credentials

    if not any(c.key or c.bridge or c.key_var for c in source.candidates):
        return None
    try:
        return credentials.open_store()
    except KeyringUnavailableError:
        if dry_run:
            return None
        raise


def _show_plan(plan) -> None:
    rows = []
    for entry in plan.entries:
        status = f"skip: {entry.reason}" if entry.status == "skip" else _STATUS[entry.status]
        current = " (current)" if entry.current else ""
        rows.append([entry.source_id + current, entry.provider_id or "-", entry.route, entry.key_label, status])
    out_table([plan.source.tool.upper(), "ID", "ROUTE", "KEY", "STATUS"], rows)


_STATUS = {"new": "new", "replace": "replace", "unchanged": "unchanged", "key": "unchanged (key to store)"}


def _plan_json(plan, dry_run: bool) -> dict:
    return {
        "source": str(plan.source.path),
        "tool": plan.source.tool,
        "dry_run": dry_run,
        "use": plan.use_id,
        "entries": [e.to_json() for e in plan.entries],
    }


@app.command("export")
def export_cmd(
    cli: typer.Context,
    provider_ids: list[str] = typer.Argument(..., metavar="ID", help="The providers to export."),
    to: str = typer.Option(..., "--to", metavar="DIR", help="The folder to write ID.toml recipe files into."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the recipes; write nothing."),
) -> None:
    """Providers as recipe files, keys by reference only: `CODEXPROV_RECIPES_PATH=DIR codexprov add ID` gives them back."""
    from codexprov.importers import export

    results = export.export(
        context(cli).paths,
        list(provider_ids),
        Path(to).expanduser(),
        bridge_layout=context(cli).bridge_layout,
        dry_run=dry_run,
    )
    for item in results:
        if dry_run:
            out(f"# {item.path}")
            out(item.text.rstrip("\n"))
        else:
            verb = "wrote" if item.changed else "unchanged"
            say(f"{verb} {item.path} (key: {item.key})")
        for note in item.notes:
            say(f"warning: {note}", style="yellow")
    if dry_run:
        say("dry run: nothing was written")
    else:
        folder = Path(to).expanduser()
        say(f"on another machine: CODEXPROV_RECIPES_PATH={folder} codexprov add ID")
