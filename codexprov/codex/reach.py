"""How Codex reaches a provider: the one answer that `doctor`, `models` and `add --model` share.

Given a provider table and the environment Codex starts with, this module says what Codex
resolves and sends, without sending anything:

- the environment it really runs with: `$CODEX_HOME/.env` is loaded at start and *overrides* the
  shell's variables, except names starting with `CODEX_` (`startup_env`);
- the key it puts after `Bearer ` and where it comes from (`resolve_key`): the `[auth]` command
  (run with its args, cwd and timeout, stdout trimmed), `env_key` (sent byte for byte; blank counts
  as missing), `experimental_bearer_token`, or, with `requires_openai_auth = true`, the login of
  `codex login --with-api-key` (auth.json); `codex exec` reads `$CODEX_API_KEY` first, plain
  `codex` never does, and neither reads `$OPENAI_API_KEY`;
- the headers it sends, byte for byte, and those it drops (`request_headers`, `dropped_headers`);
- the URL it builds (`endpoint`) and the proxy each request goes through (`proxy_for`);
- what Codex ignores or refuses in the environment (`ignored_variables`, `codex_home_problem`) and
  which project config layers it trusts (`trusted`).

Each rule was seen on the Codex 0.169.0 binary with a server on 127.0.0.1
(tests/test_reach_codex.py); the wire-level rules (header names and values, the request shape per
model) are in `codex/wire.py`.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import socket
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from codexprov.codex.builtins import BUILTIN_PROVIDERS
from codexprov.codex.login import KEY_HEADER_NAMES, read_login
from codexprov.codex.wire import authorization_value, header_name_problem, header_value_problem, key_problems
from codexprov.redact import remember

DEFAULT_AUTH_TIMEOUT_MS = 5000
EXEC = "codex exec"
PLAIN = "codex"

# ---------------------------------------------------------------------------- the environment at start


class StartEnv(dict[str, str]):
    """The environment Codex runs with: the given one, overlaid with `$CODEX_HOME/.env`.
    `from_dotenv` names the variables the file set (and so overrode)."""

    dotenv_file: Path | None = None
    from_dotenv: frozenset[str] = frozenset()
    dotenv_ignored: tuple[str, ...] = ()  # CODEX_* names in .env, which Codex refuses to take from it

    def where(self, name: str) -> str:
        """`$NAME`, or `$NAME (from …/.env)` when the .env file set it."""
        if name in self.from_dotenv and self.dotenv_file is not None:
            return f"${name} (from {self.dotenv_file})"
        return f"${name}"


def startup_env(env: Mapping[str, str], codex_home: Path) -> StartEnv:
    """`env` as Codex sees it once started: `$CODEX_HOME/.env` loaded over it. Codex sets every
    variable the file names (overriding the shell's), except names starting with `CODEX_`
    (any case). Idempotent: a StartEnv passes through unchanged."""
    if isinstance(env, StartEnv):
        return env
    out = StartEnv(env)
    path = codex_home / ".env"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return out
    values = parse_dotenv(text, env)
    taken = {k: v for k, v in values.items() if not k.upper().startswith("CODEX_")}
    out.update(taken)
    out.dotenv_file = path
    out.from_dotenv = frozenset(taken)
    out.dotenv_ignored = tuple(k for k in values if k not in taken)
    return out


def parse_dotenv(text: str, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The assignments of a .env file as Codex's loader (dotenvy) reads them: `KEY=VALUE` lines,
    an optional `export `, `#` comments; single quotes literal, double quotes with `\\` escapes and
    `${VAR}`; unquoted values end at ` #` and lose surrounding whitespace. A line that does not
    parse is skipped."""
    values: dict[str, str] = {}
    lookup = dict(env or {})
    for raw in text.lstrip("\ufeff").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("export ", "export\t")):
            line = line[7:].lstrip()
        name, sep, rest = line.partition("=")
        name = name.strip()
        if not sep or not name or not all(c.isalnum() or c in "_." for c in name):
            continue
        value = _dotenv_value(rest.lstrip(), {**lookup, **values})
        if value is None:
            continue
        values[name] = value
    return values


def _dotenv_value(rest: str, known: Mapping[str, str]) -> str | None:
    if rest.startswith("'"):
        end = rest.find("'", 1)
        return rest[1:end] if end > 0 else None
    if rest.startswith('"'):
        out, i = [], 1
        escapes = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}
        while i < len(rest):
            c = rest[i]
            if c == "\\" and i + 1 < len(rest):
                out.append(escapes.get(rest[i + 1], "\\" + rest[i + 1]))
                i += 2
                continue
            if c == '"':
                return _substitute("".join(out), known)
            out.append(c)
            i += 1
        return None
    cut = rest.find(" #")
    value = (rest if cut < 0 else rest[:cut]).strip()
    return _substitute(value, known)


