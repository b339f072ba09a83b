"""Every shipped recipe, added through the CLI against the fake server, drives the real Codex CLI.

For each recipe: `codexprov add RECIPE --id t-RECIPE --base-url http://127.0.0.1:PORT/v1 --model M
--key-mode env --env-key T_KEY --use --yes --no-bridge` (the direct config; the bridged one is
tests/test_bridge_codex.py), then `codex exec --strict-config` must finish a turn and
the server must have seen the key, the recipe's query parameters (Azure's api-version) and its headers.
"""

from __future__ import annotations

import pytest

from codexprov import paths as paths_mod
from codexprov.recipes import load_catalog
from tests.codexrun import run_codex
from tests.test_recipes import SHIPPED_IDS

pytestmark = pytest.mark.codex

KEY = "sk-test-recipes-0123456789"
GATEWAY_AUTH = "Bearer cf-gateway-token"


@pytest.mark.parametrize("recipe_id", SHIPPED_IDS)
def test_recipe_drives_real_codex(recipe_id, run_cli, codex_bin, codex_home, make_fake_server):
    server = make_fake_server(expected_key=KEY)
    recipe = load_catalog(paths_mod.resolve()).get(recipe_id)
    provider_id = f"t-{recipe_id}"
    added = run_cli(
        "add",
        recipe_id,
        "--id",
        provider_id,
        "--base-url",
        server.base_url,
        "--model",
        "fake-model",
        "--key-mode",
        "env",
        "--env-key",
        "T_KEY",
        "--use",
        "--yes",
        "--no-bridge",
    )
    assert added.exit_code == 0, added.stderr
    assert KEY not in added.stdout + added.stderr
    config = (codex_home / "config.toml").read_text(encoding="utf-8")
    assert f"[model_providers.{provider_id}]" in config
    assert 'wire_api = "responses"' in config
    assert 'env_key = "T_KEY"' in config

    proc = run_codex(
        codex_bin,
        codex_home,
        env_extra={"T_KEY": KEY, "CLOUDFLARE_AI_GATEWAY_AUTH": GATEWAY_AUTH},
        timeout=90,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "pong" in proc.stdout

    turns = server.requests_to("/responses", "POST")
    assert turns, [(r.method, r.path) for r in server.requests]
    seen = turns[-1]
    assert seen.headers["authorization"] == f"Bearer {KEY}"
    assert seen.body["model"] == "fake-model"
    expected_query = {k: (recipe.param(k).default if "{" in v else v) for k, v in recipe.query_params.items()}
    for key, value in expected_query.items():
        assert seen.query[key] == value
    for header in recipe.http_headers:
        assert header.lower() in seen.headers
    for header in recipe.env_http_headers:
        assert seen.headers[header.lower()] == GATEWAY_AUTH
    if recipe_id == "azure":
        assert seen.query == {"api-version": "2025-04-01-preview"}
