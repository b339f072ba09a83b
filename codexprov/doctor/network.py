"""The doctor's network checks: every provider probed at once, each within one timeout.

Per provider, `GET {base}/models` and an empty `POST {base}/responses` go out together under one
shared deadline, so a provider that never answers costs its timeout once, not once per check.
Then, only when needed and within what is left of that deadline, `POST {base}/chat/completions`
(is this a Chat-Completions-only endpoint?). With `live`, one real streamed Responses request
with a tiny function tool follows (the only probe that spends tokens).

Probes never spend tokens: the POSTs carry `{}`, which every OpenAI-compatible server refuses
before generating anything (no model, no input); a 400/422 proves the route exists, a 404/405
that it does not. Check ids: net.reachable, net.models, net.responses-route, net.live.

This module runs the probes and says what their answers mean; the requests themselves are
`doctor.transport`'s, the live streamed turn is `doctor.live`'s.

httpx is imported inside `check_network`: the rest of codexprov must not pay for it.
"""

from __future__ import annotations

import time
from typing import Any

from codexprov.doctor.findings import Finding, ProviderTarget
from codexprov.doctor.transport import Answer as _Answer
from codexprov.doctor.transport import Transport
from codexprov.doctor.transport import base_root as _root
from codexprov.doctor.transport import import_httpx as _import_httpx
from codexprov.doctor.transport import is_http_url as _is_http_url
from codexprov.doctor.transport import is_loopback as _is_loopback
from codexprov.doctor.transport import join_url as _join
from codexprov.doctor.transport import one_line as _one_line
from codexprov.doctor.transport import shown_url as _shown
from codexprov.doctor.transport import tls_context as _tls_context
from codexprov.model_lists import serves
from codexprov.redact import redact_text
from codexprov.served_models import model_ids

__all__ = ["check_network", "model_ids", "serves"]


def _why_unreachable(answer: _Answer, timeout: float) -> str:
    if answer.error == "timeout":
        return f"no answer within {timeout:g} s"
    if answer.error == "tls":
        return f"TLS error ({answer.detail})"
    return answer.detail or "connection failed"


def check_network(
    targets: list[ProviderTarget],
    *,
    timeout: float = 5.0,
    live: bool = False,
    transport: Any = None,
    codex_version: str | None = None,
) -> list[Finding]:
    """Probe every target concurrently; findings in target order, checks in a fixed order each.
    `codex_version` goes into the --live request's User-Agent, as Codex puts its own."""
    import asyncio
    import dataclasses

    from codexprov.doctor.stream import Prefetch

    if not targets:
        return []
    # The streamed request's shape (a cache lookup, or a Codex run on a miss) is sought in a thread of
    # its own from now, while httpx loads: the request then leaves with the first probes.
    targets = [
        dataclasses.replace(t, stream=Prefetch(t.stream)) if callable(t.stream) and t.model else t for t in targets
    ]
    coro = _check_all(targets, timeout, live, transport, codex_version)
    try:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(coro)
        # Called from inside a running event loop (an async caller): run ours on a thread of its own.
        import concurrent.futures

        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, coro).result()
    finally:
        for t in targets:
            if isinstance(t.stream, Prefetch):
                t.stream.join()  # a capture the probes did not wait for still finishes (and is cached)


async def _check_all(
    targets: list[ProviderTarget], timeout: float, live: bool, transport: Any, codex_version: str | None = None
) -> list[Finding]:
    import asyncio

    httpx = _import_httpx()
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    verify = _tls_context(targets)
    async with httpx.AsyncClient(transport=transport, limits=limits, follow_redirects=False, verify=verify) as client:
        prober = _Prober(client, timeout, codex_version)
        results = await asyncio.gather(*(prober.provider(t, live) for t in targets))
    return [finding for findings in results for finding in findings]


