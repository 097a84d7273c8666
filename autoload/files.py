"""Reading and writing checkpoint files safely: atomic writes, JSON reads with errors that say where.

Public: plugins whose loaders or savers are not built on the host's bases
(a tokenizer of their own, an extra file) use these instead of writing their
own, so every file autoload writes is atomic and every JSON error is a
:class:`~autoload.ConfigError` naming the file, line and column.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from autoload.errors import ConfigError, SaveError


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "w", **open_kwargs: Any) -> Iterator[IO[Any]]:
    """Write ``path`` through a temporary file in the same folder, then rename.

    Readers see either the old file or the complete new one: a crash, a full
    disk or an exception in the caller's block leaves the old file untouched
    and no partial file under the final name.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = _create_temporary(target)
    except OSError as exc:
        raise save_error(target.parent, exc, f"file {target.name}") from exc
    try:
        with os.fdopen(fd, mode, **open_kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        if isinstance(exc, OSError) and not isinstance(exc, SaveError):
            raise save_error(target.parent, exc, f"file {target.name}") from exc
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
    except ValueError as exc:
        # Python refuses to parse integers of more than a few thousand digits (a guard against
        # quadratic-time conversion); no real setting is such a number.
        raise ConfigError(f"{what} {path} holds a value Python cannot read: {exc}.") from exc
    return data


_OS_ERROR_NUMBER = re.compile(r"\(os error (\d+)\)")


def save_error(directory: str | os.PathLike[str], exc: BaseException, what: str = "checkpoint") -> SaveError:
    """A :class:`SaveError` naming ``directory`` and the cause, for an ``OSError`` (or a writer's error) while saving.

    Writers that are not Python (safetensors is Rust) report the operating
    system's error as text ending in ``(os error N)``; that number is
    recovered so the message can name the cause the same way.
    """
    number = getattr(exc, "errno", None)
    if number is None:
        found = _OS_ERROR_NUMBER.search(str(exc))
        number = int(found.group(1)) if found else None
    cause = os.strerror(number) if number is not None else str(exc)
    advice = {
        errno.ENOSPC: "Free space on that file system (or save elsewhere) and save again.",
        errno.EDQUOT: "Free space within your quota (or save elsewhere) and save again.",
        errno.EFBIG: "The file system or a resource limit (ulimit -f) caps the file size; save elsewhere.",
        errno.EROFS: "The file system is mounted read-only; save to a writable folder.",
        errno.EACCES: "You lack write permission there; save to a folder you can write to.",
        errno.EPERM: "You lack write permission there; save to a folder you can write to.",
        errno.ENOTDIR: "A part of that path is a file, not a folder; choose another path.",
        errno.EISDIR: "A folder stands where a file of the checkpoint must go; remove it or save elsewhere.",
    }.get(number, "Check that the folder is writable and has free space, then save again.")
    error = SaveError(
        f"Could not save the {what} to {os.fspath(directory)}: {cause}. {advice} "
        "Files already in the folder were left as they were."
    )
    error.errno = number
    return error


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
        try:
            os.makedirs(self.directory, exist_ok=True)
        except OSError as exc:
            raise save_error(self.directory, exc) from exc
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
            except OSError as exc:
                raise save_error(self.directory, exc) from exc
            self.mode = stat.S_IMODE(os.fstat(fd).st_mode)
            os.close(fd)
            self.staged.append((temp, os.path.join(self.directory, final_name)))
            return temp

    def write_text(self, final_name: str, text: str) -> str:
        temp = self.reserve(final_name)
        try:
            with open(temp, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
        except OSError as exc:
            raise save_error(self.directory, exc) from exc
        return os.path.join(self.directory, final_name)

    def write_json(self, final_name: str, data: Any) -> str:
        return self.write_text(final_name, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")

    def commit(self) -> None:
        """Sync every staged file, then rename them all; any failure before the renames changes nothing."""
        try:
            for temp, final in self.staged:
                with open(temp, "rb") as handle:
                    os.fsync(handle.fileno())
                if self.mode is not None:
                    os.chmod(temp, self.mode)
                if os.path.isdir(final) and not os.path.islink(final):
                    # os.replace would fail on it half-way through the renames; fail before the first.
                    raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), final)
            for temp, final in self.staged:
                os.replace(temp, final)
        except OSError as exc:
            self.abort()
            raise save_error(self.directory, exc) from exc
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
