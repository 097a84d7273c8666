"""autoload's conformance suite, run on this plugin (what every plugin author enables the same way)."""

from __future__ import annotations

from autoload.testing import PluginConformance


class TestViTConformance(PluginConformance):
    model_type = "vit"
    # image_size / patch_size / encoder_stride small and consistent, so masked-image-modeling reconstructs 30x30.
    tiny_config = {
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 37,
        "image_size": 30,
        "patch_size": 2,
        "encoder_stride": 2,
    }