class _Prober(Transport):
    """The probes for one provider, and what their answers mean."""

    async def provider(self, target: ProviderTarget, live: bool) -> list[Finding]:
        import asyncio

        pid = target.id
        root = _root(target.base_url)
        checks = ["net.models", "net.responses-route"] + (["net.live"] if live else [])
        if not _is_http_url(root):
            why = (
                f"not probed: base URL `{_shown(target.base_url)}` is not an http(s) URL (see provider.base-url-scheme)"
            )
            return [Finding("net.reachable", "skip", why, provider=pid)] + [
                Finding(c, "skip", f"{c} skipped: the base URL is not an http(s) URL", provider=pid) for c in checks
            ]
        deadline = time.monotonic() + self.timeout
        models_url, responses_url, chat_url = root + "/models", root + "/responses", root + "/chat/completions"
        streaming = None
        if target.stream is not None and target.model:
            from codexprov.doctor import stream

            streaming = asyncio.ensure_future(stream.send(self.client, target, responses_url, self.timeout))
        if target.bridged:
            return await self.bridged(target, responses_url, streaming)
        models, responses = await asyncio.gather(
            self.request("GET", models_url, target, deadline),
            self.request("POST", responses_url, target, deadline, body={}),
        )
        if models.transient or responses.transient:
            models, responses = await asyncio.gather(
                self.asked_again("GET", models_url, target, deadline, models, None),
                self.asked_again("POST", responses_url, target, deadline, responses, {}),
            )
        answered = [a for a in (models, responses) if a.status is not None]
        if not answered:
            if streaming is not None:
                streaming.cancel()
                checks.append("net.stream")
            return [_unreachable(target, root, models, self.timeout)] + [
                Finding(c, "skip", f"{c} skipped: {pid} is unreachable (net.reachable)", provider=pid) for c in checks
            ]
        fastest = min(a.elapsed for a in answered)
        findings = [Finding("net.reachable", "ok", f"{_shown(root)} answers ({fastest * 1000:.0f} ms)", provider=pid)]

        key_failed = models.status in (401, 403)
        findings.append(_models_finding(target, models_url, models))
        chat = None
        if responses.status in (404, 405) and not responses.method_changed:
            chat = await self.request("POST", chat_url, target, deadline, body={})
        findings.append(_responses_finding(target, responses_url, responses, chat, key_failed))
        conditions = _condition_findings(target, responses_url, models, responses)
        findings += conditions
        if streaming is not None:
            from codexprov.doctor import stream

            findings.append(stream.finding(target, responses_url, await streaming, findings))
        if live:
            blocking = next((f for f in conditions if f.status == "fail"), None)
            if responses.status in (404, 405) and not responses.method_changed:
                findings.append(
                    Finding(
                        "net.live",
                        "skip",
                        "net.live skipped: no /responses route to call (net.responses-route)",
                        provider=pid,
                    )
                )
            elif key_failed or responses.status in (401, 403):
                findings.append(Finding("net.live", "skip", "net.live skipped: the key was refused", provider=pid))
            elif blocking is not None:
                findings.append(Finding("net.live", "skip", f"net.live skipped: see {blocking.check}", provider=pid))
            elif not target.model:
                findings.append(
                    Finding(
                        "net.live", "skip", "net.live skipped: no model is configured for this provider", provider=pid
                    )
                )
            else:
                findings.append(await self.live(target, responses_url))
        return findings

    async def bridged(self, target: ProviderTarget, url: str, streaming: Any) -> list[Finding]:
        """A provider behind codexprov's bridge: LiteLLM lists `*` and answers a body-less probe with
        a 500, so the generic probes would cry wolf; the bridge checks and the streamed request judge it."""
        pid = target.id
        findings = [
            Finding(c, "skip", f"{c} skipped: {pid} goes through codexprov's bridge (see bridge.*)", provider=pid)
            for c in ("net.models", "net.responses-route")
        ]
        if streaming is not None:
            from codexprov.doctor import stream

            findings.append(stream.finding(target, url, await streaming, findings))
        return findings

    async def live(self, target: ProviderTarget, url: str) -> Finding:
        from codexprov.doctor.live import live_turn  # only with --live

        return await live_turn(self, target, url)


