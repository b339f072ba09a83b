"""`use` and a Codex that is already running (probed with the real binary): the app-server, on
stdio or as the daemon behind `codex app-server daemon`, starts its next thread on the provider
`use` chose, an open thread keeps its own, and `use` says so in one line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from codexprov.codex import appserver
from codexprov.codex.capabilities import capabilities
from codexprov.codex.version import parse_version
from tests.app_server import AppServer, AppServerError
from tests.codexrun import codex_env, codex_version

pytestmark = pytest.mark.codex
KEY = "sk-test-running-0123456789"


def _config(codex_home: Path, a: str, b: str) -> Path:
    codex_home.mkdir(parents=True, exist_ok=True)
    path = codex_home / "config.toml"
    path.write_text(
        'model = "fake-model"\nmodel_provider = "a"\n\n'
        f'[model_providers.a]\nname = "A"\nbase_url = "{a}"\nenv_key = "K"\nrequest_max_retries = 0\n\n'
        f'[model_providers.b]\nname = "B"\nbase_url = "{b}"\nenv_key = "K"\nrequest_max_retries = 0\n',
        encoding="utf-8",
    )
    return path


def _turn(server: AppServer, thread_id: str | None, cwd: Path, *servers) -> str:
    """One turn (on a new thread when thread_id is None); waits until a fake server got it."""
    if thread_id is None:
        thread_id = server.call("thread/start", {"cwd": str(cwd)})["thread"]["id"]
    before = sum(len(s.requests_to("/responses", "POST")) for s in servers)
    server.call("turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": "hi"}]})
    deadline = time.monotonic() + 30
    while sum(len(s.requests_to("/responses", "POST")) for s in servers) == before:
        assert time.monotonic() < deadline, "no request reached either provider"
        time.sleep(0.2)
    return thread_id


def test_use_reaches_a_running_app_server(
    run_cli, codex_bin: Path, codex_home: Path, make_fake_server, monkeypatch
) -> None:
    a, b = make_fake_server(), make_fake_server()
    _config(codex_home, a.base_url, b.base_url)
    monkeypatch.setattr(
        "tests.app_server.codex_env", lambda home, extra=None: codex_env(home, {"K": KEY, **(extra or {})})
    )
    with AppServer(codex_bin, codex_home) as server:
        open_thread = _turn(server, None, codex_home.parent, a, b)
        assert (len(a.requests_to("/responses", "POST")), len(b.requests_to("/responses", "POST"))) == (1, 0)
        used = run_cli("--codex", str(codex_bin), "use", "b")
        assert used.exit_code == 0, used.stderr
        a.clear()
        _turn(server, None, codex_home.parent, a, b)  # a new thread: the new provider
        assert (len(a.requests_to("/responses", "POST")), len(b.requests_to("/responses", "POST"))) == (0, 1)
        b.clear()
        caps = capabilities(parse_version(codex_version(codex_bin)))
        if caps.open_threads_refused:
            # 0.166 to 0.169 may refuse it (seen on 0.166 every time, on 0.169 under load only).
            outcome = ""
            try:
                _turn(server, open_thread, codex_home.parent, a, b)
            except AppServerError as refused:
                outcome = str(refused)
            if outcome:
                assert "This chat uses a, but your current provider is b" in outcome
            else:
                assert (len(a.requests_to("/responses", "POST")), len(b.requests_to("/responses", "POST"))) == (1, 0)
        else:  # the open thread keeps its provider
            _turn(server, open_thread, codex_home.parent, a, b)
            assert (len(a.requests_to("/responses", "POST")), len(b.requests_to("/responses", "POST"))) == (1, 0)


@pytest.fixture
def daemon(codex_bin: Path, codex_home: Path):
    """`codex app-server daemon start` on the test's CODEX_HOME; stopped (and its updater ended) after."""
    from codexprov.codex.capabilities import capabilities
    from codexprov.codex.version import parse_version
    from tests.codexrun import codex_version

    if not capabilities(parse_version(codex_version(codex_bin))).provider_editor:
        pytest.skip("modelProvider/list (what `use` asks the daemon) arrived in 0.169")
    env = codex_env(codex_home, {"K": KEY})
    started = subprocess.run(
        [str(codex_bin), "app-server", "daemon", "start"],
        env=env,
        cwd=codex_home.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if started.returncode != 0:
        pytest.skip(f"this Codex runs no app-server daemon: {started.stderr.strip()[-200:]}")
    assert json.loads(started.stdout)["socketPath"] == str(appserver.control_socket(codex_home))
    yield
    subprocess.run(
        [str(codex_bin), "app-server", "daemon", "stop"], env=env, capture_output=True, timeout=60, check=False
    )
    updater = codex_home / "app-server-daemon" / "daemon-updater.pid"
    try:
        text = updater.read_text().strip()
        pid = int(json.loads(text)["pid"]) if text.startswith("{") else int(text.split()[0])
        os.kill(pid, signal.SIGKILL)
    except (OSError, ValueError, KeyError):
        pass


@pytest.mark.usefixtures("configured", "daemon")
def test_use_tells_about_the_running_daemon(run_cli, codex_bin: Path, codex_home: Path) -> None:
    config = codex_home / "config.toml"
    assert config.exists()
    assert appserver.daemon_default(codex_home) == "a"
    used = run_cli("--codex", str(codex_bin), "use", "b")
    assert used.exit_code == 0, used.stderr
    refused = capabilities(parse_version(codex_version(codex_bin))).open_threads_refused
    tail = (
        f"; Codex {codex_version(codex_bin)}'s app-server may refuse open threads of other providers until you switch back"
        if refused
        else ""
    )
    assert used.stderr.splitlines()[-1] == (
        f"note: a running Codex starts its next chat (/new, a new thread) on b; no restart needed{tail}"
    )
    assert appserver.daemon_default(codex_home) == "b"


@pytest.fixture
def configured(codex_home: Path) -> None:
    _config(codex_home, "http://127.0.0.1:9/v1", "http://127.0.0.1:9/v1")


@pytest.mark.usefixtures("configured")
def test_no_daemon_no_note(run_cli, codex_bin: Path, codex_home: Path) -> None:
    assert appserver.daemon_default(codex_home) is None
    used = run_cli("--codex", str(codex_bin), "use", "b")
    assert used.exit_code == 0, used.stderr
    assert "running Codex" not in used.stderr
