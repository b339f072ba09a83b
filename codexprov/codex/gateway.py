"""What Codex puts in a request that gateways refuse, and the settings that take it out.

Seen with a logging server on 127.0.0.1 (0.133.0 to 0.171.0): a turn offers tools of type
`function`, `namespace` (the multi-agent tools; for gpt-6.x also `clock` and code mode's
`collaboration`), `web_search`, and for models whose catalog entry asks for it `custom` (a freeform
apply_patch) or `tool_search`. For the slugs the installed Codex's catalog marks
`use_responses_lite` (`codex/catalog.py` reads them from the binary) Codex from 0.145 sends
`X-OpenAI-Internal-Codex-Responses-Lite: true` and no `tools` at all, even to a custom base_url.
Gateways that forward to other vendors (Azure, LiteLLM, OpenRouter, relays) reject these
(openai/codex#31022, #31870, #32318, litellm#36182).

What takes each out, verified by a turn against a server that rejects it:
- `web_search`:     top-level `web_search = "disabled"`;
- `namespace`:      `[features] multi_agent = false` (drops the multi-agent namespace and
  `tool_search`), and in the catalog no `experimental_supported_tools` (gpt-6.x's `clock` is a
  namespace whatever the feature says) and no `multi_agent_version`;
- `custom` and `responses_lite`: `model_catalog_json = PATH`, a copy of this Codex's own bundled
  catalog with `use_responses_lite = false`, no `tool_mode` and no `apply_patch_tool_type` on every
  model (the model then edits files through the shell tool instead of a freeform apply_patch); see
  `catalog.ModelEntry.safe_defaults`.
These are top-level settings: they apply to every provider while they stay in config.toml.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codexprov.codex import catalog
from codexprov.codex.capabilities import Capabilities
from codexprov.codex.catalog import REQUEST_PARTS

__all__ = ["CATALOG_FILE", "REQUEST_PARTS", "GatewayFix", "Setting", "gateway_fix", "missing"]

CATALOG_FILE = "codexprov-model-catalog.json"


@dataclass(frozen=True)
class Setting:
    """One top-level config value: `path` ("web_search", or ("features", "multi_agent"))."""

    path: tuple[str, ...]
    value: Any
    why: str

    @property
    def text(self) -> str:
        return f"{'.'.join(self.path)} = {json.dumps(self.value)}"


@dataclass(frozen=True)
class GatewayFix:
    """The settings that let a gateway refusing `rejects` take this Codex's requests."""

    settings: tuple[Setting, ...]
    catalog_path: Path | None  # the model catalog file the settings point at (to be written), if any
    notes: tuple[str, ...] = field(default=())  # what this Codex version cannot be made to leave out

    def as_root(self) -> dict[tuple[str, ...], Any]:
        return {s.path: s.value for s in self.settings}


def gateway_fix(rejects: tuple[str, ...] | list[str], caps: Capabilities, codex_home: Path) -> GatewayFix:
    settings: list[Setting] = []
    notes: list[str] = []
    if "web_search" in rejects:
        if caps.web_search_setting:
            settings.append(Setting(("web_search",), "disabled", "the gateway has no web_search tool"))
        else:
            notes.append("this Codex cannot turn its web_search tool off (`web_search` setting: 0.133 and newer)")
    if "namespace" in rejects:
        settings.append(
            Setting(("features", "multi_agent"), False, "the gateway refuses namespace tools (multi-agent)")
        )
    catalog_path = None
    if "custom" in rejects or "namespace" in rejects or ("responses_lite" in rejects and caps.responses_lite):
        if caps.model_catalog_json:
            catalog_path = codex_home / CATALOG_FILE
            settings.append(
                Setting(
                    ("model_catalog_json",),
                    str(catalog_path),
                    "no Responses-lite requests and no freeform or namespace tools from the model catalog",
                )
            )
        else:
            notes.append("this Codex has no model_catalog_json: its catalog models may still be sent freeform tools")
    return GatewayFix(tuple(settings), catalog_path, tuple(notes))


def missing(fix: GatewayFix, config: Mapping[str, Any], rejects: tuple[str, ...] | list[str] = ()) -> list[Setting]:
    """The settings of `fix` that the effective top-level config does not have (for doctor). A
    `model_catalog_json` counts as missing too when its file still makes Codex send one of
    `rejects` (a catalog written before Codex added that, e.g. gpt-6.x's `clock` namespace); a
    file that cannot be read is left to the checks about that file."""

    absent = []
    for setting in fix.settings:
        node: Any = config
        for key in setting.path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if setting.path == ("model_catalog_json",):
            if not isinstance(node, str) or not node:
                absent.append(setting)
                continue
            try:
                found = catalog.read_file(Path(node).expanduser())
            except catalog.CatalogError:
                continue
            if any(entry.brings(part) for entry in found.entries for part in rejects):
                absent.append(setting)
        elif node != setting.value:
            absent.append(setting)
    return absent
