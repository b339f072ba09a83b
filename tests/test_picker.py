"""codex.picker: the `model_catalog_json` document that makes Codex's model picker list a provider's
own models (issue 23). Unit tests on a small catalog; with the real Codex, the document built from a
loopback server's OpenAI-shaped `/models` is one Codex loads, lists exactly, and runs a turn with."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from codexprov import paths as paths_mod
from codexprov.codex import catalog, picker
from codexprov.codex.capabilities import capabilities
from codexprov.codex.version import parse_version
from tests.codexrun import codex_version, debug_models, run_codex, write_minimal_config

LITE = {
    "slug": "gpt-lite",
    "display_name": "Lite",
    "use_responses_lite": True,
    "visibility": "list",
    "experimental_supported_tools": ["clock"],
}
HIDDEN = {"slug": "gpt-hidden", "display_name": "Hidden", "use_responses_lite": False, "visibility": "hide"}
PLAIN = {
    "slug": "gpt-plain",
    "display_name": "Plain",
    "description": "OpenAI's model.",
    "use_responses_lite": False,
    "visibility": "list",
    "priority": 13,
    "context_window": 272000,
    "experimental_supported_tools": ["send_user_message_async"],
    "apply_patch_tool_type": "freeform",
    "tool_mode": "code",
    "multi_agent_version": "v2",
    "supports_search_tool": True,
    "service_tiers": [{"id": "priority"}],
    "additional_speed_tiers": ["fast"],
    "upgrade": {"model": "gpt-next"},
    "availability_nux": {"message": "new"},
    "default_reasoning_level": "medium",
}
BUNDLED = catalog.from_data({"models": [LITE, HIDDEN, PLAIN]}, "test")


@pytest.fixture
def paths(isolated_home):
    return paths_mod.resolve()


def test_template_is_the_releases_plain_listed_model() -> None:
    assert picker.template(BUNDLED).slug == "gpt-plain"
    assert picker.template(catalog.from_data({"models": [LITE, HIDDEN]}, "t")).slug == "gpt-hidden"
    with pytest.raises(catalog.CatalogError) as err:
        picker.template(catalog.from_data({"models": [LITE]}, "t"))
    assert str(err.value) == "t has no model without Responses-Lite to build entries from"


def test_order_puts_the_configured_model_first() -> None:
    assert picker.picker_order(["b", "a", "b", "", "c"], "a") == ["a", "b", "c"]
    assert picker.picker_order(["b", "c"], "z") == ["b", "c"]
    assert picker.picker_order(["b", "c"], None) == ["b", "c"]


def test_entries_are_the_template_without_what_is_openais() -> None:
    doc = picker.picker_catalog(BUNDLED, ["llama-3.3-70b", "qwen3-32b"], "qwen3-32b")
    expected_base = {
        **PLAIN,
        "description": "",
        "visibility": "list",
        "experimental_supported_tools": [],
        "apply_patch_tool_type": None,
        "tool_mode": None,
        "multi_agent_version": None,
        "use_responses_lite": False,
        "supports_search_tool": False,
        "service_tiers": [],
        "additional_speed_tiers": [],
        "upgrade": None,
        "availability_nux": None,
    }
    assert doc == {
        "models": [
            {**expected_base, "slug": "qwen3-32b", "display_name": "qwen3-32b", "priority": 0},
            {**expected_base, "slug": "llama-3.3-70b", "display_name": "llama-3.3-70b", "priority": 1},
        ]
    }
    assert json.loads(picker.picker_catalog_text(BUNDLED, ["llama-3.3-70b", "qwen3-32b"], "qwen3-32b")) == doc


def test_an_empty_list_is_refused() -> None:
    with pytest.raises(catalog.CatalogError) as err:
        picker.picker_catalog(BUNDLED, [], None)
    assert str(err.value) == "the provider listed no models, and Codex refuses an empty catalog"


@pytest.mark.codex
def test_codex_lists_exactly_the_providers_models_and_runs_a_turn(
    paths, codex_bin: Path, codex_home: Path, make_fake_server
) -> None:
    """The ids come from the server's OpenAI-shaped `/models` (as real providers answer); Codex's
    `debug models` (what the picker and app-server's `model/list` show) lists exactly them, the
    configured model first, and a turn with a model picked from the list passes with no
    Responses-Lite header and no freeform (`custom`) tool."""
    from codexprov.doctor.network import model_ids

    served = ["acme-small", "acme-large", "acme-coder"]
    server = make_fake_server(models=served)
    listing = httpx.get(server.base_url + "/models", timeout=10).json()
    assert "data" in listing
    ids = model_ids(listing)
    assert ids == served
    bundled = catalog.bundled(paths, codex_bin, codex_version(codex_bin))
    file = codex_home / "picker.json"
    config = write_minimal_config(codex_home, server.base_url, model="acme-large")
    file.write_text(picker.picker_catalog_text(bundled, ids, "acme-large"), encoding="utf-8")
    config.write_text(f"model_catalog_json = {json.dumps(str(file))}\n" + config.read_text(), encoding="utf-8")
    shown = debug_models(codex_bin, codex_home, {"ACME_API_KEY": "k"})
    assert [(m["slug"], m["display_name"], m["visibility"]) for m in shown] == [
        ("acme-large", "acme-large", "list"),
        ("acme-small", "acme-small", "list"),
        ("acme-coder", "acme-coder", "list"),
    ]
    proc = run_codex(codex_bin, codex_home, args=("-m", "acme-coder"), env_extra={"ACME_API_KEY": "k"}, timeout=90)
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert "pong" in proc.stdout
    turn = server.requests_to("/responses", "POST")[-1]
    assert turn.body["model"] == "acme-coder"
    assert "x-openai-internal-codex-responses-lite" not in turn.headers
    assert "custom" not in {tool.get("type") for tool in turn.body.get("tools") or []}


def _debug_models(codex_bin: Path, codex_home: Path, env: dict[str, str]) -> list[str]:
    return [m["slug"] for m in debug_models(codex_bin, codex_home, env)]


def _catalog_setting(codex_home: Path) -> str | None:
    import tomllib

    return tomllib.loads((codex_home / "config.toml").read_text(encoding="utf-8")).get("model_catalog_json")


@pytest.mark.codex
def test_add_use_remove_undo_keep_codexs_picker_on_the_active_providers_models(
    run_cli, codex_bin: Path, codex_home: Path, make_fake_server, monkeypatch
) -> None:
    """Through the CLI: `add --use` (a direct custom provider, then a recipe provider) lists exactly
    the active provider's models; `use` back and forth switches the list; `remove --force` and
    `undo` each leave a list Codex loads and a turn that passes (issue 23)."""
    monkeypatch.setenv("CODEXPROV_CODEX", str(codex_bin))
    monkeypatch.setenv("T_KEY", "sk-test-picker-groq-0123")
    env = {"T_KEY": "sk-test-picker-groq-0123"}
    (codex_home / "config.toml").write_text('approval_policy = "never"\n', encoding="utf-8")
    direct = make_fake_server(models=["acme-small", "acme-large"], reply_text="from-acme")
    recipe = make_fake_server(models=["llama-3.3-70b", "qwen3-32b", "gpt-oss-120b"], reply_text="from-groq")
    bundled = _debug_models(codex_bin, codex_home, env)
    assert "acme-small" not in bundled

    added = run_cli(
        "add",
        "custom",
        "--id",
        "acme",
        "--base-url",
        direct.base_url,
        "--key-mode",
        "none",
        "--model",
        "acme-large",
        "--use",
    )
    assert added.exit_code == 0, added.stderr
    acme_file = Path(str(_catalog_setting(codex_home)))
    assert acme_file.parent.parent == paths_mod.resolve().state_dir / "picker"
    assert acme_file.name == "acme@acme-large.json"  # acme-large first
    assert "Codex's model picker now lists the 2 models of acme" in added.stderr
    assert _debug_models(codex_bin, codex_home, env) == ["acme-large", "acme-small"]
    proc = run_codex(codex_bin, codex_home, args=("-m", "acme-small"), env_extra=env, timeout=90)
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert "from-acme" in proc.stdout
    assert direct.requests_to("/responses", "POST")[-1].body["model"] == "acme-small"

    added = run_cli(
        "add", "groq", "--id", "groq", "--base-url", recipe.base_url, "--key-mode", "env", "--env-key", "T_KEY",
        "--model", "qwen3-32b", "--use", "--yes", "--no-bridge",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    groq_file = Path(str(_catalog_setting(codex_home)))
    assert groq_file.name == "groq@qwen3-32b.json"
    assert _debug_models(codex_bin, codex_home, env) == ["qwen3-32b", "llama-3.3-70b", "gpt-oss-120b"]
    proc = run_codex(codex_bin, codex_home, args=("-m", "gpt-oss-120b"), env_extra=env, timeout=90)
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert "from-groq" in proc.stdout
    assert recipe.requests_to("/responses", "POST")[-1].body["model"] == "gpt-oss-120b"

    # `models ID` shows what the picker shows
    shown = run_cli("models", "groq")
    assert shown.exit_code == 0, shown.stderr
    assert (
        shown.stderr.splitlines()[-1] == f"Codex's model picker lists groq's models (model_catalog_json = {groq_file})"
    )
    assert json.loads(run_cli("models", "groq", "--json").stdout)["picker"] == {
        "models": ["qwen3-32b", "llama-3.3-70b", "gpt-oss-120b"],
        "active": True,
        "shown_now": True,
        "catalog": str(groq_file),
    }
    assert run_cli("models", "acme").stderr.splitlines()[-1] == (
        "`codexprov use acme` puts these models in Codex's model picker"
    )

    # use switches the list (from the list add fetched; no network on `use`)
    assert run_cli("use", "acme", "--model", "acme-large").exit_code == 0
    assert _catalog_setting(codex_home) == str(acme_file)
    assert _debug_models(codex_bin, codex_home, env) == ["acme-large", "acme-small"]
    assert run_cli("use", "groq", "--model", "qwen3-32b").exit_code == 0
    assert _debug_models(codex_bin, codex_home, env) == ["qwen3-32b", "llama-3.3-70b", "gpt-oss-120b"]

    # a profile switch: the list follows the provider the profile selects (profile files: Codex >= 0.134;
    # with 0.133's [profiles] tables a selected profile outlives `use`, which this test relies on)
    if capabilities(parse_version(codex_version(codex_bin))).profile_form == "files":
        (codex_home / "work.config.toml").write_text(
            'model_provider = "acme"\nmodel = "acme-small"\n', encoding="utf-8"
        )
        switched = run_cli("use", "--profile", "work")
        assert switched.exit_code == 0, switched.stderr
        assert _catalog_setting(codex_home) == str(acme_file.with_name("acme@acme-small.json"))
        assert _debug_models(codex_bin, codex_home, env) == ["acme-small", "acme-large"]
        proc = run_codex(codex_bin, codex_home, env_extra=env, timeout=90)
        assert proc.returncode == 0, proc.stderr[-1500:]
        assert "from-acme" in proc.stdout
    else:
        assert run_cli("use", "acme", "--model", "acme-small").exit_code == 0
    assert run_cli("use", "groq", "--model", "qwen3-32b").exit_code == 0

    # remove the active provider: no list of a provider that is gone; Codex starts on openai's list
    removed = run_cli("remove", "groq", "--force")
    assert removed.exit_code == 0, removed.stderr
    assert _catalog_setting(codex_home) is None
    assert _debug_models(codex_bin, codex_home, env) == bundled

    # undo brings groq back, and its list with it (the file was kept)
    assert run_cli("undo").exit_code == 0
    assert _catalog_setting(codex_home) == str(groq_file)
    assert _debug_models(codex_bin, codex_home, env) == ["qwen3-32b", "llama-3.3-70b", "gpt-oss-120b"]
    proc = run_codex(codex_bin, codex_home, args=("-m", "llama-3.3-70b"), env_extra=env, timeout=90)
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert "from-groq" in proc.stdout

    # undo the `use groq`: the profile's acme (model acme-small) and acme's list again, in its order
    assert run_cli("undo").exit_code == 0
    assert _catalog_setting(codex_home) == str(acme_file.with_name("acme@acme-small.json"))
    assert _debug_models(codex_bin, codex_home, env) == ["acme-small", "acme-large"]
    proc = run_codex(codex_bin, codex_home, env_extra=env, timeout=90)
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert "from-acme" in proc.stdout


@pytest.mark.codex
def test_a_provider_without_a_list_keeps_codexs_own(
    run_cli, codex_bin: Path, codex_home: Path, make_fake_server, monkeypatch
) -> None:
    """No `/models` (404): nothing is written for the picker, another provider's list is taken
    away, and a user's own `model_catalog_json` is left alone."""
    monkeypatch.setenv("CODEXPROV_CODEX", str(codex_bin))
    listed = make_fake_server(models=["acme-large"])
    unlisted = make_fake_server(answer=lambda req, n, server: (404, {}, b"") if req.path.endswith("/models") else None)
    (codex_home / "config.toml").write_text('approval_policy = "never"\n', encoding="utf-8")
    bundled = _debug_models(codex_bin, codex_home, {})
    added = run_cli("add", "custom", "--id", "acme", "--base-url", listed.base_url, "--key-mode", "none", "--use")
    assert added.exit_code == 0, added.stderr
    assert _debug_models(codex_bin, codex_home, {}) == ["acme-large"]
    added = run_cli("add", "custom", "--id", "plain", "--base-url", unlisted.base_url, "--key-mode", "none", "--use")
    assert added.exit_code == 0, added.stderr
    assert _catalog_setting(codex_home) is None
    assert _debug_models(codex_bin, codex_home, {}) == bundled
    proc = run_codex(codex_bin, codex_home, args=("-m", "fake-model"), timeout=90)
    assert proc.returncode == 0, proc.stderr[-1500:]

    own = codex_home / "mine.json"
    own.write_text(
        picker.picker_catalog_text(catalog.bundled(paths_mod.resolve(), codex_bin), ["mine-1"]), encoding="utf-8"
    )
    config = codex_home / "config.toml"
    config.write_text(
        f"model_catalog_json = {json.dumps(str(own))}\n" + config.read_text(encoding="utf-8"), encoding="utf-8"
    )
    assert run_cli("use", "plain").exit_code == 0
    assert _catalog_setting(codex_home) == str(own)
    assert _debug_models(codex_bin, codex_home, {}) == ["mine-1"]


def test_catalog_files_are_per_home_and_provider(paths, tmp_path: Path) -> None:
    from codexprov import picker as core

    file = core.catalog_file(paths, "groq")
    assert file.name == "groq.json"
    assert file.parent.parent == paths.state_dir / "picker"
    other_home = paths_mod.Paths(tmp_path / "other", paths.state_dir, paths.config_dir)
    assert core.catalog_file(other_home, "groq") != file
    odd = core.catalog_file(paths, "../x y")
    assert odd.parent == file.parent and odd.name.startswith("id-") and odd.name.endswith(".json")
    assert core.is_ours(paths, str(file)) and core.is_ours(paths, str(odd))
    assert not core.is_ours(paths, str(paths.codex_home / "codexprov-model-catalog.json"))
    assert not core.is_ours(paths, None)


def test_root_values_take_only_codexprovs_own_lists_away(paths) -> None:
    from codexprov import picker as core

    groq = str(core.catalog_file(paths, "groq"))
    listing = core.PickerList("acme", core.catalog_file(paths, "acme"), ("a",), "{}")
    assert core.root_values(paths, {"model_catalog_json": groq}, listing) == {"model_catalog_json": str(listing.file)}
    assert core.root_values(paths, {"model_catalog_json": groq}, None) == {"model_catalog_json": None}
    assert core.root_values(paths, {"model_catalog_json": "/home/me/mine.json"}, None) == {}
    assert core.root_values(paths, {}, None) == {}
    assert core.for_remove(paths, "groq", {"model_catalog_json": groq}) == {"model_catalog_json": None}
    assert core.for_remove(paths, "acme", {"model_catalog_json": groq}) == {}
    assert core.for_remove(paths, "groq", {"model_catalog_json": "/home/me/mine.json"}) == {}


@pytest.mark.codex
def test_a_gateway_recipe_lists_its_models_and_keeps_its_request_shape(
    run_cli, codex_bin: Path, codex_home: Path, make_fake_server, monkeypatch
) -> None:
    """`add openrouter --use` with the key at hand: the picker lists the gateway's models, and
    their entries keep what the gateway refuses out (no Responses-Lite header, no namespace or
    web_search tools), with the gateway's other settings in place; a turn passes."""
    monkeypatch.setenv("CODEXPROV_CODEX", str(codex_bin))
    key = "sk-test-picker-gw-0123456789"
    monkeypatch.setenv("T_KEY", key)
    server = make_fake_server(
        gateway={"namespace", "web_search", "responses_lite"}, expected_key=key, models=["vendor/a-1", "vendor/b-2"]
    )
    (codex_home / "config.toml").write_text('approval_policy = "never"\n', encoding="utf-8")
    added = run_cli(
        "add", "openrouter", "--id", "gw", "--base-url", server.base_url, "--model", "vendor/b-2",
        "--key-mode", "env", "--env-key", "T_KEY", "--use", "--yes",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    import tomllib

    config = tomllib.loads((codex_home / "config.toml").read_text(encoding="utf-8"))
    gw_file = Path(config["model_catalog_json"])
    from codexprov import picker as core

    assert gw_file == core.catalog_file(paths_mod.resolve(), "gw", None, "vendor/b-2")
    assert gw_file.name.startswith("gw@id-")  # a model id with `/` is no file name
    assert (config["web_search"], config["features"]) == ("disabled", {"multi_agent": False})
    entries = json.loads(gw_file.read_text(encoding="utf-8"))["models"]
    assert [(m["slug"], m["use_responses_lite"], m["experimental_supported_tools"]) for m in entries] == [
        ("vendor/b-2", False, []),
        ("vendor/a-1", False, []),
    ]
    assert _debug_models(codex_bin, codex_home, {"T_KEY": key}) == ["vendor/b-2", "vendor/a-1"]
    proc = run_codex(codex_bin, codex_home, args=("-m", "vendor/a-1"), env_extra={"T_KEY": key}, timeout=90)
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert "pong" in proc.stdout
    for seen in server.requests_to("/responses", "POST"):
        assert "x-openai-internal-codex-responses-lite" not in seen.headers
        assert {t["type"] for t in seen.body.get("tools", [])} == {"function"}
        assert seen.body["model"] == "vendor/a-1"


@pytest.mark.codex
@pytest.mark.parametrize("release", ["primary", "0.133"])
def test_profiles_carry_their_own_providers_list(
    release, request, run_cli, codex_home: Path, make_fake_server, monkeypatch
) -> None:
    """`profile add NAME --provider ID` gives the profile its own `model_catalog_json` (a profile
    file on 0.134+, a `[profiles.NAME]` table on 0.133: both let a profile set it, and the profile's
    wins over config.toml's), so `codex -p NAME` uses ID's list while the default provider shows
    its own; `use --profile` makes it the default list too. Seen through what Codex sends: a model
    from a loaded list carries the entry's reasoning effort, one Codex has no entry for carries none."""
    import tomllib

    codex_bin = request.getfixturevalue("codex_bin" if release == "primary" else "codex_bin_0133")
    monkeypatch.setenv("CODEXPROV_CODEX", str(codex_bin))
    (codex_home / "config.toml").write_text('approval_policy = "never"\n', encoding="utf-8")
    acme = make_fake_server(models=["acme-small", "acme-large"], reply_text="from-acme")
    groq = make_fake_server(models=["qwen3-32b", "llama-3.3-70b"], reply_text="from-groq")
    for pid, server, model in (("acme", acme, "acme-large"), ("groq", groq, "qwen3-32b")):
        added = run_cli(
            "add", "custom", "--id", pid, "--base-url", server.base_url, "--key-mode", "none", "--model", model, "--use"
        )  # fmt: skip
        assert added.exit_code == 0, added.stderr
    made = run_cli("profile", "add", "work", "--provider", "acme", "--model", "acme-small")
    assert made.exit_code == 0, made.stderr
    from codexprov import picker as core

    own = core.catalog_file(paths_mod.resolve(), "acme", "work", "acme-small")
    assert own.name == "acme+work@acme-small.json"
    assert [m["slug"] for m in json.loads(own.read_text(encoding="utf-8"))["models"]] == ["acme-small", "acme-large"]
    config = tomllib.loads((codex_home / "config.toml").read_text(encoding="utf-8"))
    table_form = capabilities(parse_version(codex_version(codex_bin))).profile_form == "table"
    profile = config["profiles"]["work"] if table_form else tomllib.loads((codex_home / "work.config.toml").read_text())
    assert profile["model_catalog_json"] == str(own)
    assert Path(config["model_catalog_json"]).name == "groq@qwen3-32b.json"  # the default provider keeps its list
    assert _debug_models(codex_bin, codex_home, {}) == ["qwen3-32b", "llama-3.3-70b"]

    proc = run_codex(codex_bin, codex_home, args=("-p", "work"), timeout=90)
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert "from-acme" in proc.stdout
    turn = acme.requests_to("/responses", "POST")[-1].body
    assert (turn["model"], (turn.get("reasoning") or {}).get("effort")) == ("acme-small", "medium")
    # the control: without the profile, acme-small is in no list Codex loaded
    proc = run_codex(
        codex_bin, codex_home, args=("-c", "model_provider=acme", "-m", "acme-small"), timeout=90
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert (acme.requests_to("/responses", "POST")[-1].body.get("reasoning") or {}).get("effort") is None

    switched = run_cli("use", "--profile", "work")
    assert switched.exit_code == 0, switched.stderr
    if not table_form:  # a profile file's selection is copied into config.toml, and the list with it
        assert _debug_models(codex_bin, codex_home, {}) == ["acme-small", "acme-large"]
    proc = run_codex(codex_bin, codex_home, timeout=90)
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert "from-acme" in proc.stdout
    turn = acme.requests_to("/responses", "POST")[-1].body
    assert (turn["model"], (turn.get("reasoning") or {}).get("effort")) == ("acme-small", "medium")


@pytest.mark.codex
def test_models_refresh_rewrites_the_active_providers_list(
    run_cli, codex_bin: Path, codex_home: Path, make_fake_server, monkeypatch
) -> None:
    """`models ID --refresh`: the provider's list as it is now, in its catalog file, in each of its
    profiles' files, and pointed at when it is the active provider (it had none: /models was down
    at `add`); Codex lists it and a turn with the new model passes. Without --refresh nothing moves."""
    import tomllib

    monkeypatch.setenv("CODEXPROV_CODEX", str(codex_bin))
    (codex_home / "config.toml").write_text('approval_policy = "never"\n', encoding="utf-8")
    down = {"on": True}
    server = make_fake_server(
        models=["acme-small", "acme-large"],
        reply_text="from-acme",
        answer=lambda req, n, srv: (503, {}, b"") if down["on"] and req.path.endswith("/models") else None,
    )
    other = make_fake_server(models=["other-1"])
    added = run_cli(
        "add", "custom", "--id", "acme", "--base-url", server.base_url, "--key-mode", "none", "--model", "acme-large",
        "--use",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    assert "model_catalog_json" not in tomllib.loads((codex_home / "config.toml").read_text(encoding="utf-8"))
    bundled = _debug_models(codex_bin, codex_home, {})
    down["on"] = False
    plain = run_cli("models", "acme")
    assert plain.exit_code == 0, plain.stderr
    assert "model_catalog_json" not in tomllib.loads((codex_home / "config.toml").read_text(encoding="utf-8"))
    assert _debug_models(codex_bin, codex_home, {}) == bundled
    assert run_cli("profile", "add", "work", "--provider", "acme", "--model", "acme-small").exit_code == 0

    server.models = ["acme-small", "acme-large", "acme-coder"]
    refreshed = run_cli("models", "acme", "--refresh")
    assert refreshed.exit_code == 0, refreshed.stderr
    from codexprov import picker as core

    paths = paths_mod.resolve()
    acme_file = core.catalog_file(paths, "acme", None, "acme-large")
    work_file = core.catalog_file(paths, "acme", "work", "acme-small")
    assert refreshed.stderr.splitlines()[-3:] == [
        f"rewrote acme's list for Codex's model picker ({acme_file})",
        f"rewrote profile list {work_file}",
        f"Codex's model picker lists acme's models (model_catalog_json = {acme_file})",
    ]
    assert _debug_models(codex_bin, codex_home, {}) == ["acme-large", "acme-small", "acme-coder"]
    assert [m["slug"] for m in json.loads(work_file.read_text(encoding="utf-8"))["models"]] == [
        "acme-small",
        "acme-large",
        "acme-coder",
    ]
    proc = run_codex(codex_bin, codex_home, args=("-m", "acme-coder"), timeout=90)
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert "from-acme" in proc.stdout
    assert server.requests_to("/responses", "POST")[-1].body["model"] == "acme-coder"

    # another provider's refresh writes its file but leaves the active list alone
    assert run_cli("add", "custom", "--id", "other", "--base-url", other.base_url, "--key-mode", "none").exit_code == 0
    data = json.loads(run_cli("models", "other", "--refresh", "--json").stdout)
    assert data["refreshed"] == {"catalog": str(core.catalog_file(paths, "other")), "profiles": [], "pointed": False}
    assert _debug_models(codex_bin, codex_home, {}) == ["acme-large", "acme-small", "acme-coder"]


def test_files_are_per_configured_model_and_profile(paths) -> None:
    from codexprov import picker as core

    plain = core.catalog_file(paths, "acme")
    assert core.catalog_file(paths, "acme", None, "m1").name == "acme@m1.json"
    assert core.catalog_file(paths, "acme", "work", "m1").name == "acme+work@m1.json"
    for file in (plain, core.catalog_file(paths, "acme", "work"), core.catalog_file(paths, "acme", None, "a/b")):
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text("{}")
    core.catalog_file(paths, "acme2").write_text("{}")
    assert [f.name for f in core.provider_files(paths, "acme")] == sorted(
        ["acme.json", "acme+work.json", core.catalog_file(paths, "acme", None, "a/b").name]
    )
    # remove takes away the provider's own files, never a profile's or another provider's
    for value, expected in (
        (core.catalog_file(paths, "acme", None, "m1"), {"model_catalog_json": None}),
        (plain, {"model_catalog_json": None}),
        (core.catalog_file(paths, "acme", "work"), {}),
        (core.catalog_file(paths, "acme2"), {}),
    ):
        assert core.for_remove(paths, "acme", {"model_catalog_json": str(value)}) == expected


@pytest.mark.codex
def test_undo_brings_back_the_order_and_add_openai_use_leaves_no_other_list(
    run_cli, codex_bin: Path, codex_home: Path, make_fake_server, monkeypatch
) -> None:
    """`use ID --model A`, `use ID --model B`, `undo`: the list has A first again (each configured
    model has its file, and the restored config points at A's). `add openai --use` then takes the
    custom provider's list away (openai's is Codex's own) and leaves a catalog of the user's alone."""
    monkeypatch.setenv("CODEXPROV_CODEX", str(codex_bin))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai-0123456789")
    (codex_home / "config.toml").write_text('approval_policy = "never"\n', encoding="utf-8")
    server = make_fake_server(models=["acme-small", "acme-large", "acme-coder"], reply_text="from-acme")
    added = run_cli("add", "custom", "--id", "acme", "--base-url", server.base_url, "--key-mode", "none", "--use")
    assert added.exit_code == 0, added.stderr
    bundled_env = {"OPENAI_API_KEY": "sk-test-openai-0123456789"}
    assert run_cli("use", "acme", "--model", "acme-large").exit_code == 0
    assert _debug_models(codex_bin, codex_home, {}) == ["acme-large", "acme-small", "acme-coder"]
    assert run_cli("use", "acme", "--model", "acme-coder").exit_code == 0
    assert _debug_models(codex_bin, codex_home, {}) == ["acme-coder", "acme-small", "acme-large"]
    assert run_cli("undo").exit_code == 0
    assert _debug_models(codex_bin, codex_home, {}) == ["acme-large", "acme-small", "acme-coder"]
    proc = run_codex(codex_bin, codex_home, timeout=90)
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert server.requests_to("/responses", "POST")[-1].body["model"] == "acme-large"

    added = run_cli("add", "openai", "--use", "--yes")
    assert added.exit_code == 0, added.stderr
    assert _catalog_setting(codex_home) is None
    assert "acme-large" not in _debug_models(codex_bin, codex_home, bundled_env)
    assert run_cli("undo").exit_code == 0  # acme and its list again
    assert _debug_models(codex_bin, codex_home, {}) == ["acme-large", "acme-small", "acme-coder"]

    own = codex_home / "mine.json"
    own.write_text(
        picker.picker_catalog_text(catalog.bundled(paths_mod.resolve(), codex_bin), ["mine-1"]), encoding="utf-8"
    )
    config = codex_home / "config.toml"
    text = "\n".join(line for line in config.read_text().splitlines() if not line.startswith("model_catalog_json"))
    config.write_text(f"model_catalog_json = {json.dumps(str(own))}\n" + text + "\n", encoding="utf-8")
    added = run_cli("add", "openai", "--use", "--yes")
    assert added.exit_code == 0, added.stderr
    assert _catalog_setting(codex_home) == str(own)
    assert _debug_models(codex_bin, codex_home, bundled_env) == ["mine-1"]


def test_facts_replace_the_templates_where_known() -> None:
    from codexprov.model_lists import ModelFacts

    levels = [{"effort": "low", "description": "Fast"}, {"effort": "medium", "description": "Balanced"}]
    bundled = catalog.from_data(
        {"models": [{**PLAIN, "supported_reasoning_levels": levels, "max_context_window": 400000}]}
    )
    facts = {
        "big": ModelFacts("Big One", 1048576, ("low", "high"), ("text", "image")),
        "flat": ModelFacts(None, 32000, (), ("text",)),
    }
    doc = picker.picker_catalog(bundled, ["big", "flat", "plain"], None, facts)
    big, flat, plain = doc["models"]
    assert (big["display_name"], big["context_window"], big["max_context_window"]) == ("Big One", 1048576, 1048576)
    assert big["supported_reasoning_levels"] == [
        {"effort": "low", "description": "Fast"},
        {"effort": "high", "description": "high"},
    ]
    assert (big["default_reasoning_level"], big["input_modalities"]) == ("low", ["text", "image"])
    assert (flat["display_name"], flat["context_window"], flat["supported_reasoning_levels"]) == ("flat", 32000, [])
    assert (flat["default_reasoning_level"], flat["input_modalities"]) == (None, ["text"])
    assert (plain["context_window"], plain["supported_reasoning_levels"], plain["default_reasoning_level"]) == (
        272000,
        levels,
        "medium",
    )


def test_a_recipes_models_table_is_parsed_and_checked() -> None:
    from codexprov.model_lists import ModelFacts
    from codexprov.recipes.loading import _Problem, parse_recipe

    base = {"id": "acme", "name": "Acme", "kind": "hosted", "responses": "native", "responses_checked": "2026-12-01",
            "base_url": "https://acme.example/v1", "env_key": "ACME_API_KEY"}  # fmt: skip
    recipe = parse_recipe(
        {
            **base,
            "models": {
                "acme-large": {"context_window": 200000, "reasoning": ["low", "high"], "input": ["text", "image"]},
                "acme-small": {"reasoning": False, "name": "Small"},
                "acme-new": {},
            },
        }
    )
    assert recipe.models == ("acme-large", "acme-small", "acme-new")
    assert recipe.model_facts == {
        "acme-large": ModelFacts(None, 200000, ("low", "high"), ("text", "image")),
        "acme-small": ModelFacts("Small", None, (), None),
    }
    assert parse_recipe({**base, "models": ["a", "b"]}).model_facts == {}
    for models, field, message in (
        ({"m": {"context_window": 0}}, "models.m.context_window", "must be a positive number of tokens"),
        (
            {"m": {"reasoning": ["fast"]}},
            "models.m.reasoning",
            "must be true, false or a list of efforts (none, minimal, low, medium, high, xhigh)",
        ),
        ({"m": {"input": ["image"]}}, "models.m.input", 'must list "text", and may add "image"'),
        ({"m": {"window": 1}}, "models.m", "unknown field 'window' (known: context_window, input, name, reasoning)"),
        ({"m": 3}, "models.m", "must be a table (context_window, reasoning, input, name)"),
        (3, "models", "must be a list of model names, or a table of them"),
    ):
        with pytest.raises(_Problem) as err:
            parse_recipe({**base, "models": models})
        assert (err.value.field, err.value.message) == (field, message)


@pytest.mark.codex
def test_the_picker_entries_carry_what_the_list_and_the_recipe_know(
    run_cli, codex_bin: Path, codex_home: Path, make_fake_server, monkeypatch
) -> None:
    """`add groq --use`: Groq's `/models` says each context window, the recipe's `models` table
    which models reason; Codex lists them so, and sends no reasoning effort for the model that does
    not reason, the entry's default effort for one that does."""
    monkeypatch.setenv("CODEXPROV_CODEX", str(codex_bin))
    monkeypatch.setenv("T_KEY", "sk-test-picker-facts-0123")
    windows = {"llama-3.3-70b-versatile": 131072, "openai/gpt-oss-120b": 131072, "new-model": 8192}

    def listing(req, n, server):
        if req.path.endswith("/models"):
            data = [{"id": m, "object": "model", "context_window": w} for m, w in windows.items()]
            return 200, {"Content-Type": "application/json"}, json.dumps({"object": "list", "data": data}).encode()
        return None

    server = make_fake_server(models=list(windows), answer=listing, reply_text="from-groq")
    (codex_home / "config.toml").write_text('approval_policy = "never"\n', encoding="utf-8")
    added = run_cli(
        "add", "groq", "--id", "groq", "--base-url", server.base_url, "--key-mode", "env", "--env-key", "T_KEY",
        "--model", "openai/gpt-oss-120b", "--use", "--yes", "--no-bridge",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    models = debug_models(codex_bin, codex_home, {"T_KEY": "k"})
    shown = {
        m["slug"]: (
            m["context_window"],
            [lvl["effort"] for lvl in m["supported_reasoning_levels"]],
            m.get("default_reasoning_level"),  # left out when none
        )
        for m in models
    }
    plain = picker.template(catalog.bundled(paths_mod.resolve(), codex_bin))
    assert shown == {
        "openai/gpt-oss-120b": (131072, ["low", "medium", "high"], "medium"),
        "llama-3.3-70b-versatile": (131072, [], None),
        "new-model": (8192, list(plain.reasoning_levels), plain.default_reasoning_level),  # the window only
    }
    for model, effort in (("llama-3.3-70b-versatile", None), ("openai/gpt-oss-120b", "medium")):
        proc = run_codex(
            codex_bin, codex_home, args=("-m", model), env_extra={"T_KEY": "sk-test-picker-facts-0123"}, timeout=90
        )
        assert proc.returncode == 0, proc.stderr[-1500:]
        assert "from-groq" in proc.stdout
        turn = server.requests_to("/responses", "POST")[-1].body
        assert (turn["model"], (turn.get("reasoning") or {}).get("effort")) == (model, effort)
    # `use` (no network) builds the same entries from the list kept with its facts
    assert run_cli("use", "groq", "--model", "llama-3.3-70b-versatile").exit_code == 0
    models = debug_models(codex_bin, codex_home, {"T_KEY": "k"})
    first = models[0]
    assert (first["slug"], first["supported_reasoning_levels"], first["context_window"]) == (
        "llama-3.3-70b-versatile", [], 131072,
    )  # fmt: skip


@pytest.mark.codex
def test_doctor_says_why_the_picker_shows_codexs_own_list(
    run_cli, codex_bin: Path, codex_home: Path, make_fake_server, monkeypatch
) -> None:
    """A provider whose list cannot be had keeps Codex's own list (Codex loads, a turn passes), and
    `doctor` says why, offline, from what the last ask got: a refused key (401), no `/models`
    (404), nothing listening. Once it answers, `models ID --refresh` puts its models in and the
    finding goes."""
    monkeypatch.setenv("CODEXPROV_CODEX", str(codex_bin))
    monkeypatch.setenv("T_KEY", "sk-test-wrong-key-0123")
    good = "sk-test-right-key-4567"
    server = make_fake_server(models=["acme-large"], expected_key=good)
    (codex_home / "config.toml").write_text('approval_policy = "never"\n', encoding="utf-8")
    bundled = _debug_models(codex_bin, codex_home, {})
    added = run_cli(
        "add", "custom", "--id", "acme", "--base-url", server.base_url, "--key-mode", "env", "--env-key", "T_KEY",
        "--model", "acme-large", "--use",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    assert _catalog_setting(codex_home) is None
    assert _debug_models(codex_bin, codex_home, {"T_KEY": good}) == bundled
    proc = run_codex(codex_bin, codex_home, env_extra={"T_KEY": good}, timeout=90)
    assert proc.returncode == 0, proc.stderr[-1500:]

    def finding() -> dict | None:
        report = json.loads(run_cli("--codex", str(codex_bin), "doctor", "--offline", "--json").stdout)
        found = [f for f in report["findings"] if f["check"] == "picker.list"]
        assert len(found) <= 1
        return found[0] if found else None

    said = finding()
    assert said is not None and (said["status"], said["provider"]) == ("skip", "acme")
    assert said["message"].startswith(
        "Codex's model picker shows Codex's own models for acme, not acme's: its list could not be had when "
        "codexprov last asked ("
    )
    assert said["message"].endswith(f"): GET {server.base_url}/models: HTTP 401: acme refused the key from $T_KEY")
    assert "sk-test-wrong-key-0123" not in json.dumps(said)
    assert said["fix"] == "codexprov models acme --refresh  (once it answers: it puts acme's models in the picker)"

    server.expected_key = None
    server.answer = lambda req, n, srv: (404, {}, b"") if req.path.endswith("/models") else None
    assert run_cli("models", "acme").exit_code == 1
    said = finding()
    assert said is not None and said["message"].endswith(
        f"): GET {server.base_url}/models: HTTP 404; acme does not list its models there"
    )

    server.answer = None
    refreshed = run_cli("models", "acme", "--refresh")
    assert refreshed.exit_code == 0, refreshed.stderr
    assert finding() is None
    assert _debug_models(codex_bin, codex_home, {"T_KEY": good}) == ["acme-large"]

    # nothing listening: acme keeps the list it had (nothing to explain); a provider added there
    # now has none, and doctor says the server did not answer
    port = server.port
    server.stop()
    assert run_cli("models", "acme").exit_code == 1
    assert finding() is None
    assert _debug_models(codex_bin, codex_home, {}) == ["acme-large"]
    added = run_cli(
        "add", "custom", "--id", "dead", "--base-url", f"http://127.0.0.1:{port}/v1", "--key-mode", "none", "--use"
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    assert _catalog_setting(codex_home) is None
    assert _debug_models(codex_bin, codex_home, {}) == bundled
    said = finding()
    assert said is not None and said["provider"] == "dead"
    assert f"): GET http://127.0.0.1:{port}/v1/models: " in said["message"]
    assert "onnect" in said["message"]  # httpx's "Connection refused" / "All connection attempts failed"
