"""Codex's model picker for providers behind codexprov's bridge (issue 23): the list is the
upstream's own models, asked in the upstream's API with the key the bridge sends it, never the
bridge's `/models` (LiteLLM's own model map). Unit tests with httpx.MockTransport; end to end with
the real LiteLLM, the real Codex and the real Secret Service."""

from __future__ import annotations

import json
import tomllib
import uuid
from pathlib import Path

import httpx
import pytest

from codexprov import served_models
from codexprov.errors import CodexprovError
from tests.codexrun import debug_models, run_codex


def test_the_upstream_request_is_in_the_upstreams_own_api() -> None:
    ask = served_models.upstream_request("anthropic", "https://api.anthropic.com/v1", "sk-ant-1")
    assert (ask.api, ask.url, ask.params, ask.headers) == (
        "anthropic",
        "https://api.anthropic.com/v1/models",
        {"limit": "1000"},
        {"anthropic-version": "2023-06-01", "x-api-key": "sk-ant-1"},
    )
    # LiteLLM's api_base for anthropic is the root it appends /v1/messages to
    assert (
        served_models.upstream_request("anthropic", "http://127.0.0.1:9/", None).url == "http://127.0.0.1:9/v1/models"
    )
    ask = served_models.upstream_request("gemini", "https://generativelanguage.googleapis.com/v1beta/openai", "g")
    assert (ask.api, ask.url, ask.params, ask.headers) == (
        "gemini",
        "https://generativelanguage.googleapis.com/v1beta/models",
        {"pageSize": "1000"},
        {"x-goog-api-key": "g"},
    )
    ask = served_models.upstream_request("cerebras", "https://api.cerebras.ai/v1", "c")
    assert (ask.api, ask.url, ask.params, ask.headers) == (
        "openai",
        "https://api.cerebras.ai/v1/models",
        {},
        {"Authorization": "Bearer c"},
    )
    assert served_models.upstream_request("custom_openai", "http://box:8080/v1", None).headers == {}


def test_pages_of_each_api() -> None:
    gemini = {
        "models": [
            {"name": "models/gemini-2.5-pro", "supportedGenerationMethods": ["generateContent"]},
            {"name": "models/text-embedding-004", "supportedGenerationMethods": ["embedContent"]},
            {"name": "models/gemini-x"},
            "junk",
        ],
        "nextPageToken": "p2",
    }
    assert served_models.upstream_page("gemini", gemini) == (["gemini-2.5-pro", "gemini-x"], {"pageToken": "p2"})
    assert served_models.upstream_page("gemini", {"models": []}) == ([], None)
    anthropic = {"data": [{"type": "model", "id": "claude-a"}], "has_more": True, "last_id": "claude-a"}
    assert served_models.upstream_page("anthropic", anthropic) == (["claude-a"], {"after_id": "claude-a"})
    assert served_models.upstream_page("anthropic", {**anthropic, "has_more": False}) == (["claude-a"], None)
    assert served_models.upstream_page("openai", {"data": [{"id": "m1"}, {"id": "m2"}]}) == (["m1", "m2"], None)
    assert served_models.upstream_page("openai", {"error": "x"}) == (None, None)


class _Store:
    label = "test keyring"

    def __init__(self, keys: dict[str, str]) -> None:
        self.keys = keys

    def get(self, provider_id: str) -> str | None:
        return self.keys.get(provider_id)


def _bridge_state(tmp_path: Path, upstream: dict) -> dict[str, str]:
    bridge = tmp_path / "bridge"
    bridge.mkdir(mode=0o700)
    (bridge / "state.json").write_text(json.dumps({"format": 1, "port": 4999, "upstreams": [upstream]}))
    return {"CODEXPROV_BRIDGE_DIR": str(bridge)}


def _bridged_config(codex_home: Path, pid: str) -> None:
    (codex_home / "config.toml").write_text(
        f'[model_providers.{pid}]\nname = "x"\nbase_url = "http://127.0.0.1:4999/v1"\nwire_api = "responses"\n'
        f'http_headers = {{ "x-litellm-tags" = "{pid}" }}\n',
        encoding="utf-8",
    )


