"""How codexprov's modules import each other: no cycles (function-level imports included), and the
cheap stdlib-only modules imported at the top everywhere but on the measured fast paths.

A cycle means two rooms that cannot be understood (or loaded) one without the other; a
function-level import of `errors` or `redact` only hides a dependency, it saves nothing. The graph
is read from the source (ast), so an import inside a function counts like any other.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "codexprov"

# Modules that import nothing but the standard library (and each other) at load time, and cost
# about a millisecond or less: importing them inside a function saves nothing.
LEAVES = frozenset(
    {
        "codexprov.errors",
        "codexprov.redact",
        "codexprov.result",
        "codexprov.model",
        "codexprov.locking",
        "codexprov.paths",
        "codexprov.output",
        "codexprov.codex.builtins",
        "codexprov.safe_write",
        "codexprov.safe_read",
        "codexprov.recipe_files",
    }
)
# The paths Codex and the shell wait on (bench/bench_token.py, bench/bench_cli.py): everything
# there is imported only when reached, leaves included.
FAST_PATHS = frozenset(
    {"codexprov/__main__.py", "codexprov/quick.py", "codexprov/token.py", "codexprov/bridge/autostart.py"}
)


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


MODULES = _modules()


def _lazy_names() -> dict[str, dict[str, str]]:
    """Per package that loads its rooms lazily (a `_LAZY = {name: room}` table in its __init__):
    which submodule each re-exported name comes from."""
    tables = {}
    for module, path in MODULES.items():
        if path.name != "__init__.py":
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["_LAZY"]:
                tables[module] = {k: f"{module}.{v}" for k, v in ast.literal_eval(node.value).items()}
    return tables


LAZY = _lazy_names()


def _imported(module: str, path: Path, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The codexprov modules an import statement loads (`from pkg import sub` is the submodule)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
            parts = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*parts, base] if base else parts)
        lazy = LAZY.get(base, {})
        subs = [lazy.get(alias.name) or f"{base}.{alias.name}" for alias in node.names]
        names = [s for s in subs if s in MODULES]
        if len(names) < len(subs):
            names.append(base)
    loaded = set()
    for name in names:
        # Importing a.b.c runs a.b's __init__ too (unless the importer is inside a.b, which then
        # runs first anyway).
        parts = name.split(".")
        loaded.update(".".join(parts[:i]) for i in range(2, len(parts) + 1))
    return sorted(n for n in loaded if n in MODULES and n != module and not module.startswith(n + "."))


def _imports() -> list[tuple[str, str, bool, int]]:
    """(importer, imported, inside a function, line) for every import in the package."""
    found = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        in_function = set()
        for func in ast.walk(tree):
            if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                in_function.update(id(n) for n in ast.walk(func) if isinstance(n, ast.Import | ast.ImportFrom))
        # `if TYPE_CHECKING:` imports are for the type checker only: nothing is loaded.
        typing_only = {
            id(n)
            for block in ast.walk(tree)
            if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
            for n in ast.walk(block)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in typing_only:
                for target in _imported(module, path, node):
                    found.append((module, target, id(node) in in_function, node.lineno))
    return found


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_graph_is_read():
    imports = _imports()
    assert ("codexprov.cli.app", "codexprov.output", False) in {(a, b, f) for a, b, f, _ in imports}
    assert any(f for _a, _b, f, _ in imports), "function-level imports are part of the graph"


def test_no_import_cycles():
    edges: dict[str, set[str]] = {}
    for importer, imported, _in_function, _line in _imports():
        edges.setdefault(importer, set()).add(imported)
    assert _cycles(edges) == []


def test_importing_a_room_loads_its_package():
    """`from codexprov.keys.plaintext import X` runs keys/__init__ too; a lazy package's names
    resolve to the room that defines them."""
    edges = {(a, b) for a, b, _f, _line in _imports()}
    assert ("codexprov.doctor.keysource", "codexprov.keys") in edges
    assert ("codexprov.doctor.keysource", "codexprov.keys.plaintext") in edges
    assert LAZY["codexprov.keys"]["find_plaintext"] == "codexprov.keys.plaintext"


def test_a_cycle_is_found():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_leaves_are_imported_at_the_top():
    inside = sorted(
        f"{MODULES[importer].relative_to(PACKAGE.parent)}:{line} imports {imported} inside a function"
        for importer, imported, in_function, line in _imports()
        if in_function
        and imported in LEAVES
        and str(MODULES[importer].relative_to(PACKAGE.parent)).replace("\\", "/") not in FAST_PATHS
    )
    assert inside == []


def test_leaves_import_only_the_standard_library_and_leaves():
    for leaf in LEAVES:
        tree = ast.parse(MODULES[leaf].read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Import | ast.ImportFrom) and not getattr(node, "level", 0):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                for name in names:
                    top = name.split(".")[0]
                    assert top in sys.stdlib_module_names or top == "__future__" or name in LEAVES, (leaf, name)
