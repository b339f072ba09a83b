"""`codexprov token ID`: the key alone on stdout, one line on stderr otherwise, and a light import.

In-process tests use the in-memory backend; subprocess tests (what Codex runs) load a stub backend
module from tmp_path through PYTHON_KEYRING_BACKEND or keyringrc.cfg, which also proves those
settings are honoured by the fast path.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keyring
import keyring.core
import pytest
from keyring.backends import fail

from codexprov.__main__ import main

KEY = "sk-test-token-0123456789abcdef"
REPO = Path(__file__).resolve().parent.parent

STUB = textwrap.dedent(
    """
    import os
    from keyring.backend import KeyringBackend

    class Keyring(KeyringBackend):
        priority = 1

        def get_password(self, service, username):
            if service == "codexprov" and username == "acme":
                return os.environ.get("STUB_KEY")
            return None

        def set_password(self, service, username, password):
            raise NotImplementedError

        def delete_password(self, service, username):
            raise NotImplementedError
    """
)


def test_prints_the_key_alone(memory_keyring, capfd):
    memory_keyring.entries[("codexprov", "acme")] = KEY
    assert main(["token", "acme"]) == 0
    captured = capfd.readouterr()
    assert captured.out == KEY + "\n"
    assert captured.err == ""


def test_missing_key_is_one_line_on_stderr(memory_keyring, capfd):
    assert main(["token", "acme"]) == 4
    captured = capfd.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "codexprov token: no key for provider 'acme' in the keyring (keyrings MemoryKeyring); "
        "store one with `codexprov key set acme`\n"
    )


def test_no_usable_keyring_is_one_line_on_stderr(memory_keyring, capfd):
    keyring.set_keyring(fail.Keyring())
    assert main(["token", "acme"]) == 6
    captured = capfd.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(
        "codexprov token: no usable keyring: keyring found no usable backend (it chose its `fail` placeholder)"
    )
    assert "--key-mode env" in captured.err


@pytest.mark.parametrize(
    ("argv", "code"), [(["token"], 2), (["token", "a", "b"], 2), (["token", "--bogus"], 2), (["token", "--help"], 0)]
)
def test_usage(argv, code, capfd):
    assert main(argv) == code
    captured = capfd.readouterr()
    usage = "usage: codexprov token PROVIDER_ID  (prints the provider's key from the keyring, for Codex)\n"
    assert (captured.out if code == 0 else captured.err) == usage


def _stub_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    (tmp_path / "stubkr.py").write_text(STUB, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("DBUS_SESSION_BUS_ADDRESS", "PYTHON_KEYRING_BACKEND")}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(REPO)])
    env["STUB_KEY"] = KEY
    env.update(extra)
    return env


def _token(env: dict[str, str], *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *flags, "-m", "codexprov", "token", "acme"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_honours_python_keyring_backend_and_imports_nothing_heavy(tmp_path):
    proc = _token(_stub_env(tmp_path, PYTHON_KEYRING_BACKEND="stubkr.Keyring"), "-X", "importtime")
    assert proc.returncode == 0
    assert proc.stdout == KEY + "\n"
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "keyring.core" in imported and "stubkr" in imported
    heavy = {m for m in imported if m.split(".")[0] in ("typer", "click", "rich", "httpx", "tomlkit", "platformdirs")}
    assert heavy == set()
    # No discovery: the backends keyring would otherwise import and probe are never loaded.
    assert {"keyring.backends.macOS", "keyring.backends.kwallet", "keyring.backends.libsecret"} & imported == set()


def test_honours_keyringrc_cfg(tmp_path):
    config = tmp_path / "xdg-config"
    (config / "python_keyring").mkdir(parents=True)
    (config / "python_keyring" / "keyringrc.cfg").write_text(
        f"[backend]\ndefault-keyring = stubkr.Keyring\nkeyring-path = {tmp_path}\n", encoding="utf-8"
    )
    env = _stub_env(tmp_path, XDG_CONFIG_HOME=str(config))
    env["PYTHONPATH"] = str(REPO)  # only keyringrc's keyring-path can find the stub
    proc = _token(env)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, KEY + "\n", "")


def test_without_any_keyring_it_fails_with_one_line(tmp_path):
    # No D-Bus session and no configuration: keyring's discovery finds nothing usable.
    env = _stub_env(tmp_path, XDG_CONFIG_HOME=str(tmp_path / "empty-config"))
    proc = _token(env)
    assert proc.returncode == 6
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("codexprov token: no usable keyring: ")
