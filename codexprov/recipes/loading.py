"""Finding and loading recipes: the recipe folders, one file into a checked `Recipe`, every file
into a `Catalog`. A file that fails a check becomes a `RecipeProblem` naming file and field.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from codexprov import safe_read
from codexprov.codex.builtins import BUILTIN_PROVIDERS
from codexprov.codex.capabilities import capabilities as capabilities_of
from codexprov.codex.gateway import REQUEST_PARTS
from codexprov.config.document import TOMLDecodeError, loads
from codexprov.model import PROVIDER_ID_RE, AuthCommand
from codexprov.model_lists import EFFORTS, ModelFacts
from codexprov.paths import Paths
from codexprov.recipe_files import recipe_folders
from codexprov.recipes.model import (
    ENV_VAR,
    EXTRA_FIELDS,
    ID_PSEUDO,
    KINDS,
    PLACEHOLDER,
    RESPONSES_BASES,
    RESPONSES_SUPPORT,
    BridgeRoute,
    Catalog,
    Recipe,
    RecipeParam,
    RecipeProblem,
    placeholder_names,
)

_PARAM_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

TOP_FIELDS = frozenset(
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
        "key_mode",
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
PARAM_FIELDS = frozenset({"description", "default", "required", "pattern", "choices", "example"})
AUTH_FIELDS = frozenset({"command", "args", "timeout_ms", "refresh_interval_ms", "cwd"})
BRIDGE_FIELDS = frozenset({"model", "env_key", "api_base"})
MODEL_FIELDS = frozenset({"context_window", "reasoning", "input", "name"})
# LiteLLM's provider prefix, then the model Codex asks for: `anthropic/{model}`.
_BRIDGE_MODEL = re.compile(r"^([a-z0-9_]+)/\{model\}$")


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
    unknown = sorted(set(data) - TOP_FIELDS)
    if unknown:
        raise _Problem(unknown[0], f"unknown field (known: {', '.join(sorted(TOP_FIELDS))})")
    fmt = data.get("format", 1)
    if fmt != 1:
        raise _Problem("format", f"unsupported recipe format {fmt!r} (this codexprov reads format 1)")

    recipe_id = _parse_id(data, path)
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
        if not ENV_VAR.fullmatch(var):
            raise _Problem("env_http_headers", f"{header}: {var!r} is not an environment variable name")

    _check_placeholders("base_url", base_url, declared)
    for key, template in query_params.items():
        _check_placeholders(f"query_params.{key}", template, declared)
    for key, template in http_headers.items():
        _check_placeholders(f"http_headers.{key}", template, declared)
    _check_placeholders("name", name, set(ID_PSEUDO))
    if env_key is not None:
        _check_placeholders("env_key", env_key, set(ID_PSEUDO))
        if not ENV_VAR.fullmatch(PLACEHOLDER.sub("X", env_key)):
            raise _Problem("env_key", f"{env_key!r} is not an environment variable name")

    builtin, builtin_fields = _parse_builtin(data, declared)
    auth_command = _parse_auth(data.get("auth_command"))
    bridge = _parse_bridge(data.get("bridge"), declared)
    if auth_command is not None and needs_key:
        raise _Problem(
            "needs_key", "a recipe with `auth_command` gets its token from the command: set needs_key = false"
        )
    if needs_key and env_key is None:
        raise _Problem("env_key", "missing (needed because needs_key is true)")
    key_mode = _choice(data, "key_mode", ("keyring", "env")) if "key_mode" in data else None
    if key_mode == "env" and not needs_key:
        raise _Problem("key_mode", "env needs a key: set needs_key = true (the default) and env_key")
    if builtin is None and base_url is None:
        raise _Problem("base_url", "missing (only a recipe for a Codex built-in may leave it out)")

    extra = _parse_extra(data)
    models, model_facts = _parse_models(data.get("models", []))
    rejects = _parse_rejects(data)
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
        model_facts=model_facts,
        notes=(_opt_str(data, "notes") or "").strip(),
        summary=_opt_str(data, "summary") or "",
        source=source,
        path=path,
        needs_key=needs_key,
        key_mode=key_mode,
        builtin=builtin,
        builtin_fields=builtin_fields,
        auth_command=auth_command,
        extra=extra,
        rejects=tuple(dict.fromkeys(rejects)),
        bridge=bridge,
    )


def _parse_id(data: Mapping[str, Any], path: Path | None) -> str:
    stem = path.stem if path is not None else None
    recipe_id = _opt_str(data, "id") or stem
    if recipe_id is None:
        raise _Problem("id", "missing")
    if not PROVIDER_ID_RE.fullmatch(recipe_id):
        raise _Problem("id", f"{recipe_id!r} is not a valid id (letters, digits, - and _)")
    if path is not None and recipe_id != path.stem:
        raise _Problem("id", f"{recipe_id!r} does not match the file name {path.name!r}")
    return recipe_id


def _parse_builtin(data: Mapping[str, Any], declared: set[str]) -> tuple[str | None, dict[str, Any]]:
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
    return builtin, builtin_fields


def _parse_extra(data: Mapping[str, Any]) -> dict[str, Any]:
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
    return dict(extra)


def _parse_rejects(data: Mapping[str, Any]) -> list[str]:
    rejects = data.get("rejects", [])
    if not isinstance(rejects, list) or any(r not in REQUEST_PARTS for r in rejects):
        raise _Problem("rejects", f"must be a list of: {', '.join(REQUEST_PARTS)}")
    return rejects


def _parse_params(raw: Any) -> tuple[RecipeParam, ...]:
    if not isinstance(raw, dict):
        raise _Problem("params", "must be a table of [params.NAME] tables")
    params = []
    for name, spec in raw.items():
        where = f"params.{name}"
        if not _PARAM_NAME.fullmatch(name) or name in ID_PSEUDO:
            raise _Problem(where, "a param name is lowercase letters, digits, - and _ (and not `id`)")
        if not isinstance(spec, dict):
            raise _Problem(where, "must be a table")
        unknown = sorted(set(spec) - PARAM_FIELDS)
        if unknown:
            raise _Problem(f"{where}.{unknown[0]}", f"unknown field (known: {', '.join(sorted(PARAM_FIELDS))})")
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


def _parse_models(raw: Any) -> tuple[list[str], dict[str, ModelFacts]]:
    """`models`: a list of model names, or a table of them, each with what the provider's /models
    does not say (MODEL_FIELDS); the order is the recipe's either way."""
    if isinstance(raw, list):
        if not all(isinstance(m, str) and m for m in raw):
            raise _Problem("models", "must be a list of model names, or a table of them")
        return list(raw), {}
    if not isinstance(raw, dict):
        raise _Problem("models", "must be a list of model names, or a table of them")
    facts: dict[str, ModelFacts] = {}
    for model, table in raw.items():
        where = f"models.{model}"
        if not model or not isinstance(table, dict):
            raise _Problem(where, "must be a table (context_window, reasoning, input, name)")
        unknown = sorted(set(table) - MODEL_FIELDS)
        if unknown:
            raise _Problem(where, f"unknown field {unknown[0]!r} (known: {', '.join(sorted(MODEL_FIELDS))})")
        window = table.get("context_window")
        if window is not None and (not isinstance(window, int) or isinstance(window, bool) or window <= 0):
            raise _Problem(f"{where}.context_window", "must be a positive number of tokens")
        reasoning = table.get("reasoning")
        if isinstance(reasoning, bool):
            efforts: tuple[str, ...] | None = None if reasoning else ()
        elif reasoning is None:
            efforts = None
        elif isinstance(reasoning, list) and reasoning and all(r in EFFORTS for r in reasoning):
            efforts = tuple(reasoning)
        else:
            raise _Problem(f"{where}.reasoning", f"must be true, false or a list of efforts ({', '.join(EFFORTS)})")
        modes = table.get("input")
        if modes is not None and (not isinstance(modes, list) or "text" not in modes or set(modes) - {"text", "image"}):
            raise _Problem(f"{where}.input", 'must list "text", and may add "image"')
        name = table.get("name")
        if name is not None and (not isinstance(name, str) or not name):
            raise _Problem(f"{where}.name", "must be a non-empty string")
        facts[model] = ModelFacts(name, window, efforts, tuple(modes) if modes is not None else None)
    return list(raw), {m: f for m, f in facts.items() if f.to_json()}


