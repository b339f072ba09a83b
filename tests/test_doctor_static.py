"""`codexprov doctor` static checks (no network): each failure class gives its check id at the
right file:line, and working setups give exit 0 (never cry wolf). Core through `run_doctor`, the
CLI in-process."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from codexprov import paths as paths_mod
from codexprov.codex.capabilities import capabilities
from codexprov.codex.version import CodexInfo
from codexprov.credentials import KeyStore
from codexprov.doctor import Report
from codexprov.errors import KeyringUnavailableError, NotFoundError
from tests import doctoring

KEY = "sk-test-doctor-0123456789abcd"
V169 = CodexInfo(Path("/opt/codex"), (0, 169, 0), capabilities((0, 169, 0)), False)
V133 = CodexInfo(Path("/opt/codex"), (0, 133, 0), capabilities((0, 133, 0)), False)


pytestmark = pytest.mark.usefixtures("no_outside_configs")


def no_keyring():
    raise KeyringUnavailableError("no usable keyring: test")


def doctor(
    config: str | None, *, env: dict[str, str] | None = None, info: CodexInfo = V169, store=None, **kw
) -> Report:
    p = paths_mod.resolve()
    if config is not None:
        p.config_file.write_text(config, encoding="utf-8")
        os.chmod(p.config_file, 0o600)
    base_env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ["HOME"]}
    base_env.update(env or {})
    kw.setdefault("cwd", Path.cwd())
    kw.setdefault("open_store", no_keyring)
    return doctoring.doctor(p, offline=True, codex_info=info, env=base_env, store=store, **kw)


def checks(report: Report, status: str | None = None) -> list[tuple[str, str | None, int | None]]:
    return [(f.check, f.provider, f.line) for f in report.findings if status is None or f.status == status]


def problems(report: Report) -> list[tuple[str, str, str | None, int | None]]:
    return [(f.status, f.check, f.provider, f.line) for f in report.findings if f.status in ("warn", "fail")]


ACME = """\
model = "fake-model"
model_provider = "acme"

[model_providers.acme]
name = "Acme"
base_url = "http://127.0.0.1:9/v1"
"""


def helper(tmp_path: Path, body: str, name: str = "helper") -> Path:
    script = tmp_path / name
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(0o755)
    return script


# ------------------------------------------------------------------------------ working setups


def test_env_key_set_is_healthy() -> None:
    report = doctor(ACME + 'env_key = "ACME_API_KEY"\nwire_api = "responses"\n', env={"ACME_API_KEY": KEY})
    assert problems(report) == []
    assert report.exit_code == 0
    assert report.providers == ("acme",)
    messages = [f.message for f in report.findings if f.check == "key.source"]
    assert messages == ["key from $ACME_API_KEY (sk-…abcd)"]


def test_auth_command_that_prints_a_token_is_healthy_and_runs_with_args_and_cwd(
    tmp_path: Path, codex_home: Path
) -> None:
    script = helper(tmp_path, 'pwd > "$0.cwd"; echo "  $1-$2-0123456789  "')
    report = doctor(
        ACME + f'\n[model_providers.acme.auth]\ncommand = "{script}"\nargs = ["tok", "x"]\ntimeout_ms = 3000\n'
    )
    assert problems(report) == []
    assert Path(str(script) + ".cwd").read_text().strip() == str(codex_home)
    assert [f.message for f in report.findings if f.check == "key.source"] == [
        f"key from the auth command `{script} tok x` (tok-…6789)"
    ]


def test_relative_auth_command_resolves_against_its_cwd(tmp_path: Path) -> None:
    helper(tmp_path, "echo sk-relative-0123456789", "tok.sh")
    report = doctor(ACME + f'\n[model_providers.acme.auth]\ncommand = "./tok.sh"\ncwd = "{tmp_path}"\n')
    assert problems(report) == []


def test_no_auth_local_server_azure_query_params_path_prefix_comments_and_unrelated_tables() -> None:
    config = """\
