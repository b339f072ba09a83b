"""`codexprov token ID` for a bridged provider: make sure our bridge answers, print its master key.

Codex runs the auth command when it starts, so this is what brings the bridge up after a reboot.
The master key is handed out only when (1) the provider's table in config.toml still points at the
bridge, and (2) what answers on the bridge's port proves it holds the master key (the identity
challenge, a few milliseconds when the bridge runs; the key never crosses the socket). When nothing
answers, the slow path, under a lock: read the upstream keys from the keyring, take the port, start
LiteLLM detached on it, wait until it proves itself (~10 s; the auth table gives Codex's wait a 60 s
timeout). Another program on the port gets nothing. Output contract as in token.py: the key alone
on stdout, or one line on stderr and a non-zero exit.

The other direction: a provider this data dir does not bridge, whose table is a bridged one (another
XDG_DATA_HOME set it up), does not get its upstream key either (`bridged_elsewhere`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from codexprov.bridge.layout import (
    MASTER_KEY_SERVICE,
    MASTER_KEY_USER,
    ROUTE_HEADER,
    Layout,
    State,
    read_state,
    resolve,
)

# (provider id, service) -> (the key or None, the backend's label); codexprov.token.read_key.
KeyReader = Callable[..., tuple[str | None, str]]


def lookup(provider_id: str) -> tuple[Layout, State, str] | None:
    """(layout, state, id) when `provider_id` is bridged, else None (the usual token path)."""
    try:
        layout = resolve()
    except Exception:  # noqa: BLE001 - no data dir: nothing is bridged
        return None
    state = read_state(layout)
    if state is None or state.get(provider_id) is None:
        return None
    return layout, state, provider_id


def serve_token(layout: Layout, state: State, provider_id: str, read_key: KeyReader) -> int:
    """Print the master key, once (1) the provider's table in config.toml points at this bridge and
    (2) what answers on the bridge's port proves it is our bridge (started here when down).
    `read_key` is `codexprov.token.read_key`, handed in so that this module does not import its caller."""
    from codexprov.bridge import identity
    from codexprov.errors import CodexprovError

    try:
        problem = table_problem(provider_id, state.base_url)
        if problem is not None:
            sys.stderr.write(f"codexprov token: {problem}\n")
            return 5
        secret, label = read_key(MASTER_KEY_USER, service=MASTER_KEY_SERVICE)
        if secret is None or identity.challenge(state.port, secret).status != "ours":
            from codexprov.bridge import manage

            # Down, starting, or not ours. A missing master key is made here (no bridge can hold it).
            manage.ensure_running(layout, provider_id=provider_id, master_key=secret)
            if secret is None:
                secret, label = read_key(MASTER_KEY_USER, service=MASTER_KEY_SERVICE)
        if secret is None:
            sys.stderr.write(
                f"codexprov token: the bridge's master key is missing from the keyring ({label}); "
                f"`codexprov bridge rotate-key` makes a new one\n"
            )
            return 4
    except CodexprovError as err:
        from codexprov.redact import redact_text

        hint = f" ({err.hint})" if err.hint else ""
        sys.stderr.write(redact_text(f"codexprov token: {err.message}{hint}") + "\n")
        return err.exit_code
    sys.stdout.write(secret + "\n")
    sys.stdout.flush()
    return 0


# -- where the provider's table sends the key ----------------------------------------------------


def config_file(env: Mapping[str, str] | None = None) -> Path:
    """Codex's config.toml, as Codex finds it (CODEX_HOME, else ~/.codex): what the auth command
    serves. (paths.default_codex_home's rule; repeated here to keep the token path light.)"""
    value = (os.environ if env is None else env).get("CODEX_HOME")
    return (Path(value).expanduser() if value else Path("~/.codex").expanduser()) / "config.toml"


def _provider_table(provider_id: str, raw: bytes) -> dict[str, Any] | None:
    import tomli

    try:
        data = tomli.loads(raw.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError):
        return None
    providers = data.get("model_providers")
    table = providers.get(provider_id) if isinstance(providers, dict) else None
    return table if isinstance(table, dict) else None


def _same_bridge(url: object, bridge_url: str) -> bool:
    from urllib.parse import urlsplit

    if not isinstance(url, str):
        return False
    try:
        got, want = urlsplit(url.strip()), urlsplit(bridge_url)
        return (
            got.scheme == "http"
            and got.hostname in ("127.0.0.1", "localhost")
            and got.port == want.port
            and got.path.rstrip("/") == want.path.rstrip("/")
            and not got.username
            and not got.password
        )
    except ValueError:
        return False


def table_problem(provider_id: str, bridge_url: str) -> str | None:
    """Why the master key must not go to `provider_id`'s table, or None when it points at the bridge."""
    path = config_file()
    try:
        raw = path.read_bytes()
    except OSError:
        raw = b""
    table = _provider_table(provider_id, raw) if raw else None
    if table is None:
        return (
            f"provider '{provider_id}' is not in {path}, so where Codex would send the bridge's master key "
            f"is unknown; it is not handed out (add it again: `codexprov add … --id {provider_id} --bridge`)"
        )
    base_url = table.get("base_url")
    if not _same_bridge(base_url, bridge_url):
        return (
            f"provider '{provider_id}' in {path} has base_url {base_url!r}, not the bridge ({bridge_url}); "
            f'the bridge\'s master key goes only to the bridge (set base_url back to "{bridge_url}", '
            f"or `codexprov remove {provider_id}` and add it again without the bridge)"
        )
    return None


def bridged_elsewhere(provider_id: str) -> str | None:
    """For a provider this data dir does NOT bridge: a reason to refuse its upstream key when its
    table in config.toml is a bridged one (it carries the bridge's route header), e.g. `codexprov
    token` run with another XDG_DATA_HOME than the one that set the bridge up. Cheap when the file
    has no bridged table at all (no TOML parse)."""
    path = config_file()
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    if ROUTE_HEADER.encode() not in raw:
        return None
    table = _provider_table(provider_id, raw)
    headers = table.get("http_headers") if table else None
    if not isinstance(headers, dict) or not any(str(k).lower() == ROUTE_HEADER for k in headers):
        return None
    return (
        f"provider '{provider_id}' in {path} goes through codexprov's bridge ({table.get('base_url') if table else ''}), "
        f"but the bridge folder this command sees ({resolve().root}) does not serve it; its upstream key is not "
        "handed to the bridge's URL (run Codex with the XDG_DATA_HOME / CODEXPROV_BRIDGE_DIR that set the bridge up)"
    )
