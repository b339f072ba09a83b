"""`codexprov models ID`: the models a provider serves, from its own `GET {base_url}/models`, asked
exactly the way Codex asks it: the URL, headers and key come from `codexprov/codex/reach.py`, the
room `doctor` asks too (the env var byte for byte, `$CODEX_HOME/.env`, the auth command —
`codexprov token ID` for the keyring —, the plain-text token, the `codex login` of
`requires_openai_auth`).

A bridged provider's base_url is the bridge, whose `/models` is LiteLLM's own model map (60 entries
on 1.106 to 1.108, none of them the upstream's, and every bridged upstream mixed under the one
wildcard route), so its list comes from the upstream itself (`upstream_request`): the URL LiteLLM
calls (the bridge state's api_base, else the URL of the recipe whose `[bridge]` names that LiteLLM
provider), with the upstream key from the keyring, in the upstream's own API: Anthropic's
`/v1/models` (`x-api-key`), Gemini's native `/models` (`x-goog-api-key`; names without `models/`,
only models that generate content), or an OpenAI-compatible `/models` (`Bearer`).

Each list fetched is kept (state dir, per provider and base URL), so that `use ID --model M` can warn
about a model the provider did not list without any network on its hot path. `add --use --model`
fetches live with a short timeout; it warns only on a definite answer (a list without the model),
never because the provider could not be asked.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from codexprov.codex import reach
from codexprov.codex.reach import SentKey
from codexprov.errors import CodexprovError
from codexprov.model_lists import ModelFacts, ModelList, remember_failure
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


_WINDOW_FIELDS = ("context_window", "context_length", "max_model_len", "inputTokenLimit")


def entry_facts(entry: Any) -> ModelFacts | None:
    """What one entry of a provider's list says beyond the id: a display name, the context window
    (Groq's `context_window`, OpenRouter's `context_length`, vLLM's `max_model_len`, Gemini's
    `inputTokenLimit`) and, from Gemini's `thinking`, whether it reasons. None: nothing."""
    if not isinstance(entry, dict):
        return None
    window = next(
        (v for k in _WINDOW_FIELDS if isinstance(v := entry.get(k), int) and not isinstance(v, bool) and v > 0), None
    )
    name = entry.get("display_name") or entry.get("displayName")
    if not isinstance(name, str) and isinstance(entry.get("name"), str) and entry.get("id"):
        name = entry["name"]  # OpenRouter: `id` is the slug, `name` the display name
    thinking = entry.get("thinking")
    facts = ModelFacts(
        name if isinstance(name, str) and name else None,
        window,
        () if thinking is False else None,
    )
    return facts if facts.to_json() else None


def list_facts(data: Any) -> dict[str, ModelFacts]:
    """entry_facts per id for an OpenAI-shaped list (`data: [{id, ...}]`)."""
    entries = data.get("data") if isinstance(data, dict) else data
    facts = {}
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            found = entry_facts(entry)
            if found is not None:
                facts[entry["id"]] = found
    return facts


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
    store: Any = None,
) -> ModelList:
    """Ask the provider for its models (and keep the list for `use --model` and Codex's picker, or
    why it could not be had, for `doctor`). A bridged provider's come from its upstream (`store`:
    the keyring holding the upstream key, opened when needed)."""

    from codexprov import providers  # the config's provider tables: not for the doctor's model_ids

    info = providers.get_provider(paths, provider_id)
    try:
        return _fetch(
            paths, provider_id, info, env=env, timeout=timeout, transport=transport, remember=remember, store=store
        )
    except CodexprovError as err:
        if remember and info.base_url:
            remember_failure(paths, provider_id, str(info.base_url), str(err))
        raise


