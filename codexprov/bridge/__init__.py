"""The bridge: LiteLLM's proxy on 127.0.0.1 in front of providers that do not serve the Responses API.

Codex speaks only the Responses API; Anthropic, Gemini, Mistral, Cerebras and most local servers
speak Chat Completions or an API of their own. A bridged provider is an ordinary custom provider
in config.toml whose base_url is the bridge (`http://127.0.0.1:PORT/v1`), whose `x-litellm-tags`
header names the upstream, and whose auth command (`codexprov token ID`) hands Codex the bridge's
master key, starting the bridge first when it is down.

Modules (the core returns data; the CLI is codexprov/cli/bridge.py):
  layout          where the files are, the state file (light: on the token path)
  autostart       what `codexprov token` does for a bridged provider (light until a start is needed)
  manage          register/unregister providers, up/down/restart/status, the master key
  process         start (detached, waits until ready), probe, stop
  litellm_config  the generated LiteLLM config (no secrets)
  install         LiteLLM in its own virtualenv, pinned to the tested range
  runner          runs LiteLLM and masks secrets in its log
"""
