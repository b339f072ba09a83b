"""Codex's own verdict on the configuration, the doctor's floor: the installed Codex loads it the
way it will, and a load error becomes a finding (check id `codex.load`).

The command is `codex features list`: it reads the whole configuration (the system and user
layers, a trusted project's layer for the folder it runs in, `$CODEX_HOME` exactly as given) and
exits, with no network and no child process (strace on 0.133.0 and 0.169.0; `codex mcp list` asks
HTTP MCP servers for their auth state and `codex debug prompt-input` starts stdio ones). It takes
no `-p` ("--profile only applies to runtime commands, `codex mcp`, …"), so for a named file profile
(`doctor -p NAME`, releases with NAME.config.toml) it is `codex -p NAME mcp get` with a name no MCP
server has: that loads the configuration with the profile's file on top, then says it knows no
such server (read from the config alone, nothing asked; seen on 0.160.0 to 0.171.0, whose load
errors then name the profile file with `file:line:col`). Its error names the value
and the key path (`invalid type: string "600000", expected u64` / ``in `model_providers.acme.…` ``),
some releases also `file:line:col`: the types a release accepts come from the release itself, and a
new release's new rules reach the verdict without a line here changing.

`start` launches it (or finds its verdict in the cache: per binary build, config files, catalog
file, cwd and the `CODEX*` environment), `finish` collects it after the network checks, so it costs
no time of its own. Only config.toml is edited by the fixes it offers (`--fix`): a quoted number
unquoted, a `model_catalog_json` that codexprov's gateway recipe wrote and whose file is gone dropped.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codexprov.doctor.findings import Finding, FixKind
from codexprov.doctor.layers import SYSTEM_CONFIG, Layer
from codexprov.errors import FileAccessError
from codexprov.redact import redact_text
from codexprov.safe_write import write_atomic

if TYPE_CHECKING:
    import tempfile

CHECK = "codex.load"
COMMAND = ("features", "list")
# With a file profile named: `codex -p NAME mcp get NOBODY` (`features list` takes no -p).
NOBODY = "codexprov-doctor-load-check"
PROFILE_COMMAND = ("mcp", "get", NOBODY)
_NO_SUCH_SERVER = f"Error: No MCP server named '{NOBODY}' found."
CACHE_FILE = "codex-load.json"
CACHE_ENTRIES = 32
TIMEOUT = 15.0
# The environment that decides what Codex loads (CODEX_HOME, CODEX_SQLITE_HOME, …, and where `~` is).
_ENV_NAMES = ("HOME", "USERPROFILE", "XDG_CONFIG_HOME")
# Patterns as text: `re` compiles each on its first use (only a load error needs them).
_LOCATED = r"^\s*(?:\d+:\s*)?(?P<file>(?:[A-Za-z]:)?[\\/][^\n]*?):(?P<line>\d+):(?P<col>\d+): (?P<reason>.*)$"
_KEY_PATH = r"^\s*in `(?P<path>[^`]*)`\s*$"
_TYPE = r'invalid type: string "(?P<value>[^"]*)", expected (?P<expected>.+)$'
_NUMBER_TYPES = r"^(?:[ui](?:8|16|32|64|128|size)|f(?:32|64)|an? (?:integer|number|float)|a floating.*)$"
_INTEGER = r"^[+-]?\d+$"
_FLOAT = r"^[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?$"


@dataclass(frozen=True)
class LoadError:
    """What Codex said when it refused to load: its reason, and where, when it said where."""

    reason: str  # the first line of the innermost cause
    text: str  # the whole error, warnings dropped
    file: str | None = None
    line: int | None = None
    key_path: tuple[str, ...] = ()


@dataclass
class LoadRun:
    """One load check (`codex features list`, or `codex -p NAME mcp get NOBODY`), running or
    already answered (from the cache)."""

    binary: Path
    version: str | None
    signature: str | None
    cache_dir: Path
    proc: subprocess.Popen[str] | None = None
    cwd_tmp: tempfile.TemporaryDirectory[str] | None = None
    answer: tuple[int, str] | None = None  # (exit status, stderr, redacted)
    skipped: str | None = None
    cached: bool = False
    layers: Sequence[Layer] = field(default_factory=tuple)
    command: tuple[str, ...] = COMMAND

    @property
    def shown(self) -> str:
        return "codex " + " ".join(self.command)

    def wait(self, timeout: float = TIMEOUT) -> tuple[int, str] | None:
        if self.answer is not None or self.proc is None:
            return self.answer
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(self.proc)
            self.proc.communicate()
            self.skipped = f"`{self.shown}` did not finish within {timeout:g} s"
            return None
        finally:
            if self.cwd_tmp is not None:
                self.cwd_tmp.cleanup()

        self.answer = (self.proc.returncode, redact_text(_without_warnings(err or "")))
        if self.command[-len(PROFILE_COMMAND) :] == PROFILE_COMMAND and _lines(self.answer[1]) == [_NO_SUCH_SERVER]:
            self.answer = (0, "")  # loaded; then, as asked, no such MCP server
        if self.signature is not None and not _unsupported(*self.answer):
            _store(self.cache_dir, self.signature, self.answer)
        return self.answer


def command_for(info: Any, profile: str | None) -> tuple[str, ...]:
    """The load check's arguments: with a file profile named, the configuration `codex -p NAME` loads."""
    if profile is not None and info.capabilities.profile_form == "file":
        return ("-p", profile, *PROFILE_COMMAND)
    return COMMAND


