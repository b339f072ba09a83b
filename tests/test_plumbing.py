"""The suite's own guards (conftest.py): a test reaches neither the real keyring nor the real home."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from codexprov import credentials
from codexprov.errors import KeyringUnavailableError
from tests.conftest import REAL_HOME


def test_a_plain_test_gets_the_fail_keyring_in_process_and_in_children(isolated_home: Path) -> None:
    assert type(keyring.get_keyring()) is fail.Keyring
    assert os.environ["PYTHON_KEYRING_BACKEND"] == "keyring.backends.fail.Keyring"
    assert "DBUS_SESSION_BUS_ADDRESS" not in os.environ
    with pytest.raises(KeyringUnavailableError):
        credentials.open_store()
    child = subprocess.run(
        [sys.executable, "-c", "import keyring; print(type(keyring.get_keyring()).__module__)"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert child.stdout == "keyring.backends.fail\n"


def test_memory_keyring_replaces_the_fail_backend(memory_keyring) -> None:
    assert keyring.get_keyring() is memory_keyring
    assert "PYTHON_KEYRING_BACKEND" not in os.environ


def test_home_is_the_tests_own(isolated_home: Path, tmp_path: Path) -> None:
    assert Path.home() == isolated_home == tmp_path / "home"
    assert Path(os.path.expanduser("~")) != REAL_HOME
    assert Path(os.environ["CODEX_HOME"]) == isolated_home / ".codex"
