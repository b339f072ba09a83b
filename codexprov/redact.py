"""The one redaction boundary: everything codexprov shows (stdout, stderr, --json, diffs, error
messages with their source lines, doctor findings, server bodies quoted back) passes through
`redact_text` (JSON data through `redact_data`, which ends in the same place). A key itself is only
ever shown as `mask(key)` (`sk-…abcd`).

It knows secrets two ways:
- by *place*: values of secret-named keys in any TOML form (basic, literal, multi-line,
  unterminated, digits-only, inline tables with or without spaces, dotted keys), header values whose
  names carry keys, `Bearer …`, URL userinfo and secret-named query parameters, vendor key shapes;
- by *value*: every secret codexprov has seen in this process. `remember()` takes a value (the
  keyring wrapper and the env lookups call it); `remember_source()` takes the text of a config file
  as it is read, and it is scanned (lazily, at the first output) for every secret it holds - so a
  secret is masked even where its place is lost: a continuation line of a multi-line string shown
  as an error's source line, a server body echoing the key, an argument.

Stdlib only and cheap to import: `codexprov token`, `list` and the error boundary import it.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

ELLIPSIS = "…"


class _Lazy:
    """A regex compiled at its first use: most runs (`list`, `token`) need only a few of these,
    and compiling them all at import costs several milliseconds."""

    def __init__(self, pattern: str, flags: int = 0):
        self._args = (pattern, flags)
        self._compiled: re.Pattern[str] | None = None

    def __getattr__(self, name: str):
        # Only for a name not yet on the instance: kept there, later calls are plain attribute reads.
        if name.startswith("_"):
            raise AttributeError(name)
        if self._compiled is None:
            self._compiled = re.compile(*self._args)
        method = getattr(self._compiled, name)
        setattr(self, name, method)
        return method


# Keys shorter than this are shown as a bare ellipsis: four characters of a short secret are too many.
_MIN_LEN_FOR_TAIL = 12
# Shorter values are not remembered as secrets by value (they would mask ordinary words).
_MIN_LEN_KNOWN = 8

# A vendor prefix worth showing ("sk-", "sk-ant-", "gsk_", "xai-"): letters, then - or _, kept short.
_PREFIX = _Lazy(r"^(?:sk-(?:ant-|or-|proj-)?|[A-Za-z]{2,6}[-_])")


def mask(secret: str) -> str:
    """`sk-…abcd`: the vendor prefix (when there is one) and the last four characters, never more."""
    secret = secret.strip()
    if len(secret) < _MIN_LEN_FOR_TAIL:
        return ELLIPSIS
    match = _PREFIX.match(secret)
    prefix = match.group(0) if match and len(secret) - match.end() >= 8 else ""
    return f"{prefix}{ELLIPSIS}{secret[-4:]}"


# ------------------------------------------------------------------------------ names

# Names of fields, headers and query parameters whose value is a secret. Matched against the last
# segment of a (possibly dotted or quoted) key, case-insensitively.
_SECRET_NAME = _Lazy(
    r"(token|secret|passw(or)?d|passwd|authorization|credential|api[-_]?key|access[-_]?key|private[-_]?key"
    r"|signature|(^|[-_])key$|^key$|(^|[-_])sig$|^(x-)?auth$|^apikey$|cookie)",
    re.IGNORECASE,
)
# Names that match the pattern above but never hold a secret.
_NOT_SECRET_NAME = _Lazy(
    r"(^max_|_tokens$|^tokens?_(limit|count)$|_instructions$|^token_auth$|^env[-_]key$|^env_http_headers$"
    r"|^keep[-_]key$|[-_](path|file|dir|url|env|var|name|command|cmd)$|^command$)",
    re.IGNORECASE,
)
# Tables whose every value is a secret (an MCP server's `env`, a `[x.secrets]`), when key-like.
_SECRET_TABLE = _Lazy(r"^(env|secrets?|credentials?)$", re.IGNORECASE)


def is_secret_name(key: str) -> bool:
    """Whether a field, header or query parameter named `key` holds a secret (`api-key`,
    `experimental_bearer_token`, `Authorization`, `sig`), as opposed to a name (`env_key`)."""
    name = _unquote(key)
    return bool(_SECRET_NAME.search(name)) and not _NOT_SECRET_NAME.search(name)


_is_secret_name = is_secret_name  # the older private spelling, still imported by doctor.static


def _unquote(key: str) -> str:
    key = key.strip()
    if len(key) >= 2 and key[0] == key[-1] and key[0] in "\"'":
        return key[1:-1]
    if "." in key:
        key = key.rsplit(".", 1)[-1].strip().strip("\"'")
    # A diff line's `-`/`+` (`-env_key = …`) is not part of the name.
    return key.lstrip("+-") or key


# ------------------------------------------------------------------------------ by place

# An environment variable name or a path: what the fields that hold names (`env_key`,
# `env_http_headers` values, `*_file`, `command`) hold. Only there is such a value left alone: under a
# secret-named field an all-upper-case key, or a base64 key that starts with `/`, is still a key.
_ENV_NAME = _Lazy(r"^[A-Z_][A-Z0-9_]*$")
_BARE_PLAIN = _Lazy(r"^(true|false|-?\d{1,7}(\.\d+)?)$", re.IGNORECASE)
# A field name or dotted path, no digits (codexprov's own JSON says `"key": "http_headers.Authorization"`).
_FIELD_NAME = _Lazy(r"^[a-z_]+(\.[A-Za-z_-]+)*$")
_PATH = _Lazy(r"^(/|~/|[A-Za-z]:\\)")
_SCHEME_WORD = ("bearer", "basic", "token")

# A value: basic or literal string (closed, or unterminated to the end of the line), or a bare word
# that does not open an inline table or array (`{api-key = "…"}` must be seen as its own pair).
_VALUE = (
    r"""(?:"(?:[^"\\\n]|\\.)*"|"[^\n]*|'[^'\n]*'|'[^\n]*"""
    r"""|(?:(?:(?i:bearer)|Basic|Token)[ \t]+)?[^\s"',;{}\[\]]+)"""
)
# A bare key starts a word (the lookbehind): tried at every letter of a long word, the pattern would
# scan to the word's end each time, quadratic in its length.
_PAIR_KEY = r"""(?:"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|(?<![A-Za-z0-9_.-])[A-Za-z0-9_.-]+)"""
_PAIR = _Lazy(rf"(?P<key>{_PAIR_KEY})(?P<sep>[ \t]*(?:=|:)[ \t]*)(?P<value>{_VALUE})")
_MULTILINE = _Lazy(
    rf"(?P<key>{_PAIR_KEY})(?P<sep>[ \t]*=[ \t]*)(?P<q>\"\"\"|''')(?P<body>.*?)(?P<close>(?P=q)|\Z)", re.DOTALL
)

