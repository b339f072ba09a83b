"""Version detection, its cache, and the table of what each Codex version reads."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from codexprov import paths as paths_mod
from codexprov.codex import capabilities as caps_mod
from codexprov.codex import version as cv
from codexprov.errors import NotFoundError
from tests import doctoring
from tests.conftest import MATRIX_VERSION


@pytest.fixture
def paths(isolated_home):
    return paths_mod.resolve()


def fake_codex(folder: Path, version: str, name: str = "codex") -> Path:
    """A stand-in `codex` that prints its version and counts how often it was asked."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f'#!/bin/sh\necho x >> "{folder}/calls"\necho "codex-cli {version}"\n')
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def calls(folder: Path) -> int:
    try:
        return len((folder / "calls").read_text().splitlines())
    except FileNotFoundError:
        return 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("codex-cli 0.169.0", (0, 169, 0)),
        ("codex-cli 0.133.0\n", (0, 133, 0)),
        ("codex-cli 0.170.0-alpha.2", (0, 170, 0)),
        ("1.2.3", (1, 2, 3)),
        ("codex-cli", None),
        ("", None),
    ],
)
def test_parse_version(text, expected):
    assert cv.parse_version(text) == expected


def test_capabilities_0_169():
    caps = caps_mod.capabilities((0, 169, 0))
    assert caps.to_json() == {
        "version": "0.169.0",
        "profile_form": "file",
        "profile_v2_flag": False,
        "wire_apis": ["responses"],
        "auth_command": True,
        "reserved_ids": ["openai", "ollama", "lmstudio"],
        "partial_builtins": {
            "amazon-bedrock": [
                "base_url",
                "auth",
                "http_headers",
                "aws.profile",
                "aws.region",
                "aws.credential_export",
                "aws.auth_refresh",
            ],
            "amazon-bedrock-runtime": [
                "base_url",
                "auth",
                "http_headers",
                "aws.profile",
                "aws.region",
                "aws.credential_export",
                "aws.auth_refresh",
            ],
            "gcp": ["base_url", "auth", "http_headers", "project_id", "location", "credential_file"],
        },
        "strict_config": True,
        "doctor": True,
        "reasoning_efforts": None,
        "provider_fields": [
            "auth",
            "aws",
            "base_url",
            "capabilities",
            "credential_file",
            "env_http_headers",
            "env_key",
            "env_key_instructions",
            "experimental_bearer_token",
            "gateway_oauth",
            "http_headers",
            "location",
            "model_catalog_url",
            "name",
            "project_id",
            "query_params",
            "request_max_retries",
            "requires_openai_auth",
            "stream_idle_timeout_ms",
            "stream_max_retries",
            "supports_standalone_web_search",
            "supports_websockets",
            "websocket_connect_timeout_ms",
            "wire_api",
        ],
        "provider_capability_keys": ["cyber_access_programs", "external_web_access", "remote_compaction"],
        "responses_lite": True,
        "model_catalog_json": True,
        "sessions_keep_provider": True,
        "provider_editor": True,
        "provider_default_set": False,
        "open_threads_refused": True,
        "web_search_setting": True,
        "unknown_model_reasoning": True,
        "retries_rate_limit": True,
        "top_level_tables": [],
        "top_level_tables_unknown": ["code_mode", "responses", "rollout_trace"],
    }
    assert caps.builtin_fields("gcp") == (
        "base_url",
        "auth",
        "http_headers",
        "project_id",
        "location",
        "credential_file",
    )
    assert caps.builtin_fields("acme") is None


def test_capabilities_0_133():
    caps = caps_mod.capabilities((0, 133, 0))
    assert caps.profile_form == "table"
    assert caps.profile_v2_flag is True
    assert caps.wire_apis == ("responses",)
    assert caps.auth_command is True
    assert caps.reserved_ids == ("openai", "ollama", "lmstudio")
    assert caps.partial_builtins == (("amazon-bedrock", ("aws.profile", "aws.region")),)
    assert caps.strict_config is True
    assert caps.doctor is True
    assert caps.reasoning_efforts == ("none", "minimal", "low", "medium", "high", "xhigh")
    assert caps.retries_rate_limit is False  # one 429 ends the turn (probed on 0.133.0 and 0.160.0)