# my setup
approval_policy = "never"  # trailing comment
model = "dep-1"
model_provider = "az"

[projects."/tmp"]
trust_level = "trusted"

[model_providers.az]  # Azure-style
name = "Azure"
base_url = "https://res-1.openai.azure.com/openai"
env_key = "AZ_KEY"
query_params = { api-version = "2025-04-01-preview" }

[model_providers.local]
name = "Local"
base_url = "http://127.0.0.1:8080/api/paas/v4/"
request_max_retries = 0

[model_providers.azv1]
name = "Azure v1"
base_url = "https://res-1.openai.azure.com/openai/v1"
env_key = "AZ_KEY"

[shell_environment_policy]
inherit = "core"
"""
    report = doctor(config, env={"AZ_KEY": "azkey-0123456789abcdef"})
    # Two providers reading one variable share one key: said, never failed (it may be intended).
    # The active one is an Azure endpoint without the settings that keep Codex's tool types and
    # Responses-lite requests away from it (tests/test_doctor_codex_rules.py): a warning.
    assert problems(report) == [
        ("warn", "provider.env-key-shared", "az", 12),
        ("warn", "provider.env-key-shared", "azv1", 23),
        ("warn", "provider.gateway-requests", "az", None),
    ]
    assert report.exit_code == 0
    assert report.providers == ("az", "local", "azv1")


def test_keyring_token_auth_with_a_stored_key_is_healthy(memory_keyring) -> None:
    from codexprov.credentials import token_auth

    auth = token_auth("acme")
    memory_keyring.set_password("codexprov", "acme", KEY)
    report = doctor(
        ACME
        + f"\n[model_providers.acme.auth]\ncommand = {json.dumps(auth.command)}\nargs = {json.dumps(list(auth.args))}\n",
        store=KeyStore(memory_keyring),
    )
    assert problems(report) == []
    assert [f.message for f in report.findings if f.check == "key.source"] == ["key from the OS keyring (sk-…abcd)"]


def test_builtin_partial_provider_with_allowed_fields_is_healthy() -> None:
    report = doctor(
        'model_provider = "amazon-bedrock"\n\n[model_providers.amazon-bedrock]\naws = { profile = "dev", region = "us-east-1" }\n'
    )
    assert problems(report) == []


def test_provider_defined_in_the_system_config_counts(tmp_path: Path) -> None:
    system = tmp_path / "etc" / "codex" / "config.toml"
    system.parent.mkdir(parents=True)
    system.write_text('[model_providers.corp]\nname = "Corp"\nbase_url = "http://127.0.0.1:9/v1"\n')
    report = doctor('model_provider = "corp"\n', system_config=system)
    assert problems(report) == []
    assert report.providers == ("corp",)


# ------------------------------------------------------------------------------ failures


BROKEN = [
    # (config, env, expected (status, check, provider, line))
    (ACME + 'wire_api = "chat"\n', {}, ("fail", "provider.wire-api", "acme", 7)),
    (ACME.replace("acme", "ollama"), {}, ("fail", "provider.reserved-id", "ollama", 4)),
    ('model_provider = "acmee"\n' + ACME.split("\n", 2)[2], {}, ("fail", "config.model-provider", None, 1)),
    (ACME + 'env_key = "ACME_API_KEY"\n', {}, ("fail", "key.env-missing", "acme", 7)),
    (ACME + 'env_key = "ACME_API_KEY"\n', {"ACME_API_KEY": "  "}, ("fail", "key.env-missing", "acme", 7)),
    (ACME + f'api_key = "{KEY}"\n', {}, ("fail", "provider.unknown-key", "acme", 7)),
    (ACME + 'envKey = "ACME_API_KEY"\n', {}, ("fail", "provider.unknown-key", "acme", 7)),
    (
        ACME + '\n[model_providers.acme.auth]\ncommand = "no-such-token-helper"\n',
        {},
        ("fail", "key.auth-command", "acme", 8),
    ),
    (ACME.replace('name = "Acme"\n', ""), {}, ("fail", "provider.name", "acme", 4)),
    (ACME.replace("/v1", "/v1/responses"), {}, ("fail", "provider.base-url-endpoint", "acme", 6)),
    (ACME.replace("/v1", "/v1/chat/completions"), {}, ("fail", "provider.base-url-endpoint", "acme", 6)),
    (ACME.replace("http://127.0.0.1:9/v1", "127.0.0.1:9/v1"), {}, ("fail", "provider.base-url-scheme", "acme", 6)),
    (
        ACME.replace("http://127.0.0.1:9/v1", "https://res.openai.azure.com/v1"),
        {},
        ("fail", "provider.azure-path", "acme", 6),
    ),
    (
        ACME.replace("http://127.0.0.1:9/v1", "https://res.openai.azure.com/openai"),
        {},
        ("fail", "provider.azure-api-version", "acme", 6),
    ),
    (
        ACME + 'env_key = "K"\n\n[model_providers.acme.auth]\ncommand = "x"\n',
        {"K": "v"},
        ("fail", "provider.auth-conflict", "acme", 9),
    ),
    (
        'model_provider = "gcp"\n\n[model_providers.gcp]\nname = "G"\nproject_id = "p"\n',
        {},
        ("fail", "provider.builtin-fields", "gcp", 4),
    ),
    ('profile = "work"\n' + ACME, {}, ("fail", "profile.legacy-default", None, 1)),
]


@pytest.mark.parametrize("config, env, expected", BROKEN, ids=[f"{b[2][1]}-{i}" for i, b in enumerate(BROKEN)])
def test_each_failure_class_fails_with_its_check_id_and_line(config, env, expected) -> None:
    report = doctor(config, env=env)
    assert expected in problems(report), problems(report)
    assert report.exit_code == 1


def test_config_error_fails_with_line_and_nothing_else_is_claimed(config_file: Path) -> None:
    report = doctor('model = "a"\nmodel = "b"\n')
    assert problems(report) == [("fail", "config.duplicate-key", None, 2)]
    assert report.findings[1].fixable is True
    report = doctor('[model_providers.a]\nname = "A"\n\n[model_providers.a]\nbase_url = "x"\n')
    assert problems(report) == [("fail", "config.duplicate-table", None, 4)]
    report = doctor('model = "a\n')
    assert problems(report) == [("fail", "config.invalid", None, 1)]


def test_unknown_key_beside_a_real_key_source_only_warns() -> None:
    report = doctor(ACME + 'env_key = "K"\nbase-url = "http://x/v1"\nheaders = { a = "b" }\n', env={"K": "v" * 12})
    assert problems(report) == [
        ("warn", "provider.unknown-key", "acme", 8),
        ("warn", "provider.unknown-key", "acme", 9),
    ]
    messages = [f.message for f in report.findings if f.check == "provider.unknown-key"]
    assert messages == [
        "`base-url` is not a provider field; Codex ignores it (did you mean `base_url`?)",
        "`headers` is not a provider field; Codex ignores it (did you mean `http_headers`?)",
    ]
    assert report.exit_code == 0


def test_auth_command_failing_or_timing_out(tmp_path: Path) -> None:
    failing = helper(tmp_path, "echo 'vault is sealed' >&2; exit 3", "failing")
    report = doctor(ACME + f'\n[model_providers.acme.auth]\ncommand = "{failing}"\n')
    [finding] = [f for f in report.findings if f.check == "key.auth-command"]
    assert finding.message == f"the auth command `{failing}` exited with status 3 (vault is sealed): Codex gets no key"
    slow = helper(tmp_path, "sleep 5; echo late-token-0123456789", "slow")
    report = doctor(ACME + f'\n[model_providers.acme.auth]\ncommand = "{slow}"\ntimeout_ms = 300\n')
    [finding] = [f for f in report.findings if f.check == "key.auth-command"]
    assert finding.message == f"the auth command `{slow}` did not finish within its timeout (300 ms): Codex gets no key"
    empty = helper(tmp_path, "true", "empty")
    report = doctor(ACME + f'\n[model_providers.acme.auth]\ncommand = "{empty}"\n')
    assert [f.message for f in report.findings if f.check == "key.auth-command"] == [
        f"the auth command `{empty}` printed nothing: Codex gets no key"
    ]


def test_keyring_missing_entry_and_unusable_keyring(memory_keyring) -> None:
    from codexprov.credentials import token_auth

    auth = token_auth("acme")
    config = (
        ACME
        + f"\n[model_providers.acme.auth]\ncommand = {json.dumps(auth.command)}\nargs = {json.dumps(list(auth.args))}\n"
    )
    report = doctor(config, store=KeyStore(memory_keyring))
    assert problems(report) == [("fail", "key.keyring-missing", "acme", 8)]
    assert report.findings[-1].fix == "codexprov key set acme"
    report = doctor(config)  # open_store raises
    assert problems(report) == [("fail", "key.keyring-unavailable", "acme", 8)]


def test_plaintext_keys_warn_and_never_show_the_key(config_file: Path) -> None:
    report = doctor(ACME + f'experimental_bearer_token = "{KEY}"\nhttp_headers = {{ "api-key" = "{KEY}" }}\n')
    assert problems(report) == [("warn", "key.plaintext", "acme", 7), ("warn", "key.plaintext", "acme", 8)]
    assert KEY not in json.dumps(report.to_json())
    assert report.exit_code == 0
    os.chmod(config_file, 0o644)
    report = doctor(None)
    assert ("warn", "config.permissions", None, None) in problems(report)


def test_legacy_profiles_and_profile_files_per_version(codex_home: Path) -> None:
    config = ACME + '\n[profiles.work]\nmodel_provider = "nope"\n'
    report = doctor(config)
    assert problems(report) == [("warn", "profile.legacy-tables", None, 8)]
    report = doctor(config, info=V133)
    assert problems(report) == [("fail", "config.model-provider", None, 9)]
    (codex_home / "fast.config.toml").write_text('model_provider = "acmee"\nmodel = "m"\n')
    report = doctor(ACME)
    assert problems(report) == [("fail", "config.model-provider", None, 1)]
    assert report.findings[-1].file == str(codex_home / "fast.config.toml")
    (codex_home / "fast.config.toml").write_text(
        'model_provider = "own"\n[model_providers.own]\nname = "O"\nbase_url = "http://127.0.0.1:9"\nwire_api = "chat"\n'
    )
    assert problems(doctor(None)) == [("fail", "provider.wire-api", "own", 5)]


def test_project_config_and_wrong_location_warn(tmp_path: Path, isolated_home: Path) -> None:
    project = Path.cwd() / ".codex"
    project.mkdir()
    (project / "config.toml").write_text('model = "m"\nmodel_provider = "acme"\n')
    (isolated_home / ".config" / "codex").mkdir(parents=True)
    (isolated_home / ".config" / "codex" / "config.toml").write_text("model = 'x'\n")
    report = doctor(ACME)
    assert problems(report) == [
        ("warn", "config.wrong-location", None, None),
        ("warn", "config.project-ignored", None, 2),
    ]
    assert report.exit_code == 0


def test_provider_argument_limits_the_checks() -> None:
    config = ACME + 'wire_api = "chat"\n\n[model_providers.other]\nname = "O"\nbase_url = "http://127.0.0.1:9/v1"\n'
    report = doctor(config, provider="other")
    assert report.providers == ("other",)
    assert problems(report) == []
    with pytest.raises(NotFoundError, match="no provider `nope`"):
        doctor(None, provider="nope")


def test_codex_not_installed_warns_and_assumes_the_newest() -> None:
    info = CodexInfo(None, None, capabilities(None), True, "no `codex` found on PATH")
    report = doctor(ACME, info=info)
    assert problems(report) == [("warn", "codex.installed", None, None)]
    assert report.exit_code == 0


def test_targets_carry_resolved_keys_headers_and_model(tmp_path: Path) -> None:
    from codexprov.doctor import build_targets, static
    from codexprov.doctor.layers import load_layers

    config = (
        ACME
        + 'env_key = "K"\nquery_params = { v = "1" }\nhttp_headers = { "X-Org" = "o" }\nenv_http_headers = { "X-P" = "P", "X-Q" = "Q" }\n'
    )
    p = paths_mod.resolve()
    p.config_file.write_text(config)
    env = {"K": KEY, "P": "pv", "PATH": os.environ["PATH"], "HOME": os.environ["HOME"]}
    layers, _ = load_layers(p, env=env, cwd=None, system_config=tmp_path / "none")
    result = static.run_static(p, layers, V169, env=env, open_store=no_keyring)
    [target] = build_targets(result, env)
    assert target.id == "acme" and target.base_url == "http://127.0.0.1:9/v1" and target.model == "fake-model"
    assert target.query_params == {"v": "1"}
    assert target.headers == {"X-Org": "o", "X-P": "pv", "Authorization": f"Bearer {KEY}"}
    assert target.has_key is True
    assert KEY not in repr(result)


# ------------------------------------------------------------------------------ CLI


def test_cli_exit_codes_json_and_escaped_output(run_cli, config_file: Path) -> None:
    config_file.write_text(ACME + 'wire_api = "chat"\n')
    result = run_cli("doctor", "--offline", "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["status"] == "fail"
    assert data["providers"] == ["acme"]
    wire = [f for f in data["findings"] if f["check"] == "provider.wire-api"]
    assert wire == [
        {
            "check": "provider.wire-api",
            "status": "fail",
            "message": "wire_api = \"chat\": Codex 0.171.0 accepts only 'responses' and refuses to load the config",
            "provider": "acme",
            "file": str(config_file),
            "line": 7,
            "fix": 'codexprov doctor --fix  (sets wire_api = "responses" in [model_providers.acme])',
            "fixable": True,
            "key": "wire_api",
            "fix_kind": "set-wire-api",
            "scope": "used",
        }
    ]
    text = run_cli("doctor", "--offline")
    assert text.exit_code == 1
    assert "provider acme (active)\n" in text.stdout
    assert '      fix: codexprov doctor --fix  (sets wire_api = "responses" in [model_providers.acme])\n' in text.stdout
    assert (
        f"  ✗ wire_api = \"chat\": Codex 0.171.0 accepts only 'responses' and refuses to load the config ({config_file}:7)\n"
        in text.stdout
    )
    assert text.stdout.endswith("FAIL: 1 failed, 1 warning, 1 ok\n")


def test_cli_exit_zero_and_usage_errors(run_cli, config_file: Path) -> None:
    config_file.write_text(ACME)
    result = run_cli("doctor", "--offline")
    assert result.exit_code == 0, result.stdout
    assert run_cli("doctor", "--offline", "--live").exit_code == 2
    assert run_cli("doctor", "--offline", "--timeout", "0").exit_code == 2
    assert run_cli("doctor", "--bogus").exit_code == 2
    missing = run_cli("doctor", "nope", "--offline")
    assert missing.exit_code == 4
    assert "no provider `nope`" in missing.stderr


def test_a_registered_table_check_runs_on_every_custom_table() -> None:
    """Adding a check is one decorated function: it runs on config.toml's tables, with locations."""
    from codexprov.doctor import context

    def no_foo(ctx, provider) -> None:
        if "foo" in provider.table:
            file, line, _ = provider.where("foo")
            ctx.add("provider.foo", "warn", "foo is set", provider=provider.id, file=file, line=line)

    context.table_check(no_foo)
    try:
        report = doctor(ACME + 'foo = "1"\n')
    finally:
        context.TABLE_CHECKS.remove(no_foo)
    assert ("warn", "provider.foo", "acme", 7) in problems(report)