def _substitute(value: str, known: Mapping[str, str]) -> str:
    """`${NAME}` and `$NAME` replaced by earlier values or the environment (unknown: empty)."""
    if "$" not in value:
        return value
    out, i = [], 0
    while i < len(value):
        c = value[i]
        if c == "$" and value[i + 1 : i + 2] == "{":
            end = value.find("}", i + 2)
            if end > 0:
                out.append(known.get(value[i + 2 : end], ""))
                i = end + 1
                continue
        if c == "$" and i + 1 < len(value) and (value[i + 1].isalnum() or value[i + 1] == "_"):
            j = i + 1
            while j < len(value) and (value[j].isalnum() or value[j] == "_"):
                j += 1
            out.append(known.get(value[i + 1 : j], ""))
            i = j
            continue
        out.append(c)
        i += 1
    return "".join(out)


def codex_home_problem(env: Mapping[str, str]) -> str | None:
    """Why Codex refuses to start with this `$CODEX_HOME` (None: it starts). Codex takes the value
    literally (no `~` expansion) and requires the folder to exist."""
    value = env.get("CODEX_HOME")
    if not value:
        return None
    if value.startswith("~"):
        return (
            f'CODEX_HOME is "{value}" with a literal `~`, which Codex does not expand: it stops with '
            f'`CODEX_HOME points to "{value}", but that path does not exist`'
        )
    if not Path(value).is_dir():
        return f'CODEX_HOME is "{value}", which does not exist: Codex stops with `CODEX_HOME points to "{value}", but that path does not exist`'
    return None


# ---------------------------------------------------------------------------- the key


@dataclass(frozen=True)
class SentKey:
    """The key Codex resolves for a provider, and what it sends.

    `source`: "command" | "env" | "plaintext" | "login" | "codex-api-key" | "headers" | "none".
    `where`: where it comes from, in words (never the key). `value`: the bytes Codex puts after
    `Bearer ` (None: no key). `missing`: why there is none where one was expected (None: not
    expected, or found). `command`: which Codex command this is true for (`codex exec` reads
    $CODEX_API_KEY, plain `codex` does not); None when both agree."""

    source: str
    where: str
    value: str | None = field(default=None, repr=False)
    missing: str | None = None
    command: str | None = None
    note: str | None = None  # what differs for the other command

    @property
    def authorization(self) -> str | None:
        """The Authorization header a server receives (None: Codex sends none)."""
        return authorization_value(self.value) if self.value is not None else None

    def problems(self) -> list[str]:
        """What makes a provider refuse this key as Codex sends it."""
        return key_problems(self.value) if self.value is not None else []


@dataclass(frozen=True)
class CommandOutcome:
    """What a provider's `[auth]` command gave: the token, or why there is none."""

    token: str = field(repr=False, default="")
    error: str | None = None


def auth_cwd(auth: Mapping[str, Any], config_dir: Path) -> Path:
    """Codex resolves the auth table's `cwd` (default ".") against the folder of the config file."""
    cwd = auth.get("cwd")
    return (config_dir / str(cwd)) if isinstance(cwd, str) and cwd else config_dir


def auth_timeout(auth: Mapping[str, Any]) -> float:
    """The auth command's timeout in seconds (`timeout_ms`, default 5000)."""
    ms = auth.get("timeout_ms")
    return (ms if isinstance(ms, int) and not isinstance(ms, bool) and ms > 0 else DEFAULT_AUTH_TIMEOUT_MS) / 1000


def resolve_command(command: str, cwd: Path, env: Mapping[str, str]) -> str | None:
    """The executable Codex starts for an auth command (None: not found)."""
    if os.sep in command or (os.altsep and os.altsep in command):
        path = Path(command).expanduser()
        path = path if path.is_absolute() else cwd / path
        return str(path) if path.is_file() and os.access(path, os.X_OK) else None
    return shutil.which(command, path=env.get("PATH", os.defpath))


