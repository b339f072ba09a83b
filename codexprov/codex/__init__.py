"""What the installed Codex CLI accepts. Every rule about Codex's config format lives here.

- `version`: find the `codex` binary and its version (`codex --version`, cached per binary build).
- `capabilities`: the table of what each Codex version reads (profile form, wire APIs, provider
  fields, reserved and partly reserved built-in ids, ...), by the first release that behaves so.
- `builtins`: the built-in providers' display data (name, default URL, where their key comes from).
- `rules`: why Codex would refuse a provider table, and whether a custom provider may use an id.
- `reach`: how Codex reaches a provider: the environment it starts with (`$CODEX_HOME/.env`), the
  key it resolves and from where, the headers and URL it sends, proxies, what it ignores; shared by
  `doctor`, `models` and `add --model`.
- `wire`: what Codex puts on the wire: which header names, values and base URLs it can send, the
  key bytes it sends, and the request shape (headers, tools) of a turn per model.

Supporting a new Codex release means editing this package and its tests, nothing else. The
modules import nothing heavy, and this file imports none of them, so `list` and `token` stay fast.
"""