def _parse_bridge(raw: Any, declared: set[str]) -> BridgeRoute | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _Problem("bridge", "must be a table")
    unknown = sorted(set(raw) - BRIDGE_FIELDS)
    if unknown:
        raise _Problem(f"bridge.{unknown[0]}", f"unknown field (known: {', '.join(sorted(BRIDGE_FIELDS))})")
    model = raw.get("model")
    match = _BRIDGE_MODEL.fullmatch(model) if isinstance(model, str) else None
    if match is None:
        raise _Problem("bridge.model", 'must be LiteLLM\'s provider prefix and {model}, e.g. "anthropic/{model}"')
    env_key = raw.get("env_key")
    if env_key is not None and (not isinstance(env_key, str) or not ENV_VAR.fullmatch(env_key)):
        raise _Problem("bridge.env_key", "must be an environment variable name")
    api_base = raw.get("api_base")
    if api_base is not None:
        if not isinstance(api_base, str) or not api_base.strip():
            raise _Problem("bridge.api_base", "must be a non-empty string")
        _check_placeholders("bridge.api_base", api_base, declared)
    return BridgeRoute(match.group(1), env_key, api_base)


def _parse_auth(raw: Any) -> AuthCommand | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _Problem("auth_command", "must be a table")
    unknown = sorted(set(raw) - AUTH_FIELDS)
    if unknown:
        raise _Problem(f"auth_command.{unknown[0]}", f"unknown field (known: {', '.join(sorted(AUTH_FIELDS))})")
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
    for name in placeholder_names(template):
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none declared"
            raise _Problem(where, f"uses {{{name}}}, which is not a param of this recipe (params: {known})")


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
    return dataclasses.replace(recipe, **changes)
