"""`codexprov export ID … --to DIR`: recipe files that `CODEXPROV_RECIPES_PATH=DIR codexprov add ID`
turns back into the same provider table in a fresh home, with the key by reference only."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

KEY = "sk-export-keyring-0123456789abcdef"
PLAIN = "sk-export-plain-fedcba9876543210"


def tables(codex_home: Path) -> dict:
    return tomllib.loads((codex_home / "config.toml").read_text(encoding="utf-8"))["model_providers"]


def fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folder: Path) -> Path:
    home = tmp_path / "fresh"
    (home / ".codex").mkdir(parents=True)
    for var, sub in (
        ("HOME", ""),
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_STATE_HOME", ".local/state"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_CACHE_HOME", ".cache"),
    ):
        monkeypatch.setenv(var, str(home / sub) if sub else str(home))
    monkeypatch.setenv("CODEX_HOME", str(home / ".codex"))
    monkeypatch.setenv("CODEXPROV_RECIPES_PATH", str(folder))
    return home / ".codex"


def test_export_round_trips_every_key_mode(run_cli, tmp_path, codex_home, memory_keyring, monkeypatch):
    adds = [
        ["add", "custom", "--id", "kr", "--base-url", "https://kr.test/v1", "--key-stdin", "--header", "X-Org=acme"],
        [
            "add",
            "custom",
            "--id",
            "ev",
            "--base-url",
            "https://ev.test/v1",
            "--key-mode",
            "env",
            "--env-key",
            "EV_TOKEN",
        ],
        ["add", "custom", "--id", "local", "--base-url", "http://127.0.0.1:8000/v1", "--key-mode", "none"],
    ]
    for argv in adds:
        result = run_cli(*argv, input=KEY + "\n")
        assert result.exit_code == 0, result.stderr
    with (codex_home / "config.toml").open("a", encoding="utf-8") as handle:
        handle.write(
            '\n[model_providers.cmd]\nname = "Cmd"\nbase_url = "https://cmd.test/v1"\nwire_api = "responses"\n'
            'request_max_retries = 2\nquery_params = { api-version = "2025-04-01-preview" }\n\n'
            '[model_providers.cmd.auth]\ncommand = "/usr/bin/printf"\nargs = ["tok"]\ntimeout_ms = 3000\n'
        )
    before = tables(codex_home)
    out = tmp_path / "shared"
    result = run_cli("export", "kr", "ev", "local", "cmd", "--to", str(out))
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["cmd.toml", "ev.toml", "kr.toml", "local.toml"]
    assert f"wrote {out / 'kr.toml'} (key: ask for a key)" in result.stderr
    assert f"wrote {out / 'ev.toml'} (key: env $EV_TOKEN)" in result.stderr
    assert f"wrote {out / 'local.toml'} (key: none)" in result.stderr
    assert f"wrote {out / 'cmd.toml'} (key: command: /usr/bin/printf tok)" in result.stderr
    for path in out.iterdir():
        assert KEY not in path.read_text(encoding="utf-8")
    again = run_cli("export", "kr", "--to", str(out))
    assert f"unchanged {out / 'kr.toml'}" in again.stderr

    new_home = fresh_home(tmp_path, monkeypatch, out)
    for pid in ("kr", "ev", "local", "cmd"):
        result = run_cli("add", pid, "--key-stdin", input=KEY + "\n")
        assert result.exit_code == 0, (pid, result.stderr)
    after = tables(new_home)
    assert after == before
    assert memory_keyring.get_password("codexprov", "kr") == KEY


def test_a_plain_text_key_is_left_out_and_said(run_cli, tmp_path, codex_home, memory_keyring):
    (codex_home / "config.toml").write_text(
        '[model_providers.pt]\nname = "PT"\nbase_url = "https://pt.test/v1"\nwire_api = "responses"\n'
        f'experimental_bearer_token = "{PLAIN}"\n',
        encoding="utf-8",
    )
    out = tmp_path / "shared"
    result = run_cli("export", "pt", "--to", str(out))
    assert result.exit_code == 0, result.stderr
    assert (
        "warning: pt: its plain-text key (experimental_bearer_token) is not exported: the recipe asks for a key"
        in result.stderr
    )
    text = (out / "pt.toml").read_text(encoding="utf-8")
    assert PLAIN not in text + result.stdout + result.stderr
    assert 'env_key = "PT_API_KEY"' in text


def test_bridged_provider_exports_its_upstream(run_cli, tmp_path, codex_home, memory_keyring, monkeypatch):
    added = run_cli(
        "add",
        "custom",
        "--id",
        "box",
        "--base-url",
        "http://10.0.0.5:8080/v1",
        "--bridge",
        "--key-stdin",
        input=KEY + "\n",
    )
    assert added.exit_code == 0, added.stderr
    out = tmp_path / "shared"
    result = run_cli("export", "box", "--to", str(out))
    assert result.exit_code == 0, result.stderr
    recipe = tomllib.loads((out / "box.toml").read_text(encoding="utf-8"))
    assert recipe["base_url"] == "http://10.0.0.5:8080/v1"
    assert recipe["responses"] == "no"
    assert recipe["bridge"] == {"model": "custom_openai/{model}", "env_key": "BOX_API_KEY"}
    assert "127.0.0.1" not in (out / "box.toml").read_text(encoding="utf-8")
    new_home = fresh_home(tmp_path, monkeypatch, out)
    assert run_cli("add", "box", "--key-stdin", input=KEY + "\n").exit_code == 0
    table = tables(new_home)["box"]
    assert table["http_headers"] == {"x-litellm-tags": "box"} and table["base_url"].startswith("http://127.0.0.1:")
    state = json.loads((new_home.parent / ".local" / "share" / "codexprov" / "bridge" / "state.json").read_text())
    assert state["upstreams"] == [
        {
            "provider_id": "box",
            "litellm_prefix": "custom_openai",
            "api_base": "http://10.0.0.5:8080/v1",
            "key_var": "BOX_API_KEY",
        }
    ]


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["export", "nope", "--to", "{d}"], 4, "error: no provider `nope` in"),
        (["export", "openai", "--to", "{d}"], 2, "error: `openai` is Codex's built-in provider"),
        (["export", "kr", "--to", "{f}"], 2, "error: --to {f} is not a folder"),
    ],
    ids=["unknown", "builtin", "to-a-file"],
)
def test_export_errors(run_cli, tmp_path, codex_home, memory_keyring, argv, code, message):
    assert (
        run_cli("add", "custom", "--id", "kr", "--base-url", "https://kr.test/v1", "--key-mode", "none").exit_code == 0
    )
    (tmp_path / "afile").write_text("x")
    fill = {"d": str(tmp_path / "out"), "f": str(tmp_path / "afile")}
    result = run_cli(*[a.format(**fill) for a in argv])
    assert result.exit_code == code, result.stderr
    assert result.stderr.startswith(message.format(**fill)), result.stderr
    assert not (tmp_path / "out").exists()


def test_dry_run_prints_the_recipes_and_writes_nothing(run_cli, tmp_path, codex_home, memory_keyring):
    assert (
        run_cli("add", "custom", "--id", "ev", "--base-url", "https://ev.test/v1", "--key-mode", "env").exit_code == 0
    )
    out = tmp_path / "shared"
    result = run_cli("export", "ev", "--to", str(out), "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f'# {out / "ev.toml"}\nformat = 1\nname = "ev"\n')
    assert 'key_mode = "env"\n' in result.stdout and 'env_key = "EV_API_KEY"\n' in result.stdout
    assert result.stderr == "dry run: nothing was written\n"
    assert not out.exists()