def run_auth_command(argv: list[str], *, cwd: Path, env: Mapping[str, str], timeout: float) -> CommandOutcome:
    """Run a provider auth command as Codex does: stdout trimmed is the token, any failure is none."""
    try:
        proc = subprocess.run(
            argv,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return CommandOutcome(error=f"did not finish within its timeout ({int(timeout * 1000)} ms)")
    except OSError as err:
        return CommandOutcome(error=f"failed to start ({err.strerror or err})")
    if proc.returncode != 0:
        first = next((ln.strip() for ln in (proc.stderr or "").splitlines() if ln.strip()), "")
        return CommandOutcome(error=f"exited with status {proc.returncode}" + (f" ({first[:200]})" if first else ""))
    token = (proc.stdout or "").strip()
    if not token:
        return CommandOutcome(error="printed nothing")
    remember(token, proc.stdout)  # what it printed is a key, whatever later output quotes it
    return CommandOutcome(token=token)


def command_key(auth: Mapping[str, Any], env: Mapping[str, str], config_dir: Path) -> SentKey:
    """The key of an `[auth]` command, run now the way Codex runs it."""
    command = str(auth.get("command"))
    args = [str(a) for a in auth.get("args") or []]
    shown = " ".join([command, *args])
    cwd = auth_cwd(auth, config_dir)
    where = f"the auth command `{shown}`"
    resolved = resolve_command(command, cwd, env)
    if resolved is None:
        return SentKey("command", where, missing=f"the auth command `{shown}` is not found")
    outcome = run_auth_command([resolved, *args], cwd=cwd, env=env, timeout=auth_timeout(auth))
    if outcome.error is not None:
        return SentKey("command", where, missing=f"the auth command `{shown}` {outcome.error}")
    return SentKey("command", where, outcome.token)


def env_key(name: str, env: Mapping[str, str]) -> SentKey:
    """`env_key`: the variable byte for byte; empty or blank counts as missing."""
    where = env.where(name) if isinstance(env, StartEnv) else f"${name}"
    raw = env.get(name)
    if raw is None or not raw.strip():
        state = "not set" if raw is None else "empty"
        return SentKey("env", where, missing=f"${name} is {state}")
    return SentKey("env", where, raw)


def login_key(codex_home: Path, env: Mapping[str, str], command: str = PLAIN) -> SentKey:
    """The key of `requires_openai_auth = true` (and of the built-in openai): `codex exec` takes
    $CODEX_API_KEY first (trimmed); both commands take the login in auth.json; $OPENAI_API_KEY is
    read by neither."""
    stored = _auth_json_key(codex_home)
    api = (env.get("CODEX_API_KEY") or "").strip()
    if api:
        if command == EXEC:
            note = None if stored else "plain `codex` does not read $CODEX_API_KEY and has no login: it sends no key"
            return SentKey("codex-api-key", "$CODEX_API_KEY", api, command=EXEC, note=note)
        if stored is None:
            return SentKey(
                "login",
                f"{codex_home / 'auth.json'} (codex login)",
                missing="there is no login (auth.json) and plain `codex` does not read $CODEX_API_KEY",
                command=PLAIN,
                note="`codex exec` would send $CODEX_API_KEY",
            )
    if stored is not None:
        return SentKey("login", f"{codex_home / 'auth.json'} (codex login)", stored)
    extra = "; $OPENAI_API_KEY is set, but Codex does not read it" if (env.get("OPENAI_API_KEY") or "").strip() else ""
    return SentKey(
        "login",
        f"{codex_home / 'auth.json'} (codex login)",
        missing=f"there is no login in {codex_home / 'auth.json'} and no $CODEX_API_KEY{extra}",
    )


def _auth_json_key(codex_home: Path) -> str | None:
    login = read_login(codex_home)
    return login.sent_key if login is not None else None


def resolve_key(
    provider_id: str,
    table: Mapping[str, Any],
    env: Mapping[str, str],
    codex_home: Path,
    *,
    config_dir: Path | None = None,
    command: str = EXEC,
    run_command: bool = True,
) -> SentKey:
    """The key Codex sends to this provider, in Codex's order: the auth command, `env_key`,
    `experimental_bearer_token`, the login (`requires_openai_auth`, the built-in openai), else
    none. `env` should be a `startup_env`; `config_dir` is the folder of the file the auth table is
    in (default: codex_home). With run_command=False the auth command is not run (value None)."""
    auth = table.get("auth")
    if isinstance(auth, Mapping) and auth.get("command"):
        if not run_command:
            return SentKey("command", f"the auth command `{auth.get('command')}`")
        return command_key(auth, env, config_dir or codex_home)
    name = table.get("env_key")
    if isinstance(name, str) and name:
        return env_key(name, env)
    token = table.get("experimental_bearer_token")
    if isinstance(token, str) and token.strip():
        return SentKey("plaintext", "experimental_bearer_token (plain text in config.toml)", token)
    if table.get("requires_openai_auth") is True or provider_id == "openai":
        return login_key(codex_home, env, command)
    headers = table.get("http_headers")
    if isinstance(headers, Mapping) and any(str(h).lower() in KEY_HEADER_NAMES for h in headers):
        return SentKey("headers", "http_headers")
    return SentKey("none", "no key")


# ---------------------------------------------------------------------------- headers and the URL


def _header_pairs(table: Mapping[str, Any], env: Mapping[str, str]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    static_headers = table.get("http_headers")
    if isinstance(static_headers, Mapping):
        pairs += [(str(k), str(v)) for k, v in static_headers.items()]
    env_headers = table.get("env_http_headers")
    if isinstance(env_headers, Mapping):
        pairs += [(str(k), env[str(v)]) for k, v in env_headers.items() if env.get(str(v))]
    return pairs


def request_headers(
    table: Mapping[str, Any], env: Mapping[str, str], key: SentKey | None = None
) -> dict[str, str | bytes]:
    """The headers Codex adds to every request to this provider: `http_headers`, then
    `env_http_headers` whose variable is set, then `Authorization` from the key. A header Codex
    cannot send is dropped, as Codex drops it. Values as httpx takes them: text when ASCII, else the
    UTF-8 bytes Codex sends; without the surrounding whitespace a server drops anyway."""
    out: dict[str, str | bytes] = {}
    for name, value in _header_pairs(table, env):
        if header_name_problem(name) is None and header_value_problem(value) is None:
            out[name] = wire_value(value.strip(" \t"))
    authorization = key.authorization if key is not None else None
    if authorization is not None:
        out["Authorization"] = wire_value(authorization)
    return out


def dropped_headers(table: Mapping[str, Any], env: Mapping[str, str]) -> list[tuple[str, str]]:
    """(name, why) for each configured header Codex silently does not send."""
    out = []
    for name, value in _header_pairs(table, env):
        why = header_name_problem(name) or header_value_problem(value)
        if why is not None:
            out.append((name, why))
    return out


def wire_value(value: str) -> str | bytes:
    """A header value for httpx: text when ASCII, else its UTF-8 bytes (httpx encodes text as ASCII)."""
    return value if value.isascii() else value.encode("utf-8")


def endpoint(base_url: str, route: str, query_params: Mapping[str, Any] | None = None) -> str:
    """The URL Codex asks: base_url without trailing slashes, `/route`, then the query params."""
    url = base_url.strip().rstrip("/") + "/" + route.lstrip("/")
    if query_params:
        url += "?" + urlencode({str(k): str(v) for k, v in query_params.items()})
    return url


def query_params(table: Mapping[str, Any]) -> dict[str, str]:
    query = table.get("query_params")
    return {str(k): str(v) for k, v in query.items()} if isinstance(query, Mapping) else {}


# ---------------------------------------------------------------------------- proxies


@dataclass(frozen=True)
class Proxy:
    """A proxy Codex sends a provider's requests through, and the variable that names it."""

    url: str  # as the variable gives it (may hold credentials: show it through redact)
    variable: str  # the variable it came from

    @property
    def address(self) -> tuple[str, int] | None:
        """(host, port) to connect to (None: not a URL Codex could use)."""
        text = self.url if "://" in self.url else "http://" + self.url
        try:
            parts = urlsplit(text)
            port = parts.port or (443 if parts.scheme == "https" else 1080 if parts.scheme.startswith("socks") else 80)
        except ValueError:
            return None
        return (parts.hostname, port) if parts.hostname else None

    def alive(self, timeout: float = 0.5) -> bool:
        """Whether something accepts a connection at the proxy's address."""
        address = self.address
        if address is None:
            return False
        try:
            with socket.create_connection(address, timeout=timeout):
                return True
        except OSError:
            return False


def _first(env: Mapping[str, str], *names: str) -> tuple[str, str] | None:
    """The first of `names` that is set (upper case before lower case, as Codex's HTTP client reads)."""
    for name in names:
        value = env.get(name)
        if value is not None and value.strip():
            return name, value.strip()
    return None


def proxy_for(url: str, env: Mapping[str, str]) -> Proxy | None:
    """The proxy Codex sends a request for `url` through (None: direct). Seen on 0.169.0: an
    http:// URL uses HTTP_PROXY, then ALL_PROXY; https:// uses HTTPS_PROXY, then ALL_PROXY; loopback
    is not exempt. NO_PROXY entries are trimmed; an IP or CIDR entry matches a literal IP host, a
    name matches that host and its subdomains; `*` and entries with a port match nothing."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not host:
        return None
    specific = ("HTTPS_PROXY", "https_proxy") if scheme == "https" else ("HTTP_PROXY", "http_proxy")
    found = _first(env, *specific) or _first(env, "ALL_PROXY", "all_proxy")
    if found is None:
        return None
    no_proxy = _first(env, "NO_PROXY", "no_proxy")
    if no_proxy is not None and _bypassed(host, no_proxy[1]):
        return None
    return Proxy(found[1], found[0])


def _bypassed(host: str, no_proxy: str) -> bool:
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        ip = None
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if not entry or entry == "*":
            continue
        if ip is not None:
            try:
                if ip in ipaddress.ip_network(entry.strip("[]"), strict=False):
                    return True
            except ValueError:
                continue
            continue
        name = entry.lstrip(".")
        if host == name or host.endswith("." + name):
            return True
    return False


# ---------------------------------------------------------------------------- what Codex ignores


@dataclass(frozen=True)
class Ignored:
    """An environment variable Codex does not read, and whether the setup relies on it."""

    variable: str
    value: str
    relied_on: bool  # True: the setup only works if Codex read it
    why: str


def ignored_variables(
    env: Mapping[str, str], active: str, active_table: Mapping[str, Any] | None, config: Mapping[str, Any]
) -> list[Ignored]:
    """Variables users set for Codex that it does not read. `OPENAI_BASE_URL` (replaced by the
    top-level `openai_base_url`) is relied on when the active provider is the built-in openai and
    the config sets no `openai_base_url`: Codex then goes to api.openai.com."""
    out = []
    value = (env.get("OPENAI_BASE_URL") or "").strip()
    if value:
        uses_openai = active == "openai" and not (active_table or {}).get("base_url")
        relied = uses_openai and not config.get("openai_base_url") and "api.openai.com" not in value
        out.append(
            Ignored(
                "OPENAI_BASE_URL",
                value,
                relied,
                "Codex no longer reads $OPENAI_BASE_URL (the top-level `openai_base_url` in config.toml replaced it)",
            )
        )
    return out


# ---------------------------------------------------------------------------- project layers


def project_root(cwd: Path) -> Path:
    """The folder Codex treats as the project: the nearest one holding `.git`, else cwd itself."""
    for folder in [cwd, *cwd.parents]:
        if (folder / ".git").exists():
            return folder
    return cwd


def trusted(cwd: Path, config: Mapping[str, Any]) -> bool:
    """Whether Codex trusts the project at `cwd` (`[projects."<path>"] trust_level = "trusted"`
    for the project root or cwd), and so loads its `.codex/config.toml` files."""
    projects = config.get("projects")
    if not isinstance(projects, Mapping):
        return False
    candidates = {str(cwd), str(project_root(cwd))}
    for path in list(candidates):
        with contextlib.suppress(OSError):
            candidates.add(str(Path(path).resolve()))
    wanted = {c.rstrip("/") for c in candidates}
    return any(
        str(key).rstrip("/") in wanted and isinstance(entry, Mapping) and entry.get("trust_level") == "trusted"
        for key, entry in projects.items()
    )


def project_value(key: str, layers: list[tuple[Path, Mapping[str, Any]]], config: Mapping[str, Any]) -> Any:
    """(value, file) of `key` from the highest project config Codex loads (None: none sets it).
    `layers` are (path of `<folder>/.codex/config.toml`, its data), lowest first; a layer counts
    only when Codex trusts its folder's project (`trusted`)."""
    found = None
    for path, data in layers:
        if key in data and trusted(path.parent.parent, config):
            found = (data[key], path)
    return found


OPENAI_DEFAULT_URL = "https://api.openai.com/v1"


def provider_url(provider_id: str, table: Mapping[str, Any] | None, config: Mapping[str, Any]) -> str | None:
    """The base URL Codex sends this provider's requests to: the table's `base_url`; for the
    built-in openai the top-level `openai_base_url`, else OpenAI's; for other built-ins their default."""
    if table and isinstance(table.get("base_url"), str):
        return str(table["base_url"])
    if provider_id == "openai":
        url = config.get("openai_base_url")
        return url if isinstance(url, str) and url else OPENAI_DEFAULT_URL
    builtin = BUILTIN_PROVIDERS.get(provider_id)
    return builtin.base_url if builtin is not None and builtin.base_url else None
