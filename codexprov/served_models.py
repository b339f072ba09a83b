"""`codexprov models ID`: the models a provider serves, from its own `GET {base_url}/models`, asked
exactly the way Codex asks it: the URL, headers and key come from `codexprov/codex/reach.py`, the
room `doctor` asks too (the env var byte for byte, `$CODEX_HOME/.env`, the auth command —
`codexprov token ID` for the keyring —, the plain-text token, the `codex login` of
`requires_openai_auth`). A bridged provider's base_url is the bridge, so the list comes through it.

Each list fetched is kept (state dir, per provider and base URL), so that `use ID --model M` can warn
about a model the provider did not list without any network on its hot path. `add --use --model`
fetches live with a short timeout; it warns only on a definite answer (a list without the model),
never because the provider could not be asked.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from codexprov import providers
from codexprov.codex import reach
from codexprov.codex.builtins import BUILTIN_PROVIDERS
from codexprov.codex.reach import SentKey
from codexprov.errors import CodexprovError
from codexprov.model_lists import ModelList, remembered
from codexprov.model_lists import remember as _remember
from codexprov.paths import Paths
from codexprov.redact import redact_text

CHECK_TIMEOUT = 3.0  # seconds `add` gives the provider to list its models


def model_ids(data: Any) -> list[str] | None:
    """Model ids from an OpenAI list (`data: [{id}]`) or the `models: [{name}|str]` forms some servers use."""
    entries: object
    if isinstance(data, list):
        entries = data
    elif isinstance(data, dict):
        entries = data.get("data")
        if not entries and isinstance(data.get("models"), list):
            entries = data["models"]
        if entries is None:
            return None
    else:
        return None
    if not isinstance(entries, list):
        return None
    ids = []
    for entry in entries:
        if isinstance(entry, str):
            ids.append(entry)
        elif isinstance(entry, dict):
            value = entry.get("id") or entry.get("name") or entry.get("model")
            if isinstance(value, str):
                ids.append(value)
    return ids


def _key(paths: Paths, pid: str, table: dict[str, Any], env: Mapping[str, str]) -> SentKey:
    """The key Codex would send (codex/reach.py), or an error when Codex would have none."""
    key = reach.resolve_key(pid, table, env, paths.codex_home)
    if key.missing is None:
        return key
    if key.source == "env":
        name = str(table["env_key"])
        state = "empty" if key.missing.endswith("empty") else "not set"
        raise CodexprovError(
            f"{key.where} is {state} here, so there is no key to ask {pid} with (Codex would fail the same way)",
            hint=f"Set {name}, or run through `codexprov run -- codexprov models {pid}`.",
        )
    if key.source == "command":
        raise CodexprovError(
            f"{key.missing} of {pid}, so there is no key to ask with",
            hint=f"`codexprov doctor {pid}` checks the key source.",
        )
    raise CodexprovError(
        f"{key.missing}, so there is no key to ask {pid} with (Codex would fail the same way)",
        hint="Log in with the key: printenv OPENAI_API_KEY | codex login --with-api-key",
    )


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

    info = providers.get_provider(paths, provider_id)
    table = info.table
    if not info.base_url:
        raise CodexprovError(
            f"{provider_id} has no base_url in the config, so there is no /models to ask",
            hint=f"Built-ins such as {provider_id} are reached through their own cloud SDKs; set base_url to ask an endpoint.",
        )
    env = reach.startup_env(env, paths.codex_home)
    key = _key(paths, provider_id, table, env)
    key_from = key.where
    headers = reach.request_headers(table, env, key)
    params = reach.query_params(table)
    url = reach.endpoint(str(info.base_url), "models")
    proxy = reach.proxy_for(url, env)
    proxy_url = None if proxy is None else proxy.url if "://" in proxy.url else "http://" + proxy.url
    shown = redact_text(str(httpx.URL(url, params=params)) if params else url)
    try:
        # through the proxy Codex would use (its rules, not httpx's reading of the environment)
        with httpx.Client(
            timeout=timeout, transport=transport, follow_redirects=True, trust_env=False, proxy=proxy_url
        ) as client:
            response = client.get(url, params=params, headers=headers)  # type: ignore[arg-type]  # UTF-8 bytes for non-ASCII values
    except httpx.HTTPError as err:
        through = f" (through the proxy {proxy.url} from ${proxy.variable}, as Codex goes)" if proxy else ""
        raise CodexprovError(
            redact_text(f"GET {shown}{through}: {str(err) or type(err).__name__}"),
            hint=f"Is the server up? `codexprov doctor {provider_id}` checks the route, the key and the proxy.",
        ) from None
    if response.status_code in (401, 403):
        problems = key.problems()
        raise CodexprovError(
            f"GET {shown}: HTTP {response.status_code}: {provider_id} refused the key from {key_from}"
            + (f" ({'; '.join(problems)})" if problems else ""),
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
