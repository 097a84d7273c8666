"""The declaration autoload reads to learn what this plugin serves.

Classes are named by ``"module:Class"`` strings: importing this module must
import nothing heavy (no torch), because autoload imports it just to find out
what the plugin provides.
"""

from __future__ import annotations

from autoload import Architecture, hookimpl

_MODELING = "autoload_plugin_new_model.modeling"


@hookimpl
def autoload_architectures() -> Architecture:
    return Architecture(
        model_type="new-model",
        config="autoload_plugin_new_model.configuration:NewModelConfig",
        models={
            "base": f"{_MODELING}:NewModel",
            "sequence-classification": f"{_MODELING}:NewModelForSequenceClassification",
        },
    )