def start(
    paths: Any,
    info: Any,
    *,
    env: Mapping[str, str],
    cwd: Path | None,
    layers: Sequence[Layer],
    profile: str | None = None,
) -> LoadRun | None:
    """Launch the load check (None: no usable Codex to ask); `profile`: the one `doctor -p` names."""
    if info.assumed or info.path is None or not Path(info.path).is_file():
        return None  # no Codex to ask: the static checks are all there is
    binary = Path(info.path)
    command = command_for(info, profile)
    signature = _signature(binary, paths, env, cwd, layers, command)
    run = LoadRun(binary, info.version_text, signature, paths.cache_dir, layers=tuple(layers), command=command)
    if signature is not None:
        found = _lookup(paths.cache_dir, signature)
        if found is not None:
            run.answer, run.cached = found, True
            return run
    child_env = {**env, "RUST_BACKTRACE": "0", "NO_COLOR": "1"}
    if cwd is None or not cwd.is_dir():
        import tempfile

        run.cwd_tmp = tempfile.TemporaryDirectory(prefix="codexprov-load-")
        where = run.cwd_tmp.name
    else:
        where = str(cwd)
    try:
        run.proc = subprocess.Popen(
            [str(binary), *command],
            cwd=where,
            env=child_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,
        )
    except OSError as err:
        if run.cwd_tmp is not None:
            run.cwd_tmp.cleanup()
        run.skipped = f"Codex could not be started ({err.strerror or err})"
    return run


def finish(run: LoadRun | None, paths: Any, findings: Sequence[Finding]) -> list[Finding]:
    """The codex.load finding: Codex's verdict, explained by a failing check where one explains it."""
    if run is None:
        return []
    answer = run.wait()
    who = f"Codex {run.version}" if run.version else "Codex"
    if answer is None:
        return [Finding(CHECK, "skip", f"{CHECK} skipped: {run.skipped or 'no answer'}")]
    status, text = answer
    if status == 0:
        return [Finding(CHECK, "ok", f"{who} loads this configuration (`{run.shown}`)")]
    if _unsupported(status, text):
        return [Finding(CHECK, "skip", f"{CHECK} skipped: {who} has no `{run.shown}`")]
    error = parse_error(text)
    return [load_finding(error, who, paths, run.layers, findings)]


def parse_error(text: str) -> LoadError:
    """Codex's load error: `Error: …`, then `Caused by:` and the causes (numbered when several)."""
    lines = [ln.rstrip() for ln in text.splitlines()]
    file = line = None
    key_path: tuple[str, ...] = ()
    located_reason = None
    for ln in lines:
        m = re.match(_LOCATED, ln)
        if m and file is None:
            file, line, located_reason = m.group("file"), int(m.group("line")), m.group("reason").strip()
        k = re.match(_KEY_PATH, ln)
        if k:
            key_path = tuple(k.group("path").split(".")) if k.group("path") else ()
    causes: list[str] = []
    if "Caused by:" in [ln.strip() for ln in lines]:
        after = lines[[ln.strip() for ln in lines].index("Caused by:") + 1 :]
        for ln in after:
            stripped = re.sub(r"^\d+:\s*", "", ln.strip())
            if not stripped or re.match(_KEY_PATH, ln) or stripped.startswith("|") or re.match(r"^\d+ \|", stripped):
                continue
            if re.match(r"^\s*\d+:", ln) or not causes:
                causes.append(stripped)
    first = next((ln for ln in lines if ln.startswith("Error")), lines[0] if lines else "")
    reason = causes[-1] if causes else re.sub(r"^Error(?: loading config\.toml)?:\s*", "", first)
    m = re.match(_LOCATED, reason)
    if m:
        reason = m.group("reason").strip()
    if located_reason and not causes:
        reason = located_reason
    return LoadError(
        reason.strip() or "(no message)", "\n".join(ln for ln in lines if ln.strip()), file, line, key_path
    )


