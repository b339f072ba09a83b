"""The providers built into Codex, as `list` and `show` describe them. Which ids are reserved, and
which fields a built-in's table may set, depends on the version: see `capabilities`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BuiltinProvider:
    """A provider Codex knows without a table: its id, name, base URL and where its credentials come from."""

    id: str
    name: str
    base_url: str | None
    key_source: str  # human text: where Codex gets credentials for it


BUILTIN_PROVIDERS: dict[str, BuiltinProvider] = {
    p.id: p
    for p in (
        BuiltinProvider("openai", "OpenAI", "https://api.openai.com/v1", "codex login / OPENAI_API_KEY"),
        BuiltinProvider("ollama", "Ollama", "http://localhost:11434/v1", "none (local)"),
        BuiltinProvider("lmstudio", "LM Studio", "http://localhost:1234/v1", "none (local)"),
        BuiltinProvider("amazon-bedrock", "Amazon Bedrock", None, "AWS credentials (aws.profile)"),
        BuiltinProvider("gcp", "Google Cloud Vertex AI", None, "Google credentials (credential_file / gcloud)"),
    )
}
# amazon-bedrock-runtime is restricted like amazon-bedrock (capabilities) but not listed as a
# provider of its own: it is Bedrock's runtime endpoint.

# Display names by which Codex recognises its built-ins: a custom "Amazon Bedrock" gets SigV4 signing,
# "Google Cloud Vertex AI" Google credentials, "OpenAI" OpenAI-only behaviour (exact, case-sensitive;
# probed with `modelProvider/list` on 0.169.0 and 0.171.0). Only the fallback: codex/names.py asks
# the installed binary when it can.
BUILTIN_DISPLAY_NAMES = frozenset({"OpenAI", "Amazon Bedrock", "Google Cloud Vertex AI"})
