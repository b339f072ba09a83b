"""The bridge's use cases: register providers, start/stop it, say how it is. Returns data; the CLI
renders it (codexprov/cli/bridge.py).

Order of writes (a failure leaves a working state): the master key is in the keyring before the
state names any provider; the state and the LiteLLM config are written before config.toml points a
provider at the bridge; a running bridge is restarted after the change so that it serves it.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from codexprov import providers
from codexprov.bridge import identity, install, litellm_config, process
from codexprov.bridge.layout import (
    MASTER_KEY_SERVICE,
    MASTER_KEY_USER,
    Layout,
    State,
    Upstream,
    read_run,
    read_state,
    write_private,
)
from codexprov.credentials import KeyStore, open_store
from codexprov.errors import CodexprovError, ConflictError, NotFoundError, UsageError
from codexprov.locking import FileLock
from codexprov.paths import Paths
from codexprov.result import Outcome

LOCK_TIMEOUT = process.READY_TIMEOUT + 20


def _lock(layout: Layout) -> FileLock:
    return FileLock(layout.lock_file, timeout=LOCK_TIMEOUT, what="the bridge")


def master_store(store: Any) -> Any:
    """The keyring store holding the bridge's master key (same backend, the bridge's service name)."""

    return KeyStore(store.backend, service=MASTER_KEY_SERVICE)


def ensure_master_key(store: Any) -> str:
    """The master key Codex uses to talk to the bridge; made (random, 256 bits) when missing."""
    keys = master_store(store)
    key = keys.get(MASTER_KEY_USER)
    if key is None:
        key = new_master_key()
        keys.set(MASTER_KEY_USER, key)
    return key


def new_master_key() -> str:
    return "sk-bridge-" + secrets.token_urlsafe(32)


def _save(layout: Layout, state: State) -> None:
    write_private(layout.state_file, json.dumps(state.to_json(), indent=2) + "\n")
    write_private(layout.config_file, litellm_config.render_text(state))


def planned_base_url(layout: Layout) -> str:
    """The bridge's URL for a provider about to be added: the kept port, or (first time) a free
    one that `register(..., port=)` then keeps. Writes nothing (this runs for --dry-run too)."""
    state = read_state(layout)
    return state.base_url if state else State(port=process.pick_port()).base_url


def port_of(base_url: str) -> int | None:
    try:
        return urlsplit(base_url).port
    except ValueError:
        return None


def register(layout: Layout, upstream: Upstream, store: Any, *, port: int | None = None) -> State:
    """Add (or update) a bridged provider. The first one fixes the port (`port`, else a free one);
    later ones keep it. Does not restart a running bridge (reload_if_running does)."""
    ensure_master_key(store)
    with _lock(layout):
        state = read_state(layout) or State(port=port or process.pick_port())
        previous = state.get(upstream.provider_id)
        if previous is not None and previous.fallback and upstream.fallback is None:
            upstream = dataclasses.replace(upstream, fallback=previous.fallback)  # kept over --replace
        kept = tuple(u for u in state.upstreams if u.provider_id != upstream.provider_id)
        if upstream.key_var and upstream.key_var in {u.key_var for u in kept}:
            # Two providers of one kind (two Anthropic accounts): each key gets a variable of its own.
            suffix = "".join(c if c.isalnum() else "_" for c in upstream.provider_id.upper())
            upstream = dataclasses.replace(upstream, key_var=f"{upstream.key_var}_{suffix}")
        new = State(state.port, (*kept, upstream))
        _save(layout, new)
    return new


def unregister(layout: Layout, provider_id: str) -> bool:
    """Drop a bridged provider from the state and the config (and as anyone's fallback); False when
    it was not bridged."""
    with _lock(layout):
        state = read_state(layout)
        if state is None or state.get(provider_id) is None:
            return False
        kept = tuple(
            dataclasses.replace(u, fallback=None) if u.fallback == provider_id else u
            for u in state.upstreams
            if u.provider_id != provider_id
        )
        _save(layout, State(state.port, kept))
    return True


def set_fallback(layout: Layout, provider_id: str, fallback: str | None, store: Any = None) -> State:
    """Make `fallback` (another bridged provider) serve `provider_id`'s requests when its upstream
    answers 429, 5xx or times out; None removes the fallback. A running bridge is restarted."""
    with _lock(layout):
        state = read_state(layout)
        known = tuple(u.provider_id for u in state.upstreams) if state else ()
        for pid in (provider_id, fallback):
            if pid is not None and pid not in known:
                raise NotFoundError(
                    f"provider '{pid}' does not go through the bridge",
                    hint="A fallback joins two bridged providers (`codexprov add RECIPE --bridge`); "
                    f"bridged now: {', '.join(known) or 'none'}.",
                )
        if fallback == provider_id:
            raise UsageError(
                f"provider '{provider_id}' cannot be its own fallback", hint="Name another bridged provider."
            )
        assert state is not None
        new = State(
            state.port,
            tuple(
                dataclasses.replace(u, fallback=fallback) if u.provider_id == provider_id else u
                for u in state.upstreams
            ),
        )
        _save(layout, new)
    reload_if_running(layout, store)
    return new


def fallback_chain(state: State, provider_id: str) -> tuple[str, ...]:
    """provider_id, then its fallback (LiteLLM goes one step: the fallback's own fallback is not used)."""
    upstream = state.get(provider_id)
    if upstream is None or not upstream.fallback or state.get(upstream.fallback) is None:
        return (provider_id,)
    return (provider_id, upstream.fallback)


def bridged_ids(layout: Layout) -> tuple[str, ...]:
    state = read_state(layout)
    return tuple(u.provider_id for u in state.upstreams) if state else ()


def _secrets(state: State, store: Any, required: str | None) -> dict[str, str]:
    """Variables for the bridge process: the master key and each upstream key found in the keyring."""
    values = {litellm_config.MASTER_KEY_VAR: ensure_master_key(store)}
    for upstream in state.upstreams:
        if upstream.key_var is None:
            continue
        key = store.get(upstream.provider_id)
        if key is None:
            if upstream.provider_id == required:
                raise NotFoundError(
                    f"no key for provider '{upstream.provider_id}' in the keyring ({store.label})",
                    hint=f"Store one with `codexprov key set {upstream.provider_id}`.",
                )
            continue  # that provider fails on its own turn, with LiteLLM's auth error
        values[upstream.key_var] = key
    return values


def _start_locked(layout: Layout, state: State, store: Any, required: str | None) -> int:
    install.require_installed(layout)
    secrets_ = _secrets(state, store, required)
    # Ours but not answering (a crashed LiteLLM, a hung start), or a LiteLLM orphaned by a killed
    # runner: stopped first. Only processes proved to be ours are signalled (process.stop).
    process.stop(layout)
    pid = process.handoff(layout, state, secrets_)  # a standby, loaded ahead of need: ~1 s
    return pid if pid is not None else process.start(layout, state, secrets_)


def _open_store(store: Any) -> Any:
    if store is not None:
        return store

    return open_store()


def _master_key(store: Any) -> str | None:
    """The master key as the keyring has it, or None (no keyring, or none made yet)."""
    try:
        return master_store(_open_store(store)).get(MASTER_KEY_USER)
    except CodexprovError:
        return None


def _not_ours(port: int, detail: str) -> ConflictError:
    return ConflictError(
        f"something else answers on port {port} on 127.0.0.1, the bridge's, and it is not codexprov's "
        f"bridge ({detail or 'no identity proof'}); the bridge's master key is not handed out",
        hint="Stop that program, or move the bridge with `codexprov bridge restart --new-port` "
        "(it updates the bridged providers in config.toml).",
    )


def ensure_running(
    layout: Layout, *, provider_id: str | None = None, store: Any = None, master_key: str | None = None
) -> int | None:
    """Make sure our own bridge answers on the kept port: start it unless it proves itself already
    (identity challenge). The new pid, or None when it was up. ConflictError when another program
    holds the port (it is never trusted with the key, nor signalled)."""
    with _lock(layout):
        state = read_state(layout)
        if state is None:
            raise NotFoundError(
                "no bridge is set up yet", hint="Add a provider through it: `codexprov add RECIPE --bridge`."
            )
        store = _open_store(store)
        key = master_key or ensure_master_key(store)
        seen = identity.challenge(state.port, key)
        if seen.status == "ours":
            return None
        runner = process.running_pid(layout)
        if seen.status == "silent" and runner is not None and process.wait_ready(state.port, key, runner):
            return None  # ours, still starting (another Codex started it a moment ago)
        if seen.status == "other" and runner is None and not process.orphans(layout):
            raise _not_ours(state.port, seen.detail)
        return _start_locked(layout, state, store, provider_id)


@dataclass(frozen=True)
class UpResult:
    """A bridge start: the process, its port, whether it was started now and how long that took."""

    pid: int | None
    port: int
    started: bool  # False: it was already running
    seconds: float = 0.0


def up(layout: Layout, store: Any = None) -> UpResult:
    install.require_installed(layout)
    with _lock(layout):
        store = _open_store(store)
        state = read_state(layout)
        if state is None:
            state = State(port=process.pick_port())
            _save(layout, state)
        if identity.challenge(state.port, ensure_master_key(store)).status == "ours":
            return UpResult(process.running_pid(layout), state.port, False)
        began = time.monotonic()
        pid = _start_locked(layout, state, store, None)
    return UpResult(pid, state.port, True, time.monotonic() - began)


def down(layout: Layout, store: Any = None) -> int | None:
    """Stop the bridge (also a LiteLLM orphaned by a killed runner, and a standby); the pid that was
    stopped, or None when none was running."""
    state = read_state(layout)
    key = _master_key(store)
    with _lock(layout):
        stopped = process.stop(layout, state.port if state else None, key)
        standby_ = process.stop_standby(layout)
        return stopped or standby_


@dataclass(frozen=True)
class StandbyResult:
    """The standby LiteLLM: its process and whether it was started now."""

    pid: int
    started: bool  # False: one was loaded already


def standby(layout: Layout) -> StandbyResult:
    """Load a LiteLLM ahead of need (no key, no port) so that the next start of the bridge (by
    `codexprov token`, a restart, a key change) is a handoff of about a second."""
    install.require_installed(layout)
    with _lock(layout):
        pid = process.standby_pid(layout)
        if pid is not None:
            return StandbyResult(pid, False)
        return StandbyResult(process.start_standby(layout), True)


def restart(layout: Layout, store: Any = None, *, new_port: bool = False) -> UpResult:
    """Stop and start again (new config, current keys); with new_port, on a newly picked port."""
    install.require_installed(layout)
    store = _open_store(store)
    with _lock(layout):
        state = read_state(layout) or State(port=process.pick_port())
        process.stop(layout, state.port, _master_key(store))
        if new_port:
            state = State(process.pick_port(), state.upstreams)
        _save(layout, state)
        began = time.monotonic()
        pid = _start_locked(layout, state, store, None)
    return UpResult(pid, state.port, True, time.monotonic() - began)


@dataclass(frozen=True)
class RotateResult:
    """A master-key rotation: the bridge restarted with the new key, if it was running."""

    restarted: UpResult | None  # None: the bridge was down (it starts with the new key when needed)


def rotate_key(layout: Layout, store: Any = None) -> RotateResult:
    """A new master key: the old one stops working at once. A running bridge is restarted with the
    new key; Codex gets it from `codexprov token` the next time it asks (a new session, or the
    auth command's refresh)."""
    store = _open_store(store)
    keys = master_store(store)
    with _lock(layout):
        state = read_state(layout)
        old = keys.get(MASTER_KEY_USER)
        running = state is not None and (
            process.running_pid(layout) is not None
            or (old is not None and identity.challenge(state.port, old).status == "ours")
        )
        if running:
            install.require_installed(layout)
        if state is not None:
            process.stop(layout, state.port, old)
        keys.set(MASTER_KEY_USER, new_master_key())
        if not running or state is None:
            return RotateResult(None)
        began = time.monotonic()
        pid = _start_locked(layout, state, store, None)
    return RotateResult(UpResult(pid, state.port, True, time.monotonic() - began))


def reload_if_running(layout: Layout, store: Any = None) -> bool:
    """After a change of providers or keys: restart a running bridge so that it serves the change.
    A bridge that is down stays down (the next Codex start brings it up with the new config)."""
    state = read_state(layout)
    if state is None:
        return False
    if process.running_pid(layout) is None and not process.orphans(layout):
        key = _master_key(store)
        if key is None or identity.challenge(state.port, key).status != "ours":
            return False
    restart(layout, store)
    return True


@dataclass(frozen=True)
class BridgeStatus:
    """What `bridge status` reports: the installed LiteLLM, the process, the port and the upstreams."""

    installed: str | None  # LiteLLM version in the bridge's virtualenv
    requirement: str
    venv: Path
    port: int | None
    base_url: str | None
    health: str  # "up", "down", "other" (something else on the port), "unset" (no bridge yet)
    pid: int | None
    upstreams: tuple[Upstream, ...]
    config_file: Path
    log_file: Path
    started: float | None
    standby: int | None = None  # pid of a standby LiteLLM (`bridge standby`), loaded ahead of need

    @property
    def fallback_chains(self) -> tuple[tuple[str, ...], ...]:
        state = State(self.port or 0, self.upstreams)
        return tuple(fallback_chain(state, u.provider_id) for u in self.upstreams)

    def to_json(self) -> dict[str, Any]:
        return {
            "installed": self.installed,
            "requirement": self.requirement,
            "venv": str(self.venv),
            "port": self.port,
            "base_url": self.base_url,
            "health": self.health,
            "running": self.health == "up",
            "pid": self.pid,
            "upstreams": [u.to_json() for u in self.upstreams],
            "config_file": str(self.config_file),
            "log_file": str(self.log_file),
            "standby": self.standby,
        }


def status(layout: Layout, store: Any = None) -> BridgeStatus:
    """How the bridge is. "up" only when what answers proves it is ours (with the keyring's master
    key); an impostor on the port is "other"."""
    state = read_state(layout)
    health = process.probe(state.port, master_key=_master_key(store) or "-").status if state else "unset"
    run = read_run(layout) or {}
    pid = process.running_pid(layout)
    return BridgeStatus(
        installed=install.installed_version(layout),
        requirement=install.LITELLM_REQUIREMENT,
        venv=layout.venv,
        port=state.port if state else None,
        base_url=state.base_url if state else None,
        health=health,
        pid=pid,
        upstreams=state.upstreams if state else (),
        config_file=layout.config_file,
        log_file=layout.log_file,
        started=run.get("started") if pid else None,
        standby=process.standby_pid(layout),
    )


def point_providers_at_bridge(paths: Paths, layout: Layout) -> Any:
    """After the bridge moved port: set base_url of every bridged provider in config.toml to it."""

    state = read_state(layout)
    if state is None:
        return Outcome()
    configured = {p.id: p for p in providers.list_providers(paths).providers}
    edits = []
    for upstream in state.upstreams:
        info = configured.get(upstream.provider_id)
        if info is None or info.base_url == state.base_url:
            continue
        edits.append(
            providers.update_provider_fields(
                paths,
                upstream.provider_id,
                {"base_url": state.base_url},
                description=f"point {upstream.provider_id} at the bridge",
            )
        )
    return Outcome(tuple(edits))


def forget(layout: Layout, provider_id: str, store: Any = None) -> bool:
    """After `remove ID`: the bridge stops serving it (restarted when it runs). False: not bridged."""
    if not unregister(layout, provider_id):
        return False
    reload_if_running(layout, store)
    return True


def key_changed(layout: Layout, provider_id: str, store: Any = None) -> bool:
    """After `key set ID`: a running bridge gets the new upstream key (its environment is fixed at
    start, so it is restarted). False when ID is not bridged or the bridge is not running."""
    if provider_id not in bridged_ids(layout):
        return False
    return reload_if_running(layout, store)
