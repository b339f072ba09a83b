"""Test isolation: no test touches the real home, keyring or network; the fixtures every module shares.

Guards (autouse, for every test):
- `isolated_home`: HOME, CODEX_HOME and the XDG folders point into the test's tmp_path; after the
  test, nothing may have appeared or changed in the real home's Codex, codexprov or keyring folders.
- `no_real_keyring`: keyring's fail backend in this process and, through PYTHON_KEYRING_BACKEND, in
  every child process, and no D-Bus session address (so `codexprov token`'s direct Secret Service
  path stays off too). Only a test marked `keyring` (required with `secret_service` and `bridged`)
  reaches the private Secret Service that scripts/test.sh starts.

Markers, checked at collection: a test that uses `codex_bin`/`codex_bin_0133` must be marked `codex`,
one that uses `secret_service` must be marked `keyring`, one that uses `bridged` both (a real Codex
fetched through `request.getfixturevalue` is checked when the fixture runs). `timing` tests assert
wall-clock time: they are left out of the default run (`-m "not timing"` in pyproject.toml) and run
with `-m timing`.

Shared fixtures: `codex_home`, `config_file`, `codex_bin`, `codex_bin_0133`, `run_cli` (codexprov
in-process), `run_exe` (the installed executable), `memory_keyring`, `secret_service`,
`provider_id` (a fresh id for a real-keyring test), `no_outside_configs` (for doctor runs), `fake_server`, `make_fake_server`, and `bridged` (tests/bridge_fixtures.py). Test modules never
import fixtures from each other.
Under CI=true a missing real part is a failure, never a skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.fake_server import FakeServer

REPO = Path(__file__).resolve().parent.parent
CODEX_CACHE = REPO / ".cache" / "codex"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# The fixtures that hand out a real Codex binary or the real Secret Service, and the markers each needs.
MARKERS_FOR_FIXTURE = {
    "codex_bin": ("codex",),
    "codex_bin_0133": ("codex",),
    "secret_service": ("keyring",),
    "bridged": ("codex", "keyring"),  # the session's LiteLLM bridge: real Codex, keys in the Secret Service
}


def _real_home_watch() -> list[Path]:
    """What codexprov, Codex and keyring would write under the real home (read before any test runs)."""
    import platformdirs

    home = Path(os.path.expanduser("~"))
    roots = [Path(os.environ.get("CODEX_HOME") or home / ".codex")]
    for name in ("codexprov", "python_keyring"):
        roots += [
            Path(platformdirs.user_config_dir(name, appauthor=False)),
            Path(platformdirs.user_state_dir(name, appauthor=False)),
            Path(platformdirs.user_data_dir(name, appauthor=False)),
            Path(platformdirs.user_cache_dir(name, appauthor=False)),
        ]
    return sorted(set(roots))


REAL_HOME = Path(os.path.expanduser("~"))
REAL_HOME_WATCH = _real_home_watch()


def _snapshot(roots: list[Path]) -> dict[str, tuple[int, int] | str]:
    """Whether each watched folder exists, and its entries (one level: Codex's own folders can be
    large) with size and mtime."""
    state: dict[str, tuple[int, int] | str] = {}
    for root in roots:
        try:
            entries = list(os.scandir(root))
        except FileNotFoundError:
            state[str(root)] = "missing"
            continue
        except OSError:
            state[str(root)] = "unreadable"
            continue
        state[str(root)] = "present"
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            state[entry.path] = (st.st_size, st.st_mtime_ns)
    return state


def _is_fixture(obj: object) -> bool:
    # pytest >= 8.4 wraps a fixture in a FixtureFunctionDefinition; older ones mark the function.
    return type(obj).__name__ == "FixtureFunctionDefinition" or hasattr(obj, "_pytestfixturefunction")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that uses the real Codex or the real Secret Service carries the marker saying so, and
    a test module defines its own fixtures or takes them from conftest.py, never imports them."""
    missing = []
    for module in {item.module for item in items if isinstance(item, pytest.Function) and item.module is not None}:
        for name, obj in vars(module).items():
            if _is_fixture(obj) and getattr(obj, "__module__", module.__name__) != module.__name__:
                missing.append(
                    f"  {module.__name__}: imports the fixture `{name}`; shared fixtures live in tests/conftest.py"
                )
    for item in items:
        for fixture in getattr(item, "fixturenames", ()):
            for marker in MARKERS_FOR_FIXTURE.get(fixture, ()):
                if item.get_closest_marker(marker) is not None:
                    continue
                missing.append(f"  {item.nodeid.split('[')[0]}: uses `{fixture}`, add @pytest.mark.{marker}")
    if missing:
        raise pytest.UsageError("test plumbing rules broken:\n" + "\n".join(sorted(set(missing))))


