"""Recipes: every shipped file loads and renders into what Codex 0.169.0 accepts; folders override;
broken files are reported by file and field without stopping the others; bad input is refused."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from codexprov import paths as paths_mod
from codexprov.codex.capabilities import capabilities
from codexprov.errors import ConflictError, NotFoundError, UsageError
from codexprov.model import AuthCommand, ProviderSpec
from codexprov.recipes import (
    RECIPES_PATH_ENV,
    Rendered,
    check_against_codex,
    load_catalog,
    preview,
    render,
    shipped_recipes_dir,
)

SHIPPED_IDS = sorted(
    """custom openai openai-data-residency azure anthropic openrouter groq mistral deepseek xai gemini
    together fireworks cerebras huggingface nvidia-nim ollama ollama-cloud lmstudio vllm llama-cpp
    litellm cloudflare-ai-gateway amazon-bedrock vertex""".split()
)

GROQ_OVERRIDE = """\
format = 1
name = "Groq (team mirror)"
kind = "gateway"
responses = "native"
responses_checked = "2026-11-01"
base_url = "https://groq.mirror.example/openai/v1"
env_key = "TEAM_GROQ_KEY"
"""


@pytest.fixture
def paths() -> paths_mod.Paths:
    return paths_mod.resolve()


def catalog(paths: paths_mod.Paths, **env: str):
    return load_catalog(paths, env=env)


def example_params(recipe) -> dict[str, str]:
    """A value for every required param without a default (the recipe's own example)."""
    return {p.name: p.example for p in recipe.missing_params({}, base_url_given=False)}


def test_every_shipped_recipe_loads(paths):
    cat = catalog(paths)
    assert cat.problems == ()
    assert [r.id for r in cat.recipes] == SHIPPED_IDS
    assert sorted(p.stem for p in shipped_recipes_dir().glob("*.toml")) == SHIPPED_IDS
    for recipe in cat.recipes:
        assert recipe.source == "shipped" and recipe.overrides is None
        assert recipe.responses_checked == "2026-11-22"
        # every shipped verdict says what it rests on; none was seen in a real request yet
        assert recipe.responses_basis == ("none" if recipe.id == "custom" else "docs"), recipe.id
        assert recipe.notes, recipe.id
        assert recipe.name.strip(), recipe.id
        for p in recipe.missing_params({}, base_url_given=False):
            assert p.example, f"{recipe.id}: required param {p.name} needs an example"


@pytest.mark.parametrize("recipe_id", SHIPPED_IDS)
def test_every_recipe_renders_what_codex_accepts(paths, recipe_id):
    recipe = catalog(paths).get(recipe_id)
    params = example_params(recipe)
    # As `add RECIPE` writes it by default.
    default = render(
        recipe,
        provider_id=recipe.id,
        params=params,
        base_url=None,
        model=None,
        name=None,
        env_key=None,
        headers={},
        query={},
    )
    assert check_against_codex(default) == []
    assert default.model == recipe.default_model
    if recipe.builtin is None:
        assert default.spec is not None and default.spec.wire_api == "responses"
    # As the Codex test writes it: another id and base URL always give a custom provider.
    custom = render(
        recipe,
        provider_id=f"t-{recipe.id}",
        params={},
        base_url="http://127.0.0.1:1/v1",
        model="m",
        name=None,
        env_key="T_KEY",
        headers={"X-Test": "1"},
        query={},
    )
    assert check_against_codex(custom) == []
    assert custom.spec is not None
    assert (custom.spec.id, custom.spec.base_url, custom.spec.env_key, custom.spec.auth) == (
        f"t-{recipe.id}",
        "http://127.0.0.1:1/v1",
        "T_KEY",
        None,
    )
    assert custom.spec.http_headers["X-Test"] == "1"
    # On a Codex from before any reserved id (0.110.0): every recipe is a custom provider, even
    # under a built-in's id, and that Codex takes it.
    every = {p.name: p.example for p in recipe.params if p.example and p.default is None}
    old = render(
        recipe,
        provider_id=recipe.id,
        params=every,
        base_url=None,
        model=None,
        name=None,
        env_key=None,
        headers={},
        query={},
        capabilities=capabilities((0, 110, 0)),
    )
    assert old.spec is not None and old.spec.id == recipe.id
    assert check_against_codex(old, capabilities((0, 110, 0))) == []
    # `recipes show` never fails.
    assert "model_provider = " in preview(recipe).toml


def test_azure_renders_api_version_query(paths):
    recipe = catalog(paths).get("azure")
    got = render(
        recipe,
        provider_id="azure",
        params={"resource": "contoso"},
        base_url=None,
        model="gpt-5.5-prod",
        name=None,
        env_key=None,
        headers={},
        query={},
    )
    assert got == Rendered(
        spec=ProviderSpec(
            id="azure",
            name="Azure OpenAI",
            base_url="https://contoso.openai.azure.com/openai",
            env_key="AZURE_OPENAI_API_KEY",
            env_key_instructions="Copy a key from your Azure OpenAI resource: Azure portal > the resource > Keys and Endpoint.",
            query_params={"api-version": "2025-04-01-preview"},
        ),
        builtin_id=None,
        builtin_table=None,
        model="gpt-5.5-prod",
        warnings=(),
    )
    # A --base-url makes the resource moot; api-version is still written; --query adds to it.
    got = render(
        recipe,
        provider_id="az2",
        params={"api-version": "preview"},
        base_url="https://x.example/openai/v1",
        model=None,
        name="Mine",
        env_key=None,
        headers={},
        query={"extra": "1"},
    )
    assert (got.spec.name, got.spec.base_url, got.spec.query_params) == (
        "Mine",
        "https://x.example/openai/v1",
        {"api-version": "preview", "extra": "1"},
    )


def test_builtin_recipes_configure_the_builtin(paths):
    cat = catalog(paths)
    with pytest.raises(UsageError, match=r"a custom provider from this recipe needs --param region=…"):
        render(
            cat.get("amazon-bedrock"),
            provider_id="bedrock2",
            params={},
            base_url=None,
            model=None,
            name=None,
            env_key=None,
            headers={},
            query={},
        )
    bedrock = render(
        cat.get("amazon-bedrock"),
        provider_id="amazon-bedrock",
        params={"profile": "dev"},
        base_url=None,
        model=None,
        name=None,
        env_key=None,
        headers={},
        query={},
    )
    assert (bedrock.spec, bedrock.builtin_id, bedrock.builtin_table) == (
        None,
        "amazon-bedrock",
        {"aws": {"profile": "dev"}},
    )
    nothing = render(
        cat.get("amazon-bedrock"),
        provider_id="amazon-bedrock",
        params={},
        base_url=None,
        model=None,
        name=None,
        env_key=None,
        headers={},
        query={},
    )
    assert nothing.builtin_table == {}
    ollama = render(
        cat.get("ollama"),
        provider_id="ollama",
        params={},
        base_url=None,
        model=None,
        name=None,
        env_key=None,
        headers={},
        query={},
    )
    assert (ollama.spec, ollama.builtin_id, ollama.builtin_table, ollama.model) == (None, "ollama", {}, "gpt-oss:20b")
    vertex = cat.get("vertex")
    gcp = render(
        vertex,
        provider_id="vertex",
        params={"project": "proj-123"},
        base_url=None,
        model=None,
        name=None,
        env_key=None,
        headers={},
        query={},
    )
    assert (gcp.builtin_id, gcp.builtin_table) == ("gcp", {"project_id": "proj-123", "location": "global"})
    fallback = render(
        vertex,
        provider_id="vertex",
        params={"project": "proj-123", "location": "us-central1"},
        base_url=None,
        model=None,
        name=None,
        env_key=None,
        headers={},
        query={},
        capabilities=capabilities((0, 133, 0)),
    )
    assert fallback.spec == ProviderSpec(
        id="vertex",
        name="Google Vertex AI",
        base_url="https://aiplatform.googleapis.com/v1/projects/proj-123/locations/us-central1/endpoints/openapi",
        auth=AuthCommand("gcloud", ("auth", "print-access-token"), 10000, 300000),
    )
    assert check_against_codex(fallback) == []
    assert any("gcloud auth print-access-token" in w for w in fallback.warnings)


def test_builtin_refuses_what_codex_would_reject(paths):
    cat = catalog(paths)
    with pytest.raises(UsageError, match="--env-key cannot be applied to Codex's built-in 'openai'"):
        render(
            cat.get("openai"),
            provider_id="openai",
            params={},
            base_url=None,
            model=None,
            name=None,
            env_key="MY_KEY",
            headers={},
            query={},
        )
    with pytest.raises(UsageError, match="does not accept headers for its built-in 'ollama'"):
        render(
            cat.get("ollama"),
            provider_id="ollama",
            params={},
            base_url=None,
            model=None,
            name=None,
            env_key=None,
            headers={"X": "1"},
            query={},
        )
    with pytest.raises(ConflictError, match="'lmstudio' is a Codex built-in provider id"):
        render(
            cat.get("groq"),
            provider_id="lmstudio",
            params={},
            base_url=None,
            model=None,
            name=None,
            env_key=None,
            headers={},
            query={},
        )
    with pytest.raises(ConflictError, match="'ollama' is a Codex built-in"):
        render(
            cat.get("ollama"),
            provider_id="ollama",
            params={},
            base_url="http://127.0.0.1:1/v1",
            model=None,
            name=None,
            env_key=None,
            headers={},
            query={},
        )


def test_responses_no_warns_about_a_bridge(paths):
    got = render(
        catalog(paths).get("mistral"),
        provider_id="mistral",
        params={},
        base_url=None,
        model=None,
        name=None,
        env_key=None,
        headers={},
        query={},
    )
    assert got.warnings == (
        "Mistral AI does not serve /v1/responses (per its docs, read 2026-11-22): Codex will fail on the first turn. "
        "Drop --no-bridge to route it through codexprov's bridge (`codexprov add mistral --id mistral --replace`).",
    )


def test_bad_param_name_value_and_missing(paths):
    recipe = catalog(paths).get("azure")
    kwargs = dict(provider_id="azure", base_url=None, model=None, name=None, env_key=None, headers={}, query={})
    with pytest.raises(UsageError) as err:
        render(recipe, params={"resource": "x", "regoin": "eu"}, **kwargs)
    assert err.value.message == "recipe 'azure' has no param 'regoin'"
    assert err.value.hint == "Valid params: resource, api-version. `codexprov recipes show azure` describes them."
    with pytest.raises(UsageError) as err:
        render(recipe, params={"resource": "bad name!"}, **kwargs)
    assert err.value.message == "--param resource='bad name!': must match ^[A-Za-z0-9][A-Za-z0-9-]{0,62}$"
    with pytest.raises(UsageError) as err:
        render(catalog(paths).get("cloudflare-ai-gateway"), params={}, **kwargs)
    assert err.value.message == "recipe `cloudflare-ai-gateway` needs: account, gateway"
    assert (
        err.value.detail
        == "  --param account=…  your Cloudflare account id\n  --param gateway=…  the AI Gateway id (its name in the dashboard)"
    )
    assert recipe.missing_params({}, base_url_given=True) == []


def test_custom_recipe_needs_a_base_url(paths):
    recipe = catalog(paths).get("custom")
    assert [p.name for p in recipe.missing_params({}, base_url_given=False)] == ["base_url"]
    got = render(
        recipe,
        provider_id="acme",
        params={"base_url": "https://api.acme.example/v1"},
        base_url=None,
        model="m1",
        name="Acme",
        env_key=None,
        headers={},
        query={},
    )
    assert got.spec.to_table() == {
        "name": "Acme",
        "base_url": "https://api.acme.example/v1",
        "env_key": "ACME_API_KEY",
        "env_key_instructions": "Put your API key for this provider in the variable named by env_key.",
        "wire_api": "responses",
    }


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_user_and_team_folders_override(paths, tmp_path):
    user_file = write(paths.user_recipes_dir, "groq.toml", GROQ_OVERRIDE.replace("team mirror", "mine"))
    team = tmp_path / "team"
    team_file = write(team, "groq.toml", GROQ_OVERRIDE)
    write(team, "acme.toml", GROQ_OVERRIDE.replace("Groq (team mirror)", "Acme"))
    cat = catalog(paths, **{RECIPES_PATH_ENV: f"{tmp_path / 'missing'}:{team}"})
    assert cat.problems == ()
    groq = cat.get("groq")
    assert (groq.name, groq.source, groq.path, groq.overrides) == ("Groq (team mirror)", "team", team_file, user_file)
    assert cat.get("acme").source == "team"
    user_only = catalog(paths).get("groq")
    assert (user_only.source, user_only.overrides) == ("user", shipped_recipes_dir() / "groq.toml")


def test_broken_file_names_file_and_field_and_others_load(paths):
    folder = paths.user_recipes_dir
    bad_kind = write(folder, "acme.toml", GROQ_OVERRIDE.replace('kind = "gateway"', "kind = 3"))
    bad_toml = write(folder, "zeta.toml", "name = \n")
    bad_param = write(folder, "beta.toml", GROQ_OVERRIDE.replace("groq.mirror", "{host}"))
    write(folder, "good.toml", GROQ_OVERRIDE)
    cat = catalog(paths)
    assert [str(p) for p in cat.problems] == [
        f"{bad_kind}: field `kind`: must be a non-empty string, not an integer",
        f"{bad_param}: field `base_url`: uses {{host}}, which is not a param of this recipe (params: none declared)",
        f"{bad_toml}: invalid TOML: Invalid value (at line 1, column 8)",
    ]
    assert cat.get("good").name == "Groq (team mirror)"
    assert len(cat.recipes) == len(SHIPPED_IDS) + 1
    with pytest.raises(NotFoundError) as err:
        cat.get("acme")
    assert err.value.detail == f"{bad_kind}: field `kind`: must be a non-empty string, not an integer"


def test_unknown_recipe_did_you_mean(paths):
    with pytest.raises(NotFoundError) as err:
        catalog(paths).get("grok")
    assert err.value.message == "no recipe named 'grok'"
    assert err.value.hint == "Did you mean 'groq'? `codexprov recipes` lists them all."


# ---------------------------------------------------------------------------- CLI


def test_cli_list_marks_overrides_and_warns_about_broken(run_cli, paths):
    user_file = write(paths.user_recipes_dir, "groq.toml", GROQ_OVERRIDE)
    bad = write(paths.user_recipes_dir, "bad.toml", GROQ_OVERRIDE.replace('responses = "native"', 'responses = "yes"'))
    result = run_cli("recipes")
    assert result.exit_code == 0
    assert result.stderr == (
        f"warning: skipped recipe {bad}: field `responses`: 'yes' is not one of: native, no, unknown\n"
        "VERDICT FROM: the provider's docs read on that date, or a real request (`codexprov doctor --live`)\n"
    )
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "NAME", "KIND", "RESPONSES", "VERDICT", "FROM", "SOURCE"]
    assert next(line for line in lines if line.startswith("mistral ")).split()[4:7] == ["no", "docs", "2026-11-22"]
    assert next(line for line in lines if line.startswith("custom ")).split()[4:6] == ["unknown", "-"]
    groq = next(line for line in lines if line.startswith("groq "))
    assert groq.split() == [
        "groq",
        "Groq",
        "(team",
        "mirror)",
        "gateway",
        "native",
        "unstated",
        "2026-11-01",
        "user",
        "(overrides",
        f"{shipped_recipes_dir() / 'groq.toml'})",
    ]
    assert len(lines) == 1 + len(SHIPPED_IDS)
    listed = json.loads(run_cli("recipes", "--json").stdout)
    assert [r["id"] for r in listed] == SHIPPED_IDS
    assert next(r for r in listed if r["id"] == "groq")["path"] == str(user_file)