def _models_finding(target: ProviderTarget, url: str, answer: _Answer) -> Finding:
    pid, shown = target.id, _shown(url)
    if answer.status is None:
        return Finding("net.models", "warn", f"GET {shown}: {_no_answer(answer)}", provider=pid)
    if answer.status in (401, 403):
        return _key_finding("net.models", target, answer)
    if answer.status in (404, 405):
        return Finding(
            "net.models",
            "skip",
            f"net.models skipped: GET {shown} is not served (HTTP {answer.status}), so the model could not be checked",
            provider=pid,
        )
    if answer.quota:
        return Finding(
            "net.models", "skip", "net.models skipped: the account is out of quota (net.quota)", provider=pid
        )
    if not 200 <= answer.status < 300:
        return Finding(
            "net.models", "warn", f"GET {shown} answered HTTP {answer.status}: {answer.server_text()}", provider=pid
        )
    ids = model_ids(answer.json())
    if ids is None:
        return Finding("net.models", "warn", f"GET {shown} did not return a model list", provider=pid)
    if not target.model:
        return Finding(
            "net.models", "ok", f"lists {_count(len(ids), 'model')}; no model is configured to check", provider=pid
        )
    if not ids:
        return Finding("net.models", "ok", f"lists no models; `{target.model}` could not be checked", provider=pid)
    if serves(target.model, ids):
        return Finding(
            "net.models", "ok", f"serves `{target.model}` ({_count(len(ids), 'model')} listed)", provider=pid
        )
    import difflib

    close = difflib.get_close_matches(target.model, ids, n=3, cutoff=0.5)
    hint = f"; close: {', '.join(close)}" if close else ""
    fix = (
        f"codexprov use {pid} --model {close[0]}"
        if close
        else f"codexprov use {pid} --model MODEL (one listed by GET {shown})"
    )
    if not target.asks_models:
        # Codex never asks this provider for its model list: a server may serve models it does not
        # list (Azure deployment names, gateway aliases). The streamed request (net.stream) decides.
        return Finding(
            "net.models",
            "warn",
            f"`{_one_line(target.model)}` is not among the {_count(len(ids), 'model')} the server lists{hint}; "
            "Codex does not ask for that list, so this matters only if the server does not serve it (net.stream tells)",
            provider=pid,
            fix=fix,
        )
    return Finding(
        "net.models",
        "fail",
        f"`{_one_line(target.model)}` is not among the {_count(len(ids), 'model')} the server lists{hint}",
        provider=pid,
        fix=fix,
    )


def _key_finding(check: str, target: ProviderTarget, answer: _Answer) -> Finding:
    text = answer.server_text()
    said = f" (HTTP {answer.status}: {text})" if text else f" (HTTP {answer.status})"
    if target.has_key:
        message = f"the key is wrong: the server refused it{said}"
        fix = f"codexprov key set {target.id} (or, if it reads an env var, set that variable to the right key)"
    else:
        message = f"the server wants a key and none is sent{said}"
        fix = f"codexprov key set {target.id}"
    return Finding(check, "fail", message, provider=target.id, fix=fix)


def _responses_finding(
    target: ProviderTarget, url: str, answer: _Answer, chat: _Answer | None, key_failed: bool
) -> Finding:
    pid, shown = target.id, _shown(url)
    status = answer.status
    if status is None:
        return Finding("net.responses-route", "warn", f"POST {shown}: {_no_answer(answer)}", provider=pid)
    if answer.method_changed:
        return Finding(
            "net.responses-route",
            "skip",
            "net.responses-route skipped: the POST is redirected as a GET (net.redirect)",
            provider=pid,
        )
    if answer.quota or answer.transient:
        why = "net.quota" if answer.quota else ("net.rate-limit" if status == 429 else "net.upstream")
        return Finding(
            "net.responses-route",
            "skip",
            f"net.responses-route skipped: the server answers HTTP {status}, so whether the route exists is unknown ({why})",
            provider=pid,
        )
    if status in (400, 422) or 200 <= status < 300:
        return Finding(
            "net.responses-route", "ok", f"POST {shown} exists (HTTP {status} to an empty probe)", provider=pid
        )
    if status in (401, 403):
        if key_failed:
            return Finding(
                "net.responses-route",
                "ok",
                f"POST {shown} exists (HTTP {status}: the key problem is reported by net.models)",
                provider=pid,
            )
        return _key_finding("net.responses-route", target, answer)
    if status in (404, 405):
        chat_status = chat.status if chat is not None else None
        if chat_status is not None and (chat_status in (400, 401, 403, 422) or 200 <= chat_status < 300):
            return Finding(
                "net.responses-route",
                "fail",
                f"no POST {shown} (HTTP {status}): this endpoint speaks only Chat Completions, and Codex needs the Responses API; put a bridge in front",
                provider=pid,
                # codexprov's bridge (LiteLLM on 127.0.0.1) in front of the same endpoint.
                fix=f"codexprov add custom --id {pid} --base-url {target.base_url} --bridge --replace",
            )
        return Finding(
            "net.responses-route",
            "fail",
            f"no POST {shown} (HTTP {status}); Codex sends every turn there",
            provider=pid,
            fix=f"set base_url of `{pid}` to the URL under which the server serves /responses (usually ending in /v1)",
        )
    return Finding(
        "net.responses-route",
        "warn",
        f"POST {shown} answered HTTP {status} to an empty probe; cannot tell whether the route exists: {answer.server_text()}",
        provider=pid,
    )


def _no_answer(answer: _Answer) -> str:
    return "no answer in time" if answer.error == "timeout" else (answer.detail or "no answer")


