"""`codexprov export ID … --to DIR`: providers as recipe files (recipes/README.md's format) that
`CODEXPROV_RECIPES_PATH=DIR codexprov add ID` turns back into the same provider table.

A key is exported by reference only, never by value: a keyring provider's recipe asks for a key
(`add` prompts, or takes `--key-stdin`), an env-mode provider's names its variable (`key_mode =
"env"`), a provider with its own auth command keeps the command. A bridged provider is exported as
its upstream (LiteLLM's route, the upstream URL, the key variable), not the bridge's local port: `add`
on another machine puts it behind that machine's bridge. A plain-text key in the table is left out
(the recipe asks for a key instead, and the export says so).
"""

from __future__ import annotations

import datetime
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codexprov.adding import default_env_key
from codexprov.bridge.layout import Layout, read_state
from codexprov.codex.builtins import BUILTIN_PROVIDERS
from codexprov.config.document import load
from codexprov.credentials import is_token_auth
from codexprov.errors import CodexprovError, NotFoundError, UsageError
from codexprov.keys import find_plaintext
from codexprov.paths import Paths
from codexprov.providers import not_found
from codexprov.recipes import EXTRA_FIELDS, GENERIC_BRIDGE, _Problem, parse_recipe
from codexprov.safe_write import write_atomic

# Fields `add` writes or decides itself; anything else in a table is named as not exported.
_HANDLED = {"name", "base_url", "wire_api", "env_key", "env_key_instructions", "http_headers", "query_params"}
_HANDLED |= {"env_http_headers", "auth", "experimental_bearer_token", "requires_openai_auth"}
_LOOPBACK = re.compile(r"^https?://(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(/|$)", re.IGNORECASE)
# Where LiteLLM's native routes call when the recipe names no api_base (for the recipe's base_url).
_NATIVE_URLS = {
    "anthropic": "https://api.anthropic.com/v1",
    "gemini": "https://generativelanguage.googleapis.com/v1beta/openai",
}


@dataclass(frozen=True)
class Exported:
    """A provider written out as a recipe: the file, its text and how the recipe gets the key."""

    provider_id: str
    path: Path
    text: str
    key: str  # how the recipe gets the key: "ask for a key", "env $VAR", "none", "command: …"
    changed: bool
    notes: tuple[str, ...] = field(default=())


def export(
    paths: Paths, ids: list[str], folder: Path, *, bridge_layout: Layout | None = None, dry_run: bool = False
) -> list[Exported]:
    """Write DIR/ID.toml for every id (all checked before any file is written)."""
    if not ids:
        raise UsageError("no provider to export", hint="Usage: codexprov export ID [ID ...] --to DIR")
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--to {folder} is not a folder", hint="Pass a folder (it is created when missing).")
    data = load(paths.config_file).data
    tables = data.get("model_providers") if isinstance(data.get("model_providers"), dict) else {}
    assert isinstance(tables, dict)
    upstreams = _upstreams(bridge_layout)
    results = []
    for pid in dict.fromkeys(ids):
        table = tables.get(pid)
        if not isinstance(table, dict) and pid not in BUILTIN_PROVIDERS:
            raise not_found(pid, list(tables), str(paths.config_file))
        active_model = data.get("model") if data.get("model_provider") == pid else None
        recipe, key, notes = recipe_for(pid, table or {}, upstreams.get(pid), active_model)
        text = render(recipe)
        _check_loads(text, folder / f"{pid}.toml")
        target = folder / f"{pid}.toml"
        old = target.read_text(encoding="utf-8") if target.is_file() else None
        results.append(Exported(pid, target, text, key, old != text, tuple(notes)))
    if not dry_run:
        folder.mkdir(parents=True, exist_ok=True)
        for item in results:
            if item.changed:
                write_atomic(item.path, item.text, existed=item.path.exists())
    return results


def _upstreams(layout: Layout | None) -> dict[str, Any]:
    if layout is None:
        return {}

    state = read_state(layout)
    return {u.provider_id: u for u in state.upstreams} if state else {}