def load_finding(
    error: LoadError, who: str, paths: Any, layers: Sequence[Layer], findings: Sequence[Finding]
) -> Finding:
    from codexprov.doctor.codexrun import explain

    reason = redact_text(_one_line(error.reason))
    where = _where(error, layers)
    file, line = (where[0], where[1]) if where is not None else (error.file, error.line)
    shown_key = f" (`{'.'.join(error.key_path)}`)" if error.key_path else ""
    message = f"{who} refuses to load the configuration: {reason}{shown_key}"
    failed = [f for f in findings if f.status == "fail"]
    same_place = next((f for f in failed if file is not None and f.file == file and f.line == line), None)
    explaining = same_place.check if same_place is not None else explain(error.reason, [f.check for f in failed])
    explained = next((f for f in failed if f.check == explaining), None)
    if explained is not None:
        return Finding(
            CHECK,
            "fail",
            f"{message} (explained by {explained.check})",
            file=file or explained.file,
            line=line or explained.line,
            fix=explained.fix,
        )
    typed = _type_finding(error, message, file, line, paths, layers)
    if typed is not None:
        return typed
    catalog = _catalog_finding(error, who, reason, paths, layers)
    if catalog is not None:
        return catalog
    if "CODEX_HOME" in error.text:
        return Finding(
            CHECK,
            "fail",
            message,
            fix="set CODEX_HOME to an absolute path of a folder that exists (Codex does not expand `~`)",
        )
    return Finding(
        CHECK, "fail", message, file=file, line=line, fix=f"fix what Codex names in {file}" if file else None
    )


def _type_finding(
    error: LoadError, message: str, file: str | None, line: int | None, paths: Any, layers: Sequence[Layer]
) -> Finding | None:
    m = re.search(_TYPE, error.reason)
    if m is None or not error.key_path or not re.match(_NUMBER_TYPES, m.group("expected").strip()):
        return None
    value = m.group("value")
    if not (
        re.match(_INTEGER, value) or (re.match(_FLOAT, value) and m.group("expected").startswith(("f", "a float")))
    ):
        return None
    name = error.key_path[-1]
    in_user = file is not None and Path(file) == Path(paths.config_file)
    return Finding(
        CHECK,
        "fail",
        f"{message}: the number is written in quotes, and Codex takes only a bare number",
        file=file,
        line=line,
        key=".".join(error.key_path),
        fix=f"{name} = {value}   (no quotes)" + ("; codexprov doctor --fix does it" if in_user else ""),
        fix_kind=FixKind.UNQUOTE_NUMBER if in_user else None,
    )


def _catalog_finding(error: LoadError, who: str, reason: str, paths: Any, layers: Sequence[Layer]) -> Finding | None:
    if "os error 2" not in error.reason and "No such file" not in error.reason:
        return None
    setting = catalog_setting(layers)
    if setting is None:
        return None
    layer, value, target = setting
    if target.exists():
        return None
    from codexprov.codex.gateway import CATALOG_FILE
    from codexprov.doctor.locate import line_of

    ours = layer.kind == "user" and Path(value) == Path(paths.codex_home) / CATALOG_FILE
    fix = (
        "codexprov doctor --fix drops the setting (codexprov's gateway recipe wrote it; "
        "re-adding the provider with the recipe writes the catalog again)"
        if ours
        else f"put the catalog file back at {target}, or remove `model_catalog_json` from {layer.path}"
    )
    return Finding(
        CHECK,
        "fail",
        f"{who} refuses to start: `model_catalog_json` names {target}, which does not exist (Codex says only `{reason}`)",
        file=str(layer.path),
        line=line_of(layer.text, (), "model_catalog_json"),
        key="model_catalog_json",
        fix=fix,
        fix_kind=FixKind.DROP_CATALOG if ours else None,
    )


