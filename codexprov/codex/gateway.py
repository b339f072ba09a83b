"""What Codex puts in a request that gateways refuse, and the settings that take it out.

Seen with a logging server on 127.0.0.1 (0.133.0 to 0.169.0): a turn offers tools of type
`function`, `namespace` (the multi-agent tools), `web_search`, and for models whose catalog entry
asks for it `custom` (a freeform apply_patch) or `tool_search`. For the slugs the bundled catalog
marks `use_responses_lite` (gpt-5.6-*, gpt-6-*, gpt-6.1-*, also behind a prefix such as
`openai/gpt-5.6-sol`) Codex from 0.145 sends `X-OpenAI-Internal-Codex-Responses-Lite: true` and no
`tools` at all, even to a custom base_url. Gateways that forward to other vendors (Azure, LiteLLM,
OpenRouter, relays) reject these (openai/codex#31022, #31870, #32318, litellm#36182).

What takes each out, verified by a turn against a server that rejects it:
- `web_search`:     top-level `web_search = "disabled"` (also drops `tool_search`);
- `namespace`:      `[features] multi_agent = false`;
- `custom` and `responses_lite`: `model_catalog_json = PATH`, a copy of this Codex's own bundled
  catalog (`codex debug models --bundled`) with `use_responses_lite = false`, no `tool_mode`, no
  `multi_agent_version` and no `apply_patch_tool_type` on every model (the model then edits files
  through the shell tool instead of a freeform apply_patch).
These are top-level settings: they apply to every provider while they stay in config.toml.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codexprov.codex.capabilities import Capabilities

# What a recipe's `rejects` may list: the parts of Codex's requests its gateway refuses.
REQUEST_PARTS = ("web_search", "namespace", "custom", "responses_lite")
CATALOG_FILE = "codexprov-model-catalog.json"
# The catalog fields that make Codex send what gateways refuse, and the values that do not.
_CATALOG_OVERRIDES: dict[str, Any] = {
    "use_responses_lite": False,
    "tool_mode": None,
    "multi_agent_version": None,
    "apply_patch_tool_type": None,
}


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
    if "custom" in rejects or ("responses_lite" in rejects and caps.responses_lite):
        if caps.model_catalog_json:
            catalog_path = codex_home / CATALOG_FILE
            settings.append(
                Setting(("model_catalog_json",), str(catalog_path), "no Responses-lite requests and no freeform tools")
            )
        else:
            notes.append("this Codex has no model_catalog_json: its catalog models may still be sent freeform tools")
    return GatewayFix(tuple(settings), catalog_path, tuple(notes))


def missing(fix: GatewayFix, config: Mapping[str, Any]) -> list[Setting]:
    """The settings of `fix` that the effective top-level config does not have (for doctor)."""
    absent = []
    for setting in fix.settings:
        node: Any = config
        for key in setting.path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if setting.path == ("model_catalog_json",):
            if not isinstance(node, str) or not node:
                absent.append(setting)
        elif node != setting.value:
            absent.append(setting)
    return absent


def bundled_catalog(binary: Path, timeout: float = 30) -> dict[str, Any]:
    """This Codex's own model catalog (`codex debug models --bundled`), run with a throwaway
    CODEX_HOME so that nothing of the user's is read or written. Raises OSError/ValueError/
    subprocess errors."""
    with tempfile.TemporaryDirectory(prefix="codexprov-catalog-") as tmp:
        env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": tmp, "CODEX_HOME": str(Path(tmp) / ".codex")}
        proc = subprocess.run(
            [str(binary), "debug", "models", "--bundled"],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            stdin=subprocess.DEVNULL,
            check=True,
        )
    data = json.loads(proc.stdout)
    if not isinstance(data, dict) or not isinstance(data.get("models"), list):
        raise ValueError("`codex debug models --bundled` printed no model list")
    return data


def gateway_catalog(bundled: Mapping[str, Any]) -> str:
    """The catalog file text: every model of `bundled`, with what gateways refuse switched off."""
    models = []
    for model in bundled.get("models") or []:
        if isinstance(model, Mapping):
            models.append({**model, **_CATALOG_OVERRIDES})
    return json.dumps({**bundled, "models": models}, indent=1, ensure_ascii=False) + "\n"
