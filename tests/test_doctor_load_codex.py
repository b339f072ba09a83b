"""Codex's own load verdict is the doctor's floor (`codex.load`): what the installed Codex refuses to
load, the doctor fails, naming the file and line; what it loads stays healthy.

Each broken setup is judged by the real `codex exec` first (it must fail), then by the doctor; each
has a look-alike that Codex runs and the doctor passes. `--fix` repairs the safe ones, and the
real Codex then finishes its turn.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from codexprov import paths as paths_mod
from codexprov.codex.capabilities import capabilities
from codexprov.codex.gateway import CATALOG_FILE
from codexprov.codex.version import CodexInfo, parse_version
from codexprov.doctor import Report, codexload
from codexprov.doctor.findings import FixKind
from codexprov.doctor.layers import load_layers
from codexprov.errors import KeyringUnavailableError
from tests import doctoring
from tests.codexrun import codex_env, codex_version, run_codex, write_minimal_config

KEY = "sk-load-verdict-000000000000001"


@pytest.fixture(autouse=True)
def _sealed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEXPROV_SYSTEM_CONFIG", str(tmp_path / "no-etc" / "config.toml"))
    monkeypatch.setenv("ACME_API_KEY", KEY)  # for `doctor --fix` through the CLI


def no_keyring():
    raise KeyringUnavailableError("no usable keyring: test")


def info_for(codex_bin: Path) -> CodexInfo:
    version = parse_version(codex_version(codex_bin))
    return CodexInfo(codex_bin, version, capabilities(version), False)


def doctor(
    codex_bin: Path, codex_home: Path, tmp_path: Path, env: dict[str, str] | None = None, profile: str | None = None
) -> Report:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return doctoring.doctor(
        paths_mod.resolve(),
        codex_info=info_for(codex_bin),
        env=codex_env(codex_home, {"ACME_API_KEY": KEY, **(env or {})}),
        cwd=work,
        open_store=no_keyring,
        timeout=5,
        profile=profile,
    )


def codex_finishes(
    codex_bin: Path, codex_home: Path, env: dict[str, str] | None = None, args: tuple[str, ...] = ()
) -> tuple[bool, str]:
    try:
        proc = run_codex(
            codex_bin,
            codex_home,
            args=args,
            env_extra={"ACME_API_KEY": KEY, **(env or {})},
            timeout=60,
            strict=False,
        )
    except subprocess.TimeoutExpired:
        return False, "(timed out)"
    return proc.returncode == 0 and "pong" in proc.stdout, proc.stderr


def fails(report: Report) -> list[str]:
    return [f.check for f in report.findings if f.status == "fail" and report.counts(f)]


def line_of(config: Path, text: str) -> int:
    return config.read_text().splitlines().index(text) + 1


def load(report: Report):
    [found] = [f for f in report.findings if f.check == "codex.load"]
    return found


@pytest.mark.codex
def test_quoted_number_fails_and_fix_unquotes_it(codex_bin, codex_home, make_fake_server, tmp_path, run_cli) -> None:
    server = make_fake_server(expected_key=KEY)
    config = write_minimal_config(
        codex_home, server.base_url, extra_provider_lines=['stream_idle_timeout_ms = "600000"']
    )
    finished, stderr = codex_finishes(codex_bin, codex_home)
    assert not finished and 'invalid type: string "600000"' in stderr
    report = doctor(codex_bin, codex_home, tmp_path)
    assert fails(report) == ["codex.load"] and report.exit_code == 1
    found = load(report)
    assert found.message == (
        f'Codex {codex_version(codex_bin)} refuses to load the configuration: invalid type: string "600000", expected u64 '
        "(`model_providers.acme.stream_idle_timeout_ms`): the number is written in quotes, and Codex takes only a bare number"
    )
    assert (found.file, found.line) == (str(config), line_of(config, 'stream_idle_timeout_ms = "600000"'))
    assert found.key == "model_providers.acme.stream_idle_timeout_ms"
    assert found.fix_kind is FixKind.UNQUOTE_NUMBER
    assert found.fix == "stream_idle_timeout_ms = 600000   (no quotes); codexprov doctor --fix does it"
    before = config.read_text()
    result = run_cli("--codex", str(codex_bin), "doctor", "--offline", "--fix", "--yes")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert config.read_text() == before.replace('"600000"', "600000")
    assert codex_finishes(codex_bin, codex_home)[0]


@pytest.mark.codex
def test_unquoted_number_is_healthy(codex_bin, codex_home, make_fake_server, tmp_path) -> None:
    server = make_fake_server(expected_key=KEY)
    write_minimal_config(codex_home, server.base_url, extra_provider_lines=["stream_idle_timeout_ms = 600000"])
    assert codex_finishes(codex_bin, codex_home)[0]
    report = doctor(codex_bin, codex_home, tmp_path)
    assert fails(report) == []
    assert (load(report).status, load(report).message) == (
        "ok",
        f"Codex {codex_version(codex_bin)} loads this configuration (`codex features list`)",
    )


@pytest.mark.codex
def test_a_named_profile_is_loaded_with_its_file(codex_bin, codex_home, make_fake_server, tmp_path) -> None:
    """`doctor -p NAME` asks the installed Codex to load what `codex -p NAME` loads (NAME.config.toml
    on top: `codex -p NAME mcp get NOBODY`, as `features list` takes no -p): a quoted number in the
    profile file fails the verdict at its line; without -p, or unquoted, Codex loads it."""
    server = make_fake_server(expected_key=KEY)
    write_minimal_config(codex_home, server.base_url)
    profile = codex_home / "work.config.toml"
    text = (
        'model_provider = "acme2"\n\n[model_providers.acme2]\nname = "Acme 2"\n'
        f'base_url = "{server.base_url}"\nenv_key = "ACME_API_KEY"\nstream_idle_timeout_ms = "600000"\n'
    )
    profile.write_text(text)
    version = codex_version(codex_bin)
    finished, stderr = codex_finishes(codex_bin, codex_home, args=("-p", "work"))
    assert not finished and 'invalid type: string "600000"' in stderr
    assert codex_finishes(codex_bin, codex_home)[0]  # plain `codex` does not read the profile file
    report = doctor(codex_bin, codex_home, tmp_path, profile="work")
    found = load(report)
    assert (found.status, found.file, found.line) == ("fail", str(profile), 7)
    assert found.message == (
        f'Codex {version} refuses to load the configuration: invalid type: string "600000", expected u64 '
        "(`model_providers.acme2.stream_idle_timeout_ms`): the number is written in quotes, and Codex takes only a bare number"
    )
    assert (found.fix, found.fix_kind) == ("stream_idle_timeout_ms = 600000   (no quotes)", None)
    assert report.exit_code == 1
    plain = load(doctor(codex_bin, codex_home, tmp_path))
    assert (plain.status, plain.message) == ("ok", f"Codex {version} loads this configuration (`codex features list`)")
    profile.write_text(text.replace('"600000"', "600000"))
    assert codex_finishes(codex_bin, codex_home, args=("-p", "work"))[0]
    fixed = load(doctor(codex_bin, codex_home, tmp_path, profile="work"))
    assert (fixed.status, fixed.message) == (
        "ok",
        f"Codex {version} loads this configuration (`codex -p work mcp get {codexload.NOBODY}`)",
    )


@pytest.mark.codex
def test_quoted_number_on_0133_gets_codexs_own_line(codex_bin_0133, codex_home, make_fake_server, tmp_path) -> None:
    server = make_fake_server(expected_key=KEY)
    config = write_minimal_config(
        codex_home, server.base_url, extra_provider_lines=['request_max_retries = "2"'], no_retries=False
    )
    assert not codex_finishes(codex_bin_0133, codex_home)[0]
    found = load(doctor(codex_bin_0133, codex_home, tmp_path))
    assert found.status == "fail" and found.fix_kind is FixKind.UNQUOTE_NUMBER
    assert (found.file, found.line, found.key) == (
        str(config),
        line_of(config, 'request_max_retries = "2"'),
        "model_providers.acme.request_max_retries",
    )
    assert 'Codex 0.133.0 refuses to load the configuration: invalid type: string "2", expected u64' in found.message


def _catalog(codex_bin: Path, where: Path) -> None:
    proc = subprocess.run(
        [str(codex_bin), "debug", "models", "--bundled"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=codex_env(where.parent / "throwaway-home"),
    )
    where.write_text(proc.stdout, encoding="utf-8")


@pytest.mark.codex
def test_missing_catalog_that_codexprov_wrote_fails_and_fix_drops_it(
    codex_bin, codex_home, make_fake_server, tmp_path, run_cli
) -> None:
    server = make_fake_server(expected_key=KEY)
    catalog = codex_home / CATALOG_FILE
    config = write_minimal_config(codex_home, server.base_url)
    config.write_text(f"model_catalog_json = {json.dumps(str(catalog))}\n" + config.read_text())
    finished, stderr = codex_finishes(codex_bin, codex_home)
    assert not finished and "No such file or directory" in stderr
    report = doctor(codex_bin, codex_home, tmp_path)
    assert fails(report) == ["codex.load"]
    found = load(report)
    assert found.message == (
        f"Codex {codex_version(codex_bin)} refuses to start: `model_catalog_json` names {catalog}, which does not exist "
        "(Codex says only `No such file or directory (os error 2)`)"
    )
    assert (found.file, found.line, found.fix_kind) == (str(config), 1, FixKind.DROP_CATALOG)
    result = run_cli("--codex", str(codex_bin), "doctor", "--offline", "--fix", "--yes")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "model_catalog_json" not in config.read_text()
    assert codex_finishes(codex_bin, codex_home)[0]


@pytest.mark.codex
def test_missing_catalog_of_the_users_is_not_dropped(codex_bin, codex_home, make_fake_server, tmp_path) -> None:
    server = make_fake_server(expected_key=KEY)
    config = write_minimal_config(codex_home, server.base_url)
    mine = tmp_path / "my-catalog.json"
    config.write_text(f"model_catalog_json = {json.dumps(str(mine))}\n" + config.read_text())
    assert not codex_finishes(codex_bin, codex_home)[0]
    found = load(doctor(codex_bin, codex_home, tmp_path))
    assert found.status == "fail" and found.fix_kind is None
    assert found.fix == f"put the catalog file back at {mine}, or remove `model_catalog_json` from {config}"


@pytest.mark.codex
def test_present_catalog_is_healthy(codex_bin, codex_home, make_fake_server, tmp_path) -> None:
    server = make_fake_server(expected_key=KEY)
    catalog = codex_home / CATALOG_FILE
    config = write_minimal_config(codex_home, server.base_url)
    _catalog(codex_bin, catalog)
    config.write_text(f"model_catalog_json = {json.dumps(str(catalog))}\n" + config.read_text())
    assert codex_finishes(codex_bin, codex_home)[0]
    report = doctor(codex_bin, codex_home, tmp_path)
    assert fails(report) == [] and load(report).status == "ok"


@pytest.mark.codex
def test_a_static_check_that_explains_it_is_named(codex_bin, codex_home, make_fake_server, tmp_path) -> None:
    server = make_fake_server(expected_key=KEY)
    config = write_minimal_config(codex_home, server.base_url)
    config.write_text(config.read_text().replace('wire_api = "responses"', 'wire_api = "chat"'))
    assert not codex_finishes(codex_bin, codex_home)[0]
    report = doctor(codex_bin, codex_home, tmp_path)
    assert sorted(fails(report)) == ["codex.load", "provider.wire-api"]
    found = load(report)
    assert found.message.endswith("(explained by provider.wire-api)")
    assert found.fix == next(f.fix for f in report.findings if f.check == "provider.wire-api")


@pytest.mark.codex
def test_codex_home_with_a_literal_tilde(codex_bin, codex_home, make_fake_server, tmp_path) -> None:
    """Codex does not expand `~` in CODEX_HOME and will not start; an absolute path works."""
    server = make_fake_server(expected_key=KEY)
    write_minimal_config(codex_home, server.base_url)
    tilde = {"CODEX_HOME": "~/" + codex_home.name}
    finished, stderr = codex_finishes(codex_bin, codex_home, tilde)
    assert not finished and "CODEX_HOME" in stderr
    found = load(doctor(codex_bin, codex_home, tmp_path, tilde))
    assert found.status == "fail"
    assert found.message == (
        f"Codex {codex_version(codex_bin)} refuses to load the configuration: "
        f'CODEX_HOME points to "~/{codex_home.name}", but that path does not exist'
    )
    assert found.fix == "set CODEX_HOME to an absolute path of a folder that exists (Codex does not expand `~`)"


@pytest.mark.codex
def test_verdict_is_cached_per_configuration(codex_bin, codex_home, make_fake_server, tmp_path) -> None:
    server = make_fake_server(expected_key=KEY)
    config = write_minimal_config(codex_home, server.base_url)
    paths = paths_mod.resolve()
    env = codex_env(codex_home)

    def run() -> codexload.LoadRun:
        layers, _ = load_layers(paths, env=env, cwd=tmp_path, system_config=tmp_path / "no-etc" / "config.toml")
        started = codexload.start(paths, info_for(codex_bin), env=env, cwd=tmp_path, layers=layers)
        assert started is not None
        started.wait()
        return started

    assert [run().cached, run().cached] == [False, True]
    config.write_text(config.read_text() + "model_context_window = 1000\n")
    assert [run().cached, run().cached] == [False, True]
    assert run().answer == (0, "")


# ---------------------------------------------------------------------------- Codex's error texts


V169_TYPE = """Error: failed to load bootstrap configuration

