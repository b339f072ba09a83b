"""Shell completion for bash, zsh and fish: `codexprov completion SHELL` prints a script; the
script asks `codexprov __complete SHELL WORD... CURRENT` (dispatched in codexprov/__main__.py, so
normal commands pay nothing for completion) and offers what it prints, one candidate a line.

Commands and options come from the Typer app itself; the live values (provider ids, recipe ids,
profile names, ids with a keyring key) are read from the config the command line points at
(`--codex-home`), without touching the keyring or the network.

A hand-written table id may hold anything (`"a$(rm -rf ~)"`): bash and zsh insert a candidate as
given, so each is printed quoted for the shell (the word the user typed is unquoted before it is
matched), and an id that cannot be typed safely (a newline, a control or bidi character) is not
offered at all. The bash script reads the answer line by line, never through word splitting and
globbing. fish quotes what it inserts itself.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Callable
from typing import Any

import typer

from codexprov import paths
from codexprov.cli.app import app, out
from codexprov.errors import UsageError

SHELLS = ("bash", "zsh", "fish")

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

SCRIPTS = {"bash": BASH, "zsh": ZSH, "fish": FISH}


@app.command("completion")
def completion_cmd(
    shell: str = typer.Argument(..., metavar="bash|zsh|fish", help="The shell to print the script for."),
) -> None:
    """Print the shell completion script: eval "$(codexprov completion bash)" in ~/.bashrc, the same
    with zsh in ~/.zshrc, or save the fish one as ~/.config/fish/completions/codexprov.fish."""
    if shell not in SCRIPTS:
        raise UsageError(f"no completion for the shell `{shell}`", hint="Pick one of: bash, zsh, fish.")
    sys.stdout.write(SCRIPTS[shell])


# ---------------------------------------------------------------------------- answering


def answer(args: list[str]) -> int:
    """`__complete SHELL WORD... CURRENT`: print the candidates for CURRENT, one a line. Never fails
    loudly: a completion that cannot be computed offers nothing."""
    if not args or args[0] not in SHELLS:
        return 2
    shell = args[0]
    words = args[1:] or [""]
    if shell != "fish":  # bash and zsh pass the words as typed, quotes and backslashes included
        words = [typed(word) for word in words]
    try:
        candidates = complete(words[:-1], words[-1])
    except Exception:  # noqa: BLE001 - a broken config or recipe must not spill a traceback into the prompt
        return 1
    for candidate in candidates:
        if not typable(candidate):
            continue
        out(candidate if shell == "fish" else shell_quote(candidate))
    return 0


_PLAIN = re.compile(r"[A-Za-z0-9._+:@%/,=-]+")


def typable(candidate: str) -> bool:
    """Whether a candidate can be offered: no newline, control, format (bidi) or unassigned
    character, which a shell line cannot show or would break on."""
    return bool(candidate) and not any(unicodedata.category(ch).startswith("C") for ch in candidate)


def shell_quote(candidate: str) -> str:
    """The candidate as bash and zsh must insert it to mean exactly itself: as is when plain,
    else in single quotes (nothing is special inside them; a quote is written '\\'')."""
    if _PLAIN.fullmatch(candidate) and not candidate.startswith("="):
        return candidate
    return "'" + candidate.replace("'", "'\\''") + "'"


def typed(word: str) -> str:
    """What a word typed on a bash or zsh line means: quotes removed, backslash escapes applied
    (an unterminated quote is fine: the user is still typing)."""
    if not any(ch in word for ch in "'\"\\"):
        return word
    result: list[str] = []
    quote = ""
    at = 0
    while at < len(word):
        ch = word[at]
        if quote == "'":
            if ch == "'":
                quote = ""
            else:
                result.append(ch)
        elif quote == '"':
            if ch == '"':
                quote = ""
            elif ch == "\\" and at + 1 < len(word) and word[at + 1] in '"\\$`':
                at += 1
                result.append(word[at])
            else:
                result.append(ch)
        elif ch in "'\"":
            quote = ch
        elif ch == "\\" and at + 1 < len(word):
            at += 1
            result.append(word[at])
        else:
            result.append(ch)
        at += 1
    return "".join(result)


def complete(words: list[str], current: str) -> list[str]:
    """The candidates for `current`, given the words before it (the program name excluded). The
    commands must be registered on `app` first (`codexprov.cli.register_commands`)."""
    command: Any = typer.main.get_command(app)
    path: list[str] = []
    codex_home: str | None = None
    expecting: Any = None
    positional = 0
    for word in words:
        if expecting is not None:
            if expecting.name == "codex_home":
                codex_home = word
            expecting = None
            continue
        if word == "--":
            return []  # after `--` (codexprov run -- CMD) the words are another program's
        if word.startswith("-") and word != "-":
            name, has_value, value = word.partition("=")
            option = _option(command, name)
            if option is not None and not option.is_flag and not option.count:
                if has_value:
                    codex_home = value if option.name == "codex_home" else codex_home
                else:
                    expecting = option
            continue
        sub = getattr(command, "commands", {}).get(word)
        if sub is not None and positional == 0:
            command, positional = sub, 0
            path.append(word)
            continue
        positional += 1
    key = " ".join(path)
    if expecting is not None:
        return _filter(_values(key, expecting.name, codex_home), current)
    if current.startswith("-"):
        names = [
            n
            for p in command.params
            if not getattr(p, "hidden", False) and p.param_type_name == "option"
            for n in p.opts
        ]
        return _filter([*names, "-h", "--help"], current)
    subcommands = getattr(command, "commands", None)
    if subcommands and positional == 0:
        return _filter([n for n, c in subcommands.items() if not c.hidden], current)
    arguments = [p for p in command.params if p.param_type_name == "argument"]
    if positional < len(arguments):
        return _filter(_values(key, arguments[positional].name, codex_home), current)
    return []


def _option(command: Any, name: str) -> Any:
    for param in command.params:
        if param.param_type_name == "option" and name in param.opts:
            return param
    return None


def _filter(candidates: list[str], current: str) -> list[str]:
    return [c for c in dict.fromkeys(candidates) if c.startswith(current)]


# ---------------------------------------------------------------------------- live values


def _paths(codex_home: str | None) -> Any:
    return paths.resolve(codex_home)


def provider_ids(codex_home: str | None) -> list[str]:
    from codexprov import providers

    return [p.id for p in providers.list_providers(_paths(codex_home)).providers]


def configured_ids(codex_home: str | None) -> list[str]:
    from codexprov import providers

    return [p.id for p in providers.list_providers(_paths(codex_home)).providers if p.configured]


def keyring_ids(codex_home: str | None) -> list[str]:
    """Providers whose key Codex takes from the keyring: read from the config, not the keyring
    (listing a keyring may need it unlocked, and a completion must never ask)."""
    from codexprov import providers

    return [p.id for p in providers.list_providers(_paths(codex_home)).providers if p.key_source.kind == "keyring"]


def recipe_ids(codex_home: str | None) -> list[str]:
    from codexprov import recipes

    return recipes.load_catalog(_paths(codex_home)).ids()


def profile_names(codex_home: str | None) -> list[str]:
    from codexprov import profiles
    from codexprov.codex.version import detect

    paths = _paths(codex_home)
    return [p.name for p in profiles.list_profiles(paths, detect(paths)).profiles]


def _fixed(*values: str) -> Callable[[str | None], list[str]]:
    return lambda _home: list(values)


# (command path, parameter name) -> where its values come from. A test checks that every ID,
# RECIPE and NAME parameter of the app is listed here.
LIVE: dict[tuple[str, str], Callable[[str | None], list[str]]] = {
    ("show", "provider_id"): provider_ids,
    ("use", "provider_id"): provider_ids,
    ("use", "profile"): profile_names,
    ("remove", "provider_id"): configured_ids,
    ("doctor", "provider_id"): provider_ids,
    ("models", "provider_id"): provider_ids,
    ("doctor", "profile"): profile_names,
    ("add", "recipe"): recipe_ids,
    ("add", "key_mode"): _fixed("keyring", "env", "none"),
    ("recipes show", "recipe_id"): recipe_ids,
    ("key set", "provider_id"): configured_ids,
    ("key rm", "provider_id"): keyring_ids,
    ("key migrate", "provider_id"): configured_ids,
    ("env", "provider_id"): configured_ids,
    ("run", "provider_id"): provider_ids,
    ("sessions", "provider_id"): provider_ids,
    ("run", "profile"): profile_names,
    ("profile add", "provider"): provider_ids,
    ("profile show", "name"): profile_names,
    ("profile rm", "name"): profile_names,
    ("completion", "shell"): _fixed(*SHELLS),
    ("export", "provider_ids"): configured_ids,
}


def _values(command: str, param: str | None, codex_home: str | None) -> list[str]:
    source = LIVE.get((command, param or ""))
    return source(codex_home) if source is not None else []
