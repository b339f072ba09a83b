"""Checks on the environment Codex starts in, not on its files: what `$CODEX_HOME/.env` sets, a
`CODEX_HOME` Codex refuses, variables Codex ignores, the proxy each provider's requests go
through, and a trusted project's config changing the model. The rules are in codexprov/codex/reach.py;
these checks only turn them into findings that name the cause (the variable, the proxy, the layer).

The proxy checks connect to the proxy, so they are network checks: `route_findings` runs from
`run_doctor` with the probes (not with --offline) and tells it which providers not to probe.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from codexprov.codex import reach
from codexprov.doctor.context import CheckContext, Setup, setup_check
from codexprov.doctor.findings import Finding, ProviderTarget
from codexprov.doctor.layers import merge
from codexprov.doctor.locate import line_of
from codexprov.redact import redact_text


def _effective(setup: Setup) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for layer in setup.base:
        out = merge(out, layer.data or {})
    return out


@setup_check("before-providers")
def codex_home(ctx: CheckContext, setup: Setup) -> None:
    """A CODEX_HOME Codex refuses (a literal `~`, a folder that does not exist)."""
    problem = reach.codex_home_problem(ctx.env)
    if problem is None:
        return
    value = ctx.env.get("CODEX_HOME", "")
    fixed = str(Path(value).expanduser()) if value.startswith("~") else str(ctx.paths.codex_home)
    ctx.add(
        "env.codex-home",
        "fail",
        problem,
        fix=f'export CODEX_HOME="{fixed}"  (a full path: where it is set — a systemd unit, an IDE setting, a .env file — `~` is not expanded)',
    )


@setup_check("before-providers")
def dotenv(ctx: CheckContext, setup: Setup) -> None:
    """What `$CODEX_HOME/.env` sets for Codex, and the CODEX_* names it may not set."""
    env = ctx.env
    if not isinstance(env, reach.StartEnv) or env.dotenv_file is None:
        return
    if env.from_dotenv:
        names = ", ".join(sorted(env.from_dotenv))
        ctx.add(
            "env.dotenv",
            "ok",
            f"Codex loads {env.dotenv_file} at start: it sets {names} (over the shell's values)",
            file=str(env.dotenv_file),
        )
    for name in env.dotenv_ignored:
        ctx.add(
            "env.dotenv",
            "warn",
            f"{name} in {env.dotenv_file} is ignored: Codex takes no CODEX_* variable from .env",
            file=str(env.dotenv_file),
            line=_dotenv_line(env.dotenv_file, name),
            fix=f"export {name} where Codex starts (or, for a key, `codex login --with-api-key`)",
        )


def _dotenv_line(path: Path, name: str) -> int | None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for number, line in enumerate(lines, 1):
        text = line.strip().removeprefix("export").strip()
        if text.startswith(name) and text[len(name) :].lstrip().startswith("="):
            return number
    return None


@setup_check("after-providers")
def ignored_variables(ctx: CheckContext, setup: Setup) -> None:
    """Variables Codex does not read; a failure when the setup only works if it did."""
    config = _effective(setup)
    for ignored in reach.ignored_variables(ctx.env, setup.active, setup.tables.get(setup.active), config):
        if ignored.relied_on:
            ctx.add(
                "env.ignored-variable",
                "fail",
                f"${ignored.variable} is set ({ignored.value}), but {ignored.why}: the active provider "
                f"`{setup.active}` goes to {reach.OPENAI_DEFAULT_URL}",
                provider=setup.active,
                fix=f'openai_base_url = "{ignored.value}"  (top level of {ctx.paths.config_file}), or a provider of its own: '
                f"codexprov add custom --base-url {ignored.value} --use",
            )
        else:
            ctx.add(
                "env.ignored-variable",
                "ok",
                f"${ignored.variable} is set; {ignored.why}, and nothing here relies on it",
            )


@setup_check("after-providers")
def project_model(ctx: CheckContext, setup: Setup) -> None:
    """A project config in this folder that sets `model`: used when the project is trusted."""
    config = _effective(setup)
    for layer in setup.by_kind["project"]:
        data = layer.data or {}
        model = data.get("model")
        if not isinstance(model, str):
            continue
        line = line_of(layer.text, (), "model")
        folder = layer.path.parent.parent
        if reach.trusted(folder, config):
            ctx.add(
                "env.project-layer",
                "ok",
                f"model `{model}` comes from the trusted project config {layer.path} (it overrides the user config's "
                f"`{_base_model(setup)}` for every run in {folder})",
                file=str(layer.path),
                line=line,
                key="model",
            )
        else:
            ctx.add(
                "env.project-layer",
                "ok",
                f"model `{model}` in {layer.path} is not used: Codex loads a project's config only once the "
                f"project is trusted ({reach.project_root(folder)} is not)",
                file=str(layer.path),
                line=line,
                key="model",
            )


def _base_model(setup: Setup) -> str | None:
    got = _effective(setup).get("model")
    return got if isinstance(got, str) else None


def route_findings(
    targets: list[ProviderTarget], env: Mapping[str, str], *, timeout: float = 2.0
) -> tuple[list[Finding], set[str]]:
    """The proxy each probed provider's requests go through, as Codex picks it; a proxy nothing
    answers on fails (naming the proxy and the variable, not the provider). Returns the findings and
    the providers not to probe (their requests would only reach the dead proxy)."""
    findings: list[Finding] = []
    dead: set[str] = set()
    alive: dict[tuple[str, int] | None, bool] = {}
    for target in targets:
        proxy = reach.proxy_for(target.base_url, env)
        if proxy is None:
            continue
        if proxy.address not in alive:
            alive[proxy.address] = proxy.alive(timeout)
        host = urlsplit(target.base_url).hostname or target.base_url
        if alive[proxy.address]:
            findings.append(
                Finding(
                    "env.proxy",
                    "ok",
                    redact_text(f"requests to {target.base_url} go through the proxy {proxy.url} (${proxy.variable})"),
                    provider=target.id,
                )
            )
            continue
        dead.add(target.id)
        no_proxy = env.get("NO_PROXY") or env.get("no_proxy")
        covered = f"; NO_PROXY ({no_proxy}) does not cover {host}" if no_proxy else ""
        findings.append(
            Finding(
                "env.proxy",
                "fail",
                redact_text(
                    f"Codex sends the requests for {target.base_url} through the proxy {proxy.url} (from ${proxy.variable}), "
                    f"and nothing answers there{covered}: every turn waits and fails"
                ),
                provider=target.id,
                fix=f"export NO_PROXY={host}{',' + no_proxy if no_proxy else ''}  (or unset {proxy.variable}, or start the proxy)",
            )
        )
    return findings, dead


def unprobed(target: ProviderTarget) -> list[Finding]:
    """The network findings of a provider behind a dead proxy: skipped, pointing at env.proxy."""
    why = "not probed: its requests go through a proxy nothing answers on (see env.proxy)"
    return [
        Finding(check, "skip", why, provider=target.id)
        for check in ("net.reachable", "net.models", "net.responses-route")
    ]