def test_a_bridged_providers_list_comes_from_its_upstream_in_pages(isolated_home: Path, tmp_path: Path) -> None:
    from codexprov import paths as paths_mod
    from codexprov.model_lists import remembered

    paths = paths_mod.resolve()
    _bridged_config(paths.codex_home, "claude")
    env = _bridge_state(
        tmp_path,
        {"provider_id": "claude", "litellm_prefix": "anthropic", "api_base": None, "key_var": "ANTHROPIC_API_KEY"},
    )
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.params.get("after_id") == "claude-b":
            return httpx.Response(200, json={"data": [{"id": "claude-c"}], "has_more": False, "last_id": "claude-c"})
        return httpx.Response(
            200, json={"data": [{"id": "claude-a"}, {"id": "claude-b"}], "has_more": True, "last_id": "claude-b"}
        )

    listing = served_models.fetch(
        paths, "claude", env=env, transport=httpx.MockTransport(handler), store=_Store({"claude": "sk-ant-0123456789"})
    )
    assert listing.ids == ("claude-a", "claude-b", "claude-c")
    assert listing.url == "https://api.anthropic.com/v1/models"  # the recipe's URL (anthropic.toml)
    assert listing.key_from == "the keyring (claude), as the bridge sends it"
    assert [str(r.url) for r in seen] == [
        "https://api.anthropic.com/v1/models?limit=1000",
        "https://api.anthropic.com/v1/models?limit=1000&after_id=claude-b",
    ]
    assert all(r.headers["x-api-key"] == "sk-ant-0123456789" and r.headers["anthropic-version"] for r in seen)
    # kept under the bridge URL, which is what `use` looks it up by
    kept = remembered(paths, "claude", "http://127.0.0.1:4999/v1")
    assert kept is not None and kept.ids == listing.ids

    with pytest.raises(CodexprovError) as err:
        served_models.fetch(paths, "claude", env=env, transport=httpx.MockTransport(handler), store=_Store({}))
    assert str(err.value) == (
        "no key for claude in the keyring (test keyring), so there is no key to ask its upstream with"
    )
    refused = httpx.MockTransport(lambda r: httpx.Response(401, json={"error": {}}))
    with pytest.raises(CodexprovError) as err:
        served_models.fetch(paths, "claude", env=env, transport=refused, store=_Store({"claude": "sk-ant-0123456789"}))
    assert str(err.value) == (
        "GET https://api.anthropic.com/v1/models: HTTP 401: the upstream of claude refused the key from "
        "the keyring (claude), as the bridge sends it"
    )


def test_a_keyless_chat_upstream_is_asked_at_its_api_base(isolated_home: Path, tmp_path: Path) -> None:
    from codexprov import paths as paths_mod

    paths = paths_mod.resolve()
    _bridged_config(paths.codex_home, "box")
    env = _bridge_state(
        tmp_path,
        {"provider_id": "box", "litellm_prefix": "custom_openai", "api_base": "http://box:8080/v1", "key_var": None},
    )
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"object": "list", "data": [{"id": "local-model"}]})

    listing = served_models.fetch(paths, "box", env=env, transport=httpx.MockTransport(handler))
    assert (listing.ids, listing.key_from) == (("local-model",), "no key (the upstream needs none)")
    assert [str(r.url) for r in seen] == ["http://box:8080/v1/models"]
    assert "authorization" not in seen[0].headers

    # the same id in a table that does not go through the bridge is asked directly
    (paths.codex_home / "config.toml").write_text(
        '[model_providers.box]\nname = "x"\nbase_url = "http://direct:9/v1"\nwire_api = "responses"\n', encoding="utf-8"
    )
    listing = served_models.fetch(paths, "box", env=env, transport=httpx.MockTransport(handler))
    assert str(seen[-1].url) == "http://direct:9/v1/models"


# ---------------------------------------------------------------------------- the real parts


def _debug_models(codex_bin: Path, codex_home: Path, env: dict[str, str]) -> list[str]:
    return [m["slug"] for m in debug_models(codex_bin, codex_home, env, timeout=120)]


def _config(codex_home: Path) -> dict:
    return tomllib.loads((codex_home / "config.toml").read_text(encoding="utf-8"))


