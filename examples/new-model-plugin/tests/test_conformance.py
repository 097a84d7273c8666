"""autoload's conformance suite, run on this plugin: the declaration, the config and every head."""

from __future__ import annotations

from typing import Any, ClassVar

from autoload.testing import PluginConformance


class TestNewModelConformance(PluginConformance):
    model_type = "new-model"
    tiny_config: ClassVar[dict[str, Any]] = {
        "vocab_size": 99,
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
    }
