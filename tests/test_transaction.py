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
            [
                sys.executable,
                "-m",
                "codexprov",
                "add",
                "custom",
                "--id",
                f"p{i}",
                "--base-url",
                f"http://127.0.0.1:9/p{i}/v1",
                "--key-mode",
                "none",
            ],
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


def test_undo_acts_on_the_selected_codex_home_only(run_cli, config_file: Path, tmp_path: Path) -> None:
    config_file.write_text('model = "m"\n')
    other_home = tmp_path / "other-codex"
    other_home.mkdir()
    other = other_home / "config.toml"
    other.write_text('model = "o"\n')
    assert run_cli("use", "ollama").exit_code == 0
    assert run_cli("--codex-home", str(other_home), "use", "lmstudio").exit_code == 0
    changed_other = other.read_text()

    result = run_cli("undo")  # the default home (CODEX_HOME): undoes `use ollama` there
    assert result.exit_code == 0, result.stderr
    assert config_file.read_text() == 'model = "m"\n'
    assert other.read_text() == changed_other

    result = run_cli("undo")
    assert result.exit_code == 4
    assert result.stderr.startswith(f"error: nothing to undo in {config_file.parent}:")
    assert other.read_text() == changed_other

    assert run_cli("--codex-home", str(other_home), "undo").exit_code == 0
    assert other.read_text() == 'model = "o"\n'


def test_undo_keeps_crlf_line_ends(run_cli, config_file: Path) -> None:
    config_file.write_bytes(b'model = "m"\r\n\r\n[projects."/x"]\r\ntrust_level = "trusted"\r\n')
    before = config_file.read_bytes()
    assert run_cli("use", "ollama").exit_code == 0
    assert run_cli("undo").exit_code == 0
    assert config_file.read_bytes() == before


def test_a_read_only_config_is_refused_unless_forced(run_cli, config_file: Path) -> None:
    config_file.write_text('model = "m"\n')
    config_file.chmod(0o444)
    result = run_cli("use", "ollama")
    assert result.exit_code == 8
    assert result.stderr == (
        f"error: {config_file} is read-only (mode 0444); nothing was written\n"
        f"hint: Make it writable (chmod u+w {config_file}) and run the command again, or put --force before "
        "the command (`codexprov --force …`) to replace it anyway (it stays read-only).\n"
    )
    assert config_file.read_text() == 'model = "m"\n'
    assert run_cli("use", "ollama", "--dry-run").exit_code == 0  # a dry run writes nothing: fine

    result = run_cli("--force", "use", "ollama")
    assert result.exit_code == 0, result.stderr
    assert config_file.read_text() == 'model = "m"\nmodel_provider = "ollama"\n'
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o444

    assert run_cli("undo").exit_code == 8
    assert run_cli("--force", "undo").exit_code == 0
    assert config_file.read_text() == 'model = "m"\n'


def test_temp_files_left_by_a_killed_write_are_cleaned_under_the_lock(run_cli, config_file: Path) -> None:
    config_file.write_text('model = "m"\n')
    # What `kill -9` between mkstemp and os.replace leaves behind; a user's own file is not touched.
    stale = [config_file.parent / ".config.toml.k2j4_x9q.tmp", config_file.parent / ".config.toml.abcdefgh.tmp"]
    for path in stale:
        path.write_text("half a config")
    mine = config_file.parent / ".config.toml.mine.tmp"
    mine.write_text("keep")
    other = config_file.parent / ".work.config.toml.abcdefgh.tmp"
    other.write_text("another file's")
    assert run_cli("use", "ollama").exit_code == 0
    assert sorted(p.name for p in config_file.parent.iterdir()) == [
        ".config.toml.mine.tmp",
        ".work.config.toml.abcdefgh.tmp",
        "config.toml",
    ]


def test_a_killed_writer_leaves_no_temp_file_after_the_next_edit(config_file: Path) -> None:
    config_file.write_text('model = "m"\n')
    code = (
        "import os, signal\n"
        "from codexprov import safe_write\n"
        "real = safe_write.make_temp\n"
        "def make_temp(folder, prefix, suffix=''):\n"
        "    fd, name = real(folder, prefix, suffix)\n"
        "    if prefix == '.config.toml.':\n"
        "        os.write(fd, b'half')\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "    return fd, name\n"
        "safe_write.make_temp = make_temp\n"
        "from codexprov import paths, providers\n"
        "providers.use_provider(paths.resolve(), 'ollama')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == -9, proc.stderr
    names = sorted(p.name for p in config_file.parent.iterdir())
    assert len(names) == 2 and names[1] == "config.toml" and names[0].startswith(".config.toml.")
    providers.use_provider(paths_mod.resolve(), "lmstudio")
    assert sorted(p.name for p in config_file.parent.iterdir()) == ["config.toml"]
    assert config_file.read_text() == 'model = "m"\nmodel_provider = "lmstudio"\n'


def test_a_journal_temp_file_left_by_a_killed_write_goes_with_the_next_entry(run_cli, config_file: Path) -> None:
    config_file.write_text('model = "m"\n')
    assert run_cli("use", "ollama").exit_code == 0
    state = paths_mod.resolve().state_dir
    stale = state / ".journal.json.q1w2e3r4.tmp"
    stale.write_text("[")
    assert run_cli("use", "lmstudio").exit_code == 0
    assert not stale.exists()
    assert sorted(p.name for p in state.iterdir() if p.name.startswith(".journal")) == []
