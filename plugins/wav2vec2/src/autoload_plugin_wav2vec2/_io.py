"""JSON reading and atomic writing for the tokenizer's files (plugins do not use the host's private helpers)."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from autoload.errors import ConfigError


def write_json_atomic(path: str | os.PathLike[str], data: Any) -> str:
    """Write ``data`` as indented, key-sorted JSON; readers see the old file or the whole new one."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    return str(target)


def read_json(path: str | os.PathLike[str], what: str) -> Any:
    """Parse a JSON file, turning every way it can be broken into a :class:`ConfigError` that names it."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{what} {path} is not UTF-8 text ({exc.reason} at byte {exc.start}).") from exc
    if not text.strip():
        raise ConfigError(f"{what} {path} is empty. Re-save it, or download the checkpoint again.")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{what} {path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        ) from exc


def read_json_object(path: str | os.PathLike[str], what: str) -> dict[str, Any]:
    data = read_json(path, what)
    if not isinstance(data, dict):
        raise ConfigError(f"{what} {path} must hold a JSON object, but holds a {type(data).__name__}.")
    return data
