"""Living beside Codex's own provider editor: config.toml edited by the real Codex app-server
(`modelProvider/config/write`, `config/batchWrite`, driven over JSON-RPC) is read and edited
correctly by codexprov afterwards, codexprov's keyring auth tables survive Codex's edits, and doctor
offers the keyring for a provider Codex's editor made with a plain env_key."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from codexprov import paths as paths_mod
from codexprov import providers
from codexprov.codex.capabilities import capabilities
from codexprov.codex.version import parse_version
from codexprov.credentials import token_auth
from codexprov.model import ProviderSpec
from tests.app_server import AppServer, AppServerError
from tests.codexrun import codex_version

pytestmark = pytest.mark.codex


def _add_keyring_provider(pid: str, base_url: str) -> dict:
    """acme as `codexprov add … --key-mode keyring` writes it: an auth table running `codexprov token acme`."""
    spec = ProviderSpec(id=pid, name="Acme", base_url=base_url, auth=token_auth(pid))
    providers.add_provider(paths_mod.resolve(), spec, use=True, model="fake-model")
    return spec.to_table()["auth"]


def test_codex_provider_editor_and_codexprov_share_the_file(run_cli, codex_bin: Path, codex_home: Path) -> None:
    if not capabilities(parse_version(codex_version(codex_bin))).provider_editor:
        pytest.skip(f"Codex {codex_version(codex_bin)} has no provider editor (modelProvider/*, 0.169 and newer)")
    config = codex_home / "config.toml"
    auth = _add_keyring_provider("acme", "http://127.0.0.1:9/v1")

    with AppServer(codex_bin, codex_home) as server:
        listed = server.call("modelProvider/list", {})
        assert [(p["id"], p["baseUrl"]) for p in listed["data"] if p["canEdit"]] == [("acme", "http://127.0.0.1:9/v1")]
        edited = server.call(
            "modelProvider/config/write",
            {
                "settings": {
                    "type": "customGateway",
                    "providerId": "acme",
                    "name": "Acme EU",
                    "baseUrl": "http://127.0.0.1:8/v1",
                }
            },
        )
        assert edited["provider"]["id"] == "acme"
        created = server.call(
            "modelProvider/config/write",
            {
                "settings": {
                    "type": "customGateway",
                    "name": "New GW",
                    "baseUrl": "http://127.0.0.1:7/v1",
                    "envKey": "NEWGW_KEY",
                }
            },
        )
        assert created["provider"]["id"] == "new-gw"

    tables = tomllib.loads(config.read_text(encoding="utf-8"))["model_providers"]
    assert tables["acme"] == {
        "name": "Acme EU",
        "base_url": "http://127.0.0.1:8/v1",
        "wire_api": "responses",
        "auth": auth,
    }
    assert tables["new-gw"] == {
        "base_url": "http://127.0.0.1:7/v1",
        "env_key": "NEWGW_KEY",
        "name": "New GW",
        "wire_api": "responses",
    }

    # codexprov reads what Codex wrote
    listing = json.loads(run_cli("list", "--json").stdout)
    mine = {p["id"]: (p["name"], p["base_url"], p["key_source"]) for p in listing["providers"] if p["configured"]}
    assert mine == {
        "acme": ("Acme EU", "http://127.0.0.1:8/v1", {"kind": "keyring", "detail": "acme"}),
        "new-gw": ("New GW", "http://127.0.0.1:7/v1", {"kind": "env", "detail": "NEWGW_KEY"}),
    }
    # ... and edits it: switch, add another provider next to Codex's
    assert run_cli("use", "new-gw").exit_code == 0
    added = run_cli("add", "custom", "--id", "third", "--base-url", "http://127.0.0.1:6/v1", "--key-mode", "none")
    assert added.exit_code == 0, added.stderr
    after = tomllib.loads(config.read_text(encoding="utf-8"))
    assert after["model_provider"] == "new-gw"
    assert after["model_providers"]["acme"]["auth"] == auth
    assert list(after["model_providers"]) == ["acme", "new-gw", "third"]

    # doctor notices the editor's plain env_key and offers the keyring
    report = json.loads(run_cli("--codex", str(codex_bin), "doctor", "--offline", "--json", "new-gw").stdout)
    [finding] = [f for f in report["findings"] if f["check"] == "key.editor-env"]
    assert finding["fix"].startswith("codexprov key set new-gw --wire")


def test_codex_batch_write_keeps_codexprov_auth_tables(run_cli, codex_bin: Path, codex_home: Path) -> None:
    config = codex_home / "config.toml"
    auth = _add_keyring_provider("acme", "http://127.0.0.1:9/v1")
    before = config.read_text(encoding="utf-8")
    with AppServer(codex_bin, codex_home) as server:
        try:
            result = server.call(
                "config/batchWrite",
                {
                    "edits": [
                        {"keyPath": "model_providers.acme.request_max_retries", "value": 2, "mergeStrategy": "upsert"},
                        {"keyPath": "model", "value": "other-model", "mergeStrategy": "replace"},
                    ]
                },
            )
        except AppServerError as err:
            if "method" in str(err).lower() and "not found" in str(err).lower():
                pytest.skip(f"Codex {codex_version(codex_bin)} has no config/batchWrite")
            raise
    assert result["status"] == "ok"
    data = tomllib.loads(config.read_text(encoding="utf-8"))
    assert data["model"] == "other-model"
    assert data["model_providers"]["acme"] == {
        "name": "Acme",
        "base_url": "http://127.0.0.1:9/v1",
        "wire_api": "responses",
        "request_max_retries": 2,
        "auth": auth,
    }
    # codexprov sees the outside edit: undo will not silently throw it away
    undone = run_cli("undo")
    assert undone.exit_code == 1
    assert config.read_text(encoding="utf-8") != before
    shown = json.loads(run_cli("show", "acme", "--json").stdout)
    assert (shown["key_source"], shown["table"]["request_max_retries"]) == ({"kind": "keyring", "detail": "acme"}, 2)
