"""`codexprov doctor`: tell a working provider setup from a broken one, and say the fix.

`findings` holds the data model (Finding, Report, FixKind); `static` runs the checks that need no
network (`layers` reads the files, `setup` and `tables` hold the checks, `keysource` tries each
key source); `network` probes the providers' endpoints concurrently; `fix` applies the fixes that
are safe to automate, chosen by each finding's `fix_kind`. Nothing here prints: the CLI renders a
Report. Where to add a check: one decorated function in `setup.py` or `tables.py` (see `context`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codexprov.codex.builtins import BUILTIN_PROVIDERS
from codexprov.doctor.findings import STATUSES, Finding, FixKind, ProviderTarget, Report
from codexprov.errors import NotFoundError
from codexprov.keys.plaintext import is_key_header

if TYPE_CHECKING:
    from codexprov.context import Context

__all__ = [
    "STATUSES",
    "DoctorRequest",
    "Finding",
    "FixKind",
    "ProviderTarget",
    "Report",
    "build_targets",
    "run_doctor",
]

# ---------------------------------------------------------------------------- the orchestrator


@dataclass(frozen=True)
class DoctorRequest:
    """What `codexprov doctor` is asked (the command line's options, as data).

    `provider` and `profile` are what was named (they count toward the verdict); `all_` lets every
    provider and profile count. `offline`: static checks only. `no_spend`: no streamed request.
    `live` sends one real streamed request per provider and, with `codex_run`, runs the installed
    Codex for one turn (within `codex_timeout` seconds). `timeout`: seconds each provider gets for
    its probes. `cwd`: the folder a project config is looked for from (None: none);
    `system_config` replaces /etc/codex/config.toml (also $CODEXPROV_SYSTEM_CONFIG)."""

    provider: str | None = None
    profile: str | None = None
    all_: bool = False
    offline: bool = False
    no_spend: bool = False
    live: bool = False
    codex_run: bool = False
    timeout: float = 5.0
    codex_timeout: float = 60.0
    cwd: Path | None = None
    system_config: Path | None = None


def run_doctor(
    ctx: Context,
    request: DoctorRequest,
    *,
    progress: Callable[[str], None] | None = None,
    transport: Any = None,
) -> Report:
    """Static checks over every config file Codex reads, then (unless offline) the network checks.

    From the context: the paths, the environment Codex would start with (`ctx.env`), the installed
    Codex (`ctx.codex`) and the keyring (`ctx.store()`, opened only when a provider reads its key
    from it). `transport` replaces httpx's (tests); `progress` is told what is being done, for a
    terminal to show.

    The verdict is about what plain `codex` uses from `request.cwd` (config.toml, the project
    config, the active provider) plus what was named (`provider`, `profile`); findings about other
    providers and profile files are kept with scope "other" and count only with `all_`. Unless
    `offline` or `no_spend`, the provider plain `codex` uses gets one streamed Codex-shaped request
    capped at a few output tokens (doctor/stream.py), alongside the others' token-free probes.
    """
    from codexprov.codex.reach import startup_env
    from codexprov.doctor import codexload, static
    from codexprov.doctor.layers import load_layers

    paths, cwd, profile, provider = ctx.paths, request.cwd, request.profile, request.provider
    env = startup_env(ctx.env, paths.codex_home)  # with $CODEX_HOME/.env
    codex_info = ctx.codex
    system_config = request.system_config
    if system_config is None and env.get("CODEXPROV_SYSTEM_CONFIG"):
        system_config = Path(env["CODEXPROV_SYSTEM_CONFIG"])
    layers, load_findings = load_layers(paths, env=env, cwd=cwd, system_config=system_config)

    # Codex's own verdict on loading this configuration runs while the other checks do.
    loading = codexload.start(paths, codex_info, env=env, cwd=cwd, layers=layers, profile=profile)
    user_broken = any(f.file == str(paths.config_file) and f.status == "fail" for f in load_findings)
    try:
        result = static.run_static(paths, layers, codex_info, env=env, open_store=ctx.store, provider=provider)
        if (
            provider is not None
            and provider not in result.tables
            and provider not in static.builtin_ids(codex_info)
            and not user_broken
        ):
            from codexprov.providers import not_found

            raise not_found(
                provider, sorted(set(result.tables) | static.builtin_ids(codex_info)), str(paths.config_file)
            )
        if profile is not None and not any(layer.kind == "profile" and layer.name == profile for layer in layers):
            raise NotFoundError(
                f"no profile `{profile}`: {paths.codex_home / (profile + '.config.toml')} does not exist",
                hint="`codexprov profile list` shows the profiles.",
            )
        findings = [*result.findings[:1], *load_findings, *result.findings[1:]]
        from codexprov.doctor.bridge import check_bridge

        findings += check_bridge(result, env, offline=request.offline, timeout=request.timeout, transport=transport)
        if not request.offline:
            findings += _network_checks(ctx, request, env, layers, result, progress, transport)
    except BaseException:
        codexload.cancel(loading)
        raise
    findings += codexload.finish(loading, paths, findings)
    in_use = _in_use(result, layers, provider, profile)
    if request.live and request.codex_run:
        from codexprov.doctor.codexrun import run_codex_turn

        if progress is not None:
            progress("running Codex for one turn")
        runs = in_use[-1] if profile is not None else result.active
        findings.append(
            run_codex_turn(
                paths,
                codex_info,
                env=env,
                cwd=cwd,
                profile=profile,
                timeout=request.codex_timeout,
                findings=findings,
                active=runs,
            )
        )
    scoped = tuple(_scoped(f, set(in_use), layers, profile) for f in findings)
    return Report(scoped, codex_info.to_json(), result.order, result.active, tuple(in_use), request.all_)


def _network_checks(
    ctx: Context,
    request: DoctorRequest,
    env: Mapping[str, str],
    layers: list[Any],
    result: Any,
    progress: Callable[[str], None] | None,
    transport: Any,
) -> list[Finding]:
    """The proxies Codex goes through, then every provider's probes at once (the active one's
    streamed request among them)."""
    from codexprov.doctor.environment import route_findings, unprobed

    paths, codex_info = ctx.paths, ctx.codex
    targets = build_targets(result, env, codex_info.version_text)
    routed, behind_dead_proxy = route_findings(targets, env)  # the proxy Codex goes through, named
    findings = routed + [f for t in targets if t.id in behind_dead_proxy for f in unprobed(t)]
    targets = [t for t in targets if t.id not in behind_dead_proxy]
    if not request.no_spend:
        targets = _with_stream(targets, result, paths, codex_info, env.get("TERM"))
    if request.live and targets:
        if progress is not None:
            progress("asking Codex what it sends")
        targets = with_requests(
            paths,
            codex_info,
            layers,
            result,
            targets,
            env=env,
            cwd=request.cwd,
            profile=request.profile,
            in_use=_in_use(result, layers, request.provider, request.profile),
        )
    if progress is not None and targets:
        progress(f"probing {len(targets)} provider{'s' if len(targets) != 1 else ''}")
    return findings + _network(
        targets,
        timeout=request.timeout,
        live=request.live,
        transport=transport,
        codex_version=codex_info.version_text,
    )


def _in_use(result: Any, layers: list[Any], provider: str | None, profile: str | None) -> list[str]:
    """The providers plain `codex` uses from here (first), then what the command line named."""
    used = [result.active, provider]
    for layer in layers:
        if (
            layer.kind == "profile"
            and layer.name == profile
            and isinstance((layer.data or {}).get("model_provider"), str)
        ):
            used.append(layer.data["model_provider"])
    return list(dict.fromkeys(p for p in used if p is not None))


def _scoped(finding: Finding, in_use: set[str], layers: list[Any], profile: str | None) -> Finding:
    import dataclasses

    unused_profiles = {str(layer.path) for layer in layers if layer.kind == "profile" and layer.name != profile}
    other = (finding.provider is not None and finding.provider not in in_use) or (finding.file in unused_profiles)
    return dataclasses.replace(finding, scope="other") if other else finding


def build_targets(result: Any, env: Mapping[str, str], codex_version: str | None = None) -> list[ProviderTarget]:
    """What the network checks probe: every checked provider that has a base URL, with the headers
    Codex sends it (codex/reach.py) and the key the static checks resolved."""
    from codexprov.bridge.layout import read_state, resolve
    from codexprov.codex import reach
    from codexprov.codex.capabilities import capabilities
    from codexprov.codex.version import parse_version

    state = read_state(resolve(env))
    # Whether this Codex asks again after a 429 (older releases end the turn on the first one).
    retries_429 = capabilities(parse_version(codex_version) if codex_version else None).retries_rate_limit
    bridged = {pid for pid in result.order if state is not None and state.get(pid) is not None}

    targets = []
    for pid in result.order:
        table = result.tables.get(pid)
        builtin = BUILTIN_PROVIDERS.get(pid)
        if table is None and builtin is not None and pid not in ("ollama", "lmstudio"):
            continue  # openai (codex login) and the cloud built-ins: not probed
        merged: dict[str, Any] = {}
        if builtin is not None and builtin.base_url:
            merged["base_url"] = builtin.base_url
        merged.update(table or {})
        base_url = merged.get("base_url")
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            continue
        resolved = result.keys.get(pid)
        key = reach.SentKey(resolved.source, pid, resolved.value) if resolved is not None else None
        headers: dict[str, Any] = dict(reach.request_headers(merged, env, key))
        has_key = key is not None or any(is_key_header(str(h)) for h in headers)
        model = result.model if pid == result.active else result.profile_models.get(pid)
        idle = merged.get("stream_idle_timeout_ms")
        retries = merged.get("request_max_retries")
        targets.append(
            ProviderTarget(
                id=pid,
                base_url=base_url,
                query_params=reach.query_params(merged),
                headers=headers,
                model=model,
                has_key=has_key,
                idle_timeout_ms=idle if isinstance(idle, int) and not isinstance(idle, bool) and idle > 0 else 300_000,
                request_retries=retries
                if isinstance(retries, int) and not isinstance(retries, bool) and retries >= 0
                else 4,
                retries_rate_limit=retries_429,
                codex_version=codex_version,
                bridged=pid in bridged,
                asks_models=merged.get("requires_openai_auth") is True,
            )
        )
    return targets


def with_requests(
    paths: Any,
    info: Any,
    layers: list[Any],
    result: Any,
    targets: list[ProviderTarget],
    *,
    env: Mapping[str, str],
    cwd: Path | None,
    profile: str | None,
    in_use: list[str],
) -> list[ProviderTarget]:
    """Each target with what Codex sends it (codex.request): captured from the installed Codex for
    the providers in use, else read from the catalog Codex would use (the `model_catalog_json`
    file, else the binary's bundled one) and the top-level settings."""
    import dataclasses

    from codexprov.codex import catalog, request

    effective: dict[str, Any] = {}
    for layer in layers:
        if layer.data is not None and (
            layer.kind in ("system", "user") or (layer.kind == "profile" and layer.name == profile)
        ):
            effective |= layer.data
    binary = None if info.assumed else info.path
    found: catalog.Catalog | None = None
    catalog_file = effective.get("model_catalog_json")
    try:
        if isinstance(catalog_file, str) and catalog_file and info.capabilities.model_catalog_json:
            found = catalog.read_file(Path(catalog_file).expanduser())
        elif binary is not None:
            found = catalog.bundled(paths, binary, info.version_text)
    except catalog.CatalogError:
        found = None
    out = []
    for target in targets:
        plan = None
        if (
            binary is not None
            and target.model
            and target.id in in_use
            and isinstance(result.tables.get(target.id), dict)
        ):
            plan = request.capture(
                binary,
                paths.codex_home,
                target.id,
                result.tables[target.id],
                env=env,
                cwd=cwd,
                profile=profile,
                model=target.model,
                version=info.version_text,
            )
        if plan is None:
            plan = request.from_catalog(
                target.model,
                found,
                effective,
                lite_supported=info.capabilities.responses_lite,
                unknown_model_reasoning=info.capabilities.unknown_model_reasoning,
            )
        out.append(dataclasses.replace(target, request=plan))
    return out


def _with_stream(
    targets: list[ProviderTarget], result: Any, paths: Any, info: Any, term: str | None
) -> list[ProviderTarget]:
    """The active provider's target, set to send the streamed request (shape from the installed Codex)."""
    import dataclasses
    import functools

    from codexprov.doctor.stream import capture_shape

    return [
        dataclasses.replace(t, stream=functools.partial(capture_shape, paths, info, t.model, term))
        if t.id == result.active and t.model
        else t
        for t in targets
    ]


def _network(
    targets: list[ProviderTarget], *, timeout: float, live: bool, transport: Any, codex_version: str | None
) -> list[Finding]:
    if not targets:
        return []
    from codexprov.doctor.network import check_network

    return list(check_network(targets, timeout=timeout, live=live, transport=transport, codex_version=codex_version))
