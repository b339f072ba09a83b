"""Profiles in both forms: exact bytes written, refusals that change nothing, migrate, undo."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from codexprov import paths as paths_mod
from codexprov import profile_state, profiles
from codexprov.codex import capabilities as caps_mod
from codexprov.codex import version as cv
from codexprov.errors import ConflictError, NotFoundError, UsageError

NEW = cv.CodexInfo(Path("/usr/bin/codex"), (0, 169, 0), caps_mod.capabilities((0, 169, 0)), False)
OLD = cv.CodexInfo(Path("/usr/bin/codex"), (0, 133, 0), caps_mod.capabilities((0, 133, 0)), False)

BASE = """\
# my settings
model = "gpt-5"

[model_providers.acme]
name = "Acme"
base_url = "http://127.0.0.1:1/v1"
env_key = "ACME_API_KEY"
"""


@pytest.fixture
def paths(isolated_home):
    return paths_mod.resolve()


@pytest.fixture
def config(paths) -> Path:
    paths.config_file.write_text(BASE)
    return paths.config_file


def snapshot(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(folder.iterdir()) if p.is_file()}


# ---------------------------------------------------------------------------- names


@pytest.mark.parametrize("name", ["work", "local-llm", "a_b", "UPPER", "1", "_x", "x" * 243])
def test_names_codex_accepts(name):
    profiles.check_name(name)


@pytest.mark.parametrize("name", ["", "a.b", "a b", "é", "x+y", "../x", "x/y", "-x", "x" * 244])
def test_names_codex_refuses(name):
    with pytest.raises(UsageError):
        profiles.check_name(name)


# ---------------------------------------------------------------------------- file form


def test_add_file_profile_exact_bytes(paths, config):
    result = profiles.add_profile(paths, "local", NEW, provider="acme", model="fake-model", reasoning_effort="high")
    assert result.changed and not result.dry_run
    assert paths.profile_file("local").read_text() == (
        "# Codex profile `local`: `codex -p local` layers this file over config.toml.\n"
        'model_provider = "acme"\n'
        'model = "fake-model"\n'
        'model_reasoning_effort = "high"\n'
    )
    assert paths.profile_file("local").stat().st_mode & 0o777 == 0o600
    assert config.read_text() == BASE


def test_add_file_profile_dry_run_writes_nothing(paths, config):
    result = profiles.add_profile(paths, "local", NEW, provider="openai", dry_run=True)
    assert result.dry_run and result.changed
    assert '+model_provider = "openai"\n' in result.diff
    assert not paths.profile_file("local").exists()


def test_add_refuses_unknown_provider_and_existing_profile(paths, config):
    with pytest.raises(NotFoundError) as err:
        profiles.add_profile(paths, "local", NEW, provider="acme2")
    assert err.value.message == "no provider `acme2` in config.toml or Codex's built-ins"
    assert err.value.hint == "Did you mean: acme?"
    assert not paths.profile_file("local").exists()
    profiles.add_profile(paths, "local", NEW, provider="acme")
    before = snapshot(paths.codex_home)
    with pytest.raises(ConflictError):
        profiles.add_profile(paths, "local", NEW, provider="ollama")
    assert snapshot(paths.codex_home) == before


def test_add_refuses_while_a_legacy_table_of_that_name_exists(paths, config):
    config.write_text(BASE + '\n[profiles.local]\nmodel = "x"\n')
    with pytest.raises(ConflictError) as err:
        profiles.add_profile(paths, "local", NEW, provider="acme")
    assert err.value.hint == "Run `codexprov profile migrate` first; Codex refuses `-p NAME` while both exist."
    assert not paths.profile_file("local").exists()


def test_reasoning_effort_checked_only_where_codex_checks_it(paths, config):
    with pytest.raises(UsageError) as err:
        profiles.add_profile(paths, "t", OLD, provider="acme", reasoning_effort="extreme")
    assert err.value.message == "Codex 0.133.0 does not accept model_reasoning_effort `extreme`"
    profiles.add_profile(paths, "t", NEW, provider="acme", reasoning_effort="extreme")


def test_list_show_and_active_file_form(paths, config):
    profiles.add_profile(paths, "local", NEW, provider="acme", model="fake-model")
    profiles.add_profile(paths, "cloud", NEW, provider="openai", model="gpt-5")
    (paths.codex_home / "not a profile.config.toml").write_text("model = 'x'\n")
    listing = profiles.list_profiles(paths, NEW)
    assert listing.form == "file"
    assert [(p.name, p.provider, p.model, p.active) for p in listing.profiles] == [
        ("cloud", "openai", "gpt-5", False),
        ("local", "acme", "fake-model", False),
    ]
    profiles.use_profile(paths, "local", NEW)
    listing = profiles.list_profiles(paths, NEW)
    assert listing.active == "local"
    assert [p.name for p in listing.profiles if p.active] == ["local"]
    shown = profiles.get_profile(paths, "local", NEW)
    assert shown.text == paths.profile_file("local").read_text()
    assert shown.to_json() == {
        "name": "local",
        "form": "file",
        "path": str(paths.profile_file("local")),
        "active": True,
        "model_provider": "acme",
        "model": "fake-model",
        "model_reasoning_effort": None,
    }
    # A later switch of provider makes the record stale: the profile is no longer what Codex uses.
    from codexprov import providers

    providers.use_provider(paths, "openai")
    assert profiles.list_profiles(paths, NEW).active is None


def test_use_file_profile_writes_its_selection_at_the_top(paths, config):
    profiles.add_profile(paths, "local", NEW, provider="acme", model="fake-model", reasoning_effort="low")
    result = profiles.use_profile(paths, "local", NEW)
    assert result.description == "use profile local"
    assert config.read_text() == (
        "# my settings\n"
        'model = "fake-model"\n'
        'model_provider = "acme"\n'
        'model_reasoning_effort = "low"\n'
        "\n"
        '[model_providers.acme]\nname = "Acme"\nbase_url = "http://127.0.0.1:1/v1"\nenv_key = "ACME_API_KEY"\n'
    )
    state = json.loads((paths.state_dir / profile_state.STATE_FILE).read_text())
    assert state == {"active": {str(paths.codex_home): "local"}}


def test_use_missing_profile_is_refused_and_changes_nothing(paths, config):
    before = snapshot(paths.codex_home)
    for info in (NEW, OLD):
        with pytest.raises(NotFoundError) as err:
            profiles.use_profile(paths, "nope", info)
        assert err.value.exit_code == 4
    assert snapshot(paths.codex_home) == before
    assert not (paths.state_dir / profile_state.STATE_FILE).exists()


def test_use_refuses_a_provider_only_the_profile_file_defines(paths, config):
    paths.profile_file("p").write_text('model_provider = "inner"\n[model_providers.inner]\nname = "I"\n')
    with pytest.raises(ConflictError):
        profiles.use_profile(paths, "p", NEW)
    assert config.read_text() == BASE


def test_rm_file_profile_is_backed_up_and_undoable(paths, config):
    from codexprov.config.transaction import undo

    profiles.add_profile(paths, "local", NEW, provider="acme")
    text = paths.profile_file("local").read_text()
    profiles.use_profile(paths, "local", NEW)
    result = profiles.remove_profile(paths, "local", NEW)
    assert result.changed and result.backup is not None and result.backup.read_text() == text
    assert not paths.profile_file("local").exists()
    assert profiles.recorded_active(paths) is None
    undone = undo(paths)
    assert undone.description == "remove profile local"
    assert paths.profile_file("local").read_text() == text
    with pytest.raises(NotFoundError):
        profiles.remove_profile(paths, "nope", NEW)


# ---------------------------------------------------------------------------- table form


def test_table_form_add_use_rm_exact_bytes(paths, config):
    profiles.add_profile(paths, "local", OLD, provider="acme", model="fake-model")
    assert config.read_text() == BASE + '\n[profiles.local]\nmodel_provider = "acme"\nmodel = "fake-model"\n'
    assert not paths.profile_file("local").exists()
    profiles.use_profile(paths, "local", OLD)
    assert config.read_text() == (
        '# my settings\nmodel = "gpt-5"\nprofile = "local"\n'
        + BASE.split('model = "gpt-5"\n', 1)[1]
        + '\n[profiles.local]\nmodel_provider = "acme"\nmodel = "fake-model"\n'
    )
    listing = profiles.list_profiles(paths, OLD)
    assert (listing.form, listing.active, [p.name for p in listing.profiles]) == ("table", "local", ["local"])
    assert listing.profiles[0].text == '[profiles.local]\nmodel_provider = "acme"\nmodel = "fake-model"\n'
    before = config.read_text()
    with pytest.raises(ConflictError):
        profiles.remove_profile(paths, "local", OLD)
    assert config.read_text() == before
    profiles.remove_profile(paths, "local", OLD, force=True)
    assert config.read_text() == BASE


def test_table_form_refuses_duplicates(paths, config):
    profiles.add_profile(paths, "local", OLD, provider="acme")
    before = config.read_text()
    with pytest.raises(ConflictError):
        profiles.add_profile(paths, "local", OLD, provider="openai")
    assert config.read_text() == before


# ---------------------------------------------------------------------------- migrate

LEGACY = """\
# my settings
model = "gpt-5"
profile = "work"

