"""Every answer a provider can give, judged by the real Codex first (the release under test), then by the doctor.

Each scenario is a config.toml written by hand plus a FakeServer on 127.0.0.1 with one behaviour.
`codex exec` decides the truth (did the turn finish?); the whole doctor (`run_doctor`, static and
network checks) must then fail under the named check id exactly when Codex failed. The working
look-alikes share the broken ones' server quirks or spelling and must stay free of failures.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from codexprov import paths as paths_mod
from codexprov.codex.capabilities import capabilities
from codexprov.codex.version import CodexInfo, parse_version
from codexprov.doctor import Report
from codexprov.doctor.codexrun import last_error
from codexprov.errors import KeyringUnavailableError
from tests import doctoring
from tests.codexrun import codex_env, codex_version, run_codex, write_minimal_config
from tests.fake_server import _error, _json

pytestmark = pytest.mark.codex

KEY = "sk-verdict-right-00000000000001"


@pytest.fixture(autouse=True)
def _sealed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEXPROV_SYSTEM_CONFIG", str(tmp_path / "no-etc" / "config.toml"))


def no_keyring():
    raise KeyringUnavailableError("no usable keyring: test")


def on_responses(*answers: tuple[int, dict[str, str], bytes] | None) -> Callable[..., Any]:
    """Script POST …/responses: the n-th request gets answers[n-1] (None: the normal answer);
    past the end, the last one again."""

    def answer(req: Any, n: int, server: Any) -> Any:
        if req.method != "POST" or not req.path.endswith("/responses"):
            return None
        return answers[min(n, len(answers)) - 1]

    return answer


def status(code: int, payload: Any, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    code, base, body = _json(code, payload)
    return code, {**base, **(headers or {})}, body


QUOTA = status(
    429,
    _error(
        "You exceeded your current quota, please check your plan and billing details.",
        type_="insufficient_quota",
        code="insufficient_quota",
    ),
)
RATE = status(
    429, _error("Rate limit reached for requests", type_="requests", code="rate_limit_exceeded"), {"Retry-After": "1"}
)
DOWN = status(503, {"error": {"message": "upstream connect error", "type": "server_error"}})


@dataclass
class Scenario:
    server: dict[str, Any] = field(default_factory=dict)  # FakeServer options
    key: str | None = KEY  # $ACME_API_KEY as Codex and the doctor see it
    env_key: str | None = "ACME_API_KEY"  # None: the table has no env_key (an auth table in `extra`)
    extra: list[str] = field(default_factory=list)  # more lines in [model_providers.acme]
    retries: int | None = 0  # request/stream retries (None: Codex's defaults)
    https: bool = False  # write the base URL as https:// (the server speaks plain HTTP)
    codex_timeout: float = 60


@dataclass
class Outcome:
    finished: bool
    codex_stderr: str
    report: Report
    server: Any
    requests: list[Any]  # what the doctor's probes sent
    live: Report  # `doctor --live`, with its Codex run

    def fails(self) -> list[str]:
        """The failures that count: about what plain `codex` uses here."""
        return [f.check for f in self.report.findings if f.status == "fail" and f.scope == "used"]

    def ran(self) -> Any:
        """The `codex.run` finding of `doctor --live`."""
        [found] = [f for f in self.live.findings if f.check == "codex.run"]
        return found

    def finding(self, check: str) -> Any:
        [found] = [f for f in self.report.findings if f.check == check]
        return found


def judge(
    scenario: Scenario, codex_bin: Path, codex_home: Path, make_fake_server, tmp_path: Path, after: list[str] = ()
) -> Outcome:
    server = make_fake_server(expected_key=KEY, **scenario.server)
    base_url = server.base_url.replace("http://", "https://") if scenario.https else server.base_url
    extra = list(scenario.extra)
    if scenario.retries is not None:
        extra += [f"request_max_retries = {scenario.retries}", f"stream_max_retries = {scenario.retries}"]
    if scenario.retries is not None and scenario.env_key is None:
        extra = extra[-2:] + extra[:-2]  # retries belong to [model_providers.acme], before an [….auth] table
    write_minimal_config(
        codex_home, base_url, env_key=scenario.env_key, extra_provider_lines=extra + list(after), no_retries=False
    )
    env = {"ACME_API_KEY": scenario.key} if scenario.key is not None else {}
    try:
        proc = run_codex(codex_bin, codex_home, "say pong", env_extra=env, timeout=scenario.codex_timeout, strict=False)
        finished, stderr = proc.returncode == 0 and "pong" in proc.stdout, proc.stderr
    except subprocess.TimeoutExpired:
        finished, stderr = False, "(timed out)"
    return _doctor(finished, stderr, server, env, codex_bin, codex_home, tmp_path, scenario.codex_timeout)


def sessions(codex_home: Path) -> list[Path]:
    """Every session file (a rollout) under a codex home."""
    return sorted(p.relative_to(codex_home) for p in codex_home.rglob("*.jsonl"))


def _doctor(finished, stderr, server, env, codex_bin, codex_home, tmp_path, codex_timeout) -> Outcome:
    """The doctor on the same setup, then `doctor --live`, whose Codex run must agree with `codex exec`."""
    server.clear()
    version = parse_version(codex_version(codex_bin))
    info = CodexInfo(codex_bin, version, capabilities(version), False)
    doctor_env = codex_env(codex_home, env)
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    report = doctoring.doctor(
        paths_mod.resolve(), codex_info=info, env=doctor_env, cwd=work, open_store=no_keyring, timeout=5
    )
    probes = list(server.requests)
    before = sessions(codex_home)
    live = doctoring.doctor(
        paths_mod.resolve(),
        codex_info=info,
        env=doctor_env,
        cwd=work,
        open_store=no_keyring,
        timeout=5,
        live=True,
        codex_run=True,
        codex_timeout=min(codex_timeout, 30),
    )
    [ran] = [f for f in live.findings if f.check == "codex.run"]
    assert (ran.status == "ok") is finished, (ran, stderr[-1500:])
    # the Codex run left no session in the user's codex home
    assert sessions(codex_home) == before
    return Outcome(finished, stderr, report, server, probes, live)


# ---------------------------------------------------------------------------- broken: Codex fails, doctor fails


def test_quota_exhausted(codex_bin, codex_home, make_fake_server, tmp_path) -> None:
    out = judge(
        Scenario(server={"answer": on_responses(QUOTA)}, retries=None),
        codex_bin,
        codex_home,
        make_fake_server,
        tmp_path,
    )
    # Codex stops at once, in its own words: "Quota exceeded. Check your plan and billing details."
    # from 0.160.0; 0.133.0 says "exceeded retry limit, last status: 429 Too Many Requests".
    said = last_error(out.codex_stderr)
    assert not out.finished and said in (
        "Quota exceeded. Check your plan and billing details.",
        "exceeded retry limit, last status: 429 Too Many Requests",
    ), out.codex_stderr[-1500:]
    assert out.fails() == ["net.quota"]
    assert out.report.exit_code == 1
    assert out.ran().message == f"Codex did not finish the turn (exit 1): {said} (explained by net.quota)"


def test_upstream_failing(codex_bin, codex_home, make_fake_server, tmp_path) -> None:
    out = judge(
        Scenario(server={"answer": on_responses(DOWN)}, retries=1), codex_bin, codex_home, make_fake_server, tmp_path
    )
    assert not out.finished and "503 Service Unavailable" in out.codex_stderr
    assert out.fails() == ["net.upstream"]
    assert out.ran().message.endswith("(explained by net.upstream)")


@pytest.mark.parametrize("code", [301, 302])
def test_redirect_that_drops_the_post(code, codex_bin, codex_home, make_fake_server, tmp_path) -> None:
    moved = (code, {"Location": "/v2/responses", "Content-Type": "text/plain"}, b"")
    scenario = Scenario(server={"answer": _moved(moved)})
    out = judge(scenario, codex_bin, codex_home, make_fake_server, tmp_path)
    assert not out.finished and "405 Method Not Allowed" in out.codex_stderr
    assert out.fails() == ["net.redirect"]
    assert (
        out.ran().message.endswith("(explained by net.redirect)") and out.ran().fix == out.finding("net.redirect").fix
    )
    assert out.finding("net.redirect").fix == f'base_url = "{out.server.root_url}/v2"'


@pytest.mark.parametrize(
    "key,problem",
    [
        (KEY + "\n", "it holds a newline, so Codex sends no Authorization header at all"),
        ("  " + KEY + "  ", "it has whitespace around it, which Codex sends as part of the key"),
        (f'"{KEY}"', "it is wrapped in quotes, which Codex sends as part of the key"),
        (f"Bearer {KEY}", "it starts with `Bearer `, so Codex sends `Bearer Bearer …`"),
    ],
)
def test_key_not_sent_as_written(key, problem, codex_bin, codex_home, make_fake_server, tmp_path) -> None:
    out = judge(Scenario(key=key), codex_bin, codex_home, make_fake_server, tmp_path)
    assert not out.finished and "401 Unauthorized" in out.codex_stderr
    assert out.fails() == ["key.format", "net.models"]
    assert out.ran().message.endswith("(explained by key.format)")
    assert out.finding("key.format").message == (
        f"the key in $ACME_API_KEY is not sent as you think: {problem}; the provider will refuse it"
    )
    # the probe sent what Codex sends
    sent = {r.headers.get("authorization") for r in out.requests}
    assert sent == ({None} if "\n" in key else {f"Bearer {key}".rstrip()})
    assert KEY not in json.dumps(out.report.to_json())


def test_https_to_a_plain_http_server(codex_bin, codex_home, make_fake_server, tmp_path) -> None:
    out = judge(Scenario(https=True, codex_timeout=12), codex_bin, codex_home, make_fake_server, tmp_path)
    assert not out.finished
    assert out.fails() == ["net.reachable"]
    # 0.160.0 and newer wait on the failed TLS handshake until the timeout; 0.133.0 (retries off)
    # gives up at once: "stream disconnected before completion: error sending request for url (…)".
    if out.codex_stderr == "(timed out)":
        assert out.ran().message.startswith("Codex did not finish a turn within 12 s"), out.ran().message
    else:
        assert "error sending request for url" in last_error(out.codex_stderr), out.codex_stderr[-1500:]
        assert out.ran().message.startswith("Codex did not finish the turn (exit 1): stream disconnected before")
    assert out.ran().message.endswith("(explained by net.reachable)"), out.ran().message
    reachable = out.finding("net.reachable")
    assert reachable.message.endswith("; the server speaks plain HTTP, not HTTPS")
    assert reachable.fix == f'base_url = "{out.server.base_url}"'


# ---------------------------------------------------------------------------- a limit that outlasts the retries fails the turn


def test_rate_limited_now(codex_bin, codex_home, make_fake_server, tmp_path) -> None:
    """A 429 that is still there when asked again fails Codex's turn, so it fails the doctor, with Retry-After."""
    out = judge(Scenario(server={"answer": on_responses(RATE)}), codex_bin, codex_home, make_fake_server, tmp_path)
    assert not out.finished and "429 Too Many Requests" in out.codex_stderr
    assert out.fails() == ["net.rate-limit"]
    limited = out.finding("net.rate-limit")
    assert "the server says to retry after 1 s" in limited.message
    assert out.ran().message.endswith("(explained by net.rate-limit)")


