"""Entry point. `codexprov token ID` sits on Codex's start-up path, so it is dispatched here before
anything heavy (typer, rich, tomlkit, httpx) is imported."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] == ["token"]:
        from codexprov.token import main as token_main

        return token_main(args[1:])
    from codexprov.cli import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