# Secret-looking strings anywhere, whatever field they are in.
_BEARER = _Lazy(r"(?P<scheme>\b(?:(?i:bearer)|Basic|Token)[ \t]+)(?P<secret>[A-Za-z0-9._~+/=-]{8,})")
_KNOWN_SHAPES = _Lazy(
    r"(?<![A-Za-z0-9_-])(?:sk-[A-Za-z0-9_-]{8,}|gsk_[A-Za-z0-9]{8,}|xai-[A-Za-z0-9]{8,}"
    r"|AIza[A-Za-z0-9_-]{20,}|ghp_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|hf_[A-Za-z0-9]{20,}"
    r"|pplx-[A-Za-z0-9]{8,}|nvapi-[A-Za-z0-9_-]{8,}|AKIA[A-Z0-9]{16})"
)
# URL userinfo (`https://user:pass@host`) and secret-named query parameters (`?api_key=…`, `&sig=…`).
_USERINFO = _Lazy(r"(?P<pre>(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*://)(?P<info>[^\s/@\"'<>]+)@")
# Secret-named query parameters, and the same in a fragment (`#access_token=…`); a name may be
# percent-encoded (`api%5Fkey`).
_QUERY = _Lazy(r"(?P<pre>[?&;#](?P<name>[A-Za-z0-9_.%-]+)=)(?P<value>[^&#\s\"'<>]+)")
# A URL path segment after a secret-named one (`/key/…`, `/token/…`, `/api_key/…`).
_URL_PATH = _Lazy(
    r"(?P<pre>/(?P<name>(?:[A-Za-z]+[-_])?(?:api[-_]?key|apikey|key|token|secret|password|sig|signature))/)"
    r"(?P<value>[^\s/?#&\"'<>]{8,})",
    re.IGNORECASE,
)
# A command-line flag that takes a key (`--api-key KEY`, `--token=KEY`, `-k KEY`) and its value.
_FLAG_ARG = _Lazy(
    r"(?<![A-Za-z0-9_-])(?P<flag>--[A-Za-z][A-Za-z0-9_-]*|-k)(?P<sep>=|[ \t]+|\"?,[ \t]*\"|'?,[ \t]*')"
    r"(?P<value>[^\s\"',;\[\]{}]{8,})"
)