# ---------------------------------------------------------------------------- look-alikes: Codex finishes, doctor passes


def healthy(out: Outcome) -> None:
    assert out.finished, out.codex_stderr[-2000:]
    assert out.fails() == [], [f for f in out.report.findings if f.status == "fail"]
    assert out.report.exit_code == 0


def test_rate_limit_that_clears(codex_bin, codex_home, make_fake_server, tmp_path) -> None:
    version = parse_version(codex_version(codex_bin))
    if not capabilities(version).retries_rate_limit:
        pytest.skip(
            f"Codex {codex_version(codex_bin)} does not retry a 429 (0.163.0 and newer do), so a limit that clears "
            "on a retry still fails its turn: there is no look-alike (test_doctor_vs_codex's clearing cases check "
            "that the doctor fails it too)"
        )
    out = judge(
        Scenario(server={"answer": _every_other(RATE)}, retries=None), codex_bin, codex_home, make_fake_server, tmp_path
    )
    healthy(out)
    assert out.finding("net.rate-limit").status == "ok"


def test_upstream_blip_that_clears(codex_bin, codex_home, make_fake_server, tmp_path) -> None:
    out = judge(
        Scenario(server={"answer": _every_other(DOWN)}, retries=None), codex_bin, codex_home, make_fake_server, tmp_path
    )
    healthy(out)
    assert out.finding("net.upstream").status == "ok"


