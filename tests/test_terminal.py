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
# Each command's one right exit code on CONFIG (doctor fails: acme has wire_api = "chat").
EXIT_CODES = {"list": 0, "show": 0, "doctor": 1, "use": 0, "recipes": 0}


def test_no_color_on_a_terminal_has_no_escape_sequences(exe: str, env: dict[str, str]) -> None:
    for args in COMMANDS:
        code, shown = terminal.run([exe, *args], env={**env, "NO_COLOR": "1"})
        assert code == EXIT_CODES[args[0]], (args, shown)
        assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown, (args, shown)


def test_piped_output_is_plain_and_force_color_styles_it(exe: str, env: dict[str, str]) -> None:
    for args in COMMANDS:
        piped = subprocess.run([exe, *args], capture_output=True, text=True, env=env, check=False, timeout=60)
        assert "\x1b" not in piped.stdout + piped.stderr, args
    forced = subprocess.run(
        [exe, "list"], capture_output=True, text=True, env={**env, "FORCE_COLOR": "1"}, check=False, timeout=60
    )
    assert next(line for line in forced.stdout.splitlines() if "acme" in line).startswith("\x1b[1;32m*  acme")
    both = subprocess.run(
        [exe, "list"],
        capture_output=True,
        text=True,
        env={**env, "FORCE_COLOR": "1", "NO_COLOR": "1"},
        check=False,
        timeout=60,
    )
    assert "\x1b" not in both.stdout + both.stderr  # NO_COLOR wins


def test_colour_on_a_terminal(exe: str, env: dict[str, str]) -> None:
    code, shown = terminal.run([exe, "list"], env=env)
    assert code == 0
    lines = shown.replace("\r\n", "\n").splitlines()
    assert lines[0].startswith("\x1b[1m")  # bold header
    assert next(line for line in lines if "acme" in line).startswith("\x1b[1;32m*  acme")
    code, shown = terminal.run([exe, "use", "evil", "--dry-run"], env=env)
    assert '\x1b[31m-model_provider = "acme"\x1b[0m' in shown and '\x1b[32m+model_provider = "evil"\x1b[0m' in shown
    code, shown = terminal.run([exe, "doctor", "--offline"], env=env)
    assert code == 1 and "\x1b[1;31m✗\x1b[0m" in shown


def test_control_characters_from_the_config_are_shown_not_obeyed(exe: str, env: dict[str, str]) -> None:
    listed = subprocess.run([exe, "list"], capture_output=True, text=True, env=env, check=False, timeout=60)
    assert "Evil\\x1b[2J\\x1b]0;pwned\\x07 \\u202eTXT  http://127.0.0.1:8/v1\\x0d  none" in listed.stdout
    assert "\x1b" not in listed.stdout + listed.stderr
    shown = subprocess.run([exe, "show", "evil"], capture_output=True, text=True, env=env, check=False, timeout=60)
    assert "\x1b" not in shown.stdout and "Evil\\u001b[2J" in shown.stdout  # TOML escapes, as in the file
    doctor = subprocess.run(
        [exe, "doctor", "--offline"], capture_output=True, text=True, env=env, check=False, timeout=60
    )
    assert "\x1b" not in doctor.stdout + doctor.stderr and "\r" not in doctor.stdout


# ---------------------------------------------------------------------------- guided flows


def test_use_without_an_id_offers_a_numbered_pick(
    exe: str, env: dict[str, str], config_file: Path, codex_home: Path
) -> None:
    (codex_home / "fast.config.toml").write_text('model_provider = "acme"\nmodel = "m-fast"\n')
    term = terminal.Terminal([exe, "use"], env={**env, "NO_COLOR": "1"})
    shown = term.expect(r"Pick a number \[6\]: $")
    lines = shown.replace("\r\n", "\n").splitlines()
    assert lines[:9] == [
        "Which provider (or profile) should Codex use?",
        "  1) openai  OpenAI",
        "  2) ollama  Ollama",
        "  3) lmstudio  LM Studio",
        "  4) amazon-bedrock  Amazon Bedrock",
        "  5) gcp  Google Cloud Vertex AI",
        "  6) acme  Acme  (active)",
        "  7) evil  Evil\\x1b[2J\\x1b]0;pwned\\x07 \\u202eTXT",
        "  8) profile fast  acme",
    ]
    term.send("9\r")  # out of range: asked again
    term.expect(r"pick a number from 1 to 8\r\nPick a number \[6\]: $")
    term.send("2\r")
    assert term.wait() == 0
    assert "use ollama: wrote " in term.output
    assert config_file.read_text().startswith('model_provider = "ollama"\n')


def test_use_without_an_id_and_without_a_terminal_names_the_flags(exe: str, env: dict[str, str]) -> None:
    done = subprocess.run(
        [exe, "use"], capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, check=False, timeout=60
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "error: missing provider ID (the numbered pick needs a terminal)\n"
        "hint: Usage: codexprov use ID [--model MODEL] | codexprov use --profile NAME\n"
    )


def test_add_without_a_recipe_and_without_a_terminal_names_the_flags(exe: str, env: dict[str, str]) -> None:
    done = subprocess.run(
        [exe, "add"], capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, check=False, timeout=60
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "error: missing RECIPE (the guided add needs a terminal)\n"
        "hint: Pass a recipe id (`codexprov recipes` lists them), e.g. `codexprov add groq --key-stdin --use --model MODEL`, "
        "or `codexprov add custom --base-url URL --id ID`.\n"
    )


@pytest.mark.keyring
def test_guided_add_walks_through_and_the_key_is_not_echoed(exe: str, env: dict[str, str], config_file: Path) -> None:
    require(
        os.environ.get("CODEXPROV_TEST_SECRET_SERVICE") == "1",
        "no private Secret Service (run the suite through scripts/test.sh)",
    )
    import uuid

    pid = "g" + uuid.uuid4().hex[:8]
    key = "sk-guided-" + uuid.uuid4().hex
    environ = {**env, "NO_COLOR": "1"}
    environ.pop("PYTHON_KEYRING_BACKEND", None)
    term = terminal.Terminal([exe, "add"], env=environ)
    term.expect(r"Pick a number: $")
    term.send("custom\r")
    term.expect(r"Provider id \[custom\]: $")
    term.send(f"{pid}\r")
    term.expect(r"base_url \(the provider's base URL; Codex appends /responses to it\): $")
    term.send("http://127.0.0.1:9/v1\r")
    term.expect(r"API key for \S+ \(hidden; stored in the OS keyring; empty to set it later\): $")
    term.send(key + "\r")
    term.expect(r"Model \(empty: none\): $")
    term.send("m-guided\r")
    term.expect(r"Make \S+ the provider Codex uses now\? \[Y/n\]: $")
    term.send("\r")
    shown = term.expect(r"Write \S+ as shown\? \[Y/n\]: $")
    assert f'+model_provider = "{pid}"' in shown and '+model = "m-guided"' in shown
    term.send("y\r")
    assert term.wait() == 0, term.output
    assert key not in term.output  # the prompt did not echo it, and nothing printed it
    text = config_file.read_text()
    assert (
        text.startswith(f'model_provider = "{pid}"\nmodel = "m-guided"\n') and f"[model_providers.{pid}.auth]" in text
    )
    token = subprocess.run([exe, "token", pid], capture_output=True, text=True, env=environ, check=False, timeout=60)
    assert (token.returncode, token.stdout) == (0, key + "\n")
    subprocess.run([exe, "key", "rm", pid], capture_output=True, env=environ, check=False, timeout=60)