def _unquoted_secret(text: str) -> bool:
    """A key written without quotes still has length and digits: the last word of `text` is 8+
    characters with a digit. (The regex `(?=.*\\d)\\S{8,}$` said the same, in quadratic time.)"""
    word = text.rsplit(None, 1)[-1] if text.split() else ""
    return len(word) >= 8 and any(c.isdigit() for c in word)


def _mask_value(value: str, name: str = "") -> str:
    """Masks a (possibly quoted, possibly unterminated) value under the secret-named field `name`,
    keeping quotes and an auth scheme word: whatever the value looks like (an all-upper-case key,
    a base64 key starting with `/`)."""
    quote = value[0] if value[:1] in ("'", '"') else ""
    closed = bool(quote) and len(value) >= 2 and value[-1] == quote
    inner = value[1:-1] if closed else value[1:] if quote else value
    stripped = inner.strip()
    if not stripped or ELLIPSIS in stripped:
        return value
    if _unquote(name).lower() == "key" and _FIELD_NAME.match(stripped):
        # codexprov's own findings name the field they are about: `"key": "http_headers.Authorization"`.
        return value
    if " " in stripped and not _split_scheme(stripped) and quote and closed:
        # Words with spaces are a description (`"key": "base_url (user:password@)"`), not a key;
        # a passphrase read from a config file is still masked by value (remember_source).
        return value
    if not quote and (_BARE_PLAIN.match(stripped) or not _unquoted_secret(stripped)):
        # Unquoted text after `name:` is often prose ("SecretService: not enough values"); a key
        # written without quotes still has length and digits (a short number is a setting).
        return value
    scheme, _, rest = stripped.partition(" ")
    masked = f"{scheme} {mask(rest)}" if rest and scheme.lower() in _SCHEME_WORD else mask(stripped)
    return f"{quote}{masked}{quote if closed else ''}"


def _redact_pair(match: re.Match[str], names_at: _NamesTables | None = None) -> str:
    if not is_secret_name(match.group("key")):
        return match.group(0)
    value = match.group("value")
    inner = value.strip().strip("\"'").strip()
    if names_at is not None and (_ENV_NAME.match(inner) or _PATH.match(inner)) and names_at.holds_names(match.start()):
        return match.group(0)  # `env_http_headers = { "api-key" = "AZURE_KEY" }`: a variable's name
    return match.group("key") + match.group("sep") + _mask_value(value, match.group("key"))


