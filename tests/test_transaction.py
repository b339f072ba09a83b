"""Writes are transactions: concurrent writers lose nothing, modes and symlinks are kept, the lock
times out with a clear error, backups are bounded, undo refuses to clobber later edits."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from codexprov import paths as paths_mod
from codexprov import providers
from codexprov.config import transaction
from codexprov.errors import CodexprovError, LockError
from codexprov.model import ProviderSpec


def _spec(pid: str) -> ProviderSpec:
    return ProviderSpec(id=pid, name=pid.upper(), base_url=f"http://127.0.0.1:9/{pid}/v1", env_key=None)


def test_eight_concurrent_adds_leave_eight_providers(config_file: Path) -> None:
    config_file.write_text('# shared\nmodel = "m"\n')
    env = dict(os.environ)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "codexprov", "add", "custom", "--id", f"p{i}", "--base-url", f"http://127.0.0.1:9/p{i}/v1", "--key-mode", "none"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(8)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    data = tomllib.loads(config_file.read_text())
    assert sorted(data["model_providers"]) == [f"p{i}" for i in range(8)]
    assert config_file.read_text().startswith('# shared\nmodel = "m"\n')
    assert [p.name for p in config_file.parent.iterdir()] == ["config.toml"]  # no temp files left behind


def test_concurrent_threads_in_process(config_file: Path) -> None:
    paths = paths_mod.resolve()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda i: providers.add_provider(paths, _spec(f"t{i}")), range(8)))
    assert len(tomllib.loads(config_file.read_text())["model_providers"]) == 8


def test_mode_is_kept(config_file: Path) -> None:
    config_file.write_text('model = "m"\n')
    config_file.chmod(0o640)
    providers.use_provider(paths_mod.resolve(), "ollama")
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o640


def test_new_config_is_private(tmp_path: Path) -> None:
    home = tmp_path / "fresh" / "codex"
    paths = paths_mod.resolve(home)
    providers.use_provider(paths, "ollama")
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "config.toml").stat().st_mode) == 0o600


def test_symlinked_config_is_written_through(config_file: Path, tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    real = dotfiles / "codex.toml"
    real.write_text('model = "m"\n')
    config_file.symlink_to(real)
    providers.use_provider(paths_mod.resolve(), "ollama")
    assert config_file.is_symlink()
    assert os.readlink(config_file) == str(real)
    assert real.read_text() == 'model = "m"\nmodel_provider = "ollama"\n'
    transaction.undo(paths_mod.resolve())
    assert config_file.is_symlink() and real.read_text() == 'model = "m"\n'


def test_lock_timeout_is_a_clear_error(config_file: Path) -> None:
    config_file.write_text('model = "m"\n')
    paths = paths_mod.resolve()
    target = Path(os.path.realpath(config_file))
    holder = transaction.lock_for(paths, target)
    holder.timeout = 1
    with holder:
        waiting = transaction.lock_for(paths, target)
        waiting.timeout = 0.3
        with pytest.raises(LockError) as info, waiting:
            pass
    assert "timed out" in info.value.message and info.value.exit_code == 7
    assert config_file.read_text() == 'model = "m"\n'


def test_backups_are_bounded_and_private(config_file: Path) -> None:
    config_file.write_text('model = "m"\n')
    paths = paths_mod.resolve()
    for i in range(transaction.MAX_BACKUPS + 5):
        providers.use_provider(paths, "ollama", model=f"m{i}")
    backups = list(paths.backup_dir.rglob("*config.toml"))
    assert len(backups) == transaction.MAX_BACKUPS
    assert all(stat.S_IMODE(b.stat().st_mode) == 0o600 for b in backups)
    assert str(paths.state_dir).startswith(os.environ["HOME"])  # never outside the test home


def test_undo_refuses_after_a_manual_edit(config_file: Path) -> None:
    config_file.write_text('model = "m"\n')
    paths = paths_mod.resolve()
    providers.use_provider(paths, "ollama")
    config_file.write_text(config_file.read_text() + "# my own edit\n")
    with pytest.raises(CodexprovError, match="changed after codexprov's last edit"):
        transaction.undo(paths)
    transaction.undo(paths, force=True)
    assert config_file.read_text() == 'model = "m"\n'


def test_failed_write_leaves_file_untouched(config_file: Path, monkeypatch: pytest.MonkeyPatch, run_cli) -> None:
    config_file.write_text('model = "m"\n')

    real_replace = os.replace

    def disk_full(src, dst):
        if Path(dst) == config_file:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(transaction.os, "replace", disk_full)
    result = run_cli("use", "ollama")
    assert result.exit_code == 8
    assert result.stderr.startswith(f"error: cannot write {config_file}: No space left on device")
    assert config_file.read_text() == 'model = "m"\n'
    assert [p.name for p in config_file.parent.iterdir()] == ["config.toml"]
