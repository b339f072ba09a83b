"""`codexprov remove ID`: the provider's table out of the config, the provider out of the bridge,
and its key out of the keyring (unless kept), as one use case over the context."""

from __future__ import annotations

from dataclasses import dataclass

from codexprov import providers
from codexprov.bridge import manage
from codexprov.context import Context
from codexprov.errors import CodexprovError
from codexprov.result import Note, Outcome, info, notice


@dataclass(frozen=True)
class RemoveRequest:
    """What `remove` was asked: the provider, --force, --keep-key, a dry run."""

    provider_id: str
    force: bool = False  # even the active provider, or one that saved sessions use
    keep_key: bool = False
    dry_run: bool = False


def remove(ctx: Context, request: RemoveRequest) -> Outcome:
    """Remove the table (a transaction), then, when not a dry run, the bridge's entry and the
    keyring's key. The notes say what became of the active provider and the saved sessions."""
    pid, dry_run = request.provider_id, request.dry_run
    removed = providers.remove_provider(
        ctx.paths, pid, force=request.force, dry_run=dry_run, capabilities=ctx.codex.capabilities
    )
    notes: list[Note] = []
    try:
        if not dry_run and manage.forget(ctx.bridge_layout, pid):
            notes.append(info(f"{pid} removed from the bridge"))
    except CodexprovError as err:
        return Outcome((removed.edit,), dry_run=dry_run, error=err)
    if removed.was_active:
        notes.append(notice(f"note: {pid} was active; model_provider removed, so Codex now uses openai"))
    if removed.sessions:
        plural = "s" if removed.sessions != 1 else ""
        if removed.sessions_pinned:
            notes.append(
                notice(
                    f"note: {removed.sessions} session{plural} started with {pid} cannot be resumed until a provider `{pid}` is configured again"
                )
            )
        else:
            notes.append(
                info(
                    f"note: {removed.sessions} session{plural} started with {pid}; this Codex resumes them on the current provider"
                )
            )
    if removed.key_source.kind == "keyring" and not request.keep_key:
        try:
            notes.append(_forget_key(ctx, pid, dry_run))
        except CodexprovError as err:  # the table is gone already: say so, then why the key is not
            return Outcome((removed.edit,), tuple(notes), dry_run=dry_run, error=err)
    return Outcome((removed.edit,), tuple(notes), dry_run=dry_run)


def _forget_key(ctx: Context, pid: str, dry_run: bool) -> Note:
    if dry_run:
        return info(f"would also delete the keyring entry for {pid}")
    if ctx.store().delete(pid):
        return info(
            f"deleted the key for {pid} from the OS keyring (`codexprov undo` brings the provider back "
            f"without it; pass --keep-key to keep it)"
        )
    return info(f"no key for {pid} was in the keyring")
