"""The model catalog of the installed Codex, read from the binary (`codex debug models --bundled`).

A release's catalog says which slugs get Responses-Lite requests (`use_responses_lite`), which tools
a model brings (`experimental_supported_tools`, `apply_patch_tool_type`, `tool_mode`,
`multi_agent_version`) and the defaults Codex uses for it. codexprov keeps no copy of any of that:
it asks the binary once per build (cached in codexprov's cache folder, keyed by the binary's path,
size, mtime, ctime, inode and version) and reads the answer here. Nothing on the `token`/`list`
paths imports this module.

How Codex finds the entry for a configured `model` (probed on 0.169.0 and 0.171.0 with a logging
server and a two-entry `model_catalog_json`): one leading `namespace/` segment is dropped
(`openai/gpt-6.2-sol`, not `azure/openai/gpt-6.2-sol`), then the longest catalog slug that the rest
starts with wins, whatever follows (`gpt-6.2-sol-2026-11-01`, `gpt-6.2-sol:free`, `gpt-6.2-solx`);
matching is case-sensitive. A model with no entry gets Codex's defaults.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codexprov.codex.version import stamp
from codexprov.errors import FileAccessError
from codexprov.paths import Paths
from codexprov.safe_write import write_atomic

__all__ = [
    "REQUEST_PARTS",
    "Catalog",
    "CatalogError",
    "ModelEntry",
    "bundled",
    "from_data",
    "read_file",
    "run_bundled",
]

# Parts of Codex's requests that a gateway may refuse (a recipe's `rejects` lists them).
REQUEST_PARTS = ("web_search", "namespace", "custom", "responses_lite")
_CACHE_PREFIX = "codex-catalog-"


class CatalogError(Exception):
    """The binary gave no catalog, or a catalog file is not one (the message says which and why)."""


@dataclass(frozen=True)
class ModelEntry:
    """One model of a catalog, with the fields codexprov reads; `raw` is the entry as Codex wrote it."""

    slug: str
    display_name: str
    use_responses_lite: bool
    experimental_supported_tools: tuple[str, ...]
    apply_patch_tool_type: str | None
    tool_mode: str | None
    multi_agent_version: str | None
    supports_search_tool: bool
    default_reasoning_level: str | None
    reasoning_levels: tuple[str, ...]
    visibility: str | None
    context_window: int | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any]) -> ModelEntry:
        levels = raw.get("supported_reasoning_levels") or []
        window = raw.get("context_window")
        return cls(
            slug=str(raw["slug"]),
            display_name=str(raw.get("display_name") or raw["slug"]),
            use_responses_lite=raw.get("use_responses_lite") is True,
            experimental_supported_tools=tuple(str(t) for t in raw.get("experimental_supported_tools") or ()),
            apply_patch_tool_type=_opt_str(raw.get("apply_patch_tool_type")),
            tool_mode=_opt_str(raw.get("tool_mode")),
            multi_agent_version=_opt_str(raw.get("multi_agent_version")),
            supports_search_tool=raw.get("supports_search_tool") is True,
            default_reasoning_level=_opt_str(raw.get("default_reasoning_level")),
            reasoning_levels=tuple(
                str(level["effort"]) for level in levels if isinstance(level, Mapping) and "effort" in level
            ),
            visibility=_opt_str(raw.get("visibility")),
            context_window=window if isinstance(window, int) and not isinstance(window, bool) else None,
            raw=raw,
        )

    def brings(self, part: str) -> bool:
        """Whether this entry makes Codex send `part` (one of REQUEST_PARTS) on its own, whatever the
        top-level settings: the Lite header, a freeform tool (apply_patch, code mode), a namespace
        (code mode's collaboration tools, experimental tools such as `clock`)."""
        if part == "responses_lite":
            return self.use_responses_lite
        if part == "custom":
            return self.apply_patch_tool_type == "freeform" or self.tool_mode is not None
        if part == "namespace":
            return bool(self.experimental_supported_tools) or self.multi_agent_version is not None
        return False

    def safe_defaults(self, rejects: Iterable[str] = REQUEST_PARTS) -> dict[str, Any]:
        """This entry as a catalog file should hold it for a server refusing `rejects`: every field
        kept (Codex refuses incomplete entries), the fields that bring a refused part switched off."""
        return {**self.raw, **_overrides(tuple(rejects))}


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _overrides(rejects: tuple[str, ...]) -> dict[str, Any]:
    """The catalog fields that make Codex send each refused part, and the values that do not (each
    verified by a turn against a server refusing that part, 0.169.0 to 0.171.0)."""
    out: dict[str, Any] = {}
    if "responses_lite" in rejects:
        # Without Lite, code mode (`tool_mode`) sends freeform tools and v2 multi-agent a namespace.
        out |= {"use_responses_lite": False, "tool_mode": None, "multi_agent_version": None}
    if "custom" in rejects:
        out |= {"apply_patch_tool_type": None, "tool_mode": None}
    if "namespace" in rejects:
        # `clock` (gpt-6.x) is sent as a namespace even with [features] multi_agent = false.
        out |= {"experimental_supported_tools": [], "multi_agent_version": None}
    return out


@dataclass(frozen=True)
class Catalog:
    """A model catalog: the bundled one of a Codex build, or a `model_catalog_json` file."""

    entries: tuple[ModelEntry, ...]
    data: Mapping[str, Any] = field(repr=False, compare=False)  # the whole document, as read
    source: str = ""  # "codex X.Y.Z at PATH" or the file's path

    @property
    def slugs(self) -> tuple[str, ...]:
        return tuple(e.slug for e in self.entries)

    def find(self, model: str | None) -> ModelEntry | None:
        """The entry Codex uses for `model` (see the module docstring), or None: Codex's defaults."""
        if not model:
            return None
        head, sep, rest = model.partition("/")
        name = rest if sep and head and "/" not in rest else model
        best: ModelEntry | None = None
        for entry in self.entries:
            if name.startswith(entry.slug) and (best is None or len(entry.slug) > len(best.slug)):
                best = entry
        return best

    def responses_lite_slugs(self) -> frozenset[str]:
        return frozenset(e.slug for e in self.entries if e.use_responses_lite)

    def uses_responses_lite(self, model: str | None) -> bool:
        entry = self.find(model)
        return entry is not None and entry.use_responses_lite

    def entry_for(
        self,
        slug: str,
        *,
        display_name: str | None = None,
        context_window: int | None = None,
        rejects: Iterable[str] = REQUEST_PARTS,
    ) -> dict[str, Any]:
        """A complete catalog entry for a model a provider serves (what Codex needs in a
        `model_catalog_json`): the entry Codex would use for `slug` (find), else this release's
        first entry without Responses-Lite, as a template; renamed, listed, with `rejects` switched
        off (safe_defaults). CatalogError when the catalog has no entry to start from."""
        base = self.find(slug) or next((e for e in self.entries if not e.use_responses_lite), None)
        if base is None:
            if not self.entries:
                raise CatalogError(f"{self.source or 'the catalog'} has no model to build an entry from")
            base = self.entries[0]
        entry = base.safe_defaults(rejects)
        entry |= {"slug": slug, "display_name": display_name or slug, "visibility": "list", "upgrade": None}
        if context_window is not None:
            entry |= {"context_window": context_window, "max_context_window": context_window}
        return entry

    def for_server(self, rejects: Iterable[str]) -> dict[str, Any]:
        """The catalog document with what a server refusing `rejects` cannot take switched off on
        every model (what gateway recipes write as `model_catalog_json`)."""
        rejects = tuple(rejects)
        return {**self.data, "models": [e.safe_defaults(rejects) for e in self.entries]}

    def for_server_text(self, rejects: Iterable[str]) -> str:
        return json.dumps(self.for_server(rejects), indent=1, ensure_ascii=False) + "\n"


def from_data(data: Any, source: str = "") -> Catalog:
    """A Catalog from a parsed catalog document (`{"models": [...]}`); CatalogError when it is not one."""
    if not isinstance(data, Mapping) or not isinstance(data.get("models"), list):
        raise CatalogError(f"{source or 'the catalog'} holds no `models` list")
    entries = []
    for i, raw in enumerate(data["models"]):
        if not isinstance(raw, Mapping) or not isinstance(raw.get("slug"), str):
            raise CatalogError(f"{source or 'the catalog'}: model {i + 1} has no `slug`")
        entries.append(ModelEntry.from_raw(raw))
    return Catalog(tuple(entries), data, source)


def read_file(path: Path) -> Catalog:
    """A `model_catalog_json` file. CatalogError (naming the file) when it cannot be read or is no catalog."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as err:
        raise CatalogError(f"{path}: {getattr(err, 'strerror', None) or err}") from err
    return from_data(data, str(path))


def run_bundled(binary: Path, timeout: float = 30) -> dict[str, Any]:
    """Run `codex debug models --bundled` with a throwaway HOME and CODEX_HOME (nothing of the
    user's is read or written) and return its JSON. Raises CatalogError."""
    with tempfile.TemporaryDirectory(prefix="codexprov-catalog-") as tmp:
        codex_home = Path(tmp) / ".codex"
        codex_home.mkdir()
        env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": tmp, "CODEX_HOME": str(codex_home)}
        for name in ("SYSTEMROOT", "TEMP", "TMP", "USERPROFILE"):  # Windows needs these to start a process
            if name in os.environ:
                env[name] = os.environ[name]
        try:
            proc = subprocess.run(
                [str(binary), "debug", "models", "--bundled"],
                capture_output=True,
                text=True,
                encoding="utf-8",
                timeout=timeout,
                env=env,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as err:
            raise CatalogError(f"`{binary} debug models --bundled` could not run ({type(err).__name__})") from err
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1][:200]
        raise CatalogError(f"`{binary} debug models --bundled` failed (exit {proc.returncode}): {last}")
    try:
        data = json.loads(proc.stdout)
    except ValueError as err:
        raise CatalogError(f"`{binary} debug models --bundled` printed no JSON") from err
    from_data(data, "`codex debug models --bundled`")  # validate before caching
    return data


def bundled(paths: Paths, binary: Path, version: str | None = None) -> Catalog:
    """The bundled catalog of this Codex build, from codexprov's cache while the binary is unchanged.
    Raises CatalogError when the binary cannot give one."""

    mark = stamp(binary)
    source = f"Codex {version or '?'} at {binary}"
    cache_file = None
    if mark is not None:
        mark = {**mark, "version": version}
        digest = hashlib.sha256(str(mark["path"]).encode("utf-8", "surrogateescape")).hexdigest()[:16]
        cache_file = paths.cache_dir / f"{_CACHE_PREFIX}{digest}.json"
        try:
            cached = json.loads(cache_file.read_text(encoding="utf-8"))
            if isinstance(cached, dict) and cached.get("stamp") == mark:
                return from_data(cached.get("catalog"), source)
        except (OSError, ValueError, CatalogError):
            pass
    data = run_bundled(binary)
    if cache_file is not None:
        _write_cache(paths, cache_file, {"stamp": mark, "catalog": data})
    return from_data(data, source)


def _write_cache(paths: Paths, target: Path, data: dict[str, Any]) -> None:
    try:
        paths.cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(target, json.dumps(data, ensure_ascii=False), existed=target.exists())
    except (OSError, FileAccessError):
        pass  # only a cache: the next run asks the binary again
