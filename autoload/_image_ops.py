"""Image operations shared by every image processor, on numpy arrays.

They live once here so that each vision plugin gets the same numerics: the
same PIL resampling, the same float handling around PIL's 8-bit images, the
same rescale and normalize arithmetic as the Hugging Face PIL backend, which
checkpoints were trained with.  Public names are re-exported lazily by
:mod:`autoload.processing`; this module imports numpy, and PIL only inside the
functions that resample.

Layouts are named by strings: ``"channels_first"`` (C, H, W) and
``"channels_last"`` (H, W, C).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from autoload.errors import ProcessingError

CHANNELS_FIRST = "channels_first"
CHANNELS_LAST = "channels_last"
_LAYOUTS = (CHANNELS_FIRST, CHANNELS_LAST)


class Resampling(enum.IntEnum):
    """PIL's resampling filters, by the integers saved in ``preprocessor_config.json``.

    Defined here so that reading a config does not need PIL.
    """

    NEAREST = 0
    LANCZOS = 1
    BILINEAR = 2
    BICUBIC = 3
    BOX = 4
    HAMMING = 5


#: Most pixels (height x width) one image may have after a resize, crop or pad.  A size from a
#: preprocessor config, or an extreme aspect ratio with ``shortest_edge``, can otherwise ask for an
#: image of gigabytes.  The default is PIL's own decompression-bomb threshold (about 1 GiB as float32
#: RGB); raise it here for larger inputs you trust.
MAX_OUTPUT_PIXELS = 89_478_485


def check_output_size(height: int, width: int, what: str = "resize") -> None:
    """Refuse an output image of more than :data:`MAX_OUTPUT_PIXELS` pixels before anything is allocated."""
    pixels = int(height) * int(width)
    if pixels > MAX_OUTPUT_PIXELS:
        gib = pixels * 3 * 4 / 2**30
        raise ProcessingError(
            f"Cannot {what} to {height}x{width}: that is {pixels} pixels (about {gib:.1f} GiB as float32 RGB), more "
            f"than the {MAX_OUTPUT_PIXELS} an image may have here. Check the size in the preprocessor config, or the "
            "image's aspect ratio; to allow larger images, raise autoload._image_ops.MAX_OUTPUT_PIXELS."
        )


def decode_pil_image(image: Any, where: str = "the image") -> Any:
    """Make PIL decode a lazily opened image now, so a damaged file is an autoload error, not PIL's.

    ``PIL.Image.open`` reads only the header; the pixels are decoded on first
    use, which is where a truncated or corrupt file fails (``OSError: image
    file is truncated``).
    """
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        name = getattr(image, "filename", "") or ""
        source = f" ({name})" if name else ""
        raise ProcessingError(
            f"Cannot decode {where}{source}: {exc}. The image file is truncated or corrupt; open an intact copy "
            "(PIL's ImageFile.LOAD_TRUNCATED_IMAGES = True makes PIL fill missing pixels, if that is acceptable)."
        ) from exc
    return image


def _layout(value: Any) -> str | None:
    """Accept ``"channels_first"``, ``"first"``, enum members whose value is one of those, or None."""
    if value is None:
        return None
    text = str(getattr(value, "value", value)).lower()
    if text in ("first", CHANNELS_FIRST):
        return CHANNELS_FIRST
    if text in ("last", CHANNELS_LAST):
        return CHANNELS_LAST
    raise ProcessingError(f"Channel layout must be 'channels_first' or 'channels_last', not {value!r}.")


# -- conversion to numpy ---------------------------------------------------------


def is_pil_image(image: Any) -> bool:
    module = type(image).__module__
    if not module.startswith("PIL."):
        return False
    import PIL.Image

    return isinstance(image, PIL.Image.Image)


def is_torch_tensor(value: Any) -> bool:
    if not type(value).__module__.startswith("torch"):
        return False
    import torch

    return isinstance(value, torch.Tensor)


def is_image_like(value: Any) -> bool:
    """A single image or a stack of them: a PIL image, a numpy array or a torch tensor."""
    return isinstance(value, np.ndarray) or is_pil_image(value) or is_torch_tensor(value)


def to_numpy_image(image: Any) -> np.ndarray:
    """PIL image (as ``np.array`` gives it: H, W[, C]), torch tensor or numpy array -> numpy array."""
    if isinstance(image, np.ndarray):
        return image
    if is_pil_image(image):
        return np.array(decode_pil_image(image))
    if is_torch_tensor(image):
        import torch

        tensor = image.detach().cpu()
        if tensor.is_complex():
            raise ProcessingError(f"Cannot use a complex tensor ({tensor.dtype}) as an image.")
        if tensor.dtype == torch.bfloat16:
            tensor = tensor.float()  # numpy has no bfloat16
        return tensor.numpy()
    raise ProcessingError(
        f"Expected an image as a PIL.Image.Image, numpy.ndarray or torch.Tensor, but got {type(image).__name__}."
    )


# -- layouts ---------------------------------------------------------------------


def infer_channel_dimension(image: np.ndarray, num_channels: Sequence[int] | int = (1, 3)) -> str:
    """Guess whether an image (optionally batched) stores channels first or last.

    A dimension counts as channels when its size is one of ``num_channels``.
    When both ends qualify (a 3x3 image with 3 channels), channels first wins.
    """
    allowed = (num_channels,) if isinstance(num_channels, int) else tuple(num_channels)
    if image.ndim not in (3, 4, 5):
        raise ProcessingError(f"Cannot find the channel axis of an array with shape {tuple(image.shape)}.")
    first, last = image.ndim - 3, image.ndim - 1
    if image.shape[first] in allowed:
        return CHANNELS_FIRST
    if image.shape[last] in allowed:
        return CHANNELS_LAST
    raise ProcessingError(
        f"Cannot tell which axis of the image with shape {tuple(image.shape)} holds the channels: neither the first "
        f"nor the last has {' or '.join(map(str, allowed))} entries. Pass input_data_format='channels_first' or "
        "'channels_last'."
    )


def to_channel_dimension_format(image: Any, layout: str, input_layout: str | None = None) -> Any:
    """Move the channel axis of the last three dimensions to ``layout`` (numpy arrays or torch tensors)."""
    target = _layout(layout)
    source = _layout(input_layout) or infer_channel_dimension(image)
    if source == target:
        return image
    lead = list(range(image.ndim - 3))
    n = image.ndim
    axes = lead + ([n - 1, n - 3, n - 2] if target == CHANNELS_FIRST else [n - 2, n - 1, n - 3])
    return image.permute(*axes) if is_torch_tensor(image) else image.transpose(axes)


def get_image_size(image: np.ndarray, layout: str | None = None) -> tuple[int, int]:
    """(height, width) of a numpy image."""
    if is_pil_image(image):
        return image.height, image.width
    layout = _layout(layout) or infer_channel_dimension(image)
    if layout == CHANNELS_FIRST:
        return int(image.shape[-2]), int(image.shape[-1])
    return int(image.shape[-3]), int(image.shape[-2])


# -- colour ------------------------------------------------------------------------


def convert_to_rgb(image: Any, input_data_format: str | None = None) -> np.ndarray:
    """Three-channel RGB, transparency composited onto white.

    A PIL image is converted by PIL and returned as (H, W, 3).  A numpy array
    keeps its layout: one channel is repeated three times, four channels are
    alpha-blended onto white (alpha read as 0-255 for integer arrays and 0-1
    for float arrays), three channels pass through.
    """
    if is_pil_image(image):
        import PIL.Image

        decode_pil_image(image)
        has_alpha = "A" in image.getbands() or image.info.get("transparency") is not None
        if has_alpha:
            rgba = image.convert("RGBA")
            white = PIL.Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            return np.array(PIL.Image.alpha_composite(white, rgba).convert("RGB"))
        return np.array(image.convert("RGB"))
    if not isinstance(image, np.ndarray):
        raise ProcessingError(f"convert_to_rgb needs a PIL image or a numpy array, not {type(image).__name__}.")
    layout = _layout(input_data_format) or infer_channel_dimension(image, num_channels=(1, 3, 4))
    axis = -1 if layout == CHANNELS_LAST else 0
    pixels = np.moveaxis(image, axis, -1)
    channels = pixels.shape[-1]
    if channels == 1:
        rgb = np.repeat(pixels, 3, axis=-1)
    elif channels == 4:
        is_float = np.issubdtype(pixels.dtype, np.floating)
        if is_float and (pixels.min() < 0.0 or pixels.max() > 1.0):
            raise ProcessingError(
                "A float RGBA image must hold values in [0, 1] to be blended onto white, but this one ranges over "
                f"[{pixels.min()}, {pixels.max()}]."
            )
        white = 1.0 if is_float else 255
        alpha = pixels[..., 3:4] / white
        blended = alpha * pixels[..., :3] + (1 - alpha) * white
        rgb = blended.astype(pixels.dtype) if is_float else np.round(blended).astype(pixels.dtype)
    else:
        rgb = pixels
    return np.moveaxis(rgb, -1, axis)


# -- resizing --------------------------------------------------------------------------


def _needs_unit_rescale_for_pil(image: np.ndarray) -> bool:
    """Whether a float image must be scaled 0-1 -> 0-255 before it can become an 8-bit PIL image.

    8-bit images pass as they are, as do arrays holding whole numbers in
    0..255; float arrays within [0, 1] are scaled (and scaled back after
    resampling).  Anything else cannot be represented and is refused.
    """
    if image.dtype == np.uint8:
        return False
    if np.allclose(image, image.astype(int)):
        if image.min() >= 0 and image.max() <= 255:
            return False
        raise ProcessingError(
            "Cannot resize this image: its whole-number values range over "
            f"[{image.min()}, {image.max()}], outside the 0-255 that an 8-bit image can hold. "
            "Scale it to 0-255 (or to floats in 0-1) first."
        )
    if image.min() >= 0 and image.max() <= 1:
        return True
    raise ProcessingError(
        f"Cannot resize this image: its float values range over [{image.min()}, {image.max()}]; resizing goes "
        "through an 8-bit image, which needs floats in [0, 1] or whole numbers in 0-255."
    )


def to_pil_image(image: Any, do_rescale: bool | None = None, input_data_format: str | None = None) -> Any:
    """An 8-bit PIL image from a numpy array or tensor (floats in [0, 1] are scaled to 0-255 and truncated)."""
    import PIL.Image

    if is_pil_image(image):
        return decode_pil_image(image)
    array = to_numpy_image(image)
    array = to_channel_dimension_format(array, CHANNELS_LAST, input_data_format)
    if array.shape[-1] == 1:
        array = np.squeeze(array, axis=-1)
    if do_rescale is None:
        do_rescale = _needs_unit_rescale_for_pil(array)
    if do_rescale:
        array = rescale(array, 255)
    try:
        return PIL.Image.fromarray(array.astype(np.uint8))
    except (TypeError, ValueError) as exc:
        raise ProcessingError(
            f"Cannot make an 8-bit PIL image from an array of shape {tuple(array.shape)} (channels last): {exc}. "
            "Images must have 1, 3 or 4 channels."
        ) from exc


def resize(
    image: np.ndarray,
    size: tuple[int, int],
    resample: int | None = None,
    reducing_gap: int | None = None,
    data_format: str | None = None,
    input_data_format: str | None = None,
) -> np.ndarray:
    """Resample to ``size`` = (height, width) with a PIL filter; the layout is kept unless ``data_format`` says.

    PIL resamples 8-bit images, so a float image in [0, 1] is scaled to
    0-255, truncated to integers, resampled and scaled back by 1/255 (into
    float32); an 8-bit image comes back 8-bit.
    """
    if len(size) != 2:
        raise ProcessingError(f"Resize needs a (height, width) pair, not {size!r}.")
    height, width = int(size[0]), int(size[1])
    if height <= 0 or width <= 0:
        raise ProcessingError(f"Cannot resize to {height}x{width}: both sides must be positive.")
    check_output_size(height, width)
    resample = Resampling.BILINEAR if resample is None else int(resample)
    source_layout = _layout(input_data_format) or infer_channel_dimension(image)
    target_layout = _layout(data_format) or source_layout
    scaled = _needs_unit_rescale_for_pil(image)
    pil_image = to_pil_image(image, do_rescale=scaled, input_data_format=source_layout)
    resized = np.array(pil_image.resize((width, height), resample=resample, reducing_gap=reducing_gap))
    if resized.ndim == 2:
        resized = resized[..., None]
    resized = to_channel_dimension_format(resized, target_layout, CHANNELS_LAST)
    return rescale(resized, 1 / 255) if scaled else resized


def get_resize_output_image_size(
    image: np.ndarray,
    size: int | Sequence[int],
    default_to_square: bool = True,
    max_size: int | None = None,
    input_data_format: str | None = None,
) -> tuple[int, int]:
    """Target (height, width): an explicit pair, a square, or the short side matched with the aspect ratio kept."""
    if isinstance(size, (tuple, list)):
        if len(size) == 2:
            check_output_size(int(size[0]), int(size[1]))
            return int(size[0]), int(size[1])
        if len(size) != 1:
            raise ProcessingError(f"A size must have one or two entries, not {len(size)}.")
        size = size[0]
    size = int(size)
    if default_to_square:
        check_output_size(size, size)
        return size, size
    height, width = get_image_size(image, input_data_format)
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = size, int(size * long / short)
    if max_size is not None:
        if max_size <= size:
            raise ProcessingError(f"max_size ({max_size}) must be larger than the short-side size ({size}).")
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    output = (new_long, new_short) if width <= height else (new_short, new_long)
    check_output_size(*output)
    return output


def get_size_with_aspect_ratio(image_size: tuple[int, int], size: int, max_size: int | None = None) -> tuple[int, int]:
    """Short side to ``size`` with the aspect ratio kept, long side capped by ``max_size``."""
    height, width = image_size
    raw_size = None
    if max_size is not None:
        min_side, max_side = float(min(height, width)), float(max(height, width))
        if max_side / min_side * size > max_size:
            raw_size = max_size * min_side / max_side
            size = round(raw_size)
    if (height <= width and height == size) or (width <= height and width == size):
        output = height, width
    elif width < height:
        scale = raw_size if raw_size is not None else size
        output = int(scale * height / width), size
    else:
        scale = raw_size if raw_size is not None else size
        output = size, int(scale * width / height)
    check_output_size(*output)
    return output


# -- arithmetic ------------------------------------------------------------------------


def rescale(image: np.ndarray, scale: float, dtype: Any = np.float32) -> np.ndarray:
    """``image * scale``, computed in float64 and stored as ``dtype`` (float32 unless told)."""
    return (image.astype(np.float64) * scale).astype(dtype)


def normalize(
    image: np.ndarray,
    mean: float | Sequence[float],
    std: float | Sequence[float],
    input_data_format: str | None = None,
) -> np.ndarray:
    """``(image - mean) / std`` per channel, in the image's float dtype (float32 for integer images)."""
    layout = _layout(input_data_format) or infer_channel_dimension(image)
    axis = image.ndim - 3 if layout == CHANNELS_FIRST else image.ndim - 1
    channels = image.shape[axis]
    if not np.issubdtype(image.dtype, np.floating):
        image = image.astype(np.float32)
    mean_values = _per_channel("image_mean", mean, channels)
    std_values = _per_channel("image_std", std, channels)
    mean_array = np.array(mean_values, dtype=image.dtype)
    std_array = np.array(std_values, dtype=image.dtype)
    if layout == CHANNELS_LAST:
        return (image - mean_array) / std_array
    return ((image.T - mean_array) / std_array).T


