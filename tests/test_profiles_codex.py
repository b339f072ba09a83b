"""Profiles against the real Codex CLI, both forms: 0.169.0 reads NAME.config.toml, 0.133.0 [profiles.NAME].

For each version, first on PATH (codexprov finds it there and writes the form it reads): `add custom`,
`profile add local`, then `codex exec -p local` finishes a turn against the fake server; `use --profile
local`, then a plain `codex exec` does; `use --profile nope` is refused and changes nothing. A legacy
setup migrated by `profile migrate` loads in 0.169.0 with --strict-config, `-p NAME` works, and the old
default still applies.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.codexrun import run_codex

pytestmark = pytest.mark.codex

KEY = "sk-test-profiles-0123456789"


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(params=["codex_bin", "codex_bin_0133"])
def codex_first_on_path(request, monkeypatch) -> Path:
    binary = request.getfixturevalue(request.param)
    monkeypatch.setenv("PATH", f"{binary.parent}:{os.environ['PATH']}")
    return binary


def test_profile_add_use_and_refusal(codex_first_on_path, run_cli, codex_home, make_fake_server):
    codex = codex_first_on_path
    server = make_fake_server(expected_key=KEY)
    added = run_cli(
        "add",
        "custom",
        "--id",
        "acme",
        "--base-url",
        server.base_url,
        "--key-mode",
        "env",
        "--env-key",
        "ACME_API_KEY",
        "--yes",
    )
    assert added.exit_code == 0, added.stderr
    made = run_cli("profile", "add", "local", "--provider", "acme", "--model", "fake-model")
    assert made.exit_code == 0, made.stderr
    table_form = "0.133.0" in str(codex)
    config = (codex_home / "config.toml").read_text()
    if table_form:
        assert config.endswith('\n[profiles.local]\nmodel_provider = "acme"\nmodel = "fake-model"\n')
        assert not (codex_home / "local.config.toml").exists()
    else:
        assert "[profiles" not in config
        assert (
            (codex_home / "local.config.toml").read_text().endswith('model_provider = "acme"\nmodel = "fake-model"\n')
        )

    env = {"ACME_API_KEY": KEY}
    proc = run_codex(codex, codex_home, args=("-p", "local"), env_extra=env, timeout=90)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "pong" in proc.stdout
    turns = server.requests_to("/responses", "POST")
    assert len(turns) == 1 and turns[0].body["model"] == "fake-model"

    used = run_cli("use", "--profile", "local")
    assert used.exit_code == 0, used.stderr
    config = (codex_home / "config.toml").read_text()
    if table_form:
        assert 'profile = "local"\n' in config
    else:
        assert config.startswith('model_provider = "acme"\nmodel = "fake-model"\n')
    listing = run_cli("profile", "list", "--json")
    assert '"active": "local"' in listing.stdout
    proc = run_codex(codex, codex_home, env_extra=env, timeout=90)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "pong" in proc.stdout
    assert len(server.requests_to("/responses", "POST")) == 2

    before = files(codex_home)
    refused = run_cli("use", "--profile", "nope")
    assert refused.exit_code == 4
    assert refused.stderr.startswith("error: no profile `nope`")
    assert files(codex_home) == before


LEGACY = """\
# legacy setup, written for Codex <= 0.133
model = "gpt-5"
profile = "work"

[model_providers.acme]
name = "Acme"
base_url = "{base_url}"
env_key = "ACME_API_KEY"
wire_api = "responses"

# the default: Acme's work model
[profiles.work]
model_provider = "acme"
model = "work-model" # the one we pay for

[profiles.other]
model_provider = "acme"
model = "other-model"
"""


def test_migrated_legacy_setup_loads_in_0169(codex_bin, run_cli, codex_home, make_fake_server):
    from codexprov.codex.capabilities import capabilities
    from codexprov.codex.version import parse_version
    from tests.codexrun import codex_version

    if capabilities(parse_version(codex_version(codex_bin))).profile_form == "table":
        pytest.skip("this Codex reads the legacy form (bench/codex_matrix.py runs older versions)")
    server = make_fake_server(expected_key=KEY)
    (codex_home / "config.toml").write_text(LEGACY.format(base_url=server.base_url))
    env = {"ACME_API_KEY": KEY}
    proc = run_codex(codex_bin, codex_home, env_extra=env, timeout=90)
    assert proc.returncode == 1
    assert 'legacy `profile = "work"` config is no longer supported' in proc.stderr

    migrated = run_cli("--codex", str(codex_bin), "profile", "migrate", "--yes")
    assert migrated.exit_code == 0, migrated.stderr
    assert (codex_home / "work.config.toml").read_text() == (
        '# the default: Acme\'s work model\nmodel_provider = "acme"\nmodel = "work-model" # the one we pay for\n'
    )
    assert (codex_home / "other.config.toml").read_text() == 'model_provider = "acme"\nmodel = "other-model"\n'

    proc = run_codex(codex_bin, codex_home, env_extra=env, timeout=90)  # strict by default
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert server.requests_to("/responses", "POST")[-1].body["model"] == "work-model"

    proc = run_codex(codex_bin, codex_home, args=("-p", "other"), env_extra=env, timeout=90)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert server.requests_to("/responses", "POST")[-1].body["model"] == "other-model"
    assert len(server.requests_to("/responses", "POST")) == 2