class _NamesTables:
    """Where in a text the values name environment variables instead of holding keys: on a line
    that says `env_http_headers`, or under an `[….env_http_headers]` header (a diff's `+`/`-`/` `
    prefix allowed). Only built when the text mentions env_http_headers at all."""

    _HEADER = re.compile(r"^[+\- ]?[ \t]*\[[^\n\]]*\]", re.MULTILINE)

    def __init__(self, text: str):
        self.text = text
        # (offset, whether that header opens a names table), in order.
        self.headers = [
            (m.start(), m.group(0).rstrip("]").endswith("env_http_headers")) for m in self._HEADER.finditer(text)
        ]

    def holds_names(self, pos: int) -> bool:
        import bisect

        line_start = self.text.rfind("\n", 0, pos) + 1
        if "env_http_headers" in self.text[line_start:pos]:
            return True
        at = bisect.bisect_right(self.headers, (pos, True)) - 1
        return at >= 0 and self.headers[at][1]


def _redact_multiline(match: re.Match[str]) -> str:
    if not is_secret_name(match.group("key")) or not match.group("body").strip():
        return match.group(0)
    return match.group("key") + match.group("sep") + match.group("q") + mask(match.group("body")) + match.group("close")


def _redact_userinfo(match: re.Match[str]) -> str:
    user, sep, password = match.group("info").partition(":")
    if ELLIPSIS in (password if sep else user):
        return match.group(0)  # already masked by value
    if sep:
        return f"{match.group('pre')}{user}:{mask(password)}@"
    return f"{match.group('pre')}{mask(user)}@"


def _redact_query(match: re.Match[str]) -> str:
    if not is_secret_name(_percent_decoded(match.group("name"))) or ELLIPSIS in match.group("value"):
        return match.group(0)
    return match.group("pre") + mask(match.group("value"))


def _redact_path(match: re.Match[str]) -> str:
    if ELLIPSIS in match.group("value"):
        return match.group(0)
    return match.group("pre") + mask(match.group("value"))


def _redact_flag(match: re.Match[str]) -> str:
    value = match.group("value")
    flag = match.group("flag")
    if (
        ELLIPSIS in value
        or value.startswith("-")
        or "://" in value
        or not (flag == "-k" or is_secret_name(flag.lstrip("-")))
    ):
        return match.group(0)
    return flag + match.group("sep") + mask(value)


def _percent_decoded(text: str) -> str:
    if "%" not in text:
        return text
    from urllib.parse import unquote

    return unquote(text)


# ------------------------------------------------------------------------------ by value


class _Memory:
    """Secrets seen in this process: values, and config texts still to be scanned."""

    def __init__(self) -> None:
        self.known: set[str] = set()
        self.pending: list[str] = []
        self.pattern: re.Pattern[str] | None = None  # compiled from `known`; None: rebuild

    def add(self, value: str) -> None:
        if _worth_remembering(value) and value not in self.known:
            self.known.add(value)
            self.pattern = None

    def compiled(self) -> re.Pattern[str] | None:
        if self.pattern is not None or not (self.known or self.pending):
            return self.pattern
        while self.pending:
            for secret in secrets_in_toml(self.pending.pop(), os.environ):
                self.add(secret)
        if self.known:
            forms = {form for secret in self.known for form in encodings(secret)}
            self.pattern = re.compile("|".join(re.escape(s) for s in sorted(forms, key=len, reverse=True)))
        return self.pattern


_memory = _Memory()


def _worth_remembering(value: str) -> bool:
    """A value learned as a key is remembered whatever it looks like (an all-upper-case key, a
    base64 key starting with `/`); only a short one is not (it would mask ordinary words)."""
    return len(value) >= _MIN_LEN_KNOWN and ELLIPSIS not in value and value.lower() not in ("true", "false")


_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")


def _percent(text: str, safe: str) -> str:
    """urllib.parse.quote(text, safe=safe), without importing urllib (a few ms on `list`)."""
    keep = _UNRESERVED | frozenset(safe)
    return "".join(ch if ch in keep else "".join(f"%{b:02X}" for b in ch.encode("utf-8")) for ch in text)


