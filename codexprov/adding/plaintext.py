"""`add` writes no new plain-text key into config.toml."""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import parse_qsl, urlsplit

from codexprov.adding.model import AddRequest
from codexprov.errors import UsageError
from codexprov.model import ProviderSpec
from codexprov.redact import is_secret_name

# Headers whose key Codex can send from the keyring (auth command: `Authorization: Bearer …`; Azure
# and most gateways that take `api-key`/`x-api-key` accept the Bearer form too, as key migrate says).
_BEARER_HEADERS = ("authorization",)
_KEY_HEADERS = ("api-key", "x-api-key")


def plaintext_secrets(spec: ProviderSpec) -> list[tuple[str, str]]:
    """(where, secret) for every key a provider table would hold in plain text: secret-named
    headers and query parameters, URL userinfo and secret query parameters in the base URL."""

    found: list[tuple[str, str]] = []
    for name, value in spec.http_headers.items():
        scheme, _, rest = str(value).strip().partition(" ")
        secret = rest.strip() if rest and scheme.lower() in ("bearer", "basic", "token") else str(value).strip()
        if is_secret_name(name) and secret and not re.fullmatch(r"[A-Z_][A-Z0-9_]*|\$.*|\{.*\}", secret):
            found.append((f"http_headers.{name}", secret))
    for name, value in spec.query_params.items():
        if is_secret_name(name) and str(value).strip():
            found.append((f"query_params.{name}", str(value).strip()))
    if spec.base_url:
        parts = urlsplit(spec.base_url)
        if parts.password or (parts.username and "@" in parts.netloc):
            found.append(("base_url (user:password@)", parts.password or parts.username or ""))
        for name, value in parse_qsl(parts.query, keep_blank_values=False):
            if is_secret_name(name):
                found.append((f"base_url ?{name}=", value))
    return found


def keep_keys_out_of_the_file(
    spec: ProviderSpec, request: AddRequest, recipe_id: str, key_mode: str, provider_id: str
) -> tuple[ProviderSpec, str | None, list[str]]:
    """No new plain-text key in config.toml: a key header in keyring mode moves into the keyring
    (Codex sends it as `Authorization: Bearer` through `codexprov token`); any other key is refused
    with the way to do it right, unless --allow-plaintext (then written, with a warning)."""
    found = plaintext_secrets(spec)
    if not found:
        return spec, None, []
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
    movable = [
        (w, s)
        for w, s in found
        if w.split(".", 1)[-1].lower() in _BEARER_HEADERS + _KEY_HEADERS and w.startswith("http_headers.")
    ]
    from_options = {**request.headers, **request.query}
    in_url = bool(request.base_url) and any(w.startswith("base_url") for w, _s in found)
    given = in_url or any(w.split(".", 1)[-1] in from_options for w, _s in found)
    origin = "given on the command line" if given else f"set by recipe `{recipe_id}`"
    if key_mode == "keyring" and len(movable) == len(found) and len({s for _w, s in movable}) == 1:
        headers = {k: v for k, v in spec.http_headers.items() if f"http_headers.{k}" not in {w for w, _s in movable}}
        names = ", ".join(w.split(".", 1)[1] for w, _s in movable)
        note = (
            f"the key in the {names} header goes into the OS keyring instead of the config; Codex sends it as "
            f"`Authorization: Bearer …` through `codexprov token {provider_id}`"
        )
        return dataclasses.replace(spec, http_headers=headers), movable[0][1], [note]
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
