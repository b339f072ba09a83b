"""codexprov/codex/reach.py, rule by rule (no network, no Codex: the real-Codex agreement is
tests/test_reach_codex.py)."""

from __future__ import annotations

import json
from pathlib import Path

from codexprov.codex import reach
from codexprov.codex.login import Login, read_login
from codexprov.keys import codex_files
from codexprov.keys.plaintext import KEY_HEADER_NAMES

KEY = "sk-reach-unit-0000000000000001"


def test_dotenv_is_read_as_codex_reads_it() -> None:
    text = (
        "\ufeff# comment\n"
        "export A=plain   \n"
        "B='single $A # kept'\n"
        'C="double\\n${A}"\n'
        "D=value # comment\n"
        "not a line\n"
        "E=$A-x\n"
    )
    assert reach.parse_dotenv(text, {}) == {
        "A": "plain",
        "B": "single $A # kept",
        "C": "double\nplain",
        "D": "value",
        "E": "plain-x",
    }


def test_dotenv_overrides_the_shell_but_not_codex_names(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"ACME_API_KEY={KEY}\nCODEX_API_KEY=sk-ignored\ncodex_home=/x\n")
    env = reach.startup_env({"ACME_API_KEY": "sk-shell", "PATH": "/bin"}, tmp_path)
    assert dict(env) == {"ACME_API_KEY": KEY, "PATH": "/bin"}
    assert env.from_dotenv == {"ACME_API_KEY"}
    assert env.dotenv_ignored == ("CODEX_API_KEY", "codex_home")
    assert env.where("ACME_API_KEY") == f"$ACME_API_KEY (from {tmp_path / '.env'})"
    assert env.where("PATH") == "$PATH"
    assert reach.startup_env(env, tmp_path) is env


def test_env_key_is_sent_byte_for_byte_and_blank_is_missing(tmp_path: Path) -> None:
    table = {"env_key": "ACME_API_KEY"}
    newline = reach.resolve_key("acme", table, {"ACME_API_KEY": KEY + "\n"}, tmp_path)
    assert (newline.value, newline.authorization) == (KEY + "\n", None)
    assert newline.problems() == ["it holds a newline, so Codex sends no Authorization header at all"]
    spaced = reach.resolve_key("acme", table, {"ACME_API_KEY": f" {KEY}"}, tmp_path)
    assert spaced.authorization == f"Bearer  {KEY}"
    blank = reach.resolve_key("acme", table, {"ACME_API_KEY": "  "}, tmp_path)
    assert (blank.value, blank.missing) == (None, "$ACME_API_KEY is empty")
    assert reach.resolve_key("acme", table, {}, tmp_path).missing == "$ACME_API_KEY is not set"


def test_the_auth_command_runs_with_its_cwd_and_is_trimmed(tmp_path: Path) -> None:
    helper = tmp_path / "bin" / "key"
    helper.parent.mkdir()
    helper.write_text(f"#!/bin/sh\nprintf '  %s\\n' {KEY}\n")
    helper.chmod(0o755)
    table = {"auth": {"command": "./key", "cwd": "bin"}}
    key = reach.resolve_key("acme", table, {"PATH": "/usr/bin:/bin"}, tmp_path)
    assert (key.source, key.value, key.where) == ("command", KEY, "the auth command `./key`")
    slow = {"auth": {"command": "sleep", "args": ["5"], "timeout_ms": 200}}
    late = reach.resolve_key("acme", slow, {"PATH": "/usr/bin:/bin"}, tmp_path)
    assert late.missing == "the auth command `sleep 5` did not finish within its timeout (200 ms)"


def test_login_per_command(tmp_path: Path) -> None:
    table = {"requires_openai_auth": True}
    none = reach.resolve_key("acme", table, {"OPENAI_API_KEY": KEY}, tmp_path)
    assert none.missing == (
        f"there is no login in {tmp_path / 'auth.json'} and no $CODEX_API_KEY; $OPENAI_API_KEY is set, but Codex does not read it"
    )
    exec_key = reach.resolve_key("acme", table, {"CODEX_API_KEY": f" {KEY}\n"}, tmp_path)
    assert (exec_key.value, exec_key.command) == (KEY, "codex exec")
    assert exec_key.note == "plain `codex` does not read $CODEX_API_KEY and has no login: it sends no key"
    plain = reach.resolve_key("acme", table, {"CODEX_API_KEY": KEY}, tmp_path, command=reach.PLAIN)
    assert (plain.value, plain.command) == (None, "codex")
    (tmp_path / "auth.json").write_text(json.dumps({"auth_mode": "apikey", "OPENAI_API_KEY": KEY}))
    login = reach.resolve_key("acme", table, {}, tmp_path, command=reach.PLAIN)
    assert (login.source, login.value) == ("login", KEY)
    # env_key wins over requires_openai_auth, as in Codex
    both = reach.resolve_key("acme", {**table, "env_key": "K"}, {"K": "sk-env"}, tmp_path)
    assert (both.source, both.value) == ("env", "sk-env")


def test_headers_codex_sends_and_drops() -> None:
    table = {
        "http_headers": {"X-Org": " org-1 ", "X Bad": "v", "X-Nl": "a\nb", "X-Uni": "é"},
        "env_http_headers": {"X-Team": "TEAM", "X-Unset": "NOPE"},
    }
    key = reach.SentKey("env", "$K", KEY)
    assert reach.request_headers(table, {"TEAM": "t1"}, key) == {
        "X-Org": "org-1",
        "X-Uni": "é".encode(),
        "X-Team": "t1",
        "Authorization": f"Bearer {KEY}",
    }
    assert reach.dropped_headers(table, {}) == [
        ("X Bad", "the name holds a space, which no HTTP header name may"),
        ("X-Nl", "the value holds a newline"),
    ]
    assert (
        reach.endpoint("http://h/v1//", "responses", {"api-version": "1 2"}) == "http://h/v1/responses?api-version=1+2"
    )