def _names_a_thing(value: str) -> bool:
    """An environment variable name or a path: what an MCP server's `env` table holds besides keys."""
    return bool(_ENV_NAME.match(value) or _PATH.match(value))


def encodings(secret: str) -> set[str]:
    """The forms a secret takes in what codexprov shows: as is, percent-encoded (a URL, a query
    parameter a server echoes), JSON-escaped (a server's error body, --json), TOML-escaped."""
    import json  # here: `codexprov token` imports this module and needs no json otherwise

    forms = {secret, _percent(secret, ""), _percent(secret, "/"), _percent(secret, " ").replace(" ", "+")}
    forms.add(json.dumps(secret)[1:-1])
    forms.add(json.dumps(secret, ensure_ascii=True)[1:-1])
    forms.add(secret.replace("\\", "\\\\").replace('"', '\\"'))
    return {f for f in forms if f}


def remember(*secrets: str | None) -> None:
    """Mask these values wherever they appear in later output (a key read from the keyring or an
    environment variable, a plain-text key found in a file). Values shorter than 8 characters, env
    var names and paths are not remembered (the place-based rules still mask them)."""
    for secret in secrets:
        if isinstance(secret, str):
            for value in {secret.strip(), *_split_scheme(secret)}:
                _memory.add(value)


def _split_scheme(value: str) -> list[str]:
    scheme, _, rest = value.strip().partition(" ")
    return [rest.strip()] if rest and scheme.lower() in _SCHEME_WORD else []


def remember_source(text: str) -> None:
    """A config file's text as codexprov read it: every secret in it is masked in later output.
    Scanning waits for the first output (`list` pays for it once, on the lines that can matter)."""
    if text:
        _memory.pending.append(text)
        _memory.pattern = None


def forget_all() -> None:
    """Drop every remembered secret (tests; a long-lived process between unrelated configs)."""
    _memory.known.clear()
    _memory.pending.clear()
    _memory.pattern = None


def known_secrets() -> frozenset[str]:
    """Every secret remembered so far (after scanning the pending sources)."""
    _memory.compiled()
    return frozenset(_memory.known)


# ------------------------------------------------------------------------------ the boundary


def redact_text(text: str, *, extra: Iterable[str] = ()) -> str:
    """Masks every secret in `text` (a diff, a TOML file, an error message, a server body, JSON):
    remembered values (and `extra`), then everything a secret's place gives away."""
    if not text:
        return text
    extra = [e for e in extra if _worth_remembering(e)]
    known = _memory.compiled()
    if extra:
        forms = {form for e in extra for form in encodings(e)}
        pattern = "|".join(re.escape(s) for s in sorted(forms, key=len, reverse=True))
        text = re.sub(pattern, lambda m: mask(m.group(0)), text)
    if known is not None:
        text = known.sub(lambda m: mask(m.group(0)), text)
    if '"""' in text or "'''" in text:
        text = _MULTILINE.sub(_redact_multiline, text)
    names_at = _NamesTables(text) if "env_http_headers" in text else None
    text = _PAIR.sub(lambda m: _redact_pair(m, names_at), text)
    if "://" in text:
        text = _USERINFO.sub(_redact_userinfo, text)
        text = _URL_PATH.sub(_redact_path, text)
    if "=" in text:
        text = _QUERY.sub(_redact_query, text)
    if "-" in text:
        text = _FLAG_ARG.sub(_redact_flag, text)
    text = _BEARER.sub(lambda m: m.group("scheme") + mask(m.group("secret")), text)
    return _KNOWN_SHAPES.sub(lambda m: mask(m.group(0)), text)


