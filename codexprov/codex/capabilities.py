"""What each Codex version reads, by the first release that behaves so.

Each boundary was found by running the real binaries from npm (`@openai/codex@X.Y.Z`) against a
config on a throwaway CODEX_HOME and a fake provider on 127.0.0.1: the first x.y.0 release seen
behaving the new way. Where only some releases were probed, the comment gives the interval in which
the change happened; the table uses the first release seen with it (so a version inside the
interval is treated as not having it yet). Patch releases were not checked separately.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Version = tuple[int, int, int]

# The newest release verified; a newer (or undetectable) Codex is assumed to behave like it.
NEWEST_VERIFIED: Version = (0, 171, 0)

PROFILE_FILES_SINCE: Version = (0, 134, 0)  # `-p NAME` layers NAME.config.toml; `profile = …` is a load error
PROFILE_V2_FLAG: tuple[Version, Version] = ((0, 131, 0), (0, 134, 0))  # `--profile-v2 NAME` in [from, to)
CHAT_WIRE_API_REMOVED: Version = (0, 95, 0)  # `wire_api = "chat"` becomes a load error
AUTH_COMMAND_SINCE: Version = (0, 118, 0)  # [model_providers.ID.auth] command
RESERVED_IDS_SINCE: Version = (0, 115, 0)  # a table under openai/ollama/lmstudio is a load error
STRICT_CONFIG_SINCE: Version = (0, 131, 0)  # `codex exec --strict-config`
DOCTOR_SINCE: Version = (0, 131, 0)  # `codex doctor`
FREE_REASONING_EFFORT_SINCE: Version = (0, 140, 0)  # verified enum on 0.134.0, free-form on 0.140.0
# For the slugs its bundled catalog marks `use_responses_lite` (read from the binary: codex/catalog.py) Codex
# sends `X-OpenAI-Internal-Codex-Responses-Lite: true` and no `tools`, even to a custom base_url.
# Not on 0.140.0, seen on 0.145.0.
RESPONSES_LITE_SINCE: Version = (0, 145, 0)
# `model_catalog_json = PATH` (a catalog file in `codex debug models --bundled` form) replaces the
# bundled catalog; seen working on 0.133.0 (the oldest release probed) and every later one.
MODEL_CATALOG_JSON_SINCE: Version = (0, 133, 0)
# `codex exec resume` / `codex resume` continue a session on the provider it was started with
# (refusing when that provider's table is gone). 0.165.0 moved it to the current provider.
SESSIONS_KEEP_PROVIDER_SINCE: Version = (0, 166, 0)
# Codex's own provider editor: app-server `modelProvider/list`, `modelProvider/config/write`.
PROVIDER_EDITOR_SINCE: Version = (0, 169, 0)
# A running app-server refuses a turn on a thread that was started on another provider than the
# current `model_provider` ("This chat uses a, but your current provider is b. Switch to a to
# continue."): seen on 0.166.0 every time and on 0.169.0 under load, never on 0.165.0 nor 0.170.0
# and 0.171.0 (the thread goes on with its own provider). The TUI lets the open conversation go on in every release probed.
OPEN_THREADS_REFUSED: tuple[Version, Version] = ((0, 166, 0), (0, 170, 0))  # in [from, to)
# app-server `modelProvider/default/set {providerId}`: writes `model_provider` to config.toml (not in
# 0.170.0's `app-server generate-json-schema`, in 0.171.0's).
PROVIDER_DEFAULT_SET_SINCE: Version = (0, 171, 0)
# Codex asks again after an HTTP 429 on its streamed request (request_max_retries, 200 ms doubling):
# probed with a server answering 429 to every POST /responses, 0.133.0 and 0.160.0 send one POST and
# fail at once ("exceeded retry limit, last status: 429"), 0.163.0 reconnects 5 times. A 5xx is retried
# by all of them. 0.161/0.162 were not probed.
RATE_LIMIT_RETRY_SINCE: Version = (0, 163, 0)
# A model missing from the catalog gets fallback metadata with reasoning: the request carries
# `reasoning: {summary: auto}`, `include: [reasoning.encrypted_content]` and parallel tool calls.
# 0.133.0 sends `reasoning: null`, `include: []`, `parallel_tool_calls: false`; 0.160.0 is the next
# release probed, and has it (a request captured by codex/request.py, tests/test_catalog.py).
UNKNOWN_MODEL_REASONING_SINCE: Version = (0, 160, 0)
# Top-level `web_search = "disabled"` drops the web_search tool; the oldest release probed (0.133.0)
# has it.
WEB_SEARCH_SETTING_SINCE: Version = (0, 133, 0)

# Built into every Codex this tool supports; from RESERVED_IDS_SINCE a table under them is refused,
# before it a table under them overrides the built-in like any custom provider.
ALWAYS_BUILTIN = ("openai", "ollama", "lmstudio")
RESERVED_IDS = ("openai", "ollama", "lmstudio")
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")

# Built-ins that take a table with only these fields (dotted = a key of a sub-table), by first version.
# Before the first entry the id is an ordinary custom provider id.
_PARTIAL_BUILTINS: dict[str, tuple[tuple[Version, tuple[str, ...]], ...]] = {
    "amazon-bedrock": (
        ((0, 123, 0), ("aws.profile",)),
        ((0, 124, 0), ("aws.profile", "aws.region")),
        ((0, 145, 0), ("base_url", "auth", "http_headers", "aws.profile", "aws.region")),
        ((0, 149, 0), ("base_url", "auth", "http_headers", "aws.profile", "aws.region", "aws.auth_refresh")),
        (
            (0, 155, 0),
            (
                "base_url",
                "auth",
                "http_headers",
                "aws.profile",
                "aws.region",
                "aws.credential_export",
                "aws.auth_refresh",
            ),
        ),
    ),
    # An ordinary id on 0.145.0; restricted like amazon-bedrock from 0.150.0.
    "amazon-bedrock-runtime": (
        ((0, 150, 0), ("base_url", "auth", "http_headers", "aws.profile", "aws.region", "aws.auth_refresh")),
        (
            (0, 155, 0),
            (
                "base_url",
                "auth",
                "http_headers",
                "aws.profile",
                "aws.region",
                "aws.credential_export",
                "aws.auth_refresh",
            ),
        ),
    ),
    "gcp": (
        ((0, 165, 0), ("base_url", "auth", "http_headers")),
        ((0, 166, 0), ("base_url", "auth", "http_headers", "project_id", "location", "credential_file")),
    ),
}

# Fields of a [model_providers.ID] table (Codex's ModelProviderInfo) that every supported Codex
# accepts: probed with `codex exec --strict-config` on 0.133.0 (the oldest release with that flag)
# through 0.171.0. `aws` is a load error on any id but the Bedrock built-ins.
_PROVIDER_FIELDS_BASE = (
    "name",
    "base_url",
    "env_key",
    "env_key_instructions",
    "experimental_bearer_token",
    # Before AUTH_COMMAND_SINCE Codex ignores `auth`; Capabilities.auth_command says so.
    "auth",
    "aws",
    "wire_api",
    "query_params",
    "http_headers",
    "env_http_headers",
    "request_max_retries",
    "stream_max_retries",
    "stream_idle_timeout_ms",
    "websocket_connect_timeout_ms",
    "requires_openai_auth",
    "supports_websockets",
)
# Fields added later, with the first release seen accepting them (`--strict-config` calls them
# unknown before). Probed releases: 0.133, 0.140, 0.145, 0.150, 0.155, 0.160, 0.163, 0.165, 0.166, 0.169,
# 0.170, 0.171.
_PROVIDER_FIELDS_SINCE: dict[str, Version] = {
    "supports_standalone_web_search": (0, 150, 0),  # unknown on 0.145.0
    "model_catalog_url": (0, 160, 0),  # unknown on 0.155.0
    "gateway_oauth": (0, 160, 0),  # unknown on 0.155.0
    "capabilities": (0, 163, 0),  # unknown on 0.160.0
    # Vertex's fields, accepted on any id (not only the gcp built-in); unknown on 0.165.0.
    "project_id": (0, 166, 0),
    "location": (0, 166, 0),
    "credential_file": (0, 166, 0),
}


# Keys of [model_providers.ID.capabilities], by the first release seen accepting them (unknown keys
# are a load error under --strict-config). remote_compaction takes "unsupported" or "v2".
_PROVIDER_CAPABILITY_KEYS_SINCE: dict[str, Version] = {
    "external_web_access": (0, 163, 0),
    "remote_compaction": (0, 163, 0),
    "cyber_access_programs": (0, 169, 0),  # unknown on 0.166.0
}
REMOTE_COMPACTION_VALUES = ("unsupported", "v2")

# Top-level tables of config.toml that arrived in a release codexprov verified, by the first release
# seen accepting them (`--strict-config` calls them unknown before: probed on 0.169.0, 0.170.0, 0.171.0).
# `[responses] process_mode` takes "streaming" or "after_complete_response".
_TOP_LEVEL_TABLES_SINCE: dict[str, Version] = {
    "responses": (0, 171, 0),
    "code_mode": (0, 171, 0),
    "rollout_trace": (0, 171, 0),
}


def first_release_with(table: str) -> str:
    """The first release that reads this top-level table (one of _TOP_LEVEL_TABLES_SINCE)."""
    return format_version(_TOP_LEVEL_TABLES_SINCE[table])


def format_version(version: Version) -> str:
    return ".".join(map(str, version))


@dataclass(frozen=True)
class Capabilities:
    """What one Codex release accepts and does (profile form, wire APIs, auth forms, session rules)."""

    version: Version
    profile_form: str  # "file" (NAME.config.toml, -p NAME) or "table" ([profiles.NAME], profile = NAME)
    profile_v2_flag: bool  # `--profile-v2 NAME` layers NAME.config.toml (only 0.131 to 0.133)
    wire_apis: tuple[str, ...]
    auth_command: bool
    reserved_ids: tuple[str, ...]
    # id -> the only fields a [model_providers.ID] table may set; dotted names are sub-table keys.
    partial_builtins: tuple[tuple[str, tuple[str, ...]], ...]
    strict_config: bool
    doctor: bool
    reasoning_efforts: tuple[str, ...] | None  # None: any string is accepted
    provider_fields: frozenset[str]  # the fields a [model_providers.ID] table may have
    provider_capability_keys: frozenset[str]  # keys of [model_providers.ID.capabilities]
    responses_lite: bool  # Responses-lite requests for the catalog's use_responses_lite models
    model_catalog_json: bool
    sessions_keep_provider: bool
    provider_editor: bool
    provider_default_set: bool  # app-server `modelProvider/default/set`
    open_threads_refused: bool  # after a switch, the app-server refuses open threads of the old provider
    web_search_setting: bool
    unknown_model_reasoning: bool  # a model the catalog lacks is sent with reasoning (UNKNOWN_MODEL_REASONING_SINCE)
    retries_rate_limit: bool  # asks again after an HTTP 429 (before RATE_LIMIT_RETRY_SINCE the turn fails at once)
    # Top-level tables of _TOP_LEVEL_TABLES_SINCE this Codex accepts; the others are unknown to it.
    top_level_tables: frozenset[str]
    top_level_tables_unknown: frozenset[str]

    def builtin_fields(self, provider_id: str) -> tuple[str, ...] | None:
        """The fields a table under this built-in may set, or None when it is not partially reserved."""
        return dict(self.partial_builtins).get(provider_id)

    def builtin_top_fields(self, provider_id: str) -> tuple[str, ...] | None:
        """builtin_fields without the sub-keys: `aws.profile` -> `aws` (in first-seen order)."""
        fields = self.builtin_fields(provider_id)
        if fields is None:
            return None
        return tuple(dict.fromkeys(f.split(".", 1)[0] for f in fields))

    def restricted_ids(self) -> tuple[str, ...]:
        """Ids a custom provider may not use: fully reserved, or built-ins that take only a few fields."""
        return self.reserved_ids + tuple(pid for pid, _ in self.partial_builtins)

    def builtin_ids(self) -> set[str]:
        """Every provider id this Codex knows without a table."""
        return {*ALWAYS_BUILTIN, *self.restricted_ids()}

    def to_json(self) -> dict[str, Any]:
        return {
            "version": format_version(self.version),
            "profile_form": self.profile_form,
            "profile_v2_flag": self.profile_v2_flag,
            "wire_apis": list(self.wire_apis),
            "auth_command": self.auth_command,
            "reserved_ids": list(self.reserved_ids),
            "partial_builtins": {k: list(v) for k, v in self.partial_builtins},
            "strict_config": self.strict_config,
            "doctor": self.doctor,
            "reasoning_efforts": list(self.reasoning_efforts) if self.reasoning_efforts is not None else None,
            "provider_fields": sorted(self.provider_fields),
            "provider_capability_keys": sorted(self.provider_capability_keys),
            "responses_lite": self.responses_lite,
            "model_catalog_json": self.model_catalog_json,
            "sessions_keep_provider": self.sessions_keep_provider,
            "provider_editor": self.provider_editor,
            "provider_default_set": self.provider_default_set,
            "open_threads_refused": self.open_threads_refused,
            "web_search_setting": self.web_search_setting,
            "unknown_model_reasoning": self.unknown_model_reasoning,
            "retries_rate_limit": self.retries_rate_limit,
            "top_level_tables": sorted(self.top_level_tables),
            "top_level_tables_unknown": sorted(self.top_level_tables_unknown),
        }


def capabilities(version: Version | None) -> Capabilities:
    """What this Codex version reads. None (unknown) and versions past NEWEST_VERIFIED: the newest known."""
    v = NEWEST_VERIFIED if version is None or version > NEWEST_VERIFIED else version
    partial = []
    for pid, steps in _PARTIAL_BUILTINS.items():
        fields = [f for since, f in steps if v >= since]
        if fields:
            partial.append((pid, fields[-1]))
    return Capabilities(
        version=version or NEWEST_VERIFIED,
        profile_form="file" if v >= PROFILE_FILES_SINCE else "table",
        profile_v2_flag=PROFILE_V2_FLAG[0] <= v < PROFILE_V2_FLAG[1],
        wire_apis=("responses",) if v >= CHAT_WIRE_API_REMOVED else ("responses", "chat"),
        auth_command=v >= AUTH_COMMAND_SINCE,
        reserved_ids=RESERVED_IDS if v >= RESERVED_IDS_SINCE else (),
        partial_builtins=tuple(partial),
        strict_config=v >= STRICT_CONFIG_SINCE,
        doctor=v >= DOCTOR_SINCE,
        reasoning_efforts=None if v >= FREE_REASONING_EFFORT_SINCE else REASONING_EFFORTS,
        provider_fields=frozenset(_PROVIDER_FIELDS_BASE)
        | {f for f, since in _PROVIDER_FIELDS_SINCE.items() if v >= since},
        provider_capability_keys=frozenset(k for k, since in _PROVIDER_CAPABILITY_KEYS_SINCE.items() if v >= since),
        responses_lite=v >= RESPONSES_LITE_SINCE,
        model_catalog_json=v >= MODEL_CATALOG_JSON_SINCE,
        sessions_keep_provider=v >= SESSIONS_KEEP_PROVIDER_SINCE,
        provider_editor=v >= PROVIDER_EDITOR_SINCE,
        provider_default_set=v >= PROVIDER_DEFAULT_SET_SINCE,
        open_threads_refused=OPEN_THREADS_REFUSED[0] <= v < OPEN_THREADS_REFUSED[1],
        web_search_setting=v >= WEB_SEARCH_SETTING_SINCE,
        unknown_model_reasoning=v >= UNKNOWN_MODEL_REASONING_SINCE,
        retries_rate_limit=v >= RATE_LIMIT_RETRY_SINCE,
        top_level_tables=frozenset(t for t, since in _TOP_LEVEL_TABLES_SINCE.items() if v >= since),
        top_level_tables_unknown=frozenset(t for t, since in _TOP_LEVEL_TABLES_SINCE.items() if v < since),
    )


# The newest known field set: for suggestions ("did you mean …") and for telling a misplaced key
# from a provider field, where no version is at hand.
NEWEST_PROVIDER_FIELDS: frozenset[str] = frozenset(_PROVIDER_FIELDS_BASE) | frozenset(_PROVIDER_FIELDS_SINCE)
