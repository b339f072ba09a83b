"""The recipe model: what a checked recipe holds (`Recipe`, its params and bridge route), the
catalog of them, and what rendering one produces (`Rendered`, `Preview`).

Loading lives in `recipes.loading`, rendering in `recipes.rendering`. Nothing here reads files.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codexprov.errors import NotFoundError
from codexprov.model import AuthCommand, ProviderSpec
from codexprov.model_lists import ModelFacts
from codexprov.recipe_files import PLACEHOLDER, url_matches

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

_PARAM_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
ENV_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A param value ends up in a URL, a header or a TOML string: keep it to characters safe in all three
# unless the recipe gives its own pattern.
_DEFAULT_VALUE = re.compile(r"^[A-Za-z0-9._~:-]{1,200}$")
# Pseudo-params filled from the provider id, allowed in `name` and `env_key` only.
ID_PSEUDO = ("id", "ID")


def placeholder_names(template: str) -> list[str]:
    """The `{param}` names a recipe template uses, in order."""
    return PLACEHOLDER.findall(template)


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
    # what a recipe's `models` table knows of a model beyond its name (the provider's /models says too little)
    model_facts: Mapping[str, ModelFacts] = field(default_factory=dict)
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
    # The key mode `add` uses when no --key-mode is given (None: keyring when needs_key, else none).
    key_mode: str | None = None
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
        return self.base_url is not None and self.base_url != "" and url_matches(self.base_url, url)

    def url_only_params(self) -> frozenset[str]:
        """Params that only shape the base URL (or the built-in table): `--base-url` makes them moot."""
        other = set()
        for template in (*self.query_params.values(), *self.http_headers.values()):
            other.update(placeholder_names(template))
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
