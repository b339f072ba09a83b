"""`codexprov add RECIPE`: from a recipe, options and a key mode to the provider table written.

  model      the request, the plan and the prepared (checked, previewed) add
  plan       render the recipe for the request, apply the key mode, check what Codex would get
  plaintext  no new plain-text key in config.toml
  bridged    a provider behind codexprov's bridge
  gateways   the settings a gateway recipe needs
  commit     prepare_add (check and preview) and commit_add (store the key, write the config)

The names below stay importable from `codexprov.adding`.
"""

from codexprov.adding.bridged import BRIDGE_AUTH_TIMEOUT_MS, bridge_note
from codexprov.adding.commit import commit_add, prepare_add
from codexprov.adding.model import KEY_MODES, AddPlan, AddRequest, PreparedAdd, default_env_key, parse_pairs
from codexprov.adding.plaintext import plaintext_secrets
from codexprov.adding.plan import check_env_key_free, check_sendable, plan_add, wants_bridge

__all__ = [
    "BRIDGE_AUTH_TIMEOUT_MS",
    "KEY_MODES",
    "AddPlan",
    "AddRequest",
    "PreparedAdd",
    "bridge_note",
    "check_env_key_free",
    "check_sendable",
    "commit_add",
    "default_env_key",
    "parse_pairs",
    "plaintext_secrets",
    "plan_add",
    "prepare_add",
    "wants_bridge",
]
