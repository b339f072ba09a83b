"""`add` writes no new plain-text key into config.toml."""

from __future__ import annotations

import dataclasses

from codexprov.adding.model import AddRequest
from codexprov.errors import UsageError
from codexprov.keys.plaintext import PlaintextKey, find_keys, movable_key
from codexprov.model import ProviderSpec


def plaintext_secrets(spec: ProviderSpec) -> list[tuple[str, str]]:
    """(where, secret) for every key the provider table would hold in plain text (keys.plaintext)."""
    return [(k.field, k.secret) for k in _found(spec)]


def _found(spec: ProviderSpec) -> list[PlaintextKey]:
    return find_keys(spec.id, spec.to_table())


def keep_keys_out_of_the_file(
    spec: ProviderSpec, request: AddRequest, recipe_id: str, key_mode: str, provider_id: str
) -> tuple[ProviderSpec, str | None, list[str]]:
    """No new plain-text key in config.toml: a key header in keyring mode moves into the keyring
    (Codex sends it as `Authorization: Bearer` through `codexprov token`); any other key is refused
    with the way to do it right, unless --allow-plaintext (then written, with a warning)."""
    keys = _found(spec)
    if not keys:
        return spec, None, []
    found = [(k.field, k.secret) for k in keys]
    where = ", ".join(w for w, _s in found)
    if request.allow_plaintext:
        return (
            spec,
            None,
            [
                f"--allow-plaintext: writing a key in plain text into the config ({where}); anyone who can read the "
                "file or its backups can use it. `codexprov key migrate` moves header keys into the keyring later."
            ],
        )
    from_options = {**request.headers, **request.query}
    in_url = bool(request.base_url) and any(w.startswith("base_url") for w, _s in found)
    given = in_url or any(w.split(".", 1)[-1] in from_options for w, _s in found)
    origin = "given on the command line" if given else f"set by recipe `{recipe_id}`"
    moved = movable_key(keys)
    if key_mode == "keyring" and moved is not None and all(w.startswith("http_headers.") for w, _s in found):
        headers = {k: v for k, v in spec.http_headers.items() if f"http_headers.{k}" not in {w for w, _s in found}}
        names = ", ".join(w.split(".", 1)[1] for w, _s in found)
        note = (
            f"the key in the {names} header goes into the OS keyring instead of the config; Codex sends it as "
            f"`Authorization: Bearer …` through `codexprov token {provider_id}`"
        )
        return dataclasses.replace(spec, http_headers=headers), moved, [note]
    if key_mode == "keyring":
        hint = (
            f"Leave the key out of the command: `codexprov add {recipe_id} …` stores it in the OS keyring (typed at the "
            "prompt or with --key-stdin) and Codex sends it as `Authorization: Bearer`. Codex cannot take a query "
            "parameter or URL password from the keyring; if the server needs one, pass --allow-plaintext."
        )
    else:
        hint = (
            f"Drop --key-mode {key_mode} and the key from the command: keyring mode stores it in the OS keyring and "
            "Codex sends it as `Authorization: Bearer`. Or pass --allow-plaintext to write it anyway."
        )
    raise UsageError(
        f"refusing to write a key in plain text into the config ({where}, {origin}); nothing was written", hint=hint
    )
