"""`codexprov doctor`: tell a working provider setup from a broken one, and say the fix.

`findings` holds the data model (Finding, Report, FixKind); `static` runs the checks that need no
network (`layers` reads the files, `setup` and `tables` hold the checks, `keysource` tries each
key source); `network` probes the providers' endpoints concurrently; `fix` applies the fixes that
are safe to automate, chosen by each finding's `fix_kind`. Nothing here prints: the CLI renders a
Report. Where to add a check: one decorated function in `setup.py` or `tables.py` (see `context`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from codexprov.doctor.findings import STATUSES, Finding, FixKind, ProviderTarget, Report

__all__ = ["STATUSES", "Finding", "FixKind", "ProviderTarget", "Report", "build_targets", "run_doctor"]

# ---------------------------------------------------------------------------- the orchestrator

def run_doctor(
    paths: Any,
    *,
    provider: str | None = None,
    offline: bool = False,
    live: bool = False,
    codex_info: Any = None,
    env: Mapping[str, str] | None = None,
    store: Any = None,
    transport: Any = None,
    timeout: float = 5.0,
    cwd: Path | None = None,
    system_config: Path | None = None,
    open_store: Callable[[], Any] | None = None,
) -> Report:
    """Static checks over every config file Codex reads, then (unless offline) the network checks.

    `env` is the environment Codex would start with (default: this process's); `cwd` the folder a
    project config is looked for from (default: none); `system_config` replaces
    /etc/codex/config.toml (also $CODEXPROV_SYSTEM_CONFIG). `store` is the keyring (opened with
    `open_store` only when a provider reads its key from it).
    """
    from codexprov.doctor import static
    from codexprov.doctor.layers import load_layers

    env = dict(os.environ) if env is None else dict(env)
    if codex_info is None:
        from codexprov.codex.version import detect

        codex_info = detect(paths, env=env)
    if system_config is None and env.get("CODEXPROV_SYSTEM_CONFIG"):
        system_config = Path(env["CODEXPROV_SYSTEM_CONFIG"])
    layers, load_findings = load_layers(paths, env=env, cwd=cwd, system_config=system_config)
    user_broken = any(f.file == str(paths.config_file) and f.status == "fail" for f in load_findings)
    result = static.run_static(paths, layers, codex_info, env=env, store=store, open_store=open_store, provider=provider)
    if (
        provider is not None
        and provider not in result.tables
        and provider not in static.builtin_ids(codex_info)
        and not user_broken
    ):
        from codexprov.providers import not_found

        raise not_found(provider, sorted(set(result.tables) | static.builtin_ids(codex_info)), str(paths.config_file))
    findings = [*result.findings[:1], *load_findings, *result.findings[1:]]
    from codexprov.doctor.bridge import check_bridge

    findings += check_bridge(result, env, offline=offline, timeout=timeout, transport=transport)
    if not offline:
        targets = build_targets(result, env)
        findings += _network(targets, timeout=timeout, live=live, transport=transport)
    return Report(tuple(findings), codex_info.to_json(), result.order, result.active)


def build_targets(result: Any, env: Mapping[str, str]) -> list[ProviderTarget]:
    """What the network checks probe: every checked provider that has a base URL, keys resolved."""
    from codexprov.codex.builtins import BUILTIN_PROVIDERS

    targets = []
    for pid in result.order:
        table = result.tables.get(pid)
        builtin = BUILTIN_PROVIDERS.get(pid)
        if table is None and builtin is not None and pid not in ("ollama", "lmstudio"):
            continue  # openai (codex login) and the cloud built-ins: not probed
        merged: dict[str, Any] = {}
        if builtin is not None and builtin.base_url:
            merged["base_url"] = builtin.base_url
        merged.update(table or {})
        base_url = merged.get("base_url")
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            continue
        headers: dict[str, str] = {}
        static_headers = merged.get("http_headers")
        if isinstance(static_headers, dict):
            headers.update({str(k): str(v) for k, v in static_headers.items()})
        env_headers = merged.get("env_http_headers")
        if isinstance(env_headers, dict):
            for name, var in env_headers.items():
                value = (env.get(str(var)) or "").strip()
                if value:
                    headers[str(name)] = value
        key = result.keys.get(pid)
        if key is not None:
            headers["Authorization"] = f"Bearer {key.value}"
        has_key = key is not None or any(h.lower() in ("authorization", "api-key", "x-api-key") for h in headers)
        query = merged.get("query_params")
        model = result.model if pid == result.active else result.profile_models.get(pid)
        targets.append(
            ProviderTarget(
                id=pid,
                base_url=base_url,
                query_params={str(k): str(v) for k, v in query.items()} if isinstance(query, dict) else {},
                headers=headers,
                model=model,
                has_key=has_key,
            )
        )
    return targets


def _network(targets: list[ProviderTarget], *, timeout: float, live: bool, transport: Any) -> list[Finding]:
    if not targets:
        return []
    from codexprov.doctor.network import check_network

    return list(check_network(targets, timeout=timeout, live=live, transport=transport))
