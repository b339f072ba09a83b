"""Display names Codex takes for one of its built-in providers, asked from the installed binary.

A custom provider named "Amazon Bedrock" is signed with SigV4, one named "Google Cloud Vertex AI"
gets Google credentials, one named "OpenAI" OpenAI's login: Codex recognises its built-ins by display
name. From 0.169 the binary says which names it takes so (`codex.appserver.builtin_names`: the app-
server's `modelProvider/list`); the answer is cached per binary build. Older releases, or no
runnable Codex: the names below, each probed on the releases noted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from codexprov.codex.appserver import AppServerError, builtin_names
from codexprov.codex.builtins import BUILTIN_DISPLAY_NAMES
from codexprov.codex.capabilities import Capabilities, format_version
from codexprov.codex.version import stamp
from codexprov.errors import FileAccessError
from codexprov.paths import Paths
from codexprov.safe_write import write_atomic

__all__ = ["builtin_display_names", "custom_name"]

_CACHE_PREFIX = "codex-names-"


def custom_name(name: str) -> str:
    """The name `add` writes instead of a built-in's display name."""
    return f"{name} (custom)"


def builtin_display_names(
    paths: Paths, names: Iterable[str], *, binary: Path | None, caps: Capabilities | None
) -> frozenset[str]:
    """Which of `names` the Codex at `binary` (of these capabilities) treats as a built-in's display name."""
    wanted = [n for n in dict.fromkeys(names) if isinstance(n, str) and n]
    if not wanted:
        return frozenset()
    if binary is None or caps is None or not caps.provider_editor:
        return frozenset(n for n in wanted if n in _table(caps))

    mark = stamp(binary)
    cache_file = None
    known: dict[str, bool] = {}
    if mark is not None:
        mark = {**mark, "version": format_version(caps.version)}
        digest = hashlib.sha256(str(mark["path"]).encode("utf-8", "surrogateescape")).hexdigest()[:16]
        cache_file = paths.cache_dir / f"{_CACHE_PREFIX}{digest}.json"
        try:
            cached = json.loads(cache_file.read_text(encoding="utf-8"))
            if isinstance(cached, dict) and cached.get("stamp") == mark and isinstance(cached.get("names"), dict):
                known = {str(k): bool(v) for k, v in cached["names"].items()}
        except (OSError, ValueError):
            pass
    missing = [n for n in wanted if n not in known]
    if missing:
        try:
            special = builtin_names(Path(binary), missing)
        except AppServerError:
            return frozenset(n for n in wanted if n in _table(caps))
        known.update({n: n in special for n in missing})
        if cache_file is not None:
            _write_cache(paths, cache_file, {"stamp": mark, "names": known})
    return frozenset(n for n in wanted if known.get(n))


# The fallback, by the first release seen taking each name for a built-in (a real turn: "Amazon
# Bedrock" is signed with SigV4 from 0.133.0; "Google Cloud Vertex AI" gets Google credentials from
# 0.165.0, not on 0.163.0; from 0.169 modelProvider/list says it).
_NAMES_SINCE: dict[str, tuple[int, int, int]] = {
    "OpenAI": (0, 133, 0),
    "Amazon Bedrock": (0, 133, 0),
    "Google Cloud Vertex AI": (0, 165, 0),
}


def _table(caps: Capabilities | None) -> frozenset[str]:
    if caps is None:
        return BUILTIN_DISPLAY_NAMES
    return frozenset(n for n, since in _NAMES_SINCE.items() if caps.version >= since)


def _write_cache(paths: Paths, target: Path, data: dict[str, Any]) -> None:
    try:
        paths.cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(target, json.dumps(data, ensure_ascii=False), existed=target.exists())
    except (OSError, FileAccessError):
        pass
