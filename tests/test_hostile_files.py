"""Issue 24 items 6, 8 and 11: files and folders someone else may have planted. A FIFO or device
where a config or rollout file belongs is an error naming the path (never a hang), a doubled
byte-order mark is refused with file:line like any invalid file, and codexprov's own folders are
private whatever the umask.

The commands run as the installed executable under a hard timeout: a hang is a failure, not a
frozen test run."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs, devices and umask are POSIX")

PROVIDER = '[model_providers.a]\nname = "A"\nbase_url = "http://127.0.0.1:9/v1"\n'

COMMANDS = [
    ["list"],
    ["list", "--json"],
    ["show", "a"],
    ["add", "custom", "--id", "x", "--base-url", "http://127.0.0.1:9/v1", "--key-mode", "none"],
    ["sessions"],
    ["remove", "a", "--force"],
    ["use", "a"],
    ["key", "migrate", "--dry-run"],
]


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["HOME"] = str(home)
    env["CODEX_HOME"] = str(home / ".codex")
    return env


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_item6_a_fifo_or_device_as_config_is_refused_never_a_hang(run_exe, isolated_home, config_file, kind):
    if kind == "fifo":
        os.mkfifo(config_file)
        what = "a FIFO (named pipe)"
    else:
        config_file.symlink_to("/dev/zero")
        what = "a character device"
    expected = (
        f"error: cannot read {config_file}: it is {what}, not a regular file\n"
        f"hint: Replace it with a regular file (`ls -l {config_file}` shows what it is).\n"
    )
    env = _env(isolated_home)
    for argv in COMMANDS:
        result = run_exe(*argv, env=env, timeout=10)
        assert (result.exit_code, result.stdout, result.stderr) == (8, "", expected), argv
    doctor = run_exe("doctor", "--offline", env=env, timeout=20)
    assert doctor.exit_code == 1
    assert f"✗ cannot read {config_file}: it is {what}, not a regular file" in doctor.stdout
    completion = run_exe("__complete", "bash", "use", "", env=env, timeout=10)
    assert (completion.exit_code, completion.stdout) == (1, "")
    assert stat.S_ISFIFO(os.lstat(config_file).st_mode) if kind == "fifo" else config_file.is_symlink()


def test_item6_a_fifo_as_profile_file_or_recipe_is_skipped_or_refused(run_exe, isolated_home, config_file):
    config_file.write_text(PROVIDER, encoding="utf-8")
    os.mkfifo(config_file.parent / "work.config.toml")
    recipes = isolated_home / ".config" / "codexprov" / "recipes"
    recipes.mkdir(parents=True)
    os.mkfifo(recipes / "team.toml")
    env = _env(isolated_home)
    listed = run_exe("list", env=env, timeout=10)
    assert listed.exit_code == 0, listed.stderr
    shown = run_exe("recipes", env=env, timeout=10)
    assert "Traceback" not in shown.stderr
    assert f"{recipes / 'team.toml'}" in shown.stderr
    assert "it is a FIFO (named pipe), not a regular file" in shown.stderr


def test_item6_a_fifo_as_rollout_file_is_skipped_with_a_warning(run_exe, isolated_home, config_file):
    config_file.write_text(PROVIDER, encoding="utf-8")
    day = config_file.parent / "sessions" / "2026" / "12" / "01"
    day.mkdir(parents=True)
    fifo = day / "rollout-2026-12-01T10-00-00-0192e6a0-0000-7000-8000-000000000001.jsonl"
    os.mkfifo(fifo)
    env = _env(isolated_home)
    for argv in (["sessions"], ["sessions", "--provider", "a"], ["remove", "a", "--dry-run"]):
        result = run_exe(*argv, env=env, timeout=10)
        assert "Traceback" not in result.stderr, argv
        if argv[0] == "sessions":
            assert result.exit_code == 0, result.stderr
            assert f"warning: skipped {fifo}: it is a FIFO (named pipe), not a regular file; skipped\n" in result.stderr


def test_item11_a_doubled_byte_order_mark_is_refused_with_file_and_line(run_cli, config_file):
    raw = b"\xef\xbb\xbf\xef\xbb\xbf" + PROVIDER.encode()
    config_file.write_bytes(raw)
    expected = (
        f"error: {config_file}:1:2: invalid TOML: a second byte-order mark (U+FEFF) after the first; Codex refuses the file\n"
        "hint: Remove the extra byte-order mark at the start of the file (re-save it as UTF-8 with at most one).\n"
    )
    for argv in (
        ["list"],
        ["show", "a"],
        ["add", "custom", "--id", "x", "--base-url", "http://127.0.0.1:9/v1", "--key-mode", "none"],
        ["use", "a"],
        ["remove", "a", "--force"],
    ):
        result = run_cli(*argv)
        assert (result.exit_code, result.stdout, result.stderr) == (3, "", expected), argv
    assert config_file.read_bytes() == raw
    # One byte-order mark stays fine (Codex accepts it) and is kept on write.
    config_file.write_bytes(b"\xef\xbb\xbf" + PROVIDER.encode())
    assert run_cli("use", "a").exit_code == 0
    assert config_file.read_bytes().startswith(b'\xef\xbb\xbfmodel_provider = "a"\n')


# ------------------------------------------------------------------------------ item 8: private folders


@pytest.fixture
def umask_000():
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_item8_private_folders_are_0700_under_umask_000(run_cli, isolated_home, config_file, memory_keyring, umask_000):
    from codexprov.bridge.layout import resolve as bridge_layout
    from codexprov.bridge.layout import write_private
    from codexprov.paths import resolve

    config_file.write_text('[model_providers.a]\nname = "A"\nbase_url = "http://127.0.0.1:9/v1"\n', encoding="utf-8")
    assert run_cli("use", "a").exit_code == 0
    assert run_cli("use", "a", "--model", "m2").exit_code == 0
    assert run_cli("list").exit_code == 0
    paths = resolve()
    state = paths.state_dir
    created = [state, paths.backup_dir, *[p for p in state.rglob("*") if p.is_dir()]]
    assert paths.backup_dir in created and len(created) >= 3
    assert {str(p.relative_to(isolated_home)): _mode(p) for p in created} == {
        str(p.relative_to(isolated_home)): 0o700 for p in created
    }
    # The parents codexprov created on the way (~/.local/state) too.
    assert _mode(state.parent) == 0o700
    layout = bridge_layout()
    write_private(layout.state_file, "{}")
    assert _mode(layout.state_file.parent) == 0o700 and _mode(layout.state_file.parent.parent) == 0o700


def test_item8_the_bridge_venv_is_private_under_umask_000(tmp_path, umask_000):
    from codexprov.bridge.install import _run

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], "create a virtualenv")
    writable = [p for p in [venv, *venv.rglob("*")] if not p.is_symlink() and _mode(p) & 0o022]
    assert writable == []
    assert _mode(venv) == 0o700


def test_item8_a_state_folder_others_can_write_is_refused_with_the_fix(run_cli, isolated_home, config_file):
    from codexprov.paths import resolve

    config_file.write_text('[model_providers.a]\nname = "A"\nbase_url = "http://127.0.0.1:9/v1"\n', encoding="utf-8")
    assert run_cli("use", "a").exit_code == 0
    state = resolve().state_dir
    state.chmod(0o777)
    before = config_file.read_bytes()
    expected = (
        f"error: refusing to use {state}: it can be written by other users (mode 0777), so another user could plant "
        "files codexprov reads there\n"
        f"hint: Run `chmod go-w {state}` (codexprov creates it 0700).\n"
    )
    for argv in (["list"], ["use", "a", "--model", "m2"], ["undo"]):
        result = run_cli(*argv)
        assert (result.exit_code, result.stderr) == (8, expected), argv
    assert config_file.read_bytes() == before
    state.chmod(0o700)
    assert run_cli("list").exit_code == 0


# ------------------------------------------------------------------------------ item 9: newlines in tables

NEWLINE_ID = '[model_providers."x\\ny"]\nname = "X\\nY"\nbase_url = "http://127.0.0.1:9/v1"\n'


def test_item9_newlines_in_ids_and_session_folders_stay_on_their_row(run_cli, config_file):
    import json

    config_file.write_text(NEWLINE_ID, encoding="utf-8")
    listed = run_cli("list")
    assert listed.exit_code == 0, listed.stderr
    rows = listed.stdout.splitlines()
    assert len(rows) == 7  # the header, five built-ins, x\ny
    assert rows[-1].split() == ["x\\ny", "X\\nY", "http://127.0.0.1:9/v1", "none", "config"]
    day = config_file.parent / "sessions" / "2026" / "11" / "20"
    day.mkdir(parents=True)
    meta = {
        "timestamp": "2026-11-20T10:00:00.001Z",
        "type": "session_meta",
        "payload": {
            "id": "s1",
            "timestamp": "2026-11-20T10:00:00.000Z",
            "cwd": "/work\nforged\trow",
            "model_provider": "x\ny",
        },
    }
    (day / "rollout-2026-11-20T10-00-00-s1.jsonl").write_text(json.dumps(meta) + "\n", encoding="utf-8")
    sessions = run_cli("sessions")
    assert sessions.exit_code == 0, sessions.stderr
    assert len(sessions.stdout.splitlines()) == 2
    assert sessions.stdout.splitlines()[1].endswith("/work\\nforged\\trow")


def test_item9_the_guided_pick_keeps_each_entry_on_its_line(config_file, isolated_home):
    import shutil

    from tests import terminal
    from tests.conftest import require

    exe = shutil.which("codexprov")
    require(exe is not None, "the codexprov executable is not on PATH (pip install -e .)")
    assert exe is not None
    config_file.write_text(NEWLINE_ID, encoding="utf-8")
    term = terminal.Terminal([exe, "use"], env={**_env(isolated_home), "NO_COLOR": "1"})
    shown = term.expect(r"Pick a number \[1\]: $")
    lines = shown.replace("\r\n", "\n").splitlines()
    assert lines[1:7] == [
        "  1) openai  OpenAI  (active)",
        "  2) ollama  Ollama",
        "  3) lmstudio  LM Studio",
        "  4) amazon-bedrock  Amazon Bedrock",
        "  5) gcp  Google Cloud Vertex AI",
        "  6) x\\ny  X\\nY",
    ]
    term.send("2\r")
    assert term.wait() == 0


# ------------------------------------------------------------------------------ item 10: the parse cache


def test_item10_the_parse_cache_keeps_no_plain_text_key(run_cli, config_file, isolated_home):
    from codexprov.paths import resolve

    key = "cachedkey0123456789abcdef"
    config_file.write_text(PROVIDER + f'experimental_bearer_token = "{key}"\n', encoding="utf-8")
    parsed = resolve().cache_dir / "parsed"
    for argv in (["list"], ["list"], ["show", "a"]):
        assert run_cli(*argv).exit_code == 0
    assert [p for p in parsed.rglob("*") if key.encode() in p.read_bytes()] == []
    # A config without a plain-text key is cached as before.
    config_file.write_text(PROVIDER + 'env_key = "A_KEY"\n', encoding="utf-8")
    assert run_cli("list").exit_code == 0
    (entry,) = parsed.glob("*.json")
    assert b'"env_key":"A_KEY"' in entry.read_bytes()
    # The key comes back: the entry goes.
    config_file.write_text(PROVIDER + f'experimental_bearer_token = "{key}"\n', encoding="utf-8")
    assert run_cli("list").exit_code == 0
    assert list(parsed.glob("*.json")) == []


def test_item10_an_edit_checks_what_it_changed_before_caching(tmp_path):
    """After an edit of a cached (so secret-free) document, only the changed top-level keys are
    checked: a secret among them keeps the result out of the cache and removes the old entry."""
    from codexprov.config import cache

    folder, file = tmp_path / "cache", tmp_path / "config.toml"
    folder.mkdir(mode=0o700)
    file.write_text("x = 1\n", encoding="utf-8")
    before = {"model": "m", "projects": {"/p": {"trust_level": "trusted"}}}
    assert cache.put(folder, file, before) is True
    (entry,) = (folder / "parsed").glob("*.json")
    after = dict(before, model_provider="acme")
    assert cache.put(folder, file, after, secret_free_before=before) is True
    assert b'"model_provider":"acme"' in entry.read_bytes()
    leaked = dict(before, model_providers={"acme": {"experimental_bearer_token": "cachedkey0123456789abcdef"}})
    assert cache.put(folder, file, leaked, secret_free_before=before) is False
    assert list((folder / "parsed").glob("*.json")) == []


def test_item10_use_caches_the_edited_config(run_cli, config_file, isolated_home):
    from codexprov.paths import resolve

    config_file.write_text(PROVIDER + 'env_key = "A_KEY"\n', encoding="utf-8")
    assert run_cli("list").exit_code == 0
    assert run_cli("use", "a").exit_code == 0
    (entry,) = (resolve().cache_dir / "parsed").glob("*.json")
    assert b'"model_provider":"a"' in entry.read_bytes()


def test_item8_a_bridge_folder_others_can_write_is_refused_with_the_fix(run_cli, isolated_home, monkeypatch):
    from codexprov.bridge.layout import resolve as bridge_layout
    from codexprov.bridge.layout import write_private

    bridge = isolated_home / "bridge"
    monkeypatch.setenv("CODEXPROV_BRIDGE_DIR", str(bridge))
    write_private(bridge_layout().state_file, '{"format": 1, "port": 9, "upstreams": []}')
    assert _mode(bridge) == 0o700
    assert run_cli("bridge", "status").exit_code == 0
    bridge.chmod(0o777)
    result = run_cli("bridge", "status")
    assert (result.exit_code, result.stderr) == (
        8,
        f"error: refusing to use {bridge}: it can be written by other users (mode 0777), so another user could "
        "plant files codexprov reads there\n"
        f"hint: Run `chmod go-w {bridge}` (codexprov creates it 0700).\n",
    )
