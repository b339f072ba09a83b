"""Keys per provider, one module per use case. They join the keyring (codexprov.credentials) with
the config engine (codexprov.providers, codexprov.config), take explicit inputs and return frozen
data; the CLI (codexprov/cli/keys.py) renders it.

  plaintext  plain-text keys in a provider table (the detector), and keys only the URL can carry
  status     `key list`: where each provider's key lives
  wiring     `key set`: store the key, point the provider at `codexprov token ID`
  migration  `key migrate`: plain-text keys into the keyring
  env        `codexprov env` and `codexprov run`
  codex_files  keys in Codex's own files (auth.json's key that a requires_openai_auth provider sends)

The names below stay importable from `codexprov.keys`; each room loads on first use of one of its
names, so that importing one room (the plain-text detector, `codex_files`) does not load the others
(and the providers and bridge modules they use).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Where each public name lives.
_LAZY = {
    "EnvPlan": "env",
    "EnvVar": "env",
    "RunPlan": "env",
    "codex_command": "env",
    "env_plan": "env",
    "execute": "env",
    "plan_run": "env",
    "run_env": "env",
    "shell_exports": "env",
    "MigrationItem": "migration",
    "MigrationResult": "migration",
    "MigrateDecider": "migration",
    "MigrateRequest": "migration",
    "migrate_keys": "migration",
    "auth_json_note": "migration",
    "commit_migration": "migration",
    "migrate": "migration",
    "plan_migration": "migration",
    "preview_migration": "migration",
    "PlaintextKey": "plaintext",
    "find_plaintext": "plaintext",
    "find_unmovable": "plaintext",
    "looks_like_key": "plaintext",
    "KeyReport": "status",
    "KeyStatus": "status",
    "key_report": "status",
    "KeyDecider": "wiring",
    "KeySetOutcome": "wiring",
    "KeySetRequest": "wiring",
    "SetKeyResult": "wiring",
    "WirePlan": "wiring",
    "keyring_backup": "wiring",
    "plan_wiring": "wiring",
    "set_key": "wiring",
    "store_key": "wiring",
}

if TYPE_CHECKING:
    from codexprov.keys.env import (
        EnvPlan,
        EnvVar,
        RunPlan,
        codex_command,
        env_plan,
        execute,
        plan_run,
        run_env,
        shell_exports,
    )
    from codexprov.keys.migration import (
        MigrateDecider,
        MigrateRequest,
        MigrationItem,
        MigrationResult,
        auth_json_note,
        commit_migration,
        migrate,
        migrate_keys,
        plan_migration,
        preview_migration,
    )
    from codexprov.keys.plaintext import PlaintextKey, find_plaintext, find_unmovable, looks_like_key
    from codexprov.keys.status import KeyReport, KeyStatus, key_report
    from codexprov.keys.wiring import (
        KeyDecider,
        KeySetOutcome,
        KeySetRequest,
        SetKeyResult,
        WirePlan,
        keyring_backup,
        plan_wiring,
        set_key,
        store_key,
    )


def __getattr__(name: str) -> Any:
    room = _LAZY.get(name)
    if room is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{room}"), name)


__all__ = [
    "EnvPlan",
    "EnvVar",
    "KeyDecider",
    "KeyReport",
    "KeySetOutcome",
    "KeySetRequest",
    "KeyStatus",
    "MigrateDecider",
    "MigrateRequest",
    "MigrationItem",
    "MigrationResult",
    "PlaintextKey",
    "RunPlan",
    "SetKeyResult",
    "WirePlan",
    "auth_json_note",
    "codex_command",
    "commit_migration",
    "env_plan",
    "execute",
    "find_plaintext",
    "find_unmovable",
    "key_report",
    "keyring_backup",
    "looks_like_key",
    "migrate",
    "migrate_keys",
    "plan_migration",
    "plan_run",
    "plan_wiring",
    "preview_migration",
    "run_env",
    "set_key",
    "shell_exports",
    "store_key",
]