def _require_marker(request: pytest.FixtureRequest, marker: str, what: str) -> None:
    """For fixtures reached through request.getfixturevalue, which collection cannot see."""
    if request.node.get_closest_marker(marker) is None:
        pytest.fail(f"{request.node.nodeid} uses {what}: mark it @pytest.mark.{marker}")


def require(condition: bool, why: str) -> None:
    """Skip when a real part is missing on a dev machine; fail under CI, where it must exist."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required under CI=true: {why}")
    pytest.skip(why)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    codex_home = home / ".codex"
    codex_home.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    monkeypatch.setenv("CODEX_HOME", str(codex_home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.delenv("CODEXPROV_STATE_DIR", raising=False)
    monkeypatch.delenv("CODEXPROV_RECIPES_PATH", raising=False)
    monkeypatch.delenv("CODEXPROV_CODEX", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("TERM", "dumb")
    assert Path.home() == home, "Path.home() must follow HOME"
    from codexprov import redact

    redact.forget_all()  # secrets remembered by an earlier test must not mask this one's output
    before = _snapshot(REAL_HOME_WATCH)
    yield home
    # What appeared or changed; a disappearance is left out, because on a shared machine someone
    # else tidying their own home is no sign that this test wrote there.
    after = _snapshot(REAL_HOME_WATCH)
    written = sorted(k for k, v in after.items() if v not in ("missing", "unreadable") and before.get(k) != v)
    assert not written, f"the test wrote into the real home ({REAL_HOME}): {written}"


@pytest.fixture(autouse=True)
def no_real_keyring(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """keyring's fail backend everywhere, unless the test is marked `keyring` (the marker every test
    needs that uses the private Secret Service, see pytest_collection_modifyitems)."""
    if request.node.get_closest_marker("keyring") is not None:
        return
    import keyring.core
    from keyring.backends import fail

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setattr(keyring.core, "_keyring_backend", fail.Keyring())


@pytest.fixture
def codex_home(isolated_home: Path) -> Path:
    return isolated_home / ".codex"


@pytest.fixture
def config_file(codex_home: Path) -> Path:
    return codex_home / "config.toml"


def codex_path(version: str) -> Path:
    return CODEX_CACHE / version / "node_modules" / ".bin" / "codex"


# The Codex users run (npm `latest`), the first of scripts/test.sh's CODEX_VERSIONS.
PRIMARY_CODEX = "0.171.0"
# bench/codex_matrix.py runs the Codex-facing tests once per Codex version by setting this; CI
# leaves it unset and tests the primary release (and 0.133.0 through codex_bin_0133).
MATRIX_VERSION = os.environ.get("CODEXPROV_MATRIX_CODEX") or PRIMARY_CODEX


@pytest.fixture
def codex_bin(request: pytest.FixtureRequest) -> Path:
    _require_marker(request, "codex", "the real Codex CLI")
    path = codex_path(MATRIX_VERSION)
    require(path.exists(), f"the real Codex CLI {MATRIX_VERSION} is not installed at {path} (run scripts/test.sh)")
    return path


@pytest.fixture
def codex_bin_0133(request: pytest.FixtureRequest) -> Path:
    _require_marker(request, "codex", "the real Codex CLI")
    path = codex_path("0.133.0")
    require(path.exists(), f"the real Codex CLI 0.133.0 is not installed at {path} (run scripts/test.sh)")
    return path


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(capfd: pytest.CaptureFixture[str]):
    """Runs codexprov in-process (fast) and returns exit code, stdout and stderr."""
    from codexprov.__main__ import main

    def _run(*args: str, input: str | None = None) -> CliResult:
        capfd.readouterr()
        old_stdin = sys.stdin
        if input is not None:
            import io

            sys.stdin = io.StringIO(input)
        try:
            code = main(list(args))
        finally:
            sys.stdin = old_stdin
        captured = capfd.readouterr()
        return CliResult(code, captured.out, captured.err)

    return _run


@pytest.fixture
def run_exe():
    """Runs the installed `codexprov` executable as a subprocess (what Codex and users run)."""
    exe = shutil.which("codexprov")
    require(exe is not None, "the codexprov executable is not on PATH (pip install -e .)")

    def _run(*args: str, input: str | None = None, env: dict[str, str] | None = None, timeout: float = 60):
        proc = subprocess.run(
            [exe, *args], input=input, capture_output=True, text=True, env=env, timeout=timeout, check=False
        )
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    return _run


@pytest.fixture
def no_outside_configs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No /etc/codex and no project config from the real cwd in a doctor run: the system layer
    points into tmp_path and the cwd is a fresh git work tree there."""
    monkeypatch.setenv("CODEXPROV_SYSTEM_CONFIG", str(tmp_path / "etc" / "codex" / "config.toml"))
    work = tmp_path / "work"
    work.mkdir()
    (work / ".git").mkdir()
    monkeypatch.chdir(work)


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch):
    """keyring.set_keyring(MemoryKeyring()) for the test; no D-Bus, no keyring configuration."""
    import keyring
    import keyring.core

    from tests.keyrings import MemoryKeyring

    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    previous = keyring.core._keyring_backend
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.core._keyring_backend = previous