# Each boundary as verified with the real npm releases: (feature, last version without, first with).
@pytest.mark.parametrize(
    ("check", "before", "since"),
    [
        (lambda c: c.profile_form == "file", (0, 133, 0), (0, 134, 0)),
        (lambda c: c.profile_v2_flag, (0, 130, 0), (0, 131, 0)),
        (lambda c: not c.profile_v2_flag and c.profile_form == "file", (0, 133, 0), (0, 134, 0)),
        (lambda c: "chat" not in c.wire_apis, (0, 94, 0), (0, 95, 0)),
        (lambda c: c.auth_command, (0, 117, 0), (0, 118, 0)),
        (lambda c: c.reserved_ids == ("openai", "ollama", "lmstudio"), (0, 114, 0), (0, 115, 0)),
        (lambda c: c.strict_config, (0, 130, 0), (0, 131, 0)),
        (lambda c: c.doctor, (0, 130, 0), (0, 131, 0)),
        (lambda c: c.builtin_fields("amazon-bedrock") == ("aws.profile",), (0, 122, 0), (0, 123, 0)),
        (lambda c: "base_url" in (c.builtin_fields("amazon-bedrock") or ()), (0, 144, 0), (0, 145, 0)),
        (lambda c: "aws.auth_refresh" in (c.builtin_fields("amazon-bedrock") or ()), (0, 148, 0), (0, 149, 0)),
        (lambda c: "aws.credential_export" in (c.builtin_fields("amazon-bedrock") or ()), (0, 154, 0), (0, 155, 0)),
        (lambda c: c.builtin_fields("gcp") == ("base_url", "auth", "http_headers"), (0, 164, 0), (0, 165, 0)),
        (lambda c: "project_id" in (c.builtin_fields("gcp") or ()), (0, 165, 0), (0, 166, 0)),
        (lambda c: c.reasoning_efforts is None, (0, 134, 0), (0, 140, 0)),
        (lambda c: "supports_standalone_web_search" in c.provider_fields, (0, 145, 0), (0, 150, 0)),
        (lambda c: {"model_catalog_url", "gateway_oauth"} <= c.provider_fields, (0, 155, 0), (0, 160, 0)),
        (lambda c: "capabilities" in c.provider_fields, (0, 160, 0), (0, 163, 0)),
        (lambda c: {"project_id", "location", "credential_file"} <= c.provider_fields, (0, 165, 0), (0, 166, 0)),
        (
            lambda c: {"external_web_access", "remote_compaction"} <= c.provider_capability_keys,
            (0, 160, 0),
            (0, 163, 0),
        ),
        (lambda c: "cyber_access_programs" in c.provider_capability_keys, (0, 166, 0), (0, 169, 0)),
        (lambda c: c.responses_lite, (0, 140, 0), (0, 145, 0)),
        (lambda c: c.builtin_fields("amazon-bedrock-runtime") is not None, (0, 145, 0), (0, 150, 0)),
        (
            lambda c: "aws.credential_export" in (c.builtin_fields("amazon-bedrock-runtime") or ()),
            (0, 150, 0),
            (0, 155, 0),
        ),
        (lambda c: c.model_catalog_json and c.web_search_setting, (0, 132, 0), (0, 133, 0)),
        (lambda c: c.sessions_keep_provider, (0, 165, 0), (0, 166, 0)),
        (lambda c: c.provider_editor, (0, 166, 0), (0, 169, 0)),
        (lambda c: c.provider_default_set, (0, 170, 0), (0, 171, 0)),
        (lambda c: c.open_threads_refused, (0, 165, 0), (0, 166, 0)),
        (lambda c: c.retries_rate_limit, (0, 160, 0), (0, 163, 0)),
        (lambda c: c.unknown_model_reasoning, (0, 133, 0), (0, 160, 0)),
        (lambda c: not c.open_threads_refused, (0, 169, 0), (0, 170, 0)),
        (
            lambda c: (
                c.top_level_tables == {"responses", "code_mode", "rollout_trace"} and not c.top_level_tables_unknown
            ),
            (0, 170, 0),
            (0, 171, 0),
        ),
    ],
)
def test_capability_boundaries(check, before, since):
    assert not check(caps_mod.capabilities(before))
    assert check(caps_mod.capabilities(since))


