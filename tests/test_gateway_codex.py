"""Gateway recipes survive Codex's request shape: against a loopback gateway that refuses every tool
type but `function` and the Responses-lite header (as Azure, LiteLLM and OpenRouter do), a provider
written by `add RECIPE --use` completes a real Codex turn, for a plain model, a catalog model with a
freeform tool (gpt-5.5) and a Responses-lite one (gpt-5.6-sol); written by hand, it does not."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from codexprov import paths as paths_mod
from codexprov.codex.capabilities import capabilities
from codexprov.codex.gateway import CATALOG_FILE
from codexprov.codex.version import parse_version
from codexprov.recipes import load_catalog
from tests.codexrun import codex_version, run_codex, write_minimal_config

pytestmark = pytest.mark.codex

KEY = "sk-test-gateway-0123456789"
GATEWAYS = ("azure", "huggingface", "litellm", "openrouter")
MODELS = ("fake-model", "gpt-5.5", "gpt-5.6-sol")


def _caps(codex_bin: Path):
    return capabilities(parse_version(codex_version(codex_bin)))


def test_the_shipped_gateway_recipes_are_the_ones_tested(isolated_home) -> None:
    rejecting = sorted(r.id for r in load_catalog(paths_mod.resolve()).recipes if r.rejects)
    assert rejecting == list(GATEWAYS)


@pytest.mark.parametrize("model", ["fake-model", "gpt-5.6-sol"])
def test_a_hand_written_provider_trips_the_gateway(model, codex_bin: Path, codex_home: Path, make_fake_server) -> None:
    """The control: what a gateway user gets without the recipe's settings."""
    caps = _caps(codex_bin)
    server = make_fake_server(gateway=True, expected_key=KEY)
    write_minimal_config(codex_home, server.base_url, model=model)
    proc = run_codex(codex_bin, codex_home, env_extra={"ACME_API_KEY": KEY}, timeout=90)
    assert proc.returncode == 1
    assert "pong" not in proc.stdout
    seen = server.requests_to("/responses", "POST")[0]
    if model == "gpt-5.6-sol" and caps.responses_lite:
        assert seen.headers["x-openai-internal-codex-responses-lite"] == "true"
        assert "Unsupported header: X-OpenAI-Internal-Codex-Responses-Lite" in proc.stderr
    else:
        assert {t["type"] for t in seen.body["tools"]} > {"function"}
        assert "Unsupported tool type" in proc.stderr


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("recipe_id", GATEWAYS)
def test_gateway_recipe_passes_a_real_turn(
    recipe_id, model, run_cli, codex_bin: Path, codex_home: Path, make_fake_server
) -> None:
    server = make_fake_server(gateway=True, expected_key=KEY, models=[model])
    added = run_cli(
        "--codex",
        str(codex_bin),
        "add",
        recipe_id,
        "--id",
        f"t-{recipe_id}",
        "--base-url",
        server.base_url,
        "--model",
        model,
        "--key-mode",
        "env",
        "--env-key",
        "T_KEY",
        "--use",
        "--yes",
    )
    assert added.exit_code == 0, added.stderr
    catalog = codex_home / CATALOG_FILE
    config = tomllib.loads((codex_home / "config.toml").read_text(encoding="utf-8"))
    assert (config["web_search"], config["features"], config["model_catalog_json"]) == (
        "disabled",
        {"multi_agent": False},
        str(catalog),
    )
    entries = json.loads(catalog.read_text(encoding="utf-8"))["models"]
    assert entries and all(not m["use_responses_lite"] and m["apply_patch_tool_type"] is None for m in entries)
    assert (
        "for the " + recipe_id + ' gateway, also set (for every provider): web_search = "disabled"; '
        f'features.multi_agent = false; model_catalog_json = "{catalog}"'
    ) in added.stderr

    proc = run_codex(codex_bin, codex_home, env_extra={"T_KEY": KEY}, timeout=90)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "pong" in proc.stdout
    for seen in server.requests_to("/responses", "POST"):
        assert "x-openai-internal-codex-responses-lite" not in seen.headers
        assert {t["type"] for t in seen.body.get("tools", [])} == {"function"}
        assert seen.body["model"] == model