def _fetch(
    paths: Paths,
    provider_id: str,
    info: Any,
    *,
    env: Mapping[str, str],
    timeout: float,
    transport: Any,
    remember: bool,
    store: Any,
) -> ModelList:
    import httpx

    table = info.table
    upstream = _bridged(provider_id, table, env)
    if upstream is not None:
        return _fetch_upstream(
            paths, provider_id, upstream, str(info.base_url or ""), env=env, timeout=timeout, transport=transport,
            remember=remember, store=store,
        )  # fmt: skip
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
        data = response.json()
        ids = model_ids(data)
    except ValueError:
        data, ids = None, None
    if ids is None:
        raise CodexprovError(
            f"GET {shown} did not return a model list",
            hint="Codex works without /models; pick the model from the provider's documentation.",
        )
    listing = ModelList(
        provider_id,
        str(info.base_url),
        shown,
        tuple(ids),
        key_from,
        time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        list_facts(data),
    )
    return _remember(paths, listing) if remember else listing


# ---------------------------------------------------------------------------- bridged providers

ANTHROPIC_VERSION = "2023-06-01"  # the `anthropic-version` Anthropic's API requires on every request
_PAGES = 20  # at most this many pages of a paginated list (Anthropic, Gemini)


@dataclass(frozen=True)
class UpstreamRequest:
    """How to ask a bridged provider's upstream for its models: in its own API ("anthropic",
    "gemini" or "openai"), at `url`, with these query parameters and headers (the key in them)."""

    api: str
    url: str
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict, repr=False)


def _bridged(provider_id: str, table: Mapping[str, Any], env: Mapping[str, str]) -> Any:
    """The bridge's Upstream for a provider behind codexprov's bridge (its table sends the bridge's
    route tag: the bridge state is per user, a provider of the same id in another CODEX_HOME may be
    direct), else None."""
    from codexprov.bridge import layout as bridge_layout

    headers = table.get("http_headers")
    if not isinstance(headers, Mapping) or headers.get(bridge_layout.ROUTE_HEADER) != provider_id:
        return None
    try:
        state = bridge_layout.read_state(bridge_layout.resolve(env))
    except CodexprovError:
        return None
    return state.get(provider_id) if state is not None else None


def _recipe_base_url(paths: Paths, prefix: str, env: Mapping[str, str]) -> str | None:
    """The base URL of the recipe whose `[bridge]` names LiteLLM's provider `prefix` (where LiteLLM
    goes for it when the bridge state names no api_base)."""
    from codexprov.recipes.loading import load_catalog

    for recipe in load_catalog(paths, env).recipes:
        route, url = recipe.bridge, recipe.base_url
        if route is not None and route.litellm_prefix == prefix and url and "{" not in url:
            return url
    return None


def upstream_request(prefix: str, base_url: str, key: str | None) -> UpstreamRequest:
    """The models request for an upstream reached as LiteLLM's `prefix` at `base_url` (LiteLLM's
    api_base, or the recipe's base URL)."""
    base = base_url.rstrip("/")
    if prefix == "anthropic":
        # LiteLLM calls {api_base}/v1/messages; the recipe's URL ends in /v1.
        root = base.removesuffix("/v1")
        headers = {"anthropic-version": ANTHROPIC_VERSION}
        if key:
            headers["x-api-key"] = key
        return UpstreamRequest("anthropic", root + "/v1/models", {"limit": "1000"}, headers)
    if prefix == "gemini":
        # The native API (LiteLLM's gemini/ calls {api_base}/models/M:generateContent), not the
        # recipe's OpenAI compatibility layer: it says which models generate content.
        root = base.removesuffix("/openai")
        return UpstreamRequest("gemini", root + "/models", {"pageSize": "1000"}, {"x-goog-api-key": key} if key else {})
    return UpstreamRequest("openai", base + "/models", {}, {"Authorization": f"Bearer {key}"} if key else {})


def upstream_page(
    api: str, data: Any, facts: dict[str, ModelFacts] | None = None
) -> tuple[list[str] | None, dict[str, str] | None]:
    """The ids on one page of an upstream's answer, and the parameters of the next page (None: last);
    what the entries say beyond the id goes into `facts`."""
    facts = {} if facts is None else facts
    if api == "gemini" and isinstance(data, dict) and isinstance(data.get("models"), list):
        ids: list[str] = []
        for entry in data["models"]:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                continue
            methods = entry.get("supportedGenerationMethods")
            if isinstance(methods, list) and "generateContent" not in methods:
                continue  # embeddings, AQA: not a model Codex can talk to
            model = entry["name"].removeprefix("models/")
            ids.append(model)
            found = entry_facts({k: v for k, v in entry.items() if k != "name"})
            if found is not None:
                facts[model] = found
        token = data.get("nextPageToken")
        return ids, ({"pageToken": token} if isinstance(token, str) and token else None)
    listed = model_ids(data)
    facts.update(list_facts(data))
    if api == "anthropic" and isinstance(data, dict) and data.get("has_more") and isinstance(data.get("last_id"), str):
        return listed, {"after_id": data["last_id"]}
    return listed, None