@pytest.fixture
def secret_service(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The private Secret Service scripts/test.sh starts (gnome-keyring under dbus-run-session),
    for this test, in process and in its children; returns its D-Bus address. Needs the `keyring` marker."""
    _require_marker(request, "keyring", "the real Secret Service")
    require(
        os.environ.get("CODEXPROV_TEST_SECRET_SERVICE") == "1" and bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS")),
        "no private Secret Service (run the suite through scripts/test.sh, which starts gnome-keyring under dbus-run-session)",
    )
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    import keyring.backend
    import keyring.core

    # keyring caches its choice, and its list of viable backends, per process; an earlier unit test
    # would otherwise leave the fail backend chosen. Let this test choose afresh.
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    if hasattr(keyring.backend.get_all_keyring, "reset"):
        # jaraco's `once` raises KeyError when nothing was cached yet (this test runs first).
        with contextlib.suppress(KeyError):
            keyring.backend.get_all_keyring.reset()
    return os.environ["DBUS_SESSION_BUS_ADDRESS"]


@pytest.fixture
def provider_id(secret_service: str) -> Iterator[str]:
    """A fresh provider id for a real-keyring test (the private keyring lives for the whole
    session); its key is deleted afterwards."""
    import uuid

    from codexprov import credentials

    pid = "t" + uuid.uuid4().hex[:10]
    yield pid
    credentials.open_store().delete(pid)


@pytest.fixture
def make_fake_server() -> Iterator[Any]:
    """Factory: `make_fake_server(**options)` starts a FakeServer (tests/fake_server.py) on
    127.0.0.1; all are stopped after the test."""
    servers: list[FakeServer] = []

    def _make(**options: Any) -> FakeServer:
        server = FakeServer(**options).start()
        servers.append(server)
        return server

    yield _make
    for server in servers:
        server.stop()


@pytest.fixture
def fake_server(make_fake_server: Any) -> FakeServer:
    """A started FakeServer with the defaults (`base_url` = http://127.0.0.1:PORT/v1)."""
    return make_fake_server()


# The session-wide LiteLLM bridge, and a bridge of a test's own (tests/bridge_fixtures.py), for every test module.
from tests.bridge_fixtures import bridged, own  # noqa: E402,F401
