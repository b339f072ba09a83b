"""recipes/README.md's format and the parser's field lists stay in step (as poetry keeps its config
keys and their documentation): every field the parser accepts is documented, and every field the
README shows is one the parser accepts."""

from __future__ import annotations

import re
from pathlib import Path

from codexprov.recipes import loading
from codexprov.recipes.model import EXTRA_FIELDS

README = Path(__file__).resolve().parent.parent / "recipes" / "README.md"


def _documented() -> dict[str, set[str]]:
    """The fields the README's format section shows, per table ("" for the top level)."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Format", 1)[1].split("\n## ", 1)[0]
    fields: dict[str, set[str]] = {}
    for block in re.findall(r"```toml\n(.*?)```", section, flags=re.DOTALL):
        table = ""
        for line in block.splitlines():
            header = re.match(r"^\[([A-Za-z_]+)(?:\.[A-Za-z_-]+)?\]", line)
            if header:
                table = header.group(1)
                fields.setdefault("", set()).add(table)
                fields.setdefault(table, set())
                continue
            key = re.match(r"^([A-Za-z_-]+)\s*=", line)
            if key:
                fields.setdefault(table, set()).add(key.group(1))
            also = re.search(r"#\s*(?:also: )?(.*)$", line) if table == "extra" else None
            if also:
                fields[table].update(n for n in re.findall(r"\b([a-z]+(?:_[a-z]+)+)\b", also.group(1)))
    return fields


def test_every_top_level_field_is_documented_and_parsed():
    assert _documented()[""] == set(loading.TOP_FIELDS)


def test_param_auth_and_bridge_fields_match():
    documented = _documented()
    assert documented["params"] == set(loading.PARAM_FIELDS)
    assert documented["auth_command"] == set(loading.AUTH_FIELDS)
    assert documented["bridge"] == set(loading.BRIDGE_FIELDS)
    assert documented["models"] == set(loading.MODEL_FIELDS)


def test_extra_fields_match():
    assert _documented()["extra"] == set(EXTRA_FIELDS)
