"""`codexprov models ID`: the provider's own /models, asked with the key Codex would send, against a
real HTTP server on 127.0.0.1; the warnings of `use --model` (from the remembered list, no network)
and `add --use --model` (asked live)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codexprov import paths as paths_mod
from codexprov import picker

KEY = "sk-models-test-0123456789abcdef"


def table(pid: str, base_url: str, extra: str = "") -> str:
    return f'[model_providers.{pid}]\nname = "{pid}"\nbase_url = "{base_url}"\n{extra}'


def test_models_lists_what_the_provider_serves(
    run_cli, config_file: Path, make_fake_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = make_fake_server(models=("m-one", "m-two"), expected_key=KEY)
    config_file.write_text(
        table(
            "acme",
            server.base_url,
            'env_key = "ACME_KEY"\nquery_params = { api-version = "7" }\nhttp_headers = { X-Org = "o1" }\n',
        )
    )
    monkeypatch.setenv("ACME_KEY", KEY)
    result = run_cli("models", "acme")
    assert (result.exit_code, result.stdout) == (0, "m-one\nm-two\n")
    assert result.stderr == (
        f"2 models from GET {server.base_url}/models?api-version=7 (key: $ACME_KEY)\n"
        "`codexprov use acme` puts these models in Codex's model picker\n"
    )
    [request] = server.requests_to("/models", "GET")
    assert request.query == {"api-version": "7"}
    assert request.headers["authorization"] == f"Bearer {KEY}" and request.headers["x-org"] == "o1"
    as_json = run_cli("models", "acme", "--json")
    data = json.loads(as_json.stdout)
    assert {k: v for k, v in data.items() if k != "fetched"} == {
        "provider": "acme",
        "url": f"{server.base_url}/models?api-version=7",
        "models": ["m-one", "m-two"],
        "key_from": "$ACME_KEY",
        "picker": {
            "models": ["m-one", "m-two"],
            "active": False,
            "shown_now": False,
            "catalog": str(picker.catalog_file(paths_mod.resolve(), "acme")),
        },
    }


def test_models_key_from_an_auth_command(run_cli, config_file: Path, make_fake_server) -> None:
    server = make_fake_server(models=("m-cmd",), expected_key=KEY)
    config_file.write_text(
        table("cmd", server.base_url) + f'\n[model_providers.cmd.auth]\ncommand = "sh"\nargs = ["-c", "echo {KEY}"]\n'
    )
    result = run_cli("models", "cmd")
    assert (result.exit_code, result.stdout) == (0, "m-cmd\n")
    assert (
        result.stderr == f"1 models from GET {server.base_url}/models (key: the auth command `sh -c echo sk-…cdef`)\n"
        "`codexprov use cmd` puts these models in Codex's model picker\n"
    )


def test_models_errors_say_why(run_cli, config_file: Path, make_fake_server, monkeypatch: pytest.MonkeyPatch) -> None:
    server = make_fake_server(expected_key=KEY)
    config_file.write_text(
        table("acme", server.base_url, 'env_key = "ACME_KEY"\n') + "\n" + table("down", "http://127.0.0.1:9/v1")
    )
    unset = run_cli("models", "acme")
    assert (unset.exit_code, unset.stdout) == (1, "")
    assert unset.stderr == (
        "error: $ACME_KEY is not set here, so there is no key to ask acme with (Codex would fail the same way)\n"
        "hint: Set ACME_KEY, or run through `codexprov run -- codexprov models acme`.\n"
    )
    monkeypatch.setenv("ACME_KEY", "sk-wrong-key-000000000000")
    refused = run_cli("models", "acme")
    assert refused.exit_code == 1
    assert refused.stderr.splitlines() == [
        f"error: GET {server.base_url}/models: HTTP 401: acme refused the key from $ACME_KEY",
        "hint: Store the right key (`codexprov key set acme`), or check the env var.",
    ]
    down = run_cli("models", "down")
    assert down.exit_code == 1 and down.stderr.startswith("error: GET http://127.0.0.1:9/v1/models: ")
    missing = run_cli("models", "nope")
    assert missing.exit_code == 4


def test_use_model_warns_from_the_remembered_list(run_cli, config_file: Path, make_fake_server) -> None:
    server = make_fake_server(models=("m-one", "m-two"))
    config_file.write_text(table("acme", server.base_url))
    quiet = run_cli("use", "acme", "--model", "m-nine")
    assert quiet.exit_code == 0 and "warning" not in quiet.stderr  # nothing fetched yet: nothing to say
    assert run_cli("models", "acme").exit_code == 0
    served = server.requests_to("/models", "GET")
    assert len(served) == 1
    known = run_cli("use", "acme", "--model", "m-two")
    assert known.exit_code == 0 and "warning" not in known.stderr
    unknown = run_cli("use", "acme", "--model", "m-nine")
    assert unknown.exit_code == 0
    assert unknown.stderr.splitlines()[1] == (
        "warning: acme does not list `m-nine` among its 2 models "
        f"(listed {today()}: m-one, m-two); Codex will send it anyway. `codexprov models acme` shows them all"
    )
    assert len(server.requests_to("/models", "GET")) == 1  # use asked nobody


def test_use_without_model_warns_when_the_kept_model_is_not_listed(
    run_cli, config_file: Path, make_fake_server
) -> None:
    """`use ID` keeps the config's `model`, which now goes to ID: said when ID's list lacks it."""
    server = make_fake_server(models=("m-one", "m-two"))
    config_file.write_text('model = "gpt-5-codex"\n' + table("acme", server.base_url))
    assert run_cli("models", "acme").exit_code == 0
    kept = run_cli("use", "acme")
    assert kept.exit_code == 0
    assert kept.stderr.splitlines()[1] == (
        "warning: acme does not list `gpt-5-codex` among its 2 models "
        f"(listed {today()}: m-one, m-two); Codex will send it anyway. `codexprov models acme` shows them all; "
        "`codexprov use acme --model MODEL` picks one"
    )
    assert run_cli("use", "acme", "--model", "m-one").exit_code == 0
    listed = run_cli("use", "acme")
    assert listed.exit_code == 0 and "warning" not in listed.stderr
    assert len(server.requests_to("/models", "GET")) == 1  # use asked nobody


def today() -> str:
    import time

    return time.strftime("%Y-%m-%d")


def test_add_use_model_asks_the_provider(run_cli, config_file: Path, make_fake_server) -> None:
    server = make_fake_server(models=("m-one",))
    add = ["add", "custom", "--id", "acme", "--base-url", server.base_url, "--key-mode", "none", "--use"]
    result = run_cli(*add, "--model", "m-typo")
    assert result.exit_code == 0
    assert result.stderr.splitlines()[-1].startswith("warning: acme does not list `m-typo` among its 1 models (listed ")
    again = run_cli("remove", "--force", "acme")
    assert again.exit_code == 0
    fine = run_cli(*add, "--model", "m-one")
    assert fine.exit_code == 0 and "does not list" not in fine.stderr
