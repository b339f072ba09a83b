"""No false alarm on a working bridged provider: with the LiteLLM that `bridge install` puts in, the
generic probes would fail twice (LiteLLM lists `*` as its one model and answers a body-less
`/responses` probe with a 500) while Codex works. The doctor judges a bridged provider by the bridge
checks and the streamed Codex-shaped request instead; `codex doctor --network-only` is run too where
the release has it (0.166.0 on)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.codexrun import codex_doctor_network_only, run_codex

pytestmark = [pytest.mark.codex, pytest.mark.keyring]


def test_working_bridged_provider_is_healthy(bridged, codex_bin: Path, tmp_path: Path) -> None:
    pid = bridged.ids["custom"]
    # A codex home of this test's own, with the session's providers and this one active.
    home = tmp_path / "codex-home"
    home.mkdir()
    text = (bridged.codex_home / "config.toml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^(model_provider|model) = .*\n", "", text)
    (home / "config.toml").write_text(
        f'model_provider = "{pid}"\nmodel = "{bridged.models[pid]}"\n' + text, encoding="utf-8"
    )
    env = {**bridged.env, "CODEX_HOME": str(home)}

    proc = run_codex(codex_bin, home, "say pong", env_extra=bridged.codex_extra, timeout=150, strict=False)
    assert proc.returncode == 0, proc.stderr[-3000:]

    exe = shutil.which("codexprov")
    assert exe is not None
    ours = subprocess.run(
        [exe, "doctor", "--json", "--timeout", "20"], capture_output=True, text=True, env=env, timeout=180, check=False
    )
    report = json.loads(ours.stdout)
    mine = {f["check"]: (f["status"], f["message"]) for f in report["findings"] if f["provider"] == pid}
    assert ours.returncode == 0, [f for f in report["findings"] if f["status"] == "fail"]
    assert mine["net.models"][0] == mine["net.responses-route"][0] == "skip"
    assert mine["net.models"][1] == f"net.models skipped: {pid} goes through codexprov's bridge (see bridge.*)"
    assert mine["net.stream"][0] == "ok", mine["net.stream"]
    assert mine["net.stream"][1].endswith("shape from the installed Codex")
    assert mine["bridge.upstream"][0] == "ok"

    # Codex's own doctor, for the verdict table (it is right here too: the turn works), where this
    # release has the network-only report.
    verdict = "n/a"
    if codex_doctor_network_only(codex_bin):
        theirs = subprocess.run(
            [str(codex_bin), "doctor", "--network-only", "--json"],
            capture_output=True,
            text=True,
            env={**env, **bridged.codex_extra},
            cwd=tmp_path,
            timeout=120,
            check=False,
        )
        verdict = "fail" if json.loads(theirs.stdout)["overallStatus"] == "fail" else "ok"
    table = os.environ.get("CODEXPROV_VERDICT_TABLE")
    if table:
        row = {"case": "working bridged provider", "fault": "bridge", "codex_exec": "finishes"}
        row |= {"codexprov_doctor": "ok", "codex_doctor": verdict, "failed": []}
        with open(table, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")
