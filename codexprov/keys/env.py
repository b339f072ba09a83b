"""`codexprov env` and `codexprov run`: the variables that give env-mode providers their keys from
the keyring, and the command `run` starts with them.
"""

from __future__ import annotations

import shlex
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclasses_field
from pathlib import Path
from typing import Any

from codexprov import providers
from codexprov.credentials import KeyStore, check_provider_id
from codexprov.errors import NotFoundError, UsageError
from codexprov.keys.plaintext import BEARER_HEADERS, KEY_HEADERS
from codexprov.paths import Paths
from codexprov.redact import mask
from codexprov.result import Note


@dataclass(frozen=True)
class EnvVar:
    """A key handed to a command as an environment variable (the value never shown)."""

    name: str
    provider_id: str
    value: str = dataclasses_field(repr=False)


@dataclass(frozen=True)
class EnvPlan:
    """The variables `key env` gives, and the providers whose key is missing."""

    variables: tuple[EnvVar, ...]
    missing: tuple[str, ...]  # env-mode providers with no key in the keyring


def _env_names(table: dict[str, Any]) -> list[str]:
    """The variables Codex reads a provider's key from: env_key, and env_http_headers that carry one."""
    names = []
    if isinstance(table.get("env_key"), str) and table["env_key"]:
        names.append(table["env_key"])
    headers = table.get("env_http_headers")
    if isinstance(headers, dict):
        for header, var in headers.items():
            if header.lower() in BEARER_HEADERS + KEY_HEADERS and isinstance(var, str) and var not in names:
                names.append(var)
    return names


def run_env(paths: Paths, open_keystore: Callable[[], KeyStore], provider_id: str | None = None) -> EnvPlan:
    """The variables `codexprov run` adds: like `env_plan`, but a provider given by id that needs no
    variable (it reads the keyring through its auth command) is fine, and the keyring is opened
    (`open_keystore()`) only when some provider needs a variable."""
    if provider_id is not None:
        info = providers.get_provider(paths, provider_id)
        if not _env_names(info.table):
            return EnvPlan((), ())
        return env_plan(paths, open_keystore(), provider_id)
    summary = providers.list_providers(paths)
    if not any(p.configured and _env_names(p.table) for p in summary.providers):
        return EnvPlan((), ())
    return env_plan(paths, open_keystore(), None)


def env_plan(paths: Paths, store: KeyStore, provider_id: str | None = None) -> EnvPlan:
    """The variables that give env-mode providers their keys from the keyring.

    With an id: that provider, which must read its key from an env var and have a key stored
    (NotFoundError otherwise). Without: every such provider that has a key stored.
    """
    if provider_id is not None:
        info = providers.get_provider(paths, provider_id)
        names = _env_names(info.table)
        if not names:
            raise NotFoundError(
                f"provider `{provider_id}` does not read its key from an environment variable",
                hint="`codexprov env` is for providers added with `--key-mode env`; "
                "keyring-mode providers need nothing: Codex runs `codexprov token` itself.",
            )
        value = store.get(provider_id)
        if value is None:
            raise NotFoundError(
                f"no key for `{provider_id}` in the keyring",
                hint=f"Store it with `codexprov key set {provider_id}`.",
            )
        return EnvPlan(tuple(EnvVar(n, provider_id, value) for n in names), ())
    variables: list[EnvVar] = []
    missing: list[str] = []
    for info in providers.list_providers(paths).providers:
        names = _env_names(info.table) if info.configured else []
        if not names:
            continue
        value = store.get(info.id)
        if value is None:
            missing.append(info.id)
            continue
        variables.extend(EnvVar(n, info.id, value) for n in names)
    return EnvPlan(tuple(variables), tuple(missing))


def shell_exports(plan: EnvPlan, *, reveal: bool = True) -> str:
    """`export NAME='value'` lines (POSIX shells). With reveal=False the values are masked."""
    lines = [f"export {v.name}={shlex.quote(v.value if reveal else mask(v.value))}" for v in plan.variables]
    return "\n".join(lines) + ("\n" if lines else "")


def codex_command(argv: list[str], *, provider_id: str | None, profile: str | None) -> list[str]:
    """`argv` with `-c model_provider="ID"` and/or `-p NAME` after the codex executable."""
    if not argv:
        raise UsageError(
            "no command to run", hint="Usage: codexprov run [--provider ID] [--profile NAME] -- codex ARGS…"
        )
    if provider_id is None and profile is None:
        return list(argv)
    if not Path(argv[0]).name.lower().startswith("codex") or Path(argv[0]).name.lower().startswith("codexprov"):
        raise UsageError(
            f"--provider and --profile apply to a codex command, not `{Path(argv[0]).name}`",
            hint="Usage: codexprov run --provider ID -- codex ARGS…",
        )
    extra: list[str] = []
    if provider_id is not None:
        check_provider_id(provider_id)
        extra += ["-c", f'model_provider="{provider_id}"']
    if profile is not None:
        extra += ["-p", profile]
    return [argv[0], *extra, *argv[1:]]


@dataclass(frozen=True)
class RunPlan:
    """What `run` starts: the command line, its environment (keys included) and missing keys."""

    argv: tuple[str, ...]
    env: dict[str, str] = dataclasses_field(repr=False)
    missing: tuple[str, ...]  # env-mode providers with no key in the keyring

    @property
    def notes(self) -> tuple[Note, ...]:
        return tuple(
            Note(f"no key for {pid} in the keyring (codexprov key set {pid})", "warning") for pid in self.missing
        )


def plan_run(
    paths: Paths,
    open_keystore: Any,
    command: list[str],
    *,
    provider_id: str | None,
    profile: str | None,
    environ: dict[str, str],
) -> RunPlan:
    """`codexprov run`: the command (with -c model_provider / -p for codex) and its environment."""
    argv = codex_command(list(command), provider_id=provider_id, profile=profile)
    plan = run_env(paths, open_keystore, provider_id)
    env = dict(environ)
    env.update({v.name: v.value for v in plan.variables})
    return RunPlan(tuple(argv), env, plan.missing)


def execute(plan: RunPlan) -> int:
    """Run the command; its exit status (128+N for a signal N, as shells report it). The child owns
    the terminal: Ctrl-C reaches it directly while we wait."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        completed = subprocess.run(list(plan.argv), env=plan.env, check=False)
    except FileNotFoundError:
        raise NotFoundError(f"command not found: {plan.argv[0]}") from None
    except PermissionError:
        raise NotFoundError(f"command not executable: {plan.argv[0]}") from None
    finally:
        signal.signal(signal.SIGINT, previous)
    code = completed.returncode
    return 128 - code if code < 0 else code
