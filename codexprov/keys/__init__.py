"""Keys per provider, one module per use case. They join the keyring (codexprov.credentials) with
the config engine (codexprov.providers, codexprov.config), take explicit inputs and return frozen
data; the CLI (codexprov/cli/keys.py) renders it.

  plaintext  plain-text keys in a provider table (the detector), and keys only the URL can carry
  status     `key list`: where each provider's key lives
  wiring     `key set`: store the key, point the provider at `codexprov token ID`
  migrate    `key migrate`: plain-text keys into the keyring
  env        `codexprov env` and `codexprov run`
  codex_files  keys in Codex's own files (auth.json's key that a requires_openai_auth provider sends)

The names below stay importable from `codexprov.keys`.
"""

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
from codexprov.keys.migrate import (
    MigrationItem,
    MigrationResult,
    auth_json_note,
    commit_migration,
    migrate,
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

# The doctor's plain-text check imported this under its old private name.
_looks_like_key = looks_like_key

__all__ = [
    "EnvPlan",
    "EnvVar",
    "KeyDecider",
    "KeyReport",
    "KeySetOutcome",
    "KeySetRequest",
    "KeyStatus",
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
    "plan_migration",
    "plan_run",
    "plan_wiring",
    "preview_migration",
    "run_env",
    "set_key",
    "shell_exports",
    "store_key",
]
