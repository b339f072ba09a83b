"""codex.gateway and `add --use` for a gateway recipe, without the real Codex: settings merged
into an existing config (a [features] table, a web_search value), the catalog built from a
bundled one, and what happens when no catalog can be had."""

from __future__ import annotations

import json
import stat
import tomllib
from pathlib import Path

from codexprov.codex import catalog
from codexprov.codex.capabilities import capabilities
from codexprov.codex.gateway import Setting, gateway_fix, missing


def test_gateway_fix_by_version(tmp_path: Path) -> None:
    parts = ("web_search", "namespace", "custom", "responses_lite")
    newest = gateway_fix(parts, capabilities((0, 169, 0)), tmp_path)
    assert [s.text for s in newest.settings] == [
        'web_search = "disabled"',
        "features.multi_agent = false",
        f'model_catalog_json = "{tmp_path / "codexprov-model-catalog.json"}"',
    ]
    assert newest.notes == ()
    old = gateway_fix(("web_search", "responses_lite"), capabilities((0, 120, 0)), tmp_path)
    assert (old.settings, old.catalog_path) == ((), None)
    assert old.notes == ("this Codex cannot turn its web_search tool off (`web_search` setting: 0.133 and newer)",)
    # Responses-lite alone needs no catalog before Codex sent it (0.145)
    assert gateway_fix(("responses_lite",), capabilities((0, 140, 0)), tmp_path).settings == ()


def test_missing_settings(tmp_path: Path) -> None:
    fix = gateway_fix(("web_search", "namespace"), capabilities((0, 169, 0)), Path("/x"))
    catalog_setting = Setting(
        ("model_catalog_json",),
        "/x/codexprov-model-catalog.json",
        "no Responses-lite requests and no freeform or namespace tools from the model catalog",
    )
    assert missing(fix, {"web_search": "disabled", "features": {"multi_agent": True}}) == [
        Setting(("features", "multi_agent"), False, "the gateway refuses namespace tools (multi-agent)"),
        catalog_setting,
    ]
    # A catalog file written before gpt-6.x brought `clock` (a namespace) still counts as missing.
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"models": [{"slug": "gpt-6.1-sol", "experimental_supported_tools": ["clock"]}]}))
    config = {"web_search": "disabled", "features": {"multi_agent": False}, "model_catalog_json": str(old)}
    assert missing(fix, config, ("web_search", "namespace")) == [catalog_setting]
    old.write_text(json.dumps({"models": [{"slug": "gpt-6.1-sol", "experimental_supported_tools": []}]}))
    assert missing(fix, config, ("web_search", "namespace")) == []


GPT6 = {
    "slug": "gpt-6.2-sol",
    "use_responses_lite": True,
    "tool_mode": "code_mode_only",
    "multi_agent_version": "v2",
    "apply_patch_tool_type": "freeform",
    "experimental_supported_tools": ["request_user_input_async", "clock"],
    "display_name": "Sol",
}


def test_gateway_catalog_turns_off_what_gateways_refuse() -> None:
    found = catalog.from_data({"models": [GPT6], "extra": 1})
    assert found.for_server(("web_search", "namespace", "custom", "responses_lite")) == {
        "extra": 1,
        "models": [
            {
                "slug": "gpt-6.2-sol",
                "use_responses_lite": False,
                "tool_mode": None,
                "multi_agent_version": None,
                "apply_patch_tool_type": None,
                "experimental_supported_tools": [],
                "display_name": "Sol",
            }
        ],
    }
    # Only what is refused is switched off.
    assert found.for_server(("responses_lite",))["models"][0] == {
        **GPT6,
        "use_responses_lite": False,
        "tool_mode": None,
        "multi_agent_version": None,
    }
    assert found.for_server(("namespace",))["models"][0] == {
        **GPT6,
        "experimental_supported_tools": [],
        "multi_agent_version": None,
    }
    entry = found.entries[0]
    assert [p for p in catalog.REQUEST_PARTS if entry.brings(p)] == ["namespace", "custom", "responses_lite"]
    safe = catalog.ModelEntry.from_raw(entry.safe_defaults())
    assert [p for p in catalog.REQUEST_PARTS if safe.brings(p)] == []


