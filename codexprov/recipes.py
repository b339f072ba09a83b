"""Recipes: the provider catalog behind `codexprov add RECIPE`.

A recipe is one TOML file (format: recipes/README.md). This module finds the recipe folders, loads
and checks every file into a frozen `Recipe`, and renders a recipe plus the user's input into what
`add` writes: a custom `ProviderSpec`, or the few fields of a Codex built-in table.

Public API (used by the `add` command):
  load_catalog(paths, env=None) -> Catalog
  Catalog.get(recipe_id) -> Recipe            (NotFoundError with a did-you-mean hint)
  Recipe.missing_params(params, base_url_given) -> list[RecipeParam]
  check_params(recipe, params) -> None        (UsageError for unknown names / bad values)
  render(recipe, *, provider_id, params, base_url, model, name, env_key, headers, query,
         capabilities=None) -> Rendered
  preview(recipe, *, capabilities=None) -> Preview   (what `recipes show` prints)
  check_against_codex(rendered, capabilities=None) -> list[str]

Nothing here prints, prompts or exits.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codexprov.codex.builtins import BUILTIN_DISPLAY_NAMES, BUILTIN_PROVIDERS
from codexprov.codex.capabilities import Capabilities
from codexprov.codex.capabilities import capabilities as capabilities_of
from codexprov.errors import ConflictError, NotFoundError, UsageError
from codexprov.model import PROVIDER_ID_RE, AuthCommand, ProviderSpec, check_provider_id
from codexprov.paths import Paths

RECIPES_PATH_ENV = "CODEXPROV_RECIPES_PATH"

KINDS = ("hosted", "local", "gateway", "built-in")
RESPONSES_SUPPORT = ("native", "no", "unknown")
RESPONSES_BASES = ("docs", "request", "none")

# What a recipe's `extra` table may add to a custom provider (the rest has its own recipe field).
EXTRA_FIELDS = frozenset(
    {
        "request_max_retries",
        "stream_max_retries",
        "stream_idle_timeout_ms",
        "websocket_connect_timeout_ms",
        "supports_websockets",
    }
)

_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_-]+)\}")
_PARAM_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_ENV_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A param value ends up in a URL, a header or a TOML string: keep it to characters safe in all three
# unless the recipe gives its own pattern.
_DEFAULT_VALUE = re.compile(r"^[A-Za-z0-9._~:-]{1,200}$")
# Pseudo-params filled from the provider id, allowed in `name` and `env_key` only.
_ID_PSEUDO = ("id", "ID")

_TOP_FIELDS = frozenset(
    {
        "format",
        "id",
        "name",
        "kind",
        "summary",
        "responses",
        "responses_checked",
        "responses_source",
        "responses_basis",
        "base_url",
        "env_key",
        "env_key_instructions",
        "needs_key",
        "default_model",
        "models",
        "notes",
        "params",
        "query_params",
        "http_headers",
        "env_http_headers",
        "builtin",
        "builtin_fields",
        "auth_command",
        "extra",
        "rejects",
        "bridge",
    }
)
_PARAM_FIELDS = frozenset({"description", "default", "required", "pattern", "choices", "example"})
_AUTH_FIELDS = frozenset({"command", "args", "timeout_ms", "refresh_interval_ms", "cwd"})
_BRIDGE_FIELDS = frozenset({"model", "env_key", "api_base"})
# LiteLLM's provider prefix, then the model Codex asks for: `anthropic/{model}`.
_BRIDGE_MODEL = re.compile(r"^([a-z0-9_]+)/\{model\}$")


# ---------------------------------------------------------------------------- data


@dataclass(frozen=True)
class RecipeParam:
    """One input a recipe takes (`--param NAME=VALUE`)."""

    name: str
    description: str
    default: str | None = None
    required: bool = True
    pattern: str | None = None
    choices: tuple[str, ...] = ()
    example: str | None = None

    def check(self, value: str) -> str | None:
        """None when `value` is acceptable, else the reason it is not."""
        if self.choices and value not in self.choices:
            return f"must be one of: {', '.join(self.choices)}"
        if self.pattern is not None:
            if not re.fullmatch(self.pattern, value):
                return f"must match {self.pattern}"
        elif not _DEFAULT_VALUE.fullmatch(value):
            return "may contain only letters, digits and . _ ~ : - (1 to 200 characters)"
        return None


@dataclass(frozen=True)
class BridgeRoute:
    """How codexprov's bridge (LiteLLM) reaches a provider: the recipe's `[bridge]` table.

    litellm_prefix: LiteLLM's provider (`anthropic`, `gemini`, …; `custom_openai` for any Chat
      Completions endpoint); Codex's model M is sent as PREFIX/M.
    env_key: the variable LiteLLM reads the key from (None: the recipe's env_key).
    api_base: URL template for LiteLLM's api_base (None: LiteLLM's own default for a native
      provider; the provider's base_url for custom_openai).
    """

    litellm_prefix: str
    env_key: str | None = None
    api_base: str | None = None

    @property
    def model_template(self) -> str:
        return f"{self.litellm_prefix}/{{model}}"


# The route for an endpoint that only speaks Chat Completions and has no [bridge] table of its own.
GENERIC_BRIDGE = BridgeRoute("custom_openai")


@dataclass(frozen=True)
class Recipe:
    """One provider recipe, checked. Templates use `{param}` placeholders."""

    id: str
    name: str
    kind: str
    responses: str
    responses_checked: str
    base_url: str | None
    params: tuple[RecipeParam, ...] = ()
    env_key: str | None = None
    env_key_instructions: str | None = None
    query_params: dict[str, str] = field(default_factory=dict)
    http_headers: dict[str, str] = field(default_factory=dict)
    env_http_headers: dict[str, str] = field(default_factory=dict)
    default_model: str | None = None
    models: tuple[str, ...] = ()
    notes: str = ""
    summary: str = ""
    responses_source: str | None = None
    # What the responses verdict rests on: "docs" (the provider's documentation, read on
    # responses_checked), "request" (a real request, made by `codexprov doctor --live` on that
    # date), "none" (nothing to check: any endpoint), "unstated" (a recipe that does not say).
    responses_basis: str = "unstated"
    source: str = "shipped"
    path: Path | None = None
    overrides: Path | None = None
    needs_key: bool = True
    builtin: str | None = None
    builtin_fields: dict[str, Any] = field(default_factory=dict)
    auth_command: AuthCommand | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # Parts of Codex's requests the endpoint refuses (codex.gateway.REQUEST_PARTS); `add --use`
    # writes the settings that take them out.
    rejects: tuple[str, ...] = ()
    bridge: BridgeRoute | None = None

    @property
    def verdict_basis(self) -> str:
        """What the /v1/responses verdict rests on, in words, e.g. `per its docs, read 2026-11-22`."""
        return {
            "docs": f"per its docs, read {self.responses_checked}",
            "request": f"seen in a real request by `codexprov doctor --live` on {self.responses_checked}",
            "none": "not checked: it depends on the endpoint",
        }.get(self.responses_basis, f"dated {self.responses_checked}; what it rests on is not stated")

    @property
    def verdict_short(self) -> str:
        """The basis for a table cell: `docs 2026-11-22`, `request 2026-11-22`, `-`."""
        if self.responses_basis in ("docs", "request"):
            return f"{self.responses_basis} {self.responses_checked}"
        return "-" if self.responses_basis == "none" else f"unstated {self.responses_checked}"

    def param(self, name: str) -> RecipeParam | None:
        return next((p for p in self.params if p.name == name), None)

    def matches_url(self, url: str) -> bool:
        """Whether a provider's base URL is one this recipe writes (any param values)."""
        if not self.base_url:
            return False
        pattern = "".join(
            "[^/]+" if i % 2 else re.escape(part) for i, part in enumerate(_PLACEHOLDER.split(self.base_url))
        )
        return re.fullmatch(pattern, url.rstrip("/"), flags=re.IGNORECASE) is not None

    def url_only_params(self) -> frozenset[str]:
        """Params that only shape the base URL (or the built-in table): `--base-url` makes them moot."""
        other = set()
        for template in (*self.query_params.values(), *self.http_headers.values()):
            other.update(_placeholders(template))
        return frozenset(p.name for p in self.params if p.name not in other)

    def missing_params(self, params: Mapping[str, str], base_url_given: bool) -> list[RecipeParam]:
        """Required params without a value in `params` and without a default.

        With `base_url_given` (the user passed --base-url), params used only in the URL template or
        the built-in table are not needed.
        """
        skip = self.url_only_params() if base_url_given else frozenset()
        return [
            p for p in self.params if p.required and p.default is None and p.name not in params and p.name not in skip
        ]


@dataclass(frozen=True)
class RecipeProblem:
    """A recipe file that could not be used; the others load regardless."""

    path: Path
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: field `{self.field}`" if self.field else str(self.path)
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Catalog:
    """Every recipe that loaded (by id; later folders win) and every file that did not."""

    recipes: tuple[Recipe, ...]
    problems: tuple[RecipeProblem, ...]
    folders: tuple[tuple[Path, str], ...] = ()

    def ids(self) -> list[str]:
        return [r.id for r in self.recipes]

    def get(self, recipe_id: str) -> Recipe:
        """The recipe `recipe_id`; NotFoundError (exit 4) with a did-you-mean hint otherwise."""
        for recipe in self.recipes:
            if recipe.id == recipe_id:
                return recipe
        close = difflib.get_close_matches(recipe_id, self.ids(), n=3, cutoff=0.5)
        hint = (
            f"Did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
        ) + "`codexprov recipes` lists them all."
        broken = [p for p in self.problems if p.path.stem == recipe_id]
        detail = "\n".join(str(p) for p in broken) or None
        raise NotFoundError(f"no recipe named {recipe_id!r}", hint=hint, detail=detail)


@dataclass(frozen=True)
class Rendered:
    """What `add` writes for a recipe.

    spec: a custom provider (None when a built-in is configured instead).
    builtin_id / builtin_table: the built-in Codex provider to select and the fields to write into
      its [model_providers.ID] table (an empty dict: write no table at all).
    model: the model to select (the user's, else the recipe's default).
    warnings: plain sentences for the user (e.g. the endpoint does not serve /v1/responses).
    """

    spec: ProviderSpec | None
    builtin_id: str | None
    builtin_table: dict[str, Any] | None
    model: str | None
    warnings: tuple[str, ...] = ()

    @property
    def provider_id(self) -> str:
        return self.spec.id if self.spec is not None else str(self.builtin_id)


@dataclass(frozen=True)
class Preview:
    """`recipes show`: the TOML a recipe adds (placeholders for params), and the render behind it."""

    toml: str
    rendered: Rendered


# ---------------------------------------------------------------------------- finding and loading


def shipped_recipes_dir() -> Path:
    """`codexprov/_recipes` in a wheel; `<repo>/recipes` in a source checkout or editable install."""
    package = Path(__file__).resolve().parent
    bundled = package / "_recipes"
    if bundled.is_dir():
        return bundled
    return package.parent / "recipes"


def recipe_folders(paths: Paths, env: Mapping[str, str] | None = None) -> list[tuple[Path, str]]:
    """Folders in load order (later overrides earlier): shipped, user, then each team folder."""
    env = os.environ if env is None else env
    folders = [(shipped_recipes_dir(), "shipped"), (paths.user_recipes_dir, "user")]
    for entry in (env.get(RECIPES_PATH_ENV) or "").split(os.pathsep):
        if entry.strip():
            folders.append((Path(entry.strip()).expanduser(), "team"))
    return folders


def load_catalog(paths: Paths, env: Mapping[str, str] | None = None) -> Catalog:
    """Load every `*.toml` in the recipe folders (see `recipe_folders`).

    A file that fails to parse or check becomes a `RecipeProblem` naming file and field; it never
    stops the others. A recipe in a later folder replaces one with the same id and records the
    replaced file in `overrides`.
    """
    folders = recipe_folders(paths, env)
    by_id: dict[str, Recipe] = {}
    problems: list[RecipeProblem] = []
    for folder, source in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                recipe = load_recipe_file(path, source)
            except _Problem as err:
                problems.append(RecipeProblem(path, err.field, err.message))
                continue
            previous = by_id.get(recipe.id)
            if previous is not None:
                recipe = _replace(recipe, overrides=previous.path)
            by_id[recipe.id] = recipe
    recipes = tuple(sorted(by_id.values(), key=lambda r: r.id))
    return Catalog(recipes=recipes, problems=tuple(problems), folders=tuple(folders))


def load_recipe_file(path: Path, source: str = "shipped") -> Recipe:
    """Parse and check one recipe file. Raises `_Problem` (an internal error type) on any fault."""
    # The config reader (TOML 1.1, compiled tomli): a recipe may be written like a Codex config,
    # and the catalog's 25 files parse about three times faster than with tomllib.
    from codexprov import safe_read
    from codexprov.config.document import TOMLDecodeError, loads

    try:
        data = loads(safe_read.read_text(path))
    except OSError as err:
        raise _Problem(None, f"cannot read: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise _Problem(None, "not UTF-8 text") from None
    except TOMLDecodeError as err:
        raise _Problem(None, f"invalid TOML: {err}") from None
    return parse_recipe(data, path=path, source=source)


class _Problem(Exception):
    def __init__(self, field_name: str | None, message: str):
        super().__init__(message)
        self.field = field_name
        self.message = message


def parse_recipe(data: Mapping[str, Any], *, path: Path | None = None, source: str = "shipped") -> Recipe:
    """Check a recipe's parsed TOML and build the `Recipe`. Raises `_Problem(field, message)`."""
    unknown = sorted(set(data) - _TOP_FIELDS)
    if unknown:
        raise _Problem(unknown[0], f"unknown field (known: {', '.join(sorted(_TOP_FIELDS))})")
    fmt = data.get("format", 1)
    if fmt != 1:
        raise _Problem("format", f"unsupported recipe format {fmt!r} (this codexprov reads format 1)")

    stem = path.stem if path is not None else None
    recipe_id = _opt_str(data, "id") or stem
    if recipe_id is None:
        raise _Problem("id", "missing")
    if not PROVIDER_ID_RE.fullmatch(recipe_id):
        raise _Problem("id", f"{recipe_id!r} is not a valid id (letters, digits, - and _)")
    if path is not None and recipe_id != path.stem:
        raise _Problem("id", f"{recipe_id!r} does not match the file name {path.name!r}")

    name = _req_str(data, "name")
    kind = _choice(data, "kind", KINDS)
    responses = _choice(data, "responses", RESPONSES_SUPPORT)
    checked = _req_str(data, "responses_checked")
    if not _DATE.fullmatch(checked):
        raise _Problem("responses_checked", f"{checked!r} is not a date (YYYY-MM-DD)")
    basis = _choice(data, "responses_basis", RESPONSES_BASES) if "responses_basis" in data else "unstated"

    params = _parse_params(data.get("params", {}))
    declared = {p.name for p in params}

    base_url = _opt_str(data, "base_url")
    env_key = _opt_str(data, "env_key")
    needs_key = data.get("needs_key", True)
    if not isinstance(needs_key, bool):
        raise _Problem("needs_key", "must be true or false")
    query_params = _str_table(data, "query_params")
    http_headers = _str_table(data, "http_headers")
    env_http_headers = _str_table(data, "env_http_headers")
    for header, var in env_http_headers.items():
        if not _ENV_VAR.fullmatch(var):
            raise _Problem("env_http_headers", f"{header}: {var!r} is not an environment variable name")

    _check_placeholders("base_url", base_url, declared)
    for key, template in query_params.items():
        _check_placeholders(f"query_params.{key}", template, declared)
    for key, template in http_headers.items():
        _check_placeholders(f"http_headers.{key}", template, declared)
    _check_placeholders("name", name, set(_ID_PSEUDO))
    if env_key is not None:
        _check_placeholders("env_key", env_key, set(_ID_PSEUDO))
        if not _ENV_VAR.fullmatch(_PLACEHOLDER.sub("X", env_key)):
            raise _Problem("env_key", f"{env_key!r} is not an environment variable name")

    builtin = _opt_str(data, "builtin")
    builtin_fields = data.get("builtin_fields", {})
    if not isinstance(builtin_fields, dict):
        raise _Problem("builtin_fields", "must be a table")
    if builtin is not None:
        if builtin not in BUILTIN_PROVIDERS:
            raise _Problem("builtin", f"{builtin!r} is not a Codex built-in ({', '.join(BUILTIN_PROVIDERS)})")
        _check_builtin_fields(builtin, builtin_fields, declared)
    elif builtin_fields:
        raise _Problem("builtin_fields", "only allowed together with `builtin`")

    auth_command = _parse_auth(data.get("auth_command"))
    bridge = _parse_bridge(data.get("bridge"), declared)
    if auth_command is not None and needs_key:
        raise _Problem(
            "needs_key", "a recipe with `auth_command` gets its token from the command: set needs_key = false"
        )
    if needs_key and env_key is None:
        raise _Problem("env_key", "missing (needed because needs_key is true)")
    if builtin is None and base_url is None:
        raise _Problem("base_url", "missing (only a recipe for a Codex built-in may leave it out)")

    extra = data.get("extra", {})
    if not isinstance(extra, dict):
        raise _Problem("extra", "must be a table")
    for key, value in extra.items():
        if key not in EXTRA_FIELDS:
            raise _Problem(
                f"extra.{key}", f"not a field this recipe may set (allowed: {', '.join(sorted(EXTRA_FIELDS))})"
            )
        expected = bool if key == "supports_websockets" else int
        if not isinstance(value, expected) or (expected is int and (isinstance(value, bool) or value < 0)):
            raise _Problem(
                f"extra.{key}", f"must be {'true or false' if expected is bool else 'a non-negative integer'}"
            )

    models = data.get("models", [])
    if not isinstance(models, list) or not all(isinstance(m, str) and m for m in models):
        raise _Problem("models", "must be a list of model names")
    from codexprov.codex.gateway import REQUEST_PARTS

    rejects = data.get("rejects", [])
    if not isinstance(rejects, list) or any(r not in REQUEST_PARTS for r in rejects):
        raise _Problem("rejects", f"must be a list of: {', '.join(REQUEST_PARTS)}")
    default_model = _opt_str(data, "default_model")

    return Recipe(
        id=recipe_id,
        name=name,
        kind=kind,
        responses=responses,
        responses_checked=checked,
        responses_source=_opt_str(data, "responses_source"),
        responses_basis=basis,
        base_url=base_url,
        params=params,
        env_key=env_key,
        env_key_instructions=_opt_str(data, "env_key_instructions"),
        query_params=query_params,
        http_headers=http_headers,
        env_http_headers=env_http_headers,
        default_model=default_model,
        models=tuple(models),
        notes=(_opt_str(data, "notes") or "").strip(),
        summary=_opt_str(data, "summary") or "",
        source=source,
        path=path,
        needs_key=needs_key,
        builtin=builtin,
        builtin_fields=builtin_fields,
        auth_command=auth_command,
        extra=dict(extra),
        rejects=tuple(dict.fromkeys(rejects)),
        bridge=bridge,
    )


def _parse_params(raw: Any) -> tuple[RecipeParam, ...]:
    if not isinstance(raw, dict):
        raise _Problem("params", "must be a table of [params.NAME] tables")
    params = []
    for name, spec in raw.items():
        where = f"params.{name}"
        if not _PARAM_NAME.fullmatch(name) or name in _ID_PSEUDO:
            raise _Problem(where, "a param name is lowercase letters, digits, - and _ (and not `id`)")
        if not isinstance(spec, dict):
            raise _Problem(where, "must be a table")
        unknown = sorted(set(spec) - _PARAM_FIELDS)
        if unknown:
            raise _Problem(f"{where}.{unknown[0]}", f"unknown field (known: {', '.join(sorted(_PARAM_FIELDS))})")
        description = spec.get("description")
        if not isinstance(description, str) or not description.strip():
            raise _Problem(f"{where}.description", "missing or not a string")
        default = spec.get("default")
        if default is not None and not isinstance(default, str):
            raise _Problem(f"{where}.default", "must be a string")
        required = spec.get("required", default is None)
        if not isinstance(required, bool):
            raise _Problem(f"{where}.required", "must be true or false")
        pattern = spec.get("pattern")
        if pattern is not None:
            if not isinstance(pattern, str):
                raise _Problem(f"{where}.pattern", "must be a string")
            try:
                re.compile(pattern)
            except re.error as err:
                raise _Problem(f"{where}.pattern", f"not a regular expression: {err}") from None
        choices = spec.get("choices", [])
        if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
            raise _Problem(f"{where}.choices", "must be a list of strings")
        example = spec.get("example")
        if example is not None and not isinstance(example, str):
            raise _Problem(f"{where}.example", "must be a string")
        param = RecipeParam(name, description.strip(), default, required, pattern, tuple(choices), example)
        if default is not None and (reason := param.check(default)):
            raise _Problem(f"{where}.default", f"{default!r} {reason}")
        params.append(param)
    return tuple(params)


def _parse_bridge(raw: Any, declared: set[str]) -> BridgeRoute | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _Problem("bridge", "must be a table")
    unknown = sorted(set(raw) - _BRIDGE_FIELDS)
    if unknown:
        raise _Problem(f"bridge.{unknown[0]}", f"unknown field (known: {', '.join(sorted(_BRIDGE_FIELDS))})")
    model = raw.get("model")
    match = _BRIDGE_MODEL.fullmatch(model) if isinstance(model, str) else None
    if match is None:
        raise _Problem("bridge.model", 'must be LiteLLM\'s provider prefix and {model}, e.g. "anthropic/{model}"')
    env_key = raw.get("env_key")
    if env_key is not None and (not isinstance(env_key, str) or not _ENV_VAR.fullmatch(env_key)):
        raise _Problem("bridge.env_key", "must be an environment variable name")
    api_base = raw.get("api_base")
    if api_base is not None:
        if not isinstance(api_base, str) or not api_base.strip():
            raise _Problem("bridge.api_base", "must be a non-empty string")
        _check_placeholders("bridge.api_base", api_base, declared)
    return BridgeRoute(match.group(1), env_key, api_base)


def fill_template(template: str, values: Mapping[str, str]) -> str:
    """A recipe template with its `{param}` placeholders filled (UsageError naming a missing one)."""
    return _fill(template, values, False) or ""


def _parse_auth(raw: Any) -> AuthCommand | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _Problem("auth_command", "must be a table")
    unknown = sorted(set(raw) - _AUTH_FIELDS)
    if unknown:
        raise _Problem(f"auth_command.{unknown[0]}", f"unknown field (known: {', '.join(sorted(_AUTH_FIELDS))})")
    command = raw.get("command")
    if not isinstance(command, str) or not command.strip():
        raise _Problem("auth_command.command", "missing or empty")
    args = raw.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise _Problem("auth_command.args", "must be a list of strings")
    ints = {}
    for key in ("timeout_ms", "refresh_interval_ms"):
        value = raw.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise _Problem(f"auth_command.{key}", "must be a non-negative integer")
        ints[key] = value
    cwd = raw.get("cwd")
    if cwd is not None and not isinstance(cwd, str):
        raise _Problem("auth_command.cwd", "must be a string")
    return AuthCommand(command, tuple(args), ints["timeout_ms"], ints["refresh_interval_ms"], cwd)


def _check_builtin_fields(builtin: str, fields: dict[str, Any], declared: set[str]) -> None:
    # Recipes are checked against the newest Codex; `add` on an older one drops what it cannot take.
    newest = capabilities_of(None)
    allowed = newest.builtin_top_fields(builtin) or ()
    aws_fields = [f.split(".", 1)[1] for f in newest.builtin_fields(builtin) or () if f.startswith("aws.")]
    for key, value in fields.items():
        where = f"builtin_fields.{key}"
        if key not in allowed or key == "auth":
            what = ", ".join(f for f in allowed if f != "auth") or "none"
            raise _Problem(where, f"Codex does not accept it in the {builtin} built-in (accepted: {what})")
        if key == "aws":
            if not isinstance(value, dict):
                raise _Problem(where, "must be a table")
            for sub, sub_value in value.items():
                if sub not in aws_fields:
                    raise _Problem(f"{where}.{sub}", f"unknown (accepted: {', '.join(aws_fields)})")
                if not isinstance(sub_value, str):
                    raise _Problem(f"{where}.{sub}", "must be a string template")
                _check_placeholders(f"{where}.{sub}", sub_value, declared)
        elif key == "http_headers":
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                raise _Problem(where, "must be a table of strings")
            for header, template in value.items():
                _check_placeholders(f"{where}.{header}", template, declared)
        else:
            if not isinstance(value, str):
                raise _Problem(where, "must be a string template")
            _check_placeholders(where, value, declared)


def _check_placeholders(where: str, template: str | None, declared: set[str]) -> None:
    if template is None:
        return
    for name in _placeholders(template):
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none declared"
            raise _Problem(where, f"uses {{{name}}}, which is not a param of this recipe (params: {known})")


def _placeholders(template: str) -> list[str]:
    return _PLACEHOLDER.findall(template)


def _req_str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if value is None:
        raise _Problem(key, "missing")
    if not isinstance(value, str) or not value.strip():
        raise _Problem(key, f"must be a non-empty string, not {_type_name(value)}")
    return value


def _opt_str(data: Mapping[str, Any], key: str) -> str | None:
    if data.get(key) is None:
        return None
    return _req_str(data, key)


def _choice(data: Mapping[str, Any], key: str, choices: tuple[str, ...]) -> str:
    value = _req_str(data, key)
    if value not in choices:
        raise _Problem(key, f"{value!r} is not one of: {', '.join(choices)}")
    return value


def _str_table(data: Mapping[str, Any], key: str) -> dict[str, str]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise _Problem(key, f"must be a table, not {_type_name(value)}")
    for sub, sub_value in value.items():
        if not isinstance(sub_value, str):
            raise _Problem(f"{key}.{sub}", f"must be a string, not {_type_name(sub_value)}")
    return dict(value)


def _type_name(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", list: "an array", dict: "a table"}.get(
        type(value), type(value).__name__
    )


def _replace(recipe: Recipe, **changes: Any) -> Recipe:
    import dataclasses

    return dataclasses.replace(recipe, **changes)


# ---------------------------------------------------------------------------- rendering


def render(
    recipe: Recipe,
    *,
    provider_id: str,
    params: Mapping[str, str],
    base_url: str | None,
    model: str | None,
    name: str | None,
    env_key: str | None,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    capabilities: Capabilities | None = None,
) -> Rendered:
    """Turn a recipe and the user's input into what `add` writes, for the Codex whose
    `capabilities` are given (None: the newest known).

    A recipe for a Codex built-in configures the built-in (spec None, `builtin_id` set) when the
    provider id is the recipe's or the built-in's own id, no --base-url is given and that Codex has
    the built-in. Otherwise a custom provider (`spec`) is rendered, with wire_api "responses" and
    `env_key` set to the recipe's variable (or `env_key` when given); a custom table is never
    rendered under an id that Codex keeps for a built-in (ConflictError).

    Unknown param names, bad values and missing required params raise UsageError listing the valid
    params.
    """
    values = _resolve_params(recipe, params, base_url_given=base_url is not None)
    return _render(
        recipe,
        provider_id=provider_id,
        values=values,
        base_url=base_url,
        model=model,
        name=name,
        env_key=env_key,
        headers=dict(headers),
        query=dict(query),
        capabilities=capabilities or capabilities_of(None),
    )


def check_params(recipe: Recipe, params: Mapping[str, str]) -> None:
    """UsageError for a param the recipe does not take or a value it refuses (call before prompting)."""
    valid = ", ".join(p.name for p in recipe.params) or "none"
    for key, value in params.items():
        param = recipe.param(key)
        if param is None:
            raise UsageError(
                f"recipe {recipe.id!r} has no param {key!r}",
                hint=f"Valid params: {valid}. `codexprov recipes show {recipe.id}` describes them.",
            )
        reason = param.check(value)
        if reason:
            raise UsageError(
                f"--param {key}={value!r}: {reason}",
                hint=f"{key}: {param.description}" + (f" (e.g. {param.example})" if param.example else ""),
            )


def _resolve_params(recipe: Recipe, params: Mapping[str, str], *, base_url_given: bool) -> dict[str, str]:
    check_params(recipe, params)
    missing = recipe.missing_params(params, base_url_given)
    if missing:
        listing = "\n".join(f"  --param {p.name}=…  {p.description}" for p in missing)
        raise UsageError(
            f"recipe `{recipe.id}` needs: {', '.join(p.name for p in missing)}",
            detail=listing,
            hint="Pass each as --param NAME=VALUE"
            + (
                " (or --base-url to give the whole URL)"
                if any(p.name in recipe.url_only_params() for p in missing)
                else ""
            )
            + ", or run on a terminal to be asked.",
        )
    values = {p.name: p.default for p in recipe.params if p.default is not None}
    values.update(params)
    return values


def _render(
    recipe: Recipe,
    *,
    provider_id: str,
    values: Mapping[str, str],
    base_url: str | None,
    model: str | None,
    name: str | None,
    env_key: str | None,
    headers: dict[str, str],
    query: dict[str, str],
    capabilities: Capabilities,
    placeholders: bool = False,
) -> Rendered:
    from codexprov.codex.rules import custom_id_refusal

    check_provider_id(provider_id)
    warnings = list(responses_warnings(recipe, provider_id))
    chosen_model = model or recipe.default_model

    use_builtin = (
        recipe.builtin is not None
        and recipe.builtin in capabilities.restricted_ids()
        and base_url is None
        and provider_id in (recipe.id, recipe.builtin)
        # Codex 0.165 has the gcp built-in but not yet its project_id/location: a custom provider then.
        and set(recipe.builtin_fields) <= set(capabilities.builtin_top_fields(recipe.builtin) or ())
    )
    if use_builtin:
        assert recipe.builtin is not None
        table = _builtin_table(recipe, values, headers, capabilities, placeholders)
        refused = [flag for flag, given in (("--name", name), ("--env-key", env_key), ("--query", query)) if given]
        if refused:
            raise UsageError(
                f"{' and '.join(refused)} cannot be applied to Codex's built-in {recipe.builtin!r} provider",
                hint=f"Pass --id NAME to write a custom provider from the {recipe.id!r} recipe instead.",
            )
        return Rendered(None, recipe.builtin, table, chosen_model, tuple(warnings))

    refusal = custom_id_refusal(provider_id, capabilities)
    if refusal is not None:
        raise ConflictError(refusal.message, hint=f"Pick another id, e.g. --id {provider_id}-custom.")

    url = base_url or _fill(recipe.base_url, values, placeholders)
    if url is None:
        raise UsageError(
            f"the {recipe.id!r} recipe has no base URL of its own for a custom provider",
            hint="Pass --base-url URL.",
        )
    id_values = {"id": provider_id, "ID": re.sub(r"[^A-Za-z0-9]", "_", provider_id).upper()}
    query_params = {k: _fill(v, values, placeholders) or "" for k, v in recipe.query_params.items()}
    query_params.update(query)
    http_headers = {k: _fill(v, values, placeholders) or "" for k, v in recipe.http_headers.items()}
    http_headers.update(headers)

    auth = None
    key_var = env_key
    if key_var is None and recipe.needs_key:
        key_var = _fill(recipe.env_key, id_values, False)
    if key_var is None and recipe.auth_command is not None:
        auth = recipe.auth_command
    if key_var is not None and not _ENV_VAR.fullmatch(key_var):
        raise UsageError(f"--env-key {key_var!r} is not an environment variable name")
    instructions = recipe.env_key_instructions if key_var is not None else None
    if recipe.builtin == "gcp" and recipe.auth_command is not None and auth is not None:
        warnings.append(
            "this Codex has no built-in `gcp` provider that takes a project (0.166 and newer have), so the key comes from "
            f"`{recipe.auth_command.command} {' '.join(recipe.auth_command.args)}`; "
            "Vertex's OpenAI-compatible endpoint is not verified to serve /v1/responses"
        )

    display = name or _fill(recipe.name, id_values, False) or provider_id
    if display in BUILTIN_DISPLAY_NAMES:
        # Codex 0.169.0 recognises its built-ins by display name (a custom "Amazon Bedrock" gets
        # SigV4 signing, "OpenAI" gets OpenAI-only behaviour), so a custom table must not reuse them.
        if name:
            raise UsageError(
                f"--name {name!r} is the display name of a Codex built-in; Codex would treat this provider as it",
                hint="Pick another --name.",
            )
        display = f"{display} (custom)"
    spec = ProviderSpec(
        id=provider_id,
        name=display,
        base_url=url,
        env_key=key_var,
        env_key_instructions=instructions,
        wire_api="responses",
        query_params=query_params,
        http_headers=http_headers,
        env_http_headers=dict(recipe.env_http_headers),
        auth=auth,
        extra=dict(recipe.extra),
    )
    return Rendered(spec, None, None, chosen_model, tuple(warnings))


def _builtin_table(
    recipe: Recipe,
    values: Mapping[str, str],
    headers: dict[str, str],
    capabilities: Capabilities,
    placeholders: bool = False,
) -> dict[str, Any]:
    """The built-in's table: each templated field whose params all have values (others left out)."""
    if placeholders:
        values = {p.name: f"<{p.name}>" for p in recipe.params} | dict(values)
    table: dict[str, Any] = {}
    for key, template in recipe.builtin_fields.items():
        if isinstance(template, dict):
            sub = {k: _fill_if_set(v, values) for k, v in template.items()}
            sub = {k: v for k, v in sub.items() if v is not None}
            if sub:
                table[key] = sub
        else:
            value = _fill_if_set(template, values)
            if value is not None:
                table[key] = value
    if headers:
        if "http_headers" not in (capabilities.builtin_top_fields(str(recipe.builtin)) or ()):
            raise UsageError(
                f"Codex does not accept headers for its built-in {recipe.builtin!r} provider",
                hint=f"Pass --id NAME to write a custom provider from the {recipe.id!r} recipe instead.",
            )
        merged = dict(table.get("http_headers", {}))
        merged.update(headers)
        table["http_headers"] = merged
    return table


def _fill(template: str | None, values: Mapping[str, str], placeholders: bool) -> str | None:
    if template is None:
        return None

    def sub(match: re.Match[str]) -> str:
        key = match.group(1)
        if key in values:
            return values[key]
        if placeholders:
            return f"<{key}>"
        # An optional param that the custom-provider URL needs (e.g. Bedrock's region).
        raise UsageError(
            f"a custom provider from this recipe needs --param {key}=…",
            hint="Pass it, or give the whole URL with --base-url.",
        )

    return _PLACEHOLDER.sub(sub, template)


def _fill_if_set(template: str, values: Mapping[str, str]) -> str | None:
    if any(name not in values for name in _placeholders(template)):
        return None
    return _fill(template, values, False)


def responses_warnings(recipe: Recipe, provider_id: str) -> list[str]:
    """What `add` says about a direct (not bridged) provider whose endpoint may lack /v1/responses."""
    if recipe.responses == "no" and recipe.bridge is not None:
        return [
            f"{recipe.name} does not serve /v1/responses ({recipe.verdict_basis}): Codex will "
            f"fail on the first turn. Drop --no-bridge to route it through codexprov's bridge "
            f"(`codexprov add {recipe.id} --id {provider_id} --replace`)."
        ]
    if recipe.responses == "no":
        return [
            f"{recipe.name} does not serve /v1/responses ({recipe.verdict_basis}): Codex will "
            f"fail on the first turn. Route it through codexprov's bridge: `codexprov add {recipe.id} --id {provider_id} --bridge --replace`."
        ]
    if recipe.responses == "unknown":
        return (
            [
                f"codexprov cannot know whether this endpoint serves /v1/responses (Codex needs it); "
                f"`codexprov doctor {provider_id}` checks it, and `--bridge` routes it through codexprov's bridge if not "
                f"(`codexprov add custom --id {provider_id} --base-url URL --bridge --replace`)."
            ]
            if recipe.id == "custom"
            else [
                f"it is not known whether {recipe.name} serves /v1/responses ({recipe.verdict_basis}); "
                f"if Codex fails with 404 on /responses, route it through codexprov's bridge "
                f"(`codexprov add {recipe.id} --id {provider_id} --bridge --replace`)."
            ]
        )
    return []


def preview(recipe: Recipe, *, capabilities: Capabilities | None = None) -> Preview:
    """What `recipes show` prints: the TOML `add RECIPE` would write, with `<param>` placeholders."""
    values = {p.name: p.default for p in recipe.params if p.default is not None}
    rendered = _render(
        recipe,
        provider_id=recipe.id,
        values=values,
        base_url=None,
        model=None,
        name=None,
        env_key=None,
        headers={},
        query={},
        capabilities=capabilities or capabilities_of(None),
        placeholders=True,
    )
    return Preview(toml_for(rendered), rendered)


def toml_for(rendered: Rendered) -> str:
    """The TOML text for a render: the root keys, then the provider table (if any)."""
    import tomlkit

    doc = tomlkit.document()
    if rendered.model:
        doc["model"] = rendered.model
    doc["model_provider"] = rendered.provider_id
    if rendered.spec is not None:
        table: dict[str, Any] = rendered.spec.to_table()
        provider_id = rendered.spec.id
    else:
        table = rendered.builtin_table or {}
        provider_id = str(rendered.builtin_id)
    if table:
        outer = tomlkit.table(is_super_table=True)
        inner = tomlkit.table()
        for key, value in table.items():
            if key in ("auth", "aws") and isinstance(value, dict):
                sub = tomlkit.table()
                sub.update(value)
                inner[key] = sub
            elif isinstance(value, dict):
                inline = tomlkit.inline_table()
                inline.update(value)
                inner[key] = inline
            else:
                inner[key] = value
        outer[provider_id] = inner
        doc["model_providers"] = outer
    return tomlkit.dumps(doc)


def check_against_codex(rendered: Rendered, capabilities: Capabilities | None = None) -> list[str]:
    """Why this Codex (default: the newest known) would refuse or misread this render; [] when it
    would take it (codex.rules)."""
    from codexprov.codex.rules import table_refusals

    caps = capabilities or capabilities_of(None)
    if rendered.spec is not None:
        table = rendered.spec.to_table()
        return [r.message for r in table_refusals(rendered.spec.id, table, caps)]
    builtin_id = str(rendered.builtin_id)
    if builtin_id not in caps.restricted_ids():
        return [f"{builtin_id!r} is not a Codex built-in"]
    if not rendered.builtin_table:
        return []  # selecting a built-in without a table is always fine
    return [r.message for r in table_refusals(builtin_id, rendered.builtin_table or {}, caps)]
