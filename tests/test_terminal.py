"""Colour and terminals: styled on a terminal, plain when piped, NO_COLOR removes every escape,
FORCE_COLOR styles a pipe; text from config files printed with control characters neutralised.
Runs the installed executable on a real pseudo-terminal (tests/terminal.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests import terminal
from tests.conftest import require

CONFIG = (
    'model_provider = "acme"\n\n'
    '[model_providers.acme]\nname = "Acme"\nbase_url = "http://127.0.0.1:9/v1"\nwire_api = "chat"\n\n'
    '[model_providers.evil]\nname = "Evil\\u001b[2J\\u001b]0;pwned\\u0007 \\u202eTXT"\nbase_url = "http://127.0.0.1:8/v1\\r"\n'
)


@pytest.fixture
def exe() -> str:
    path = shutil.which("codexprov")
    require(path is not None, "the codexprov executable is not on PATH (pip install -e .)")
    return str(path)


@pytest.fixture
def env(config_file: Path, tmp_path: Path) -> dict[str, str]:
    config_file.write_text(CONFIG)
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    environ["TERM"] = "xterm-256color"
    environ["CODEXPROV_SYSTEM_CONFIG"] = str(tmp_path / "no-etc" / "config.toml")
    return environ


COMMANDS = [["list"], ["show", "evil"], ["doctor", "--offline"], ["use", "evil", "--dry-run"], ["recipes"]]


def test_no_color_on_a_terminal_has_no_escape_sequences(exe: str, env: dict[str, str]) -> None:
    for args in COMMANDS:
        code, shown = terminal.run([exe, *args], env={**env, "NO_COLOR": "1"})
        assert code in (0, 1), (args, shown)
        assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown, (args, shown)


def test_piped_output_is_plain_and_force_color_styles_it(exe: str, env: dict[str, str]) -> None:
    for args in COMMANDS:
        piped = subprocess.run([exe, *args], capture_output=True, text=True, env=env, check=False, timeout=60)
        assert "\x1b" not in piped.stdout + piped.stderr, args
    forced = subprocess.run([exe, "list"], capture_output=True, text=True, env={**env, "FORCE_COLOR": "1"}, check=False, timeout=60)
    assert next(line for line in forced.stdout.splitlines() if "acme" in line).startswith("\x1b[1;32m*  acme")
    both = subprocess.run(
        [exe, "list"], capture_output=True, text=True, env={**env, "FORCE_COLOR": "1", "NO_COLOR": "1"}, check=False, timeout=60
    )
    assert "\x1b" not in both.stdout + both.stderr  # NO_COLOR wins


def test_colour_on_a_terminal(exe: str, env: dict[str, str]) -> None:
    code, shown = terminal.run([exe, "list"], env=env)
    assert code == 0
    lines = shown.replace("\r\n", "\n").splitlines()
    assert lines[0].startswith("\x1b[1m")  # bold header
    assert next(line for line in lines if "acme" in line).startswith("\x1b[1;32m*  acme")
    code, shown = terminal.run([exe, "use", "evil", "--dry-run"], env=env)
    assert "\x1b[31m-model_provider = \"acme\"\x1b[0m" in shown and "\x1b[32m+model_provider = \"evil\"\x1b[0m" in shown
    code, shown = terminal.run([exe, "doctor", "--offline"], env=env)
    assert code == 1 and "\x1b[1;31m✗\x1b[0m" in shown


def test_control_characters_from_the_config_are_shown_not_obeyed(exe: str, env: dict[str, str]) -> None:
    listed = subprocess.run([exe, "list"], capture_output=True, text=True, env=env, check=False, timeout=60)
    assert "Evil\\x1b[2J\\x1b]0;pwned\\x07 \\u202eTXT  http://127.0.0.1:8/v1\\x0d  none" in listed.stdout
    assert "\x1b" not in listed.stdout + listed.stderr
    shown = subprocess.run([exe, "show", "evil"], capture_output=True, text=True, env=env, check=False, timeout=60)
    assert "\x1b" not in shown.stdout and "Evil\\u001b[2J" in shown.stdout  # TOML escapes, as in the file
    doctor = subprocess.run([exe, "doctor", "--offline"], capture_output=True, text=True, env=env, check=False, timeout=60)
    assert "\x1b" not in doctor.stdout + doctor.stderr and "\r" not in doctor.stdout
