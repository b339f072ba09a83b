"""The bridge check: for providers that go through codexprov's bridge, is LiteLLM installed, does the
bridge answer, and does the upstream answer *through* it (asked with the headers Codex sends the
bridge for that provider: codex/reach.py) — so that a failure names the right part
("bridge down" vs "upstream down" vs "upstream rejects the key").

The upstream probe is a Chat Completions call through the bridge for a model that does not exist
(`codexprov-doctor-probe`): a provider checks the key and answers "no such model" without running
anything, so no tokens are spent; a provider that cannot be reached makes LiteLLM answer with a
connection error. A bridge that is down is started first, as Codex would (through its auth command).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from codexprov.codex import reach
from codexprov.doctor.findings import Finding
from codexprov.errors import CodexprovError, KeyringUnavailableError
from codexprov.redact import mask

PROBE_MODEL = "codexprov-doctor-probe"
_CONNECTION_WORDS = (
    "connection error",
    "connecterror",
    "connection refused",
    "cannot connect",
    "apiconnectionerror",
    "timed out",
    "timeout",
)


def check_bridge(
    result: Any, env: Mapping[str, str], *, offline: bool, timeout: float, transport: Any = None
) -> list[Finding]:
    from codexprov.bridge.layout import read_state, resolve

    layout = resolve(env)
    state = read_state(layout)
    if state is None:
        return []
    bridged = [pid for pid in result.order if state.get(pid) is not None and pid in result.tables]
    if not bridged:
        return []
    from codexprov.bridge import install, process

    findings: list[Finding] = []
    version = install.installed_version(layout)
    if version is None:
        findings.append(
            Finding(
                "bridge.installed",
                "fail",
                f"the bridge's LiteLLM is not installed (in {layout.venv}); {', '.join(bridged)} cannot work",
                fix="codexprov bridge install",
            )
        )
        return findings
    findings.append(
        Finding("bridge.installed", "ok", f"LiteLLM {version} for the bridge ({install.LITELLM_REQUIREMENT})")
    )
    if offline:
        return findings
    master = _master_key(result, bridged)
    # With the master key the probe is the bridge's identity challenge: an impostor on the port is
    # "other", and the master key below goes only to our own bridge.
    seen = process.probe(state.port, timeout=timeout, master_key=master)
    if seen.status == "other":
        findings.append(
            Finding(
                "bridge.running",
                "fail",
                f"bridge down: port {state.port} is taken by another program ({seen.detail})",
                fix="codexprov bridge restart --new-port",
            )
        )
        return findings
    started = ""
    if seen.status == "down":
        # Codex would start it through the auth command; so does doctor, to check the upstream.
        from codexprov.bridge import manage

        try:
            manage.ensure_running(layout)
            started = " (it was down; started now, as Codex would)"
        except CodexprovError as err:
            findings.append(
                Finding(
                    "bridge.running",
                    "fail",
                    f"bridge down: nothing answers on {state.base_url}, and it does not start: {err.message}",
                    fix=err.hint or "codexprov bridge up   # then: codexprov bridge logs",
                )
            )
            return findings
    findings.append(Finding("bridge.running", "ok", f"bridge up on {state.base_url}{started}"))
    import httpx

    with httpx.Client(transport=transport, timeout=timeout) as client:
        for pid in bridged:
            upstream = state.get(pid)
            assert upstream is not None
            where = upstream.api_base or f"LiteLLM's {upstream.litellm_prefix} endpoint"
            # What Codex sends the bridge for this provider (its route header among its http_headers,
            # the master key its auth command gives), as codex/reach.py says.
            resolved = result.keys.get(pid)
            if resolved is not None:
                key: reach.SentKey | None = reach.SentKey(resolved.source, pid, resolved.value)
            else:
                key = reach.SentKey("command", pid, master) if master else None
            headers: Any = reach.request_headers(result.tables[pid], env, key)  # httpx takes str or bytes values
            body = {"model": PROBE_MODEL, "messages": [{"role": "user", "content": "ping"}], "max_tokens": 1}
            try:
                response = client.post(f"{state.base_url}/chat/completions", json=body, headers=headers)
            except httpx.HTTPError as err:
                findings.append(
                    Finding(
                        "bridge.upstream",
                        "fail",
                        f"bridge down: the request to it failed ({type(err).__name__})",
                        provider=pid,
                        fix="codexprov bridge restart",
                    )
                )
                continue
            findings.append(_classify(pid, where, response.status_code, response.text))
    return findings


def bridged_key_check(ctx: Any, pid: str, store: Any, file: str | None, line: int | None) -> bool:
    """Key sources of a bridged provider (called by keysource for `codexprov token ID` tables).
    False when `pid` does not go through the bridge. The key Codex gets is the bridge's master key;
    the provider's own keyring entry is the upstream key, which only the bridge uses."""
    from codexprov.bridge.layout import read_state, resolve
    from codexprov.bridge.manage import master_store

    state = read_state(resolve(ctx.env))
    upstream = state.get(pid) if state is not None else None
    if upstream is None:
        return False
    from codexprov.bridge.layout import MASTER_KEY_USER
    from codexprov.doctor.context import ResolvedKey

    try:
        master = master_store(store).get(MASTER_KEY_USER)
        upstream_key = store.get(pid) if upstream.key_var else None
    except KeyringUnavailableError as err:
        ctx.add("key.keyring-unavailable", "fail", err.message, provider=pid, file=file, line=line, fix=err.hint)
        return True
    if upstream.key_var and upstream_key is None:
        ctx.add(
            "key.keyring-missing",
            "fail",
            f"{pid} goes through the bridge, which reaches it with the key in the keyring; the keyring has none for {pid}",
            provider=pid,
            file=file,
            line=line,
            fix=f"codexprov key set {pid}",
        )
    elif upstream_key is not None:
        ctx.add(
            "key.source",
            "ok",
            f"upstream key from the OS keyring ({mask(upstream_key)}), used by the bridge",
            provider=pid,
        )
    else:
        ctx.add("key.source", "ok", "the upstream needs no key; Codex authenticates to the bridge", provider=pid)
    if master is None:
        ctx.add(
            "key.bridge-master",
            "warn",
            "the bridge's master key is not in the keyring (a new one is made when the bridge starts)",
            provider=pid,
            fix="codexprov bridge restart",
        )
    else:
        ctx.keys[pid] = ResolvedKey(pid, "keyring", master.strip())
    return True


