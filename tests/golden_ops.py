"""The operations the golden tests apply to every tests/golden/<case>/before.toml.

Shared by tests/test_golden.py and by `python -m tests.golden_ops --write` (which regenerates the
after-*.toml files for review; the test never regenerates them)."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from codexprov import providers
from codexprov.model import ProviderSpec
from codexprov.paths import Paths

GOLDEN = Path(__file__).parent / "golden"

NEW_SPEC = ProviderSpec(
    id="new",
    name="New",
    base_url="http://new.example/v1",
    env_key="NEW_API_KEY",
    query_params={"api-version": "2025-04-01-preview"},
    http_headers={"X-Org": "org-1"},
)


def has_a(text: str) -> bool:
    return "a" in (tomllib.loads(text).get("model_providers") or {})


def operations(text: str):
    """(name, function(paths)) for each edit that applies to this input."""
    ops = [
        ("add", lambda p: providers.add_provider(p, NEW_SPEC, use=True, model="m2")),
        ("use", lambda p: providers.use_provider(p, "a" if has_a(text) else "ollama", model="m3")),
    ]
    if has_a(text):
        ops.append(("remove", lambda p: providers.remove_provider(p, "a")))
    return ops


def run_case(case: Path, op_name: str, tmp: Path) -> bytes:
    before = (case / "before.toml").read_bytes()
    home = tmp / case.name / op_name
    home.mkdir(parents=True)
    (home / "config.toml").write_bytes(before)
    paths = Paths(codex_home=home, state_dir=tmp / "state", config_dir=tmp / "cfg")
    dict(operations(before.decode()))[op_name](paths)
    return (home / "config.toml").read_bytes()


if __name__ == "__main__" and "--write" in sys.argv:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for case in sorted(p for p in GOLDEN.iterdir() if p.is_dir()):
            for name, _ in operations((case / "before.toml").read_text()):
                (case / f"after-{name}.toml").write_bytes(run_case(case, name, Path(tmp)))
                print("wrote", case.name, name)
