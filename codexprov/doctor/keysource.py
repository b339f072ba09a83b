"""Key checks that run things: is each provider's key source usable here, tried the way Codex
uses it — the env var's value (empty counts as missing), the keyring entry behind
`codexprov token ID`, or the auth command run with its args, cwd and timeout. Resolved keys go to
`ctx.keys` (never into a Finding) for the network checks.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codexprov.codex import login as codex_login
from codexprov.codex import reach
from codexprov.codex.capabilities import NEWEST_PROVIDER_FIELDS
from codexprov.codex.reach import resolve_command, run_auth_command
from codexprov.codex.wire import key_problems
from codexprov.credentials import is_token_auth
from codexprov.doctor.bridge import bridged_key_check
from codexprov.doctor.context import CheckContext, ProviderTable, ResolvedKey
from codexprov.doctor.findings import FixKind
from codexprov.errors import KeyringUnavailableError
from codexprov.keys.plaintext import KEY_HEADER_NAMES, find_keys
from codexprov.redact import mask, redact_text

if TYPE_CHECKING:
    from codexprov.keys.plaintext import PlaintextKey

DEFAULT_AUTH_TIMEOUT_MS = 5000
# Fields that say "this is how the key gets here": misspelled, they leave the provider keyless.
KEY_FIELDS = ("env_key", "experimental_bearer_token", "auth")


def has_key_source(table: dict[str, Any]) -> bool:
    if any(table.get(k) for k in KEY_FIELDS) or table.get("requires_openai_auth"):
        return True
    for name in ("http_headers", "env_http_headers"):
        headers = table.get(name)
        if isinstance(headers, dict) and any(h.lower() in KEY_HEADER_NAMES for h in headers):
            return True
    return False


def _login_key_check(ctx: CheckContext, provider: ProviderTable) -> None:
    """A custom provider with requires_openai_auth sends auth.json's OPENAI_API_KEY: a key in plain
    text in Codex's login file (the cc-switch way), which `key migrate` moves into the keyring."""
    if not codex_login.sends_login_key(provider.id, provider.table):
        return
    # (codex/login.py, the one reader of auth.json: not keys.codex_files, which also writes it and so
    # loads the transaction engine on every doctor run)
    found = codex_login.read_login(ctx.paths.codex_home)
    login = found.api_key if found is not None else None
    if login is None:
        return
    file, line, kind = provider.where("requires_openai_auth")
    ctx.add(
        "key.plaintext",
        "warn",
        f"the key Codex sends is in plain text in {codex_login.FIELD} ({mask(login)}): "
        "requires_openai_auth sends Codex's login key to this provider",
        provider=provider.id,
        file=file,
        line=line,
        fix=f"codexprov key migrate {provider.id}",
        fix_kind=provider.fix_kind(kind, FixKind.MIGRATE_KEY),
        key=codex_login.FIELD,
    )