def _classify(pid: str, where: str, status: int, text: str) -> Finding:
    lowered = text.lower()
    if status < 300 or status in (400, 404, 422):
        return Finding("bridge.upstream", "ok", f"upstream answers through the bridge ({where})", provider=pid)
    if "invalid proxy server token" in lowered or "litellm_master_key" in lowered:
        return Finding(
            "bridge.upstream",
            "fail",
            "the bridge refused its own master key (the keyring and the running bridge disagree)",
            provider=pid,
            fix="codexprov bridge restart",
        )
    if status in (401, 403):
        return Finding(
            "bridge.upstream",
            "fail",
            f"upstream rejects the key: {where} answered HTTP {status} through the bridge",
            provider=pid,
            fix=f"codexprov key set {pid}   # then: codexprov bridge restart",
        )
    if any(word in lowered for word in _CONNECTION_WORDS):
        return Finding(
            "bridge.upstream",
            "fail",
            f"upstream down: the bridge is up but cannot reach {where}",
            provider=pid,
            fix=f"check that {where} is up and reachable from this machine",
        )
    return Finding(
        "bridge.upstream",
        "warn",
        f"upstream answered HTTP {status} through the bridge ({where})",
        provider=pid,
        fix="codexprov bridge logs",
    )


def _master_key(result: Any, bridged: list[str]) -> str | None:
    """The master key as the auth command gave it to the key-source check (no second keyring read)."""
    for pid in bridged:
        key = result.keys.get(pid)
        if key is not None:
            return str(key.value)
    from codexprov.bridge.layout import MASTER_KEY_SERVICE, MASTER_KEY_USER
    from codexprov.token import read_key

    try:
        return read_key(MASTER_KEY_USER, service=MASTER_KEY_SERVICE)[0]
    except CodexprovError:
        return None