def test_old_codex_reads_chat_and_has_no_reserved_ids():
    caps = caps_mod.capabilities((0, 90, 0))
    assert caps.wire_apis == ("responses", "chat")
    assert caps.reserved_ids == ()
    assert caps.partial_builtins == ()
    assert caps.auth_command is False
    assert caps.strict_config is False


def test_unknown_and_newer_versions_get_the_newest_behaviour():
    newest = caps_mod.capabilities(caps_mod.NEWEST_VERIFIED)
    assert caps_mod.capabilities(None) == newest
    newer = caps_mod.capabilities((0, 200, 0))
    assert newer.version == (0, 200, 0)
    assert newer.to_json() | {"version": caps_mod.format_version(caps_mod.NEWEST_VERIFIED)} == newest.to_json()


def test_no_codex_on_path_assumes_newest(paths, tmp_path):
    info = cv.detect(paths, env={"PATH": str(tmp_path / "empty")})
    assert info.path is None
    assert info.version is None
    assert info.assumed is True
    assert info.capabilities == caps_mod.capabilities(None)
    assert info.describe() == "no `codex` found on PATH; assuming the newest behaviour known (Codex 0.171.0)"


def test_detects_codex_on_path_and_caches_it(paths, tmp_path):
    bindir = tmp_path / "bin"
    binary = fake_codex(bindir, "0.133.0")
    env = {"PATH": str(bindir)}
    first = cv.detect(paths, env=env)
    assert (first.path, first.version, first.assumed, first.cached) == (binary, (0, 133, 0), False, False)
    assert first.capabilities.profile_form == "table"
    second = cv.detect(paths, env=env)
    assert (second.version, second.cached) == ((0, 133, 0), True)
    assert calls(bindir) == 1
    cache = json.loads((paths.cache_dir / cv.CACHE_FILE).read_text())
    assert list(cache) == [str(binary.resolve())]
    assert cache[str(binary.resolve())]["version"] == "0.133.0"


def test_cache_invalidates_when_the_binary_changes(paths, tmp_path):
    bindir = tmp_path / "bin"
    binary = fake_codex(bindir, "0.133.0")
    env = {"PATH": str(bindir)}
    assert cv.detect(paths, env=env).version == (0, 133, 0)
    # An upgrade in place: same path, new content (and the same mtime, as package managers may set).
    st = binary.stat()
    fake_codex(bindir, "0.169.0")
    os.utime(binary, ns=(st.st_atime_ns, st.st_mtime_ns))
    info = cv.detect(paths, env=env)
    assert (info.version, info.cached) == ((0, 169, 0), False)
    assert calls(bindir) == 2


def test_explicit_binary_wins_over_env_and_path(paths, tmp_path):
    on_path = fake_codex(tmp_path / "path", "0.169.0")
    from_env = fake_codex(tmp_path / "env", "0.150.0")
    explicit = fake_codex(tmp_path / "explicit", "0.133.0")
    env = {"PATH": str(on_path.parent), "CODEXPROV_CODEX": str(from_env)}
    assert cv.detect(paths, explicit=str(explicit), env=env).version == (0, 133, 0)
    assert cv.detect(paths, env=env).version == (0, 150, 0)
    assert cv.detect(paths, env={"PATH": str(on_path.parent)}).version == (0, 169, 0)