def key_checks(ctx: CheckContext, provider: ProviderTable) -> None:
    pid, table = provider.id, provider.table
    # Plain text in a field Codex does not read is provider.unknown-key's to report.
    found = [k for k in find_keys(pid, table) if not k.movable or k.field.split(".", 1)[0] in NEWEST_PROVIDER_FIELDS]
    plaintext = [k for k in found if k.movable]
    for found_key in found:
        plaintext_finding(ctx, provider, found_key)
    auth = table.get("auth")
    if isinstance(auth, dict) and auth.get("command"):
        if is_token_auth(auth, pid):
            _keyring_check(ctx, provider, auth)
        else:
            _command_check(ctx, provider, auth)
        return
    env_key = table.get("env_key")
    if isinstance(env_key, str) and env_key:
        sent = reach.env_key(env_key, ctx.env)
        if sent.value is None:
            file, line, _ = provider.where("env_key")
            state = "empty" if env_key in ctx.env else "not set"
            ctx.add(
                "key.env-missing",
                "fail",
                f"${env_key} is {state} in this environment: Codex stops with `Missing environment variable`",
                provider=pid,
                file=file,
                line=line,
                fix=f"export {env_key}=… where Codex starts (or keep it in the keyring: codexprov key set {pid} --wire)",
                key="env_key",
            )
        else:
            raw = sent.value
            ctx.keys[pid] = ResolvedKey(pid, "env", raw)
            ctx.add("key.source", "ok", f"key from {sent.where} ({mask(raw.strip())})", provider=pid)
            key_format(
                ctx,
                provider,
                sent.where,
                raw,
                "env_key",
                f"set ${env_key} to the bare key: export {env_key}='sk-…' (no quotes inside, no newline, no `Bearer `)",
            )
        return
    token = table.get("experimental_bearer_token")
    if isinstance(token, str) and token.strip():
        ctx.keys[pid] = ResolvedKey(pid, "plaintext", token)
        key_format(
            ctx,
            provider,
            "experimental_bearer_token",
            token,
            "experimental_bearer_token",
            f"codexprov key set {pid}  (paste the bare key)",
        )
        return
    if table.get("requires_openai_auth"):
        _login_key_check(ctx, provider)
        login_check(ctx, provider)
        return
    if any(f.check == "provider.unknown-key" and f.status == "fail" and f.provider == pid for f in ctx.findings):
        return
    if not plaintext and has_key_source(table):
        ctx.add("key.source", "ok", "key from http headers", provider=pid)
    elif not plaintext:
        ctx.add("key.source", "ok", "no key configured: Codex sends no Authorization header", provider=pid)


def plaintext_finding(ctx: CheckContext, provider: ProviderTable, found: PlaintextKey) -> None:
    """key.plaintext: a key written in plain text (keys.plaintext), with the way out."""
    pid = provider.id
    if found.movable:
        file, line, kind = provider.where(found.field.split(".", 1)[0])
        ctx.add(
            "key.plaintext",
            "warn",
            f"a key is written in plain text in {found.field} ({found.masked})",
            provider=pid,
            file=file,
            line=line,
            fix=f"codexprov key migrate {pid}",
            fix_kind=provider.fix_kind(kind, FixKind.MIGRATE_KEY),
            key=found.field,
        )
        return
    file, line, _kind = provider.where(found.field.split(" ", 1)[0].split(".", 1)[0])
    fix = (
        f"use a header key if the server accepts one (`codexprov key set {pid}`), then remove it from the URL by hand"
        if found.in_url
        else "read it from an environment variable with env_http_headers, then remove it from http_headers by hand"
    )
    ctx.add(
        "key.plaintext",
        "warn",
        f"a key is written in plain text in {found.field} ({found.masked}); {found.note}",
        provider=pid,
        file=file,
        line=line,
        fix=fix,
        key=found.field,
    )


def key_format(ctx: CheckContext, provider: ProviderTable, what: str, sent: str, field: str, fix: str) -> None:
    """The key as Codex sends it (`Bearer ` + these bytes): whitespace, a newline, quotes or a
    `Bearer ` prefix inside it make the provider refuse it."""
    problems = key_problems(sent)
    if not problems:
        return
    file, line, _ = provider.where(field)
    ctx.add(
        "key.format",
        "fail",
        f"the key in {what} is not sent as you think: {'; '.join(problems)}; the provider will refuse it",
        provider=provider.id,
        file=file,
        line=line,
        fix=fix,
        key=field,
    )


