"""What the installed Codex sends in a turn for one provider and model: the Responses-Lite header or
not, the tool types, and the request fields a server may judge (reasoning, text, ...).

Asked from the binary in one of two ways, the first that works:
- `capture`: run the installed `codex exec` on a copy of the setup, the provider's base_url pointed
  at a loopback server inside this process, and read the request it sends. Exactly what Codex sends
  with this config: profile files, `model_catalog_json`, `[features]`, `web_search` included. The
  key is never involved: the copy reads a stand-in key (env_key set to a dummy, the auth command
  replaced by one that prints a dummy).
- `from_catalog`: without a runnable Codex, from the catalog Codex would use (the
  `model_catalog_json` file, else the binary's bundled catalog) and the top-level settings, by the
  rules below (seen with a logging server on 0.169.0 to 0.171.0):
  - an entry with `use_responses_lite`: the Lite header, no tools;
  - otherwise `function`, then `custom` when the entry asks for a freeform tool, `namespace` when
    it brings experimental tools or v2 multi-agent, or (no such entry) when `[features]
    multi_agent` is on, `tool_search` when the entry supports it and multi_agent is on, and
    `web_search` unless `web_search = "disabled"`.
  - a model the catalog lacks gets Codex's fallback metadata: from 0.160.0 `reasoning: {summary:
    auto}`, the encrypted reasoning included and parallel tool calls; 0.133.0 sends `reasoning: null`,
    `include: []` and `parallel_tool_calls: false` (capabilities.UNKNOWN_MODEL_REASONING_SINCE). The
    tool rules above hold on 0.133.0 too (probed there with tests/test_catalog.py's settings).

`doctor --live` sends the types this module reports (as tiny stand-ins), so the probe and Codex
meet the same refusal.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codexprov.codex.catalog import Catalog, ModelEntry
from codexprov.codex.wire import RESPONSES_LITE_HEADER as LITE_HEADER

__all__ = ["LITE_HEADER", "RequestPlan", "capture", "from_catalog"]

# The request fields `doctor --live` copies from what Codex sends.
BODY_FIELDS = ("tool_choice", "parallel_tool_calls", "store", "include", "reasoning", "text")
_DUMMY_KEY = "codexprov-capture"
_BARE_KEY = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


@dataclass(frozen=True)
class RequestPlan:
    """What a Codex turn carries that a server may refuse."""

    lite: bool  # the Responses-Lite header (and no tools)
    tool_types: tuple[str, ...]  # in the order Codex first sends each
    body: Mapping[str, Any] = field(default_factory=dict)  # BODY_FIELDS Codex sends, as it sends them
    source: str = ""  # "captured from Codex X" or "from the catalog of …"

    def parts(self) -> tuple[str, ...]:
        """The gateway-refusable parts (catalog.REQUEST_PARTS) this request carries."""
        found = ["responses_lite"] if self.lite else []
        return tuple(found + [t for t in ("web_search", "namespace", "custom") if t in self.tool_types])


def _setting(config: Mapping[str, Any], *path: str) -> Any:
    node: Any = config
    for key in path:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


def from_catalog(
    model: str | None,
    catalog: Catalog | None,
    config: Mapping[str, Any],
    *,
    lite_supported: bool = True,
    unknown_model_reasoning: bool = True,
) -> RequestPlan:
    """The request by the rules in the module docstring. `config` is the effective top-level config;
    the two flags are the installed release's (Capabilities.responses_lite, .unknown_model_reasoning)."""
    entry: ModelEntry | None = catalog.find(model) if catalog is not None else None
    source = f"from the catalog of {catalog.source}" if catalog is not None else "no catalog: Codex's defaults"
    body: dict[str, Any] = {"tool_choice": "auto", "store": False, "include": ["reasoning.encrypted_content"]}
    if entry is not None and entry.use_responses_lite and lite_supported:
        body["parallel_tool_calls"] = False
        body["reasoning"] = {"effort": entry.default_reasoning_level or "medium", "context": "all_turns"}
        body["text"] = {"verbosity": entry.raw.get("default_verbosity") or "low"}
        return RequestPlan(True, (), body, source)
    multi_agent = _setting(config, "features", "multi_agent") is not False
    types = ["function"]
    if entry is not None and entry.brings("custom"):
        types.append("custom")
    if (entry is not None and entry.brings("namespace")) or (entry is None and multi_agent):
        types.append("namespace")
    if entry is not None and entry.supports_search_tool and multi_agent and not entry.brings("namespace"):
        types.append("tool_search")
    if _setting(config, "web_search") != "disabled":
        types.append("web_search")
    body["parallel_tool_calls"] = True
    if entry is None and not unknown_model_reasoning:
        body |= {"parallel_tool_calls": False, "include": [], "reasoning": None}
    elif entry is None:
        body["reasoning"] = {"summary": "auto"}
    else:
        body["reasoning"] = {"effort": entry.default_reasoning_level or "medium"}
        if entry.raw.get("support_verbosity"):
            body["text"] = {"verbosity": entry.raw.get("default_verbosity") or "low"}
    return RequestPlan(False, tuple(types), body, source)


# ---------------------------------------------------------------------------- capture