def _count(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {plural or noun + 's'}"


def _unreachable(target: ProviderTarget, root: str, answer: _Answer, timeout: float) -> Finding:
    pid = target.id
    message = f"cannot reach {_shown(root)}: {_why_unreachable(answer, timeout)}"
    fix = None
    detail = answer.detail.lower().replace("_", " ")
    if answer.error == "connect" and _is_loopback(root):
        fix = f"start the local server behind {_shown(root)}, or fix base_url of `{pid}`"
    elif answer.error == "tls" and any(
        w in detail for w in ("wrong version", "record layer", "packet length", "http request")
    ):
        message += "; the server speaks plain HTTP, not HTTPS"
        fix = f'base_url = "{_shown(root).replace("https://", "http://", 1)}"'
    elif answer.error == "tls" and "certificate" in detail:
        message += "; Codex refuses this certificate too"
        fix = "give the server a certificate a trusted CA signed (or add its CA to the system trust store)"
    elif answer.error == "timeout":
        fix = f"if the server is only slow, give it longer: codexprov doctor --timeout {max(10, int(timeout * 3))}"
    return Finding("net.reachable", "fail", message, provider=pid, fix=fix)


def _condition_findings(target: ProviderTarget, url: str, models: _Answer, responses: _Answer) -> list[Finding]:
    """What the answers say beyond "the route exists": quota, rate limits, a failing upstream, redirects."""
    pid, shown = target.id, _shown(url)
    out: list[Finding] = []
    quota = next((a for a in (responses, models) if a.quota), None)
    if quota is not None:
        out.append(
            Finding(
                "net.quota",
                "fail",
                f"the server answers HTTP 429 ({quota.server_text()}): the account is out of quota or credit, which waiting "
                "does not fix; Codex stops at once (`Quota exceeded`)",
                provider=pid,
                fix="add credit or raise the quota at the provider (or switch provider: codexprov use ID)",
            )
        )
    elif responses.status == 429:
        # Still limited after being asked again, as Codex asks again: Codex's retries run out and the
        # turn fails (`exceeded retry limit, last status: 429 Too Many Requests`).
        after = f"; the server says to retry after {responses.retry_after} s" if responses.retry_after else ""
        out.append(
            Finding(
                "net.rate-limit",
                "fail",
                f"POST {shown} is rate-limited (HTTP 429 on {_count(responses.attempts, 'try', 'tries')}{after}): "
                + (
                    "Codex retries a few times, then the turn fails"
                    if target.retries_rate_limit
                    else f"Codex {target.codex_version} ends the turn on the first 429 without asking again"
                )
                + f" ({responses.server_text()})",
                provider=pid,
                fix=(f"wait {responses.retry_after} s and try again" if responses.retry_after else "wait and try again")
                + ", or ask the provider for a higher rate limit",
            )
        )
    elif responses.first_status == 429:
        out.append(
            Finding(
                "net.rate-limit",
                "ok",
                "rate-limited once (HTTP 429), answered when asked again, as Codex retries",
                provider=pid,
            )
        )
    if responses.status is not None and responses.status >= 500:
        out.append(
            Finding(
                "net.upstream",
                "fail",
                f"POST {shown} answered HTTP {responses.status} {_count(responses.attempts, 'time')} ({responses.server_text()}): "
                "the server, or the service behind it, is failing; Codex retries, then stops",
                provider=pid,
                fix="check the server (its log or status page); `codexprov doctor --live` asks Codex itself",
            )
        )
    elif responses.first_status is not None and responses.first_status >= 500:
        out.append(
            Finding(
                "net.upstream",
                "ok",
                f"failed once (HTTP {responses.first_status}), answered when asked again, as Codex retries",
                provider=pid,
            )
        )
    if responses.redirects:
        code, location = responses.redirects[0]
        final = _join(url, responses.redirects[-1][1]).split("?", 1)[0]
        new_base = final[: -len("/responses")] if final.rstrip("/").endswith("/responses") else None
        fix = f'base_url = "{redact_text(new_base)}"' if new_base else None
        if responses.method_changed:
            out.append(
                Finding(
                    "net.redirect",
                    "fail",
                    f"POST {shown} is redirected (HTTP {code} to {_shown(_join(url, location))}); Codex follows a {code} "
                    "as a GET without the request, and the turn fails",
                    provider=pid,
                    fix=fix or "point base_url at the address the server redirects to",
                )
            )
        else:
            out.append(
                Finding(
                    "net.redirect",
                    "ok",
                    f"POST {shown} is redirected (HTTP {code} to {_shown(_join(url, location))}); Codex follows it with the same request",
                    provider=pid,
                    fix=fix,
                )
            )
    return out
