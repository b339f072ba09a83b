"""`codexprov import ocx`: ocx's config.json (the shape opencodex writes) into config.toml: direct
adapters as direct providers, chat/Anthropic/Gemini adapters behind the bridge (LiteLLM's native
route where there is one), `${VAR}` keys as env-mode keys, inline keys into the keyring, one key
of a pool used and the others named. The file's bytes are checked unchanged."""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path

import pytest

from tests.import_sources import write_ocx

INLINE = "sk-ocx-inline-0123456789abcdef"
POOL_A = "sk-ant-pool-a-00001111222233334444"
POOL_B = "sk-ant-pool-b-55556666777788889999"
GEMINI = "AIzaSyOcxGeminiKey000000000000000001"
CHAT = "sk-ocx-chat-aaaabbbbccccdddd"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cells(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


@pytest.fixture
def ocx_file(tmp_path: Path) -> Path:
    return write_ocx(
        tmp_path / ".opencodex" / "config.json",
        {
            "openai": {
                "adapter": "openai-responses",
                "baseUrl": "https://chatgpt.com/backend-api/codex",
                "authMode": "forward",
            },
            "relay": {
                "adapter": "openai-responses",
                "baseUrl": "https://relay.test/v1",
                "apiKey": INLINE,
                "defaultModel": "gpt-5.6-sol",
            },
            "azure": {
                "adapter": "azure-openai",
                "baseUrl": "https://acme.openai.azure.com/openai/v1",
                "apiKey": "${AZURE_OPENAI_API_KEY}",
            },
            "claude": {
                "adapter": "anthropic",
                "baseUrl": "https://api.anthropic.com",
                "apiKey": POOL_A,
                "apiKeyPool": [
                    {"id": "k1", "key": POOL_A, "label": "work", "addedAt": 1},
                    {"id": "k2", "key": POOL_B, "label": "personal", "addedAt": 2},
                ],
                "defaultModel": "claude-sonnet-4-5",
            },
            "gemini": {"adapter": "google", "baseUrl": "https://generativelanguage.googleapis.com", "apiKey": GEMINI},
            "groq-chat": {"adapter": "openai-chat", "baseUrl": "https://api.groq.test/openai/v1", "apiKey": CHAT},
            "off": {
                "adapter": "openai-chat",
                "baseUrl": "https://off.test/v1",
                "apiKey": "sk-off-000000000000",
                "disabled": True,
            },
            "cursor": {"adapter": "cursor", "baseUrl": "https://cursor.test", "apiKey": "sk-cursor-0000000000"},
            "ollama": {"adapter": "openai-chat", "baseUrl": "http://127.0.0.1:11434/v1", "authMode": "local"},
        },
        default="relay",
    )


def test_plan_maps_each_adapter(run_cli, ocx_file, codex_home, memory_keyring):
    before = digest(ocx_file)
    result = run_cli("import", "ocx", "--from", str(ocx_file), "--dry-run")
    assert result.exit_code == 0, result.stderr
    rows = [cells(line) for line in result.stdout.splitlines()[:10]]
    assert rows == [
        ["OCX", "ID", "ROUTE", "KEY", "STATUS"],
        [
            "openai",
            "-",
            "-",
            "-",
            "skip: it signs in through ocx (authMode forward), which only ocx can do: no key to import",
        ],
        ["relay (current)", "relay", "direct", "keyring sk-…cdef", "new"],
        ["azure", "azure", "direct", "env $AZURE_OPENAI_API_KEY", "new"],
        ["claude", "claude", "bridge (anthropic)", "keyring sk-ant-…4444", "new"],
        ["gemini", "gemini", "bridge (gemini)", "keyring …0001", "new"],
        ["groq-chat", "groq-chat", "bridge (custom_openai)", "keyring sk-…dddd", "new"],
        ["off", "-", "-", "-", "skip: it is disabled in ocx"],
        [
            "cursor",
            "-",
            "-",
            "-",
            "skip: its adapter `cursor` has no equivalent in codexprov (known: openai-responses, azure-openai, "
            "openai-chat, anthropic, google)",
        ],
        ["ollama", "ollama-custom", "bridge (custom_openai)", "none", "new"],
    ]
    assert (
        "claude: its key pool holds 1 more key (personal), not imported: codexprov keeps one key per provider "
        "(add another provider for another key)"
    ) in result.stderr
    for secret in (INLINE, POOL_A, POOL_B, GEMINI, CHAT):
        assert secret not in result.stdout + result.stderr
    assert not (codex_home / "config.toml").exists()
    assert digest(ocx_file) == before


def test_import_writes_routes_and_keys(run_cli, ocx_file, codex_home, memory_keyring):
    before = digest(ocx_file)
    result = run_cli("import", "ocx", "--from", str(ocx_file), "--yes", "--use")
    assert result.exit_code == 0, result.stderr
    data = tomllib.loads((codex_home / "config.toml").read_text(encoding="utf-8"))
    tables = data["model_providers"]
    assert list(tables) == ["relay", "azure", "claude", "gemini", "groq-chat", "ollama-custom"]
    assert data["model_provider"] == "relay" and data["model"] == "gpt-5.6-sol"
    assert tables["azure"]["env_key"] == "AZURE_OPENAI_API_KEY" and "auth" not in tables["azure"]
    assert tables["relay"]["auth"]["args"] == ["token", "relay"]
    assert tables["claude"]["http_headers"] == {"x-litellm-tags": "claude"}
    assert tables["ollama-custom"]["auth"]["args"] == ["token", "ollama-custom"]
    keys = {u: memory_keyring.get_password("codexprov", u) for u in ("relay", "claude", "gemini", "groq-chat")}
    assert keys == {"relay": INLINE, "claude": POOL_A, "gemini": GEMINI, "groq-chat": CHAT}
    import json

    state = json.loads((Path.home() / ".local" / "share" / "codexprov" / "bridge" / "state.json").read_text())
    upstreams = {u["provider_id"]: u for u in state["upstreams"]}
    assert upstreams["claude"]["litellm_prefix"] == "anthropic" and upstreams["claude"]["api_base"] is None
    assert upstreams["gemini"]["litellm_prefix"] == "gemini" and upstreams["gemini"]["api_base"] is None
    assert upstreams["groq-chat"]["litellm_prefix"] == "custom_openai"
    assert upstreams["groq-chat"]["api_base"] == "https://api.groq.test/openai/v1"
    again = run_cli("import", "ocx", "--from", str(ocx_file), "--yes", "--use")
    assert again.exit_code == 0 and "nothing to import" in again.stderr
    assert digest(ocx_file) == before


def test_env_key_for_a_bridged_provider_is_read_into_the_keyring(
    run_cli, tmp_path, codex_home, memory_keyring, monkeypatch
):
    path = write_ocx(
        tmp_path / "config.json",
        {"claude": {"adapter": "anthropic", "baseUrl": "https://api.anthropic.com/v1", "apiKey": "${MY_ANTHROPIC}"}},
    )
    monkeypatch.setenv("MY_ANTHROPIC", "sk-ant-from-env-000011112222")
    result = run_cli("import", "ocx", "--from", str(path), "--yes")
    assert result.exit_code == 0, result.stderr
    assert "claude: the key was read from $MY_ANTHROPIC into the keyring (the bridge reads keys there)" in result.stderr
    assert memory_keyring.get_password("codexprov", "claude") == "sk-ant-from-env-000011112222"


@pytest.mark.parametrize(
    ("content", "code", "message"),
    [
        (None, 4, "error: no ocx config at {p}"),
        ("{not json", 3, "error: {p}:1:2: not JSON: Expecting property name enclosed in double quotes"),
        ("[1, 2]", 3, "error: {p}: the top level is not a JSON object: not an ocx config.json"),
        ('{"port": 10100}', 3, "error: {p}: no `providers` object: not an ocx config.json"),
        ('{"providers": {}}', 4, "error: {p}: ocx has no providers configured"),
    ],
    ids=["missing", "not-json", "not-object", "no-providers", "empty"],
)
def test_bad_ocx_files(run_cli, tmp_path, codex_home, memory_keyring, content, code, message):
    path = tmp_path / "config.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = run_cli("import", "ocx", "--from", str(path), "--yes")
    assert result.exit_code == code, result.stderr
    assert result.stderr.startswith(message.format(p=path)), result.stderr
    assert not (codex_home / "config.toml").exists()


def test_default_path_follows_opencodex_home(run_cli, tmp_path, codex_home, memory_keyring, monkeypatch):
    write_ocx(
        tmp_path / "ocxhome" / "config.json",
        {"r": {"adapter": "openai-responses", "baseUrl": "https://r.test/v1", "apiKey": INLINE}},
    )
    monkeypatch.setenv("OPENCODEX_HOME", str(tmp_path / "ocxhome"))
    assert run_cli("import", "ocx", "--dry-run").exit_code == 0
    monkeypatch.delenv("OPENCODEX_HOME")
    missing = run_cli("import", "ocx", "--dry-run")
    assert missing.exit_code == 4
    assert missing.stderr.startswith(f"error: no ocx config at {Path.home() / '.opencodex' / 'config.json'}")
