"""Private plugin worlds for tests: a fresh discovery and registry, restored afterwards.

Runtime ``register()`` calls and environment switches change process-wide
state; a test that makes them inside :func:`isolated_registry` leaves the next
test exactly the world it would have seen without it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping

from autoload.discovery import Discovery, set_discovery
from autoload.registry import Registry, set_registry


@contextlib.contextmanager
def isolated_registry(environ: Mapping[str, str] | None = None) -> Iterator[Registry]:
    """Install a registry over a new discovery of the installed plugins for the duration of the block.

    ``environ`` adds environment variables that only this discovery sees
    (``AUTOLOAD_DISABLE_PLUGINS``, ...); the process environment is untouched.
    """
    discovery = Discovery() if environ is None else Discovery(environ={**os.environ, **environ})
    registry = Registry(discovery)
    previous_discovery = set_discovery(discovery)
    previous_registry = set_registry(registry)
    try:
        yield registry
    finally:
        set_registry(previous_registry)
        set_discovery(previous_discovery)


__all__ = ["isolated_registry"]