def recipe_for(
    pid: str, table: dict[str, Any], upstream: Any, model: str | None
) -> tuple[dict[str, Any], str, list[str]]:
    """The recipe (as TOML data) that gives `table` back, how it gets the key, and what it leaves out."""
    if pid in BUILTIN_PROVIDERS:
        raise UsageError(
            f"`{pid}` is Codex's built-in provider: there is nothing of yours to export",
            hint=f"On another machine, `codexprov add {pid}` (the shipped recipe) configures it.",
        )
    notes: list[str] = []
    name = str(table.get("name") or pid)
    base_url = table.get("base_url")
    recipe: dict[str, Any] = {"format": 1, "name": name}
    if upstream is not None:
        return _bridged(pid, recipe, upstream, model, notes)
    if not isinstance(base_url, str) or not base_url:
        raise UsageError(f"provider `{pid}` has no base_url to export")
    today = datetime.date.today().isoformat()
    recipe |= {
        "kind": "local" if _LOOPBACK.match(base_url) else "hosted",
        "summary": f"exported by codexprov from the provider `{pid}`",
        "responses": "native",
        "responses_checked": today,
        "responses_basis": "none",
        "base_url": _no_braces(base_url, pid, "base_url"),
    }
    auth = table.get("auth")
    plaintext = find_plaintext(pid, table)
    moved = {p.field.split(".", 1)[1] for p in plaintext if p.field.startswith("http_headers.")}
    if plaintext:
        notes.append(
            f"{pid}: its plain-text key ({', '.join(p.field for p in plaintext)}) is not exported: the recipe asks for a key"
        )
    if table.get("requires_openai_auth") and not table.get("env_key") and not isinstance(auth, dict):
        notes.append(f"{pid}: it used Codex's login (auth.json); the recipe asks for a key instead")
    if is_token_auth(auth, pid) or plaintext or table.get("requires_openai_auth"):
        recipe["env_key"] = _env_name(pid)
        key = "ask for a key"
    elif isinstance(table.get("env_key"), str) and table["env_key"]:
        recipe["env_key"] = table["env_key"]
        recipe["key_mode"] = "env"
        key = f"env ${table['env_key']}"
    elif isinstance(auth, dict) and auth.get("command"):
        recipe["needs_key"] = False
        recipe["auth_command"] = {
            k: v for k, v in auth.items() if k in ("command", "args", "timeout_ms", "refresh_interval_ms", "cwd")
        }
        key = "command: " + " ".join([str(auth["command"]), *map(str, auth.get("args") or [])])
    else:
        recipe["needs_key"] = False
        key = "none"
    if isinstance(table.get("env_key_instructions"), str) and "env_key" in recipe:
        recipe["env_key_instructions"] = table["env_key_instructions"]
    if model:
        recipe["default_model"] = model
    for section in ("query_params", "http_headers", "env_http_headers"):
        value = table.get(section)
        if isinstance(value, dict):
            kept = {str(k): _no_braces(str(v), pid, f"{section}.{k}") for k, v in value.items() if k not in moved}
            if kept:
                recipe[section] = kept

    extra = {k: v for k, v in table.items() if k in EXTRA_FIELDS}
    if extra:
        recipe["extra"] = extra
    left = sorted(k for k in table if k not in _HANDLED and k not in EXTRA_FIELDS)
    if left:
        notes.append(f"{pid}: not exported (recipes cannot carry them): {', '.join(left)}")
    return recipe, key, notes


def _bridged(pid: str, recipe: dict[str, Any], upstream: Any, model: str | None, notes: list[str]):
    prefix = upstream.litellm_prefix
    generic = prefix == GENERIC_BRIDGE.litellm_prefix
    base_url = upstream.api_base or _NATIVE_URLS.get(prefix)
    if not base_url:
        raise UsageError(f"provider `{pid}` goes through the bridge as {prefix}/ with no URL codexprov can export")
    recipe |= {
        "kind": "local" if _LOOPBACK.match(base_url) else "hosted",
        "summary": f"exported by codexprov from the provider `{pid}` (through the bridge)",
        "responses": "no",
        "responses_checked": datetime.date.today().isoformat(),
        "responses_basis": "none",
        "base_url": _no_braces(base_url, pid, "base_url"),
    }
    bridge: dict[str, Any] = {"model": f"{prefix}/{{model}}"}
    if upstream.key_var:
        recipe["env_key"] = upstream.key_var
        bridge["env_key"] = upstream.key_var
        key = "ask for a key"
    else:
        recipe["needs_key"] = False
        key = "none"
    if upstream.api_base and not generic:
        bridge["api_base"] = _no_braces(upstream.api_base, pid, "bridge.api_base")
    if model:
        recipe["default_model"] = model
    recipe["bridge"] = bridge
    return recipe, key, notes


def _env_name(pid: str) -> str:
    return default_env_key(pid)


def _no_braces(value: str, pid: str, where: str) -> str:
    if "{" in value or "}" in value:
        raise UsageError(
            f"provider `{pid}`: {where} holds a brace, which a recipe reads as a template placeholder",
            hint="Export the others, and write this recipe by hand (see recipes/README.md).",
        )
    return value


def render(recipe: dict[str, Any]) -> str:
    import tomlkit

    return tomlkit.dumps(recipe)


def _check_loads(text: str, path: Path) -> None:
    """The file must load as a recipe (else it is a codexprov bug, said as such)."""

    try:
        parse_recipe(tomllib.loads(text), path=path, source="team")
    except (_Problem, tomllib.TOMLDecodeError) as err:
        raise CodexprovError(f"the recipe for {path.stem} does not load ({err}); nothing was written") from None


__all__ = ["Exported", "NotFoundError", "export", "recipe_for", "render"]