def test_cli_show(run_cli):
    result = run_cli("recipes", "show", "openai-data-residency")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    head = result.stdout.split("\n\nParameters")[0]
    assert head == textwrap.dedent(f"""\
        # OpenAI (data residency) (openai-data-residency): hosted, /v1/responses: native (per its docs, read 2026-11-22)
        # verdict from: https://developers.openai.com/codex/config-advanced (data residency)
        # source: shipped: {shipped_recipes_dir() / "openai-data-residency.toml"}
        model = "gpt-5.5"
        model_provider = "openai-data-residency"

        [model_providers.openai-data-residency]
        name = "OpenAI (data residency)"
        base_url = "https://<region>.api.openai.com/v1"
        env_key = "OPENAI_API_KEY"
        env_key_instructions = "Use a key from an OpenAI project that has data residency in this region (https://platform.openai.com/api-keys)."
        wire_api = "responses\"""")
    assert (
        "\nParameters (--param NAME=VALUE):\n  region  data residency region prefix of your OpenAI project (required; e.g. eu)\n"
        in result.stdout
    )
    assert "\nKnown models: gpt-5.5, gpt-5.4, gpt-5.4-mini\n" in result.stdout
    shown = json.loads(run_cli("recipes", "show", "mistral", "--json").stdout)
    assert shown["responses"] == "no" and shown["warnings"][0].startswith("Mistral AI does not serve /v1/responses")


