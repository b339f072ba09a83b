"""The leak fuzzer (issue 9): a distinct canary secret in every place a secret can sit, every
command run against it, and every byte of output and every file under HOME and the state dir
searched for every canary. Any hit fails, naming the command and the canary's row.

A new place a secret can sit is a new row in ROWS (valid layouts) or BROKEN (files Codex and
codexprov refuse), never a new test. `{C}` in a row is its canary, `{PORT}` the loopback server that
echoes every credential it receives back in its error body (what a careless gateway does), and
`{ID}` the row's own provider id.

Every command is run (most with --json and --dry-run too, doctor with and without network)
except `env` and `token`, whose job is to print a key (`env` masks on a terminal).

What may legitimately hold a canary (and nothing else may):
- the user's own files we planted it in, and codexprov's backups of them, as long as the key is
  not in the keyring: a backup exists to give the file back (the parse cache keeps no key);
- the output of `codexprov env` (its job is to print keys for `eval`) and `codexprov token`;
  neither is run here.
A canary that lives in the keyring (stored there, or moved there by `key migrate`) may sit in no
file at all, backups and caches included.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from codexprov import redact


@dataclass(frozen=True)
class Row:
    name: str
    snippet: str  # TOML, with {C} (the canary), {ID} (the row's provider id), {PORT}
    file: str = "config"  # config | profile (work.config.toml) | project (.codex/config.toml in cwd) | root (top of config.toml)
    env: str | None = None  # an environment variable this row sets to its canary
    keyring: bool = False  # the canary is stored in the keyring under the row's provider id
    digits: bool = False  # an all-digit canary
    shape: str = "mixed"  # see SHAPES: what the canary looks like
    escaped: bool = False  # written into the TOML with its first character as a \\u escape


def _provider(body: str) -> str:
    return (
        '[model_providers.{ID}]\nname = "{ID}"\nbase_url = "http://127.0.0.1:{PORT}/v1"\nwire_api = "responses"\n'
        + body
    )


ROWS = [
    Row("bearer-basic", _provider('experimental_bearer_token = "{C}"\n')),
    Row("bearer-literal", _provider("experimental_bearer_token = '{C}'\n")),
    Row("bearer-multiline-basic", _provider('experimental_bearer_token = """\n{C}\n"""\n')),
    Row("bearer-multiline-literal", _provider("experimental_bearer_token = '''{C}'''\n")),
    Row("bearer-digits-only", _provider('experimental_bearer_token = "{C}"\n'), digits=True),
    Row("header-table-authorization", _provider('[model_providers.{ID}.http_headers]\nAuthorization = "Bearer {C}"\n')),
    Row("header-table-x-api-key", _provider('[model_providers.{ID}.http_headers]\n"x-api-key" = "{C}"\n')),
    Row("header-inline-no-spaces", _provider('http_headers = {api-key = "{C}"}\n')),
    Row("header-inline-quoted", _provider('http_headers = { "X-Org" = "org-1", "Authorization" = "Bearer {C}" }\n')),
    Row("header-dotted", _provider('http_headers.api-key = "{C}"\n')),
    Row("header-dotted-from-root", 'model_providers.{ID}.http_headers."x-api-key" = "{C}"\n', file="root"),
    Row("ignored-api-key-field", _provider('api_key = "{C}"\n')),
    Row("query-param-api-key", _provider('query_params = { api_key = "{C}" }\n')),
    Row("query-param-sig", _provider('query_params = {sig="{C}", api-version = "2025-04-01-preview"}\n')),
    Row(
        "url-userinfo",
        '[model_providers.{ID}]\nname = "{ID}"\nbase_url = "http://user:{C}@127.0.0.1:{PORT}/v1"\nwire_api = "responses"\n',
    ),
    Row(
        "url-query-api-key",
        '[model_providers.{ID}]\nname = "{ID}"\nbase_url = "http://127.0.0.1:{PORT}/v1?api_key={C}"\nwire_api = "responses"\n',
    ),
    Row(
        "url-query-key",
        '[model_providers.{ID}]\nname = "{ID}"\nbase_url = "http://127.0.0.1:{PORT}/v1?foo=1&key={C}"\nwire_api = "responses"\n',
    ),
    Row("env-key-value", _provider('env_key = "{ENV}"\n'), env="{ENV}"),
    Row("env-http-headers-value", _provider('env_http_headers = { "x-api-key" = "{ENV}" }\n'), env="{ENV}"),
    Row(
        "keyring",
        _provider('[model_providers.{ID}.auth]\ncommand = "codexprov"\nargs = ["token", "{ID}"]\n'),
        keyring=True,
    ),
    Row(
        "mcp-env-table",
        '[mcp_servers.{ID}]\ncommand = "mcp-x"\n[mcp_servers.{ID}.env]\nGITHUB_PERSONAL_ACCESS_TOKEN = "{C}"\n',
    ),
    Row("mcp-env-inline-plain-name", '[mcp_servers.{ID}]\ncommand = "mcp-x"\nenv = {SERVICE_VALUE = "{C}"}\n'),
    Row("mcp-args-flag", '[mcp_servers.{ID}]\ncommand = "mcp-x"\nargs = ["--api-key", "{C}"]\n'),
    Row("other-table-password", '[tools.{ID}]\npassword = "{C}"\n'),
    Row("profile-file-bearer", _provider('experimental_bearer_token = "{C}"\n'), file="profile"),
    Row("profile-file-header", _provider('http_headers = {"api-key"="{C}"}\n'), file="profile"),
    Row("project-config-bearer", _provider('experimental_bearer_token = "{C}"\n'), file="project"),
    Row(
        "project-config-mcp-env", '[mcp_servers.{ID}]\ncommand = "mcp-x"\nenv = { API_TOKEN = "{C}" }\n', file="project"
    ),
]

# Places added by issue 24: each a place the boundary used to miss.
ROWS += [
    Row("bearer-lowercase-scheme", _provider('[model_providers.{ID}.http_headers]\nAuthorization = "bearer {C}"\n')),
    Row("bearer-toml-escaped", _provider('experimental_bearer_token = "{C}"\n'), escaped=True),
    Row(
        "auth-args-api-key-flag",
        _provider(
            '[model_providers.{ID}.auth]\ncommand = "sh"\nargs = ["-c", "printf %s \\"$2\\"", "x", "--api-key", "{C}"]\n'
        ),
    ),
    Row(
        "auth-args-short-k-flag",
        _provider(
            '[model_providers.{ID}.auth]\ncommand = "sh"\nargs = ["-c", "printf %s \\"$2\\"", "x", "-k", "{C}"]\n'
        ),
    ),
    Row(
        "auth-command-not-codexprov",
        _provider('[model_providers.{ID}.auth]\ncommand = "sh"\nargs = ["-c", "printf %s \\"${ENV}\\""]\n'),
        env="{ENV}",
    ),
    Row(
        "url-query-percent-encoded-name",
        '[model_providers.{ID}]\nname = "{ID}"\nbase_url = "http://127.0.0.1:{PORT}/v1?api%5Fkey={C}"\nwire_api = "responses"\n',
    ),
    Row(
        "url-fragment-token",
        '[model_providers.{ID}]\nname = "{ID}"\nbase_url = "http://127.0.0.1:{PORT}/v1#access_token={C}"\nwire_api = "responses"\n',
    ),
    Row(
        "url-path-key",
        '[model_providers.{ID}]\nname = "{ID}"\nbase_url = "http://127.0.0.1:{PORT}/key/{C}/v1"\nwire_api = "responses"\n',
    ),
]
# Shapes that look like names or paths (issue 24): each in the places a key usually sits.
for _shape in ("upper-letters", "upper-mixed", "upper-hex", "slash-base64"):
    ROWS += [
        Row(f"{_shape}-bearer", _provider('experimental_bearer_token = "{C}"\n'), shape=_shape),
        Row(
            f"{_shape}-x-api-key", _provider('[model_providers.{ID}.http_headers]\n"x-api-key" = "{C}"\n'), shape=_shape
        ),
        Row(f"{_shape}-env-key", _provider('env_key = "{ENV}"\n'), env="{ENV}", shape=_shape),
        Row(
            f"{_shape}-keyring",
            _provider('[model_providers.{ID}.auth]\ncommand = "codexprov"\nargs = ["token", "{ID}"]\n'),
            keyring=True,
            shape=_shape,
        ),
    ]

# Layouts that do not parse: each is its own config (one broken file at a time).
BROKEN = [
    Row("unterminated-basic", _provider('experimental_bearer_token = "{C}\n')),
    Row("unterminated-literal", _provider("experimental_bearer_token = '{C}\n")),
    Row("unterminated-multiline", _provider('experimental_bearer_token = """\n{C}\n')),
    Row("duplicate-line", _provider('experimental_bearer_token = "{C}"\nexperimental_bearer_token = "{C}"\n')),
    Row("duplicate-header-inline", _provider('http_headers = {api-key = "{C}", api-key = "{C}"}\n')),
    Row("junk-after-secret", _provider('experimental_bearer_token = "{C}" junk\n')),
    Row("syntax-error-below-secret", _provider('api_key = "{C}"\nbroken = = 1\n')),
    Row(
        "duplicate-line-in-profile",
        _provider('experimental_bearer_token = "{C}"\nexperimental_bearer_token = "{C}"\n'),
        file="profile",
    ),
]