@pytest.mark.parametrize("code", [307, 308])
def test_redirect_that_keeps_the_post(code, codex_bin, codex_home, make_fake_server, tmp_path) -> None:
    moved = (code, {"Location": "/v2/responses", "Content-Type": "text/plain"}, b"")
    out = judge(Scenario(server={"answer": _moved(moved)}), codex_bin, codex_home, make_fake_server, tmp_path)
    healthy(out)
    assert out.finding("net.redirect").status == "ok"


def test_slow_is_not_down(codex_bin, codex_home, make_fake_server, tmp_path) -> None:
    out = judge(Scenario(server={"delay": 1.5}), codex_bin, codex_home, make_fake_server, tmp_path)
    healthy(out)
    assert [f.status for f in out.report.findings if f.check.startswith("net.")] == ["ok", "ok", "ok", "ok"]


def test_key_with_a_tab_inside_quotes_in_header_values_and_unsendable_headers(
    codex_bin, codex_home, make_fake_server, tmp_path
) -> None:
    """Headers Codex cannot send are dropped and the turn works: a warning, no failure; quotes
    elsewhere in a header value are just part of it."""
    extra = ['http_headers = { "X Org" = "a", "X-Line" = "a\\nb", "X-Utf" = "é", "X-Quoted" = "\\"q\\"" }']
    out = judge(Scenario(extra=extra), codex_bin, codex_home, make_fake_server, tmp_path)
    healthy(out)
    warned = [(f.check, f.status, f.message) for f in out.report.findings if f.check == "provider.http-header"]
    assert warned == [
        (
            "provider.http-header",
            "warn",
            "http_headers `X Org`: the name holds a space, which no HTTP header name may, so Codex drops this header silently and sends the rest",
        ),
        (
            "provider.http-header",
            "warn",
            "http_headers `X-Line`: the value holds a newline, so Codex drops this header silently and sends the rest",
        ),
    ]
    probe = out.requests[0].headers
    assert probe["x-utf"] == "é".encode().decode("latin-1") and probe["x-quoted"] == '"q"' and "x-line" not in probe