def test_explicit_binary_by_name_is_looked_up_on_path(paths, tmp_path):
    fake_codex(tmp_path / "bin", "0.140.0", name="codex-beta")
    assert cv.detect(paths, explicit="codex-beta", env={"PATH": str(tmp_path / "bin")}).version == (0, 140, 0)


def test_missing_explicit_binary_is_an_error(paths, tmp_path):
    with pytest.raises(NotFoundError) as err:
        cv.detect(paths, explicit=str(tmp_path / "nope" / "codex"), env={"PATH": ""})
    assert err.value.message == f"the Codex binary `{tmp_path / 'nope' / 'codex'}` was not found or is not executable"
    assert err.value.exit_code == 4


def test_a_binary_that_prints_no_version_is_assumed_newest(paths, tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    binary = bindir / "codex"
    binary.write_text("#!/bin/sh\necho hello\n")
    binary.chmod(0o755)
    info = cv.detect(paths, env={"PATH": str(bindir)})
    assert (info.path, info.version, info.assumed) == (binary, None, True)
    assert info.reason == f"`{binary} --version` printed no version"
    assert not (paths.cache_dir / cv.CACHE_FILE).exists()


def test_a_binary_that_fails_is_assumed_newest(paths, tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    binary = bindir / "codex"
    binary.write_text("#!/bin/sh\nexit 3\n")
    binary.chmod(0o755)
    info = cv.detect(paths, env={"PATH": str(bindir)})
    assert (info.version, info.assumed, info.reason) == (
        None,
        True,
        f"`{binary} --version` failed (CalledProcessError)",
    )


@pytest.mark.codex
@pytest.mark.parametrize("fixture", ["codex_bin", "codex_bin_0133"])
def test_real_codex_versions(paths, request, fixture):
    binary = request.getfixturevalue(fixture)
    info = cv.detect(paths, explicit=str(binary))
    expected = cv.parse_version(MATRIX_VERSION) if fixture == "codex_bin" else (0, 133, 0)
    assert (info.version, info.assumed) == (expected, False)
    assert info.capabilities.profile_form == ("file" if expected >= caps_mod.PROFILE_FILES_SINCE else "table")
    assert cv.detect(paths, explicit=str(binary)).cached is True


@pytest.mark.codex
@pytest.mark.parametrize(
    ("table", "body"),
    [
        ("responses", 'process_mode = "after_complete_response"'),
        ("code_mode", "heartbeat_interval_s = 5"),
        ("rollout_trace", ""),
    ],
)
def test_top_level_tables_as_the_binary_reads_them(codex_bin, codex_home, fake_server, table, body):
    """Capabilities.top_level_tables says which tables this Codex loads; `--strict-config` agrees."""
    from tests.codexrun import run_codex, write_minimal_config

    config = write_minimal_config(codex_home, fake_server.base_url)
    lines = config.read_text(encoding="utf-8").count("\n")
    with config.open("a", encoding="utf-8") as f:
        f.write(f"\n[{table}]\n{body}\n")
    proc = run_codex(codex_bin, codex_home, env_extra={"ACME_API_KEY": "sk-test-0123456789"})
    caps = caps_mod.capabilities(cv.parse_version(MATRIX_VERSION))

    report = doctoring.doctor(
        paths_mod.resolve(),
        offline=True,
        codex_info=cv.detect(paths_mod.resolve(), explicit=str(codex_bin)),
        env={"PATH": os.environ["PATH"], "HOME": str(codex_home.parent), "ACME_API_KEY": "sk-test-0123456789"},
    )
    flagged = [f.key for f in report.findings if f.check == "config.newer-table"]
    assert flagged == ([] if proc.returncode == 0 else [table])  # the doctor agrees with Codex
    if table in caps.top_level_tables:
        assert proc.returncode == 0, proc.stderr
    else:
        assert table in caps.top_level_tables_unknown
        assert proc.returncode == 1
        assert f"config.toml:{lines + 2}:2: unknown configuration field `{table}`" in proc.stderr