def _codex_without_catalog(tmp_path: Path) -> Path:
    script = tmp_path / "codex"
    script.write_text("#!/bin/sh\necho 'codex-cli 0.169.0'\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_add_use_merges_settings_into_an_existing_config(run_cli, config_file: Path, tmp_path: Path) -> None:
    config_file.write_text('web_search = "live"\n\n[features]\nshell_snapshot = true\n', encoding="utf-8")
    added = run_cli(
        "--codex",
        str(_codex_without_catalog(tmp_path)),
        "add",
        "litellm",
        "--base-url",
        "http://127.0.0.1:4000/v1",
        "--key-mode",
        "env",
        "--use",
        "--yes",
    )
    assert added.exit_code == 0, added.stderr
    data = tomllib.loads(config_file.read_text(encoding="utf-8"))
    assert data["web_search"] == "disabled"
    assert data["features"] == {"shell_snapshot": True, "multi_agent": False}
    assert data["model_provider"] == "litellm"
    # The fake codex has no `debug models`: no catalog, and the config does not point at one.
    assert "model_catalog_json" not in data
    assert not (config_file.parent / "codexprov-model-catalog.json").exists()
    assert "warning: no model catalog written (" in added.stderr


def test_add_without_use_only_says_what_it_would_write(run_cli, config_file: Path, tmp_path: Path) -> None:
    added = run_cli(
        "--codex",
        str(_codex_without_catalog(tmp_path)),
        "add",
        "openrouter",
        "--key-mode",
        "env",
        "--yes",
    )
    assert added.exit_code == 0, added.stderr
    data = tomllib.loads(config_file.read_text(encoding="utf-8"))
    assert "web_search" not in data and "features" not in data
    catalog = config_file.parent / "codexprov-model-catalog.json"
    assert (
        "openrouter is a gateway that refuses parts of Codex's requests: with `--use` add also writes "
        f'web_search = "disabled"; features.multi_agent = false; model_catalog_json = "{catalog}"'
    ) in added.stderr


def test_doctor_fix_writes_a_gateways_settings_and_catalog(
    run_cli, config_file: Path, tmp_path: Path, no_outside_configs, monkeypatch
) -> None:
    """The static finding (a gateway's URL without its settings) is fixed offline: the catalog file
    from this Codex's bundled one, then the settings, in one transaction."""
    from tests.test_catalog import _fake_codex

    codex = _fake_codex(tmp_path / "bin", [GPT6])
    (tmp_path / "bin" / "codex").write_text(
        (tmp_path / "bin" / "codex").read_text().replace("exit 2", "echo 'codex-cli 0.171.0'")
    )
    config_file.write_text(
        'model = "gpt-6.2-sol"\nmodel_provider = "or"\n\n[model_providers.or]\nname = "OR"\n'
        'base_url = "https://openrouter.ai/api/v1"\nenv_key = "OR_KEY"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("OR_KEY", "sk-or-test-0123456789abcdef")
    fixed = run_cli("--codex", str(codex), "doctor", "--offline", "--fix", "--yes")
    assert "fixed: set what takes web_search, namespace, custom, responses_lite out of Codex's requests: wrote " in (
        fixed.stderr
    )
    assert fixed.exit_code == 0, fixed.stdout
    catalog_file = config_file.parent / "codexprov-model-catalog.json"
    data = tomllib.loads(config_file.read_text(encoding="utf-8"))
    assert (data["web_search"], data["features"], data["model_catalog_json"]) == (
        "disabled",
        {"multi_agent": False},
        str(catalog_file),
    )
    assert json.loads(catalog_file.read_text(encoding="utf-8")) == catalog.from_data({"models": [GPT6]}).for_server(
        catalog.REQUEST_PARTS
    )
    again = run_cli("--codex", str(codex), "doctor", "--offline", "--json")
    assert [f for f in json.loads(again.stdout)["findings"] if f["check"] == "provider.gateway-requests"] == []
