"""Fallbacks through the bridge with the real parts: a provider whose upstream answers 429 has its
Codex turn served by its fallback (`add … --fallback OTHER_ID`), through the real LiteLLM, the real
Codex and the keys in the real Secret Service. A bridge folder of its own."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.codexrun import run_codex
from tests.fake_server import _error, _json

pytestmark = [pytest.mark.codex, pytest.mark.keyring]


def _rate_limited(request, n, server):
    if request.method == "POST" and request.path.endswith("/chat/completions"):
        return _json(429, _error("Rate limit reached for requests", type_="rate_limit_error", code="rate_limit"))
    return None


def test_fallback_serves_the_turn_when_the_first_upstream_answers_429(own, codex_bin, make_fake_server):
    tag = uuid.uuid4().hex[:6]
    first_id, backup_id = f"first-{tag}", f"backup-{tag}"
    first_key, backup_key = f"sk-first-{uuid.uuid4().hex}", f"sk-backup-{uuid.uuid4().hex}"
    first = make_fake_server(responses_route=False, expected_key=first_key, answer=_rate_limited)
    backup = make_fake_server(responses_route=False, expected_key=backup_key, reply_text="served by the fallback")
    own.add(backup_id, backup.base_url, backup_key)
    added = own.codexprov(
        "add",
        "custom",
        "--id",
        first_id,
        "--base-url",
        first.base_url,
        "--bridge",
        "--key-stdin",
        "--fallback",
        backup_id,
        input=first_key + "\n",
    )
    assert added.returncode == 0, added.stderr
    own.ids.append(first_id)
    assert f"fallback: {first_id} -> {backup_id} (on 429, 5xx and timeouts)" in added.stderr
    state = json.loads((own.bridge_dir / "state.json").read_text())
    assert next(u for u in state["upstreams"] if u["provider_id"] == first_id)["fallback"] == backup_id

    status = own.codexprov("bridge", "status")
    assert status.returncode == 0, status.stderr
    assert f"fallbacks (on 429, 5xx, timeouts):\n  {first_id} -> {backup_id}\n" in status.stdout

    proc = run_codex(
        codex_bin,
        own.home / ".codex",
        args=["-c", f"model_provider={first_id}", "-c", 'model="fake-model"'],
        env_extra=own.codex_extra(),
        timeout=180,
    )

    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "served by the fallback" in proc.stdout
    tried = first.requests_to("/chat/completions", "POST")
    served = backup.requests_to("/chat/completions", "POST")
    assert tried and served
    assert tried[0].headers["authorization"] == f"Bearer {first_key}"
    assert served[0].headers["authorization"] == f"Bearer {backup_key}"
    assert served[0].body["model"] == "fake-model"  # the same model name, at the fallback's upstream

    cleared = own.codexprov("bridge", "fallback", first_id, "--none")
    assert cleared.returncode == 0, cleared.stderr
    assert cleared.stderr == f"{first_id} has no fallback now\n"
    assert "fallbacks" not in own.codexprov("bridge", "status").stdout
