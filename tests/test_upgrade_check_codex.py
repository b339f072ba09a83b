"""The README's check before upgrading Codex: with the old Codex on PATH and the new release
installed beside it, `codexprov doctor --live --codex NEW` judges the setup with the new release
(its rules, its request, one real turn on a copy of the setup), not the one on PATH.

The old Codex is 0.133.0 (it reads `profile = NAME` with `[profiles.NAME]`); the new one is the
release under test. A setup written for 0.133.0 that a later release refuses to load is the upgrade
trap: the doctor must agree with what that release's `codex exec` does on it, whichever it is.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.codexrun import codex_version, codexprov_env, run_codex

pytestmark = pytest.mark.codex

KEY = "sk-upgrade-check-000000000000001"


def _setup(codex_home: Path, base_url: str, *, legacy_profile: bool) -> None:
    lines = ['model = "fake-model"', 'model_provider = "acme"']
    if legacy_profile:
        lines += ['profile = "work"', "", "[profiles.work]", 'model = "fake-model"']
    lines += [
        "",
        "[model_providers.acme]",
        'name = "Acme"',
        f'base_url = "{base_url}"',
        'wire_api = "responses"',
        'env_key = "ACME_API_KEY"',
        "request_max_retries = 0",
        "stream_max_retries = 0",
    ]
    codex_home.mkdir(parents=True, exist_ok=True)
    (codex_home / "config.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _doctor(
    codex_home: Path, old: Path, new: Path | None, tmp_path: Path
) -> tuple[subprocess.CompletedProcess[str], dict]:
    """The installed `codexprov doctor --live [--codex NEW] --json`, with only the old Codex on PATH."""
    bin_dir = tmp_path / "old-codex-on-path"
    bin_dir.mkdir(exist_ok=True)
    if not (bin_dir / "codex").exists():
        (bin_dir / "codex").symlink_to(old)
    env = codexprov_env(codex_home, old, {"ACME_API_KEY": KEY}, system_config=tmp_path / "no-etc" / "config.toml")
    del env["CODEXPROV_CODEX"]  # the Codex on PATH is the one in use, as on a user's machine
    env["PATH"] = os.pathsep.join([str(bin_dir), env["PATH"]])
    exe = shutil.which("codexprov")
    assert exe is not None, "the codexprov executable is not on PATH (pip install -e .)"
    args = ["doctor", "--live", "--json", "--timeout", "30"]
    if new is not None:
        args = ["--codex", str(new), *args]
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    proc = subprocess.run(
        [exe, *args],
        env=env,
        cwd=work,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    return proc, json.loads(proc.stdout)


@pytest.mark.parametrize("legacy_profile", [False, True], ids=["plain-setup", "legacy-profile-setup"])
def test_doctor_live_codex_path_judges_with_the_new_release(
    legacy_profile: bool, codex_bin: Path, codex_bin_0133: Path, codex_home: Path, make_fake_server, tmp_path: Path
) -> None:
    server = make_fake_server(expected_key=KEY)
    _setup(codex_home, server.base_url, legacy_profile=legacy_profile)
    new_version = codex_version(codex_bin)

    # The judge: does the new release finish a turn on this setup?
    judged = run_codex(codex_bin, codex_home, env_extra={"ACME_API_KEY": KEY}, timeout=90, strict=False)
    finishes = judged.returncode == 0 and "pong" in judged.stdout
    if not legacy_profile:
        assert finishes, judged.stderr[-1500:]
    server.clear()

    proc, report = _doctor(codex_home, codex_bin_0133, codex_bin, tmp_path)
    assert report["codex"]["path"] == str(codex_bin)
    assert report["codex"]["version"] == new_version
    assert report["codex"]["assumed"] is False
    statuses = {f["check"]: f["status"] for f in report["findings"] if f["provider"] in (None, "acme")}
    assert (statuses["codex.run"] == "ok") is finishes, [f for f in report["findings"] if f["check"] == "codex.run"]
    assert (proc.returncode == 0) is finishes, [f for f in report["findings"] if f["status"] == "fail"]
    if finishes:
        # The doctor's turn went to the provider, and it was the new release that sent it.
        agents = {r.headers.get("user-agent", "").split(" ")[0] for r in server.requests_to("/responses", "POST")}
        assert {a for a in agents if a.startswith("codex")} == {f"codex_exec/{new_version}"}
    else:
        failing = [f["check"] for f in report["findings"] if f["status"] == "fail"]
        assert "profile.legacy-default" in failing, report["findings"]

    # Without --codex, the doctor judges with the Codex on PATH (0.133.0, which reads the legacy
    # profile): the setup is fine for the release the user runs today.
    today, today_report = _doctor(codex_home, codex_bin_0133, None, tmp_path)
    assert today_report["codex"]["version"] == "0.133.0"
    assert today.returncode == 0, [f for f in today_report["findings"] if f["status"] == "fail"]
