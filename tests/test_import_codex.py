"""Imports end to end with the real parts: the real Secret Service holds the imported keys, the real
Codex 0.169.0 completes a turn with an imported direct provider (its key from the keyring through
`codexprov token`), and with an imported chat-format provider through the real LiteLLM bridge (a
bridge folder of this module's own, started by Codex's first auth command)."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import tomllib
import uuid
from pathlib import Path

import pytest

from tests.bridge_fixtures import require_bridge_parts, session_env
from tests.codexrun import run_codex
from tests.import_sources import codex_row, other_app_rows, write_cc_switch
from tests.upstream_standin import TOOL_OUTPUT, ToolTurnServer, final_text

pytestmark = [pytest.mark.codex, pytest.mark.keyring]


def files_containing(root: Path, secret: str, *, besides: tuple[Path, ...] = ()) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and p not in besides and secret.encode() in p.read_bytes()]


def test_imported_direct_provider_completes_a_turn_with_its_key_from_the_keyring(
    run_exe, codex_bin, codex_home, isolated_home, secret_service, make_fake_server
):
    from codexprov import credentials

    key = "sk-cc-direct-" + uuid.uuid4().hex
    name = "Relay " + uuid.uuid4().hex[:6]
    pid = name.lower().replace(" ", "-")
    server = make_fake_server(expected_key=key)
    db = write_cc_switch(
        isolated_home / ".cc-switch" / "cc-switch.db",
        [codex_row("r1", name, server.base_url, key, model="fake-model", current=True), *other_app_rows()],
    )
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    try:
        imported = run_exe("import", "cc-switch", "--yes", "--use")
        assert imported.exit_code == 0, imported.stderr
        assert key not in imported.stdout + imported.stderr
        assert credentials.open_store().get(pid) == key
        config = tomllib.loads((codex_home / "config.toml").read_text(encoding="utf-8"))
        assert config["model_provider"] == pid and config["model"] == "fake-model"
        assert config["model_providers"][pid]["auth"]["args"] == ["token", pid]

        proc = run_codex(codex_bin, codex_home, env_extra={"DBUS_SESSION_BUS_ADDRESS": secret_service}, timeout=90)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "pong" in proc.stdout
        turns = server.requests_to("/responses", "POST")
        assert turns and turns[-1].headers["authorization"] == f"Bearer {key}"
        # The key is in the keyring and in cc-switch's own database, nowhere else under HOME.
        assert files_containing(isolated_home, key, besides=(db,)) == []
        assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    finally:
        credentials.open_store().delete(pid)


@pytest.fixture
def own_bridge(tmp_path: Path):
    dbus = require_bridge_parts()
    home = tmp_path / "own"
    (home / ".codex").mkdir(parents=True)
    env = session_env(home, tmp_path / "own-bridge", dbus)
    exe = shutil.which("codexprov")
    assert exe is not None

    def codexprov(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([exe, *args], env=env, capture_output=True, text=True, timeout=120, check=False)

    yield home, env, codexprov
    codexprov("bridge", "down")


def _codex_turn_through_the_bridge(codex_bin: Path, home: Path, env: dict[str, str]) -> None:
    """A real Codex turn with a tool call on the imported (bridged, active) provider, Codex started
    with the bridge's environment (its folder, and the Secret Service its auth command asks)."""
    keep = ("DBUS_SESSION_BUS_ADDRESS", "CODEXPROV_BRIDGE_DIR", "CODEXPROV_BRIDGE_VENV", "XDG_DATA_HOME")
    proc = run_codex(
        codex_bin,
        home / ".codex",
        "run the check",
        args=["-s", "danger-full-access"],
        env_extra={k: env[k] for k in keep if k in env},
        timeout=150,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert final_text(TOOL_OUTPUT) in proc.stdout


def test_imported_chat_format_provider_goes_through_the_bridge(own_bridge, codex_bin):
    home, env, codexprov = own_bridge
    key = "sk-cc-chat-" + uuid.uuid4().hex
    tag = uuid.uuid4().hex[:6]
    pid = f"chat-{tag}"
    server = ToolTurnServer(expected_key=key).start()
    db = write_cc_switch(
        home / "cc" / "cc-switch.db",
        [
            codex_row(
                "c1", f"Chat {tag}", server.base_url, key, api_format="openai_chat", model="box-model", current=True
            )
        ],
    )
    try:
        imported = codexprov("import", "cc-switch", "--from", str(db), "--yes", "--use")
        assert imported.returncode == 0, imported.stderr
        row = next(line for line in imported.stdout.splitlines() if f" {pid} " in line)
        assert re.split(r"\s{2,}", row.strip()) == [
            f"Chat {tag} (current)",
            pid,
            "bridge (custom_openai)",
            f"keyring sk-…{key[-4:]}",
            "new",
        ]
        assert key not in imported.stdout + imported.stderr
        table = tomllib.loads((home / ".codex" / "config.toml").read_text(encoding="utf-8"))["model_providers"][pid]
        assert table["http_headers"] == {"x-litellm-tags": pid}
        assert table["base_url"].startswith("http://127.0.0.1:")

        _codex_turn_through_the_bridge(codex_bin, home, env)
        turns = server.turn_requests()
        assert len(turns) == 2
        assert turns[0].path == "/v1/chat/completions"
        assert turns[0].headers["authorization"] == f"Bearer {key}"
        assert turns[0].body["model"] == "box-model"
    finally:
        codexprov("key", "rm", pid)
        server.stop()


def test_export_in_a_fresh_home_gives_back_the_same_table(
    run_exe, codex_bin, codex_home, isolated_home, tmp_path, secret_service, make_fake_server
):
    import os

    from codexprov import credentials

    key = "sk-export-e2e-" + uuid.uuid4().hex
    pid = "x" + uuid.uuid4().hex[:8]
    server = make_fake_server(expected_key=key)
    try:
        added = run_exe(
            "add",
            "custom",
            "--id",
            pid,
            "--base-url",
            server.base_url,
            "--key-stdin",
            "--header",
            "X-Team=blue",
            input=key + "\n",
        )
        assert added.exit_code == 0, added.stderr
        before = tomllib.loads((codex_home / "config.toml").read_text(encoding="utf-8"))["model_providers"][pid]
        shared = tmp_path / "shared"
        exported = run_exe("export", pid, "--to", str(shared))
        assert exported.exit_code == 0, exported.stderr
        assert key not in (shared / f"{pid}.toml").read_text(encoding="utf-8")
        credentials.open_store().delete(pid)  # the colleague's keyring does not have it

        fresh = tmp_path / "fresh"
        (fresh / ".codex").mkdir(parents=True)
        env = {
            **os.environ,
            "HOME": str(fresh),
            "CODEX_HOME": str(fresh / ".codex"),
            "XDG_CONFIG_HOME": str(fresh / ".config"),
            "XDG_STATE_HOME": str(fresh / ".local" / "state"),
            "XDG_DATA_HOME": str(fresh / ".local" / "share"),
            "CODEXPROV_RECIPES_PATH": str(shared),
        }
        again = run_exe("add", pid, "--key-stdin", "--use", "--model", "fake-model", input=key + "\n", env=env)
        assert again.exit_code == 0, again.stderr
        after = tomllib.loads((fresh / ".codex" / "config.toml").read_text(encoding="utf-8"))["model_providers"][pid]
        assert after == before
        proc = run_codex(
            codex_bin, fresh / ".codex", env_extra={"DBUS_SESSION_BUS_ADDRESS": secret_service}, timeout=90
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "pong" in proc.stdout
        assert server.requests_to("/responses", "POST")[-1].headers["authorization"] == f"Bearer {key}"
        assert server.requests_to("/responses", "POST")[-1].headers["x-team"] == "blue"
    finally:
        credentials.open_store().delete(pid)


def test_imported_ocx_anthropic_provider_takes_litellms_native_route(own_bridge, codex_bin):
    from tests.import_sources import write_ocx

    home, env, codexprov = own_bridge
    key = "sk-ant-ocx-" + uuid.uuid4().hex
    name = f"claude-{uuid.uuid4().hex[:6]}"
    server = ToolTurnServer(expected_key=key).start()
    source = write_ocx(
        home / ".opencodex" / "config.json",
        {
            name: {
                "adapter": "anthropic",
                "baseUrl": server.root_url,
                "apiKey": key,
                "defaultModel": "claude-sonnet-4-5",
            }
        },
    )
    try:
        imported = codexprov("import", "ocx", "--from", str(source), "--yes", "--use")
        assert imported.returncode == 0, imported.stderr
        assert key not in imported.stdout + imported.stderr
        _codex_turn_through_the_bridge(codex_bin, home, env)
        turns = server.turn_requests()
        assert [t.path for t in turns] == ["/v1/messages", "/v1/messages"]
        assert turns[0].headers["x-api-key"] == key
        assert turns[0].body["model"] == "claude-sonnet-4-5"
    finally:
        codexprov("key", "rm", name)
        server.stop()