def capture(
    binary: Path,
    codex_home: Path,
    provider_id: str,
    table: Mapping[str, Any],
    *,
    env: Mapping[str, str],
    cwd: Path | None = None,
    profile: str | None = None,
    model: str | None = None,
    version: str | None = None,
    timeout: float = 30,
) -> RequestPlan | None:
    """Run Codex for one turn on a copy of the setup, the provider's base_url pointed at a loopback
    server here, and read its request. None when Codex could not be made to send one (the provider
    id is not a bare TOML key, Codex failed first, the time ran out)."""
    if not provider_id or not set(provider_id) <= _BARE_KEY:
        return None
    server = _CaptureServer()
    try:
        with tempfile.TemporaryDirectory(prefix="codexprov-capture-") as tmp:
            home = Path(tmp) / "codex-home"
            _copy_configs(codex_home, home)
            overrides = [
                f"model_provider={json.dumps(provider_id)}",
                f"model_providers.{provider_id}.base_url={json.dumps(server.base_url)}",
                f"model_providers.{provider_id}.request_max_retries=0",
                f"model_providers.{provider_id}.stream_max_retries=0",
                "check_for_update_on_startup=false",
                "analytics.enabled=false",
            ]
            if model:
                overrides.append(f"model={json.dumps(model)}")
            child_env = dict(env)
            child_env |= {"CODEX_HOME": str(home), "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
            env_key = table.get("env_key")
            if isinstance(env_key, str) and env_key:
                child_env[env_key] = _DUMMY_KEY
            if isinstance(table.get("auth"), Mapping):
                overrides += [
                    f"model_providers.{provider_id}.auth.command={json.dumps(sys.executable)}",
                    f"model_providers.{provider_id}.auth.args={json.dumps(['-c', f'print({_DUMMY_KEY!r})'])}",
                ]
            command = [str(binary), "exec", "--skip-git-repo-check"]
            for item in overrides:
                command += ["-c", item]
            if profile is not None:
                command += ["-p", profile]
            command.append("ping")
            run_quietly(
                command, cwd=str(cwd) if cwd is not None and cwd.is_dir() else tmp, env=child_env, timeout=timeout
            )
    finally:
        server.stop()
    seen = server.first
    if seen is None:
        return None
    headers, body = seen
    types = tuple(dict.fromkeys(str(t.get("type")) for t in body.get("tools") or [] if isinstance(t, Mapping)))
    lite = headers.get(LITE_HEADER.lower(), "").lower() == "true"
    kept = {k: body[k] for k in BODY_FIELDS if k in body}
    return RequestPlan(lite, types, kept, f"captured from Codex {version or ''}".rstrip())


def run_quietly(command: list[str], *, cwd: str, env: dict[str, str], timeout: float) -> None:
    """Run Codex, with no input and its output thrown away, to its end or the timeout; on the
    timeout its whole process group goes (the npm launcher is a node script whose child is the real
    binary). A Codex that cannot be started is no error: the caller sees that nothing arrived."""
    try:
        proc = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError:
        return
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (OSError, AttributeError):
            proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)


def _copy_configs(codex_home: Path, home: Path) -> None:
    """config.toml and the profile files (NAME.config.toml); nothing else of the user's is needed."""
    home.mkdir(mode=0o700)
    try:
        entries = list(codex_home.iterdir())
    except OSError:
        return
    for entry in entries:
        if entry.name == "config.toml" or (entry.name.endswith(".config.toml") and not entry.name.startswith(".")):
            try:
                shutil.copyfile(entry, home / entry.name)
            except OSError:
                continue


class _CaptureServer:
    """A loopback HTTP server that records Codex's first `POST …/responses` and answers it with a
    finished one-message turn, so that Codex exits at once."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        outer = self
        self.first: tuple[dict[str, str], dict[str, Any]] | None = None
        self._lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._reply(404, "application/json", b'{"error": {"message": "not here"}}')

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if not self.path.split("?", 1)[0].endswith("/responses"):
                    self._reply(404, "application/json", b'{"error": {"message": "not here"}}')
                    return
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                if isinstance(body, dict):
                    with outer._lock:
                        if outer.first is None:
                            outer.first = ({k.lower(): v for k, v in self.headers.items()}, body)
                    self._reply(200, "text/event-stream", _finished_turn(str(body.get("model") or "")))
                else:
                    self._reply(400, "application/json", b'{"error": {"message": "no JSON body"}}')

            def _reply(self, status: int, kind: str, payload: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    self.close_connection = True

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _finished_turn(model: str) -> bytes:
    item = {
        "type": "message",
        "id": "msg_capture",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": "pong", "annotations": []}],
    }
    usage = {
        "input_tokens": 1,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 1,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 2,
    }
    response = {"id": "resp_capture", "object": "response", "created_at": 0, "model": model, "status": "completed"}
    events = [
        (
            "response.created",
            {"type": "response.created", "response": {**response, "status": "in_progress", "output": []}},
        ),
        ("response.output_item.done", {"type": "response.output_item.done", "output_index": 0, "item": item}),
        (
            "response.completed",
            {"type": "response.completed", "response": {**response, "output": [item], "usage": usage}},
        ),
    ]
    return b"".join(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events)
