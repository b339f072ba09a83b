"""The fast paths (`list`, `show`, `use`; codexprov/__main__.py) load `inspect` only when something
uses it: `dataclasses` imports it only to write a signature into a class that has no docstring
(~7 ms of `list`'s start-up; bench/bench_cli.py). Everything that does use it gets the real module."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

PROBE = (
    "import sys, atexit\n"
    "from codexprov.__main__ import main\n"
    "atexit.register(lambda: sys.stderr.write('\\nREAL-INSPECT=%s' % ('signature' in vars(sys.modules['inspect']))))\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, NO_COLOR="1")
    return subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def test_every_codexprov_dataclass_has_a_docstring() -> None:
    missing = []
    for path in sorted((REPO / "codexprov").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.ClassDef)
                and any("dataclass" in ast.unparse(d) for d in node.decorator_list)
                and ast.get_docstring(node) is None
            ):
                missing.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name}")
    assert missing == []


def test_list_show_and_use_do_not_load_inspect(config_file: Path) -> None:
    config_file.write_text(
        'model_provider = "a"\n[model_providers.a]\nname = "A"\nbase_url = "http://127.0.0.1:9/v1"\n'
        '[model_providers.b]\nname = "B"\nbase_url = "http://127.0.0.1:9/v1"\n',
        encoding="utf-8",
    )
    for argv in (["list"], ["list", "--json"], ["show", "a"], ["use", "b"], ["use", "a"]):
        proc = _run(*argv)
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.endswith("REAL-INSPECT=False"), (argv, proc.stderr)


def test_what_uses_inspect_gets_the_real_module(config_file: Path) -> None:
    # Typer (any command off the fast paths) reads signatures through the stand-in `dataclasses` holds.
    proc = _run("use", "--help")
    assert proc.returncode == 0, proc.stderr
    assert "Usage: codexprov use" in proc.stdout
    assert proc.stderr.endswith("REAL-INSPECT=True")
    script = (
        "import sys\n"
        "from codexprov.__main__ import _defer_inspect\n"
        "_defer_inspect()\n"
        "import dataclasses, inspect\n"
        "@dataclasses.dataclass\n"
        "class NoDoc:\n"
        "    x: int\n"
        "assert NoDoc.__doc__ == 'NoDoc(x: int)', NoDoc.__doc__\n"
        "assert inspect.signature(NoDoc) is not None and sys.modules['inspect'].isclass(NoDoc)\n"
        "assert dataclasses.inspect.getsource is sys.modules['inspect'].getsource\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert (proc.returncode, proc.stdout) == (0, "ok\n"), proc.stderr
