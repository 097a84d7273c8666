"""Image processors: images -> ``pixel_values`` (RGB, resize, centre crop, rescale, normalize).

Saved as ``preprocessor_config.json`` with ``image_processor_type``; read
also from ``processor_config.json``'s ``"image_processor"`` entry.  numpy and
PIL are imported only when images are processed (through
:mod:`autoload._image_ops`).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from autoload.batch import BatchFeature
from autoload.errors import ConfigError, ProcessingError
from autoload.processing.base import PreprocessorBase

if TYPE_CHECKING:
    import numpy as np

# Normalising float32 pixels by a std below this, or by statistics above the
# other bound, overflows to infinity: such a config is broken, not unusual.
_SMALLEST_STD = 1e-30
_LARGEST_STATISTIC = 1e30

_VALID_SIZE_KEYS = (
    frozenset({"height", "width"}),
    frozenset({"shortest_edge"}),
    frozenset({"shortest_edge", "longest_edge"}),
    frozenset({"longest_edge"}),
    frozenset({"max_height", "max_width"}),
)


def get_size_dict(
    size: Any,
    default_to_square: bool = True,
    height_width_order: bool = True,
    max_size: int | None = None,
    param_name: str = "size",
    error: type[Exception] = ConfigError,
) -> dict[str, int]:
    """The canonical size dict from the forms saved files use.

    An int is a square (or, with ``default_to_square=False``, the short
    side); a pair is (height, width); a dict must use one of the known key
    sets (``height``/``width``, ``shortest_edge``[/``longest_edge``], ...).
    Every value must be a positive integer.
    """
    if isinstance(size, Mapping):
        result = dict(size)
        if not any(set(result) == keys for keys in _VALID_SIZE_KEYS):
            raise error(
                f"{param_name} {result!r} must have the keys 'height' and 'width', 'shortest_edge' (optionally with "
                "'longest_edge'), 'longest_edge', or 'max_height' and 'max_width'."
            )
    elif isinstance(size, bool):
        raise error(f"{param_name} must be an int, a (height, width) pair or a dict, not {size!r}.")
    elif isinstance(size, int):
        if default_to_square:
            if max_size is not None:
                raise error(f"{param_name}: a square size cannot also have max_size.")
            result = {"height": size, "width": size}
        else:
            result = {"shortest_edge": size}
            if max_size is not None:
                result["longest_edge"] = max_size
    elif isinstance(size, (list, tuple)) and len(size) == 2:
        first, second = size
        result = {"height": first, "width": second} if height_width_order else {"height": second, "width": first}
    elif size is None and max_size is not None and not default_to_square:
        result = {"longest_edge": max_size}
    else:
        raise error(f"{param_name} must be an int, a (height, width) pair or a dict, not {size!r}.")
    for key, value in result.items():
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise error(f"{param_name}[{key!r}] must be a positive integer, not {value!r}.")
    return result


def _check_number_or_numbers(name: str, value: Any, error: type[Exception], *, nonzero: bool) -> None:
    values = [value] if isinstance(value, (int, float)) and not isinstance(value, bool) else value
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        raise error(f"{name} must be a number or a list of numbers (one per channel), not {value!r}.")
    values = list(values)
    if not values:
        raise error(f"{name} must not be empty.")
    for item in values:
        if isinstance(item, bool) or not isinstance(item, (int, float)) or not math.isfinite(item):
            raise error(f"{name} must hold finite numbers, but holds {item!r}.")
        if nonzero and item == 0:
            raise error(f"{name} must not contain 0: normalizing divides by it (got {value!r}).")


class ImageProcessingMixin(PreprocessorBase):
    """Settings load/save for image processors (``image_processor_type`` in saved files).

    Read from ``processor_config.json``'s ``"image_processor"`` entry when
    present, else from ``preprocessor_config.json``.
    """

    _nested_keys = ("image_processor",)
    _type_key = "image_processor_type"
    _what = "Image processor"

    get_image_processor_dict = PreprocessorBase.get_config_dict


class BaseImageProcessor(ImageProcessingMixin):
    """An image processor with the standard pipeline: RGB, resize, centre crop, rescale, normalize.

    A plugin subclasses it and sets class attributes as defaults::

        class MyImageProcessor(BaseImageProcessor):
            size = {"height": 224, "width": 224}
            image_mean = (0.5, 0.5, 0.5)
            image_std = (0.5, 0.5, 0.5)

    Each name in ``settings`` can be passed to ``__init__`` (saved) or to
    ``__call__`` (this call only).  Images are PIL images, numpy arrays (HWC
    or CHW, 2-D for grayscale; a 4-D array is a batch), torch tensors, or
    lists of those.  The output is a :class:`BatchFeature` with
    ``pixel_values``: float32 CHW arrays (``return_tensors=None``), or one
    stacked array/tensor (``"np"``/``"pt"``).  Numerics follow the PIL
    backend of transformers' image processors.  Override ``_preprocess_image``
    for another per-image pipeline, or ``_preprocess`` for batch-level work.
    """

    #: Every per-call setting of the pipeline, in the order they are applied.
    settings: ClassVar[tuple[str, ...]] = (
        "do_convert_rgb",
        "do_resize",
        "size",
        "resample",
        "do_center_crop",
        "crop_size",
        "do_rescale",
        "rescale_factor",
        "do_normalize",
        "image_mean",
        "image_std",
    )
    model_input_names = ["pixel_values"]

    do_convert_rgb: bool | None = None
    do_resize: bool | None = True
    size: Any = None
    resample: int | None = 2  # PIL bilinear
    do_center_crop: bool | None = None
    crop_size: Any = None
    do_rescale: bool | None = True
    rescale_factor: float | None = 1 / 255
    do_normalize: bool | None = True
    image_mean: Any = None
    image_std: Any = None
    #: How an int ``size`` is read: a square (True) or the short side (False).
    default_to_square: ClassVar[bool] = True

    def __init__(self, **kwargs: Any) -> None:
        values = {}
        for name in self.settings:
            given = kwargs.pop(name, None)
            values[name] = copy.deepcopy(getattr(type(self), name, None)) if given is None else given
        default_to_square = kwargs.pop("default_to_square", None)
        square = self.default_to_square if default_to_square is None else default_to_square
        values = self._standardize_settings(values, default_to_square=square, error=ConfigError)
        for name, value in values.items():
            setattr(self, name, value)
        super().__init__(**kwargs)

    @classmethod
    def _accepted_keys(cls) -> set[str]:
        return super()._accepted_keys() | set(cls.settings) | {"default_to_square"}

    # -- settings ---------------------------------------------------------------------

    def _standardize_settings(
        self, values: dict[str, Any], *, default_to_square: bool, error: type[Exception]
    ) -> dict[str, Any]:
        """Canonical forms (size dicts, tuples for mean/std, int resample) and checks of impossible values."""
        name = type(self).__name__
        values = dict(values)
        for flag in ("do_convert_rgb", "do_resize", "do_center_crop", "do_rescale", "do_normalize"):
            if flag in values and values[flag] is not None and not isinstance(values[flag], bool):
                raise error(f"{name}: {flag} must be true or false, not {values[flag]!r}.")
        if values.get("size") is not None:
            values["size"] = get_size_dict(values["size"], default_to_square=default_to_square, error=error)
        if values.get("crop_size") is not None:
            values["crop_size"] = get_size_dict(values["crop_size"], param_name="crop_size", error=error)
        resample = values.get("resample")
        if resample is not None:
            if isinstance(resample, bool) or not isinstance(resample, int) or not 0 <= int(resample) <= 5:
                raise error(
                    f"{name}: resample must be a PIL filter number 0-5 (0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, "
                    f"4 box, 5 hamming), not {resample!r}."
                )
            values["resample"] = int(resample)
        factor = values.get("rescale_factor")
        if factor is not None and (
            isinstance(factor, bool) or not isinstance(factor, (int, float)) or not math.isfinite(factor) or factor <= 0
        ):
            raise error(f"{name}: rescale_factor must be a positive number, not {factor!r}.")
        for key, nonzero in (("image_mean", False), ("image_std", True)):
            value = values.get(key)
            if value is None:
                continue
            _check_number_or_numbers(f"{name}: {key}", value, error, nonzero=nonzero)
            if isinstance(value, (list, tuple)):
                values[key] = tuple(float(item) for item in value)
            elif hasattr(value, "tolist"):
                values[key] = tuple(float(item) for item in value.tolist())
        mean, std = values.get("image_mean"), values.get("image_std")
        for key, value, smallest in (("image_mean", mean, 0.0), ("image_std", std, _SMALLEST_STD)):
            for item in value if isinstance(value, tuple) else () if value is None else (value,):
                if abs(float(item)) > _LARGEST_STATISTIC or 0 < abs(float(item)) < smallest:
                    raise error(
                        f"{name}: {key} value {item!r} is outside what float32 pixels can be normalised with "
                        f"(magnitudes from {_SMALLEST_STD:g} to {_LARGEST_STATISTIC:g}); every pixel would overflow."
                    )
        if isinstance(mean, tuple) and isinstance(std, tuple) and len(mean) != len(std):
            raise error(
                f"{name}: image_mean has {len(mean)} values but image_std has {len(std)}; "
                "give one per channel for both."
            )
        return values

    def _call_settings(self, overrides: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(overrides) - set(self.settings) - {"default_to_square"})
        if unknown:
            raise ProcessingError(
                f"{type(self).__name__} got unknown argument(s) {unknown}; it takes {list(self.settings)}, "
                "return_tensors and input_data_format."
            )
        values = {
            name: overrides[name] if overrides.get(name) is not None else getattr(self, name, None)
            for name in self.settings
        }
        square = overrides.get("default_to_square")
        square = self.default_to_square if square is None else square
        values = self._standardize_settings(values, default_to_square=square, error=ProcessingError)
        if values.get("do_resize") and (values.get("size") is None or values.get("resample") is None):
            raise ProcessingError(f"{type(self).__name__}: do_resize needs size and resample.")
        if values.get("do_center_crop") and values.get("crop_size") is None:
            raise ProcessingError(f"{type(self).__name__}: do_center_crop needs crop_size.")
        if values.get("do_rescale") and values.get("rescale_factor") is None:
            raise ProcessingError(f"{type(self).__name__}: do_rescale needs rescale_factor.")
        if values.get("do_normalize") and (values.get("image_mean") is None or values.get("image_std") is None):
            raise ProcessingError(f"{type(self).__name__}: do_normalize needs image_mean and image_std.")
        return values

    def to_dict(self) -> dict[str, Any]:
        output = super().to_dict()
        for name in self.settings:
            if output.get(name, 0) is None and getattr(type(self), name, None) is None:
                del output[name]
        return output

    # -- calling ------------------------------------------------------------------------

    def __call__(self, images: Any, **kwargs: Any) -> BatchFeature:
        return self.preprocess(images, **kwargs)

    def preprocess(
        self, images: Any, return_tensors: str | None = None, input_data_format: str | None = None, **kwargs: Any
    ) -> BatchFeature:
        """Images -> ``BatchFeature(pixel_values=...)``; keyword settings apply to this call only."""
        kwargs.pop("data_format", None)  # output is always channels first
        settings = self._call_settings(kwargs)
        if return_tensors is not None and return_tensors not in ("pt", "np"):
            raise ProcessingError(f"return_tensors must be 'pt', 'np' or None, not {return_tensors!r}.")
        flat = self._flatten_images(images)
        resized = self._resize_rgb_pil_images(flat, settings)
        if resized is not None:
            arrays, settings = resized, {**settings, "do_resize": False}
        else:
            arrays = [
                self._to_channels_first(image, settings.get("do_convert_rgb"), input_data_format, index)
                for index, image in enumerate(flat)
            ]
        data = self._preprocess(arrays, **settings)
        return BatchFeature(data, tensor_type=return_tensors)

    def _resize_rgb_pil_images(self, images: list[Any], settings: dict[str, Any]) -> list[np.ndarray] | None:
        """Resize a batch of RGB PIL images in PIL itself, or ``None`` when the batch is anything else.

        The general path turns each image into an array and, to resize, back
        into a PIL image: for 8-bit RGB that round trip is exact, so resizing
        the PIL image directly gives the same pixels without two copies of
        every full-size image.
        """
        from autoload import _image_ops as ops

        if not settings.get("do_resize") or not images:
            return None
        if not all(ops.is_pil_image(image) and image.mode == "RGB" and image.width * image.height for image in images):
            return None
        import numpy as np

        arrays = []
        for index, image in enumerate(images):
            height, width = self._resize_target(_ShapeOnly(image.height, image.width), settings["size"])
            if height <= 0 or width <= 0:
                raise ProcessingError(f"Cannot resize to {height}x{width}: both sides must be positive.")
            ops.check_output_size(height, width)
            ops.decode_pil_image(image, f"image {index}")
            resample = settings.get("resample")
            resized = image.resize((width, height), resample=ops.Resampling.BILINEAR if resample is None else resample)
            arrays.append(np.moveaxis(np.asarray(resized), -1, 0))
        return arrays

    def _preprocess(self, images: list[np.ndarray], **settings: Any) -> dict[str, Any]:
        """Channels-first arrays -> the output fields; the default runs ``_preprocess_image`` on each."""
        return {"pixel_values": [self._preprocess_image(image, **settings) for image in images]}

    def _preprocess_image(self, image: np.ndarray, **settings: Any) -> np.ndarray:
        import numpy as np

        from autoload import _image_ops as ops

        if settings.get("do_resize"):
            target = self._resize_target(image, settings["size"])
            image = ops.resize(image, target, resample=settings["resample"], input_data_format=ops.CHANNELS_FIRST)
        if settings.get("do_center_crop"):
            crop = settings["crop_size"]
            if set(crop) != {"height", "width"}:
                raise ProcessingError(f"crop_size must have 'height' and 'width', not {crop!r}.")
            image = ops.center_crop(image, (crop["height"], crop["width"]), input_data_format=ops.CHANNELS_FIRST)
        if settings.get("do_rescale"):
            image = ops.rescale(image, settings["rescale_factor"])
        if settings.get("do_normalize"):
            image = ops.normalize(
                image, settings["image_mean"], settings["image_std"], input_data_format=ops.CHANNELS_FIRST
            )
        return np.ascontiguousarray(image, dtype=np.float32)

    @staticmethod
    def _resize_target(image: np.ndarray, size: dict[str, int]) -> tuple[int, int]:
        from autoload import _image_ops as ops

        height, width = int(image.shape[-2]), int(image.shape[-1])
        if "shortest_edge" in size and "longest_edge" in size:
            return ops.get_size_with_aspect_ratio((height, width), size["shortest_edge"], size["longest_edge"])
        if "shortest_edge" in size:
            return ops.get_resize_output_image_size(
                image, size["shortest_edge"], default_to_square=False, input_data_format=ops.CHANNELS_FIRST
            )
        if "max_height" in size and "max_width" in size:
            scale = min(size["max_height"] / height, size["max_width"] / width)
            output = max(1, int(height * scale)), max(1, int(width * scale))
            ops.check_output_size(*output)
            return output
        if "height" in size and "width" in size:
            ops.check_output_size(size["height"], size["width"])
            return size["height"], size["width"]
        raise ProcessingError(
            f"Cannot resize with size {size!r}: give 'height' and 'width', 'shortest_edge' or 'max_height'/'max_width'."
        )

    # -- input handling ---------------------------------------------------------------------

    @staticmethod
    def _flatten_images(images: Any) -> list[Any]:
        """One image, a batch array, a list, or a list of lists -> a flat list of single images."""
        from autoload import _image_ops as ops

        def dims(item: Any) -> int | None:
            if ops.is_pil_image(item):
                return None
            return int(item.ndim)

        if ops.is_image_like(images):
            ndim = dims(images)
            if ndim is None or ndim in (2, 3):
                return [images]
            if ndim == 4:
                if images.shape[0] == 0:
                    raise ProcessingError("Got an empty batch of images (first dimension is 0).")
                return list(images)
            raise ProcessingError(
                f"An image array must have 2 (H, W), 3 (HWC or CHW) or 4 (a batch) dimensions, but this one has "
                f"shape {tuple(images.shape)}."
            )
        if isinstance(images, (list, tuple)):
            if not images:
                raise ProcessingError("Got an empty list of images.")
            flat: list[Any] = []
            for item in images:
                if isinstance(item, (list, tuple)):
                    for inner in item:
                        if not ops.is_image_like(inner) or (dims(inner) or 3) not in (2, 3):
                            raise ProcessingError(
                                f"Nested image lists must hold single images; found {_describe_input(inner)}."
                            )
                        flat.append(inner)
                elif ops.is_image_like(item):
                    ndim = dims(item)
                    if ndim is None or ndim in (2, 3):
                        flat.append(item)
                    elif ndim == 4:
                        flat.extend(list(item))
                    else:
                        raise ProcessingError(
                            f"An image in the list has shape {tuple(item.shape)}; expected 2 or 3 dimensions."
                        )
                else:
                    raise ProcessingError(
                        f"Expected images as PIL images, numpy arrays or torch tensors, but the list holds "
                        f"{_describe_input(item)}."
                    )
            if not flat:
                raise ProcessingError("Got an empty list of images.")
            return flat
        raise ProcessingError(
            f"Expected a PIL image, numpy array, torch tensor or a list of them, but got {_describe_input(images)}."
        )

    @staticmethod
    def _to_channels_first(
        image: Any, do_convert_rgb: bool | None, input_data_format: str | None, index: int = 0
    ) -> np.ndarray:
        """One raw image -> a numpy (C, H, W) array, converted to RGB when asked."""
        import numpy as np

        from autoload import _image_ops as ops

        is_pil = ops.is_pil_image(image)
        where = f"image {index}"
        if is_pil:
            if image.width == 0 or image.height == 0:
                raise ProcessingError(f"{where} is empty ({image.width}x{image.height}).")
            array = ops.convert_to_rgb(image) if do_convert_rgb else np.array(ops.decode_pil_image(image, where))
            _check_array(array, where)
        else:
            array = ops.to_numpy_image(image)
            _check_array(array, where)
            if do_convert_rgb and array.ndim == 3:
                array = ops.convert_to_rgb(array, input_data_format=input_data_format)
        if array.ndim == 2:
            array = array[None]
            if do_convert_rgb:
                array = np.repeat(array, 3, axis=0)
            return array
        if is_pil:
            return np.moveaxis(array, -1, 0)
        layout = input_data_format
        if layout is None:
            layout = ops.infer_channel_dimension(array, num_channels=(1, 3, 4))
        return np.moveaxis(array, -1, 0) if ops._layout(layout) == ops.CHANNELS_LAST else array


class _ShapeOnly:
    """What ``_resize_target`` reads of an image (its shape), for an image not yet made an array."""

    def __init__(self, height: int, width: int) -> None:
        self.shape = (3, height, width)
        self.ndim = 3


def _describe_input(value: Any) -> str:
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"a {type(value).__name__} of shape {tuple(shape)} and dtype {getattr(value, 'dtype', '?')}"
    return f"a {type(value).__name__}"


def _check_array(array: Any, where: str) -> None:
    import numpy as np

    if array.dtype.kind not in "buif":
        raise ProcessingError(f"{where} has dtype {array.dtype}; images must hold integers or floats.")
    if array.ndim not in (2, 3):
        raise ProcessingError(f"{where} has shape {tuple(array.shape)}; expected (H, W), (H, W, C) or (C, H, W).")
    if 0 in array.shape:
        raise ProcessingError(f"{where} is empty: its shape is {tuple(array.shape)}.")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ProcessingError(f"{where} contains NaN or infinite values.")
