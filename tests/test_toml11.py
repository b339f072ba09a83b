"""TOML 1.1, nan/inf and the byte-order mark: configs Codex 0.169.0 reads, read and edited exactly."""

from __future__ import annotations

import json
from pathlib import Path

from codexprov import paths as paths_mod
from codexprov import providers
from codexprov.config.document import loads, same_data

HEADERS = """[model_providers.acme]
name = "Acme"
base_url = "http://127.0.0.1:9/v1"
http_headers = {
  x-team = "blue",  # who pays
  x-org = "org-1",
}
wire_api = "responses"
"""


def test_list_reads_a_multi_line_inline_table(run_cli, config_file: Path) -> None:
    config_file.write_text(HEADERS)
    result = run_cli("list", "--json")
    assert result.exit_code == 0, result.stderr
    acme = next(p for p in json.loads(result.stdout)["providers"] if p["id"] == "acme")
    assert acme["base_url"] == "http://127.0.0.1:9/v1"


def test_an_edit_in_the_table_keeps_the_multi_line_inline_table_as_written(config_file: Path) -> None:
    config_file.write_text(HEADERS)
    providers.update_provider_fields(paths_mod.resolve(), "acme", {"base_url": "http://127.0.0.1:8/v1"}, ["wire_api"])
    assert config_file.read_text() == HEADERS.replace("127.0.0.1:9", "127.0.0.1:8").replace(
        'wire_api = "responses"\n', ""
    )


def test_toml_11_escapes_and_times_without_seconds(run_cli, config_file: Path) -> None:
    old = 'greeting = "\\e[1mhi\\x21"\nstart = 07:30\n'
    config_file.write_text(old)
    assert (
        run_cli("add", "custom", "--id", "acme", "--base-url", "http://127.0.0.1:9/v1", "--key-mode", "none").exit_code
        == 0
    )
    assert (
        config_file.read_text()
        == old + '\n[model_providers.acme]\nname = "acme"\nbase_url = "http://127.0.0.1:9/v1"\nwire_api = "responses"\n'
    )


def test_nan_and_inf_do_not_break_the_meaning_check(run_cli, config_file: Path) -> None:
    old = "nan1 = nan\nnan2 = -nan\ninf1 = +inf\n\n[t]\narr = [nan, inf]\n"
    config_file.write_text(old)
    added = run_cli("add", "custom", "--id", "acme", "--base-url", "http://127.0.0.1:9/v1", "--key-mode", "none")
    assert (added.exit_code, "Traceback" in added.stderr) == (0, False), added.stderr
    assert config_file.read_text().startswith(old)
    removed = run_cli("remove", "acme", "--keep-key")
    assert removed.exit_code == 0, removed.stderr
    assert config_file.read_text() == old


def test_same_data_knows_floats() -> None:
    nan = float("nan")
    assert same_data({"a": [nan, {"b": nan}]}, {"a": [nan, {"b": nan}]})
    assert not same_data({"a": nan}, {"a": 1.0})
    assert not same_data({"a": 1}, {"a": True})  # TOML tells integers from booleans
    assert not same_data({"a": 1}, {"a": 1.0})


def test_a_byte_order_mark_is_accepted_and_kept(run_cli, config_file: Path) -> None:
    old = '\ufeffmodel = "m"\r\n'
    config_file.write_bytes(old.encode("utf-8"))
    assert run_cli("list").exit_code == 0
    assert (
        run_cli("add", "custom", "--id", "acme", "--base-url", "http://127.0.0.1:9/v1", "--key-mode", "none").exit_code
        == 0
    )
    assert config_file.read_bytes() == (
        old
        + '\r\n[model_providers.acme]\r\nname = "acme"\r\nbase_url = "http://127.0.0.1:9/v1"\r\nwire_api = "responses"\r\n'
    ).encode("utf-8")
    assert run_cli("undo").exit_code == 0
    assert config_file.read_bytes() == old.encode("utf-8")


def test_numbers_codex_refuses_are_refused_with_their_line(run_cli, config_file: Path) -> None:
    for text, where, reason in (
        ('model = "m"\nbig = 9223372036854775808\n', "2:7", "integer does not fit in 64 bits"),
        ('model = "m"\nhuge = 1e400\n', "2:8", "floating-point number overflowed"),
    ):
        config_file.write_text(text)
        result = run_cli("add", "custom", "--id", "acme", "--base-url", "http://127.0.0.1:9/v1", "--key-mode", "none")
        assert result.exit_code == 3
        assert result.stderr.startswith(f"error: {config_file}:{where}: invalid TOML: {reason}\n"), result.stderr
        assert config_file.read_text() == text


def test_a_leap_second_is_read_as_codex_reads_it() -> None:
    assert loads("t = 1990-12-31T23:59:60Z\n")["t"].isoformat() == "1990-12-31T23:59:59+00:00"


def test_doctor_does_not_call_toml_11_an_error(run_cli, config_file: Path) -> None:
    config_file.write_bytes(
        ('\ufeffmodel_provider = "acme"\nmodel = "m"\n\n' + HEADERS + 'env_key = "ACME_KEY"\n').encode("utf-8")
    )
    result = run_cli("doctor", "--offline", "--json")
    checks = {f["check"] for f in json.loads(result.stdout)["findings"]}
    assert not {c for c in checks if c.startswith("config.")} - {"config.ok"}, checks


def test_moving_a_key_out_of_a_multi_line_inline_table_keeps_its_other_lines(
    run_cli, config_file: Path, memory_keyring
) -> None:
    key = "sk-test-multiline-0123456789abcdef"
    config_file.write_text(
        '[model_providers.acme]\nname = "Acme"\nbase_url = "http://127.0.0.1:9/v1"\nwire_api = "responses"\n'
        f'http_headers = {{\n  x-team = "blue",  # who pays\n  Authorization = "Bearer {key}",\n  x-org = "org-1",\n}}\n'
    )
    result = run_cli("key", "migrate", "--yes")
    assert result.exit_code == 0, result.stderr
    text = config_file.read_text()
    assert '\nhttp_headers = {\n  x-team = "blue",  # who pays\n  x-org = "org-1",\n}\n' in text
    assert key not in text
    assert memory_keyring.entries == {("codexprov", "acme"): key}


def test_assign_follows_a_multi_line_inline_table() -> None:
    import tomlkit

    from codexprov.config.edit import assign

    src = 'h = {\n  "a=b" = "1", # c\n  y = "2"  # no comma\n}\n'
    doc = tomlkit.parse(src)
    assign(doc, "h", {"a=b": "9", "y": "2", "n": 1})
    assert doc.as_string() == 'h = {\n  "a=b" = "9", # c\n  y = "2",  # no comma\n  n = 1,\n}\n'
    doc = tomlkit.parse(src)
    assign(doc, "h", {"y": "2"})
    assert doc.as_string() == 'h = {\n  y = "2"  # no comma\n}\n'
    doc = tomlkit.parse("h = {\n  a = [\n    1,\n  ],\n}\n")  # a value over several lines: rendered afresh
    assign(doc, "h", {"a": [2]})
    assert doc.as_string() == "h = {a = [2]}\n"
