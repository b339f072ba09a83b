"""Display names Codex takes for its built-ins, asked from the real binary: `add` refuses or renames
them, `doctor` flags an existing one (agreeing with a real Codex turn) and `--fix` renames it."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from codexprov import paths as paths_mod
from codexprov.codex import names
from codexprov.codex.capabilities import capabilities
from codexprov.codex.version import parse_version
from tests.codexrun import codex_version, run_codex, write_minimal_config

pytestmark = [pytest.mark.codex, pytest.mark.usefixtures("no_outside_configs")]
KEY = "sk-test-names-0123456789"
CANDIDATES = ["Google Cloud Vertex AI", "Amazon Bedrock", "OpenAI", "google cloud vertex ai", "Vertex", "Acme"]


def test_the_binary_says_which_names_are_taken(codex_bin: Path, isolated_home) -> None:
    paths = paths_mod.resolve()
    caps = capabilities(parse_version(codex_version(codex_bin)))
    expected = {"Amazon Bedrock", "OpenAI"} | ({"Google Cloud Vertex AI"} if caps.version >= (0, 165, 0) else set())
    assert names.builtin_display_names(paths, CANDIDATES, binary=codex_bin, caps=caps) == expected
    # asked from the binary from 0.169 (modelProvider/list), cached; older releases: the probed table
    assert names.builtin_display_names(paths, CANDIDATES, binary=codex_bin, caps=caps) == expected
    assert bool(list(paths.cache_dir.glob("codex-names-*.json"))) is caps.provider_editor


def test_add_refuses_a_builtins_name(run_cli, codex_bin: Path, config_file: Path) -> None:
    result = run_cli(
        "--codex",
        str(codex_bin),
        "add",
        "custom",
        "--id",
        "vtx",
        "--name",
        "Google Cloud Vertex AI",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--key-mode",
        "env",
        "--yes",
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "error: --name 'Google Cloud Vertex AI' is the display name of a Codex built-in; "
        "Codex would treat this provider as it"
    )
    assert not config_file.exists()


@pytest.mark.parametrize("name", ["Google Cloud Vertex AI", "Amazon Bedrock"])
def test_doctor_flags_what_codex_does_and_fix_renames(
    name, run_cli, codex_bin: Path, codex_home: Path, make_fake_server, monkeypatch
) -> None:
    caps = capabilities(parse_version(codex_version(codex_bin)))
    if name not in names.builtin_display_names(paths_mod.resolve(), [name], binary=codex_bin, caps=caps):
        pytest.skip(f"Codex {codex_version(codex_bin)} does not take {name!r} for a built-in")
    server = make_fake_server(expected_key=KEY)
    config = write_minimal_config(codex_home, server.base_url)
    config.write_text(config.read_text().replace('name = "Acme"', f"name = {json.dumps(name)}"), encoding="utf-8")
    proc = run_codex(codex_bin, codex_home, env_extra={"ACME_API_KEY": KEY}, timeout=90)
    assert proc.returncode == 1  # Codex signs it as Bedrock / Vertex: no request reaches the server
    assert server.requests_to("/responses", "POST") == []

    monkeypatch.setenv("ACME_API_KEY", KEY)
    report = run_cli("--codex", str(codex_bin), "doctor", "--offline", "--json")
    assert report.exit_code == 1
    [finding] = [f for f in json.loads(report.stdout)["findings"] if f["check"] == "provider.builtin-name"]
    version = codex_version(codex_bin)
    assert (finding["status"], finding["provider"], finding["line"], finding["fix_kind"]) == (
        "fail",
        "acme",
        5,
        "rename-display-name",
    )
    assert finding["message"] == (
        f"[model_providers.acme] is named {name!r}, which Codex {version} takes for its built-in provider: "
        "it authenticates the provider as that one, not with its own key"
    )
    fixed = run_cli("--codex", str(codex_bin), "doctor", "--offline", "--fix", "--yes")
    assert fixed.exit_code == 0, fixed.stdout
    table = tomllib.loads(config.read_text(encoding="utf-8"))["model_providers"]["acme"]
    assert table["name"] == f"{name} (custom)"
    proc = run_codex(codex_bin, codex_home, env_extra={"ACME_API_KEY": KEY}, timeout=90)
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert "pong" in proc.stdout
