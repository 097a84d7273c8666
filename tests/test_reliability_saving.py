"""Saving into a folder that cannot take it: a read-only file system, a full disk, no permission.

Each failure must be a :class:`~autoload.errors.SaveError` naming the folder
and the cause, and the checkpoint already in the folder must stay byte for
byte what it was (and still load).  Where the machine allows it (root, with
``mount`` permitted) the faults are real: a 1 MiB tmpfs that fills up, and the
same tmpfs remounted read-only.  Everywhere, the same faults are also
injected at the system-call level (``os.open`` / the safetensors writer
failing with ``EROFS`` / ``ENOSPC``), so the error path runs on every machine.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import autoload  # noqa: E402
from autoload import files  # noqa: E402
from autoload import weights as weights_module  # noqa: E402
from autoload.errors import SaveError  # noqa: E402
from autoload.testing.tiny import save_tiny_checkpoint  # noqa: E402


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def small_bert(tmp_path_factory):
    folder = save_tiny_checkpoint(tmp_path_factory.mktemp("bert"), "bert", vocab_size=99)
    return autoload.AutoModel.from_pretrained(folder), folder


def _mount_tmpfs(where: Path, size: str) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    where.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True, check=False
    )
    return result.returncode == 0


@pytest.fixture
def tiny_filesystem(tmp_path):
    """A 1 MiB tmpfs (real ENOSPC / EROFS), or skip where mounting is not allowed."""
    mount_point = tmp_path / "fs"
    if not _mount_tmpfs(mount_point, "1m"):
        pytest.skip("needs root and permission to mount a tmpfs")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _checkpoint_in(folder: Path, model) -> dict[str, str]:
    model.save_pretrained(folder)
    return _digests(folder)


def test_full_disk_is_a_save_error_and_keeps_the_previous_checkpoint(tiny_filesystem, small_bert):
    model, _ = small_bert
    folder = tiny_filesystem / "ckpt"
    before = _checkpoint_in(folder, model)
    # fill the file system so the next weights file cannot fit
    filler = tiny_filesystem / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        with pytest.raises(OSError):
            while True:
                os.write(fd, b"\0" * 4096)
    finally:
        os.close(fd)
    with pytest.raises(SaveError) as caught:
        model.save_pretrained(folder)
    message = str(caught.value)
    assert str(folder) in message and "No space left on device" in message
    assert caught.value.errno == errno.ENOSPC
    assert _digests(folder) == before
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    filler.unlink()
    reloaded = autoload.AutoModel.from_pretrained(folder)
    assert all(torch.equal(a, b) for a, b in zip(reloaded.state_dict().values(), model.state_dict().values()))


def test_read_only_file_system_is_a_save_error(tiny_filesystem, small_bert):
    model, _ = small_bert
    folder = tiny_filesystem / "ckpt"
    before = _checkpoint_in(folder, model)
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_filesystem)], check=True)
    for save in (model.save_pretrained, model.config.save_pretrained):
        with pytest.raises(SaveError) as caught:
            save(folder)
        assert "Read-only file system" in str(caught.value) and str(folder) in str(caught.value)
        assert caught.value.errno == errno.EROFS
    with pytest.raises(SaveError, match="Read-only file system"):
        model.save_pretrained(folder / "new-subfolder")
    assert _digests(folder) == before


@pytest.mark.parametrize("number", [errno.EROFS, errno.EACCES])
def test_unwritable_folder_injected(tmp_path, small_bert, monkeypatch, number):
    """Where no file system can be mounted: every new file in the folder fails to open, as on a read-only one."""
    model, _ = small_bert
    folder = tmp_path / "ckpt"
    before = _checkpoint_in(folder, model)
    real_open = os.open

    def refusing_open(path, flags, *args, **kwargs):
        if str(path).startswith(str(folder)) and flags & os.O_CREAT:
            raise OSError(number, os.strerror(number), str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)
    for save in (model.save_pretrained, model.config.save_pretrained):
        with pytest.raises(SaveError) as caught:
            save(folder)
        assert os.strerror(number) in str(caught.value) and str(folder) in str(caught.value)
        assert caught.value.errno == number
        assert isinstance(caught.value, OSError)
    monkeypatch.undo()
    assert _digests(folder) == before


def test_full_disk_in_the_weights_writer_injected(tmp_path, small_bert, monkeypatch):
    """safetensors (Rust) reports a full disk as text; the SaveError still names the cause and its errno."""
    model, _ = small_bert
    folder = tmp_path / "ckpt"
    before = _checkpoint_in(folder, model)
    from safetensors import SafetensorError

    def full(tensors, path, metadata):
        Path(path).write_bytes(b"partial")
        raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")

    monkeypatch.setattr(weights_module, "_write_safetensors", full)
    with pytest.raises(SaveError) as caught:
        model.save_pretrained(folder)
    assert caught.value.errno == errno.ENOSPC
    assert "No space left on device" in str(caught.value) and "Free space" in str(caught.value)
    assert _digests(folder) == before
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_full_disk_while_syncing_injected(tmp_path, monkeypatch):
    """A write that fails at fsync (delayed allocation on a full disk) leaves the old file and no temporary."""
    target = tmp_path / "settings.json"
    files.write_json(target, {"old": True})

    def failing_fsync(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(SaveError, match="No space left on device"):
        files.write_json(target, {"new": True})
    with pytest.raises(SaveError, match="No space left on device"), files.StagedFiles(tmp_path) as staged:
        staged.write_json("settings.json", {"newer": True})
    monkeypatch.undo()
    assert files.read_json(target) == {"old": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.json"]


def test_a_folder_where_a_file_belongs_fails_before_any_rename(tmp_path, small_bert):
    model, _ = small_bert
    folder = tmp_path / "ckpt"
    before = _checkpoint_in(folder, model)
    shutil.rmtree(folder / "model.safetensors", ignore_errors=True)
    (folder / "model.safetensors").unlink()
    (folder / "model.safetensors").mkdir()
    before = _digests(folder)
    config_before = (folder / "config.json").read_bytes()
    with pytest.raises(SaveError, match="A folder stands where a file of the checkpoint must go"):
        model.save_pretrained(folder)
    assert _digests(folder) == before
    assert (folder / "config.json").read_bytes() == config_before
