"""pytest plugin shipped with autoload-core (registered through the ``pytest11`` entry point).

Fixtures give each test its own discovery and registry, so runtime
``register()`` calls and environment switches in one test never leak into
another, and tests of plugin faults can install their own view of the world.
``tiny_checkpoint`` saves a small random model of any installed model type.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from autoload.registry import Registry
from autoload.testing.isolation import isolated_registry


@pytest.fixture
def autoload_registry() -> Iterator[Registry]:
    """A fresh registry over a fresh discovery of the installed plugins, for this test only."""
    with isolated_registry() as registry:
        yield registry


@pytest.fixture
def autoload_environment() -> Iterator[Callable[..., Registry]]:
    """Install a registry whose discovery sees the given environment variables.

    ``autoload_environment(AUTOLOAD_DISABLE_PLUGINS="bert")`` returns the new
    registry; the previous one is back after the test.
    """
    with contextlib.ExitStack() as stack:

        def install(**environ: str) -> Registry:
            return stack.enter_context(isolated_registry(environ))

        yield install


@pytest.fixture
def tiny_checkpoint(tmp_path: Path) -> Callable[..., Path]:
    """Factory: ``tiny_checkpoint("bert", "masked-lm", num_labels=3)`` -> folder holding config.json and weights.

    The model is built from a small config (hidden size 32, 2 layers, 4
    heads where the config has such fields; keyword arguments override
    them) through the task's Auto class, with a fixed seed, so two calls
    with the same arguments write the same weights.
    """
    from autoload.testing.tiny import save_tiny_checkpoint

    counter = itertools.count()

    def make(model_type: str, task: str = "base", *, seed: int = 0, **config_overrides: Any) -> Path:
        folder = tmp_path / f"tiny-{model_type}-{task}-{next(counter)}"
        return save_tiny_checkpoint(folder, model_type, task, seed=seed, **config_overrides)

    return make
