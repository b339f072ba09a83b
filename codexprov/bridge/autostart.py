"""`codexprov token ID` for a bridged provider: make sure the bridge answers, print its master key.

Codex runs the auth command when it starts, so this is what brings the bridge up after a reboot:
a health probe first (a few milliseconds when the bridge runs), and only when it is down the slow
path, under a lock: read the upstream keys from the keyring, start LiteLLM detached, wait until it
answers (~10 s; the auth table gives Codex's wait a 60 s timeout). Output contract as in token.py:
the key alone on stdout, or one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import sys

from codexprov.bridge.layout import MASTER_KEY_SERVICE, MASTER_KEY_USER, Layout, State, read_state, resolve


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


def serve_token(layout: Layout, state: State, provider_id: str) -> int:
    from codexprov.bridge.process import probe
    from codexprov.errors import CodexprovError

    try:
        if probe(state.port).status != "up":
            from codexprov.bridge import manage

            manage.ensure_running(layout, provider_id=provider_id)
        from codexprov.token import read_key

        secret, label = read_key(MASTER_KEY_USER, service=MASTER_KEY_SERVICE)
    except CodexprovError as err:
        from codexprov.redact import redact_text

        hint = f" ({err.hint})" if err.hint else ""
        sys.stderr.write(redact_text(f"codexprov token: {err.message}{hint}") + "\n")
        return err.exit_code
    if secret is None:
        sys.stderr.write(
            f"codexprov token: the bridge's master key is missing from the keyring ({label}); "
            f"`codexprov bridge restart` makes a new one\n"
        )
        return 4
    sys.stdout.write(secret + "\n")
    sys.stdout.flush()
    return 0
