"""The model lists `codexprov models` fetched, kept per provider and base URL (state dir), so that
`use ID --model M` and Codex's picker can use the last one without any network. A leaf: it imports
no use case, so `served_models` (which asks providers) and `picker` (which `use` calls) both can."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from codexprov.codex.builtins import BUILTIN_PROVIDERS
from codexprov.config.cache import sha256  # the interpreter's own: hashlib loads OpenSSL (~2 ms) on `use`
from codexprov.errors import CodexprovError
from codexprov.paths import Paths, private_dir
from codexprov.redact import redact_text
from codexprov.safe_write import write_atomic

EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")  # reasoning efforts a recipe may name


@dataclass(frozen=True)
class ModelFacts:
    """What is known of one model beyond its id, from the provider's list (Groq's `context_window`,
    OpenRouter's `context_length`, Gemini's `inputTokenLimit` and `thinking`, display names) or a
    recipe's `models` table. None: not known (the picker keeps the installed release's default).
    reasoning: the efforts it takes, () for a model without reasoning, None when not known."""

    name: str | None = None
    context_window: int | None = None
    reasoning: tuple[str, ...] | None = None
    input: tuple[str, ...] | None = None

    def over(self, under: ModelFacts | None) -> ModelFacts:
        """These facts, with `under`'s where these say nothing."""
        if under is None:
            return self
        return ModelFacts(
            self.name if self.name is not None else under.name,
            self.context_window if self.context_window is not None else under.context_window,
            self.reasoning if self.reasoning is not None else under.reasoning,
            self.input if self.input is not None else under.input,
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.name is not None:
            data["name"] = self.name
        if self.context_window is not None:
            data["context_window"] = self.context_window
        if self.reasoning is not None:
            data["reasoning"] = list(self.reasoning)
        if self.input is not None:
            data["input"] = list(self.input)
        return data

    @classmethod
    def from_json(cls, data: Any) -> ModelFacts | None:
        if not isinstance(data, dict):
            return None
        name, window = data.get("name"), data.get("context_window")
        reasoning, modes = data.get("reasoning"), data.get("input")
        return cls(
            name if isinstance(name, str) and name else None,
            window if isinstance(window, int) and not isinstance(window, bool) and window > 0 else None,
            tuple(r for r in reasoning if isinstance(r, str)) if isinstance(reasoning, list) else None,
            tuple(m for m in modes if isinstance(m, str)) if isinstance(modes, list) else None,
        )


def merge_facts(
    over: Mapping[str, ModelFacts], under: Mapping[str, ModelFacts] | None, ids: tuple[str, ...]
) -> dict[str, ModelFacts]:
    """Facts per id in `ids`: `over`'s, with `under`'s where `over` says nothing."""
    merged = {}
    for model in ids:
        top, low = over.get(model), (under or {}).get(model)
        facts = top.over(low) if top is not None else low
        if facts is not None and facts.to_json():
            merged[model] = facts
    return merged


@dataclass(frozen=True)
class ModelList:
    """The models a provider serves, as its model list answered."""

    provider_id: str
    base_url: str
    url: str  # what was asked (secrets masked)
    ids: tuple[str, ...]
    key_from: str  # where the key came from, in words; never the key
    fetched: str  # ISO date and time
    facts: Mapping[str, ModelFacts] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider_id,
            "url": self.url,
            "models": list(self.ids),
            "key_from": self.key_from,
            "fetched": self.fetched,
        }

    def serves(self, model: str) -> bool:
        return serves(model, list(self.ids))


def serves(model: str, ids: list[str]) -> bool:
    # Some servers list models with a `models/` path (Gemini: `models/gemini-2.0-flash`) that requests leave out.
    def bare(name: str) -> str:
        return name.removeprefix("models/")

    return any(bare(model) == bare(i) for i in ids)


def cache_file(paths: Paths, provider_id: str) -> Path:
    digest = sha256(f"{paths.codex_home}\0{provider_id}".encode()).hexdigest()[:24]
    return paths.state_dir / "models" / f"{digest}.json"


def _failure_file(paths: Paths, provider_id: str) -> Path:
    return cache_file(paths, provider_id).with_suffix(".failed")


def remember_failure(paths: Paths, provider_id: str, base_url: str, reason: str) -> None:
    """Keep why the provider's list could not be had (masked; `doctor` says it: it is why Codex's
    picker shows Codex's own models for it). A list fetched later takes it away."""
    target = _failure_file(paths, provider_id)
    data = {"base_url": base_url, "reason": redact_text(reason), "when": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    try:
        private_dir(target.parent, root=paths.state_dir)
        write_atomic(target, json.dumps(data, indent=1) + "\n", existed=target.exists())
    except (OSError, CodexprovError):
        pass


def last_failure(paths: Paths, provider_id: str, base_url: str) -> tuple[str, str] | None:
    """Why the provider's list (at this base URL) could not be had the last time it was asked, and
    when; None when the last ask succeeded or there was none."""
    try:
        data = json.loads(_failure_file(paths, provider_id).read_text(encoding="utf-8"))
        if data["base_url"] != base_url:
            return None
        return str(data["reason"]), str(data["when"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remember(paths: Paths, listing: ModelList) -> ModelList:
    """Keep the list (facts known from an earlier list of the same URL fill what this one does not
    say: a recipe's, given at `add`). Returns the list as kept."""
    before = remembered(paths, listing.provider_id, listing.base_url)
    listing = replace(listing, facts=merge_facts(listing.facts, before.facts if before else None, listing.ids))
    target = cache_file(paths, listing.provider_id)
    try:
        private_dir(target.parent, root=paths.state_dir)
        data = {
            "provider": listing.provider_id,
            "base_url": listing.base_url,
            "url": listing.url,
            "models": list(listing.ids),
            "key_from": listing.key_from,
            "fetched": listing.fetched,
            "facts": {model: facts.to_json() for model, facts in listing.facts.items()},
        }
        write_atomic(target, json.dumps(data, indent=1) + "\n", existed=target.exists())
        _failure_file(paths, listing.provider_id).unlink(missing_ok=True)
    except (OSError, CodexprovError):
        pass  # a list that cannot be kept only means `use` cannot warn
    return listing


def remembered(paths: Paths, provider_id: str, base_url: str) -> ModelList | None:
    """The last list fetched for this provider, if it was fetched from this base URL (no network;
    one small file read, nothing when there is none)."""
    try:
        data = json.loads(cache_file(paths, provider_id).read_text(encoding="utf-8"))
        if data["base_url"] != base_url:
            return None
        facts = data.get("facts") if isinstance(data.get("facts"), dict) else {}
        known = {str(m): f for m, f in ((m, ModelFacts.from_json(v)) for m, v in facts.items()) if f is not None}
        return ModelList(
            provider_id,
            base_url,
            str(data["url"]),
            tuple(map(str, data["models"])),
            str(data["key_from"]),
            str(data["fetched"]),
            known,
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
    """For `use ID [--model M]`: a warning from the last list fetched, without any network or a
    second parse (`data` is the config as the edit left it)."""
    table = ((data or {}).get("model_providers") or {}).get(provider_id) or {}
    builtin = BUILTIN_PROVIDERS.get(provider_id)
    base_url = table.get("base_url") or (builtin.base_url if builtin else None)
    listing = remembered(paths, provider_id, str(base_url)) if base_url else None
    return unserved_warning(listing, model) if listing is not None else None