def login_check(ctx: CheckContext, provider: ProviderTable) -> None:
    """`requires_openai_auth = true`: the key of `codex login` (auth.json); `codex exec` reads
    $CODEX_API_KEY first; $OPENAI_API_KEY is read by neither (codex/reach.py)."""
    pid = provider.id
    sent = reach.login_key(ctx.paths.codex_home, ctx.env, reach.EXEC)
    file, line, _ = provider.where("requires_openai_auth")
    if sent.value is None:
        store = _credentials_store(provider)
        if store in ("keyring", "auto"):
            ctx.add(
                "key.source",
                "warn",
                f"requires_openai_auth: the login is kept in the OS keyring (cli_auth_credentials_store = {store!r}), "
                "which codexprov does not read; not checked",
                provider=pid,
            )
            return
        ctx.add(
            "key.login-missing",
            "fail",
            f"requires_openai_auth = true, but {sent.missing}: Codex sends no key to {pid}",
            provider=pid,
            file=file,
            line=line,
            fix="codex login --with-api-key  (reads the key on stdin; e.g. printenv OPENAI_API_KEY | codex login --with-api-key)",
        )
        return
    ctx.keys[pid] = ResolvedKey(pid, "login", sent.value)
    if sent.note is not None:
        ctx.add(
            "key.source",
            "warn",
            f"key from {sent.where} ({mask(sent.value)}), which only `codex exec` reads: {sent.note}",
            provider=pid,
            file=file,
            line=line,
            fix="codex login --with-api-key  (so plain `codex` and IDEs send it too)",
        )
        return
    ctx.add("key.source", "ok", f"key from {sent.where} ({mask(sent.value)}; requires_openai_auth)", provider=pid)
    key_format(ctx, provider, sent.where, sent.value, "requires_openai_auth", "codex login --with-api-key")


def _credentials_store(provider: ProviderTable) -> str | None:
    """`cli_auth_credentials_store` as the provider's layers set it (the highest wins)."""
    value = None
    for layer in provider.layers:
        got = (layer.data or {}).get("cli_auth_credentials_store")
        if isinstance(got, str):
            value = got
    return value


def builtin_key_checks(ctx: CheckContext, pid: str) -> None:
    """A built-in provider with no table of its own: where its key comes from."""
    if pid == "openai":
        auth_json = ctx.paths.codex_home / "auth.json"
        sent = reach.login_key(ctx.paths.codex_home, ctx.env, reach.EXEC)
        if auth_json.is_file() or sent.value is not None:
            found = "codex login" if auth_json.is_file() else f"{sent.where} (read by `codex exec` only)"
            ctx.add("key.source", "ok", f"OpenAI: {found} found", provider=pid)
        else:
            ignored = " ($OPENAI_API_KEY is set, but Codex does not read it)" if ctx.env.get("OPENAI_API_KEY") else ""
            ctx.add(
                "key.codex-login",
                "warn",
                f"the active provider is OpenAI, and there is no {auth_json} (codex login) nor CODEX_API_KEY{ignored}",
                provider=pid,
                fix="codex login  (or: codexprov use ID to pick another provider)",
            )
    elif pid in ("ollama", "lmstudio"):
        ctx.add("key.source", "ok", f"built-in `{pid}` (local server, no key)", provider=pid)
    else:
        ctx.add("key.source", "ok", f"built-in `{pid}` uses its cloud credentials (not checked here)", provider=pid)


def _keyring_check(ctx: CheckContext, provider: ProviderTable, auth: dict[str, Any]) -> None:
    pid = provider.id
    file, line, _ = provider.where("auth")
    command = str(auth["command"])
    if resolve_command(command, auth_cwd(ctx, auth, file), ctx.env) is None:
        ctx.add(
            "key.auth-command",
            "fail",
            f"the auth command `{command}` (codexprov token {pid}) is not found: Codex cannot get the key",
            provider=pid,
            file=file,
            line=line,
            fix=f"codexprov key set {pid} --wire  (re-points it at this codexprov)",
            key="auth",
        )
        return
    store, problem = ctx.keystore()
    if store is None:
        ctx.add(
            "key.keyring-unavailable",
            "fail",
            f"the key comes from the OS keyring, which cannot be read here: {problem}",
            provider=pid,
            file=file,
            line=line,
            fix="start or unlock the keyring (see `codexprov key list`), or use an env var: codexprov add … --key-mode env",
        )
        return

    if bridged_key_check(ctx, pid, store, file, line):
        return  # Codex gets the bridge's master key; the upstream key is the bridge's to use
    try:
        value = store.get(pid)
    except KeyringUnavailableError as err:
        ctx.add("key.keyring-unavailable", "fail", err.message, provider=pid, file=file, line=line, fix=err.hint)
        return
    if value is None:
        ctx.add(
            "key.keyring-missing",
            "fail",
            f"Codex runs `codexprov token {pid}`, but the keyring has no key for {pid}",
            provider=pid,
            file=file,
            line=line,
            fix=f"codexprov key set {pid}",
        )
        return
    ctx.keys[pid] = ResolvedKey(pid, "keyring", value.strip())
    ctx.add("key.source", "ok", f"key from the OS keyring ({mask(value)})", provider=pid)
    key_format(
        ctx, provider, "the keyring entry", value.strip(), "auth", f"codexprov key set {pid}  (paste the bare key)"
    )


