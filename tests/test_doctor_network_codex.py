"""The network checks agree with the real Codex CLI (pinned 0.169.0).

For each network failure class, the same setup (a provider table written by hand, against a
FakeServer on 127.0.0.1) makes `codex exec` fail, and `check_network` reports a fail under the
right check id; on working setups Codex completes a turn and `check_network` reports no fail.
Retries are off (`request_max_retries = 0`, `stream_max_retries = 0`) so Codex fails at once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from codexprov.doctor import Finding, ProviderTarget
from codexprov.doctor.network import check_network
from tests.codexrun import run_codex, write_minimal_config

pytestmark = pytest.mark.codex

RIGHT_KEY = "sk-doctor-right-000000000000001"
WRONG_KEY = "sk-doctor-wrong-000000000000002"


@dataclass
class Setup:
    """One provider, as written into config.toml and as the doctor would resolve it."""

    server: object
    model: str = "fake-model"
    env_key: str | None = "ACME_API_KEY"
    key: str | None = RIGHT_KEY  # the value of env_key in Codex's environment
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def write(self, codex_home: Path) -> None:
        extra = []
        if self.query:
            extra.append("query_params = { " + ", ".join(f'"{k}" = "{v}"' for k, v in self.query.items()) + " }")
        if self.headers:
            extra.append("http_headers = { " + ", ".join(f'"{k}" = "{v}"' for k, v in self.headers.items()) + " }")
        write_minimal_config(
            codex_home,
            self.server.base_url,
            env_key=self.env_key,
            model=self.model,
            extra_provider_lines=extra,
            no_retries=True,
        )
        text = (codex_home / "config.toml").read_text()
        assert "request_max_retries = 0" in text and "stream_max_retries = 0" in text

    def codex(self, codex_bin: Path, codex_home: Path):
        env = {self.env_key: self.key} if self.env_key and self.key else {}
        return run_codex(codex_bin, codex_home, "say pong", env_extra=env, timeout=90)

    def target(self) -> ProviderTarget:
        headers = dict(self.headers)
        if self.env_key and self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        return ProviderTarget(
            id="acme",
            base_url=self.server.base_url,
            query_params=dict(self.query),
            headers=headers,
            model=self.model,
            has_key=bool(self.env_key and self.key),
        )


def fails(findings: list[Finding]) -> list[str]:
    return [f.check for f in findings if f.status == "fail"]


# ---------------------------------------------------------------------------- broken setups


def test_no_responses_route(codex_bin: Path, codex_home: Path, make_fake_server) -> None:
    setup = Setup(make_fake_server(responses_route=False))
    setup.write(codex_home)
    proc = setup.codex(codex_bin, codex_home)
    assert proc.returncode == 1
    assert "404 Not Found" in proc.stderr and f"{setup.server.base_url}/responses" in proc.stderr
    findings = check_network([setup.target()])
    assert fails(findings) == ["net.responses-route"]
    route = next(f for f in findings if f.check == "net.responses-route")
    assert "speaks only Chat Completions" in route.message
    assert (
        route.fix
        == f"codexprov add custom --id {setup.target().id} --base-url {setup.server.base_url} --bridge --replace"
    )


def test_wrong_key(codex_bin: Path, codex_home: Path, make_fake_server) -> None:
    setup = Setup(make_fake_server(expected_key=RIGHT_KEY), key=WRONG_KEY)
    setup.write(codex_home)
    proc = setup.codex(codex_bin, codex_home)
    assert proc.returncode == 1
    assert "401 Unauthorized" in proc.stderr
    findings = check_network([setup.target()])
    assert fails(findings) == ["net.models"]
    assert next(f for f in findings if f.check == "net.models").message.startswith("the key is wrong")
    assert WRONG_KEY not in repr(findings) and RIGHT_KEY not in repr(findings)


def test_model_not_served(codex_bin: Path, codex_home: Path, make_fake_server) -> None:
    setup = Setup(make_fake_server(unknown_model_error=True), model="fake-modle")
    setup.write(codex_home)
    proc = setup.codex(codex_bin, codex_home)
    assert proc.returncode == 1
    assert "The model `fake-modle` does not exist" in proc.stderr
    # The streamed request (codexprov's copy of the request shape) is what tells: the list is only a hint.
    findings = check_network([dataclasses.replace(setup.target(), stream=lambda: None)])
    assert fails(findings) == ["net.stream"]
    stream = next(f for f in findings if f.check == "net.stream")
    assert stream.message == (
        "the server does not serve `fake-modle` (HTTP 404: The model `fake-modle` does not exist or you do not have access to it.)"
    )
    models = next(f for f in findings if f.check == "net.models")
    assert models.status == "warn"
    assert models.message.startswith("`fake-modle` is not among the 1 model the server lists; close: fake-model;")
    assert models.fix == "codexprov use acme --model fake-model"


# ---------------------------------------------------------------------------- working setups


def working(codex_bin: Path, codex_home: Path, setup: Setup) -> list[Finding]:
    setup.write(codex_home)
    proc = setup.codex(codex_bin, codex_home)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "pong" in proc.stdout
    findings = check_network([setup.target()])
    assert fails(findings) == [], findings
    return findings


def test_env_key(codex_bin: Path, codex_home: Path, make_fake_server) -> None:
    findings = working(codex_bin, codex_home, Setup(make_fake_server(expected_key=RIGHT_KEY)))
    assert [f.status for f in findings] == ["ok", "ok", "ok"]


def test_no_auth_local_server(codex_bin: Path, codex_home: Path, make_fake_server) -> None:
    server = make_fake_server()
    findings = working(codex_bin, codex_home, Setup(server, env_key=None, key=None))
    assert [f.status for f in findings] == ["ok", "ok", "ok"]
    assert all("authorization" not in r.headers for r in server.requests)


def test_azure_style_query_params(codex_bin: Path, codex_home: Path, make_fake_server) -> None:
    server = make_fake_server(prefix="/openai", expected_key=RIGHT_KEY)
    setup = Setup(server, query={"api-version": "2025-04-01-preview"}, headers={"X-Org": "org-1"})
    findings = working(codex_bin, codex_home, setup)
    assert [f.status for f in findings] == ["ok", "ok", "ok"]
    # Codex and the doctor called the same URLs
    posts = server.requests_to("/responses", "POST")
    assert {r.path for r in posts} == {"/openai/responses"}
    assert all(r.query == {"api-version": "2025-04-01-preview"} and r.headers["x-org"] == "org-1" for r in posts)


def test_path_prefix_other_than_v1(codex_bin: Path, codex_home: Path, make_fake_server) -> None:
    server = make_fake_server(prefix="/api/llm/v2", models=("fake-model", "other"))
    findings = working(codex_bin, codex_home, Setup(server, env_key=None, key=None))
    assert [f.status for f in findings] == ["ok", "ok", "ok"]
    assert server.requests_to("/models", "GET") and server.requests_to("/responses", "POST")
