"""Masks the bridge's upstream keys in everything LiteLLM answers Codex (issue 24 item 3).

An upstream that repeats its key (an error body "Incorrect API key provided: sk-…", a header, a
model reply quoting it) would otherwise hand it, through LiteLLM, to Codex, which prints it and
keeps it in its rollout file and its state database. So every response body and header the bridge
sends Codex passes through a masker first: each upstream key (and the bridge's master key), as is,
JSON-escaped or percent-encoded, becomes `sk-…abcd`, as codexprov masks keys everywhere else.

How it is loaded: litellm_config.py registers `codexprov_echo_mask.handler` as a LiteLLM callback;
LiteLLM imports this module while it loads its config at start-up (serve.py puts this folder on
the path). On import the module wraps the proxy's ASGI application, below LiteLLM's own
middleware: the masking sees the bytes Codex gets, streamed or not, errors included, whatever the
LiteLLM version's callback hooks look like. A streamed body keeps back only a tail that could be
the start of a key until the next chunk shows it is not.

Runs in LiteLLM's virtualenv: stdlib and LiteLLM only (codexprov is not installed there). The keys
are read from the bridge process's environment, named by the `os.environ/VAR` references in the
config LiteLLM was started with (CONFIG_FILE_PATH).
"""

from __future__ import annotations

import json
import os
import re
from urllib.parse import quote, quote_plus

ELLIPSIS = "…"
MASTER_KEY_VAR = "CODEXPROV_BRIDGE_MASTER_KEY"
_PREFIX = re.compile(r"^(?:sk-(?:ant-|or-|proj-)?|[A-Za-z]{2,6}[-_])")
_MIN_LEN = 8


def mask(secret: str) -> str:
    """`sk-…abcd`, as codexprov.redact.mask shows a key (this process cannot import codexprov)."""
    if len(secret) < 12:
        return ELLIPSIS
    match = _PREFIX.match(secret)
    prefix = match.group(0) if match and len(secret) - match.end() >= 8 else ""
    return f"{prefix}{ELLIPSIS}{secret[-4:]}"


def config_secrets(config_path: str | None, environ: dict[str, str] | os._Environ[str]) -> list[str]:
    """The keys the config makes LiteLLM use: every `os.environ/VAR` it references, and the master key."""
    names = {MASTER_KEY_VAR}
    if config_path:
        try:
            with open(config_path, encoding="utf-8") as handle:
                text = handle.read()
        except OSError:
            text = ""
        names.update(re.findall(r"os\.environ/([A-Za-z_][A-Za-z0-9_]*)", text))
    return [value for name in sorted(names) if len(value := environ.get(name, "").strip()) >= _MIN_LEN]


class Masker:
    """Replaces every form of every secret in bytes."""

    def __init__(self, secrets: list[str]):
        pairs: dict[bytes, bytes] = {}
        for secret in secrets:
            shown = mask(secret).encode("utf-8")
            for form in {secret, json.dumps(secret)[1:-1], quote(secret, safe=""), quote_plus(secret)}:
                pairs[form.encode("utf-8")] = shown
        self.pairs = sorted(pairs.items(), key=lambda item: len(item[0]), reverse=True)

    def __call__(self, data: bytes) -> bytes:
        for form, shown in self.pairs:
            if form in data:
                data = data.replace(form, shown)
        return data

    def unsure_tail(self, data: bytes) -> int:
        """How many bytes at the end of `data` could be the start of a secret (kept back)."""
        keep = 0
        for form, _shown in self.pairs:
            for size in range(min(len(form) - 1, len(data)), keep, -1):
                if data.endswith(form[:size]):
                    keep = size
                    break
        return keep


class EchoMask:
    """ASGI middleware: response headers and bodies masked on their way out."""

    def __init__(self, app, masker: Masker) -> None:
        self.app = app
        self.masker = masker

    async def __call__(self, scope, receive, send) -> None:
        if scope.get("type") != "http" or not self.masker.pairs:
            await self.app(scope, receive, send)
            return
        masker = self.masker
        held: dict = {"start": None, "parts": None, "carry": b""}

        async def masked_send(message) -> None:
            kind = message.get("type")
            if kind == "http.response.start":
                headers = [(name, masker(value)) for name, value in message.get("headers", [])]
                start = {**message, "headers": headers}
                if any(name.lower() == b"content-length" for name, _ in headers):
                    # A body of known length: masked as a whole, its length set after.
                    held["start"], held["parts"] = start, []
                    return
                await send(start)
                return
            if kind == "http.response.body":
                body = message.get("body", b"")
                more = message.get("more_body", False)
                if held["parts"] is not None:
                    held["parts"].append(body)
                    if more:
                        return
                    whole = masker(b"".join(held["parts"]))
                    headers = [
                        (name, str(len(whole)).encode() if name.lower() == b"content-length" else value)
                        for name, value in held["start"]["headers"]
                    ]
                    await send({**held["start"], "headers": headers})
                    await send({"type": "http.response.body", "body": whole, "more_body": False})
                    return
                data = masker(held["carry"] + body)
                keep = masker.unsure_tail(data) if more else 0
                held["carry"] = data[len(data) - keep :] if keep else b""
                await send({"type": "http.response.body", "body": data[: len(data) - keep], "more_body": more})
                return
            await send(message)

        await self.app(scope, receive, masked_send)


def install(app, secrets: list[str]) -> bool:
    """Wrap a Starlette/FastAPI app's middleware stack (built at its first call, before LiteLLM
    loads its config) with EchoMask. Returns whether it was wrapped now."""
    stack = getattr(app, "middleware_stack", None)
    if isinstance(stack, EchoMask):
        return False
    if stack is None:
        stack = app.build_middleware_stack()
    app.middleware_stack = EchoMask(stack, Masker(secrets))
    return True


def _install_into_litellm() -> None:
    try:
        from litellm.proxy import proxy_server  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - imported outside LiteLLM's proxy (tests of Masker)
        return
    install(proxy_server.app, config_secrets(os.environ.get("CONFIG_FILE_PATH"), os.environ))


def _handler():
    """What LiteLLM registers as the callback: a CustomLogger that does nothing itself (the
    masking is the ASGI wrapper installed on import)."""
    try:
        from litellm.integrations.custom_logger import CustomLogger  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - outside LiteLLM
        return None

    class EchoMaskCallback(CustomLogger):
        pass

    return EchoMaskCallback()


_install_into_litellm()
handler = _handler()
