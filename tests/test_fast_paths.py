"""The fast paths (`list`, `show`, `use`; codexprov/__main__.py) load `inspect` only when something
uses it: `dataclasses` imports it only to write a signature into a class that has no docstring
(~7 ms of `list`'s start-up; bench/bench_cli.py). Everything that does use it gets the real module."""

from __future__ import annotations

import ast
import json
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


END_NOW = (
    "import sys, tempfile, threading\n"
    "from codexprov.__main__ import _end_now\n"
    "case = sys.argv[1]\n"
    "sys.stdout.write('answer ' * 20000)\n"  # more than a pipe buffer: all of it must arrive
    "if case == 'thread':\n"
    "    go = threading.Event()\n"
    "    worker = threading.Thread(target=go.wait)\n"
    "    worker.start()\n"
    "    _end_now(3)\n"
    "    go.set()\n"
    "elif case == 'tempdir':\n"
    "    kept = tempfile.TemporaryDirectory()\n"
    "    _end_now(3)\n"
    "    kept.cleanup()\n"
    "else:\n"
    "    _end_now(3)\n"
    "sys.stdout.write('|returned')\n"
)


def test_the_program_ends_without_teardown_only_when_nothing_is_left() -> None:
    """The fast paths end the process as soon as the answer is flushed (os._exit skips ~20 ms of
    module teardown), except when a thread the interpreter would wait for, or a temporary folder
    waiting for its clean-up at exit, is still there: then the normal exit runs."""
    outcomes = {}
    for case in ("clean", "thread", "tempdir"):
        proc = subprocess.run(
            [sys.executable, "-c", END_NOW, case], capture_output=True, text=True, timeout=60, check=False
        )
        assert proc.stdout.startswith("answer " * 20000), (case, len(proc.stdout))
        outcomes[case] = (proc.returncode, proc.stdout.endswith("|returned"))
    assert outcomes == {"clean": (3, False), "thread": (0, True), "tempdir": (0, True)}


def test_the_executable_gives_every_byte_and_exit_code(run_exe, config_file: Path) -> None:
    tables = "".join(
        f'[model_providers.p{i:03d}]\nname = "P {i}"\nbase_url = "http://127.0.0.1:9/v{i}"\n' for i in range(300)
    )
    config_file.write_text('model_provider = "p000"\n' + tables, encoding="utf-8")
    listed = run_exe("list", "--json")
    assert listed.exit_code == 0, listed.stderr
    assert len(json.loads(listed.stdout)["providers"]) == 300 + 5  # and the five built-ins
    missing = run_exe("use", "nope")
    assert missing.exit_code == 4
    assert missing.stderr.startswith("error: no provider `nope` in ")
    offline = run_exe("doctor", "--offline", "--json")
    assert offline.exit_code in (0, 1), offline.stderr
    assert json.loads(offline.stdout)["providers"][0] == "p000"