def _fetch_upstream(
    paths: Paths,
    provider_id: str,
    upstream: Any,
    bridge_url: str,
    *,
    env: Mapping[str, str],
    timeout: float,
    transport: Any,
    remember: bool,
    store: Any,
) -> ModelList:
    """A bridged provider's models, from its upstream (module docstring). Kept under the provider
    table's base_url (the bridge), which is what `use` looks the list up by."""
    import httpx

    base = upstream.api_base or _recipe_base_url(paths, upstream.litellm_prefix, env)
    if not base:
        raise CodexprovError(
            f"{provider_id} goes through the bridge to LiteLLM's {upstream.litellm_prefix} endpoint, whose URL codexprov does not know",
            hint=f"Add it again with --base-url (`codexprov add RECIPE --id {provider_id} --base-url URL --bridge --replace`).",
        )
    key = None
    key_from = "no key (the upstream needs none)"
    if upstream.key_var:
        if store is None:
            from codexprov.credentials import open_store

            store = open_store()
        key = store.get(provider_id)
        if key is None:
            raise CodexprovError(
                f"no key for {provider_id} in the keyring ({store.label}), so there is no key to ask its upstream with",
                hint=f"Store it with `codexprov key set {provider_id}`.",
            )
        key_from = f"the keyring ({provider_id}), as the bridge sends it"
    ask = upstream_request(upstream.litellm_prefix, base, key)
    shown = redact_text(ask.url)
    proxy = reach.proxy_for(ask.url, env)
    proxy_url = None if proxy is None else proxy.url if "://" in proxy.url else "http://" + proxy.url
    ids: list[str] = []
    facts: dict[str, ModelFacts] = {}
    params: dict[str, str] | None = ask.params
    try:
        with httpx.Client(
            timeout=timeout, transport=transport, follow_redirects=True, trust_env=False, proxy=proxy_url
        ) as client:
            for _ in range(_PAGES):
                if params is None:
                    break
                response = client.get(ask.url, params=params, headers=ask.headers)
                # Gemini answers a bad key with 400 API_KEY_INVALID
                if response.status_code in (401, 403) or (response.status_code == 400 and ask.api == "gemini"):
                    raise CodexprovError(
                        f"GET {shown}: HTTP {response.status_code}: the upstream of {provider_id} refused the key from {key_from}",
                        hint=f"Store the right key (`codexprov key set {provider_id}`).",
                    )
                if response.status_code != 200:
                    raise CodexprovError(
                        f"GET {shown}: HTTP {response.status_code}; the upstream of {provider_id} does not list its models there",
                        hint="Codex works without the list; pick the model from the provider's documentation.",
                    )
                try:
                    page, following = upstream_page(ask.api, response.json(), facts)
                    params = None if following is None else {**ask.params, **following}
                except ValueError:
                    page = None
                if page is None:
                    raise CodexprovError(
                        f"GET {shown} did not return a model list",
                        hint="Codex works without the list; pick the model from the provider's documentation.",
                    )
                ids.extend(page)
    except httpx.HTTPError as err:
        raise CodexprovError(
            redact_text(f"GET {shown}: {str(err) or type(err).__name__}"),
            hint=f"Is the upstream up? `codexprov doctor {provider_id}` checks the bridge and the route.",
        ) from None
    listing = ModelList(
        provider_id,
        bridge_url,
        shown,
        tuple(dict.fromkeys(ids)),
        key_from,
        time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        facts,
    )
    return _remember(paths, listing) if remember else listing
