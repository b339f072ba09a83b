"""Recipes: the provider catalog behind `codexprov add RECIPE`.

A recipe is one TOML file (format: recipes/README.md). The package has three rooms:
  model      what a checked recipe holds (`Recipe`, `RecipeParam`, `BridgeRoute`, `Catalog`,
             `Rendered`, `Preview`)
  loading    the recipe folders, and each file into a checked `Recipe` (`load_catalog`, `parse_recipe`)
  rendering  a recipe plus the user's input into what `add` writes (`render`, `preview`, `toml_for`,
             `check_against_codex`)

Public API (used by the `add` command), importable from `codexprov.recipes`:
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

from codexprov.recipe_files import RECIPES_PATH_ENV, recipe_folders, shipped_recipes_dir
from codexprov.recipes.loading import (
    _Problem,
    load_catalog,
    load_recipe_file,
    parse_recipe,
)
from codexprov.recipes.model import (
    EXTRA_FIELDS,
    GENERIC_BRIDGE,
    KINDS,
    RESPONSES_BASES,
    RESPONSES_SUPPORT,
    BridgeRoute,
    Catalog,
    Preview,
    Recipe,
    RecipeParam,
    RecipeProblem,
    Rendered,
)
from codexprov.recipes.rendering import (
    check_against_codex,
    check_params,
    fill_template,
    preview,
    render,
    responses_warnings,
    toml_for,
)

__all__ = [
    "EXTRA_FIELDS",
    "GENERIC_BRIDGE",
    "KINDS",
    "RECIPES_PATH_ENV",
    "RESPONSES_BASES",
    "RESPONSES_SUPPORT",
    "BridgeRoute",
    "Catalog",
    "Preview",
    "Recipe",
    "RecipeParam",
    "RecipeProblem",
    "Rendered",
    "_Problem",
    "check_against_codex",
    "check_params",
    "fill_template",
    "load_catalog",
    "load_recipe_file",
    "parse_recipe",
    "preview",
    "recipe_folders",
    "render",
    "responses_warnings",
    "shipped_recipes_dir",
    "toml_for",
]