def redact_data(data: Any, *, extra: Iterable[str] = ()) -> Any:
    """A copy of JSON-like data safe to show: values under secret-named keys masked (env var names,
    paths, numbers and booleans kept), every string through `redact_text`."""
    extra = tuple(extra)

    def walk(node: Any, name: str | None, parent: str | None) -> Any:
        if isinstance(node, dict):
            return {k: walk(v, str(k), name) for k, v in node.items()}
        if isinstance(node, (list, tuple)):
            items = [walk(v, name, parent) for v in node]
            # An argument list (an auth command's, an MCP server's): the value after a key flag.
            for at in range(1, len(items)):
                before = node[at - 1]
                if isinstance(before, str) and isinstance(items[at], str) and _is_secret_flag(before):
                    items[at] = _mask_value(f'"{items[at]}"', "key")[1:-1] if items[at].strip() else items[at]
            return items
        if isinstance(node, str):
            names = parent is not None and parent.lower() == "env_http_headers"
            if name is not None and is_secret_name(name) and not names:
                node = _mask_value(f'"{node}"', name)[1:-1] if node.strip() else node
            return redact_text(node, extra=extra)
        return node

    return walk(data, None, None)


def _is_secret_flag(arg: str) -> bool:
    """`--api-key`, `--token`, `-k`: a command-line flag whose next argument is a key."""
    return arg == "-k" or bool(_SECRET_FLAG.match(arg))


def holds_secret(data: Any) -> bool:
    """Whether parsed config data holds a secret by its place: a value under a secret-named key
    (not an env_http_headers variable name), a value of an `env`/secrets table, an argument after
    a key flag, URL credentials or secret parameters, `Bearer …`, a vendor key shape. The parse
    cache keeps no document that does (it would be one more copy of a plain-text key)."""

    def walk(node: Any, name: str, parent: str) -> bool:
        if isinstance(node, dict):
            return any(walk(value, str(key), name) for key, value in node.items())
        if isinstance(node, list):
            for before, item in itertools.pairwise([None, *node]):
                if isinstance(item, str) and isinstance(before, str) and _is_secret_flag(before):
                    return True
                if walk(item, name, parent):
                    return True
            return False
        if not isinstance(node, str) or not node.strip():
            return False
        if parent.lower() != "env_http_headers" and (_secret_name_cached(name) or _SECRET_TABLE.match(parent)):
            return True
        flag, eq, _rest = node.partition("=")
        if eq and flag.startswith("-") and _is_secret_flag(flag):
            return True
        loose: list[str] = []
        _scan_loose(node, loose)
        return bool(loose) or bool(_KNOWN_SHAPES.search(node))

    return walk(data, "", "")


@functools.lru_cache(maxsize=512)
def _secret_name_cached(name: str) -> bool:
    return bool(name) and is_secret_name(name)


# ------------------------------------------------------------------------------ scanning TOML

# A line worth a closer look: it names something secret, a header/env table, a URL or a string
# that spans lines. On a big config (thousands of [projects] tables) almost no line matches.
_HIT_WORDS = (
    "token",
    "secret",
    "passw",
    "auth",
    "credential",
    "key",
    "bearer",
    "cookie",
    "://",
    "env",
    "header",
    "sig",
    '"""',
    "'''",
)


def _hits(text: str) -> list[int]:
    """Offsets of every _HIT_WORDS occurrence, in order. str.find per word: a case-insensitive regex
    alternation costs ~40 ms on a 6,000-line config, this well under 1 ms."""
    lower = text.lower()
    offsets: list[int] = []
    for word in _HIT_WORDS:
        at = lower.find(word)
        while at >= 0:
            offsets.append(at)
            at = lower.find(word, at + len(word))
    offsets.sort()
    return offsets