def test_cli_show_unknown(run_cli):
    result = run_cli("recipes", "show", "azur")
    assert (result.exit_code, result.stdout) == (4, "")
    assert (
        result.stderr
        == "error: no recipe named 'azur'\nhint: Did you mean 'azure'? `codexprov recipes` lists them all.\n"
    )


# ---------------------------------------------------------------------------- bad input through `add`


def test_add_missing_params_without_a_tty(run_cli, config_file):
    result = run_cli("add", "cloudflare-ai-gateway", "--key-mode", "env", "--yes", input="")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "error: recipe `cloudflare-ai-gateway` needs: account, gateway\n"
        "  --param account=…  your Cloudflare account id\n"
        "  --param gateway=…  the AI Gateway id (its name in the dashboard)\n"
        "hint: Pass each as --param NAME=VALUE (or --base-url to give the whole URL), or run on a terminal to be asked.\n"
    )
    assert not config_file.exists()


def test_add_bad_param(run_cli, config_file):
    result = run_cli(
        "add", "azure", "--param", "resource=contoso", "--param", "regoin=eu", "--key-mode", "env", "--yes"
    )
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "error: recipe 'azure' has no param 'regoin'\n"
        "hint: Valid params: resource, api-version. `codexprov recipes show azure` describes them.\n"
    )
    result = run_cli("add", "openai-data-residency", "--param", "region=EU west", "--key-mode", "env", "--yes")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "error: --param region='EU west': must match ^[a-z]{2}$"
    assert not config_file.exists()


