"""The doctor's checks that need no network, run in order: every config file Codex reads, as the
installed Codex version reads it, and whether each provider's key source works in this environment.

Where things are: reading the layers (`layers`), finding a key's line (`locate`), setup checks
(`setup`), table-shape checks (`tables`), key sources (`keysource`). This module only decides what
is checked and in which order; a new check is one decorated function in `setup` or `tables`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# The check modules register their checks on import.
from codexprov.codex import reach
from codexprov.credentials import open_store as default_open
from codexprov.doctor import environment as _environment  # noqa: F401 - imported only to register its checks
from codexprov.doctor import keysource, tables
from codexprov.doctor import picker_list as _picker_list  # noqa: F401 - imported only to register its check
from codexprov.doctor import setup as _setup  # noqa: F401 - imported only to register its checks
from codexprov.doctor.context import SETUP_CHECKS, CheckContext, ProviderTable, ResolvedKey, Setup
from codexprov.doctor.findings import Finding
from codexprov.doctor.layers import LAYER_KINDS, Layer, merge
from codexprov.paths import Paths


@dataclass(frozen=True)
class StaticResult:
    """The doctor's checks of the files alone: findings, the active provider and model, the order."""

    findings: tuple[Finding, ...]
    active: str
    model: str | None
    order: tuple[str, ...]  # providers checked, active first
    tables: dict[str, dict[str, Any]] = field(hash=False)  # effective table per provider (system+user)
    keys: dict[str, ResolvedKey] = field(hash=False, repr=False)
    profile_models: dict[str, str] = field(hash=False)  # provider -> a model a profile pairs it with


def builtin_ids(info: Any) -> set[str]:
    return info.capabilities.builtin_ids()


def read_setup(layers: list[Layer], info: Any, provider: str | None = None) -> Setup:
    """What the layers mean together: the effective provider tables, the active provider and model."""
    by_kind = {kind: [layer for layer in layers if layer.kind == kind] for kind in LAYER_KINDS}
    base = [layer for layer in by_kind["system"] + by_kind["user"] if layer.data is not None]
    effective: dict[str, Any] = {}
    for layer in base:
        effective = merge(effective, layer.data or {})
    tables = {pid: t for pid, t in (effective.get("model_providers") or {}).items() if isinstance(t, dict)}
    active = got if isinstance(got := effective.get("model_provider"), str) else "openai"
    model = got if isinstance(got := effective.get("model"), str) else None
    # a trusted project's .codex/config.toml may change the model for runs from here (codex/reach.py)
    project = reach.project_value(
        "model", [(layer.path, layer.data) for layer in by_kind["project"] if layer.data is not None], effective
    )
    if project is not None and isinstance(project[0], str):
        model = project[0]
    return Setup(tuple(layers), by_kind, tuple(base), tables, active, model, frozenset(builtin_ids(info)), provider)


def run_static(
    paths: Paths,
    layers: list[Layer],
    info: Any,
    *,
    env: Mapping[str, str],
    store: Any = None,
    open_store: Callable[[], Any] | None = None,
    provider: str | None = None,
) -> StaticResult:
    """Every static check; `provider` limits the per-provider checks to that one."""
    if open_store is None:
        open_store = default_open
    ctx = CheckContext(paths, info, env, store, open_store)
    setup = read_setup(layers, info, provider)

    for check in SETUP_CHECKS["before-providers"]:
        check(ctx, setup)

    order = [setup.active] + [pid for pid in setup.tables if pid != setup.active]
    if provider is not None:
        order = [provider]
    order = [pid for pid in order if pid in setup.tables or pid in setup.builtins]
    if any(layer.data is None for layer in setup.by_kind["system"] + setup.by_kind["user"]):
        order = []  # what Codex would use cannot be known until the file parses (reported already)
    custom = [ProviderTable(pid, setup.tables[pid], setup.base) for pid in order if pid in setup.tables]
    keysource.prerun_auth_commands(ctx, custom)
    for pid in order:
        if pid in setup.tables:
            tables.provider_checks(ctx, ProviderTable(pid, setup.tables[pid], setup.base))
        else:
            keysource.builtin_key_checks(ctx, pid)

    for check in SETUP_CHECKS["after-providers"]:
        check(ctx, setup)

    profile_models: dict[str, str] = {}
    for layer in setup.by_kind["profile"]:
        pm, pmodel = (layer.data or {}).get("model_provider"), (layer.data or {}).get("model")
        if isinstance(pm, str) and isinstance(pmodel, str):
            profile_models.setdefault(pm, pmodel)

    findings = ctx.findings
    if provider is not None:
        findings = [f for f in findings if f.provider in (None, provider)]
    return StaticResult(
        tuple(findings), setup.active, setup.model, tuple(order), setup.tables, ctx.keys, profile_models
    )
