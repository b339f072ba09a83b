"""The toml-test conformance corpus (tests/toml-test: toml-lang/toml-test v2.1.0, MIT) as configs.

Codex 0.169.0 reads every valid TOML 1.1 file there and refuses every invalid one
(test_toml_codex.py checks that with the binary). For each valid file, adding a provider and then
removing it keeps every old line and gives exactly the old data plus the provider, then the old
data. Each invalid file is refused with file:line (exit 3 at the CLI), its bytes untouched.

The whole corpus goes through the core functions the commands call (one process, ~900 edits);
one file per corpus folder also goes through the CLI, to see exit code and message.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from codexprov import paths as paths_mod
from codexprov import providers
from codexprov.config.document import loads, same_data
from codexprov.errors import ConfigError
from codexprov.model import ProviderSpec

CORPUS = Path(__file__).parent / "toml-test"
FILES = [line for line in (CORPUS / "files-toml-1.1.0").read_text(encoding="utf-8").splitlines() if line]
VALID = [f for f in FILES if f.startswith("valid/")]
INVALID = [f for f in FILES if f.startswith("invalid/")]
SPEC = ProviderSpec(id="corpus", name="corpus", base_url="http://127.0.0.1:9/v1")
TABLE = {"name": "corpus", "base_url": "http://127.0.0.1:9/v1", "wire_api": "responses"}
ADD = ("add", "custom", "--id", "corpus", "--base-url", "http://127.0.0.1:9/v1", "--key-mode", "none")


def _one_per_folder(files: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for f in files:
        seen.setdefault(f.rsplit("/", 1)[0], f)
    return sorted(seen.values())


def test_the_corpus_is_complete() -> None:
    assert (len(VALID), len(INVALID)) == (214, 466)
    assert all((CORPUS / f).is_file() for f in FILES)


def keeps_every_line(old: str, new: str) -> bool:
    """The old lines appear in the new text, in order (a subsequence)."""
    new_lines = iter(new.splitlines())
    return all(any(line == candidate for candidate in new_lines) for line in old.splitlines())


def _add_then_remove(name: str, config_file: Path) -> str | None:
    """None when the round trip is exact, else what went wrong."""
    paths = paths_mod.resolve()
    raw = (CORPUS / name).read_bytes()
    config_file.write_bytes(raw)
    old_text = raw.decode("utf-8")
    old_data = loads(old_text)
    providers.add_provider(paths, SPEC)
    added = config_file.read_bytes().decode("utf-8")
    if not keeps_every_line(old_text, added):
        return "add lost a line"
    expected = dict(old_data, model_providers=dict(old_data.get("model_providers", {}), corpus=TABLE))
    if not same_data(loads(added), expected):
        return "add changed the data"
    providers.remove_provider(paths, "corpus")
    removed = config_file.read_bytes().decode("utf-8")
    if removed != old_text:
        return "remove did not give back the file" if same_data(loads(removed), old_data) else "remove changed the data"
    return None


def test_every_valid_file_takes_an_add_and_a_remove_exactly(config_file: Path) -> None:
    problems = {name: _add_then_remove(name, config_file) for name in VALID}
    assert {k: v for k, v in problems.items() if v} == {}
    assert len(problems) == 214


def test_every_invalid_file_is_refused_with_its_line_and_left_alone(config_file: Path) -> None:
    paths = paths_mod.resolve()
    problems = {}
    for name in INVALID:
        raw = (CORPUS / name).read_bytes()
        config_file.write_bytes(raw)
        try:
            providers.add_provider(paths, SPEC)
        except ConfigError as err:
            if err.path != str(config_file) or err.line is None:
                problems[name] = f"no file:line in {err.message!r}"
        else:
            problems[name] = "accepted"
        if config_file.read_bytes() != raw:
            problems[name] = "bytes changed"
    assert problems == {}
    assert sorted(p.name for p in config_file.parent.iterdir()) == ["config.toml"]


@pytest.mark.parametrize("name", _one_per_folder(VALID))
def test_cli_add_and_remove_on_a_valid_file(name: str, run_cli, config_file: Path) -> None:
    raw = (CORPUS / name).read_bytes()
    config_file.write_bytes(raw)
    added = run_cli(*ADD)
    assert (added.exit_code, added.stderr.startswith(f"add provider corpus: wrote {config_file}")) == (0, True), (
        added.stderr
    )
    removed = run_cli("remove", "corpus", "--keep-key")
    assert removed.exit_code == 0, removed.stderr
    assert config_file.read_bytes() == raw


@pytest.mark.parametrize("name", _one_per_folder(INVALID))
def test_cli_refuses_an_invalid_file(name: str, run_cli, config_file: Path) -> None:
    raw = (CORPUS / name).read_bytes()
    config_file.write_bytes(raw)
    result = run_cli(*ADD)
    assert result.exit_code == 3, result.stderr
    assert re.match(rf"error: {re.escape(str(config_file))}:\d+(:\d+)?: \S", result.stderr), result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert config_file.read_bytes() == raw


def test_doctor_json_stays_json_when_the_bad_line_holds_control_characters(run_cli, config_file: Path) -> None:
    raw = (CORPUS / "invalid/control/string-del.toml").read_bytes()
    config_file.write_bytes(raw)
    result = run_cli("doctor", "--offline", "--json")
    findings = json.loads(result.stdout)["findings"]
    invalid = next(f for f in findings if f["check"] == "config.invalid")
    assert invalid["line"] == 1
    assert '"null\x7f"' in invalid["message"]  # the DEL comes back as it is in the file, JSON-escaped on the way
    assert "\x7f" not in result.stdout