def _per_channel(name: str, value: float | Sequence[float], channels: int) -> list[float]:
    if isinstance(value, (int, float)):
        return [float(value)] * channels
    values = list(value)
    if len(values) != channels:
        hint = " Pass do_convert_rgb=True to turn it into a 3-channel RGB image." if len(values) == 3 else ""
        raise ProcessingError(
            f"The image has {channels} channel(s) but {name} has {len(values)} values {values}.{hint}"
        )
    return values


def center_crop(
    image: np.ndarray, size: tuple[int, int], data_format: str | None = None, input_data_format: str | None = None
) -> np.ndarray:
    """Crop the centre ``size`` = (height, width); a side smaller than the crop is zero-padded first."""
    source_layout = _layout(input_data_format) or infer_channel_dimension(image)
    target_layout = _layout(data_format) or source_layout
    image = to_channel_dimension_format(image, CHANNELS_FIRST, source_layout)
    height, width = image.shape[-2], image.shape[-1]
    crop_h, crop_w = int(size[0]), int(size[1])
    check_output_size(max(crop_h, height), max(crop_w, width), "center-crop (padding first)")
    top, left = (height - crop_h) // 2, (width - crop_w) // 2
    if top >= 0 and left >= 0 and top + crop_h <= height and left + crop_w <= width:
        cropped = image[..., top : top + crop_h, left : left + crop_w]
        return to_channel_dimension_format(cropped, target_layout, CHANNELS_FIRST)
    padded_h, padded_w = max(crop_h, height), max(crop_w, width)
    canvas = np.zeros_like(image, shape=(*image.shape[:-2], padded_h, padded_w))
    pad_top, pad_left = math.ceil((padded_h - height) / 2), math.ceil((padded_w - width) / 2)
    canvas[..., pad_top : pad_top + height, pad_left : pad_left + width] = image
    top, left = top + pad_top, left + pad_left
    cropped = canvas[..., max(0, top) : min(padded_h, top + crop_h), max(0, left) : min(padded_w, left + crop_w)]
    return to_channel_dimension_format(cropped, target_layout, CHANNELS_FIRST)


__all__ = [
    "CHANNELS_FIRST",
    "CHANNELS_LAST",
    "Resampling",
    "MAX_OUTPUT_PIXELS",
    "center_crop",
    "check_output_size",
    "convert_to_rgb",
    "decode_pil_image",
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
]
