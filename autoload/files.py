"""Reading and writing checkpoint files safely: atomic writes, JSON reads with errors that say where.

Public: plugins whose loaders or savers are not built on the host's bases
(a tokenizer of their own, an extra file) use these instead of writing their
own, so every file autoload writes is atomic and every JSON error is a
:class:`~autoload.ConfigError` naming the file, line and column.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from autoload.errors import ConfigError


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "w", **open_kwargs: Any) -> Iterator[IO[Any]]:
    """Write ``path`` through a temporary file in the same folder, then rename.

    Readers see either the old file or the complete new one: a crash, a full
    disk or an exception in the caller's block leaves the old file untouched
    and no partial file under the final name.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = _create_temporary(target)
    try:
        with os.fdopen(fd, mode, **open_kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise


def _create_temporary(target: Path) -> tuple[int, str]:
    """A new file beside ``target``, created with the umask's permissions (mkstemp's would be private)."""
    while True:
        name = str(target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), name
        except FileExistsError:
            continue


def write_json(path: str | os.PathLike[str], data: Any) -> str:
    """Write ``data`` as indented, key-sorted JSON, atomically; returns the path written."""
    with atomic_write(path, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    return os.fspath(path)


def read_json_object(path: str | os.PathLike[str], what: str = "JSON file") -> dict[str, Any]:
    """Read a JSON file that must hold an object, with errors that say where it broke."""
    data = read_json(path, what)
    if not isinstance(data, dict):
        raise ConfigError(f"{what} {path} must hold a JSON object, but holds a {type(data).__name__}.")
    return data


def read_json(path: str | os.PathLike[str], what: str = "JSON file") -> Any:
    """Read any JSON value from a file, turning every way it can be broken into a ConfigError naming it."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{what} {path} is not UTF-8 text ({exc.reason} at byte {exc.start}).") from exc
    if not text.strip():
        raise ConfigError(f"{what} {path} is empty. Re-save it, or download the checkpoint again.")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{what} {path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        ) from exc
    except RecursionError as exc:
        raise ConfigError(f"{what} {path} nests too deeply to be a real configuration.") from exc
    return data


class StagedFiles:
    """Several files of one folder, written under temporary names and renamed together at the end.

    A checkpoint is a set of files that must agree (a tokenizer's
    ``tokenizer.json`` and ``tokenizer_config.json``, weights and their
    index): replacing them one by one would leave a mix of old and new ones
    if the process died between two of them.  Here everything is written
    first; the renames come last, back to back, so a failure while writing
    leaves the previous set untouched::

        with StagedFiles(folder) as staged:
            staged.write_json("tokenizer_config.json", config)
            staged.write_text("tokenizer.json", text)
            path = staged.reserve("model.safetensors")  # for writers that need a path of their own

    Temporary files are hidden (``.NAME.XXXX.tmp``) and removed when the block
    raises.
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = os.fspath(directory)
        os.makedirs(self.directory, exist_ok=True)
        self.staged: list[tuple[str, str]] = []
        self.mode: int | None = None

    def __enter__(self) -> StagedFiles:
        return self

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()

    def reserve(self, final_name: str) -> str:
        """A temporary path that becomes ``final_name`` at commit."""
        # Created with the umask's permissions, which commit re-applies: some
        # writers (safetensors) replace the file with a private one of their own.
        while True:
            temp = os.path.join(self.directory, f".{final_name}.{secrets.token_hex(6)}.tmp")
            try:
                fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                continue
            self.mode = stat.S_IMODE(os.fstat(fd).st_mode)
            os.close(fd)
            self.staged.append((temp, os.path.join(self.directory, final_name)))
            return temp

    def write_text(self, final_name: str, text: str) -> str:
        temp = self.reserve(final_name)
        with open(temp, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        return os.path.join(self.directory, final_name)

    def write_json(self, final_name: str, data: Any) -> str:
        return self.write_text(final_name, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")

    def commit(self) -> None:
        for temp, _ in self.staged:
            with open(temp, "rb") as handle:
                os.fsync(handle.fileno())
            if self.mode is not None:
                os.chmod(temp, self.mode)
        for temp, final in self.staged:
            os.replace(temp, final)
        self.staged = []
        fsync_directory(self.directory)

    def abort(self) -> None:
        for temp, _ in self.staged:
            with contextlib.suppress(OSError):
                os.unlink(temp)
        self.staged = []


def fsync_directory(directory: str | os.PathLike[str]) -> None:
    """Make renames in ``directory`` durable (where the platform allows opening a folder)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
