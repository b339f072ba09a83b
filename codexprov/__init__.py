"""codexprov: manage model providers for the OpenAI Codex CLI."""

__version__ = "0.1.0.dev0"
