"""`codexprov use` as one use case over the context: make a provider (with a model) or a profile
the one a plain `codex` uses, the provider picked by a decider when none is named, and say what
follows: the model the provider's last list lacks, what a running Codex does now, and the saved
sessions that stay on their provider.

The Typer command (cli/providers.py) and the fast path before Typer (quick.py) both call `use`.
It is on a measured start-up path (bench/bench_cli.py `use`): the session scan, the app-server
socket, the profile engine and the model lists load only when reached.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from codexprov import providers
from codexprov.context import Context
from codexprov.errors import CodexprovError, UsageError
from codexprov.model_lists import check_remembered
from codexprov.result import Note, Outcome, info, notice, warning

if TYPE_CHECKING:
    from codexprov.config.transaction import EditResult


@dataclass(frozen=True)
class UseRequest:
    """What `use` was asked: a provider (and model), or a profile, maybe as a dry run."""

    provider_id: str | None = None
    model: str | None = None
    profile: str | None = None  # `use --profile NAME` (then no provider_id nor model)
    dry_run: bool = False


@dataclass(frozen=True)
class UseChoice:
    """What the user picked when `use` named nothing: a provider or a profile."""

    provider_id: str | None = None
    profile: str | None = None


class UseDecider(Protocol):
    """The one question `use` asks: which provider or profile, when the command names none."""

    def pick(self, ctx: Context) -> UseChoice | None:
        """The user's pick; None: nobody can be asked (no terminal)."""
        ...


class NoQuestions:
    """The decider of the fast path and of scripts: nothing is asked."""

    def pick(self, ctx: Context) -> UseChoice | None:
        return None


def use(ctx: Context, request: UseRequest, decider: UseDecider) -> Outcome:
    """One edit of config.toml (a transaction), then its notes. A failure after the edit (a
    `--codex` that is missing, say) comes back as the Outcome's error, after what was written."""
    if request.profile is not None:
        if request.provider_id is not None or request.model is not None:
            raise UsageError("give either a provider ID (with --model) or --profile NAME, not both")
        return _use_profile(ctx, request.profile, request.dry_run)
    provider_id = request.provider_id
    if provider_id is None:
        choice = decider.pick(ctx) if request.model is None else None
        if choice is None:
            raise UsageError(
                "missing provider ID (the numbered pick needs a terminal)",
                hint="Usage: codexprov use ID [--model MODEL] | codexprov use --profile NAME",
            )
        if choice.profile is not None:
            return _use_profile(ctx, choice.profile, request.dry_run)
        provider_id = choice.provider_id
        assert provider_id is not None
    return _use_provider(ctx, provider_id, request.model, request.dry_run)


def _use_profile(ctx: Context, name: str, dry_run: bool) -> Outcome:
    from codexprov import profiles  # the profile engine: not on the measured `use ID` path

    return _edited(profiles.use_profile(ctx.paths, name, ctx.codex, dry_run=dry_run))


def _edited(result: EditResult) -> Outcome:
    return Outcome((result,), dry_run=result.dry_run)


def _use_provider(ctx: Context, provider_id: str, model: str | None, dry_run: bool) -> Outcome:
    result = providers.use_provider(ctx.paths, provider_id, model=model, dry_run=dry_run, codex=lambda: ctx.codex)
    notes: list[Note] = []
    try:
        # No network here (use is typed often): the list `codexprov models ID` or `add` last fetched.
        # Without --model, the model the config keeps goes to the new provider: say so when it is
        # not one the provider listed.
        kept = (result.data or {}).get("model")
        wanted = model if model is not None else kept if isinstance(kept, str) and kept else None
        said = check_remembered(ctx.paths, provider_id, wanted, result.data) if wanted else None
        if said:
            notes.append(
                warning(said if model is not None else f"{said}; `codexprov use {provider_id} --model MODEL` picks one")
            )
        if result.changed and not dry_run:
            elsewhere = sessions_elsewhere(ctx, provider_id)
            notes.extend(running_codex_notes(ctx, provider_id, sessions_elsewhere=bool(elsewhere)))
            if elsewhere:
                notes.append(
                    info(
                        f"note: earlier sessions keep the provider they were started with ({elsewhere}); "
                        "`codex resume` continues each there"
                    )
                )
    except CodexprovError as err:  # config.toml changed already: say so, then why the rest was not said
        return Outcome((result,), tuple(notes), dry_run=result.dry_run, error=err)
    return Outcome((result,), tuple(notes), dry_run=result.dry_run)


def running_codex_notes(ctx: Context, provider_id: str, *, sessions_elsewhere: bool) -> list[Note]:
    """One line on what a running Codex does now. Probed on 0.133 to 0.171: the TUI reads
    model_provider again on /new, the app-server (stdio or daemon) on thread/start; an open
    conversation keeps its provider, except that the app-server of 0.166 to 0.169 may refuse to go
    on with it (capabilities.OPEN_THREADS_REFUSED). Said when Codex has been used here or its
    app-server daemon runs (asked over its control socket, only when that socket exists); a daemon
    that still defaults to another provider needs a restart (codex/appserver.py)."""
    from codexprov.codex.appserver import control_socket, daemon_default  # json-rpc client: only when reached

    home = ctx.paths.codex_home
    default = daemon_default(home) if control_socket(home).exists() else None
    if default is not None and default != provider_id:
        return [
            notice(
                f"note: the running Codex app-server daemon still starts new threads on {default}: "
                "restart it with `codex app-server daemon restart`"
            )
        ]
    if not (sessions_elsewhere or default is not None):
        return []
    codex = ctx.codex
    tail = (
        f"; Codex {codex.version_text}'s app-server may refuse open threads of other providers until you switch back"
        if codex.capabilities.open_threads_refused
        else ""
    )
    return [
        info(
            f"note: a running Codex starts its next chat (/new, a new thread) on {provider_id}; no restart needed{tail}"
        )
    ]


def sessions_elsewhere(ctx: Context, provider_id: str) -> str:
    """On a Codex that pins sessions to their provider, the sessions switching does not move
    ("2 on acme, 1 on other"; empty: none).
    Cheap when nothing can be said: no session folder and no state database means no scan, and the
    Codex version and the sessions come from caches (codex/version.py, sessions.SessionIndex).
    """
    from codexprov.codex.version import find_binary  # its subprocess and cache: only when reached
    from codexprov.sessions import find_sessions, has_sessions  # the session scan: only when reached

    home = ctx.paths.codex_home
    if not has_sessions(home):
        find_binary(ctx.codex_binary, ctx.env)  # a --codex that is missing is still an error
        return ""
    if not ctx.codex.capabilities.sessions_keep_provider:
        return ""
    others = {p: n for p, n in find_sessions(home, ctx.paths.cache_dir).counts().items() if p != provider_id}
    return ", ".join(f"{n} on {p}" for p, n in others.items())
