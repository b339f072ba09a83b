"""Why a Codex version would refuse a provider table, and whether a custom provider may use an id.

`custom_id_refusal` is the one answer to "may a custom provider use this id?" (add, recipes and
doctor all ask it); `table_refusals` lists everything wrong with one [model_providers.ID] table for
a given Codex. Both take the `Capabilities` of the Codex in question, never assume the newest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from codexprov.codex.builtins import BUILTIN_DISPLAY_NAMES
from codexprov.codex.capabilities import REMOTE_COMPACTION_VALUES, Capabilities

# Fields that cannot sit beside an `auth` table (Codex: "auth cannot be combined with …").
AUTH_CONFLICTS = ("env_key", "experimental_bearer_token", "requires_openai_auth")
# Keys of the [model_providers.ID.auth] table.
AUTH_FIELDS = frozenset({"command", "args", "timeout_ms", "refresh_interval_ms", "cwd"})
_STRING_MAPS = ("query_params", "http_headers", "env_http_headers")


@dataclass(frozen=True)
class Refusal:
    """One reason Codex would not take a table as written."""

    kind: str  # reserved-id | builtin-fields | name | builtin-name | wire-api | unknown-field | aws-field | auth-conflict | type
    message: str
    field: str | None = None
    # False: Codex loads the config and ignores or misreads the field (only --strict-config refuses).
    load_error: bool = True


def custom_id_refusal(provider_id: str, caps: Capabilities) -> Refusal | None:
    """Why a custom provider table may not use this id on this Codex; None when it may."""
    if provider_id in caps.reserved_ids:
        return Refusal(
            "reserved-id", f"{provider_id!r} is a Codex built-in provider id; a custom provider cannot use it"
        )
    fields = caps.builtin_fields(provider_id)
    if fields is not None:
        return Refusal(
            "reserved-id",
            f"{provider_id!r} is a Codex built-in provider id; a custom provider cannot use it "
            f"(its table takes only {', '.join(fields)})",
        )
    return None


def builtin_field_refusals(provider_id: str, table: Mapping[str, Any], caps: Capabilities) -> list[str]:
    """The keys (dotted for sub-table keys) a partly reserved built-in's table may not set."""
    allowed = caps.builtin_fields(provider_id) or ()
    top = {f.split(".", 1)[0] for f in allowed}
    bad = [k for k in table if k not in top]
    for key, value in table.items():
        subs = {f.split(".", 1)[1] for f in allowed if f.startswith(key + ".")}
        if key in top and subs and isinstance(value, Mapping):
            bad += [f"{key}.{sub}" for sub in value if sub not in subs]
    return bad


def table_refusals(provider_id: str, table: Mapping[str, Any], caps: Capabilities) -> list[Refusal]:
    """Everything this Codex would refuse (or silently ignore) in [model_providers.ID]; [] when none."""
    if provider_id in caps.reserved_ids:
        refusal = custom_id_refusal(provider_id, caps)
        assert refusal is not None
        return [refusal]
    if caps.builtin_fields(provider_id) is not None:
        bad = builtin_field_refusals(provider_id, table, caps)
        if not bad:
            return []
        return [
            Refusal(
                "builtin-fields",
                f"fields the {provider_id} built-in does not accept: {', '.join(bad)}",
                field=bad[0],
            )
        ]
    found: list[Refusal] = []
    name = table.get("name")
    if not str(name or "").strip():
        found.append(Refusal("name", "provider name must not be empty", field="name"))
    elif name in BUILTIN_DISPLAY_NAMES:
        found.append(
            Refusal(
                "builtin-name",
                f"name {name!r} makes Codex treat the provider as its built-in",
                "name",
                load_error=False,
            )
        )
    wire = table.get("wire_api")
    if wire is not None and wire not in caps.wire_apis:
        found.append(
            Refusal(
                "wire-api",
                f"wire_api is {wire!r}; this Codex accepts only {', '.join(map(repr, caps.wire_apis))}",
                "wire_api",
            )
        )
    unknown = sorted(k for k in table if k not in caps.provider_fields)
    if unknown:
        found.append(Refusal("unknown-field", f"unknown fields: {', '.join(unknown)}", unknown[0], load_error=False))
    caps_table = table.get("capabilities")
    if "capabilities" in caps.provider_fields and caps_table is not None:
        if not isinstance(caps_table, Mapping):
            found.append(Refusal("type", "capabilities must be a table", "capabilities"))
        else:
            unknown_caps = sorted(k for k in caps_table if k not in caps.provider_capability_keys)
            if unknown_caps:
                found.append(
                    Refusal(
                        "unknown-field",
                        f"unknown capabilities: {', '.join(unknown_caps)}",
                        f"capabilities.{unknown_caps[0]}",
                        load_error=False,
                    )
                )
            compaction = caps_table.get("remote_compaction")
            if compaction is not None and compaction not in REMOTE_COMPACTION_VALUES:
                found.append(
                    Refusal(
                        "type",
                        f"capabilities.remote_compaction is {compaction!r}; Codex takes {' or '.join(map(repr, REMOTE_COMPACTION_VALUES))}",
                        "capabilities.remote_compaction",
                    )
                )
    if "aws" in table:
        found.append(Refusal("aws-field", "`aws` is only accepted for the amazon-bedrock built-ins", "aws"))
    if isinstance(table.get("auth"), Mapping):
        conflicts = [k for k in AUTH_CONFLICTS if (table.get(k) if k == "requires_openai_auth" else k in table)]
        if conflicts:
            found.append(Refusal("auth-conflict", f"auth cannot be combined with {', '.join(conflicts)}", "auth"))
    for key in _STRING_MAPS:
        value = table.get(key)
        if value is not None and (
            not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values())
        ):
            found.append(Refusal("type", f"{key} must map strings to strings", key))
    return found
