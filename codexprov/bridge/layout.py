"""Where the bridge keeps its files, and the small state file that `codexprov token` reads.

Everything lives in one folder, `bridge/` in codexprov's data dir (platformdirs' rule; e.g.
`~/.local/share/codexprov/bridge/` on Linux), mode 0700:
  state.json   the port (chosen once and kept) and the bridged providers (no secret)
  litellm.yaml the generated LiteLLM config: `os.environ/VAR` references only (0600)
  bridge.log   LiteLLM's output, secrets masked before it is written (0600)
  run.json     the pid of the running bridge and the port it serves
  standby.json, standby.sock   a LiteLLM loaded ahead of need (`codexprov bridge standby`)
  venv/        LiteLLM's own virtualenv (`codexprov bridge install`)

`CODEXPROV_BRIDGE_DIR` moves the folder; `CODEXPROV_BRIDGE_VENV` points at another LiteLLM
virtualenv (the test suite shares one). This module is on `codexprov token`'s path: stdlib only.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codexprov.paths import check_private, private_dir

DIR_ENV = "CODEXPROV_BRIDGE_DIR"
VENV_ENV = "CODEXPROV_BRIDGE_VENV"
HOST = "127.0.0.1"
# The header that picks the upstream (LiteLLM tag routing); Codex sends it from the provider table.
ROUTE_HEADER = "x-litellm-tags"
# The keyring entry (service, username) holding the bridge's master key. A service of its own, so
# that no provider id can collide with it.
MASTER_KEY_SERVICE = "codexprov-bridge"
MASTER_KEY_USER = "master-key"


@dataclass(frozen=True)
class Layout:
    """Where the bridge keeps its files: the virtualenv, the LiteLLM config, the state and the logs."""

    root: Path
    venv: Path

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def config_file(self) -> Path:
        return self.root / "litellm.yaml"

    @property
    def log_file(self) -> Path:
        return self.root / "bridge.log"

    @property
    def run_file(self) -> Path:
        return self.root / "run.json"

    @property
    def standby_file(self) -> Path:
        return self.root / "standby.json"

    @property
    def standby_socket(self) -> Path:
        return self.root / "standby.sock"

    @property
    def lock_file(self) -> Path:
        return self.root / "bridge.lock"

    @property
    def venv_bin(self) -> Path:
        return self.venv / ("Scripts" if os.name == "nt" else "bin")

    @property
    def litellm_exe(self) -> Path:
        return self.venv_bin / ("litellm.exe" if os.name == "nt" else "litellm")

    @property
    def venv_python(self) -> Path:
        return self.venv_bin / ("python.exe" if os.name == "nt" else "python")


def resolve(env: Mapping[str, str] | None = None) -> Layout:
    """The one place that consults the environment for the bridge's folder (edge code only)."""
    env = os.environ if env is None else env
    root_value = env.get(DIR_ENV)
    root = Path(root_value).expanduser().absolute() if root_value else user_data_dir(env) / "bridge"
    venv_value = env.get(VENV_ENV)
    venv = Path(venv_value).expanduser().absolute() if venv_value else root / "venv"
    return Layout(root=root, venv=venv)


def user_data_dir(env: Mapping[str, str]) -> Path:
    """codexprov's data dir, as `platformdirs.user_data_dir("codexprov", appauthor=False)` gives it
    (a test checks they agree). Worked out here because importing platformdirs costs `codexprov
    token` more than this whole module."""
    if sys.platform == "win32":
        base = env.get("LOCALAPPDATA") or str(Path("~/AppData/Local").expanduser())
        return Path(base) / "codexprov"
    if sys.platform == "darwin":
        return Path("~/Library/Application Support/codexprov").expanduser()
    base = (env.get("XDG_DATA_HOME") or "").strip() or str(Path("~/.local/share").expanduser())
    return Path(base) / "codexprov"


@dataclass(frozen=True)
class Upstream:
    """One bridged provider: how LiteLLM reaches it.

    provider_id: the Codex provider id (also the route tag Codex sends).
    litellm_prefix: LiteLLM's provider prefix; the model Codex asks for is sent as PREFIX/MODEL.
    api_base: the URL LiteLLM calls (None: LiteLLM's default for a native provider).
    key_var: the variable the bridge process gets the upstream key in (from the keyring entry of
      provider_id); None when the upstream needs no key.
    fallback: another bridged provider's id that serves this provider's requests when its upstream
      answers 429, 5xx or times out (LiteLLM's fallbacks); None: no fallback.
    """

    provider_id: str
    litellm_prefix: str
    api_base: str | None
    key_var: str | None
    fallback: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "provider_id": self.provider_id,
            "litellm_prefix": self.litellm_prefix,
            "api_base": self.api_base,
            "key_var": self.key_var,
        }
        if self.fallback:
            data["fallback"] = self.fallback
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Upstream:
        fallback = data.get("fallback")
        return cls(
            str(data["provider_id"]),
            str(data["litellm_prefix"]),
            data.get("api_base"),
            data.get("key_var"),
            str(fallback) if fallback else None,
        )


@dataclass(frozen=True)
class State:
    """The bridge's kept state: its port and the upstreams it serves."""

    port: int
    upstreams: tuple[Upstream, ...] = field(default_factory=tuple)

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"

    def get(self, provider_id: str) -> Upstream | None:
        return next((u for u in self.upstreams if u.provider_id == provider_id), None)

    def to_json(self) -> dict[str, Any]:
        return {"format": 1, "port": self.port, "upstreams": [u.to_json() for u in self.upstreams]}


def read_state(layout: Layout) -> State | None:
    """The saved state, or None when there is none (no bridge set up yet) or it cannot be read.
    A bridge folder others can write is refused (FileAccessError): they could plant the state."""
    check_private(layout.state_file.parent)
    try:
        data = json.loads(layout.state_file.read_text(encoding="utf-8"))
        return State(int(data["port"]), tuple(Upstream.from_json(u) for u in data.get("upstreams", [])))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def read_run(layout: Layout) -> dict[str, Any] | None:
    try:
        data = json.loads(layout.run_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_private(path: Path, text: str) -> None:
    """Write a file only the user can read (0600, in a 0700 folder), atomically."""
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
