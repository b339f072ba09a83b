"""Check the whole toml-test corpus (tests/toml-test) against a real Codex binary: every valid file
must load, every invalid one must be refused. 680 Codex runs (about a minute on 2 cores), so the
suite runs only the TOML 1.1 part (tests/test_toml_codex.py); run this after a Codex upgrade.
    .venv/bin/python -m tests.toml_corpus_codex [.cache/codex/0.169.0/node_modules/.bin/codex]
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.test_toml_codex import codex_reads
from tests.test_toml_corpus import CORPUS, FILES


def main() -> int:
    codex = Path(sys.argv[1] if len(sys.argv) > 1 else ".cache/codex/0.169.0/node_modules/.bin/codex")
    with ThreadPoolExecutor(2) as pool:
        read = dict(zip(FILES, pool.map(lambda f: codex_reads(codex, (CORPUS / f).read_bytes()), FILES), strict=True))
    wrong = [f for f in FILES if read[f][0] != f.startswith("valid/")]
    valid = [f for f in FILES if f.startswith("valid/")]
    print(f"valid: {sum(read[f][0] for f in valid)} of {len(valid)} read by Codex")
    print(f"invalid: {sum(not read[f][0] for f in FILES if f not in valid)} of {len(FILES) - len(valid)} refused")
    for f in wrong:
        print(f"disagrees: {f}: {read[f][1].strip()[:300]}")
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
