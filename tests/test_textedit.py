"""config.textedit: text surgery, exact bytes before and after."""

from __future__ import annotations

import pytest

from codexprov.config.edit import EditImpossible
from codexprov.config.textedit import find_duplicate, remove_duplicate, rename_table, table_as_file


def test_rename_table_rewrites_its_headers_and_sub_tables_only() -> None:
    text = '# mine\n[model_providers.ollama] # local\nname = "O"\n\n[model_providers.ollama.auth]\ncommand = "t"\n\n[x]\ny = 1\n'
    assert rename_table(text, ("model_providers", "ollama"), ("model_providers", "ollama custom")) == (
        '# mine\n[model_providers."ollama custom"] # local\nname = "O"\n\n[model_providers."ollama custom".auth]\ncommand = "t"\n\n[x]\ny = 1\n'
    )


def test_rename_table_refuses_a_table_written_inline() -> None:
    with pytest.raises(EditImpossible):
        rename_table(
            'model_providers = { ollama = { name = "O" } }\n', ("model_providers", "ollama"), ("model_providers", "o2")
        )


def test_table_as_file_re_roots_headers_and_keeps_comments() -> None:
    text = '[profiles.work.tools] # tools\nweb = true\n\n# the work profile\n[profiles.work]\nmodel = "m"\n\n[other]\nk = 1\n'
    assert (
        table_as_file(text, ("profiles", "work")) == '# the work profile\nmodel = "m"\n\n[tools] # tools\nweb = true\n'
    )
    assert table_as_file('profiles.work.model = "m"\n', ("profiles", "work")) is None


def test_a_duplicate_key_in_a_toml_11_inline_table_file() -> None:
    text = "h = {\n  a = 1,\n}\nh = 2\n"
    dup = find_duplicate(text)
    assert dup is not None
    assert (dup.kind, dup.name, [d.line for d in dup.definitions]) == ("key", "h", [1, 4])
    assert remove_duplicate(text, dup, -1) == "h = 2\n"
