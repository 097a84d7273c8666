"""The declaration autoload reads to learn what this plugin serves.

Everything is a ``"module:Class"`` string, so importing this module imports
neither torch, numpy nor PIL; autoload imports a class only when it is used.
"""

from __future__ import annotations

from autoload import Architecture, hookimpl

_MODELING = "autoload_plugin_vit.modeling"

VIT = Architecture(
    model_type="vit",
    config="autoload_plugin_vit.configuration:ViTConfig",
    image_processor="autoload_plugin_vit.image_processing:ViTImageProcessor",
    # Older checkpoints record the feature-extractor era class; transformers' torchvision
    # backend saves itself as the "Fast" class. All of them mean the same settings.
    image_processor_names=("ViTFeatureExtractor", "ViTImageProcessorFast", "ViTImageProcessorPil"),
    models={
        "base": f"{_MODELING}:ViTModel",
        "image-classification": f"{_MODELING}:ViTForImageClassification",
        "masked-image-modeling": f"{_MODELING}:ViTForMaskedImageModeling",
    },
)


@hookimpl
def autoload_architectures() -> Architecture:
    return VIT
