"""Run the real Codex CLI in a sealed environment, and write a minimal config for it by hand.

`run_codex` builds the child's environment from nothing (so no OPENAI_API_KEY or other provider
variable leaks in from the outer shell), runs in a fresh folder, and turns off what would reach
outside hosts. Seen with strace on 0.133.0 and 0.169.0, a plain `codex exec` otherwise runs
`git ls-remote https://github.com/openai/plugins.git` (plugins), looks up api.github.com and sends
analytics to ab.chatgpt.com. The proxy variables are a second fence: whatever still tries an
outside host goes to a closed local port and fails at once, while 127.0.0.1 stays direct.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")

# Accepted by both 0.133.0 and 0.169.0, also together with --strict-config.
QUIET_ARGS: tuple[str, ...] = (
    "--disable",
    "plugins",
    "-c",
    "check_for_update_on_startup=false",
    "-c",
    "analytics.enabled=false",
)

_DEAD_PROXY = "http://127.0.0.1:9"


def codex_env(codex_home: Path, env_extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The whole environment for a Codex child: HOME is CODEX_HOME's parent, nothing inherited but PATH."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(codex_home.parent),
        "CODEX_HOME": str(codex_home),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "NO_COLOR": "1",
        "RUST_BACKTRACE": "0",
        "HTTPS_PROXY": _DEAD_PROXY,
        "HTTP_PROXY": _DEAD_PROXY,
        "ALL_PROXY": _DEAD_PROXY,
        "https_proxy": _DEAD_PROXY,
        "http_proxy": _DEAD_PROXY,
        "all_proxy": _DEAD_PROXY,
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        "GIT_TERMINAL_PROMPT": "0",
    }
    if env_extra:
        env.update(env_extra)
    return env


def run_codex(
    codex_bin: Path,
    codex_home: Path,
    prompt: str = "say pong",
    *,
    args: Sequence[str] = (),
    env_extra: Mapping[str, str] | None = None,
    timeout: float = 60,
    strict: bool = True,
) -> subprocess.CompletedProcess[str]:
    """`codex exec --skip-git-repo-check [--strict-config] <quiet flags> *args PROMPT`, in a fresh cwd.

    Both pinned versions (0.133.0 and 0.169.0) know `--strict-config`; pass strict=False to see what
    a user without it gets (unknown fields silently dropped). Raises subprocess.TimeoutExpired after
    `timeout` seconds: Codex waits indefinitely when a provider refuses connections.
    """
    codex_home.mkdir(parents=True, exist_ok=True)
    cwd = tempfile.mkdtemp(prefix="codex-cwd-", dir=codex_home.parent)
    command = [str(codex_bin), "exec", "--skip-git-repo-check"]
    if strict:
        command.append("--strict-config")
    command += [*QUIET_ARGS, *args, prompt]
    return subprocess.run(
        command,
        cwd=cwd,
        env=codex_env(codex_home, env_extra),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def codex_version(codex_bin: Path) -> str:
    """ "0.169.0" from `codex --version` (which prints `codex-cli 0.169.0`)."""
    out = subprocess.run([str(codex_bin), "--version"], capture_output=True, text=True, timeout=30, check=True)
    return out.stdout.split()[-1]


def write_minimal_config(
    codex_home: Path,
    base_url: str,
    *,
    provider_id: str = "acme",
    env_key: str | None = "ACME_API_KEY",
    model: str = "fake-model",
    extra_provider_lines: Sequence[str] = (),
    no_retries: bool = True,
) -> Path:
    """Write a config.toml by hand (not through codexprov) that makes Codex use one custom provider.

    With no_retries, Codex gives up on the first failed request instead of retrying for ~7 s.
    """
    lines = [
        f'model = "{model}"',
        f"model_provider = {json.dumps(provider_id)}",
        "",
        f"[model_providers.{_toml_key(provider_id)}]",
        'name = "Acme"',
        f'base_url = "{base_url}"',
        'wire_api = "responses"',
    ]
    if env_key is not None:
        lines.append(f'env_key = "{env_key}"')
    if no_retries:
        lines += ["request_max_retries = 0", "stream_max_retries = 0"]
    lines += list(extra_provider_lines)
    path = codex_home / "config.toml"
    codex_home.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key)


def codexprov_env(
    codex_home: Path, codex_bin: Path, env_extra: Mapping[str, str] | None = None, *, system_config: Path
) -> dict[str, str]:
    """The environment for the installed `codexprov` next to a Codex run: the same one Codex gets
    (`codex_env`), plus which Codex to ask, no /etc/codex layer, XDG folders in the test's home and
    no keyring."""
    home = codex_home.parent
    env = codex_env(codex_home, env_extra)
    env.update(
        {
            "CODEXPROV_CODEX": str(codex_bin),
            "CODEXPROV_SYSTEM_CONFIG": str(system_config),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_STATE_HOME": str(home / ".local" / "state"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
            "COLUMNS": "200",
        }
    )
    return env


def debug_models(
    codex_bin: Path, codex_home: Path, env_extra: Mapping[str, str] | None = None, *, timeout: float = 60
) -> list[dict[str, Any]]:
    """The models Codex lists for this configuration (`codex debug models`: what its /model picker
    and the app-server's model/list show); it must exit 0."""
    listed = subprocess.run(
        [str(codex_bin), "debug", "models"],
        env=codex_env(codex_home, env_extra),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr[-800:]
    return json.loads(listed.stdout)["models"]


def run_codexprov(args: Sequence[str], env: Mapping[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed codexprov (`python -m codexprov`), run as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "codexprov", *args],
        env=dict(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def codex_doctor_network_only(codex_bin: Path) -> bool:
    """Whether this Codex's `doctor` takes `--network-only`, asked from its `--help` (0.166.0 lists
    it; 0.165.0 and older refuse it as an unexpected argument, so they have no network-only report)."""
    with tempfile.TemporaryDirectory(prefix="codex-help-") as tmp:
        home = Path(tmp) / ".codex"
        home.mkdir()
        proc = subprocess.run(
            [str(codex_bin), "doctor", "--help"],
            env=codex_env(home),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    return "--network-only" in proc.stdout