Caused by:
    invalid type: string "600000", expected u64
    in `model_providers.acme.stream_idle_timeout_ms`
"""
V133_TYPE = """Error: failed to load configuration

Caused by:
    0: /h/.codex/config.toml:8:26: invalid type: string "600000", expected u64
    1: invalid type: string "600000", expected u64
       in `model_providers.acme.stream_idle_timeout_ms`
"""
V169_DUPLICATE = """Error: failed to load bootstrap configuration

Caused by:
    0: /h/.codex/config.toml:8:1: duplicate key
      |
    8 | name = "B"
      | ^^^^
"""


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            V169_TYPE,
            (
                'invalid type: string "600000", expected u64',
                None,
                None,
                ("model_providers", "acme", "stream_idle_timeout_ms"),
            ),
        ),
        (
            V133_TYPE,
            (
                'invalid type: string "600000", expected u64',
                "/h/.codex/config.toml",
                8,
                ("model_providers", "acme", "stream_idle_timeout_ms"),
            ),
        ),
        (V169_DUPLICATE, ("duplicate key", "/h/.codex/config.toml", 8, ())),
        ("Error: No such file or directory (os error 2)\n", ("No such file or directory (os error 2)", None, None, ())),
    ],
    ids=["0.169-type", "0.133-type", "0.169-duplicate", "missing-file"],
)
def test_parse_error(text, expected) -> None:
    error = codexload.parse_error(text)
    assert (error.reason, error.file, error.line, error.key_path) == expected
