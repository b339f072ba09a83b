"""Why Codex's model picker shows Codex's own models for the active provider (issue 23): its list
could not be had the last time codexprov asked (at `add --use` or `models ID`), and what was
answered. Offline: it reads what that ask left (model_lists.last_failure), asks nothing."""

from __future__ import annotations

from pathlib import Path

from codexprov.codex.builtins import BUILTIN_PROVIDERS
from codexprov.doctor.context import CheckContext, Setup, setup_check
from codexprov.model_lists import last_failure


@setup_check("after-providers")
def picker_list(ctx: CheckContext, setup: Setup) -> None:
    pid = setup.active
    table = setup.tables.get(pid) or {}
    if pid in BUILTIN_PROVIDERS or not table.get("base_url") or not ctx.info.capabilities.model_catalog_json:
        return
    failed = last_failure(ctx.paths, pid, str(table["base_url"]))
    if failed is None:
        return
    from codexprov import picker  # the edit engine behind it: only when an ask failed (nearly never)

    value = None
    for layer in setup.base:  # the system and user layers, lowest first: the last one that sets it wins
        if layer.data is not None and picker.SETTING in layer.data:
            value = layer.data[picker.SETTING]
    if picker.is_ours(ctx.paths, value) and picker.owner_of(Path(str(value)).expanduser())[0] == picker.file_stem(pid):
        return
    reason, when = failed
    shown = "another list (model_catalog_json)" if value else "Codex's own models"
    ctx.add(
        "picker.list",
        "skip",
        f"Codex's model picker shows {shown} for {pid}, not {pid}'s: its list could not be had "
        f"when codexprov last asked ({when[:16].replace('T', ' ')}): {reason}",
        provider=pid,
        fix=f"codexprov models {pid} --refresh  (once it answers: it puts {pid}'s models in the picker)",
    )
