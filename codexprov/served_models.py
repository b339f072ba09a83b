"""`codexprov models ID`: the models a provider serves, from its own `GET {base_url}/models`, asked
the way Codex asks it (query params, static and env headers, and the key from wherever Codex gets
it: the env var, the auth command — `codexprov token ID` for the keyring — or the plain-text
token). A bridged provider's base_url is the bridge, so the list comes through it.

Each list fetched is kept (state dir, per provider and base URL), so that `use ID --model M` can warn
about a model the provider did not list without any network on its hot path. `add --use --model`
fetches live with a short timeout; it warns only on a definite answer (a list without the model),
never because the provider could not be asked.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codexprov.codex.builtins import BUILTIN_PROVIDERS
from codexprov.errors import CodexprovError
from codexprov.paths import Paths
from codexprov.redact import redact_text

CHECK_TIMEOUT = 3.0  # seconds `add` gives the provider to list its models


@dataclass(frozen=True)
class ModelList:
    provider_id: str
    base_url: str
    url: str  # what was asked (secrets masked)
    ids: tuple[str, ...]
    key_from: str  # where the key came from, in words; never the key
    fetched: str  # ISO date and time

    def to_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider_id,
            "url": self.url,
            "models": list(self.ids),
            "key_from": self.key_from,
            "fetched": self.fetched,
        }

    def serves(self, model: str) -> bool:
        from codexprov.doctor.network import serves

        return serves(model, list(self.ids))


def _key(paths: Paths, pid: str, table: dict[str, Any], env: Mapping[str, str]) -> tuple[str | None, str]:
    """The key Codex would send, and where it came from."""
    auth = table.get("auth")
    if isinstance(auth, dict) and auth.get("command"):
        from codexprov.doctor.keysource import DEFAULT_AUTH_TIMEOUT_MS, resolve_command, run_auth_command

        cwd = Path(str(auth.get("cwd") or paths.codex_home))
        command = resolve_command(str(auth["command"]), cwd, env)
        shown = " ".join([str(auth["command"]), *map(str, auth.get("args") or [])])
        if command is None:
            raise CodexprovError(
                f"the auth command `{shown}` of {pid} is not found", hint=f"Fix it: `codexprov doctor {pid}` says how."
            )
        timeout_ms = auth.get("timeout_ms")
        timeout = (timeout_ms if isinstance(timeout_ms, int) and timeout_ms > 0 else DEFAULT_AUTH_TIMEOUT_MS) / 1000
        outcome = run_auth_command(
            [command, *map(str, auth.get("args") or [])], cwd=cwd, env=dict(env), timeout=timeout
        )
        if outcome.error is not None:
            raise CodexprovError(
                f"the auth command `{shown}` of {pid} {outcome.error}, so there is no key to ask with",
                hint=f"`codexprov doctor {pid}` checks the key source.",
            )
        return outcome.token, f"the auth command `{shown}`"
    if table.get("env_key"):
        name = str(table["env_key"])
        value = env.get(name, "").strip()
        if not value:
            raise CodexprovError(
                f"${name} is not set here, so there is no key to ask {pid} with (Codex would fail the same way)",
                hint=f"Set {name}, or run through `codexprov run -- codexprov models {pid}`.",
            )
        return value, f"${name}"
    if table.get("experimental_bearer_token"):
        return str(table["experimental_bearer_token"]), "experimental_bearer_token (plain text in config.toml)"
    if pid == "openai" or table.get("requires_openai_auth"):
        value = env.get("OPENAI_API_KEY", "").strip()
        return (value or None), (
            "$OPENAI_API_KEY" if value else "no key (codexprov cannot use a `codex login` session)"
        )
    return None, "no key"


def fetch(
    paths: Paths,
    provider_id: str,
    *,
    env: Mapping[str, str],
    timeout: float = 10.0,
    transport: Any = None,
    remember: bool = True,
) -> ModelList:
    """Ask the provider for its models (and keep the list for `use --model`)."""
    import httpx

    from codexprov import providers
    from codexprov.doctor.network import model_ids

    info = providers.get_provider(paths, provider_id)
    table = info.table
    if not info.base_url:
        raise CodexprovError(
            f"{provider_id} has no base_url in the config, so there is no /models to ask",
            hint=f"Built-ins such as {provider_id} are reached through their own cloud SDKs; set base_url to ask an endpoint.",
        )
    key, key_from = _key(paths, provider_id, table, env)
    headers = {str(k): str(v) for k, v in (table.get("http_headers") or {}).items()}
    for header, var in (table.get("env_http_headers") or {}).items():
        if env.get(str(var)):
            headers[str(header)] = env[str(var)]
    if key:
        headers["Authorization"] = f"Bearer {key}"
    params = {str(k): str(v) for k, v in (table.get("query_params") or {}).items()}
    url = str(info.base_url).rstrip("/") + "/models"
    shown = redact_text(str(httpx.URL(url, params=params)) if params else url)
    try:
        with httpx.Client(timeout=timeout, transport=transport, follow_redirects=True) as client:
            response = client.get(url, params=params, headers=headers)
    except httpx.HTTPError as err:
        raise CodexprovError(
            f"GET {shown}: {redact_text(str(err)) or type(err).__name__}",
            hint=f"Is the server up? `codexprov doctor {provider_id}` checks the route and the key.",
        ) from None
    if response.status_code in (401, 403):
        raise CodexprovError(
            f"GET {shown}: HTTP {response.status_code}: {provider_id} refused the key from {key_from}",
            hint=f"Store the right key (`codexprov key set {provider_id}`), or check the env var.",
        )
    if response.status_code != 200:
        raise CodexprovError(
            f"GET {shown}: HTTP {response.status_code}; {provider_id} does not list its models there",
            hint="Codex works without /models; pick the model from the provider's documentation.",
        )
    try:
        ids = model_ids(response.json())
    except ValueError:
        ids = None
    if ids is None:
        raise CodexprovError(
            f"GET {shown} did not return a model list",
            hint="Codex works without /models; pick the model from the provider's documentation.",
        )
    listing = ModelList(
        provider_id, str(info.base_url), shown, tuple(ids), key_from, time.strftime("%Y-%m-%dT%H:%M:%S%z")
    )
    if remember:
        _remember(paths, listing)
    return listing


def _cache_file(paths: Paths, provider_id: str) -> Path:
    digest = hashlib.sha256(f"{paths.codex_home}\0{provider_id}".encode()).hexdigest()[:24]
    return paths.state_dir / "models" / f"{digest}.json"


def _remember(paths: Paths, listing: ModelList) -> None:
    from codexprov.config.transaction import write_atomic

    target = _cache_file(paths, listing.provider_id)
    try:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = {
            "provider": listing.provider_id,
            "base_url": listing.base_url,
            "url": listing.url,
            "models": list(listing.ids),
            "key_from": listing.key_from,
            "fetched": listing.fetched,
        }
        write_atomic(target, json.dumps(data, indent=1) + "\n", existed=target.exists())
    except (OSError, CodexprovError):
        pass  # a list that cannot be kept only means `use` cannot warn


def remembered(paths: Paths, provider_id: str, base_url: str) -> ModelList | None:
    """The last list fetched for this provider, if it was fetched from this base URL (no network;
    one small file read, nothing when there is none)."""
    try:
        data = json.loads(_cache_file(paths, provider_id).read_text(encoding="utf-8"))
        if data["base_url"] != base_url:
            return None
        return ModelList(
            provider_id,
            base_url,
            str(data["url"]),
            tuple(map(str, data["models"])),
            str(data["key_from"]),
            str(data["fetched"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def unserved_warning(listing: ModelList, model: str) -> str | None:
    """The warning for a model the provider's list does not have (None: it does, or it lists none)."""
    if not listing.ids or listing.serves(model):
        return None
    shown = ", ".join(listing.ids[:8]) + (", …" if len(listing.ids) > 8 else "")
    return (
        f"{listing.provider_id} does not list `{model}` among its {len(listing.ids)} models "
        f"(listed {listing.fetched[:10]}: {shown}); Codex will send it anyway. `codexprov models {listing.provider_id}` shows them all"
    )


def check_remembered(paths: Paths, provider_id: str, model: str, data: Mapping[str, Any] | None) -> str | None:
    """For `use ID --model M`: a warning from the last list fetched, without any network or a
    second parse (`data` is the config as the edit left it)."""
    table = ((data or {}).get("model_providers") or {}).get(provider_id) or {}
    builtin = BUILTIN_PROVIDERS.get(provider_id)
    base_url = table.get("base_url") or (builtin.base_url if builtin else None)
    listing = remembered(paths, provider_id, str(base_url)) if base_url else None
    return unserved_warning(listing, model) if listing is not None else None


def check_live(
    paths: Paths, provider_id: str, model: str, *, env: Mapping[str, str], timeout: float = CHECK_TIMEOUT
) -> str | None:
    """For `add --use --model M`: ask now (short timeout); warn only when the provider's list lacks it."""
    try:
        listing = fetch(paths, provider_id, env=env, timeout=timeout)
    except CodexprovError:
        return None  # could not ask: not a verdict on the model
    return unserved_warning(listing, model)
