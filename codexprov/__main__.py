"""Entry point. `codexprov token ID` sits on Codex's start-up path and `codexprov list` is typed
often, so both are dispatched here before anything heavy (typer, rich, tomlkit, httpx) is
imported; everything else (and any other spelling of list, e.g. with --help) goes through Typer."""

from __future__ import annotations

import sys


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
    fast = _fast_list(args)
    if fast is not None:
        return fast
    from codexprov.cli import run

    return run(args)


def _fast_list(args: list[str]) -> int | None:
    """`[--codex-home PATH] list [--json]` without Typer (~60 ms of imports); None: not this form."""
    home = None
    rest = args
    if rest[:1] == ["--codex-home"] and len(rest) >= 2:
        home, rest = rest[1], rest[2:]
    elif rest[:1] and rest[0].startswith("--codex-home="):
        home, rest = rest[0].split("=", 1)[1], rest[1:]
    if rest not in (["list"], ["list", "--json"]):
        return None
    from codexprov import output, paths, providers
    from codexprov.errors import CodexprovError

    try:
        summary = providers.list_providers(paths.resolve(home))
    except CodexprovError as err:
        output.report_error(err)
        return err.exit_code
    output.render_provider_list(summary, as_json=rest == ["list", "--json"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
