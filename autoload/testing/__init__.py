"""The plugin author's kit: fixtures, tiny checkpoints and the conformance suite.

Registered as a pytest plugin (``pytest11`` entry point of autoload-core), so
its fixtures (``autoload_registry``, ``autoload_environment``,
``tiny_checkpoint``) are available in any test run where autoload is
installed.  A plugin enables the conformance suite with one class::

    from autoload.testing import PluginConformance

    class TestMyModelConformance(PluginConformance):
        model_type = "my-model"
        tiny_config = {"hidden_size": 32, "num_hidden_layers": 2}

Names are imported on first use, so the pytest plugin stays cheap to load.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "PluginConformance": "autoload.testing.conformance",
    "assert_same_outputs": "autoload.testing.conformance",
    "non_public_imports": "autoload.testing.conformance",
    "modules_loaded_by": "autoload.testing.conformance",
    "plugin_entry_points": "autoload.testing.conformance",
    "HEAVY_MODULES": "autoload.testing.conformance",
    "PUBLIC_HOST_MODULES": "autoload.testing.conformance",
    "isolated_registry": "autoload.testing.isolation",
    "tiny_config": "autoload.testing.tiny",
    "save_tiny_checkpoint": "autoload.testing.tiny",
    "TINY_DEFAULTS": "autoload.testing.tiny",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'autoload.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = sorted(_LAZY)
