"""Which command-line arguments look like keys: the rule the error boundary uses on argv, so that a
key pasted where an id or an option value belongs is masked in the error that names it and
remembered as a secret (`cli/__init__.py`, `__main__.py`).

Stdlib only and cheap to import, like `redact`, whose vendor key shapes it shares.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from codexprov.redact import _KNOWN_SHAPES, _Lazy

_ALNUM_RUN = _Lazy(r"[A-Za-z0-9]{16,}")


def _keyish_segment(arg: str) -> bool:
    """A run of 16+ letters and digits with both in it (one pass: a lookahead per position was
    quadratic in the run's length)."""
    return any(any(c.isdigit() for c in run) and any(c.isalpha() for c in run) for run in _ALNUM_RUN.findall(arg))


def looks_like_pasted_key(arg: str) -> bool:
    """An argument that is probably a key pasted where an id or option value belongs: a vendor key
    shape, or a run of 16+ letters and digits mixed (ids, model names and paths have shorter ones)."""
    if not arg or "/" in arg or (arg.startswith("-") and "=" not in arg):
        return False
    return bool(_KNOWN_SHAPES.search(arg) or _keyish_segment(arg))


def key_like_arguments(argv: Iterable[str]) -> list[str]:
    """The parts of command-line arguments that look like keys (`--header K=Bearer sk-…` gives the key)."""
    found = []
    for arg in argv:
        for part in re.split(r"[=\s,]+", arg):
            if looks_like_pasted_key(part):
                found.append(part)
    return found