def canary(row: Row, index: int) -> str:
    digest = hashlib.sha256(row.name.encode()).hexdigest()
    if row.digits:
        return "".join(str(int(c, 16) % 10) for c in digest[:22])
    if row.shape == "upper-letters":  # looks like an environment variable name
        return "".join(chr(65 + int(c, 16)) for c in digest[:24])
    if row.shape == "upper-mixed":  # ABCD1234EFGH5678IJKL9012
        return f"CNRY{index:02d}X{digest[:18].upper()}"
    if row.shape == "upper-hex":
        return digest[:32].upper()
    if row.shape == "slash-base64":  # looks like an absolute path
        return "/" + base64.b64encode(bytes.fromhex(digest[:36])).decode().replace("/", "+")[:23] + "="
    return f"cnry{index:02d}x{digest[:18]}"


def encoded(secret: str) -> set[str]:
    """The forms a canary may take in output: as is, percent-encoded, JSON-escaped."""
    return {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}


def toml_escaped(secret: str) -> str:
    return f"\\u{ord(secret[0]):04x}{secret[1:]}"


def pid_of(index: int) -> str:
    return f"leak{index:02d}"


# ------------------------------------------------------------------------------ echo server


class _Echo(BaseHTTPRequestHandler):
    """Answers 401 with every credential it was sent in the error message (a careless gateway)."""

    seen: list[str]

    def log_message(self, *args):
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        echoed = "; ".join(f"{k}: {v}" for k, v in self.headers.items()) + f"; url: {self.path}"
        self.seen.append(echoed)
        body = json.dumps(
            {"error": {"message": f"Incorrect API key provided: {echoed}", "type": "invalid_request_error"}}
        )
        self.send_response(401)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body.encode())))
        self.end_headers()
        self.wfile.write(body.encode())

    do_GET = do_POST = _answer


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up early (doctor at its timeout) is not an error worth a traceback on
    stderr, where the next command's captured output would pick it up."""

    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        pass