_HEADER_LINE = _Lazy(r"^[ \t]*\[\[?(?P<path>[^\]\n]*)\]\]?")
_ASSIGN = _Lazy(
    r"^[ \t]*(?P<key>(?:\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*'|[A-Za-z0-9_-]+)"
    r"(?:[ \t]*\.[ \t]*(?:\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*'|[A-Za-z0-9_-]+))*)[ \t]*=[ \t]*(?P<value>.*)$"
)
_SEGMENT = _Lazy(r"\"((?:[^\"\\\n]|\\.)*)\"|'([^'\n]*)'|([A-Za-z0-9_-]+)")
_INLINE_PAIR = _Lazy(rf"(?P<key>{_PAIR_KEY})[ \t]*=[ \t]*(?P<value>{_VALUE})")
_STRING = _Lazy(r"\"((?:[^\"\\\n]|\\.)*)\"|'([^'\n]*)'")
_SECRET_FLAG = _Lazy(r"^(--?[A-Za-z0-9-]*(token|secret|passw|api-?key|auth|key)[A-Za-z0-9-]*|-k)$", re.IGNORECASE)


def _segments(key: str) -> list[str]:
    return [a or b or c for a, b, c in _SEGMENT.findall(key)]


def _string_value(raw: str) -> str | None:
    """The text of a one-line TOML value: a closed or unterminated string, or a bare word."""
    raw = raw.strip()
    if not raw:
        return None
    if raw[0] in "\"'":
        end = raw.find(raw[0], 1)
        while raw[0] == '"' and end > 0 and raw[end - 1] == "\\":
            end = raw.find('"', end + 1)
        return raw[1:end] if end > 0 else raw[1:]
    return raw.split("#", 1)[0].strip().rstrip(",}]").strip()


def secrets_in_toml(text: str, environ: Mapping[str, str] | None = None) -> list[str]:
    """Every secret a TOML text (valid or not) holds: values of secret-named keys in any form,
    values in `env`/secret tables, key-bearing header values, URL passwords and secret query
    parameters, strings after `--token`-like flags in arrays; and, given `environ`, the values of
    the variables that `env_key` and `env_http_headers` name."""
    found: list[str] = []
    table: list[str] = []
    done_until = -1
    for hit in _hits(text):
        start = text.rfind("\n", 0, hit) + 1
        if start <= done_until:
            continue
        end = text.find("\n", hit)
        end = len(text) if end < 0 else end
        line = text[start:end]
        done_until = end
        header = _HEADER_LINE.match(line)
        if header:
            table = _segments(header.group("path"))
            done_until = _scan_table_body(text, end, table, found, environ)
            continue
        # The table a line belongs to: the nearest header above it (only looked up for hits).
        above = text.rfind("\n[", 0, start) + 1
        if above == 0 and not text.startswith("["):
            above = -1
        header = _HEADER_LINE.match(text[above : text.find("\n", above)]) if above >= 0 else None
        table = _segments(header.group("path")) if header else []
        done_until = max(done_until, _scan_assignment(text, start, end, table, found, environ))
    # A basic string's key as Codex reads it (and sends it, and a server may echo it back).
    found.extend(decoded for value in found if "\\" in value and (decoded := toml_unescape(value)) != value)
    return found


def _scan_table_body(text: str, pos: int, table: list[str], found: list[str], environ) -> int:
    """Values under a [header] whose name makes all (env) or some (headers) of its values secret."""
    last = table[-1] if table else ""
    if not (_SECRET_TABLE.match(last) or last.lower() in ("http_headers", "headers", "env_http_headers")):
        return pos
    while pos < len(text):
        start = pos + 1
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        line = text[start:end]
        if _HEADER_LINE.match(line):
            return pos
        pos = max(end, _scan_assignment(text, start, end, table, found, environ))
    return pos


