"""`add` writes what the installed Codex reads (codex_version capabilities)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest


def _fake_codex(tmp_path: Path, version: str) -> Path:
    script = tmp_path / f"codex-{version}"
    script.write_text(f"#!/bin/sh\necho 'codex-cli {version}'\n")
    script.chmod(0o755)
    return script


@pytest.mark.codex
def test_vertex_on_a_codex_without_gcp_builtin_writes_a_custom_provider(
    run_cli, config_file: Path, codex_bin_0133: Path
) -> None:
    result = run_cli(
        "--codex",
        str(codex_bin_0133),
        "add",
        "vertex",
        "--param",
        "project=my-project-123",
        "--param",
        "location=us-central1",
        "--yes",
    )
    assert result.exit_code == 0, result.stderr
    table = tomllib.loads(config_file.read_text())["model_providers"]["vertex"]
    assert table["auth"]["command"] == "gcloud"
    assert "gcp" not in tomllib.loads(config_file.read_text())["model_providers"]


@pytest.mark.codex
def test_vertex_on_current_codex_configures_the_gcp_builtin(run_cli, config_file: Path, codex_bin: Path) -> None:
    from codexprov.codex.capabilities import capabilities
    from codexprov.codex.version import parse_version
    from tests.codexrun import codex_version

    if "project_id" not in (capabilities(parse_version(codex_version(codex_bin))).builtin_fields("gcp") or ()):
        pytest.skip("the gcp built-in takes a project from 0.166 on")
    result = run_cli(
        "--codex",
        str(codex_bin),
        "add",
        "vertex",
        "--param",
        "project=my-project-123",
        "--param",
        "location=us-central1",
        "--yes",
    )
    assert result.exit_code == 0, result.stderr
    providers = tomllib.loads(config_file.read_text())["model_providers"]
    assert list(providers) == ["gcp"]
    assert providers["gcp"]["project_id"] == "my-project-123"


def test_keyring_mode_refused_on_a_codex_without_auth_commands(run_cli, config_file: Path, tmp_path: Path) -> None:
    old = _fake_codex(tmp_path, "0.110.0")
    result = run_cli(
        "--codex",
        str(old),
        "add",
        "custom",
        "--id",
        "x",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--key-mode",
        "keyring",
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "error: Codex 0.110.0 cannot fetch keys with an auth command (Codex 0.118.0 and newer can), so it cannot read the keyring"
    )
    assert not config_file.exists()


def test_reserved_runtime_id_refused(run_cli, config_file: Path) -> None:
    result = run_cli(
        "add", "custom", "--id", "amazon-bedrock-runtime", "--base-url", "http://127.0.0.1:9/v1", "--key-mode", "none"
    )
    assert result.exit_code == 5
    assert not config_file.exists()


def test_vertex_on_0165_whose_gcp_builtin_takes_no_project_writes_a_custom_provider(
    run_cli, config_file: Path, tmp_path: Path
) -> None:
    codex = _fake_codex(tmp_path, "0.165.0")
    result = run_cli(
        "--codex",
        str(codex),
        "add",
        "vertex",
        "--param",
        "project=my-project-123",
        "--param",
        "location=us-central1",
        "--yes",
    )
    assert result.exit_code == 0, result.stderr
    providers = tomllib.loads(config_file.read_text())["model_providers"]
    assert list(providers) == ["vertex"]
    assert providers["vertex"]["auth"]["command"] == "gcloud"
    assert "this Codex has no built-in `gcp` provider that takes a project (0.166 and newer have)" in result.stderr