def auth_cwd(ctx: CheckContext, auth: dict[str, Any], file: str | None) -> Path:
    """Codex resolves `cwd` (default ".") against the folder of the config file that sets it."""
    return reach.auth_cwd(auth, Path(file).parent if file else ctx.paths.codex_home)


def _command_check(ctx: CheckContext, provider: ProviderTable, auth: dict[str, Any]) -> None:
    pid = provider.id
    file, line, _ = provider.where("auth")
    command = str(auth["command"])
    args = [str(a) for a in auth.get("args") or []]
    shown = " ".join([command, *args])
    cwd = auth_cwd(ctx, auth, file)
    common: dict[str, Any] = dict(provider=pid, file=file, line=line, key="auth")
    planned = plan_command(ctx, auth, file)
    if planned is None:
        ctx.add(
            "key.auth-command",
            "fail",
            f"the auth command `{command}` is not found (PATH, or relative to {cwd}): Codex fails to start it",
            fix=f"install it or fix `command` in [model_providers.{pid}.auth] (or: codexprov key set {pid} --wire)",
            **common,
        )
        return
    job, timeout = planned
    outcome = ctx.auth_outcomes.get(job) or run_auth_command(list(job[0]), cwd=cwd, env=dict(ctx.env), timeout=timeout)
    if outcome.error is not None:
        ctx.add(
            "key.auth-command",
            "fail",
            f"the auth command `{shown}` {redact_text(outcome.error)}: Codex gets no key",
            fix=f"run `{shown}` yourself and fix it (or: codexprov key set {pid} --wire)",
            **common,
        )
        return
    ctx.keys[pid] = ResolvedKey(pid, "command", outcome.token)
    ctx.add("key.source", "ok", f"key from the auth command `{shown}` ({mask(outcome.token)})", provider=pid)
    key_format(ctx, provider, f"the output of `{shown}`", outcome.token, "auth", f"make `{shown}` print the bare key")


def plan_command(
    ctx: CheckContext, auth: dict[str, Any], file: str | None
) -> tuple[tuple[tuple[str, ...], str], float] | None:
    """((argv, cwd), timeout in seconds) for an auth command, or None when it cannot be found."""
    cwd = auth_cwd(ctx, auth, file)
    resolved = resolve_command(str(auth["command"]), cwd, ctx.env)
    if resolved is None:
        return None
    argv = (resolved, *(str(a) for a in auth.get("args") or []))
    return (argv, str(cwd)), reach.auth_timeout(auth)


def prerun_auth_commands(ctx: CheckContext, providers: list[ProviderTable]) -> None:
    """Start every auth command at once: each may take up to its timeout, and they are independent."""
    jobs: dict[tuple[tuple[str, ...], str], float] = {}
    for provider in providers:
        auth = provider.table.get("auth")
        if not isinstance(auth, dict) or not auth.get("command") or is_token_auth(auth, provider.id):
            continue
        planned = plan_command(ctx, auth, provider.where("auth").file)
        if planned is not None:
            jobs[planned[0]] = planned[1]
    if len(jobs) < 2:
        return
    with ThreadPoolExecutor(max_workers=min(8, len(jobs))) as pool:
        futures = {
            job: pool.submit(run_auth_command, list(job[0]), cwd=Path(job[1]), env=dict(ctx.env), timeout=timeout)
            for job, timeout in jobs.items()
        }
        for job, future in futures.items():
            ctx.auth_outcomes[job] = future.result()
