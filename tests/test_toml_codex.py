"""What Codex 0.169.0 reads, checked with the binary: the TOML 1.1 files of the toml-test corpus,
and a hand-written TOML 1.1 config (BOM, multi-line inline `http_headers`) that codexprov edits and
Codex then completes a turn with.

The whole corpus was checked the same way with tests/toml_corpus_codex.py (680 Codex runs, too
slow for the suite): Codex reads all 214 valid files and refuses all 466 invalid ones.
"""

from __future__ import annotations

import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.codexrun import codex_env, run_codex
from tests.test_toml_corpus import CORPUS, FILES, INVALID, _one_per_folder

pytestmark = pytest.mark.codex

NEW_IN_11 = sorted(set(FILES) - set((CORPUS / "files-toml-1.0.0").read_text(encoding="utf-8").splitlines()))


def codex_reads(codex_bin: Path, config: bytes) -> tuple[bool, str]:
    """Does Codex load this config.toml? `codex mcp list` loads the config and needs no network."""
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / ".codex"
        home.mkdir()
        (home / "config.toml").write_bytes(config)
        proc = subprocess.run(
            [str(codex_bin), "mcp", "list"],
            env=codex_env(home),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    return proc.returncode == 0, proc.stderr


def test_codex_reads_the_toml_11_files_and_refuses_invalid_ones(codex_bin: Path) -> None:
    valid_11 = [f for f in NEW_IN_11 if f.startswith("valid/")]
    invalid = _one_per_folder(INVALID)
    assert len(valid_11) == 57
    with ThreadPoolExecutor(2) as pool:
        files = valid_11 + invalid
        read = dict(
            zip(files, pool.map(lambda f: codex_reads(codex_bin, (CORPUS / f).read_bytes())[0], files), strict=True)
        )
    assert [f for f in valid_11 if not read[f]] == []
    assert [f for f in invalid if read[f]] == []


def test_codex_and_codexprov_agree_where_tomli_alone_would_not(codex_bin: Path, run_cli, config_file: Path) -> None:
    """The rules document.loads adds on top of tomli, each checked against the binary."""
    cases = {
        b'\xef\xbb\xbfmodel = "m"\n': True,  # one byte-order mark
        b"t = 1990-12-31T23:59:60Z\n": True,  # a leap second
        b"f = 1e400\n": False,  # overflows a double
        b"i = 9223372036854775808\n": False,  # over 64 bits
        b"i = 0xffffffffffffffff\n": False,
        b"i = -9223372036854775808\n": True,
        b"f = nan\ng = -inf\n": True,
    }
    for raw, codex_ok in cases.items():
        assert codex_reads(codex_bin, raw)[0] is codex_ok, raw
        config_file.write_bytes(raw)
        assert (run_cli("list").exit_code == 0) is codex_ok, raw


TOML_11_CONFIG = """\ufeff# written by hand, in TOML 1.1
model = "fake-model"
model_provider = "acme"

[model_providers.acme]
name = "Acme"
base_url = "{url}"
wire_api = "responses"
http_headers = {{
  "X-Team" = "blue",  # who pays
  "X-Org" = "org-1",
}}
request_max_retries = 0
stream_max_retries = 0
"""


def test_codexprov_edits_a_toml_11_config_and_codex_completes_a_turn(
    run_cli, codex_bin: Path, codex_home: Path, config_file: Path, make_fake_server
) -> None:
    acme, other = make_fake_server(reply_text="from-acme"), make_fake_server(reply_text="from-other")
    original = TOML_11_CONFIG.format(url=acme.base_url)
    config_file.write_bytes(original.encode("utf-8"))

    added = run_cli("add", "custom", "--id", "other", "--base-url", other.base_url, "--key-mode", "none")
    assert added.exit_code == 0, added.stderr
    assert run_cli("use", "other", "--model", "m-2").exit_code == 0
    assert run_cli("use", "acme", "--model", "fake-model").exit_code == 0
    text = config_file.read_bytes().decode("utf-8")
    other_table = f'\n[model_providers.other]\nname = "other"\nbase_url = "{other.base_url}"\nwire_api = "responses"\n'
    assert text == original + other_table

    proc = run_codex(codex_bin, codex_home, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "from-acme" in proc.stdout
    request = acme.requests_to("/responses", "POST")[0]
    assert (request.headers["x-team"], request.headers["x-org"]) == ("blue", "org-1")
    assert not other.requests_to("/responses", "POST")

    assert run_cli("remove", "other", "--keep-key").exit_code == 0
    assert config_file.read_bytes() == original.encode("utf-8")
