"""pytest plugin shipped with autoload-core (registered through the ``pytest11`` entry point).

Fixtures give each test its own discovery and registry, so runtime
``register()`` calls and environment switches in one test never leak into
another, and tests of plugin faults can install their own view of the world.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from autoload.discovery import Discovery, set_discovery
from autoload.registry import Registry, set_registry


@pytest.fixture
def autoload_registry() -> Iterator[Registry]:
    """A fresh registry over a fresh discovery of the installed plugins, for this test only."""
    discovery = Discovery()
    registry = Registry(discovery)
    previous_discovery = set_discovery(discovery)
    previous_registry = set_registry(registry)
    try:
        yield registry
    finally:
        set_registry(previous_registry)
        set_discovery(previous_discovery)


@pytest.fixture
def autoload_environment() -> Iterator[Callable[..., Registry]]:
    """Install a registry whose discovery sees the given environment variables.

    ``autoload_environment(AUTOLOAD_DISABLE_PLUGINS="bert")`` returns the new
    registry; the previous one is back after the test.
    """
    saved: list[tuple[Discovery | None, Registry]] = []

    def install(**environ: str) -> Registry:
        discovery = Discovery(environ={**os.environ, **environ})
        registry = Registry(discovery)
        saved.append((set_discovery(discovery), set_registry(registry)))
        return registry

    try:
        yield install
    finally:
        for previous_discovery, previous_registry in reversed(saved):
            set_registry(previous_registry)
            set_discovery(previous_discovery)
