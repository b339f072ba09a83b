"""codex.catalog: the model catalog read from the installed Codex (`codex debug models --bundled`),
cached per build, looked up as Codex looks up a model; codex.request: what a turn carries, read from
that catalog and captured from the real Codex, which must agree."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from codexprov import paths as paths_mod
from codexprov.codex import catalog, request
from tests.codexrun import write_minimal_config

ENTRIES = [
    {"slug": "gpt-x", "use_responses_lite": False, "display_name": "X", "supports_search_tool": True},
    {"slug": "gpt-x-long", "use_responses_lite": True, "default_reasoning_level": "low"},
    {"slug": "other", "experimental_supported_tools": ["clock"]},
]


@pytest.fixture
def paths(isolated_home):
    return paths_mod.resolve()


@pytest.mark.parametrize(
    ("model", "slug"),
    [
        ("gpt-x", "gpt-x"),
        ("gpt-x-long", "gpt-x-long"),  # the longest slug that is a prefix wins, whatever the order
        ("gpt-x-long-2026-11-01", "gpt-x-long"),
        ("gpt-x-long:free", "gpt-x-long"),
        ("gpt-x-lo", "gpt-x"),
        ("openai/gpt-x-long", "gpt-x-long"),  # one namespace segment is dropped
        ("acme/gpt-x-long", "gpt-x-long"),
        ("azure/openai/gpt-x-long", None),  # two are not
        ("GPT-X", None),  # case-sensitive
        ("xgpt-x", None),
        ("", None),
        (None, None),
    ],
)
def test_find_follows_codexs_rules(model, slug) -> None:
    for order in (ENTRIES, ENTRIES[::-1]):
        found = catalog.from_data({"models": order}).find(model)
        assert (found.slug if found else None) == slug


def test_entries_and_lite_slugs() -> None:
    cat = catalog.from_data({"models": ENTRIES}, "test")
    assert cat.slugs == ("gpt-x", "gpt-x-long", "other")
    assert cat.responses_lite_slugs() == {"gpt-x-long"}
    assert cat.uses_responses_lite("vendor/gpt-x-long-1") is True
    assert cat.uses_responses_lite("gpt-x") is False
    assert cat.find("other").experimental_supported_tools == ("clock",)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "test holds no `models` list"),
        ({"data": []}, "test holds no `models` list"),
        ({"models": [{"id": "x"}]}, "test: model 1 has no `slug`"),
    ],
)
def test_not_a_catalog(data, message) -> None:
    with pytest.raises(catalog.CatalogError) as err:
        catalog.from_data(data, "test")
    assert str(err.value) == message


def test_read_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(catalog.CatalogError) as err:
        catalog.read_file(tmp_path / "missing.json")
    assert str(err.value) == f"{tmp_path / 'missing.json'}: No such file or directory"


def _fake_codex(folder: Path, models: list[dict]) -> Path:
    """A `codex` that prints a catalog for `debug models --bundled` and counts its runs."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "catalog.json").write_text(json.dumps({"models": models}))
    script = folder / "codex"
    script.write_text(
        f'#!/bin/sh\necho run >> "{folder}/calls"\n'
        f'[ "$1 $2 $3" = "debug models --bundled" ] && exec cat "{folder}/catalog.json"\nexit 2\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_bundled_is_cached_per_build(paths, tmp_path: Path) -> None:
    binary = _fake_codex(tmp_path / "bin", ENTRIES)
    first = catalog.bundled(paths, binary, "0.171.0")
    second = catalog.bundled(paths, binary, "0.171.0")
    assert first.slugs == second.slugs == ("gpt-x", "gpt-x-long", "other")
    assert (tmp_path / "bin" / "calls").read_text() == "run\n"
    # Another version of the same file, or a rewritten binary: asked again.
    catalog.bundled(paths, binary, "0.172.0")
    assert (tmp_path / "bin" / "calls").read_text() == "run\nrun\n"
    st = binary.stat()
    binary.write_text(binary.read_text() + "\n")
    os.utime(binary, ns=(st.st_atime_ns, st.st_mtime_ns))
    catalog.bundled(paths, binary, "0.172.0")
    assert (tmp_path / "bin" / "calls").read_text() == "run\nrun\nrun\n"


def test_bundled_from_a_binary_without_it(paths, tmp_path: Path) -> None:
    binary = tmp_path / "codex"
    binary.write_text("#!/bin/sh\necho \"error: unrecognized subcommand 'debug'\" >&2\nexit 2\n")
    binary.chmod(0o755)
    with pytest.raises(catalog.CatalogError) as err:
        catalog.bundled(paths, binary, "0.120.0")
    assert (
        str(err.value) == f"`{binary} debug models --bundled` failed (exit 2): error: unrecognized subcommand 'debug'"
    )


# ---------------------------------------------------------------------------- the real Codex


@pytest.mark.codex
def test_codexprovs_view_is_the_binarys_dump(paths, codex_bin: Path, tmp_path: Path) -> None:
    """What codexprov reads (through its cache) is exactly what this release dumps."""
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "CODEX_HOME": str(tmp_path / ".codex")}
    (tmp_path / ".codex").mkdir()
    dump = json.loads(
        subprocess.run(
            [str(codex_bin), "debug", "models", "--bundled"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            timeout=60,
        ).stdout
    )
    for _ in range(2):  # the run that fills the cache, and the cached read
        found = catalog.bundled(paths, codex_bin, "x")
        assert found.data == dump
        assert found.slugs == tuple(m["slug"] for m in dump["models"])
        assert found.responses_lite_slugs() == {m["slug"] for m in dump["models"] if m.get("use_responses_lite")}
        for raw, entry in zip(dump["models"], found.entries, strict=True):
            assert entry.raw == raw
            assert entry.experimental_supported_tools == tuple(raw.get("experimental_supported_tools") or ())


# (config lines above the provider table, [features] lines) x models: request.from_catalog and a
# request captured from the real Codex must agree on every combination gateway setups use.
SETTINGS = {
    "default": ("", ""),
    "web_search off": ('web_search = "disabled"', ""),
    "multi_agent off": ("", "[features]\nmulti_agent = false"),
    "gateway": ('web_search = "disabled"\nmodel_catalog_json = "CATALOG"', "[features]\nmulti_agent = false"),
    "gateway catalog, agents on": ('model_catalog_json = "CATALOG"', ""),
}
MODELS = ("fake-model", "gpt-5.5", "gpt-5.6-sol", "gpt-6.1-sol", "gpt-6.2-sol", "openai/gpt-6.2-sol-2026-11-01")


@pytest.mark.codex
@pytest.mark.parametrize("setting", list(SETTINGS))
def test_catalog_rules_agree_with_the_captured_request(paths, setting, codex_bin: Path, codex_home: Path) -> None:
    from codexprov.codex.capabilities import capabilities
    from codexprov.codex.version import parse_version
    from codexprov.config.document import loads
    from tests.codexrun import codex_version

    version = codex_version(codex_bin)
    caps = capabilities(parse_version(version))
    bundled = catalog.bundled(paths, codex_bin, version)
    gateway_file = codex_home.parent / "gateway-catalog.json"
    gateway_file.parent.mkdir(parents=True, exist_ok=True)
    gateway_file.write_text(bundled.for_server_text(catalog.REQUEST_PARTS), encoding="utf-8")
    top, tail = SETTINGS[setting]
    top = top.replace("CATALOG", str(gateway_file))
    for model in MODELS:
        config = write_minimal_config(codex_home, "http://127.0.0.1:9/v1", model=model)
        config.write_text(top + "\n" + config.read_text() + "\n" + tail + "\n", encoding="utf-8")
        table = loads(config.read_text())["model_providers"]["acme"]
        captured = request.capture(
            codex_bin,
            codex_home,
            "acme",
            table,
            env={"PATH": os.environ["PATH"], "HOME": str(codex_home.parent)},
            model=model,
            version=version,
        )
        assert captured is not None, model
        used = catalog.read_file(gateway_file) if "CATALOG" in SETTINGS[setting][0] else bundled
        effective = loads(config.read_text())
        ours = request.from_catalog(
            model,
            used,
            effective,
            lite_supported=caps.responses_lite,
            unknown_model_reasoning=caps.unknown_model_reasoning,
        )
        assert (model, ours.lite, ours.tool_types) == (model, captured.lite, captured.tool_types)
        assert (model, dict(ours.body)) == (model, dict(captured.body))


def test_entry_for_a_served_model() -> None:
    cat = catalog.from_data({"models": ENTRIES}, "test")
    built = cat.entry_for("acme-large", display_name="Acme Large", context_window=64000)
    assert built == {
        **ENTRIES[0],
        "slug": "acme-large",
        "display_name": "Acme Large",
        "visibility": "list",
        "upgrade": None,
        "context_window": 64000,
        "max_context_window": 64000,
        "use_responses_lite": False,
        "tool_mode": None,
        "multi_agent_version": None,
        "apply_patch_tool_type": None,
        "experimental_supported_tools": [],
    }
    assert cat.entry_for("gpt-x-long-2")["default_reasoning_level"] == "low"  # Codex's own entry for it


@pytest.mark.codex
def test_codex_loads_entries_built_for_served_models(
    paths, codex_bin: Path, codex_home: Path, make_fake_server
) -> None:
    """A catalog of built entries (the picker's, issue 23) is one Codex loads, lists and runs a turn with."""
    from tests.codexrun import codex_version, debug_models, run_codex

    bundled = catalog.bundled(paths, codex_bin, codex_version(codex_bin))
    server = make_fake_server(gateway={"namespace", "web_search", "responses_lite"}, models=["acme-large"])
    file = codex_home / "picker.json"
    config = write_minimal_config(codex_home, server.base_url, model="acme-large")
    file.write_text(
        json.dumps({"models": [bundled.entry_for("acme-large", display_name="Acme Large", context_window=64000)]}),
        encoding="utf-8",
    )
    config.write_text(
        f'model_catalog_json = "{file}"\nweb_search = "disabled"\n'
        + config.read_text()
        + "\n[features]\nmulti_agent = false\n",
        encoding="utf-8",
    )
    models = debug_models(codex_bin, codex_home, {"ACME_API_KEY": "k"})
    assert [m["slug"] for m in models] == ["acme-large"]
    proc = run_codex(codex_bin, codex_home, env_extra={"ACME_API_KEY": "k"}, timeout=90)
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert "pong" in proc.stdout