@contextlib.contextmanager
def echo_server_port():
    """(port, what the server was sent) of a running echo server."""
    seen: list[str] = []
    handler = type("Echo", (_Echo,), {"seen": seen})
    server = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def echo_port():
    with echo_server_port() as (port, _seen):
        yield port


# ------------------------------------------------------------------------------ the world


@dataclass
class World:
    home: Path
    codex_home: Path
    project: Path
    canaries: dict[str, str]  # canary -> row name
    keyring_canaries: set[str]  # canaries that live in the keyring (no file may hold them)
    ids: list[str]


def _fill(row: Row, index: int, port: int) -> str:
    env = f"LEAK{index:02d}_KEY"
    secret = canary(row, index)
    return (
        row.snippet.replace("{C}", toml_escaped(secret) if row.escaped else secret)
        .replace("{ID}", pid_of(index))
        .replace("{PORT}", str(port))
        .replace("{ENV}", env)
    )


def build(rows: list[tuple[int, Row]], home: Path, port: int, keyring_backend, monkeypatch) -> World:
    codex_home = home / ".codex"
    project = home / "project"
    (project / ".codex").mkdir(parents=True)
    parts: dict[str, list[str]] = {"root": [], "config": [], "profile": [], "project": []}
    canaries: dict[str, str] = {}
    keyring_canaries: set[str] = set()
    for index, row in rows:
        secret = canary(row, index)
        canaries[secret] = row.name
        parts[row.file].append(_fill(row, index, port))
        if row.env:
            monkeypatch.setenv(row.env.replace("{ENV}", f"LEAK{index:02d}_KEY"), secret)
        if row.keyring:
            keyring_backend.entries[("codexprov", pid_of(index))] = secret
            keyring_canaries.add(secret)
    head = 'model = "fake-model"\n' + "".join(parts["root"])
    (codex_home / "config.toml").write_text(head + "\n" + "\n".join(parts["config"]), encoding="utf-8")
    if parts["profile"]:
        (codex_home / "work.config.toml").write_text("\n".join(parts["profile"]), encoding="utf-8")
    if parts["project"]:
        (project / ".codex" / "config.toml").write_text("\n".join(parts["project"]), encoding="utf-8")
    monkeypatch.chdir(project)
    ids = [pid_of(i) for i, r in rows if r.snippet.startswith("[model_providers") and r.file in ("config", "root")]
    return World(home, codex_home, project, canaries, keyring_canaries, ids)


