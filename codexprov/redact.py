"""Masking secrets for display. Every diff, backup and error message codexprov shows or writes passes
through `redact_text`; a key itself is only ever shown as `mask(key)` (`sk-…abcd`).

Stdlib only: `codexprov token` and the error boundary import this without paying for anything else.
"""

from __future__ import annotations

import re

ELLIPSIS = "…"

# Keys shorter than this are shown as a bare ellipsis: four characters of a short secret are too many.
_MIN_LEN_FOR_TAIL = 12

# A vendor prefix worth showing ("sk-", "sk-ant-", "gsk_", "xai-"): letters, then - or _, kept short.
_PREFIX = re.compile(r"^(?:sk-(?:ant-|or-|proj-)?|[A-Za-z]{2,6}[-_])")


def mask(secret: str) -> str:
    """`sk-…abcd`: the vendor prefix (when there is one) and the last four characters, never more."""
    secret = secret.strip()
    if len(secret) < _MIN_LEN_FOR_TAIL:
        return ELLIPSIS
    match = _PREFIX.match(secret)
    prefix = match.group(0) if match and len(secret) - match.end() >= 8 else ""
    return f"{prefix}{ELLIPSIS}{secret[-4:]}"


# ------------------------------------------------------------------------------ redact_text

# Names of fields and headers whose value is a secret. Matched against the last segment of a
# (possibly dotted or quoted) key, case-insensitively.
_SECRET_NAME = re.compile(
    r"(token|secret|passw(or)?d|authorization|credential|api[-_]?key|access[-_]?key|private[-_]?key"
    r"|(^|[-_])key$|^key$)",
    re.IGNORECASE,
)
# Names that match the pattern above but never hold a secret.
_NOT_SECRET_NAME = re.compile(r"(^max_|_tokens$|^tokens?_(limit|count)$|_instructions$|^token_auth$)", re.IGNORECASE)

# Values that are names or settings, not secrets: an environment variable name (env_key,
# env_http_headers), an absolute path, a number or boolean, or something already masked.
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_UNQUOTED_SECRET = re.compile(r"(?=.*\d)\S{8,}$")
_PLAIN_VALUE = re.compile(r"^(true|false|-?\d+(\.\d+)?|/.*|~/.*)$", re.IGNORECASE)

_KEY = r"""(?:"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[A-Za-z0-9_.-]+)"""
_VALUE = r"""(?:"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|(?:(?:Bearer|Basic|Token)[ \t]+)?[^\s"',;}\]]+)"""
_PAIR = re.compile(rf"(?P<key>{_KEY})(?P<sep>[ \t]*(?:=|:)[ \t]*)(?P<value>{_VALUE})")

# Secret-looking strings anywhere, whatever field they are in.
_BEARER = re.compile(r"(?P<scheme>\b(?:Bearer|Basic|Token)[ \t]+)(?P<secret>[A-Za-z0-9._~+/=-]{8,})")
_KNOWN_SHAPES = re.compile(
    r"(?<![A-Za-z0-9_-])(?:sk-[A-Za-z0-9_-]{8,}|gsk_[A-Za-z0-9]{8,}|xai-[A-Za-z0-9]{8,}"
    r"|AIza[A-Za-z0-9_-]{20,}|ghp_[A-Za-z0-9]{20,}|hf_[A-Za-z0-9]{20,}|pplx-[A-Za-z0-9]{8,}"
    r"|nvapi-[A-Za-z0-9_-]{8,})"
)


def _unquote(key: str) -> str:
    if len(key) >= 2 and key[0] == key[-1] and key[0] in "\"'":
        key = key[1:-1]
    return key.rsplit(".", 1)[-1] if '"' not in key and "'" not in key else key


def _is_secret_name(key: str) -> bool:
    name = _unquote(key)
    return bool(_SECRET_NAME.search(name)) and not _NOT_SECRET_NAME.search(name)


def _mask_value(value: str) -> str:
    """Masks a (possibly quoted) value, keeping its quotes and an auth scheme word."""
    quote = value[0] if value[:1] in ("'", '"') and len(value) >= 2 and value[-1] == value[0] else ""
    inner = value[1:-1] if quote else value
    if not inner or ELLIPSIS in inner or _ENV_NAME.match(inner) or _PLAIN_VALUE.match(inner):
        return value
    if not quote and not _UNQUOTED_SECRET.search(inner):
        # Unquoted text after `name:` is often prose ("SecretService: not enough values"); a key
        # written without quotes still has length and digits.
        return value
    scheme, _, rest = inner.partition(" ")
    if rest and scheme.lower() in ("bearer", "basic", "token"):
        return f"{quote}{scheme} {mask(rest)}{quote}"
    return f"{quote}{mask(inner)}{quote}"


def _redact_pair(match: re.Match[str]) -> str:
    if not _is_secret_name(match.group("key")):
        return match.group(0)
    return match.group("key") + match.group("sep") + _mask_value(match.group("value"))


def redact_text(text: str) -> str:
    """Masks every secret-looking value in `text` (a diff, a TOML file, an error message).

    Values of fields named like secrets (`*token*`, `*key`, `*secret*`, `authorization`,
    `api-key`, `password`) are masked unless they are clearly names (an env var name such as
    `GROQ_API_KEY`), numbers, booleans or paths; `Bearer …` values and strings shaped like
    vendor keys (`sk-…`, `gsk_…`) are masked wherever they appear.
    """
    if not text:
        return text
    text = _PAIR.sub(_redact_pair, text)
    text = _BEARER.sub(lambda m: m.group("scheme") + mask(m.group("secret")), text)
    return _KNOWN_SHAPES.sub(lambda m: mask(m.group(0)), text)


def contains(text: str, secret: str) -> bool:
    """Whether `secret` survives in `text` (used to double-check what we are about to write)."""
    return bool(secret) and secret in text
