"""Golden tests: add/use/remove on hand-written configs produce exactly the reviewed bytes, and the
data after the edit is exactly the old data plus the change (checked with tomllib)."""

from __future__ import annotations

import difflib
import importlib.util
import tomllib
from pathlib import Path

import pytest

from tests.golden_ops import GOLDEN, NEW_SPEC, has_a, operations, run_case

CASES = sorted(p for p in GOLDEN.iterdir() if p.is_dir())
PARAMS = [
    pytest.param(case, name, id=f"{case.name}-{name}")
    for case in CASES
    for name, _ in operations((case / "before.toml").read_text(encoding="utf-8"))
]


@pytest.mark.parametrize(("case", "op"), PARAMS)
def test_golden_bytes(case: Path, op: str, tmp_path: Path) -> None:
    after = run_case(case, op, tmp_path)
    assert after == (case / f"after-{op}.toml").read_bytes()


@pytest.mark.parametrize(("case", "op"), PARAMS)
def test_golden_data_is_old_plus_change(case: Path, op: str) -> None:
    before_text = (case / "before.toml").read_text(encoding="utf-8")
    before = tomllib.loads(before_text)
    after = tomllib.loads((case / f"after-{op}.toml").read_text(encoding="utf-8"))
    expected = dict(before)
    if op == "add":
        expected["model_providers"] = {**before.get("model_providers", {}), "new": NEW_SPEC.to_table()}
        expected.update(model_provider="new", model="m2")
    elif op == "use":
        expected.update(model_provider="a" if has_a(before_text) else "ollama", model="m3")
    else:
        expected["model_providers"] = {k: v for k, v in before["model_providers"].items() if k != "a"}
        if not expected["model_providers"] and "model_providers" not in after:
            del expected["model_providers"]  # the parent table went with its last child
    assert after == expected


@pytest.mark.parametrize(("case", "op"), PARAMS)
def test_untouched_lines_stay(case: Path, op: str) -> None:
    """Every line the edit does not concern is still there, byte for byte, in order."""
    before = (case / "before.toml").read_bytes().splitlines(keepends=True)
    after = (case / f"after-{op}.toml").read_bytes().splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    removed = [
        line for tag, i1, i2, _, _ in matcher.get_opcodes() if tag in ("delete", "replace") for line in before[i1:i2]
    ]
    for line in removed:
        text = line.decode()
        concerned = (
            text.lstrip().startswith(("model =", "model\t=", "model          =", "model_provider", "model_providers"))
            or op == "remove"
            or (op == "add" and "model_providers" in text)
            or not line.endswith(b"\n")  # a last line that gains a newline because lines follow it
        )
        assert concerned, f"unrelated line changed: {text!r}"


def _big_config() -> str:
    spec = importlib.util.spec_from_file_location(
        "make_big_config", Path(__file__).parent.parent / "bench" / "make_big_config.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make()


def test_big_file_edits_touch_only_their_lines(tmp_path: Path) -> None:
    from codexprov import providers
    from codexprov.paths import Paths

    text = _big_config()
    (tmp_path / "big").mkdir()
    config = tmp_path / "big" / "config.toml"
    config.write_text(text, encoding="utf-8")
    paths = Paths(codex_home=tmp_path / "big", state_dir=tmp_path / "state", config_dir=tmp_path / "cfg")
    providers.use_provider(paths, "acme", model="m9")
    after = config.read_text(encoding="utf-8")
    assert after == text.replace(
        'model = "gpt-5-codex"\nmodel_provider = "openai"', 'model = "m9"\nmodel_provider = "acme"'
    )
    providers.add_provider(paths, NEW_SPEC)
    providers.remove_provider(paths, "local")
    data = tomllib.loads(config.read_text(encoding="utf-8"))
    assert sorted(data["model_providers"]) == ["acme", "new"]
    assert len(data["projects"]) == 2000
    assert config.read_text(encoding="utf-8").endswith(text[text.index("[tui]") :])
