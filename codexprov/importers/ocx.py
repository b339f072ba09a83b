"""Read ocx (opencodex) providers from its `config.json`, read-only.

ocx keeps its config in `$OPENCODEX_HOME/config.json`, else `~/.opencodex/config.json`:
`{"port": …, "defaultProvider": NAME, "providers": {NAME: {adapter, baseUrl, apiKey, apiKeyPool,
defaultModel, models, headers, disabled, authMode, …}}}`. ocx itself translates Codex's Responses
requests per `adapter`; codexprov writes what Codex can use without ocx running:

- `openai-responses`, `azure-openai`: the upstream serves the Responses API: a direct provider;
- `openai-chat` (Chat Completions), `anthropic` (Messages) and `google` (Gemini): through
  codexprov's bridge, with LiteLLM's native route for Anthropic and Gemini;
- `apiKey: "${VAR}"`: Codex reads the key from VAR (env key mode; for a bridged provider the value
  is copied into the keyring, which is where the bridge reads keys); an inline key goes into the
  keyring; of an `apiKeyPool` the active key (the one `apiKey` mirrors, else the first) is used and
  the others are named in the output (codexprov keeps one key per provider).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from codexprov.errors import ConfigError, FileAccessError, NotFoundError
from codexprov.importers import Candidate, Skipped, Source

HOME_ENV = "OPENCODEX_HOME"
CONFIG_NAME = "config.json"
DIRECT_ADAPTERS = ("openai-responses", "azure-openai")
# adapter -> the recipe whose native bridge route LiteLLM uses (None: a Chat Completions endpoint)
BRIDGED_ADAPTERS: dict[str, str | None] = {"openai-chat": None, "anthropic": "anthropic", "google": "gemini"}
_ENV_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
MAX_BYTES = 16 * 1024 * 1024


def default_path(env: Mapping[str, str] | None = None) -> Path:
    """`$OPENCODEX_HOME/config.json`, else `~/.opencodex/config.json`."""
    env = os.environ if env is None else env
    home = (env.get(HOME_ENV) or "").strip()
    base = Path(home).expanduser() if home else Path.home() / ".opencodex"
    return base / CONFIG_NAME


def read(path: Path) -> Source:
    data = _load(path)
    providers = data.get("providers")
    if not isinstance(providers, dict):
        raise ConfigError(
            f"{path}: no `providers` object: not an ocx config.json",
            hint="Pass --from with ocx's config.json (in $OPENCODEX_HOME or ~/.opencodex).",
        )
    if not providers:
        raise NotFoundError(f"{path}: ocx has no providers configured", hint="Nothing to import.")
    default = data.get("defaultProvider")
    items = tuple(_candidate(str(name), entry, name == default) for name, entry in providers.items())
    return Source("ocx", path, items)


def _load(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise NotFoundError(
            f"no ocx config at {path}",
            hint=f"Pass --from PATH (ocx keeps it in ${HOME_ENV}/{CONFIG_NAME}, else ~/.opencodex/{CONFIG_NAME}).",
        )
    if not path.is_file():
        raise ConfigError(f"{path} is not a regular file", hint=f"Pass --from with ocx's {CONFIG_NAME}.")
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ConfigError(f"{path} is too large for an ocx config ({path.stat().st_size} bytes)")
        raw = path.read_bytes()
    except OSError as err:
        raise FileAccessError(f"cannot read {path}: {err.strerror or err}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text, so not an ocx config.json") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(
            f"not JSON: {err.msg}",
            path=str(path),
            line=err.lineno,
            column=err.colno,
            hint="ocx writes this file itself; if it was cut short, let ocx write it again, or pass --from a backup.",
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level is not a JSON object: not an ocx config.json")
    return data


def _candidate(name: str, entry: Any, current: bool) -> Candidate | Skipped:
    if not isinstance(entry, dict):
        return Skipped(name, "its entry is not a JSON object")
    if entry.get("disabled") is True:
        return Skipped(name, "it is disabled in ocx")
    adapter = entry.get("adapter")
    if not isinstance(adapter, str) or not adapter:
        return Skipped(name, "it has no adapter")
    auth_mode = entry.get("authMode") or "key"
    if auth_mode in ("forward", "oauth"):
        return Skipped(name, f"it signs in through ocx (authMode {auth_mode}), which only ocx can do: no key to import")
    if adapter in DIRECT_ADAPTERS:
        bridge, route = False, None
    elif adapter in BRIDGED_ADAPTERS:
        bridge, route = True, BRIDGED_ADAPTERS[adapter]
    else:
        known = ", ".join([*DIRECT_ADAPTERS, *BRIDGED_ADAPTERS])
        return Skipped(name, f"its adapter `{adapter}` has no equivalent in codexprov (known: {known})")
    base_url = entry.get("baseUrl")
    if not isinstance(base_url, str) or not base_url.strip():
        return Skipped(name, "it has no baseUrl")
    key, key_var, notes = _key(name, entry)
    keyless = key is None and key_var is None and (auth_mode == "local" or entry.get("keyOptional") is True)
    model = entry.get("defaultModel")
    if not isinstance(model, str) or not model:
        models = entry.get("models")
        model = models[0] if isinstance(models, list) and models and isinstance(models[0], str) else None
    headers = entry.get("headers")
    return Candidate(
        source_id=name,
        name=name,
        base_url=base_url.strip(),
        model=model,
        key=key,
        key_var=key_var,
        bridge=bridge,
        route=route,
        keyless=keyless,
        headers={str(k): str(v) for k, v in headers.items() if isinstance(v, str)} if isinstance(headers, dict) else {},
        current=current,
        notes=tuple(notes),
    )


def _key(name: str, entry: dict[str, Any]) -> tuple[str | None, str | None, list[str]]:
    """(inline key, env var, notes): `apiKey`, else the pool's first key; the other pool keys named."""
    notes: list[str] = []
    api_key = entry.get("apiKey")
    api_key = api_key.strip() if isinstance(api_key, str) and api_key.strip() else None
    pool = [p for p in entry.get("apiKeyPool") or [] if isinstance(p, dict) and isinstance(p.get("key"), str)]
    used = api_key
    if used is None and pool:
        used = pool[0]["key"].strip() or None
    rest = [p for p in pool if p["key"].strip() != used]
    if rest:
        labels = ", ".join(str(p.get("label") or p.get("id") or f"#{pool.index(p) + 1}") for p in rest)
        notes.append(
            f"{name}: its key pool holds {len(rest)} more key{'s' if len(rest) != 1 else ''} ({labels}), not imported: "
            "codexprov keeps one key per provider (add another provider for another key)"
        )
    if used is None:
        return None, None, notes
    ref = _ENV_REF.match(used)
    if ref:
        return None, ref.group(1), notes
    return used, None, notes
