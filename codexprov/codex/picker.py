"""The list Codex's model picker shows for a provider: a `model_catalog_json` document built from the
models the provider serves.

Codex (0.169 to 0.171) shows its own bundled catalog for a custom provider unless a catalog replaces
it; the top-level `model_catalog_json` file does, and Codex refuses a file whose entries are
incomplete (`codex exec` and `codex debug models` exit 1). So each entry here is a whole entry of the
installed release (`codex debug models --bundled`, read by codex.catalog), never a hand-kept field
list: the release's plain model (the first listed entry without Responses-Lite: gpt-5.5 on 0.171) is
the template, copied, renamed, and cleared of what belongs to OpenAI's model and is unsafe for a
foreign one. Verified with 0.171.0: `codex debug models` then lists exactly these slugs, and a real
turn with any of them reaches the provider with only `function` tools.

Cleared on every entry:
- the request-shape flags (`use_responses_lite`, `tool_mode`, `multi_agent_version`,
  `apply_patch_tool_type`, `experimental_supported_tools`: catalog.safe_defaults with every part a
  gateway may refuse), so Codex sends neither the Lite header nor freeform or namespace tools;
- `supports_search_tool` (no `tool_search`), the speed tiers (`service_tiers`,
  `additional_speed_tiers`: OpenAI's priority processing), `upgrade` and `availability_nux`
  (prompts to move to an OpenAI model), and the description of OpenAI's model.
Kept from the template: reasoning levels, context window, modalities, instructions, truncation
(the installed release's defaults, which the user may narrow with `model_context_window`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from codexprov.codex.catalog import REQUEST_PARTS, Catalog, CatalogError, ModelEntry

__all__ = ["picker_catalog", "picker_catalog_text", "picker_order", "template"]

# Fields of OpenAI's entry that do not describe a foreign model, and what they become.
_FOREIGN: dict[str, Any] = {
    "description": "",
    "supports_search_tool": False,
    "service_tiers": [],
    "additional_speed_tiers": [],
    "upgrade": None,
    "availability_nux": None,
}


def template(bundled: Catalog) -> ModelEntry:
    """The release's plain model: the first listed entry without Responses-Lite (gpt-5.5 on 0.171).
    CatalogError when the release has none."""
    plain = [e for e in bundled.entries if not e.use_responses_lite]
    listed = [e for e in plain if e.visibility in (None, "list")]
    if listed or plain:
        return (listed or plain)[0]
    raise CatalogError(f"{bundled.source or 'the catalog'} has no model without Responses-Lite to build entries from")


def picker_order(ids: Iterable[str], model: str | None) -> list[str]:
    """The provider's ids, de-duplicated in its own order, with the configured `model` first when the
    provider lists it (a model it does not list stays out: the picker shows what it serves)."""
    slugs = list(dict.fromkeys(slug for slug in ids if slug))
    if model in slugs:
        slugs.remove(model)
        slugs.insert(0, model)
    return slugs


def picker_catalog(
    bundled: Catalog,
    ids: Iterable[str],
    model: str | None = None,
    facts: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A complete `model_catalog_json` document listing exactly `ids` (ordered by picker_order), each
    entry the release's template with the foreign fields and every request part a gateway may
    refuse switched off (a gateway recipe's `rejects` is a subset, so its flags hold too), and what
    is known of the model (`facts`: model_lists.ModelFacts per id) in place of the template's. Empty
    `ids` are refused (CatalogError): Codex refuses `{"models": []}`."""
    slugs = picker_order(ids, model)
    if not slugs:
        raise CatalogError("the provider listed no models, and Codex refuses an empty catalog")
    plain = template(bundled)
    base = plain.safe_defaults(REQUEST_PARTS) | _FOREIGN
    models = []
    for priority, slug in enumerate(slugs):
        entry = base | {"slug": slug, "display_name": slug, "visibility": "list", "priority": priority}
        known = (facts or {}).get(slug)
        models.append(_with_facts(entry, known) if known is not None else entry)
    return {**bundled.data, "models": models}


def _with_facts(entry: dict[str, Any], facts: Any) -> dict[str, Any]:
    """The entry with what is known of the model. Reasoning: the efforts it takes (the template's
    description where it has one; `medium` the default when taken, else the first), or none at
    all (Codex then sends no effort; seen on 0.169 and 0.171: `reasoning: {}`). A context window
    also bounds `max_context_window` (Codex's ceiling for `model_context_window`)."""
    entry = dict(entry)
    if facts.name:
        entry["display_name"] = facts.name
    if facts.context_window:
        entry["context_window"] = facts.context_window
        entry["max_context_window"] = facts.context_window
    if facts.reasoning is not None:
        known = {
            lvl.get("effort"): lvl for lvl in entry.get("supported_reasoning_levels") or [] if isinstance(lvl, dict)
        }
        levels = [known.get(e) or {"effort": e, "description": e} for e in facts.reasoning]
        entry["supported_reasoning_levels"] = levels
        efforts = list(facts.reasoning)
        entry["default_reasoning_level"] = ("medium" if "medium" in efforts else efforts[0]) if efforts else None
    if facts.input is not None:
        entry["input_modalities"] = list(facts.input)
    return entry


def picker_catalog_text(
    bundled: Catalog, ids: Iterable[str], model: str | None = None, facts: Mapping[str, Any] | None = None
) -> str:
    return json.dumps(picker_catalog(bundled, ids, model, facts), indent=1, ensure_ascii=False) + "\n"