def test_auth_command_output_with_whitespace_is_trimmed(codex_bin, codex_home, make_fake_server, tmp_path) -> None:
    """Codex trims an auth command's output (unlike an env var): spaces and newlines around it are fine."""
    helper = tmp_path / "print-key"
    helper.write_text(f"#!/bin/sh\nprintf '  {KEY}\\n\\n'\n")
    helper.chmod(0o755)
    auth = ["", "[model_providers.acme.auth]", f'command = "{helper}"']
    out = judge(Scenario(key=None, env_key=None, extra=auth), codex_bin, codex_home, make_fake_server, tmp_path)
    healthy(out)
    assert "key.format" not in [f.check for f in out.report.findings]
    assert {r.headers.get("authorization") for r in out.requests} == {f"Bearer {KEY}"}


# ---------------------------------------------------------------------------- helpers


def _moved(moved: tuple[int, dict[str, str], bytes]) -> Callable[..., Any]:
    """POST /v1/responses answers `moved` (Location /v2/responses); /v2/* is served as /v1/*."""
    from tests.fake_server import RecordedRequest

    def answer(req: Any, n: int, server: Any) -> Any:
        if req.path == "/v1/responses":
            return moved
        if req.path.startswith("/v2/"):
            return server.normal_answer(
                RecordedRequest(req.method, "/v1" + req.path[3:], req.query, req.headers, req.body, req.raw_body)
            )
        return None

    return answer


def _every_other(answer: tuple[int, dict[str, str], bytes]) -> Callable[..., Any]:
    """Odd-numbered POSTs to /responses get `answer`, even ones the normal answer: a condition
    that clears when asked again (Codex and the doctor both ask again)."""

    def script(req: Any, n: int, server: Any) -> Any:
        if req.method == "POST" and req.path.endswith("/responses") and n % 2 == 1:
            return answer
        return None

    return script


# ---------------------------------------------------------------------------- the verdict is about what `codex` uses


def test_unused_provider_pointing_nowhere(codex_bin, codex_home, make_fake_server, tmp_path) -> None:
    spare = [
        "",
        "[model_providers.spare]",
        'name = "Spare"',
        'base_url = "http://127.0.0.1:9/v1"',
        'env_key = "SPARE_KEY"',
    ]
    out = judge(Scenario(extra=[], server={}), codex_bin, codex_home, make_fake_server, tmp_path, after=spare)
    healthy(out)
    others = sorted({(f.check, f.provider) for f in out.report.findings if f.status == "fail" and f.scope == "other"})
    assert others == [("key.env-missing", "spare"), ("net.reachable", "spare")]
    assert out.report.in_use == ("acme",)


