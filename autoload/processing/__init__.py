"""Base classes for what turns raw inputs into model inputs, other than tokenizers.

* :class:`ImageProcessingMixin` / :class:`BaseImageProcessor` (:mod:`.image_processing`):
  images -> ``pixel_values``.
* :class:`FeatureExtractionMixin` / :class:`SequenceFeatureExtractor` (:mod:`.feature_extraction`):
  audio and other sequences -> ``input_values`` / ``input_features``, with padding.
* :class:`ProcessorMixin` (:mod:`.processor`): one object that owns a tokenizer and an image
  processor or feature extractor, and dispatches text, images and audio.
* :class:`PreprocessorBase` (:mod:`.base`): the settings machinery the first two share.

Settings are read from and written to the Hugging Face files, so they move
both ways with transformers: ``preprocessor_config.json`` (one flat object)
and the newer ``processor_config.json``, where a processor's parts sit under
``"image_processor"`` / ``"feature_extractor"`` keys.  Each part accepts
``processor_class`` (the processor it belongs to), which is saved with it.

Importing this package imports neither numpy nor PIL; the image operations
(:func:`resize`, :func:`normalize`, ...) are loaded when first touched.
"""

from __future__ import annotations

from typing import Any

from autoload.batch import BatchFeature, to_tensor_type
from autoload.processing.base import (
    FEATURE_EXTRACTOR_NAME,
    IMAGE_PROCESSOR_NAME,
    PREPROCESSOR_NAME,
    PROCESSOR_NAME,
    PreprocessorBase,
)
from autoload.processing.feature_extraction import FeatureExtractionMixin, SequenceFeatureExtractor
from autoload.processing.image_processing import BaseImageProcessor, ImageProcessingMixin, get_size_dict
from autoload.processing.processor import ProcessorMixin

# Names of the image operations, served lazily from autoload._image_ops.
_IMAGE_OPS = frozenset(
    {
        "CHANNELS_FIRST",
        "CHANNELS_LAST",
        "Resampling",
        "center_crop",
        "convert_to_rgb",
        "get_image_size",
        "get_resize_output_image_size",
        "get_size_with_aspect_ratio",
        "infer_channel_dimension",
        "is_image_like",
        "is_pil_image",
        "is_torch_tensor",
        "normalize",
        "rescale",
        "resize",
        "to_channel_dimension_format",
        "to_numpy_image",
        "to_pil_image",
    }
)


def __getattr__(name: str) -> Any:
    if name in _IMAGE_OPS:
        from autoload import _image_ops

        return getattr(_image_ops, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FEATURE_EXTRACTOR_NAME",
    "IMAGE_PROCESSOR_NAME",
    "PREPROCESSOR_NAME",
    "PROCESSOR_NAME",
    "BaseImageProcessor",
    "BatchFeature",
    "FeatureExtractionMixin",
    "ImageProcessingMixin",
    "PreprocessorBase",
    "ProcessorMixin",
    "SequenceFeatureExtractor",
    "get_size_dict",
    "to_tensor_type",
    *sorted(_IMAGE_OPS),
]