def test_the_proxy_codex_picks() -> None:
    dead = "http://127.0.0.1:9"
    url = "http://127.0.0.1:8000/v1"
    assert reach.proxy_for(url, {"HTTPS_PROXY": dead}) is None  # https only
    assert reach.proxy_for(url, {"HTTP_PROXY": dead}) == reach.Proxy(dead, "HTTP_PROXY")
    assert reach.proxy_for(url, {"all_proxy": dead}) == reach.Proxy(dead, "all_proxy")
    assert reach.proxy_for("https://api.example.com/v1", {"https_proxy": dead, "ALL_PROXY": "x"}) == reach.Proxy(
        dead, "https_proxy"
    )
    # NO_PROXY: exact IPs and CIDRs for IP hosts, names with their subdomains; not `*`, not host:port
    for no_proxy, bypassed in [
        ("127.0.0.1", True),
        (" 127.0.0.1 ,x", True),
        ("127.0.0.0/8", True),
        ("localhost", False),
        ("*", False),
        ("127.0.0.1:8000", False),
        (".0.0.1", False),
    ]:
        got = reach.proxy_for(url, {"HTTP_PROXY": dead, "NO_PROXY": no_proxy})
        assert (got is None) is bypassed, no_proxy
    env = {"HTTPS_PROXY": dead, "no_proxy": "example.com"}
    assert reach.proxy_for("https://api.example.com/v1", env) is None
    assert reach.proxy_for("https://badexample.com/v1", env) == reach.Proxy(dead, "HTTPS_PROXY")
    assert reach.Proxy("http://user:pw@10.0.0.1:3128", "HTTP_PROXY").address == ("10.0.0.1", 3128)


def test_what_codex_ignores_or_refuses(tmp_path: Path) -> None:
    assert reach.codex_home_problem({"CODEX_HOME": "~/.codex"}) == (
        'CODEX_HOME is "~/.codex" with a literal `~`, which Codex does not expand: it stops with '
        '`CODEX_HOME points to "~/.codex", but that path does not exist`'
    )
    assert reach.codex_home_problem({"CODEX_HOME": str(tmp_path)}) is None
    assert reach.codex_home_problem({}) is None
    url = "http://127.0.0.1:1/v1"
    [relied] = reach.ignored_variables({"OPENAI_BASE_URL": url}, "openai", None, {})
    assert (relied.variable, relied.relied_on) == ("OPENAI_BASE_URL", True)
    [stale] = reach.ignored_variables({"OPENAI_BASE_URL": url}, "openai", None, {"openai_base_url": url})
    assert stale.relied_on is False
    [other] = reach.ignored_variables({"OPENAI_BASE_URL": url}, "acme", {"base_url": url}, {})
    assert other.relied_on is False
    assert reach.ignored_variables({}, "openai", None, {}) == []


def test_trusted_project_layers(tmp_path: Path) -> None:
    work = tmp_path / "repo" / "sub"
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    work.mkdir()
    layer = work / ".codex" / "config.toml"
    trusted = {"projects": {str(tmp_path / "repo"): {"trust_level": "trusted"}}}
    assert reach.project_root(work) == tmp_path / "repo"
    assert reach.trusted(work, trusted) is True
    assert reach.trusted(work, {"projects": {str(tmp_path / "repo"): {"trust_level": "untrusted"}}}) is False
    assert reach.project_value("model", [(layer, {"model": "m2"})], trusted) == ("m2", layer)
    assert reach.project_value("model", [(layer, {"model": "m2"})], {}) is None


def test_the_key_header_names_are_the_plaintext_rooms() -> None:
    # One list (codex/login.py) for "which headers carry a key": what Codex is said to send and
    # what the plain-text rule finds.
    assert reach.KEY_HEADER_NAMES is KEY_HEADER_NAMES == ("authorization", "api-key", "x-api-key")


def test_one_auth_json_reader_for_what_codex_sends_and_what_sits_in_plain_text(tmp_path: Path) -> None:
    table = {"requires_openai_auth": True}
    auth = tmp_path / "auth.json"
    auth.write_text(json.dumps({"OPENAI_API_KEY": f" {KEY}\n", "tokens": {"access_token": "tok-access-0001"}}))
    assert reach.resolve_key("acme", table, {}, tmp_path, command=reach.PLAIN).value == KEY
    assert codex_files.read_api_key(tmp_path) == KEY
    # A ChatGPT login alone: Codex sends its access token; no API key sits in plain text.
    auth.write_text(json.dumps({"OPENAI_API_KEY": None, "tokens": {"access_token": "tok-access-0001"}}))
    assert reach.resolve_key("acme", table, {}, tmp_path, command=reach.PLAIN).value == "tok-access-0001"
    assert codex_files.read_api_key(tmp_path) is None
    # A byte order mark: Codex's JSON reader refuses the file and sends no key, but the key is
    # still in plain text on disk (key list, key migrate and the doctor still find it).
    auth.write_bytes(b"\xef\xbb\xbf" + json.dumps({"OPENAI_API_KEY": KEY}).encode())
    assert reach.resolve_key("acme", table, {}, tmp_path, command=reach.PLAIN).value is None
    assert codex_files.read_api_key(tmp_path) == KEY
    assert read_login(tmp_path) == Login(KEY, None, bom=True)
