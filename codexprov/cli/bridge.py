"""CLI: bridge install/status/logs/up/down/restart/rotate-key (core: codexprov.bridge.manage)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import typer

from codexprov.cli.app import app, context, out, out_json, say
from codexprov.errors import CodexprovError, UsageError
from codexprov.redact import redact_text

if TYPE_CHECKING:
    from codexprov.paths import Paths

bridge_app = typer.Typer(
    name="bridge",
    help="The bridge: LiteLLM on 127.0.0.1 in front of providers that do not serve the Responses API.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(bridge_app, name="bridge")


def _layout():
    from codexprov.bridge import layout

    return layout.resolve()


@bridge_app.command("install")
def install_cmd(upgrade: bool = typer.Option(False, "--upgrade", help="Upgrade within the tested range.")) -> None:
    """Install LiteLLM's proxy into a virtualenv of its own (codexprov's own environment stays as it is)."""
    from codexprov.bridge import install

    layout = _layout()
    current = install.installed_version(layout)
    if upgrade or current is None or not install.in_tested_range(current):
        say(f"installing {install.LITELLM_REQUIREMENT} into {layout.venv} (a minute or two)…")
    result = install.install(layout, upgrade=upgrade)
    verb = "installed" if result.changed else "already installed"
    say(f"LiteLLM {result.version} {verb} in {result.venv}")


@bridge_app.command("status")
def status_cmd(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Running? On which port? Which upstreams? Which LiteLLM?"""
    from codexprov.bridge import manage

    status = manage.status(_layout())
    if as_json:
        out_json(status.to_json())
        return
    health = {
        "up": f"running (pid {status.pid})" if status.pid else "running",
        "down": "not running (it starts when Codex next starts a bridged provider, or: codexprov bridge up)",
        "other": "port taken by another program, which is not codexprov's bridge and gets no key "
        "(codexprov bridge restart --new-port)",
        "unset": "not set up (no provider goes through it yet)",
    }[status.health]
    litellm = f"LiteLLM {status.installed}" if status.installed else "LiteLLM not installed (codexprov bridge install)"
    out(f"bridge:    {health}")
    if status.standby:
        out(f"standby:   LiteLLM loaded ahead of need (pid {status.standby}); the next start takes about a second")
    if status.base_url:
        out(f"url:       {status.base_url}")
    out(f"engine:    {litellm}; tested range {status.requirement}; {status.venv}")
    out(f"config:    {status.config_file}")
    out(f"log:       {status.log_file}")
    if status.upstreams:
        out("upstreams:")
        for upstream in status.upstreams:
            target = upstream.api_base or "LiteLLM's default URL"
            key = f"key from the keyring ({upstream.key_var})" if upstream.key_var else "no key"
            out(f"  {upstream.provider_id}: {upstream.litellm_prefix}/MODEL at {target}; {key}")
        chains = [" -> ".join(c) for c in status.fallback_chains if len(c) > 1]
        if chains:
            out("fallbacks (on 429, 5xx, timeouts):")
            for chain in chains:
                out(f"  {chain}")


def _know_bridge_keys(paths: Paths) -> None:
    """The log can quote the upstream keys and the master key, which this command never reads
    otherwise: the redaction boundary learns them from the keyring first."""
    from codexprov.bridge.layout import MASTER_KEY_USER
    from codexprov.config.document import load
    from codexprov.credentials import remember_stored_keys

    ids = [MASTER_KEY_USER]
    try:
        providers_table = load(paths.config_file).data.get("model_providers")
    except CodexprovError:
        providers_table = None
    if isinstance(providers_table, dict):
        ids += [str(pid) for pid in providers_table]
    remember_stored_keys(ids)