[model_providers.acme]
name = "Acme"
base_url = "http://127.0.0.1:1/v1"

# the office setup
[profiles.work]
model_provider = "acme"
model = "m1" # the big one
approval_policy = "never"

[profiles.work.features]
web_search = true

[profiles.home]
model = "m2"

[tui]
theme = "dark"
"""


def test_migrate_exact_bytes(paths):
    paths.config_file.write_text(LEGACY)
    result = profiles.migrate(paths, NEW)
    assert result.profiles == ("work", "home")
    assert result.default == "work"
    assert result.warnings == (
        "[profiles.work.features] of the old default is not copied to config.toml; `codex -p work` still applies it",
    )
    assert [e.path.name for e in result.edits] == ["work.config.toml", "home.config.toml", "config.toml"]
    assert paths.profile_file("work").read_text() == (
        "# the office setup\n"
        'model_provider = "acme"\n'
        'model = "m1" # the big one\n'
        'approval_policy = "never"\n'
        "\n"
        "[features]\n"
        "web_search = true\n"
    )
    assert paths.profile_file("home").read_text() == 'model = "m2"\n'
    assert paths.config_file.read_text() == (
        "# my settings\n"
        'model = "m1"\n'
        'model_provider = "acme"\n'
        'approval_policy = "never"\n'
        "\n"
        "[model_providers.acme]\n"
        'name = "Acme"\n'
        'base_url = "http://127.0.0.1:1/v1"\n'
        "\n"
        "[tui]\n"
        'theme = "dark"\n'
    )
    assert profiles.list_profiles(paths, NEW).active == "work"
    again = profiles.migrate(paths, NEW)
    assert (again.edits, again.changed) == ((), False)


def test_migrate_dry_run_writes_nothing(paths):
    paths.config_file.write_text(LEGACY)
    result = profiles.migrate(paths, NEW, dry_run=True)
    assert result.changed and all(e.dry_run for e in result.edits)
    assert snapshot(paths.codex_home) == {"config.toml": LEGACY}


def test_migrate_refuses_for_a_table_form_codex(paths):
    paths.config_file.write_text(LEGACY)
    with pytest.raises(ConflictError):
        profiles.migrate(paths, OLD)
    assert snapshot(paths.codex_home) == {"config.toml": LEGACY}


def test_migrate_refuses_a_conflicting_file_and_skips_an_identical_one(paths):
    paths.config_file.write_text(LEGACY)
    paths.profile_file("home").write_text('model = "other"\n')
    with pytest.raises(ConflictError):
        profiles.migrate(paths, NEW)
    assert paths.config_file.read_text() == LEGACY
    paths.profile_file("home").write_text('model = "m2"  # made by hand\n')
    result = profiles.migrate(paths, NEW)
    assert (result.profiles, result.skipped) == (("work",), ("home",))
    assert paths.profile_file("home").read_text() == 'model = "m2"  # made by hand\n'


def test_migrate_dotted_layout_falls_back_to_rendering(paths):
    paths.config_file.write_text('model = "x"\n\n[profiles]\nfast.model = "m3"\nfast.model_reasoning_effort = "low"\n')
    result = profiles.migrate(paths, NEW)
    assert result.profiles == ("fast",)
    assert paths.profile_file("fast").read_text() == 'model = "m3"\nmodel_reasoning_effort = "low"\n'
    assert paths.config_file.read_text() == 'model = "x"\n'


def test_migrate_drops_a_dangling_default(paths):
    paths.config_file.write_text('profile = "gone"\nmodel = "x"\n')
    result = profiles.migrate(paths, NEW)
    assert result.warnings == ('`profile = "gone"` named no [profiles.gone] table; it is removed',)
    assert paths.config_file.read_text() == 'model = "x"\n'


# ---------------------------------------------------------------------------- CLI


def fake_codex(folder: Path, version: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "codex"
    path.write_text(f'#!/bin/sh\necho "codex-cli {version}"\n')
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_cli_add_list_show_rm(run_cli, paths, config, tmp_path):
    codex = str(fake_codex(tmp_path / "bin", "0.169.0"))
    r = run_cli("--codex", codex, "profile", "add", "local", "--provider", "acme", "--model", "fake-model")
    assert r.exit_code == 0, r.stderr
    assert r.stderr == f"add profile local: wrote {paths.profile_file('local')}\ntry it: codex -p local\n"
    r = run_cli("--codex", codex, "profile", "list", "--json")
    data = json.loads(r.stdout)
    assert (data["form"], data["active"], data["codex"]["version"]) == ("file", None, "0.169.0")
    assert [p["name"] for p in data["profiles"]] == ["local"]
    r = run_cli("--codex", codex, "profile", "show", "local")
    assert r.stdout == paths.profile_file("local").read_text()
    r = run_cli("--codex", codex, "profile", "rm", "local")
    assert r.exit_code == 0
    assert r.stderr.startswith(f"remove profile local: removed {paths.profile_file('local')} (backup: ")
    r = run_cli("--codex", codex, "profile", "show", "local")
    assert r.exit_code == 4
    assert r.stderr.startswith(f"error: no profile `local` ({paths.profile_file('local')} does not exist)\n")


def test_cli_use_profile_nope_changes_nothing(run_cli, paths, config, tmp_path):
    codex = str(fake_codex(tmp_path / "bin", "0.169.0"))
    before = snapshot(paths.codex_home)
    r = run_cli("--codex", codex, "use", "--profile", "nope")
    assert r.exit_code == 4
    assert snapshot(paths.codex_home) == before


def test_cli_invalid_name(run_cli, config, tmp_path):
    codex = str(fake_codex(tmp_path / "bin", "0.169.0"))
    r = run_cli("--codex", codex, "profile", "add", "a.b", "--provider", "acme")
    assert r.exit_code == 2
    assert r.stderr.splitlines()[0] == "error: invalid profile name `a.b`"


def test_cli_migrate_needs_yes_without_a_tty(run_cli, paths, tmp_path):
    codex = str(fake_codex(tmp_path / "bin", "0.169.0"))
    paths.config_file.write_text(LEGACY)
    r = run_cli("--codex", codex, "profile", "migrate", input="")
    assert r.exit_code == 9
    assert snapshot(paths.codex_home) == {"config.toml": LEGACY}
    r = run_cli("--codex", codex, "profile", "migrate", "--yes")
    assert r.exit_code == 0, r.stderr
    assert sorted(snapshot(paths.codex_home)) == ["config.toml", "home.config.toml", "work.config.toml"]
    r = run_cli("--codex", codex, "profile", "migrate", "--yes")
    assert (r.exit_code, r.stderr) == (
        0,
        "nothing to migrate: no legacy `profile = …` or [profiles.*] in config.toml\n",
    )


def test_cli_says_when_no_codex_is_found(run_cli, config, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    r = run_cli("profile", "list")
    assert r.exit_code == 0
    assert r.stderr.splitlines()[0] == (
        "note: no `codex` found on PATH; assuming the newest behaviour known (Codex 0.171.0)"
    )
