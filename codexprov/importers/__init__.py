"""Providers from other tools (cc-switch, ocx) into Codex's config, and providers out as recipes.

Each source module (`cc_switch`, `ocx`) only *reads*: it opens its tool's file read-only and turns
every entry into a `Candidate` (what the entry asks for: URL, key, route, whether it is the live
one) or a `Skipped` (why it cannot be imported), never touching the file. `plan` then runs each
candidate through the same planning as `codexprov add` (id check, plain-text refusal, bridge
route) and writes all of them in one config transaction (one `undo`), keys into the keyring first.
`export` goes the other way: provider tables to recipe files that carry the key by reference only.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Candidate:
    """One provider entry of a source, as the source describes it (before any id is chosen)."""

    source_id: str  # the entry's own id or name in the source, shown in the plan
    name: str  # display name (written as `name`)
    base_url: str
    model: str | None = None
    key: str | None = field(default=None, repr=False)  # an inline key: goes into the keyring
    key_var: str | None = None  # the key is read from this environment variable (env key mode)
    bridge: bool = False  # the upstream does not serve /v1/responses: route it through the bridge
    route: str | None = None  # a recipe whose native bridge route applies (anthropic, gemini); None: chat
    keyless: bool = False  # the endpoint needs no key (a local server)
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    current: bool = False  # the source's live/default provider (made active with --use)
    notes: tuple[str, ...] = ()  # said under the plan (never a secret)


@dataclass(frozen=True)
class Skipped:
    """A provider an import leaves out, and why."""

    source_id: str
    reason: str


@dataclass(frozen=True)
class Source:
    """What a source file holds, read once."""

    tool: str  # "cc-switch" | "ocx"
    path: Path
    items: tuple[Candidate | Skipped, ...]  # in the source's own order
    ignored: str | None = None  # e.g. "5 rows of other apps (claude, gemini) ignored"

    @property
    def candidates(self) -> tuple[Candidate, ...]:
        return tuple(i for i in self.items if isinstance(i, Candidate))


_SLUG_RUN = re.compile(r"[^a-z0-9]+")


def slug(name: str) -> str:
    """A provider id from a display name: lower case ASCII letters and digits joined by `-`
    (`Kimi K2 (Moonshot)` -> `kimi-k2-moonshot`); empty when nothing of the name is usable."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return _SLUG_RUN.sub("-", ascii_name.lower()).strip("-")[:48].strip("-")
