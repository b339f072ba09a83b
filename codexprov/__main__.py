"""Entry point. `codexprov token ID` sits on Codex's start-up path, `list`, `show ID` and `use ID`
are typed often, and `doctor` has a time budget beside the network (issue 25), so they are
dispatched here before anything heavy (typer, rich, tomlkit, httpx) is imported; everything else
(and any other spelling, e.g. with --help) goes through Typer."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # not `from typing import …`: the token path does not load typing (~2 ms)
if TYPE_CHECKING:
    from typing import Any

    from codexprov.paths import Paths


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] == ["token"]:
        from codexprov.token import main as token_main

        return token_main(args[1:])
    if args[:1] == ["__complete"]:
        # The shell asks for completions (scripts from `codexprov completion SHELL`).
        from codexprov.cli import register_commands
        from codexprov.cli.completion import answer

        register_commands()
        return answer(args[1:])
    if args in (["--version"], ["-V"]):
        from codexprov import __version__

        sys.stdout.write(f"codexprov {__version__}\n")
        return 0
    _defer_inspect()
    fast = _fast(args)
    if fast is not None:
        if argv is None:  # the program itself (tests call main() with their own arguments)
            _end_now(fast)
        return fast
    from codexprov.cli import run

    return run(args)


def _end_now(code: int) -> None:
    """End the process here, without Python's teardown: the answer is written, and unloading the
    modules (some 400 for `doctor`, whose async network stack is most of them) costs ~20 ms of its
    0.2 s budget, a few ms of `use`. Only when nothing is left for the teardown to do: stdout and
    stderr flush cleanly (a closed pipe goes the normal way, which reports it), no other thread
    that the interpreter would wait for is alive, and no temporary file or folder waits for its
    clean-up at exit. Otherwise this returns and the normal exit runs."""
    import os
    import threading
    import weakref

    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    main_thread = threading.main_thread()
    if any(t is not main_thread and t.is_alive() and not t.daemon for t in threading.enumerate()):
        return
    pending = getattr(weakref.finalize, "_registry", None)
    if pending is None or any(getattr(info, "atexit", True) for info in list(pending.values())):
        return
    os._exit(code)


def _defer_inspect() -> None:
    """Load `inspect` on its first use, not on import. `dataclasses` imports it (with ast, dis and
    tokenize: ~7 ms, a seventh of `list`) only to write a signature into the docstring of a class
    that has none; codexprov's dataclasses all have one (tests/test_fast_paths.py), so `list`,
    `show` and `use` never load it. Whatever does use it (Typer, asyncio) gets the real module:
    the first attribute read imports it and fills this stand-in with its namespace.
    (importlib.util.LazyLoader does not do here: Python 3.11 loads such a module as soon as
    another `import inspect` statement looks at its __spec__.)"""
    if "inspect" in sys.modules:
        return
    from importlib.machinery import ModuleSpec
    from types import ModuleType

    stand_in = ModuleType("inspect")
    stand_in.__spec__ = ModuleSpec("inspect", None)

    def load(name: str) -> object:
        if sys.modules.get("inspect") is stand_in:
            del sys.modules["inspect"]
        import inspect as real

        namespace = vars(stand_in)
        namespace.pop("__getattr__", None)
        namespace.update(vars(real))
        return getattr(real, name)

    stand_in.__getattr__ = load  # type: ignore[method-assign]
    sys.modules["inspect"] = stand_in


def _global_options(args: list[str]) -> tuple[dict[str, str | bool], list[str]] | None:
    """The options before the command (`--codex-home PATH`, `--codex PATH`, `--force`), as Typer's
    callback reads them, and the rest; None for anything else (then Typer answers, help included)."""
    found: dict[str, str | bool] = {}
    rest = args
    while rest and rest[0].startswith("-"):
        name, eq, value = rest[0].partition("=")
        if name not in ("--codex-home", "--codex", "--force") or name in found:
            return None
        if name == "--force":
            if eq:
                return None
            found[name], rest = True, rest[1:]
        elif eq:
            found[name], rest = value, rest[1:]
        elif len(rest) >= 2:
            found[name], rest = rest[1], rest[2:]
        else:
            return None
    return found, rest


def _command_args(
    rest: list[str], flags: tuple[str, ...], options: tuple[str, ...], *, id_optional: bool = False
) -> tuple[Any, dict[str, Any]] | None:
    """One positional ID (or, with id_optional, none: None) and the given flags/options (`--model M`
    or `--model=M`), each at most once, in any order; None for any other form (a missing ID, -h, a
    value that looks like an option)."""
    positional: list[str] = []
    given: dict[str, str | bool] = {}
    i = 0
    while i < len(rest):
        token = rest[i]
        name, eq, value = token.partition("=")
        if token in flags and token not in given:
            given[token], i = True, i + 1
        elif name in options and name not in given:
            if not eq:
                if i + 1 >= len(rest) or rest[i + 1].startswith("-"):
                    return None
                value, i = rest[i + 1], i + 1
            given[name], i = value, i + 1
        elif token.startswith("-"):
            return None
        else:
            positional.append(token)
            i += 1
    if id_optional and not positional:
        return None, given
    return (positional[0], given) if len(positional) == 1 else None


def _fast(args: list[str]) -> int | None:
    """`list [--json]`, `show ID [--json]`, `use ID [--model M] [--dry-run]` and `doctor`'s report
    (`_doctor_args`), with the global options, answered without Typer (~45 ms of imports and command
    tree) by the same functions the Typer commands call (codexprov/quick.py,
    codexprov/doctor_command.py); None: not one of these forms, Typer answers."""
    parsed = _global_options(args)
    if parsed is None or not parsed[1]:
        return None
    options, (command, *rest) = parsed
    call: tuple[str, Any]
    if command == "list":
        if rest not in ([], ["--json"]):
            return None
        call = ("list", rest == ["--json"])
    elif command == "show":
        found = _command_args(rest, ("--json",), ())
        if found is None:
            return None
        call = ("show", found)
    elif command == "use":
        found = _command_args(rest, ("--dry-run",), ("--model",))
        if found is None:
            return None
        call = ("use", found)
    elif command == "doctor":
        found = _doctor_args(rest)
        if found is None:
            return None
        call = ("doctor", found)
    else:
        return None
    return _answer(call, options, args)


_DOCTOR_FLAGS = ("--json", "--offline", "--no-spend", "--live", "--all")


def _doctor_args(rest: list[str]) -> tuple[Any, dict[str, Any]] | None:
    """`doctor [ID]` with its report options (not --fix, --yes, --dry-run: Typer answers those), each
    at most once; None for any other form. `-p` is `--profile`; --timeout must read as a number."""
    rest = ["--profile" if token == "-p" else token for token in rest]
    if rest.count("--profile") > 1:
        return None
    found = _command_args(rest, _DOCTOR_FLAGS, ("--profile", "--timeout"), id_optional=True)
    if found is None:
        return None
    timeout = found[1].get("--timeout")
    if timeout is not None:
        try:
            found[1]["--timeout"] = float(timeout)
        except ValueError:
            return None  # Typer words the error
    return found


def _answer(call: tuple[str, Any], options: dict[str, Any], args: list[str]) -> int:
    """Run it as Typer's `run` would: its errors reported the same way, with the same exit codes."""
    import os

    from codexprov import paths
    from codexprov.errors import CodexprovError
    from codexprov.output import report_error

    codex = options.get("--codex") or os.environ.get("CODEXPROV_CODEX") or None
    try:
        where = paths.resolve(options.get("--codex-home"), write_read_only=bool(options.get("--force")))
        if call[0] == "doctor":
            return _doctor(where, codex, *call[1])
        from codexprov import quick

        if call[0] == "list":
            quick.list_providers(where, as_json=call[1])
        elif call[0] == "show":
            provider_id, given = call[1]
            quick.show(where, provider_id, as_json=bool(given.get("--json")))
        else:
            from codexprov.context import Context

            provider_id, given = call[1]
            ctx = Context(where, codex_binary=codex)
            quick.use(ctx, provider_id, model=given.get("--model"), dry_run=bool(given.get("--dry-run")))
    except CodexprovError as err:
        from codexprov.redact import remember
        from codexprov.redact_args import key_like_arguments

        remember(*key_like_arguments(args))
        report_error(err)
        return err.exit_code
    except (EOFError, KeyboardInterrupt):
        sys.stderr.write("\n")  # as click does before its Abort
        report_error(CodexprovError("cancelled; nothing was changed"))
        return 9
    return 0


def _doctor(where: Paths, codex: str | None, provider_id: str | None, given: dict[str, Any]) -> int:
    """`doctor` as the Typer command runs it (codexprov/doctor_command.py), with one Context."""
    from codexprov import doctor_command
    from codexprov.context import Context

    request = doctor_command.request(
        provider_id,
        offline="--offline" in given,
        no_spend="--no-spend" in given,
        live="--live" in given,
        profile=given.get("--profile"),
        all_="--all" in given,
        timeout=given.get("--timeout", 5.0),
    )
    return doctor_command.report(Context(where, codex_binary=codex), request, as_json="--json" in given)


if __name__ == "__main__":
    sys.exit(main())
