"""An add for a gateway recipe: the settings that keep the parts of Codex's requests it refuses out."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from codexprov.adding.model import AddPlan, AddRequest
from codexprov.codex import catalog, gateway
from codexprov.codex.capabilities import capabilities as caps_for
from codexprov.codex.capabilities import format_version
from codexprov.paths import Paths
from codexprov.result import info, next_step, warning


def gateway_settings(paths: Paths, recipe, plan: AddPlan, request: AddRequest, codex_binary: Path | None):
    """The gateway settings for a recipe that `rejects` parts of Codex's requests (custom providers only)."""
    rejects = tuple(getattr(recipe, "rejects", ()))
    if not rejects or plan.spec is None:
        return None, None, ()
    fix = gateway.gateway_fix(rejects, plan.capabilities or caps_for(None), paths.codex_home)
    notes = [warning(n) for n in fix.notes]
    if not request.use:
        listed = "; ".join(s.text for s in fix.settings)
        notes.append(
            next_step(
                f"{plan.provider_id} is a gateway that refuses parts of Codex's requests: with `--use` add also writes {listed}"
            )
        )
        return None, None, tuple(notes)
    catalog_text = None
    if fix.catalog_path is not None:
        try:
            if codex_binary is None:
                raise catalog.CatalogError("no `codex` found")
            caps = plan.capabilities or caps_for(None)
            bundled = catalog.bundled(paths, codex_binary, format_version(caps.version))
            catalog_text = bundled.for_server_text(rejects)
        except catalog.CatalogError as err:
            fix = dataclasses.replace(
                fix, settings=tuple(s for s in fix.settings if s.path != ("model_catalog_json",)), catalog_path=None
            )
            notes.append(
                warning(
                    f"no model catalog written ({err}): Codex's catalog models may still get Responses-lite requests and freeform tools"
                )
            )
    notes.append(
        info(f"for the {recipe.id} gateway, also set (for every provider): " + "; ".join(s.text for s in fix.settings))
    )
    return fix, catalog_text, tuple(notes)