def test_add_unknown_recipe_and_existing_id(run_cli, config_file):
    result = run_cli("add", "grok", "--key-mode", "env", "--yes")
    assert (result.exit_code, result.stderr) == (
        4,
        "error: no recipe named 'grok'\nhint: Did you mean 'groq'? `codexprov recipes` lists them all.\n",
    )
    assert run_cli("add", "groq", "--key-mode", "env", "--yes").exit_code == 0
    before = config_file.read_bytes()
    again = run_cli("add", "groq", "--key-mode", "env", "--yes")
    assert again.exit_code == 5
    assert again.stderr.startswith("error: provider `groq` already exists in ")
    assert config_file.read_bytes() == before


def test_add_refuses_a_builtin_display_name(paths):
    with pytest.raises(UsageError, match="is the display name of a Codex built-in"):
        render(
            catalog(paths).get("groq"),
            provider_id="groq",
            params={},
            base_url=None,
            model=None,
            name="Amazon Bedrock",
            env_key=None,
            headers={},
            query={},
        )
    got = render(
        catalog(paths).get("amazon-bedrock"),
        provider_id="bedrock-key",
        params={"region": "eu-west-1"},
        base_url=None,
        model=None,
        name=None,
        env_key=None,
        headers={},
        query={},
    )
    assert (got.spec.name, got.spec.base_url, got.spec.env_key) == (
        "Amazon Bedrock (custom)",
        "https://bedrock-mantle.eu-west-1.api.aws/v1",
        "AWS_BEARER_TOKEN_BEDROCK",
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://myres.openai.azure.com/openai",
        "https://router.huggingface.co/v1/",
        "http://localhost:4000/v1",
        "https://openrouter.ai/api/v1",
        "https://api.groq.com/openai/v1",
        "http://127.0.0.1:8080/v1",
        "https://example.com/openai",
    ],
)
def test_the_raw_look_never_misses_a_gateway_recipe(paths, url):
    """recipe_files.may_match (the doctor's look that parses nothing) says "maybe" wherever the
    catalog has a recipe with `rejects` for the URL, and "no" for the URLs of other providers."""
    from codexprov.recipe_files import may_match

    matched = [r.id for r in catalog(paths).recipes if r.rejects and r.matches_url(url)]
    assert may_match(paths, url, "rejects", env={}) == bool(matched)


def test_the_raw_look_says_maybe_for_what_it_cannot_read(paths):
    from codexprov.recipe_files import may_match

    url = "http://gateway.internal:8000/v1"
    assert may_match(paths, url, "rejects", env={}) is False
    # A user recipe whose base_url is spelled in a way the look does not read: load the catalog.
    write(
        paths.user_recipes_dir,
        "mine.toml",
        'rejects = ["namespace"]\nbase_url = """http://gateway.internal:8000/v1"""\n',
    )
    assert may_match(paths, url, "rejects", env={}) is True
    write(
        paths.user_recipes_dir,
        "mine.toml",
        'rejects = ["namespace"]\nbase_url = "http://{host}:8000/v1"  # a gateway\n',
    )
    assert may_match(paths, url, "rejects", env={}) is True
    assert may_match(paths, "http://gateway.internal:9000/v1", "rejects", env={}) is False
