"""`codexprov doctor --fix`: each safe fix as an engine transaction, exact bytes before and after,
refusal without a terminal or --yes, and undo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codexprov.doctor.fix import find_duplicate, remove_duplicate

KEY = "sk-test-doctor-fix-0123456789"


@pytest.fixture(autouse=True)
def _sealed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEXPROV_SYSTEM_CONFIG", str(tmp_path / "no-etc" / "config.toml"))
    work = tmp_path / "work"
    work.mkdir()
    (work / ".git").mkdir()
    monkeypatch.chdir(work)


ACME = """\
# providers
model = "m"
model_provider = "acme"

[model_providers.acme]  # mine
name = "Acme"
base_url = "http://127.0.0.1:9/v1"
"""


def fix(run_cli, *extra: str):
    return run_cli("doctor", "--offline", "--fix", "--yes", *extra)


def test_duplicate_key_keeps_the_last_and_undo_puts_it_back(run_cli, config_file: Path) -> None:
    before = ACME + 'name = "Acme 2"\n'
    config_file.write_text(before)
    result = fix(run_cli)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert config_file.read_text() == ACME.replace('name = "Acme"\n', "") + 'name = "Acme 2"\n'
    assert '-name = "Acme"\n' in result.stdout
    assert "fixed: remove the duplicate name in config.toml: wrote" in result.stderr
    assert run_cli("undo").exit_code == 0
    assert config_file.read_text() == before


def test_duplicate_table_keeps_the_last_definition(run_cli, config_file: Path) -> None:
    config_file.write_text(
        ACME + '\n# again\n[model_providers.acme]\nname = "Acme"\nbase_url = "http://127.0.0.1:8/v1"\n'
    )
    result = fix(run_cli, "--json")
    assert result.exit_code == 0, result.stderr
    assert config_file.read_text() == (
        '# providers\nmodel = "m"\nmodel_provider = "acme"\n\n'
        '# again\n[model_providers.acme]\nname = "Acme"\nbase_url = "http://127.0.0.1:8/v1"\n'
    )
    data = json.loads(result.stdout)
    assert data["counts"]["fail"] == 0
    assert [f["check"] for f in data["findings"] if f["status"] != "ok"] in ([], ["codex.installed"])
    assert data["fixes"] == [
        {
            "check": "config.duplicate-table",
            "provider": None,
            "file": str(config_file),
            "fix": "remove the duplicate [model_providers.acme] in config.toml",
        }
    ]


def test_multiline_duplicate_and_keeping_the_first() -> None:
    text = 'a = 1\nb = [\n  "x",\n  "y",\n]\nc = 2\nb = "z"\n'
    dup = find_duplicate(text)
    assert dup is not None and dup.name == "b" and [d.line for d in dup.definitions] == [2, 7]
    assert remove_duplicate(text, dup, 0) == 'a = 1\nb = [\n  "x",\n  "y",\n]\nc = 2\n'
    assert remove_duplicate(text, dup, -1) == 'a = 1\nc = 2\nb = "z"\n'
    assert find_duplicate('a = 1\nb = "unterminated\n') is None


def test_without_a_terminal_or_yes_nothing_changes(run_cli, config_file: Path) -> None:
    before = ACME + 'wire_api = "chat"\n'
    config_file.write_text(before)
    result = run_cli("doctor", "--offline", "--fix", input="")
    assert result.exit_code == 9
    assert "Pass --yes" in result.stderr
    assert config_file.read_text() == before


def test_wire_api_rename_reserved_and_drop_ignored_fields(run_cli, config_file: Path, codex_home: Path) -> None:
    config_file.write_text(
        ACME.replace("acme", "ollama")
        + 'wire_api = "chat"  # old\nbase-url = "x"\nrequest_max_retries = 0\n\n[model_providers.ollama.auth]\ncommand = "true"\n'
    )
    (codex_home / "fast.config.toml").write_text('# fast\nmodel_provider = "ollama"\n')
    result = fix(run_cli)
    assert config_file.read_text() == (
        '# providers\nmodel = "m"\nmodel_provider = "ollama-custom"\n\n'
        '[model_providers.ollama-custom]  # mine\nname = "Acme"\nbase_url = "http://127.0.0.1:9/v1"\n'
        'wire_api = "responses"  # old\nrequest_max_retries = 0\n\n[model_providers.ollama-custom.auth]\ncommand = "true"\n'
    )
    assert (codex_home / "fast.config.toml").read_text() == '# fast\nmodel_provider = "ollama-custom"\n'
    # `true` prints no token: that failure stays, and is not something --fix can do
    assert result.exit_code == 1
    assert "key.auth-command" not in result.stderr
    assert "printed nothing" in result.stdout


def test_plaintext_keys_move_to_the_keyring(run_cli, config_file: Path, memory_keyring) -> None:
    config_file.write_text(ACME + f'api_key = "{KEY}"\n')
    result = fix(run_cli)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert memory_keyring.entries == {("codexprov", "acme"): KEY}
    text = config_file.read_text()
    assert KEY not in text and "api_key" not in text
    assert "[model_providers.acme.auth]\n" in text and '"token", "acme"]' in text
    assert KEY not in result.stdout + result.stderr


def test_fixes_are_chosen_by_fix_kind_not_by_advice_text(tmp_path: Path) -> None:
    from codexprov.doctor.findings import Finding, FixKind, Report
    from codexprov.doctor.fix import plan_fixes

    config = tmp_path / "config.toml"
    config.write_text(ACME)
    said = "any words at all"
    report = Report(
        (
            Finding(
                "provider.unknown-key",
                "warn",
                said,
                provider="acme",
                file=str(config),
                fix=said,
                fix_kind=FixKind.MIGRATE_KEY,
                key="apikey",
            ),
            Finding(
                "provider.unknown-key",
                "warn",
                said,
                provider="acme",
                file=str(config),
                fix=said,
                fix_kind=FixKind.DROP_FIELD,
                key="x",
            ),
            Finding(
                "provider.unknown-key",
                "warn",
                said,
                provider="acme",
                file=str(config),
                fix="codexprov key migrate acme",
                key="y",
            ),
            Finding(
                "provider.wire-api",
                "fail",
                said,
                provider="acme",
                file=str(config),
                fix=said,
                fix_kind=FixKind.SET_WIRE_API,
            ),
            Finding(
                "provider.reserved-id",
                "fail",
                said,
                provider="acme",
                file=str(config),
                fix=said,
                fix_kind=FixKind.RENAME_RESERVED,
            ),
        )
    )
    actions = plan_fixes(None, report)
    assert [(a.kind, a.check, a.provider, a.fields) for a in actions] == [
        (FixKind.RENAME_RESERVED, "provider.reserved-id", "acme", ("acme-custom",)),
        (FixKind.SET_WIRE_API, "provider.wire-api", "acme", ()),
        (FixKind.DROP_FIELD, "provider.unknown-key", "acme", ("x",)),
        (FixKind.MIGRATE_KEY, "provider.unknown-key", "acme", ()),
    ]
