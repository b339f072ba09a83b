"""Doctor checks that come from what Codex accepts per version (codexprov.codex): the capabilities
table, gateways that refuse Codex's request shape, providers made by Codex's own editor."""

from __future__ import annotations

from pathlib import Path

import pytest

from codexprov import paths as paths_mod
from codexprov.codex.capabilities import capabilities
from codexprov.codex.version import CodexInfo
from codexprov.doctor.findings import FixKind
from tests.test_doctor_static import doctor, problems

pytestmark = pytest.mark.usefixtures("no_outside_configs")

V165 = CodexInfo(Path("/opt/codex"), (0, 165, 0), capabilities((0, 165, 0)), False)
ENV = {"ACME_KEY": "sk-test-doctor-0123456789abcd"}


def test_capabilities_table_by_version() -> None:
    config = """\
model_provider = "acme"

[model_providers.acme]
name = "Acme"
base_url = "http://127.0.0.1:9/v1"
env_key = "ACME_KEY"

[model_providers.acme.capabilities]
external_web_access = false
cyber_access_programs = true
remote_compaction = "v9"
"""
    report = doctor(config, env=ENV)
    assert problems(report) == [("fail", "provider.capabilities", "acme", 8)]
    assert [f.message for f in report.findings if f.check == "provider.capabilities"] == [
        "[model_providers.acme.capabilities]: capabilities.remote_compaction is 'v9'; Codex takes 'unsupported' or 'v2' (Codex 0.169.0)"
    ]
    older = doctor(None, env=ENV, info=V165)
    assert problems(older) == [
        ("warn", "provider.capabilities", "acme", 8),
        ("fail", "provider.capabilities", "acme", 8),
    ]
    assert [f.message for f in older.findings if f.status == "warn"] == [
        "[model_providers.acme.capabilities]: unknown capabilities: cyber_access_programs (Codex 0.165.0)"
    ]


def test_gateway_without_its_settings_is_flagged_with_the_fix() -> None:
    url = "https://openrouter.ai/api/v1"
    config = f'model = "openai/gpt-5.5"\nmodel_provider = "or"\n\n[model_providers.or]\nname = "OR"\nbase_url = "{url}"\nenv_key = "ACME_KEY"\n'
    report = doctor(config, env=ENV)
    [finding] = [f for f in report.findings if f.check == "provider.gateway-requests"]
    catalog = paths_mod.resolve().codex_home / "codexprov-model-catalog.json"
    assert (finding.status, finding.provider) == ("warn", "or")
    assert finding.message == (
        "`or` is a OpenRouter endpoint, which refuses parts of the requests Codex 0.169.0 sends (the gateway has no "
        "web_search tool, the gateway refuses namespace tools (multi-agent), no Responses-lite requests and no "
        "freeform or namespace tools from the model catalog)"
    )
    assert finding.fix == (
        f'codexprov doctor --fix  (sets web_search = "disabled"; features.multi_agent = false; model_catalog_json = "{catalog}" '
        "in config.toml, and writes the model catalog file)"
    )
    assert (finding.fix_kind, finding.refused) == (
        FixKind.GATEWAY_SETTINGS,
        ("web_search", "namespace", "custom", "responses_lite"),
    )
    fixed = (
        'web_search = "disabled"\nmodel_catalog_json = "/x/catalog.json"\n'
        + config
        + "\n[features]\nmulti_agent = false\n"
    )
    assert [f for f in doctor(fixed, env=ENV).findings if f.check == "provider.gateway-requests"] == []


def test_provider_made_by_codex_editor_is_offered_the_keyring() -> None:
    config = """\
model_provider = "new-gw"

[model_providers.new-gw]
base_url = "http://127.0.0.1:9/v1"
env_key = "ACME_KEY"
name = "New GW"
wire_api = "responses"
"""
    report = doctor(config, env=ENV)
    assert problems(report) == [("warn", "key.editor-env", "new-gw", 5)]
    [finding] = [f for f in report.findings if f.check == "key.editor-env"]
    assert (
        finding.message
        == "`new-gw` looks made by Codex's provider editor: its key sits in the plain environment variable $ACME_KEY"
    )
    assert finding.fix == (
        "codexprov key set new-gw --wire  (stores the key in the OS keyring and points Codex at it; "
        "with the key in $ACME_KEY: printenv ACME_KEY | codexprov key set new-gw --stdin --wire)"
    )
    # codexprov's own --key-mode env tables (name first) are not taken for the editor's
    own = config.replace(
        'base_url = "http://127.0.0.1:9/v1"\nenv_key = "ACME_KEY"\nname = "New GW"\n',
        'name = "New GW"\nbase_url = "http://127.0.0.1:9/v1"\nenv_key = "ACME_KEY"\n',
    )
    assert problems(doctor(own, env=ENV)) == []


def test_a_table_from_a_newer_codex_is_flagged() -> None:
    config = (
        'model_provider = "acme"\n\n[model_providers.acme]\nname = "Acme"\nbase_url = "http://127.0.0.1:9/v1"\n'
        'env_key = "ACME_KEY"\n\n[responses]\nprocess_mode = "streaming"\n'
    )
    v169 = CodexInfo(Path("/opt/codex"), (0, 169, 0), capabilities((0, 169, 0)), False)
    report = doctor(config, env=ENV, info=v169)
    [finding] = [f for f in report.findings if f.check == "config.newer-table"]
    assert (finding.status, finding.line, finding.key) == ("warn", 8, "responses")
    assert finding.message == (
        "[responses] is read from Codex 0.171.0 on; Codex 0.169.0 ignores it (and `codex --strict-config` refuses the file)"
    )
    v171 = CodexInfo(Path("/opt/codex"), (0, 171, 0), capabilities((0, 171, 0)), False)
    assert [f for f in doctor(config, env=ENV, info=v171).findings if f.check == "config.newer-table"] == []
