"""The model lists `codexprov models` fetched, kept per provider and base URL (state dir), so that
`use ID --model M` and Codex's picker can use the last one without any network. A leaf: it imports
no use case, so `served_models` (which asks providers) and `picker` (which `use` calls) both can."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codexprov.config.transaction import write_atomic
from codexprov.errors import CodexprovError
from codexprov.paths import Paths, private_dir


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
        return serves(model, list(self.ids))


def serves(model: str, ids: list[str]) -> bool:
    # Some servers list models with a `models/` path (Gemini: `models/gemini-2.0-flash`) that requests leave out.
    def bare(name: str) -> str:
        return name.removeprefix("models/")

    return any(bare(model) == bare(i) for i in ids)


def cache_file(paths: Paths, provider_id: str) -> Path:
    digest = hashlib.sha256(f"{paths.codex_home}\0{provider_id}".encode()).hexdigest()[:24]
    return paths.state_dir / "models" / f"{digest}.json"


def remember(paths: Paths, listing: ModelList) -> None:
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
        }
        write_atomic(target, json.dumps(data, indent=1) + "\n", existed=target.exists())
    except (OSError, CodexprovError):
        pass  # a list that cannot be kept only means `use` cannot warn


def remembered(paths: Paths, provider_id: str, base_url: str) -> ModelList | None:
    """The last list fetched for this provider, if it was fetched from this base URL (no network;
    one small file read, nothing when there is none)."""
    try:
        data = json.loads(cache_file(paths, provider_id).read_text(encoding="utf-8"))
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