def _scan_assignment(text: str, start: int, end: int, table: list[str], found: list[str], environ) -> int:
    """One `key = value` line (a value may run on to later lines); returns where scanning resumes."""
    line = text[start:end]
    m = _ASSIGN.match(line)
    if not m:
        _scan_loose(line, found)
        return end
    path = table + _segments(m.group("key"))
    value = m.group("value")
    name = path[-1] if path else ""
    parent = path[-2].lower() if len(path) >= 2 else ""
    strong = is_secret_name(name)
    secret_place = strong or _SECRET_TABLE.match(parent) is not None
    if not strong:
        # An MCP server's `env` table holds keys and settings alike: a variable name or a path
        # there is a setting (remembering `/usr/bin` as a secret would mask every path shown).
        found = _NamesDropped(found)
    if parent == "env_http_headers" or name.lower() == "env_key":
        var = _string_value(value)
        if environ is not None and var and environ.get(var):
            found.append(environ[var].strip())
        return end
    stripped = value.lstrip()
    if stripped.startswith(('"""', "'''")):
        quote = stripped[:3]
        body_start = start + m.start("value") + (len(value) - len(stripped)) + 3
        close = text.find(quote, body_start)
        body = text[body_start : close if close >= 0 else len(text)]
        if secret_place:
            found.append(body.strip())
            found.extend(part.strip() for part in body.splitlines() if part.strip())
        _scan_loose(body, found)
        return close + 3 if close >= 0 else len(text)
    if stripped.startswith("{"):
        inline_env = _SECRET_TABLE.match(name) is not None
        for pair in _INLINE_PAIR.finditer(stripped):
            inner = _string_value(pair.group("value"))
            if not inner:
                continue
            if name.lower() == "env_http_headers":
                if environ is not None and environ.get(inner):
                    found.append(environ[inner].strip())
            elif is_secret_name(pair.group("key")) or (inline_env and not _names_a_thing(inner)):
                found.append(inner)
        _scan_loose(stripped, found)
        return end
    if stripped.startswith("["):
        strings = [a or b for a, b in _STRING.findall(stripped)]
        for before, after in itertools.pairwise(strings):
            if _SECRET_FLAG.match(before):
                found.append(after)
        for s in strings:
            flag, eq, rest = s.partition("=")
            if eq and _SECRET_FLAG.match(flag):
                found.append(rest)
            if secret_place:
                found.append(s)
        _scan_loose(stripped, found)
        return end
    inner = _string_value(value)
    if inner and secret_place:
        found.append(inner)
        found.extend(_split_scheme(inner))
    _scan_loose(value, found)
    return end


class _NamesDropped(list):
    """A view of `found` that drops variable names and paths (see _scan_assignment)."""

    def __init__(self, target: list[str]):
        super().__init__()
        self.target = target

    def append(self, value: str) -> None:
        if not _names_a_thing(value.strip()):
            self.target.append(value)

    def extend(self, values: Iterable[str]) -> None:
        for value in values:
            self.append(value)


_ESCAPE = _Lazy(r"\\(?:u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|x[0-9A-Fa-f]{2}|[btnfre\"\\]|[ \t]*\r?\n\s*)")
_SIMPLE_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", "e": "\x1b", '"': '"', "\\": "\\"}


def toml_unescape(text: str) -> str:
    """A TOML basic string's escapes decoded (`\\u0065` is `e`; TOML 1.1's `\\e` and `\\xHH`; a
    line-ending backslash): the key Codex sends, and a server may echo, is the decoded one."""

    def one(m: re.Match[str]) -> str:
        body = m.group(0)[1:]
        if body[0] in "uUx":
            try:
                return chr(int(body[1:], 16))
            except (ValueError, OverflowError):
                return m.group(0)
        return _SIMPLE_ESCAPES.get(body[0], "")

    return _ESCAPE.sub(one, text) if "\\" in text else text


def _scan_loose(text: str, found: list[str]) -> None:
    """Secrets whose shape gives them away wherever they sit: URL passwords, secret query
    parameters, `Bearer …`."""
    if "://" in text:
        for m in _USERINFO.finditer(text):
            user, sep, password = m.group("info").partition(":")
            found.append(password if sep else user)
        for m in _URL_PATH.finditer(text):
            found.append(m.group("value"))
    if "=" in text and ("?" in text or "&" in text or "#" in text):
        for m in _QUERY.finditer(text):
            if is_secret_name(_percent_decoded(m.group("name"))):
                found.append(m.group("value"))
    for m in _BEARER.finditer(text):
        found.append(m.group("secret"))
