"""Gateway recipes survive Codex's request shape: against a loopback gateway that refuses `namespace`
and `web_search` tools and the Responses-lite header (as Azure, LiteLLM and OpenRouter do), a
provider written by `add RECIPE --use` completes a real Codex turn for every kind of model the
installed Codex knows: a plain model, a catalog model with freeform tools (gpt-5.5), Responses-lite
ones whose catalog entry brings a `clock` namespace (gpt-6.1-sol, gpt-6.2-sol); `doctor --live`
agrees with each turn. Written by hand, the provider trips the gateway, `doctor --live` says which
parts the gateway refuses, and `doctor --live --fix` writes what makes the next turn pass."""

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
from tests import doctoring
from tests.codexrun import codex_env, codex_version, run_codex, write_minimal_config

pytestmark = pytest.mark.codex

KEY = "sk-test-gateway-0123456789"
GATEWAYS = ("azure", "huggingface", "litellm", "openrouter")
MODELS = ("fake-model", "gpt-5.5", "gpt-6.1-sol", "gpt-6.2-sol")
# What the loopback gateway refuses (issue 20): tool types and the Lite header.
REFUSES = frozenset({"namespace", "web_search", "responses_lite"})


def _live_doctor(codex_bin: Path, codex_home: Path, env: dict[str, str]):
    """`doctor --live` (with its Codex run) on the setup, as the CLI runs it."""
    from codexprov.codex.version import detect
    from tests.codexrun import codex_env

    paths = paths_mod.resolve()
    work = codex_home.parent / "work"
    work.mkdir(exist_ok=True)
    return doctoring.doctor(
        paths,
        codex_info=detect(paths, explicit=str(codex_bin)),
        env=codex_env(codex_home, env),
        cwd=work,
        open_store=lambda: None,
        live=True,
        codex_run=True,
        codex_timeout=60,
    )


def _caps(codex_bin: Path):
    return capabilities(parse_version(codex_version(codex_bin)))


def test_the_shipped_gateway_recipes_are_the_ones_tested(isolated_home) -> None:
    rejecting = sorted(r.id for r in load_catalog(paths_mod.resolve()).recipes if r.rejects)
    assert rejecting == list(GATEWAYS)


@pytest.mark.parametrize("model", MODELS)
def test_a_hand_written_provider_trips_the_gateway_and_doctor_fixes_it(
    model, codex_bin: Path, codex_home: Path, make_fake_server, monkeypatch
) -> None:
    """The control: what a gateway user gets without the recipe's settings; then `doctor --live`
    names what the gateway refuses, and `doctor --live --fix` writes the settings that avoid it."""
    caps = _caps(codex_bin)
    server = make_fake_server(gateway=REFUSES, expected_key=KEY, models=[model])
    write_minimal_config(codex_home, server.base_url, model=model)
    proc = run_codex(codex_bin, codex_home, env_extra={"ACME_API_KEY": KEY}, timeout=90)
    assert proc.returncode == 1
    assert "pong" not in proc.stdout
    seen = server.requests_to("/responses", "POST")[0]
    # What this release sends for the model, from its own catalog (gpt-6.2-sol is not in 0.165's).
    from codexprov.codex import catalog, request

    bundled = catalog.bundled(paths_mod.resolve(), codex_bin, codex_version(codex_bin))
    plan = request.from_catalog(model, bundled, {}, lite_supported=caps.responses_lite)
    lite = plan.lite
    if lite:
        assert seen.headers["x-openai-internal-codex-responses-lite"] == "true"
        assert "Unsupported header: X-OpenAI-Internal-Codex-Responses-Lite" in proc.stderr
    else:
        assert {t["type"] for t in seen.body["tools"]} & REFUSES
        assert "Unsupported tool type" in proc.stderr

    report = _live_doctor(codex_bin, codex_home, {"ACME_API_KEY": KEY})
    live = next(f for f in report.findings if f.check == "net.live")
    ran = next(f for f in report.findings if f.check == "codex.run")
    assert (live.status, ran.status, report.exit_code) == ("fail", "fail", 1)
    # Without Lite, only the refused types the model brings (gpt-5.5 brings no namespace: its
    # multi-agent tools hide behind tool_search); a Lite refusal also tries the types Lite hides.
    expected = ("responses_lite", "web_search", "namespace") if lite else tuple(p for p in plan.parts() if p in REFUSES)
    assert live.refused == expected
    assert (
        "the server refuses " in live.message and f"which Codex sends with {model} (captured from Codex" in live.message
    )

    monkeypatch.setenv("ACME_API_KEY", KEY)
    for name, value in codex_env(codex_home).items():
        if name.lower().endswith("proxy"):
            monkeypatch.setenv(name, value)
    from codexprov.__main__ import main

    assert main(["--codex", str(codex_bin), "doctor", "--live", "--fix", "--yes", "--json"]) == 0
    config = tomllib.loads((codex_home / "config.toml").read_text(encoding="utf-8"))
    assert config["web_search"] == "disabled"
    if "namespace" in expected:
        assert config["features"] == {"multi_agent": False}
        assert config["model_catalog_json"] == str(codex_home / CATALOG_FILE)
    server.clear()
    proc = run_codex(codex_bin, codex_home, env_extra={"ACME_API_KEY": KEY}, timeout=90)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "pong" in proc.stdout
    after = _live_doctor(codex_bin, codex_home, {"ACME_API_KEY": KEY})
    assert [f.status for f in after.findings if f.check in ("net.live", "codex.run")] in (
        ["ok", "ok"],
        ["warn", "ok"],  # the probe offered a tool the fake gateway answers without calling
    )


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("recipe_id", GATEWAYS)
def test_gateway_recipe_passes_a_real_turn(
    recipe_id, model, run_cli, codex_bin: Path, codex_home: Path, make_fake_server
) -> None:
    server = make_fake_server(gateway=REFUSES, expected_key=KEY, models=[model])
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
    assert entries and all(
        not m["use_responses_lite"] and m["apply_patch_tool_type"] is None and m["experimental_supported_tools"] == []
        for m in entries
    )
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
    # doctor --live agrees with the turn: its probe and its own Codex run pass.
    server.clear()
    report = _live_doctor(codex_bin, codex_home, {"T_KEY": KEY})
    statuses = {f.check: f.status for f in report.findings if f.check in ("net.live", "codex.run")}
    assert statuses["codex.run"] == "ok"
    assert statuses["net.live"] in ("ok", "warn"), report.findings
    assert report.exit_code == 0, [f for f in report.findings if f.status == "fail"]
    assert not [f for f in report.findings if f.check == "provider.gateway-requests"]
    probes = [r for r in server.requests_to("/responses", "POST") if r.body.get("input")]
    assert probes and all("x-openai-internal-codex-responses-lite" not in r.headers for r in probes)
    assert all({t["type"] for t in r.body.get("tools", [])} <= {"function"} for r in probes)
