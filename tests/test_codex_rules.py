"""codex.rules: the one answer to "may a custom provider use this id?" and "why would Codex refuse
this table?", per Codex version."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from codexprov.codex.capabilities import capabilities
from codexprov.codex.rules import Refusal, custom_id_refusal, table_refusals

V110 = capabilities((0, 110, 0))
V133 = capabilities((0, 133, 0))
V165 = capabilities((0, 165, 0))
V169 = capabilities((0, 169, 0))


@pytest.mark.parametrize(
    ("pid", "caps", "refused"),
    [
        ("ollama", V110, False),  # no reserved ids before 0.115: a table overrides the built-in
        ("ollama", V133, True),
        ("openai", V169, True),
        ("lmstudio", V169, True),
        ("gcp", V133, False),  # an ordinary id before the built-in arrived in 0.165
        ("gcp", V165, True),
        ("amazon-bedrock", V110, False),
        ("amazon-bedrock", V133, True),
        ("amazon-bedrock-runtime", V133, False),
        ("amazon-bedrock-runtime", V169, True),
        ("acme", V169, False),
        ("oss", V169, False),
    ],
)
def test_custom_id_refusal_by_version(pid, caps, refused):
    assert (custom_id_refusal(pid, caps) is not None) is refused


def test_custom_id_refusal_texts():
    assert custom_id_refusal("ollama", V169) == Refusal(
        "reserved-id", "'ollama' is a Codex built-in provider id; a custom provider cannot use it"
    )
    assert custom_id_refusal("gcp", V165) == Refusal(
        "reserved-id",
        "'gcp' is a Codex built-in provider id; a custom provider cannot use it (its table takes only base_url, auth, http_headers)",
    )


def test_table_refusals_custom_table_ok():
    table = {"name": "Acme", "base_url": "http://127.0.0.1:1/v1", "env_key": "ACME_API_KEY", "wire_api": "responses"}
    assert table_refusals("acme", table, V169) == []


def test_table_refusals_lists_every_problem():
    table = {
        "name": "",
        "wire_api": "chat",
        "bogus": 1,
        "aws": {"profile": "p"},
        "env_key": "K",
        "auth": {"command": "x"},
        "http_headers": {"X": 1},
    }
    assert table_refusals("acme", table, V169) == [
        Refusal("name", "provider name must not be empty", "name"),
        Refusal("wire-api", "wire_api is 'chat'; this Codex accepts only 'responses'", "wire_api"),
        Refusal("unknown-field", "unknown fields: bogus", "bogus", load_error=False),
        Refusal("aws-field", "`aws` is only accepted for the amazon-bedrock built-ins", "aws"),
        Refusal("auth-conflict", "auth cannot be combined with env_key", "auth"),
        Refusal("type", "http_headers must map strings to strings", "http_headers"),
    ]


def test_table_refusals_fields_are_versioned():
    table = {"name": "Acme", "base_url": "http://x/v1", "capabilities": {}, "project_id": "p"}
    assert table_refusals("acme", table, V169) == []
    assert table_refusals("acme", table, V165) == [
        Refusal("unknown-field", "unknown fields: project_id", "project_id", load_error=False)
    ]
    assert table_refusals("acme", table, V133) == [
        Refusal("unknown-field", "unknown fields: capabilities, project_id", "capabilities", load_error=False)
    ]


def test_table_refusals_builtins():
    assert table_refusals("ollama", {"name": "x"}, V169)[0].kind == "reserved-id"
    assert table_refusals("ollama", {"name": "x", "base_url": "http://x/v1"}, V110) == []
    assert table_refusals("gcp", {"project_id": "p"}, V169) == []
    assert table_refusals("gcp", {"project_id": "p"}, V165) == [
        Refusal("builtin-fields", "fields the gcp built-in does not accept: project_id", "project_id")
    ]
    assert table_refusals("amazon-bedrock", {"aws": {"profile": "p", "bogus": "x"}, "name": "B"}, V169) == [
        Refusal("builtin-fields", "fields the amazon-bedrock built-in does not accept: name, aws.bogus", "name")
    ]
    assert table_refusals("acme", {"name": "Amazon Bedrock"}, V169) == [
        Refusal(
            "builtin-name",
            "name 'Amazon Bedrock' makes Codex treat the provider as its built-in",
            "name",
            load_error=False,
        )
    ]


def _fake_codex(tmp_path: Path, version: str) -> Path:
    script = tmp_path / f"codex-{version}"
    script.write_text(f"#!/bin/sh\necho 'codex-cli {version}'\n")
    script.chmod(0o755)
    return script


def test_add_custom_under_ollama_on_a_codex_before_reserved_ids(run_cli, config_file: Path, tmp_path: Path) -> None:
    """Regression: Codex 0.110 (and codexprov's doctor) accept [model_providers.ollama]; add refused it."""
    old = _fake_codex(tmp_path, "0.110.0")
    result = run_cli(
        "--codex",
        str(old),
        "add",
        "custom",
        "--id",
        "ollama",
        "--base-url",
        "http://127.0.0.1:11434/v1",
        "--key-mode",
        "none",
    )
    assert result.exit_code == 0, result.stderr
    assert tomllib.loads(config_file.read_text())["model_providers"] == {
        "ollama": {"name": "ollama", "base_url": "http://127.0.0.1:11434/v1", "wire_api": "responses"}
    }
    doctor = run_cli("--codex", str(old), "doctor", "--offline", "--json")
    assert "provider.reserved-id" not in doctor.stdout


def test_add_custom_under_ollama_refused_on_current_codex(run_cli, config_file: Path, tmp_path: Path) -> None:
    new = _fake_codex(tmp_path, "0.169.0")
    result = run_cli(
        "--codex",
        str(new),
        "add",
        "custom",
        "--id",
        "ollama",
        "--base-url",
        "http://127.0.0.1:11434/v1",
        "--key-mode",
        "none",
    )
    assert result.exit_code == 5
    assert (
        result.stderr.splitlines()[0]
        == "error: 'ollama' is a Codex built-in provider id; a custom provider cannot use it"
    )
    assert not config_file.exists()


def test_capabilities_subtable_is_versioned():
    table = {"name": "Acme", "capabilities": {"external_web_access": False, "cyber_access_programs": True}}
    assert table_refusals("acme", table, V169) == []
    assert table_refusals("acme", table, V165) == [
        Refusal(
            "unknown-field",
            "unknown capabilities: cyber_access_programs",
            "capabilities.cyber_access_programs",
            load_error=False,
        )
    ]
    assert table_refusals("acme", table, capabilities((0, 160, 0))) == [
        Refusal("unknown-field", "unknown fields: capabilities", "capabilities", load_error=False)
    ]
    bad = {"name": "Acme", "capabilities": {"remote_compaction": "v3"}}
    assert table_refusals("acme", bad, V169) == [
        Refusal(
            "type",
            "capabilities.remote_compaction is 'v3'; Codex takes 'unsupported' or 'v2'",
            "capabilities.remote_compaction",
        )
    ]