@pytest.mark.codex
@pytest.mark.keyring
def test_bridged_providers_list_their_upstreams_models_in_codexs_picker(tmp_path: Path, codex_bin: Path) -> None:
    """`add anthropic --use` and `add custom --bridge --use` through the real bridge: Codex's
    `debug models` lists exactly the upstream's models (the configured one first), a turn with a
    model picked from the list passes through LiteLLM, `use` switches the list, `remove` and `undo`
    leave a list Codex loads."""
    from tests.bridge_fixtures import Own
    from tests.upstream_standin import TOOL_OUTPUT, ToolTurnServer, final_text

    own = Own(tmp_path)
    tag = uuid.uuid4().hex[:6]
    claude_id, box_id = f"claude-{tag}", f"box-{tag}"
    claude_key, box_key = f"sk-ant-{uuid.uuid4().hex}", f"sk-box-{uuid.uuid4().hex}"
    gemini_id, gemini_key = f"gemini-{tag}", f"sk-gem-{uuid.uuid4().hex}"
    gemini = ToolTurnServer(expected_key=gemini_key, models=["gemini-2.5-pro", "gemini-2.5-flash", "gemini-next"])
    gemini.start()
    claude = ToolTurnServer(expected_key=claude_key, models=["claude-opus-9", "claude-sonnet-9", "claude-haiku-9"])
    box = ToolTurnServer(expected_key=box_key, models=["box-small", "box-large"])
    claude.start()
    box.start()
    codex_home = own.home / ".codex"
    (codex_home / "config.toml").write_text('approval_policy = "never"\n', encoding="utf-8")
    over = {"CODEXPROV_CODEX": str(codex_bin)}
    extra = own.codex_extra()

    def tool_turn(model: str) -> None:
        """One real Codex tool turn with `model` picked from the list, through the bridge."""
        proc = run_codex(
            codex_bin, codex_home, "run the check", args=["-m", model, "-s", "danger-full-access"],
            env_extra=extra, timeout=180,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert final_text(TOOL_OUTPUT) in proc.stdout

    try:
        bundled = _debug_models(codex_bin, codex_home, extra)
        # Gemini's native list: names without `models/`, only models that generate content, and the
        # input limit it states (the recipe's facts fill what it does not say)
        added = own.codexprov(
            "add", "gemini", "--id", gemini_id, "--base-url", gemini.root_url + "/v1beta", "--key-stdin",
            "--model", "gemini-2.5-flash", "--use", "--yes", input=gemini_key + "\n", env_over=over,
        )  # fmt: skip
        own.ids.append(gemini_id)
        assert added.returncode == 0, added.stderr
        models = debug_models(codex_bin, codex_home, extra, timeout=120)
        assert [(m["slug"], m["context_window"]) for m in models] == [
            ("gemini-2.5-flash", 1048576),
            ("gemini-2.5-pro", 1048576),
            ("gemini-next", 1048576),
        ]
        asked = [r for r in gemini.requests if r.path == "/v1beta/models"]
        assert asked and asked[0].headers["x-goog-api-key"] == gemini_key
        added = own.codexprov(
            "add", "anthropic", "--id", claude_id, "--base-url", claude.root_url, "--key-stdin",
            "--model", "claude-sonnet-9", "--use", "--yes", input=claude_key + "\n", env_over=over,
        )  # fmt: skip
        own.ids.append(claude_id)
        assert added.returncode == 0, added.stderr
        claude_file = Path(_config(codex_home)["model_catalog_json"])
        assert claude_file.name == f"{claude_id}@claude-sonnet-9.json"
        assert f"Codex's model picker now lists the 3 models of {claude_id} (model_catalog_json = {claude_file})" in (
            added.stderr
        )
        # the upstream was asked in Anthropic's API, with the upstream key; the bridge was not started for it
        asked = [r for r in claude.requests if r.path == "/v1/models"]
        assert len(asked) == 1 and asked[0].headers["x-api-key"] == claude_key
        assert _debug_models(codex_bin, codex_home, extra) == ["claude-sonnet-9", "claude-opus-9", "claude-haiku-9"]
        tool_turn("claude-haiku-9")
        assert claude.requests_to("/messages", "POST")[-1].body["model"] == "claude-haiku-9"

        # `models ID` says the same: the upstream's list, and that the picker shows it
        shown = own.codexprov("models", claude_id, "--json", env_over=over)
        assert shown.returncode == 0, shown.stderr
        assert json.loads(shown.stdout)["models"] == ["claude-opus-9", "claude-sonnet-9", "claude-haiku-9"]
        assert json.loads(shown.stdout)["picker"]["shown_now"] is True

        added = own.codexprov(
            "add", "custom", "--id", box_id, "--base-url", box.base_url, "--bridge", "--key-stdin",
            "--model", "box-large", "--use", "--yes", input=box_key + "\n", env_over=over,
        )  # fmt: skip
        own.ids.append(box_id)
        assert added.returncode == 0, added.stderr
        assert Path(_config(codex_home)["model_catalog_json"]).name == f"{box_id}@box-large.json"
        assert _debug_models(codex_bin, codex_home, extra) == ["box-large", "box-small"]
        tool_turn("box-small")
        assert box.requests_to("/chat/completions", "POST")[-1].body["model"] == "box-small"

        # use switches the list (no network), remove and undo leave lists Codex loads
        assert own.codexprov("use", claude_id, "--model", "claude-sonnet-9", env_over=over).returncode == 0
        assert _debug_models(codex_bin, codex_home, extra) == ["claude-sonnet-9", "claude-opus-9", "claude-haiku-9"]
        removed = own.codexprov("remove", claude_id, "--force", env_over=over)
        assert removed.returncode == 0, removed.stderr
        assert "model_catalog_json" not in _config(codex_home)
        assert _debug_models(codex_bin, codex_home, extra) == bundled
        assert own.codexprov("undo", env_over=over).returncode == 0
        assert _config(codex_home)["model_catalog_json"] == str(claude_file)
        assert _debug_models(codex_bin, codex_home, extra) == ["claude-sonnet-9", "claude-opus-9", "claude-haiku-9"]
        # (`remove` took claude out of the bridge and the keyring, which `undo` does not bring back)
        assert own.codexprov("use", box_id, "--model", "box-large", env_over=over).returncode == 0
        assert _debug_models(codex_bin, codex_home, extra) == ["box-large", "box-small"]
        tool_turn("box-small")
    finally:
        own.codexprov("bridge", "down", timeout=60)
        for provider_id in own.ids:
            own.codexprov("key", "rm", provider_id, timeout=30)
        claude.stop()
        box.stop()
        gemini.stop()