@bridge_app.command("logs")
def logs_cmd(
    cli: typer.Context,
    lines: int = typer.Option(50, "--lines", "-n", help="How many lines from the end."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new lines (Ctrl-C stops)."),
) -> None:
    """The bridge's log (secrets masked)."""
    from codexprov.bridge import process

    layout = _layout()
    _know_bridge_keys(context(cli).paths)
    text = process.log_tail(layout, lines)
    if text:
        out(text)
    elif not follow:
        say(f"no log yet ({layout.log_file})")
    if not follow:
        return
    try:
        with open(layout.log_file, "a+b") as handle:
            handle.seek(0, 2)
            while True:
                line = handle.readline()
                if line:
                    out(redact_text(line.decode("utf-8", "replace").rstrip("\n")))
                else:
                    time.sleep(0.3)
    except KeyboardInterrupt:
        return


@bridge_app.command("up")
def up_cmd() -> None:
    """Start the bridge (and wait until it answers)."""
    from codexprov.bridge import manage

    result = manage.up(_layout())
    if result.started:
        say(f"bridge started on http://127.0.0.1:{result.port}/v1 (pid {result.pid}, ready in {result.seconds:.1f} s)")
    else:
        say(f"bridge already running on http://127.0.0.1:{result.port}/v1")


@bridge_app.command("down")
def down_cmd() -> None:
    """Stop the bridge."""
    from codexprov.bridge import manage

    pid = manage.down(_layout())
    say(f"bridge stopped (pid {pid})" if pid else "bridge was not running")


@bridge_app.command("restart")
def restart_cmd(
    cli: typer.Context,
    new_port: bool = typer.Option(
        False, "--new-port", help="Move it to a newly picked port and update the bridged providers in config.toml."
    ),
) -> None:
    """Restart the bridge with a freshly generated config and the current keys."""
    from codexprov.bridge import manage
    from codexprov.cli.app import render

    layout = _layout()
    result = manage.restart(layout, new_port=new_port)
    say(f"bridge restarted on http://127.0.0.1:{result.port}/v1 (pid {result.pid}, ready in {result.seconds:.1f} s)")
    if new_port:
        render(manage.point_providers_at_bridge(context(cli).paths, layout))


@bridge_app.command("rotate-key")
def rotate_key_cmd() -> None:
    """Make a new master key (Codex's key to the bridge); the old one stops working at once."""
    from codexprov.bridge import manage

    result = manage.rotate_key(_layout())
    if result.restarted is None:
        say("new master key in the keyring; the bridge was not running (it starts with the new key)")
    else:
        up = result.restarted
        say(
            f"new master key in the keyring; bridge restarted with it on http://127.0.0.1:{up.port}/v1 "
            f"(pid {up.pid}, ready in {up.seconds:.1f} s); Codex gets it from `codexprov token` when it next asks"
        )


@bridge_app.command("fallback")
def fallback_cmd(
    provider_id: str = typer.Argument(..., help="A bridged provider."),
    other_id: str | None = typer.Argument(None, help="The bridged provider that serves its requests when it fails."),
    none: bool = typer.Option(False, "--none", help="Remove the provider's fallback."),
) -> None:
    """Send a bridged provider's requests to another bridged provider on 429, 5xx and timeouts."""
    from codexprov.bridge import manage

    if (other_id is None) == (not none):
        raise UsageError(
            "name the fallback (OTHER_ID) or pass --none, not both or neither",
            hint="e.g. `codexprov bridge fallback claude claude-backup`",
        )
    state = manage.set_fallback(_layout(), provider_id, other_id)
    chain = manage.fallback_chain(state, provider_id)
    if other_id is None:
        say(f"{provider_id} has no fallback now")
    else:
        say(f"fallback: {' -> '.join(chain)} (on 429, 5xx and timeouts, the same model name at {other_id})")


@bridge_app.command("standby")
def standby_cmd(stop: bool = typer.Option(False, "--stop", help="Stop the standby LiteLLM.")) -> None:
    """Load LiteLLM ahead of need (no key, no port): the next bridge start takes about a second."""
    from codexprov.bridge import manage, process

    layout = _layout()
    if stop:
        pid = process.stop_standby(layout)
        say(f"standby stopped (pid {pid})" if pid else "no standby was loaded")
        return
    result = manage.standby(layout)
    verb = "loading" if result.started else "already loaded"
    say(
        f"standby LiteLLM {verb} (pid {result.pid}): it holds no key and no port until the bridge next "
        "starts, which then takes about a second; it stays resident (~300 MB) until then"
    )
