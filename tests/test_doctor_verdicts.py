"""Judgments of values Codex drops silently, and keys read by two providers: the static doctor
checks and `add`'s refusals (the same rules, codexprov.codex.wire). What Codex does with each was seen
with the real binary (tests/test_doctor_verdicts_codex.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codexprov.codex.wire import base_url_problem, header_name_problem, header_value_problem, key_problems
from tests.test_doctor_static import ACME, KEY, doctor, problems


@pytest.mark.parametrize(
    "url,problem",
    [
        ("https://api.example.com/v1", None),
        ("http://127.0.0.1:8080", None),
        ("ftp://x/y", "Codex speaks only http and https, not ftp://"),
        ("api.example.com/v1", "it has no scheme: write http:// or https:// in front"),
        ("localhost:8080/v1", "Codex speaks only http and https, not localhost://"),
        ("https:///v1", "it has no host"),
    ],
)
def test_base_url_rule(url: str, problem: str | None) -> None:
    assert base_url_problem(url) == problem


def test_header_rules() -> None:
    assert header_name_problem("X-Org") is None and header_name_problem("x_api.key~1") is None
    assert header_name_problem("X Org") == "the name holds a space, which no HTTP header name may"
    assert header_name_problem("X-Org:") == "the name holds `:`, which no HTTP header name may"
    assert header_value_problem('a\tb é "q"') is None
    assert header_value_problem("a\nb") == "the value holds a newline"
    assert header_value_problem("a\x7f") == "the value holds the control byte 0x7f"


def test_key_rules() -> None:
    assert key_problems(KEY) == []
    assert key_problems("sk-a'b\"c") == []  # quotes inside a key are the key's own
    assert key_problems(KEY + "\r\n") == ["it holds a carriage return, so Codex sends no Authorization header at all"]
    assert key_problems(f"'{KEY}'") == ["it is wrapped in quotes, which Codex sends as part of the key"]
    assert key_problems(f" bearer {KEY}") == [
        "it has whitespace around it, which Codex sends as part of the key",
        "it starts with `Bearer `, so Codex sends `Bearer Bearer …`",
    ]


def test_scheme_advice_matches_what_codex_does() -> None:
    report = doctor(ACME.replace("http://127.0.0.1:9/v1", "ftp://x/y"))
    [finding] = [f for f in report.findings if f.check == "provider.base-url-scheme"]
    assert (
        finding.message
        == "base_url 'ftp://x/y' is not an http(s) URL (Codex speaks only http and https, not ftp://): Codex cannot reach it"
    )
    assert finding.fix == "set base_url to the server's http:// or https:// address"
    report = doctor(ACME.replace("http://127.0.0.1:9/v1", "api.example.com/v1"))
    [finding] = [f for f in report.findings if f.check == "provider.base-url-scheme"]
    assert finding.fix == 'base_url = "https://api.example.com/v1"'


def test_unsendable_env_header_value_is_a_warning_and_a_good_one_is_not() -> None:
    config = ACME + 'env_http_headers = { "X-Org" = "ORG", "X-Team" = "TEAM" }\n'
    report = doctor(config, env={"ORG": "org-1\n", "TEAM": "team é"})
    assert problems(report) == [("warn", "provider.http-header", "acme", 7)]
    [finding] = [f for f in report.findings if f.check == "provider.http-header"]
    assert (
        finding.message
        == "env_http_headers `X-Org`: $ORG holds a newline, so Codex drops this header silently and sends the rest"
    )


def test_a_key_header_codex_cannot_send_says_no_key_is_sent() -> None:
    report = doctor(ACME + 'http_headers = { "api key" = "k" }\n')
    [finding] = [f for f in report.findings if f.check == "provider.http-header"]
    assert finding.message.endswith("sends the rest")
    report = doctor(ACME + 'http_headers = { "Authorization" = "Bearer k\\n" }\n')
    [finding] = [f for f in report.findings if f.check == "provider.http-header"]
    assert finding.message.endswith("(it carries the key: none is sent)")


@pytest.mark.parametrize(
    "value,problem",
    [
        (KEY + "\n", "it holds a newline, so Codex sends no Authorization header at all"),
        (f"Bearer {KEY}", "it starts with `Bearer `, so Codex sends `Bearer Bearer …`"),
    ],
)
def test_env_key_as_codex_sends_it(value: str, problem: str) -> None:
    report = doctor(ACME + 'env_key = "ACME_API_KEY"\n', env={"ACME_API_KEY": value})
    assert problems(report) == [("fail", "key.format", "acme", 7)]
    [finding] = [f for f in report.findings if f.check == "key.format"]
    assert (
        finding.message == f"the key in $ACME_API_KEY is not sent as you think: {problem}; the provider will refuse it"
    )
    assert KEY not in repr(report)


def test_two_env_providers_on_one_variable_are_flagged_not_failed() -> None:
    config = (
        ACME
        + 'env_key = "GROQ_API_KEY"\n\n[model_providers.groq2]\nname = "G2"\nbase_url = "https://api.groq.com/openai/v1"\nenv_key = "GROQ_API_KEY"\n'
    )
    report = doctor(config, env={"GROQ_API_KEY": KEY})
    assert problems(report) == [
        ("warn", "provider.env-key-shared", "acme", 7),
        ("warn", "provider.env-key-shared", "groq2", 12),
    ]
    [first, second] = [f for f in report.findings if f.check == "provider.env-key-shared"]
    assert (
        first.message
        == "$GROQ_API_KEY is also read by `groq2`: both get the same key (if they need different keys, one gets the other's)"
    )
    assert second.fix == 'give each its own variable, e.g. env_key = "GROQ2_API_KEY" in [model_providers.groq2]'
    assert report.exit_code == 0


# ---------------------------------------------------------------------------- add refuses what Codex would drop


def test_add_refuses_a_base_url_that_is_not_http(run_cli, config_file: Path) -> None:
    result = run_cli("add", "custom", "--id", "x", "--base-url", "ftp://x/y", "--key-mode", "none", "--yes")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: base URL 'ftp://x/y' is not an http(s) URL: Codex speaks only http and https, not ftp://\n"
    )
    assert "hint: Codex speaks only http:// and https://, e.g. --base-url https://api.example.com/v1" in result.stderr
    assert not config_file.exists()


def test_add_refuses_a_header_codex_cannot_send(run_cli, config_file: Path) -> None:
    result = run_cli(
        "add", "custom", "--id", "x", "--base-url", "https://h/v1", "--header", "X Org=1", "--key-mode", "none", "--yes"
    )
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: header `X Org` cannot be sent: the name holds a space, which no HTTP header name may\n"
    )
    assert not config_file.exists()


def test_add_refuses_a_variable_another_provider_reads(run_cli, config_file: Path) -> None:
    assert run_cli("add", "groq", "--key-mode", "env", "--yes").exit_code == 0
    before = config_file.read_bytes()
    second = run_cli("add", "groq", "--id", "groq2", "--key-mode", "env", "--yes")
    assert second.exit_code == 5
    assert second.stderr.startswith("error: $GROQ_API_KEY is already read by `groq`; `groq2` would get the same key\n")
    assert "hint: Pass --env-key with a variable of its own, e.g. --env-key GROQ2_API_KEY" in second.stderr
    assert config_file.read_bytes() == before
    # naming a variable of its own works; naming the shared one on purpose is allowed, with a warning
    assert (
        run_cli("add", "groq", "--id", "groq2", "--key-mode", "env", "--env-key", "GROQ2_API_KEY", "--yes").exit_code
        == 0
    )
    third = run_cli("add", "groq", "--id", "groq3", "--key-mode", "env", "--env-key", "GROQ_API_KEY", "--yes")
    assert third.exit_code == 0
    assert "$GROQ_API_KEY is also read by `groq`: both providers get the same key" in third.stderr


# ---------------------------------------------------------------------------- the verdict's scope


UNUSED = '\n[model_providers.spare]\nname = "Spare"\nbase_url = "http://127.0.0.1:9/v1"\nenv_key = "SPARE_KEY"\n'


def test_an_unused_broken_provider_does_not_fail_the_verdict_unless_all() -> None:
    report = doctor(ACME + UNUSED)
    [missing] = [f for f in report.findings if f.check == "key.env-missing"]
    assert (missing.provider, missing.status, missing.scope) == ("spare", "fail", "other")
    assert report.in_use == ("acme",)
    assert report.exit_code == 0
    data = report.to_json()
    assert (data["status"], data["counts"]["fail"], data["counted"]["fail"], data["all"]) == ("ok", 1, 0, False)
    assert doctor(ACME + UNUSED, all_=True).exit_code == 1
    # naming it puts it in scope
    named = doctor(ACME + UNUSED, provider="spare")
    assert named.in_use == ("acme", "spare") and named.exit_code == 1


def test_a_profile_counts_only_when_selected(config_file: Path) -> None:
    profile = config_file.parent / "work.config.toml"
    profile.parent.mkdir(parents=True, exist_ok=True)
    profile.write_text('model_provider = "nope"\n')
    report = doctor(ACME)
    [undefined] = [f for f in report.findings if f.check == "config.model-provider"]
    assert (undefined.file, undefined.scope) == (str(profile), "other")
    assert report.exit_code == 0
    assert doctor(ACME, profile="work").exit_code == 1
    assert doctor(ACME, all_=True).exit_code == 1


def test_an_unknown_profile_is_an_error(run_cli, config_file: Path) -> None:
    config_file.write_text(ACME)
    result = run_cli("doctor", "--offline", "--profile", "nope")
    assert result.exit_code == 4
    assert result.stderr.startswith(
        f"error: no profile `nope`: {config_file.parent / 'nope.config.toml'} does not exist\n"
    )


def test_cli_reports_unused_findings_under_their_own_heading(run_cli, config_file: Path) -> None:
    config_file.write_text(ACME + UNUSED)
    result = run_cli("doctor", "--offline")
    assert result.exit_code == 0, result.stdout
    assert "\nnot used by plain `codex` here (not counted; --all counts them)\n  provider spare\n" in result.stdout
    # (the warning: no Codex on this test's PATH)
    assert result.stdout.endswith(
        "OK, with warnings: 0 failed, 1 warning, 1 ok (1 failure in unused providers or profiles not counted)\n"
    )
    every = run_cli("doctor", "--offline", "--all")
    assert every.exit_code == 1
    assert "(counted, --all)" in every.stdout and every.stdout.endswith("FAIL: 1 failed, 1 warning, 1 ok\n")
    listed = json.loads(run_cli("doctor", "--offline", "--json").stdout)
    assert [(f["check"], f["provider"], f["scope"]) for f in listed["findings"] if f["status"] == "fail"] == [
        ("key.env-missing", "spare", "other")
    ]


def test_help_says_what_the_verdict_is_about(run_cli) -> None:
    result = run_cli("doctor", "--help")
    text = " ".join(result.stdout.split())
    assert "what plain `codex` uses from this directory" in text
    assert "count toward the exit status only with --all" in text


# ---------------------------------------------------------------------------- progress: a terminal sees it, a pipe does not


def _doctor_exe(config_file: Path, server, *, stderr_tty: bool) -> tuple[int, str, str]:
    import os
    import pty
    import subprocess
    import sys

    config_file.write_text(ACME.replace("http://127.0.0.1:9/v1", server.base_url))
    args = [sys.executable, "-m", "codexprov"]
    env = {**os.environ, "NO_COLOR": "1", "TERM": "xterm"}
    if not stderr_tty:
        proc = subprocess.run([*args, "doctor"], capture_output=True, text=True, env=env, timeout=60, check=False)
        return proc.returncode, proc.stdout, proc.stderr
    main, child = pty.openpty()
    proc = subprocess.Popen([*args, "doctor"], stdout=subprocess.PIPE, stderr=child, text=True, env=env)
    os.close(child)
    out, _ = proc.communicate(timeout=60)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    return proc.returncode, out, b"".join(chunks).decode("utf-8", "replace")


def test_a_slow_run_shows_progress_on_a_terminal_only(config_file: Path, make_fake_server) -> None:
    server = make_fake_server(delay=1.5)
    code, out, err = _doctor_exe(config_file, server, stderr_tty=True)
    assert code == 0, out
    assert "doctor: probing 1 provider…" in err
    quick = _doctor_exe(config_file, make_fake_server(), stderr_tty=True)
    assert quick[0] == 0 and "doctor:" not in quick[2]  # under a second: no flicker
    piped = _doctor_exe(config_file, server, stderr_tty=False)
    assert piped[0] == 0 and piped[2] == ""
    assert piped[1].splitlines()[-1] == out.splitlines()[-1]


# ---------------------------------------------------------------------------- the fast path before Typer


FAST_FORMS = [
    ("doctor", "--offline"),
    ("doctor", "--offline", "--json"),
    ("doctor", "--offline", "--all"),
    ("doctor", "spare", "--offline", "--json"),
    ("doctor", "--json", "--no-spend", "--all"),
    ("doctor", "acme", "--timeout=2", "-p", "work", "--json"),
    ("doctor", "--offline", "--profile", "nope"),
    ("doctor", "nobody", "--offline"),
    ("doctor", "--offline", "--live"),
    ("doctor", "--timeout", "0", "--offline"),
]


@pytest.mark.parametrize("args", FAST_FORMS, ids=" ".join)
def test_doctor_fast_path_matches_the_typer_command(
    args: tuple[str, ...], config_file: Path, make_fake_server, capfd, monkeypatch
) -> None:
    """The plain forms of `doctor` are answered before Typer loads (codexprov/__main__.py) by the
    functions the Typer command calls: same bytes, same exit status."""
    import re

    from codexprov import cli
    from codexprov.__main__ import main

    server = make_fake_server()
    config_file.write_text(ACME.replace("http://127.0.0.1:9/v1", server.base_url) + UNUSED)
    (config_file.parent / "work.config.toml").write_text('model = "fake-model"\n')

    def answered(run) -> tuple[int, str, str]:
        capfd.readouterr()
        code = run(list(args))
        out, err = capfd.readouterr()
        return code, *(re.sub(r"\d+ ms", "N ms", text) for text in (out, err))

    typer_path = answered(cli.run)
    with monkeypatch.context() as m:
        m.setattr(cli, "run", lambda argv: pytest.fail(f"went through Typer: {argv}"))
        fast = answered(main)
    assert fast == typer_path


@pytest.mark.parametrize(
    "args",
    [
        ("doctor", "--fix", "--offline"),
        ("doctor", "--offline", "--json", "--json"),
        ("doctor", "-h"),
        ("doctor", "a", "b"),
    ],
    ids=" ".join,
)
def test_other_doctor_forms_go_through_typer(args: tuple[str, ...], config_file: Path, monkeypatch) -> None:
    from codexprov import cli
    from codexprov.__main__ import main

    config_file.write_text(ACME)
    seen: list[list[str]] = []
    monkeypatch.setattr(cli, "run", lambda argv: seen.append(argv) or 0)
    assert main(list(args)) == 0
    assert seen == [list(args)]


def test_doctor_json_loads_neither_typer_nor_rich(config_file: Path, make_fake_server) -> None:
    """What the fast path saves (bench/bench_doctor.py): no Typer, click or rich, and not httpx's own
    command line, for `doctor --json`."""
    import os
    import subprocess
    import sys

    config_file.write_text(ACME.replace("http://127.0.0.1:9/v1", make_fake_server().base_url))
    code = (
        "import sys; from codexprov.__main__ import main; code = main(['doctor', '--all', '--json']); "
        "sys.stderr.write(repr(sorted(m for m in ('typer', 'click', 'rich', 'httpx._main', 'trio') if m in sys.modules)))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ), timeout=60, check=False
    )
    assert proc.returncode == 0 and [f["check"] for f in json.loads(proc.stdout)["findings"]][-3:] == [
        "net.models",
        "net.responses-route",
        "net.stream",
    ], proc.stdout
    assert proc.stderr == "[]"
