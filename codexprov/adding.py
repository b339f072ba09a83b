"""`codexprov add RECIPE`: from a recipe, options and a key mode to the provider table written."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from codexprov import providers
from codexprov.codex.builtins import BUILTIN_PROVIDERS
from codexprov.config.transaction import EditResult
from codexprov.errors import UsageError
from codexprov.model import AuthCommand, ProviderSpec
from codexprov.paths import Paths
from codexprov.result import Note, Outcome, info, next_step, warning

KEY_MODES = ("keyring", "env", "none")


@dataclass(frozen=True)
class AddRequest:
    recipe: str
    provider_id: str | None = None
    base_url: str | None = None
    name: str | None = None
    model: str | None = None
    key_mode: str | None = None  # None: keyring when the recipe needs a key, else none
    env_key: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    use: bool = False
    replace: bool = False
    dry_run: bool = False
    allow_plaintext: bool = False  # write keys given in headers, query or URL as they are (warned)


@dataclass(frozen=True)
class AddPlan:
    provider_id: str
    recipe_id: str
    spec: ProviderSpec | None  # a custom provider table; None when configuring a built-in
    builtin_id: str | None
    builtin_table: dict[str, Any] | None
    model: str | None
    key_mode: str
    warnings: tuple[str, ...]
    capabilities: Any = None  # codex.capabilities.Capabilities of the Codex planned for; None: the newest known
    # A key given in a header that now goes into the keyring instead of the file (keyring mode).
    moved_key: str | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class PreparedAdd:
    """Everything `add` will do, checked and previewed, before any key is read or file written."""

    request: AddRequest
    plan: AddPlan
    preview: EditResult  # the dry run of the config edit (its diff is what the user confirms)
    kept: tuple[str, ...]  # the user's own fields a replace leaves in the table

    @property
    def kept_note(self) -> Note | None:
        if not self.kept:
            return None
        return info(f"kept fields of yours the recipe does not set: {', '.join(self.kept)}")

    @property
    def needs_key(self) -> bool:
        """Whether the key should be asked for (keyring mode; nothing is stored on a dry run)."""
        return self.plan.key_mode == "keyring" and not self.request.dry_run


def parse_pairs(values: list[str] | None, option: str) -> dict[str, str]:
    """`K=V` options (--header, --query, --param) into a dict; a malformed one is a usage error."""
    pairs: dict[str, str] = {}
    for value in values or []:
        key, sep, val = value.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{option} expects KEY=VALUE, got `{value}`", hint=f"Example: {option} api-version=2025-04-01-preview")
        pairs[key.strip()] = val
    return pairs


def default_env_key(provider_id: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", provider_id.upper()).strip("_") + "_API_KEY"


def plan_add(
    recipe,
    request: AddRequest,
    *,
    token_auth: Callable[[str], AuthCommand] | None = None,
    capabilities=None,
    codex_label: str = "this Codex",
) -> AddPlan:
    """Render the recipe for this request and apply the key mode. `token_auth` is the keyring
    auth command factory (credentials.token_auth), called only for key mode keyring.
    `capabilities` (codex.capabilities.Capabilities) says what the installed Codex reads (None: the
    newest known)."""
    from codexprov import recipes as recipes_mod

    provider_id = request.provider_id or recipe.id
    if request.key_mode is not None and request.key_mode not in KEY_MODES:
        raise UsageError(f"unknown key mode `{request.key_mode}`", hint=f"Use one of: {', '.join(KEY_MODES)}.")
    rendered = recipes_mod.render(
        recipe,
        provider_id=provider_id,
        params=request.params,
        base_url=request.base_url,
        model=request.model,
        # "Custom provider" for every custom endpoint would make `list` useless: name it by its id.
        name=request.name or (provider_id if recipe.id == "custom" else None),
        env_key=request.env_key,
        headers=request.headers,
        query=request.query,
        capabilities=capabilities,
    )
    warnings = list(rendered.warnings)
    if rendered.spec is None:
        if request.key_mode == "keyring":
            warnings.append(f"the built-in `{rendered.builtin_id}` provider gets its credentials from Codex itself; --key-mode keyring was ignored")
        return AddPlan(provider_id, recipe.id, None, rendered.builtin_id, rendered.builtin_table, rendered.model, "none", tuple(warnings), capabilities)
    needs_key = bool(getattr(recipe, "needs_key", True))
    key_mode = request.key_mode or ("keyring" if needs_key else "none")
    spec = rendered.spec
    spec, moved_key, plaintext_warnings = _keep_keys_out_of_the_file(spec, request, recipe.id, key_mode, provider_id)
    warnings += plaintext_warnings
    if key_mode == "keyring":
        if capabilities is not None and not capabilities.auth_command:
            raise UsageError(
                f"{codex_label} cannot fetch keys with an auth command (Codex 0.118.0 and newer can), so it cannot read the keyring",
                hint="Upgrade Codex, or pass --key-mode env to keep the key in an environment variable.",
            )
        if token_auth is None:
            raise ValueError("key mode keyring needs the token auth command")
        spec = dataclasses.replace(spec, env_key=None, env_key_instructions=None, auth=token_auth(provider_id))
    elif key_mode == "env":
        spec = dataclasses.replace(spec, env_key=request.env_key or spec.env_key or default_env_key(provider_id), auth=None)
    else:
        # No key from codexprov; a recipe's own auth command (vertex: gcloud) stays.
        spec = dataclasses.replace(spec, env_key=None, env_key_instructions=None)
    return AddPlan(provider_id, recipe.id, spec, None, None, rendered.model, key_mode, tuple(warnings), capabilities, moved_key)


# Headers whose key Codex can send from the keyring (auth command: `Authorization: Bearer …`; Azure
# and most gateways that take `api-key`/`x-api-key` accept the Bearer form too, as key migrate says).
_BEARER_HEADERS = ("authorization",)
_KEY_HEADERS = ("api-key", "x-api-key")


def plaintext_secrets(spec: ProviderSpec) -> list[tuple[str, str]]:
    """(where, secret) for every key a provider table would hold in plain text: secret-named
    headers and query parameters, URL userinfo and secret query parameters in the base URL."""
    from urllib.parse import parse_qsl, urlsplit

    from codexprov.redact import is_secret_name

    found: list[tuple[str, str]] = []
    for name, value in spec.http_headers.items():
        scheme, _, rest = str(value).strip().partition(" ")
        secret = rest.strip() if rest and scheme.lower() in ("bearer", "basic", "token") else str(value).strip()
        if is_secret_name(name) and secret and not re.fullmatch(r"[A-Z_][A-Z0-9_]*|\$.*|\{.*\}", secret):
            found.append((f"http_headers.{name}", secret))
    for name, value in spec.query_params.items():
        if is_secret_name(name) and str(value).strip():
            found.append((f"query_params.{name}", str(value).strip()))
    if spec.base_url:
        parts = urlsplit(spec.base_url)
        if parts.password or (parts.username and "@" in parts.netloc):
            found.append(("base_url (user:password@)", parts.password or parts.username or ""))
        for name, value in parse_qsl(parts.query, keep_blank_values=False):
            if is_secret_name(name):
                found.append((f"base_url ?{name}=", value))
    return found


def _keep_keys_out_of_the_file(
    spec: ProviderSpec, request: AddRequest, recipe_id: str, key_mode: str, provider_id: str
) -> tuple[ProviderSpec, str | None, list[str]]:
    """No new plain-text key in config.toml: a key header in keyring mode moves into the keyring
    (Codex sends it as `Authorization: Bearer` through `codexprov token`); any other key is refused
    with the way to do it right, unless --allow-plaintext (then written, with a warning)."""
    found = plaintext_secrets(spec)
    if not found:
        return spec, None, []
    where = ", ".join(w for w, _s in found)
    if request.allow_plaintext:
        return (
            spec,
            None,
            [
                f"--allow-plaintext: writing a key in plain text into the config ({where}); anyone who can read the "
                "file or its backups can use it. `codexprov key migrate` moves header keys into the keyring later."
            ],
        )
    movable = [(w, s) for w, s in found if w.split(".", 1)[-1].lower() in _BEARER_HEADERS + _KEY_HEADERS and w.startswith("http_headers.")]
    from_options = {**request.headers, **request.query}
    in_url = bool(request.base_url) and any(w.startswith("base_url") for w, _s in found)
    given = in_url or any(w.split(".", 1)[-1] in from_options for w, _s in found)
    origin = "given on the command line" if given else f"set by recipe `{recipe_id}`"
    if key_mode == "keyring" and len(movable) == len(found) and len({s for _w, s in movable}) == 1:
        headers = {k: v for k, v in spec.http_headers.items() if f"http_headers.{k}" not in {w for w, _s in movable}}
        names = ", ".join(w.split(".", 1)[1] for w, _s in movable)
        note = (
            f"the key in the {names} header goes into the OS keyring instead of the config; Codex sends it as "
            f"`Authorization: Bearer …` through `codexprov token {provider_id}`"
        )
        return dataclasses.replace(spec, http_headers=headers), movable[0][1], [note]
    if key_mode == "keyring":
        hint = (
            f"Leave the key out of the command: `codexprov add {recipe_id} …` stores it in the OS keyring (typed at the "
            "prompt or with --key-stdin) and Codex sends it as `Authorization: Bearer`. Codex cannot take a query "
            "parameter or URL password from the keyring; if the server needs one, pass --allow-plaintext."
        )
    else:
        hint = (
            f"Drop --key-mode {key_mode} and the key from the command: keyring mode stores it in the OS keyring and "
            "Codex sends it as `Authorization: Bearer`. Or pass --allow-plaintext to write it anyway."
        )
    raise UsageError(f"refusing to write a key in plain text into the config ({where}, {origin}); nothing was written", hint=hint)


def prepare_add(
    paths: Paths,
    recipe,
    request: AddRequest,
    *,
    token_auth: Callable[[str], AuthCommand] | None = None,
    capabilities=None,
    codex_label: str = "this Codex",
) -> PreparedAdd:
    """Check the whole request (id, params, key mode, --model without --use) and preview the edit.
    Raises before anything is asked or written; the config is read once here and the preview's
    parse is reused by commit_add."""
    if request.model is not None and not request.use:
        raise UsageError(
            "--model sets the model Codex uses, which `add` writes only together with --use",
            hint=f"Pass --use to switch to this provider now, or later: `codexprov use {request.provider_id or recipe.id} --model {request.model}`.",
        )
    plan = plan_add(recipe, request, token_auth=token_auth, capabilities=capabilities, codex_label=codex_label)
    written = _write(paths, plan, request, dry_run=True)
    return PreparedAdd(request, plan, written.edit, written.kept)


def commit_add(prepared: PreparedAdd, paths: Paths, *, store=None, key: str | None = None) -> Outcome:
    """Do what prepare_add previewed. In keyring mode the key is stored first, so a failing keyring
    leaves the config untouched (never pointing Codex at a key that does not exist)."""
    plan, request = prepared.plan, prepared.request
    notes = [warning(w) for w in plan.warnings]
    if request.dry_run:
        kept = [prepared.kept_note] if prepared.kept_note else []
        return Outcome((prepared.preview,), tuple(kept + notes), dry_run=True)
    if plan.key_mode == "keyring" and key:
        if store is None:
            raise ValueError("a key to store needs the key store")
        store.set(plan.provider_id, key)
    written = _write(paths, plan, request, dry_run=False, reuse=prepared.preview)
    if plan.key_mode == "keyring":
        from codexprov.redact import mask

        if key:
            notes.append(
                info(f"key for {plan.provider_id} stored in the OS keyring ({mask(key)}); Codex gets it from `codexprov token {plan.provider_id}`")
            )
        else:
            notes.append(next_step(f"next: store the key with `codexprov key set {plan.provider_id}`"))
    elif plan.key_mode == "env" and plan.spec is not None:
        notes.append(
            info(f"Codex reads the key from ${plan.spec.env_key}: set it in the environment Codex starts from (or use `codexprov run -- codex`)")
        )
    return Outcome((written.edit,), tuple(notes))


def _write(paths: Paths, plan: AddPlan, request: AddRequest, *, dry_run: bool, reuse: EditResult | None = None) -> providers.AddEdit:
    model = plan.model if request.use else None
    if plan.spec is None:
        assert plan.builtin_id in BUILTIN_PROVIDERS
        edit = providers.configure_builtin(
            paths, plan.builtin_id, plan.builtin_table, use=request.use, model=model, dry_run=dry_run, reuse=reuse,
            capabilities=plan.capabilities,
        )
        return providers.AddEdit(edit, ())
    return providers.write_provider(
        paths, plan.spec, use=request.use, model=model, replace=request.replace, dry_run=dry_run, reuse=reuse
    )