def test_profile_never_selected(codex_bin, codex_home, make_fake_server, tmp_path) -> None:
    (codex_home).mkdir(parents=True, exist_ok=True)
    (codex_home / "work.config.toml").write_text('model_provider = "nope"\n')
    out = judge(Scenario(), codex_bin, codex_home, make_fake_server, tmp_path)
    healthy(out)
    # `codex -p work` fails, and so does the doctor asked about that profile
    proc = run_codex(
        codex_bin,
        codex_home,
        "say pong",
        args=("-p", "work"),
        env_extra={"ACME_API_KEY": KEY},
        timeout=60,
        strict=False,
    )
    assert proc.returncode == 1
    version = parse_version(codex_version(codex_bin))
    info = CodexInfo(codex_bin, version, capabilities(version), False)
    named = doctoring.doctor(
        paths_mod.resolve(),
        codex_info=info,
        env=codex_env(codex_home, {"ACME_API_KEY": KEY}),
        cwd=tmp_path / "work",
        open_store=no_keyring,
        profile="work",
        offline=True,
    )
    assert [(f.check, f.status, f.scope) for f in named.findings if f.status == "fail"] == [
        ("config.model-provider", "fail", "used"),
        ("codex.load", "fail", "used"),  # Codex loading the profile (`codex -p work mcp get`) refuses it too
    ]
    [load] = [f for f in named.findings if f.check == "codex.load"]
    assert load.message.endswith("(explained by config.model-provider)"), load.message
    assert named.exit_code == 1


# ---------------------------------------------------------------------------- --live looks like Codex


@pytest.mark.parametrize("model", ["fake-model", "gpt-5.5", "gpt-5.6-sol"])
def test_live_request_is_shaped_like_codex(model, codex_bin, codex_home, make_fake_server, tmp_path) -> None:
    from codexprov.doctor import ProviderTarget
    from codexprov.doctor.network import check_network

    server = make_fake_server(models=(model,), function_call=False)
    write_minimal_config(codex_home, server.base_url, model=model)
    proc = run_codex(codex_bin, codex_home, "say pong", env_extra={"ACME_API_KEY": KEY}, timeout=60, strict=False)
    assert proc.returncode == 0, proc.stderr[-1500:]
    [codex] = server.requests_to("/responses", "POST")
    server.clear()
    from codexprov.codex import catalog, request

    bundled = catalog.bundled(paths_mod.resolve(), codex_bin, codex_version(codex_bin))
    caps = capabilities(parse_version(codex_version(codex_bin)))
    target = ProviderTarget(
        "acme",
        server.base_url,
        headers={"Authorization": f"Bearer {KEY}"},
        model=model,
        has_key=True,
        request=request.from_catalog(
            model,
            bundled,
            {},
            lite_supported=caps.responses_lite,
            unknown_model_reasoning=caps.unknown_model_reasoning,
        ),
    )
    findings = check_network([target], live=True, codex_version=codex_version(codex_bin))
    ours = [r for r in server.requests_to("/responses", "POST") if r.body and r.body.get("input")]
    assert len(ours) == 1
    mine = ours[0]

    def shape(request: Any) -> tuple[Any, ...]:
        body, headers = request.body, request.headers
        return (
            list(dict.fromkeys(t["type"] for t in body.get("tools", []))),
            headers.get("x-openai-internal-codex-responses-lite"),
            headers.get("accept"),
            headers.get("originator"),
            headers["user-agent"].split(" ")[0],
            {
                k: body.get(k)
                for k in ("stream", "store", "tool_choice", "parallel_tool_calls", "reasoning", "text", "include")
            },
        )

    assert shape(mine) == shape(codex)
    # Codex's system prompt (`instructions`, which 0.133.0 and 0.160.0 send and 0.163.0 on do not) is
    # Codex's own text: the probe sends the rest of the body's fields.
    assert sorted(set(mine.body) - {"input"}) == sorted(set(codex.body) - {"input", "client_metadata", "instructions"})
    live = next(f for f in findings if f.check == "net.live")
    # A Responses-Lite request carries no tools, so no tool call is missing (gpt-5.6-sol is Lite in the
    # catalogs from 0.160.0; 0.133.0's has no such model and sends it tools).
    assert live.status == ("ok" if target.request.lite else "warn"), live