# ------------------------------------------------------------------------------ the search


class Hits:
    def __init__(self, world: World):
        self.world = world
        self.found: list[str] = []

    def output(self, command: str, text: str) -> None:
        for secret, row in self.world.canaries.items():
            for form in encoded(secret):
                if form in text:
                    self.found.append(f"`codexprov {command}` printed the canary of row {row!r} ({form!r})")

    def files(self, command: str) -> None:
        """Every file under HOME (the state dir is under it too)."""
        for path in sorted(p for p in self.world.home.rglob("*") if p.is_file()):
            try:
                data = path.read_bytes().decode("utf-8", "replace")
            except OSError:
                continue
            rel = path.relative_to(self.world.home)
            user_file = path.name.endswith("config.toml") and "backups" not in path.parts
            copy = "backups" in path.parts  # the parse cache keeps no key (issue 24 item 10)
            for secret, row in self.world.canaries.items():
                if not any(form in data for form in encoded(secret)):
                    continue
                if secret in self.world.keyring_canaries:
                    self.found.append(f"after `codexprov {command}`, {rel} holds the keyring key of row {row!r}")
                elif not (user_file or copy):
                    self.found.append(f"after `codexprov {command}`, {rel} holds the canary of row {row!r}")


def run_all(run_cli, world: World, hits: Hits, commands: list[list[str]], stdin: str = "") -> dict[str, int]:
    codes = {}
    for argv in commands:
        label = " ".join(argv)
        result = run_cli(*argv, input=stdin)
        assert "Traceback" not in result.stderr, f"`codexprov {label}` crashed:\n{result.stderr}"
        hits.output(label, result.stdout + result.stderr)
        hits.files(label)
        codes.setdefault(label, result.exit_code)
    return codes