def catalog_setting(layers: Sequence[Layer]) -> tuple[Layer, str, Path] | None:
    """The layer whose `model_catalog_json` Codex uses, its value, and the file it names."""
    for layer in reversed([x for x in layers if x.kind in ("system", "user", "project")]):
        value = (layer.data or {}).get("model_catalog_json")
        if isinstance(value, str) and value:
            target = Path(value)
            if not target.is_absolute():
                target = layer.path.parent / target
            return layer, value, target
    return None


def _where(error: LoadError, layers: Sequence[Layer]) -> tuple[str, int | None] | None:
    """The file and line Codex means: its own `file:line`, else the highest layer setting the key path."""
    if error.file is not None:
        return error.file, error.line
    if not error.key_path:
        return None
    from codexprov.doctor.locate import line_of

    for layer in reversed([x for x in layers if x.kind in ("system", "user", "project")]):
        node: Any = layer.data or {}
        for part in error.key_path:
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None:
            return str(layer.path), line_of(layer.text, error.key_path[:-1], error.key_path[-1])
    return None


# ---------------------------------------------------------------------------- the cache


def _signature(
    binary: Path,
    paths: Any,
    env: Mapping[str, str],
    cwd: Path | None,
    layers: Sequence[Layer],
    command: tuple[str, ...] = COMMAND,
) -> str | None:
    """Everything the verdict depends on; None (no caching) when the binary cannot be identified."""
    try:
        st = binary.resolve().stat()
    except OSError:
        return None
    parts: list[Any] = [str(binary.resolve()), st.st_size, st.st_mtime_ns, st.st_ctime_ns, str(cwd)]
    if command != COMMAND:
        parts.append(list(command))  # only with a profile: the plain check keeps its cache keys
    parts.append(sorted((k, v) for k, v in env.items() if k.upper().startswith("CODEX") or k in _ENV_NAMES))
    parts.append([(layer.kind, str(layer.path), layer.text) for layer in layers])
    for extra in (SYSTEM_CONFIG, Path(paths.codex_home) / ".env"):
        parts.append((str(extra), _stat(extra)))
    setting = catalog_setting(layers)
    if setting is not None:
        parts.append((str(setting[2]), _stat(setting[2])))
    return hashlib.sha256(json.dumps(parts, default=str).encode("utf-8", "surrogatepass")).hexdigest()


def _stat(path: Path) -> Any:
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def _read_cache(cache_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((cache_dir / CACHE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _lookup(cache_dir: Path, signature: str) -> tuple[int, str] | None:
    entry = _read_cache(cache_dir).get(signature)
    if isinstance(entry, list) and len(entry) == 3 and isinstance(entry[1], int) and isinstance(entry[2], str):
        return entry[1], entry[2]
    return None


def _store(cache_dir: Path, signature: str, answer: tuple[int, str]) -> None:
    """Remember a verdict (the newest CACHE_ENTRIES); a cache that cannot be written is no error."""
    import time

    data = _read_cache(cache_dir)
    data[signature] = [time.time(), *answer]
    newest = sorted(data.items(), key=lambda kv: kv[1][0] if isinstance(kv[1], list) and kv[1] else 0)
    data = dict(newest[-CACHE_ENTRIES:])
    target = cache_dir / CACHE_FILE
    with contextlib.suppress(OSError, FileAccessError):
        cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(target, json.dumps(data, indent=1, sort_keys=True), existed=target.exists())


# ---------------------------------------------------------------------------- helpers


def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


def _without_warnings(text: str) -> str:
    return "\n".join(ln for ln in text.splitlines() if not ln.startswith("WARNING:"))


def _unsupported(status: int, text: str) -> bool:
    """An older Codex without `features list` (clap's usage error, exit 2)."""
    return status == 2 and ("unrecognized subcommand" in text or "unexpected argument" in text)


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:299] + "…"


def _kill(proc: subprocess.Popen[str]) -> None:
    import signal

    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (OSError, AttributeError):
        proc.kill()


def cancel(run: LoadRun | None) -> None:
    """Stop a load check whose verdict is no longer wanted (the doctor stopped with an error)."""
    if run is not None and run.proc is not None and run.proc.poll() is None:
        _kill(run.proc)
        run.proc.communicate()
    if run is not None and run.cwd_tmp is not None:
        run.cwd_tmp.cleanup()
