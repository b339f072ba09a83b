"""CLI: list, show, add, use, remove, undo."""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import typer

from codexprov.cli.app import app, confirm, context, render, say, show_diff
from codexprov.errors import UsageError

if TYPE_CHECKING:
    from codexprov.adding import AddRequest, PreparedAdd
    from codexprov.codex.version import CodexInfo
    from codexprov.context import Context
    from codexprov.model import AuthCommand
    from codexprov.recipes import Catalog


@app.command("list")
def list_cmd(
    cli: typer.Context, as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")
) -> None:
    """Every provider Codex knows in this config (built-ins too), the active one, and where keys come from."""
    from codexprov import quick

    quick.list_providers(context(cli).paths, as_json=as_json)


@app.command("show")
def show_cmd(
    cli: typer.Context,
    provider_id: str = typer.Argument(..., metavar="ID"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """One provider's table as Codex will see it (built-in defaults merged in; secrets masked)."""
    from codexprov import quick

    quick.show(context(cli).paths, provider_id, as_json=as_json)


@app.command("add")
def add_cmd(
    cli: typer.Context,
    recipe: str | None = typer.Argument(
        None,
        metavar="RECIPE",
        help="A recipe id (`codexprov recipes`), e.g. custom, groq, azure. None on a terminal: guided.",
    ),
    provider_id: str | None = typer.Option(
        None, "--id", metavar="ID", help="Provider id to write (default: the recipe id)."
    ),
    base_url: str | None = typer.Option(
        None, "--base-url", metavar="URL", help="Base URL (overrides the recipe's URL template)."
    ),
    name: str | None = typer.Option(None, "--name", metavar="NAME", help="Display name."),
    model: str | None = typer.Option(
        None, "--model", metavar="MODEL", help="Model to use with this provider (written with --use)."
    ),
    key_mode: str | None = typer.Option(
        None,
        "--key-mode",
        metavar="keyring|env|none",
        help="Where Codex gets the key (default: keyring when the recipe needs a key).",
    ),
    env_key: str | None = typer.Option(
        None, "--env-key", metavar="VAR", help="Env var holding the key (--key-mode env)."
    ),
    header: list[str] | None = typer.Option(None, "--header", metavar="K=V", help="Static HTTP header (repeatable)."),
    query: list[str] | None = typer.Option(None, "--query", metavar="K=V", help="Query parameter (repeatable)."),
    param: list[str] | None = typer.Option(None, "--param", metavar="K=V", help="Recipe parameter (repeatable)."),
    key_stdin: bool = typer.Option(
        False, "--key-stdin", help="Read the key (keyring mode) from one line of standard input."
    ),
    use: bool = typer.Option(
        False, "--use", help="Also make it the active provider (model_provider, and model when given)."
    ),
    replace: bool = typer.Option(False, "--replace", help="Update an existing provider from the recipe."),
    bridge: bool | None = typer.Option(
        None,
        "--bridge/--no-bridge",
        help="Route it through codexprov's bridge (LiteLLM on 127.0.0.1), or not (default: the recipe says).",
    ),
    fallback: str | None = typer.Option(
        None,
        "--fallback",
        metavar="OTHER_ID",
        help="Bridged only: another bridged provider that serves this one's requests on 429, 5xx and timeouts.",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the diff; write nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    allow_plaintext: bool = typer.Option(
        False,
        "--allow-plaintext",
        help="Write a key given in --header/--query/--base-url into the config as it is (warned).",
    ),
) -> None:
    """Add a provider from a recipe (`custom` for any OpenAI-compatible endpoint)."""
    from codexprov.adding import AddRequest, parse_pairs
    from codexprov.adding.usecase import add
    from codexprov.cli import guided

    if recipe is None and not guided.interactive():
        raise UsageError(
            "missing RECIPE (the guided add needs a terminal)",
            hint="Pass a recipe id (`codexprov recipes` lists them), e.g. "
            "`codexprov add groq --key-stdin --use --model MODEL`, or `codexprov add custom --base-url URL --id ID`.",
        )
    request = AddRequest(
        recipe=recipe or "",  # "": the guided walk picks it
        provider_id=provider_id,
        base_url=base_url,
        name=name,
        model=model,
        key_mode=key_mode,
        env_key=env_key,
        headers=parse_pairs(header, "--header"),
        query=parse_pairs(query, "--query"),
        params=parse_pairs(param, "--param"),
        use=use,
        replace=replace,
        dry_run=dry_run,
        allow_plaintext=allow_plaintext,
        bridge=bridge,
        fallback=fallback,
    )
    render(add(context(cli), request, guided.GuidedAdd() if recipe is None else _FlagAnswers(key_stdin, yes)))


@dataclass(frozen=True)
class _FlagAnswers:
    """`add RECIPE`'s AddDecider: on a terminal it asks for the params and the key the flags did
    not give, and `--replace` shows its diff and asks (unless --yes)."""

    key_stdin: bool
    yes: bool

    def complete(self, ctx: Context, catalog: Catalog, request: AddRequest) -> AddRequest:
        recipe = catalog.get(request.recipe)
        return replace(request, params=_ask_missing(recipe, request.params, request.base_url is not None))

    def key(self, prepared: PreparedAdd) -> str | None:
        return _read_key(prepared.plan.provider_id, self.key_stdin)

    def confirm(self, prepared: PreparedAdd) -> None:
        if not prepared.request.replace:
            return
        # --replace always shows what it changes, and asks unless --yes.
        show_diff(prepared.preview.diff)
        if prepared.kept_note:
            say(prepared.kept_note.text)
        if prepared.preview.changed:
            confirm(f"Replace provider {prepared.plan.provider_id} as shown?", yes=self.yes)


def _codex_label(codex: CodexInfo) -> str:  # also `import`'s (cli/importing.py)
    from codexprov.adding.usecase import codex_label

    return codex_label(codex)


def _token_auth(provider_id: str) -> AuthCommand:
    from codexprov import credentials

    return credentials.token_auth(provider_id)


def _ask_missing(recipe, params: dict[str, str], base_url_given: bool) -> dict[str, str]:
    """On a terminal, ask for the params the recipe needs and the command line did not give."""
    missing = recipe.missing_params(params, base_url_given)
    if not missing or not sys.stdin.isatty():
        return params  # without a terminal, the core names what is missing
    from codexprov.recipes import check_params

    check_params(recipe, params)  # a mistyped --param fails before any question
    filled = dict(params)
    for p in missing:
        filled[p.name] = typer.prompt(f"{p.name} ({p.description})", default=p.default or None, err=True)
    return filled


def _read_key(provider_id: str, key_stdin: bool) -> str | None:
    from codexprov.cli.app import read_stdin_line

    if key_stdin:
        return read_stdin_line(provider_id).strip() or None
    if sys.stdin.isatty():
        value = typer.prompt(
            f"API key for {provider_id} (hidden; empty to set it later)",
            default="",
            hide_input=True,
            show_default=False,
            err=True,
        )
        return value.strip() or None
    return None


@app.command("use")
def use_cmd(
    cli: typer.Context,
    provider_id: str | None = typer.Argument(None, metavar="ID"),
    model: str | None = typer.Option(None, "--model", metavar="MODEL", help="Also set the model."),
    profile: str | None = typer.Option(
        None, "--profile", metavar="NAME", help="Make this profile what a plain `codex` uses."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the diff; write nothing."),
) -> None:
    """Make a provider (or a profile) the one Codex uses."""
    from codexprov.cli.guided import GuidedUse
    from codexprov.using import UseRequest, use

    render(use(context(cli), UseRequest(provider_id, model, profile, dry_run), GuidedUse()))


@app.command("remove")
def remove_cmd(
    cli: typer.Context,
    provider_id: str = typer.Argument(..., metavar="ID"),
    force: bool = typer.Option(
        False,
        "--force",
        help="Remove even the active provider (model_provider is then removed too), or one that saved Codex sessions use.",
    ),
    keep_key: bool = typer.Option(False, "--keep-key", help="Keep its key in the OS keyring."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the diff; write nothing."),
) -> None:
    """Remove a provider's table (and its keyring entry)."""
    from codexprov.removing import RemoveRequest, remove

    render(remove(context(cli), RemoveRequest(provider_id, force, keep_key, dry_run)))


@app.command("undo")
def undo_cmd(
    cli: typer.Context,
    force: bool = typer.Option(False, "--force", help="Restore even if the file changed since codexprov's last edit."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the diff; write nothing."),
) -> None:
    """Put back the config as it was before codexprov's last change."""
    from codexprov.config.transaction import undo

    result = undo(context(cli).paths, force=force, dry_run=dry_run, key_for=lambda pid: context(cli).store().get(pid))
    if dry_run:
        show_diff(result.diff)
        say("dry run: nothing was written")
    else:
        what = "removed (it did not exist before)" if result.removed_file else "restored"
        say(f"undid `{result.description}`: {result.path} {what}")
    would = "would be" if dry_run else "are"
    if result.keys_restored:
        ids = ", ".join(result.keys_restored)
        say(
            f"warning: the keys that had moved into the keyring ({ids}) {would} in plain text in {result.path} again "
            "(the keyring keeps its copies); `codexprov key migrate` moves them back",
            style="yellow",
        )
    for pid in result.keys_missing:
        say(
            f"warning: {pid} reads its key from the keyring, which has none for it (`remove` deleted it); "
            f"store it again with `codexprov key set {pid}`",
            style="yellow",
        )
