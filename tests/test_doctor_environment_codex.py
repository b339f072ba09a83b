"""The environment Codex starts in, judged by the real Codex 0.169.0 first, then by `codexprov doctor`.

Each class of issue 19's "model Codex's environment exactly" has a scenario that breaks the turn and
a look-alike that keeps it working: `OPENAI_BASE_URL` relied on vs not, `CODEX_HOME="~/.codex"`
literal vs a full path, a dead proxy vs one that `NO_PROXY` covers, a trusted vs an untrusted
project config changing `model`. (`.env` keys, the login of `requires_openai_auth` and
`CODEX_API_KEY` vs `OPENAI_API_KEY` are in tests/test_reach_codex.py.) `codex exec` decides the
truth; the installed `codexprov doctor`, run in the same environment and folder, must exit 0 exactly
when the turn finished, and fail on the named check when it did not.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.codexrun import QUIET_ARGS, codex_env, codexprov_env, run_codexprov

pytestmark = pytest.mark.codex

KEY = "sk-environment-right-000000001"
DEAD_PROXY = "http://127.0.0.1:9"


@dataclass
class Case:
    config: list[str]  # config.toml (BASE: the server's base URL, WORK: the folder Codex runs in)
    env: dict[str, str] = field(default_factory=dict)  # over codex_env (BASE replaced too)
    files: dict[str, str] = field(default_factory=dict)  # relative to the test's home
    finishes: bool = True
    fails: str | None = None  # the doctor check that must fail
    timeout: float = 60


ACME = [
    'model = "fake-model"',
    'model_provider = "acme"',
    "",
    "[model_providers.acme]",
    'name = "Acme"',
    'base_url = "BASE"',
    'wire_api = "responses"',
    'env_key = "ACME_API_KEY"',
    "request_max_retries = 0",
    "stream_max_retries = 0",
]
TRUST = ["", '[projects."WORK"]', 'trust_level = "trusted"']
PROJECT = {"work/.codex/config.toml": 'model = "other-model"\n'}
ON_OPENAI = ['model = "fake-model"']

CASES = {
    # OPENAI_BASE_URL: Codex no longer reads it, so the built-in openai goes to api.openai.com
    "openai-base-url-relied-on": Case(
        ON_OPENAI,
        {"OPENAI_BASE_URL": "BASE", "CODEX_API_KEY": KEY},
        finishes=False,
        fails="env.ignored-variable",
        timeout=20,
    ),
    "openai-base-url-stale": Case(
        [*ON_OPENAI, 'openai_base_url = "BASE"'], {"OPENAI_BASE_URL": "BASE", "CODEX_API_KEY": KEY}
    ),
    # CODEX_HOME with a literal ~: Codex does not expand it and will not start
    "codex-home-tilde": Case(
        ACME, {"ACME_API_KEY": KEY, "CODEX_HOME": "~/.codex"}, finishes=False, fails="env.codex-home"
    ),
    "codex-home-full-path": Case(ACME, {"ACME_API_KEY": KEY}),
    # a dead proxy: NO_PROXY=localhost does not cover 127.0.0.1; codex_env's NO_PROXY does
    "proxy-dead": Case(
        ACME,
        {"ACME_API_KEY": KEY, "NO_PROXY": "localhost", "no_proxy": "localhost"},
        finishes=False,
        fails="env.proxy",
        timeout=20,
    ),
    "proxy-covered-by-no-proxy": Case(ACME, {"ACME_API_KEY": KEY}),
    # a project's .codex/config.toml changes the model only once the project is trusted
    "project-trusted": Case(ACME + TRUST, {"ACME_API_KEY": KEY}, files=PROJECT, finishes=False, fails="net.stream"),
    "project-untrusted": Case(ACME, {"ACME_API_KEY": KEY}, files=PROJECT),
}


@dataclass
class Judged:
    finished: bool
    codex_stderr: str
    exit_code: int
    findings: list[dict]
    models: subprocess.CompletedProcess[str]  # `codexprov models acme` in the same environment

    def fails(self) -> list[str]:
        return [f["check"] for f in self.findings if f["status"] == "fail" and f.get("scope", "used") == "used"]

    def finding(self, check: str, status: str) -> dict:
        [found] = [f for f in self.findings if f["check"] == check and f["status"] == status]
        return found


def judge(case: Case, codex_bin: Path, codex_home: Path, make_fake_server, tmp_path: Path) -> Judged:
    server = make_fake_server(expected_key=KEY, models=("fake-model",), unknown_model_error=True)
    home = codex_home.parent
    work = home / "work"
    work.mkdir(parents=True, exist_ok=True)
    codex_home.mkdir(parents=True, exist_ok=True)

    def fill(text: str) -> str:
        return text.replace("BASE", server.base_url).replace("WORK", str(work))

    (codex_home / "config.toml").write_text("\n".join(fill(line) for line in case.config) + "\n", encoding="utf-8")
    for name, text in case.files.items():
        path = home / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(fill(text), encoding="utf-8")
    extra = {k: fill(v) for k, v in case.env.items()}

    env = codex_env(codex_home, extra)
    command = [str(codex_bin), "exec", "--skip-git-repo-check", *QUIET_ARGS, "say pong"]
    try:
        turn = subprocess.run(
            command,
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=case.timeout,
            check=False,
        )
        finished, stderr = turn.returncode == 0 and "pong" in turn.stdout, turn.stderr
    except subprocess.TimeoutExpired:
        finished, stderr = False, "(timed out)"

    tool = codexprov_env(codex_home, codex_bin, extra, system_config=tmp_path / "no-etc" / "config.toml")
    doctor = run_codexprov(["doctor", "--json"], tool, work)
    report = json.loads(doctor.stdout)
    models = run_codexprov(["models", "acme"], tool, work)
    return Judged(finished, stderr, doctor.returncode, report["findings"], models)


@pytest.mark.parametrize("name", list(CASES))
def test_doctor_exit_status_matches_the_codex_turn(name, codex_bin, codex_home, make_fake_server, tmp_path) -> None:
    case = CASES[name]
    out = judge(case, codex_bin, codex_home, make_fake_server, tmp_path)
    assert out.finished is case.finishes, (name, out.codex_stderr[-1500:])
    assert (out.exit_code == 0) is out.finished, (name, out.fails())
    if case.fails is not None:
        assert case.fails in out.fails(), (name, out.fails())
    else:
        assert out.fails() == [], name
    assert KEY not in json.dumps(out.findings)


def test_a_dead_proxy_is_named_not_the_provider(codex_bin, codex_home, make_fake_server, tmp_path) -> None:
    out = judge(CASES["proxy-dead"], codex_bin, codex_home, make_fake_server, tmp_path)
    assert out.fails() == ["env.proxy"]
    proxy = out.finding("env.proxy", "fail")
    base = proxy["message"].split(" through the proxy")[0].removeprefix("Codex sends the requests for ")
    assert proxy["message"] == (
        f"Codex sends the requests for {base} through the proxy {DEAD_PROXY} (from $HTTP_PROXY), and nothing "
        "answers there; NO_PROXY (localhost) does not cover 127.0.0.1: every turn waits and fails"
    )
    assert proxy["fix"] == "export NO_PROXY=127.0.0.1,localhost  (or unset HTTP_PROXY, or start the proxy)"
    # the provider is not blamed: its probes are skipped, pointing at the proxy
    reachable = out.finding("net.reachable", "skip")
    assert reachable["message"] == "not probed: its requests go through a proxy nothing answers on (see env.proxy)"
    # `models` goes the way Codex goes, and says so
    assert out.models.returncode != 0
    assert f"{base}/models (through the proxy {DEAD_PROXY} from $HTTP_PROXY, as Codex goes):" in out.models.stderr
    covered = judge(CASES["proxy-covered-by-no-proxy"], codex_bin, codex_home, make_fake_server, tmp_path / "c")
    assert covered.models.returncode == 0 and covered.models.stdout == "fake-model\n"


def test_messages_name_the_variable_and_the_layer(codex_bin, codex_home, make_fake_server, tmp_path) -> None:
    ignored = judge(CASES["openai-base-url-relied-on"], codex_bin, codex_home, make_fake_server, tmp_path)
    message = ignored.finding("env.ignored-variable", "fail")["message"]
    assert message.startswith("$OPENAI_BASE_URL is set (http://127.0.0.1:")
    assert message.endswith(
        "but Codex no longer reads $OPENAI_BASE_URL (the top-level `openai_base_url` in config.toml replaced it): "
        "the active provider `openai` goes to https://api.openai.com/v1"
    )

    tilde = judge(CASES["codex-home-tilde"], codex_bin, codex_home, make_fake_server, tmp_path / "t")
    found = tilde.finding("env.codex-home", "fail")
    assert found["message"] == (
        'CODEX_HOME is "~/.codex" with a literal `~`, which Codex does not expand: it stops with '
        '`CODEX_HOME points to "~/.codex", but that path does not exist`'
    )
    assert found["fix"].startswith(f'export CODEX_HOME="{codex_home}"')
    assert 'CODEX_HOME points to "~/.codex", but that path does not exist' in tilde.codex_stderr


def test_the_project_layer_is_named(codex_bin, codex_home, make_fake_server, tmp_path) -> None:
    out = judge(CASES["project-trusted"], codex_bin, codex_home, make_fake_server, tmp_path)
    work = codex_home.parent / "work"
    layer = out.finding("env.project-layer", "ok")
    assert layer["message"] == (
        f"model `other-model` comes from the trusted project config {work / '.codex' / 'config.toml'} "
        f"(it overrides the user config's `fake-model` for every run in {work})"
    )
    assert layer["line"] == 1