def read_only_commands(world: World) -> list[list[str]]:
    commands = [
        ["list"],
        ["list", "--json"],
        ["key", "list"],
        ["key", "list", "--json"],
        ["profile", "list"],
        ["profile", "list", "--json"],
        ["doctor", "--offline"],
        ["doctor", "--offline", "--json"],
        ["doctor", "--timeout", "3"],
        ["doctor", "--json", "--timeout", "3"],
        ["key", "migrate", "--dry-run"],
        ["add", "custom", "--id", "fresh", "--base-url", "http://127.0.0.1:9/v1", "--key-mode", "env", "--dry-run"],
        ["recipes"],
        ["recipes", "show", "custom"],
        ["profile", "show", "work"],
        ["profile", "migrate", "--dry-run"],
        ["sessions"],
        ["sessions", "--json"],
        ["bridge", "status"],
        ["bridge", "status", "--json"],
        ["completion", "bash"],
        ["run", "--", sys.executable, "-c", "pass"],
    ]
    if world.ids:
        commands += [
            ["profile", "add", "p2", "--provider", world.ids[0], "--dry-run"],
            ["profile", "rm", "work", "--dry-run"],
            ["models", world.ids[0]],
            ["models", world.ids[0], "--json"],
            ["sessions", "--provider", world.ids[0]],
        ]
    for pid in world.ids:
        commands += [["show", pid], ["show", pid, "--json"], ["use", pid, "--dry-run"], ["remove", pid, "--dry-run"]]
    return commands


def writing_commands(world: World) -> list[list[str]]:
    first = world.ids[0] if world.ids else "leak00"
    return [
        ["add", "custom", "--id", "fresh", "--base-url", "http://127.0.0.1:9/v1", "--key-mode", "env"],
        ["use", first, "--model", "m1"],
        ["undo", "--dry-run"],
        ["undo"],
        ["undo"],
        ["key", "migrate", "--yes"],
        ["key", "list", "--json"],
        ["undo", "--dry-run"],
        ["remove", first, "--force"],
        ["undo"],
        ["doctor", "--offline", "--fix", "--yes"],
        ["list", "--json"],
    ]


def migrate(run_cli, world: World, hits: Hits, keyring_backend) -> set[str]:
    """`key migrate --yes`; the canaries it moved now live in the keyring, and no file may hold them."""
    before = set(keyring_backend.entries.values())
    result = run_cli("key", "migrate", "--yes")
    assert result.exit_code == 0, result.stderr
    hits.output("key migrate --yes", result.stdout + result.stderr)
    moved = (set(keyring_backend.entries.values()) - before) & set(world.canaries)
    moved |= {
        c
        for c in world.canaries
        if c in before and c not in world.keyring_canaries and c in keyring_backend.entries.values()
    }
    assert moved, "key migrate moved no canary"
    world.keyring_canaries |= moved
    hits.files("key migrate --yes")
    return moved


def error_commands(world: World) -> list[list[str]]:
    canaries = list(world.canaries)
    one = canaries[0]
    return [
        ["key", "set", "leak01", one],  # the key as an argument
        ["show", one],
        ["use", one],
        ["remove", one],
        ["add", one],
        ["add", "custom", "--id", "x", "--base-url", f"http://127.0.0.1:9/v1?api_key={one}", "--bogus"],
        ["add", "custom", "--header", f"Authorization=Bearer {one}", "--query"],
        ["list", one],
        ["doctor", one, "--offline"],
        ["nosuchcommand", one],
    ]


# ------------------------------------------------------------------------------ the tests


def _report(hits: Hits) -> None:
    assert not hits.found, "secrets leaked:\n" + "\n".join(sorted(set(hits.found)))


