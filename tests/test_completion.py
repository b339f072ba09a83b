"""--version, -h on every command, and shell completion: the exact scripts, and live values
(provider ids, recipe ids, profile names, keyring-wired ids) completed by the real bash, zsh and
fish against a sealed HOME."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from codexprov import __version__
from tests.conftest import require

CONFIG = (
    'model_provider = "acme"\n\n'
    '[model_providers.acme]\nname = "Acme"\nbase_url = "http://127.0.0.1:9/v1"\n\n'
    '[model_providers.kept]\nname = "Kept"\nbase_url = "http://127.0.0.1:8/v1"\n\n'
    '[model_providers.kept.auth]\ncommand = "codexprov"\nargs = ["token", "kept"]\n'
)
BUILTINS = ["openai", "ollama", "lmstudio", "amazon-bedrock", "gcp"]


def test_version_exact(run_cli, run_exe) -> None:
    for args in (["--version"], ["-V"], ["--codex-home", "/nowhere", "--version"]):
        result = run_cli(*args)
        assert (result.exit_code, result.stdout, result.stderr) == (0, f"codexprov {__version__}\n", "")
    installed = run_exe("-V")
    assert (installed.exit_code, installed.stdout, installed.stderr) == (0, f"codexprov {__version__}\n", "")


def _commands() -> list[list[str]]:
    import typer

    from codexprov.cli import app, register_commands

    register_commands()

    found: list[list[str]] = []

    def walk(command, path: list[str]) -> None:
        found.append(path)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return found


def test_short_help_on_every_command(run_cli) -> None:
    commands = _commands()
    assert ["profile", "add"] in commands and ["key", "migrate"] in commands and ["completion"] in commands
    for path in commands:
        result = run_cli(*path, "-h")
        assert result.exit_code == 0, (path, result.stderr)
        assert result.stdout.startswith(f"Usage: {' '.join(['codexprov', *path])} "), path
        assert result.stdout == run_cli(*path, "--help").stdout
        assert "{" not in result.stdout.splitlines()[0] and "<str>" not in result.stdout, path


def test_every_id_parameter_has_live_values() -> None:
    import typer

    from codexprov.cli import app, register_commands
    from codexprov.cli.completion import LIVE

    register_commands()

    def walk(command, path: list[str]):
        for param in command.params:
            if (param.metavar or "").strip("[]") in ("ID", "RECIPE", "NAME"):
                yield (" ".join(path), param.name)
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, [*path, name])

    missing = [k for k in walk(typer.main.get_command(app), []) if k not in LIVE]
    # new ids and names: nothing to offer
    assert missing == [("add", "provider_id"), ("add", "name"), ("profile add", "name")]


BASH = """\
# codexprov completion for bash: eval "$(codexprov completion bash)" (e.g. in ~/.bashrc)
_codexprov_complete() {
    local line
    COMPREPLY=()
    while IFS= read -r line; do COMPREPLY+=("$line"); done < <(codexprov __complete bash "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
}
complete -o default -F _codexprov_complete codexprov
"""

ZSH = """\
#compdef codexprov
# codexprov completion for zsh: eval "$(codexprov completion zsh)" (e.g. in ~/.zshrc, after compinit)
_codexprov() {
    local -a candidates
    candidates=("${(@f)$(codexprov __complete zsh "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    if (( ${#candidates} )) && [[ -n "${candidates[1]}" ]]; then
        compadd -Q -- "${candidates[@]}"
    else
        _files
    fi
}
compdef _codexprov codexprov
"""

FISH = """\
# codexprov completion for fish: codexprov completion fish > ~/.config/fish/completions/codexprov.fish
function __codexprov_complete
    set -l words (commandline -opc)
    set -l current (commandline -ct)
    codexprov __complete fish $words[2..-1] "$current" 2>/dev/null
end
complete -c codexprov -f -a '(__codexprov_complete)'
"""


@pytest.mark.parametrize(("shell", "script"), [("bash", BASH), ("zsh", ZSH), ("fish", FISH)])
def test_completion_scripts_exact(run_cli, shell: str, script: str) -> None:
    result = run_cli("completion", shell)
    assert (result.exit_code, result.stdout, result.stderr) == (0, script, "")


def test_completion_of_an_unknown_shell(run_cli) -> None:
    result = run_cli("completion", "tcsh")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == "error: no completion for the shell `tcsh`\nhint: Pick one of: bash, zsh, fish.\n"


@pytest.fixture
def sealed(config_file: Path, codex_home: Path) -> Path:
    config_file.write_text(CONFIG)
    (codex_home / "fast.config.toml").write_text('model_provider = "acme"\n')
    (codex_home / "slow.config.toml").write_text('model_provider = "kept"\n')
    return codex_home


def _complete(run_cli, *words: str) -> list[str]:
    result = run_cli("__complete", "bash", *words)
    assert (result.exit_code, result.stderr) == (0, "")
    return result.stdout.splitlines()


def test_live_values(run_cli, sealed: Path, tmp_path: Path) -> None:
    assert _complete(run_cli, "use", "") == [*BUILTINS, "acme", "kept"]
    assert _complete(run_cli, "use", "a") == ["amazon-bedrock", "acme"]
    assert _complete(run_cli, "remove", "") == ["acme", "kept"]
    assert _complete(run_cli, "key", "rm", "") == ["kept"]
    assert _complete(run_cli, "use", "--profile", "") == ["fast", "slow"]
    assert _complete(run_cli, "profile", "rm", "s") == ["slow"]
    assert _complete(run_cli, "run", "--provider", "k") == ["kept"]
    assert _complete(run_cli, "run", "--", "codex", "") == []
    assert _complete(run_cli, "add", "gr") == ["groq"]
    assert _complete(run_cli, "recipes", "show", "az") == ["azure"]
    assert _complete(run_cli, "add", "--key-mode", "") == ["keyring", "env", "none"]
    assert _complete(run_cli, "add", "--key-mode=e") == []  # an option's value in the same word: nothing to add
    assert _complete(run_cli, "key", "") == ["set", "list", "rm", "migrate"]
    assert _complete(run_cli, "remove", "--") == ["--force", "--keep-key", "--dry-run", "--help"]
    assert _complete(run_cli, "-") == ["--codex-home", "--codex", "--version", "-V", "--force", "-h", "--help"]
    # --codex-home on the line is the config the values come from
    other = tmp_path / "other"
    other.mkdir()
    (other / "config.toml").write_text('[model_providers.zeta]\nname = "Z"\nbase_url = "http://127.0.0.1:7/v1"\n')
    assert _complete(run_cli, "--codex-home", str(other), "remove", "") == ["zeta"]
    assert _complete(run_cli, f"--codex-home={other}", "show", "z") == ["zeta"]


def test_completion_of_a_broken_config_offers_nothing(run_cli, config_file: Path) -> None:
    config_file.write_text("[model_providers.acme\n")
    result = run_cli("__complete", "bash", "use", "")
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", "")


def _shell_env(home: Path) -> dict[str, str]:
    exe = shutil.which("codexprov")
    require(exe is not None, "the codexprov executable is not on PATH (pip install -e .)")
    env = {k: v for k, v in os.environ.items() if k not in ("BASH_ENV", "ENV", "ZDOTDIR")}
    env["PATH"] = f"{Path(str(exe)).parent}{os.pathsep}{env.get('PATH', '')}"
    env["HOME"] = str(home)
    return env


def test_real_bash(sealed: Path, isolated_home: Path) -> None:
    script = (
        'eval "$(codexprov completion bash)"\n'
        'COMP_WORDS=(codexprov use ""); COMP_CWORD=2; _codexprov_complete; printf "%s\\n" "${COMPREPLY[@]}"\n'
        "COMP_WORDS=(codexprov profile show f); COMP_CWORD=3; _codexprov_complete; printf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script],
        check=False,
        capture_output=True,
        text=True,
        env=_shell_env(isolated_home),
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == [*BUILTINS, "acme", "kept", "fast"]


def test_real_zsh(sealed: Path, isolated_home: Path) -> None:
    require(shutil.which("zsh") is not None, "zsh is not installed (scripts/test.sh installs it)")
    # compadd and compdef are the completion system's; stand-ins print what the script offers.
    script = (
        "compdef() { :; }\n"
        'compadd() { while [[ $1 == -* ]]; do [[ $1 == -- ]] && { shift; break }; shift; done; print -l -- "$@"; }\n'
        "_files() { print FILES; }\n"
        'eval "$(codexprov completion zsh)"\n'
        'words=(codexprov key rm ""); CURRENT=4; _codexprov\n'
        "words=(codexprov add gro); CURRENT=3; _codexprov\n"
        "words=(codexprov --codex-home); CURRENT=3; words+=(''); _codexprov\n"
    )
    done = subprocess.run(
        ["zsh", "-f", "-c", script],
        check=False,
        capture_output=True,
        text=True,
        env=_shell_env(isolated_home),
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == ["kept", "groq", "FILES"]


def test_real_fish(sealed: Path, isolated_home: Path) -> None:
    require(shutil.which("fish") is not None, "fish is not installed (scripts/test.sh installs it)")
    script = 'codexprov completion fish | source\ncomplete -C"codexprov use --profile "\ncomplete -C"codexprov remove "\ncomplete -C"codexprov k"\n'
    env = _shell_env(isolated_home)
    env["XDG_CONFIG_HOME"] = str(isolated_home / ".config")
    done = subprocess.run(
        ["fish", "--no-config", "-c", script], check=False, capture_output=True, text=True, env=env, timeout=60
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == ["fast", "slow", "acme", "kept", "key"]


# ------------------------------------------------------------------------------ issue 24 item 4: candidates quoted

HOSTILE = (
    '[model_providers."a$(touch PWNED1)"]\nname = "A"\nbase_url = "http://127.0.0.1:9/v1"\n'
    '[model_providers."b`touch PWNED2`"]\nname = "B"\nbase_url = "http://127.0.0.1:9/v1"\n'
    '[model_providers."c;touch PWNED3"]\nname = "C"\nbase_url = "http://127.0.0.1:9/v1"\n'
    '[model_providers."d*"]\nname = "D"\nbase_url = "http://127.0.0.1:9/v1"\n'
    '[model_providers."e\'x y"]\nname = "E"\nbase_url = "http://127.0.0.1:9/v1"\n'
    '[model_providers."f\\nline"]\nname = "F"\nbase_url = "http://127.0.0.1:9/v1"\n'
    '[model_providers."g\\u001b[2Jesc"]\nname = "G"\nbase_url = "http://127.0.0.1:9/v1"\n'
)
HOSTILE_IDS = ["a$(touch PWNED1)", "b`touch PWNED2`", "c;touch PWNED3", "d*", "e'x y"]
QUOTED = ["'a$(touch PWNED1)'", "'b`touch PWNED2`'", "'c;touch PWNED3'", "'d*'", "'e'\\''x y'"]


def test_item4_candidates_are_quoted_and_untypable_ids_left_out(run_cli, config_file: Path) -> None:
    config_file.write_text(HOSTILE)
    assert _complete(run_cli, "remove", "") == QUOTED
    # The word as typed is unquoted before matching: 'a$ and a\$ both mean a$.
    assert _complete(run_cli, "remove", "'a$") == ["'a$(touch PWNED1)'"]
    assert _complete(run_cli, "remove", "a\\$") == ["'a$(touch PWNED1)'"]
    assert _complete(run_cli, "remove", "\"e'x") == ["'e'\\''x y'"]


def _run_shell(argv: list[str], script: str, home: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*argv, script], check=False, capture_output=True, text=True, env=_shell_env(home), cwd=cwd, timeout=60
    )


def test_item4_real_bash_inserts_ids_that_run_nothing(config_file: Path, isolated_home: Path, tmp_path: Path) -> None:
    config_file.write_text(HOSTILE)
    work = tmp_path / "cwd"
    work.mkdir()
    (work / "d-file-a").write_text("")  # what `d*` would glob to
    script = (
        'eval "$(codexprov completion bash)"\n'
        'COMP_WORDS=(codexprov remove ""); COMP_CWORD=2; _codexprov_complete\n'
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
        # What the line becomes when the user picks a candidate and presses Enter.
        'for c in "${COMPREPLY[@]}"; do eval "printf \'<%s>\\\\n\' $c"; done\n'
    )
    done = _run_shell(["bash", "--norc", "--noprofile", "-c"], script, isolated_home, work)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == QUOTED + [f"<{i}>" for i in HOSTILE_IDS]
    assert sorted(p.name for p in work.iterdir()) == ["d-file-a"]  # no PWNED file


def test_item4_real_zsh_inserts_ids_that_run_nothing(config_file: Path, isolated_home: Path, tmp_path: Path) -> None:
    require(shutil.which("zsh") is not None, "zsh is not installed (scripts/test.sh installs it)")
    config_file.write_text(HOSTILE)
    work = tmp_path / "cwd"
    work.mkdir()
    script = (
        "compdef() { :; }\n"
        "offered=()\n"
        'compadd() { while [[ $1 == -* ]]; do [[ $1 == -- ]] && { shift; break }; shift; done; offered+=("$@"); }\n'
        "_files() { print FILES; }\n"
        'eval "$(codexprov completion zsh)"\n'
        'words=(codexprov remove ""); CURRENT=3; _codexprov\n'
        'print -rl -- "${offered[@]}"\n'
        'for c in "${offered[@]}"; do eval "print -r -- \\<$c\\>"; done\n'
    )
    done = _run_shell(["zsh", "-f", "-c"], script, isolated_home, work)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == QUOTED + [f"<{i}>" for i in HOSTILE_IDS]
    assert list(work.iterdir()) == []
