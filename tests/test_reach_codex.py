"""`codexprov models ID` and `codexprov doctor ID` answer "what does Codex send to this provider?"
from one room (codexprov/codex/reach.py), so they cannot disagree; the real Codex 0.169.0 is the judge.

Each setup is one way a key reaches Codex (an env var, one ending in a newline, an auth command,
`experimental_bearer_token`, `$CODEX_HOME/.env`, the login in auth.json for `requires_openai_auth`,
`$CODEX_API_KEY` under `codex exec`), written by hand, with a FakeServer on 127.0.0.1 that wants
exactly KEY. `codex exec` runs one turn; then the installed `codexprov` runs `models acme` and
`doctor acme` in the same environment. All three must agree: the turn finishes exactly when
`models` lists and `doctor` exits 0.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.app_server import AppServer
from tests.codexrun import codexprov_env, run_codex, run_codexprov

pytestmark = pytest.mark.codex

KEY = "sk-reach-right-000000000000001"
AUTH_JSON = json.dumps({"auth_mode": "apikey", "OPENAI_API_KEY": KEY})


@dataclass
class KeyForm:
    table: list[str]  # lines after name/base_url/wire_api/retries in [model_providers.acme] (HOME: codex home)
    env: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # relative to the codex home
    finishes: bool = True


HELPER = "#!/bin/sh\nprintf '%s\\n' " + KEY + "\n"
FORMS = {
    "env-var": KeyForm(['env_key = "ACME_API_KEY"'], {"ACME_API_KEY": KEY}),
    "env-var-newline": KeyForm(['env_key = "ACME_API_KEY"'], {"ACME_API_KEY": KEY + "\n"}, finishes=False),
    "env-var-unset": KeyForm(['env_key = "ACME_API_KEY"'], finishes=False),
    "auth-command": KeyForm(["[model_providers.acme.auth]", 'command = "HOME/print-key"'], files={"print-key": HELPER}),
    "auth-command-fails": KeyForm(
        ["[model_providers.acme.auth]", 'command = "HOME/print-key"'],
        files={"print-key": "#!/bin/sh\necho 'no session' >&2\nexit 3\n"},
        finishes=False,
    ),
    "bearer-token": KeyForm([f'experimental_bearer_token = "{KEY}"']),
    "dotenv": KeyForm(['env_key = "ACME_API_KEY"'], files={".env": f"# keys\nexport ACME_API_KEY='{KEY}'\n"}),
    "dotenv-overrides-shell": KeyForm(
        ['env_key = "ACME_API_KEY"'], {"ACME_API_KEY": KEY}, {".env": "ACME_API_KEY=sk-stale-0000\n"}, finishes=False
    ),
    "login": KeyForm(["requires_openai_auth = true"], files={"auth.json": AUTH_JSON}),
    "login-missing-openai-api-key": KeyForm(["requires_openai_auth = true"], {"OPENAI_API_KEY": KEY}, finishes=False),
    "codex-api-key": KeyForm(["requires_openai_auth = true"], {"CODEX_API_KEY": KEY}),
}


def write_setup(codex_home: Path, base_url: str, form: KeyForm) -> None:
    codex_home.mkdir(parents=True, exist_ok=True)
    lines = [
        'model = "fake-model"',
        'model_provider = "acme"',
        "",
        "[model_providers.acme]",
        'name = "Acme"',
        f'base_url = "{base_url}"',
        'wire_api = "responses"',
        "request_max_retries = 0",
        "stream_max_retries = 0",
        *(line.replace("HOME", str(codex_home)) for line in form.table),
    ]
    (codex_home / "config.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name, text in form.files.items():
        path = codex_home / name
        path.write_text(text, encoding="utf-8")
        if text.startswith("#!"):
            path.chmod(0o755)


@pytest.mark.parametrize("name", list(FORMS))
def test_models_doctor_and_codex_agree_on_the_key(name, codex_bin, codex_home, make_fake_server, tmp_path) -> None:
    form = FORMS[name]
    server = make_fake_server(expected_key=KEY, models=("fake-model", "other-model"))
    write_setup(codex_home, server.base_url, form)

    try:
        turn = run_codex(codex_bin, codex_home, "say pong", env_extra=form.env, timeout=60, strict=False)
        finished = turn.returncode == 0 and "pong" in turn.stdout
    except subprocess.TimeoutExpired:
        finished = False
    assert finished is form.finishes, name

    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    env = codexprov_env(codex_home, codex_bin, form.env, system_config=tmp_path / "no-etc" / "config.toml")
    models = run_codexprov(["models", "acme", "--json"], env, work)
    doctor = run_codexprov(["doctor", "acme", "--json"], env, work)
    report = json.loads(doctor.stdout)
    fails = [f["check"] for f in report["findings"] if f["status"] == "fail" and f.get("scope", "used") == "used"]

    assert (models.returncode == 0) is finished, (name, models.stderr)
    assert (doctor.returncode == 0) is finished, (name, fails)
    assert KEY not in models.stdout + models.stderr + doctor.stdout + doctor.stderr
    if finished:
        assert json.loads(models.stdout)["models"] == ["fake-model", "other-model"]
    else:
        assert fails, name
    expected = EXPECTED.get(name)
    if expected is not None:
        check, models_says = expected
        assert check in fails, (name, fails)
        assert models_says in models.stderr, (name, models.stderr)


# Why the failing forms fail, as each tool says it (the doctor's check id, words from `models`).
EXPECTED = {
    "env-var-newline": (
        "key.format",
        "acme refused the key from $ACME_API_KEY (it holds a newline, so Codex sends no Authorization header at all)",
    ),
    "env-var-unset": ("key.env-missing", "$ACME_API_KEY is not set here"),
    "auth-command-fails": ("key.auth-command", "exited with status 3 (no session) of acme"),
    "login-missing-openai-api-key": (
        "key.login-missing",
        "no $CODEX_API_KEY; $OPENAI_API_KEY is set, but Codex does not read it",
    ),
}


def test_codex_api_key_is_read_by_codex_exec_only(codex_bin, codex_home, make_fake_server, tmp_path) -> None:
    """Plain `codex` (the TUI, and IDEs through the app-server, which share its login) sends no key
    from $CODEX_API_KEY; `codex exec` does. The doctor's verdict follows `codex exec` and says so."""
    server = make_fake_server(expected_key=KEY)
    write_setup(codex_home, server.base_url, FORMS["codex-api-key"])
    with AppServer(codex_bin, codex_home, env_extra={"CODEX_API_KEY": KEY}) as app:
        thread = app.call("thread/start", {})
        app.call("turn/start", {"threadId": thread["thread"]["id"], "input": [{"type": "text", "text": "say pong"}]})
        deadline = time.monotonic() + 30
        while not server.requests_to("/responses", "POST") and time.monotonic() < deadline:
            time.sleep(0.2)
    [plain] = server.requests_to("/responses", "POST")[:1]
    assert plain.headers.get("authorization") is None

    server.clear()
    turn = run_codex(codex_bin, codex_home, "say pong", env_extra={"CODEX_API_KEY": KEY}, timeout=60, strict=False)
    assert turn.returncode == 0 and "pong" in turn.stdout
    assert {r.headers.get("authorization") for r in server.requests_to("/responses", "POST")} == {f"Bearer {KEY}"}

    env = codexprov_env(codex_home, codex_bin, {"CODEX_API_KEY": KEY}, system_config=tmp_path / "no-etc" / "c.toml")
    doctor = run_codexprov(["doctor", "acme", "--json"], env, tmp_path)
    assert doctor.returncode == 0
    [source] = [f for f in json.loads(doctor.stdout)["findings"] if f["check"] == "key.source"]
    assert (source["status"], source["message"], source["fix"]) == (
        "warn",
        "key from $CODEX_API_KEY (sk-…0001), which only `codex exec` reads: plain `codex` does not read "
        "$CODEX_API_KEY and has no login: it sends no key",
        "codex login --with-api-key  (so plain `codex` and IDEs send it too)",
    )