def test_no_canary_leaks_from_a_valid_config(run_cli, isolated_home, echo_port, memory_keyring, monkeypatch):
    rows = list(enumerate(ROWS, 1))
    world = build(rows, isolated_home, echo_port, memory_keyring, monkeypatch)
    hits = Hits(world)
    run_all(run_cli, world, hits, read_only_commands(world))
    run_all(run_cli, world, hits, error_commands(world))
    run_all(run_cli, world, hits, writing_commands(world)[:5])
    first = world.ids[0]
    moved = migrate(run_cli, world, hits, memory_keyring)
    run_all(run_cli, world, hits, [["key", "list", "--json"], ["undo", "--dry-run"]])
    # undo across the migrate: the keys come back from the keyring into the config (warned), so
    # from here they are plain-text keys again, which the file and its copies may hold.
    undone = run_cli("undo")
    assert undone.exit_code == 0, undone.stderr
    assert "in plain text in" in undone.stderr
    hits.output("undo (across key migrate)", undone.stdout + undone.stderr)
    world.keyring_canaries -= moved
    hits.files("undo (across key migrate)")
    migrate(run_cli, world, hits, memory_keyring)
    run_all(
        run_cli,
        world,
        hits,
        [
            ["remove", first, "--force"],
            ["undo"],
            ["doctor", "--offline", "--fix", "--yes"],
            ["list", "--json"],
            ["key", "list"],
        ],
    )
    _report(hits)


@pytest.mark.parametrize("index,row", list(enumerate(BROKEN, 1)), ids=[r.name for r in BROKEN])
def test_no_canary_leaks_from_a_broken_config(
    run_cli,
    isolated_home,
    echo_port,
    memory_keyring,
    monkeypatch,
    index,
    row,
):
    world = build([(index, row)], isolated_home, echo_port, memory_keyring, monkeypatch)
    world.ids = [pid_of(index)]
    hits = Hits(world)
    codes = run_all(run_cli, world, hits, read_only_commands(world) + writing_commands(world) + error_commands(world))
    _report(hits)
    if row.file == "config":
        # Every command that reads config.toml refuses it with the documented code (3), no traceback.
        assert codes["list"] == 3 and codes["list --json"] == 3 and codes[f"show {world.ids[0]}"] == 3


@pytest.fixture(autouse=True)
def _fresh_redaction_memory():
    redact.forget_all()
    yield
    redact.forget_all()


def test_every_row_has_a_distinct_canary():
    secrets = [canary(r, i) for i, r in enumerate(ROWS, 1)] + [canary(r, i) for i, r in enumerate(BROKEN, 1)]
    assert len(set(secrets)) == len(secrets)
    assert all(len(s) >= 20 for s in secrets)


# ------------------------------------------------------------------------------ import sources
# (issue 21; kept apart from the config rows above.) A canary in every place another tool's file
# can hold a key that `codexprov import` reads: every import command's output, and every file
# under HOME but the source itself, must be free of all of them; the canaries that were imported
# live in the keyring only.


@dataclass(frozen=True)
class SourceRow:
    name: str
    imported: bool  # the canary ends up in the keyring; otherwise the row is skipped or ignored


def _cc_switch_rows(port: int) -> list[tuple[SourceRow, object]]:
    from tests.import_sources import CcRow, codex_row, third_party_config

    url = f"http://127.0.0.1:{port}/v1"
    rows: list[tuple[SourceRow, object]] = []

    def add(name: str, imported: bool, make) -> None:
        row = SourceRow(name, imported)
        rows.append((row, make(source_canary(row))))

    add("cc-auth-openai-api-key", True, lambda c: codex_row("r1", "Auth Key", url, c))
    add(
        "cc-toml-bearer",
        True,
        lambda c: codex_row("r2", "Bearer", url, None, extra=f'experimental_bearer_token = "{c}"\n'),
    )
    add("cc-toml-apikey", True, lambda c: codex_row("r3", "Api Key", url, None, extra=f"apiKey = '{c}'\n"))
    add(
        "cc-toml-top-api-key",
        True,
        lambda c: CcRow("r4", "Top Key", {"auth": {}, "config": f'api_key = "{c}"\n' + third_party_config("t", url)}),
    )
    add(
        "cc-header-bearer",
        True,
        lambda c: codex_row("r5", "Header", url, None, extra=f'http_headers = {{ Authorization = "Bearer {c}" }}\n'),
    )
    add(
        "cc-chat-header-skipped",
        False,
        lambda c: codex_row(
            "r6", "Chat Hdr", url, None, api_format="openai_chat", extra=f'http_headers = {{ x-api-key = "{c}" }}\n'
        ),
    )
    add("cc-url-userinfo", False, lambda c: codex_row("r7", "Userinfo", f"http://user:{c}@127.0.0.1:{port}/v1", None))
    add("cc-url-query", False, lambda c: codex_row("r8", "Query", f"{url}?key={c}", None))
    add("cc-broken-json", False, lambda c: CcRow("r9", "Broken JSON", '{"auth": {"OPENAI_API_KEY": "' + c + '"'))
    add(
        "cc-broken-toml",
        False,
        lambda c: CcRow("r10", "Broken TOML", {"auth": {}, "config": f'experimental_bearer_token = "{c}\n'}),
    )
    add("cc-meta", False, lambda c: CcRow("r11", "Meta", {"auth": {}, "config": ""}, meta={"apiKey": c}))
    add(
        "cc-other-app",
        False,
        lambda c: CcRow("r12", "Claude", {"env": {"ANTHROPIC_AUTH_TOKEN": c}}, app_type="claude"),
    )
    return rows


