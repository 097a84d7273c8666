"""ViTImageProcessor: images to the ``pixel_values`` a ViT was trained on.

ViT's preprocessing is the standard pipeline of
:class:`autoload.processing.BaseImageProcessor` with ViT's defaults: resize to
224x224 with bilinear filtering, scale to [0, 1], normalize with mean and std
0.5 (so pixels land in [-1, 1]).  The numerics are those of transformers' PIL
backend, so the same checkpoint sees the same inputs in either library.
"""

from __future__ import annotations

from typing import Any, ClassVar

from autoload.processing import BaseImageProcessor

# The "standard" ImageNet statistics of the original ViT code: 0.5 everywhere.
IMAGENET_STANDARD_MEAN = (0.5, 0.5, 0.5)
IMAGENET_STANDARD_STD = (0.5, 0.5, 0.5)


class ViTImageProcessor(BaseImageProcessor):
    """Resize, rescale and normalize images for ViT.

    Settings (each also accepted per call): ``do_resize``, ``size`` (a
    ``{"height", "width"}`` dict; an int means a square, ``{"shortest_edge": n}``
    keeps the aspect ratio), ``resample`` (a PIL filter number, 2 = bilinear),
    ``do_rescale``, ``rescale_factor``, ``do_normalize``, ``image_mean``,
    ``image_std``, ``do_convert_rgb`` (off by default, as in transformers:
    turn it on for grayscale or RGBA inputs).
    """

    model_input_names: ClassVar[list[str]] = ["pixel_values"]

    do_resize = True
    size: Any = {"height": 224, "width": 224}
    resample = 2
    do_rescale = True
    rescale_factor = 1 / 255
    do_normalize = True
    image_mean: Any = IMAGENET_STANDARD_MEAN
    image_std: Any = IMAGENET_STANDARD_STD


__all__ = ["ViTImageProcessor"]