def _ocx_rows(port: int) -> list[tuple[SourceRow, str, dict]]:
    """(row, provider name, ocx entry) with the canary in each place an ocx entry can hold a key."""
    url = f"http://127.0.0.1:{port}/v1"
    rows: list[tuple[SourceRow, str, dict]] = []

    def add(name: str, imported: bool, provider: str, make) -> None:
        row = SourceRow(name, imported)
        rows.append((row, provider, make(source_canary(row))))

    add("ocx-inline", True, "inline", lambda c: {"adapter": "openai-responses", "baseUrl": url, "apiKey": c})
    add(
        "ocx-pool-rest",
        False,
        "pooled",
        lambda c: {
            "adapter": "openai-chat",
            "baseUrl": url,
            "apiKeyPool": [
                {"id": "a", "key": "sk-ocx-pool-first-0000000000", "label": "first"},
                {"id": "b", "key": c, "label": "second"},
            ],
        },
    )
    add(
        "ocx-header",
        True,
        "headered",
        lambda c: {"adapter": "azure-openai", "baseUrl": url, "headers": {"api-key": c}},
    )
    add(
        "ocx-disabled",
        False,
        "disabled",
        lambda c: {"adapter": "openai-chat", "baseUrl": url, "apiKey": c, "disabled": True},
    )
    add(
        "ocx-forward",
        False,
        "forward",
        lambda c: {"adapter": "openai-responses", "baseUrl": url, "apiKey": c, "authMode": "forward"},
    )
    add("ocx-url", False, "in-url", lambda c: {"adapter": "openai-responses", "baseUrl": f"{url}?api_key={c}"})
    add("ocx-unknown-adapter", False, "cursor", lambda c: {"adapter": "cursor", "baseUrl": url, "apiKey": c})
    return rows


def source_canary(row: SourceRow) -> str:
    return "srcc" + hashlib.sha256(row.name.encode()).hexdigest()[:20]


def test_no_canary_leaks_from_import_sources(run_cli, isolated_home, echo_port, memory_keyring):
    from tests.import_sources import write_cc_switch, write_ocx

    rows = _cc_switch_rows(echo_port)
    db = write_cc_switch(isolated_home / ".cc-switch" / "cc-switch.db", [r for _row, r in rows])  # type: ignore[misc]
    ocx_rows = _ocx_rows(echo_port)
    ocx = write_ocx(isolated_home / ".opencodex" / "config.json", {name: entry for _r, name, entry in ocx_rows})
    sources = {db, ocx}
    canaries = {source_canary(row): row for row, _ in rows} | {source_canary(row): row for row, _n, _e in ocx_rows}
    assert len(canaries) == len(rows) + len(ocx_rows)
    found: list[str] = []
    imported_ids: list[str] = []

    def run(*argv: str) -> int:
        result = run_cli(*argv, input="")
        label = " ".join(argv)
        assert "Traceback" not in result.stderr, f"`codexprov {label}` crashed:\n{result.stderr}"
        for secret, row in canaries.items():
            if secret in result.stdout + result.stderr:
                found.append(f"`codexprov {label}` printed the canary of {row.name}")
        for path in sorted(p for p in isolated_home.rglob("*") if p.is_file() and p not in sources):
            data = path.read_bytes()
            for secret, row in canaries.items():
                if secret.encode() in data:
                    found.append(
                        f"after `codexprov {label}`, {path.relative_to(isolated_home)} holds the canary of {row.name}"
                    )
        return result.exit_code

    commands = [
        ["import", "cc-switch", "--dry-run"],
        ["import", "cc-switch", "--dry-run", "--json"],
        ["import", "cc-switch"],  # no terminal, no --yes: refused
        ["import", "cc-switch", "--yes", "--use"],
        ["import", "cc-switch", "--yes"],
        ["import", "cc-switch", "--yes", "--json"],
    ]
    commands += [[argv[0], "ocx", *argv[2:]] for argv in commands]
    codes = [run(*argv) for argv in commands]
    assert codes == [0, 0, 9, 0, 0, 0] * 2
    import tomllib

    imported_ids = list(tomllib.loads((isolated_home / ".codex" / "config.toml").read_text())["model_providers"])
    assert imported_ids == ["auth-key", "bearer", "api-key", "top-key", "header", "inline", "pooled", "headered"]
    for pid in imported_ids:
        run("show", pid)
        run("show", pid, "--json")
    for argv in (["list"], ["list", "--json"], ["key", "list"], ["key", "list", "--json"], ["doctor", "--offline"]):
        run(*argv)
    run("undo", "--dry-run")
    run("undo")
    stored = set(memory_keyring.entries.values())
    expected = {c for c, row in canaries.items() if row.imported}
    assert expected <= stored, sorted(canaries[c].name for c in expected - stored)
    assert not ({c for c, row in canaries.items() if not row.imported} & stored)
    assert not found, "\n".join(found)


def test_no_canary_leaks_from_a_key_in_auth_json(run_cli, isolated_home, echo_port, memory_keyring):
    """The cc-switch way: a requires_openai_auth provider sends auth.json's OPENAI_API_KEY."""
    secret = source_canary(SourceRow("auth-json-openai-api-key", True))
    codex_home = isolated_home / ".codex"
    (codex_home / "config.toml").write_text(
        'model_provider = "custom"\n[model_providers.custom]\nname = "custom"\n'
        f'base_url = "http://127.0.0.1:{echo_port}/v1"\nwire_api = "responses"\nrequires_openai_auth = true\n',
        encoding="utf-8",
    )
    auth = codex_home / "auth.json"
    auth.write_text(json.dumps({"OPENAI_API_KEY": secret, "tokens": None}), encoding="utf-8")
    found: list[str] = []

    def run(*argv: str, sources: tuple[Path, ...] = (auth,)) -> int:
        result = run_cli(*argv, input="")
        label = " ".join(argv)
        assert "Traceback" not in result.stderr, f"`codexprov {label}` crashed:\n{result.stderr}"
        if secret in result.stdout + result.stderr:
            found.append(f"`codexprov {label}` printed the auth.json canary")
        for path in (p for p in isolated_home.rglob("*") if p.is_file() and p not in sources):
            if secret.encode() in path.read_bytes():
                found.append(f"after `codexprov {label}`, {path.relative_to(isolated_home)} holds the auth.json canary")
        return result.exit_code

    for argv in (["list"], ["list", "--json"], ["show", "custom", "--json"], ["key", "list", "--json"]):
        assert run(*argv) == 0
    run("doctor", "--json")
    run("doctor", "--offline")
    assert run("key", "migrate", "--dry-run") == 0
    assert run("key", "migrate", "--yes", "--clear-auth-json") == 0
    assert memory_keyring.get_password("codexprov", "custom") == secret
    for argv in (["list"], ["key", "list"], ["doctor", "--json"], ["undo"], ["list", "--json"]):
        run(*argv, sources=())
    assert not found, "\n".join(found)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
