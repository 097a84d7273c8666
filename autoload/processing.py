"""Base classes for what turns raw inputs into model inputs, other than tokenizers.

* :class:`ImageProcessingMixin` / :class:`BaseImageProcessor`: images -> ``pixel_values``.
* :class:`FeatureExtractionMixin` / :class:`SequenceFeatureExtractor`: audio and other
  sequences -> ``input_values`` / ``input_features``, with padding.
* :class:`ProcessorMixin`: one object that owns a tokenizer and an image
  processor or feature extractor, and dispatches text, images and audio.

Settings are read from and written to the Hugging Face files, so they move
both ways with transformers: ``preprocessor_config.json`` (one flat object)
and the newer ``processor_config.json``, where a processor's parts sit under
``"image_processor"`` / ``"feature_extractor"`` keys.

Importing this module imports neither numpy nor PIL; the image operations
(:func:`resize`, :func:`normalize`, ...) are loaded when first touched.
"""

from __future__ import annotations

import copy
import inspect
import json
import logging
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from autoload import files
from autoload.batch import BatchFeature, to_tensor_type
from autoload.errors import ConfigError, FileResolutionError, ProcessingError
from autoload.hub import HubOptions, describe, resolve_file

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger("autoload")

# Normalising float32 pixels by a std below this, or by statistics above the
# other bound, overflows to infinity: such a config is broken, not unusual.
_SMALLEST_STD = 1e-30
_LARGEST_STATISTIC = 1e30
PREPROCESSOR_NAME = "preprocessor_config.json"
PROCESSOR_NAME = "processor_config.json"
FEATURE_EXTRACTOR_NAME = IMAGE_PROCESSOR_NAME = PREPROCESSOR_NAME

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


# -- JSON helpers --------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    """Plain JSON types from settings that may hold tuples, numpy values or enums."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)  # IntEnum -> int
    if isinstance(value, float):
        return float(value)
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars, torch tensors
        return _jsonable(value.tolist())
    return value


def _read_json(path: str, what: str) -> dict[str, Any]:
    return files.read_json_object(path, what=what)


def _load_part_settings(
    path_or_repo: str | os.PathLike[str], nested_keys: Sequence[str], options: HubOptions, what: str
) -> tuple[dict[str, Any], str]:
    """Find the settings of one processing part; returns them and the file they came from.

    ``processor_config.json`` wins when it holds the part under one of
    ``nested_keys`` (what ``ProcessorMixin.save_pretrained`` writes);
    otherwise ``preprocessor_config.json`` is read.  A path to a json file is
    read directly (nested or flat).
    """
    source = os.fspath(path_or_repo)
    if os.path.isfile(source):
        data = _read_json(source, what)
        for key in nested_keys:
            if isinstance(data.get(key), dict):
                return dict(data[key]), source
        return data, source
    processor_file = resolve_file(path_or_repo, PROCESSOR_NAME, options, required=False)
    if processor_file is not None:
        data = _read_json(processor_file, "Processor config")
        for key in nested_keys:
            if key in data:
                if not isinstance(data[key], dict):
                    raise ConfigError(
                        f"{processor_file}: {key!r} must be a JSON object with the {what.lower()}'s settings, "
                        f"but it is a {type(data[key]).__name__}."
                    )
                return dict(data[key]), f"{processor_file} [{key!r}]"
    preprocessor_file = resolve_file(path_or_repo, PREPROCESSOR_NAME, options, required=False)
    if preprocessor_file is None:
        raise FileResolutionError(
            f"{describe(path_or_repo, options)} has no {what.lower()} settings: neither {PREPROCESSOR_NAME} nor a "
            f"{PROCESSOR_NAME} with a {' or '.join(repr(k) for k in nested_keys)} entry. "
            "Check the checkpoint includes its preprocessing files (save_pretrained of the processor writes them)."
        )
    return _read_json(preprocessor_file, what), preprocessor_file


# -- the shared settings machinery ------------------------------------------------------


class _PreprocessorBase:
    """Settings as attributes, loaded from and saved to the Hugging Face json layout."""

    #: Where the settings of this kind sit in ``processor_config.json``.
    _nested_keys: ClassVar[tuple[str, ...]] = ()
    #: The key that records the class name in saved files.
    _type_key: ClassVar[str] = ""
    #: Human name used in messages.
    _what: ClassVar[str] = "Preprocessor"
    #: Saved-file keys that name a class and are dropped on load.
    _ignored_keys: ClassVar[tuple[str, ...]] = ("image_processor_type", "feature_extractor_type")
    #: Attributes never written to the json file (derived values such as filter banks).
    _unsaved_attributes: ClassVar[tuple[str, ...]] = ()
    #: Names of the inputs the model expects from this object.
    model_input_names: ClassVar[list[str]] = []

    def __init__(self, **kwargs: Any) -> None:
        for key in self._ignored_keys:
            kwargs.pop(key, None)
        self._processor_class: str | None = kwargs.pop("processor_class", None)
        for key, value in kwargs.items():
            try:
                setattr(self, key, value)
            except AttributeError as exc:
                raise ConfigError(f"{type(self).__name__} cannot take the setting {key!r}: {exc}") from exc

    # -- which keys a class accepts --------------------------------------------------

    @classmethod
    def _accepted_keys(cls) -> set[str]:
        """Setting names the class takes: named ``__init__`` parameters along the class chain."""
        names: set[str] = set()
        for klass in cls.__mro__:
            init = klass.__dict__.get("__init__")
            if init is None:
                continue
            try:
                parameters = inspect.signature(init).parameters.values()
            except (TypeError, ValueError):
                continue
            names.update(
                p.name for p in parameters if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
            )
        return names

    # -- building ----------------------------------------------------------------------

    @classmethod
    def from_dict(cls, settings: dict[str, Any], *, return_unused_kwargs: bool = False, **kwargs: Any) -> Any:
        """Build from a settings dict; ``kwargs`` override saved values.

        A keyword that names a saved key, a setting the class takes, or an
        attribute it ends up with overrides it; the rest come back with
        ``return_unused_kwargs=True``.
        """
        return cls._from_dict(settings, source=None, return_unused_kwargs=return_unused_kwargs, **kwargs)

    @classmethod
    def _from_dict(
        cls, settings: dict[str, Any], *, source: str | None, return_unused_kwargs: bool = False, **kwargs: Any
    ) -> Any:
        if not isinstance(settings, dict):
            raise ConfigError(f"{cls.__name__} settings must be a dict, not {type(settings).__name__}.")
        values = dict(settings)
        accepted = cls._accepted_keys()
        later: dict[str, Any] = {}
        for key, value in kwargs.items():
            if key in values or key in accepted:
                values[key] = value
            else:
                later[key] = value
        where = f" (from {source})" if source else ""
        try:
            instance = cls(**values)
        except ConfigError as exc:
            raise ConfigError(f"{exc}{where}") from exc.__cause__
        except TypeError as exc:
            raise ConfigError(f"{cls.__name__} cannot be built from these settings{where}: {exc}") from exc
        unused: dict[str, Any] = {}
        for key, value in later.items():
            if hasattr(instance, key):
                setattr(instance, key, value)
            else:
                unused[key] = value
        if unused and not return_unused_kwargs:
            logger.debug("%s ignored unknown settings %s", cls.__name__, sorted(unused))
        return (instance, unused) if return_unused_kwargs else instance

    @classmethod
    def get_config_dict(
        cls, path_or_repo: str | os.PathLike[str], **kwargs: Any
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The raw saved settings of a checkpoint (nested or flat layout), and the kwargs left over."""
        options = HubOptions.pop_from(kwargs)
        settings, _ = _load_part_settings(path_or_repo, cls._nested_keys, options, cls._what)
        return settings, kwargs

    @classmethod
    def from_pretrained(cls, path_or_repo: str | os.PathLike[str], **kwargs: Any) -> Any:
        """Load from a checkpoint folder, a json file or a Hub repo id.

        Accepts the Hub options (``revision``, ``cache_dir``, ``token``,
        ``local_files_only``, ``force_download``, ``subfolder``), setting
        overrides, and ``return_unused_kwargs``.
        """
        return_unused_kwargs = kwargs.pop("return_unused_kwargs", False)
        options = HubOptions.pop_from(kwargs)
        settings, source = _load_part_settings(path_or_repo, cls._nested_keys, options, cls._what)
        return cls._from_dict(settings, source=source, return_unused_kwargs=return_unused_kwargs, **kwargs)

    @classmethod
    def from_json_file(cls, path: str | os.PathLike[str]) -> Any:
        return cls._from_dict(_read_json(os.fspath(path), cls._what), source=os.fspath(path))

    # -- saving ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """What the json file holds: every public setting plus the class name under the type key."""
        output = {
            key: copy.deepcopy(value)
            for key, value in vars(self).items()
            if not key.startswith("_") and key not in self._unsaved_attributes
        }
        output[self._type_key] = type(self).__name__
        if self._processor_class is not None:
            output["processor_class"] = self._processor_class
        return _jsonable(output)

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def to_json_file(self, path: str | os.PathLike[str]) -> None:
        files.write_json(path, self.to_dict())

    def save_pretrained(self, save_directory: str | os.PathLike[str], **kwargs: Any) -> list[str]:
        """Write ``preprocessor_config.json`` into ``save_directory`` (atomically); returns the paths written."""
        if kwargs.pop("push_to_hub", False):
            raise ProcessingError("push_to_hub is not supported by autoload; upload the folder with huggingface_hub.")
        if os.path.isfile(save_directory):
            raise ConfigError(f"save_pretrained needs a folder, but {save_directory} is a file.")
        os.makedirs(save_directory, exist_ok=True)
        path = os.path.join(save_directory, PREPROCESSOR_NAME)
        self.to_json_file(path)
        return [path]

    def _set_processor_class(self, name: str | None) -> None:
        """Record the processor this part belongs to (written as ``processor_class``)."""
        self._processor_class = name

    def __repr__(self) -> str:
        return f"{type(self).__name__} {self.to_json_string()}"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.to_dict() == other.to_dict()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]


# -- feature extractors --------------------------------------------------------------------


class FeatureExtractionMixin(_PreprocessorBase):
    """Base of feature extractors: settings load/save; subclasses implement ``__call__``.

    Saved as ``preprocessor_config.json`` with ``feature_extractor_type`` set
    to the class name; read also from ``processor_config.json``'s
    ``"feature_extractor"`` (or ``"audio_processor"``) entry.
    """

    _nested_keys = ("feature_extractor", "audio_processor")
    _type_key = "feature_extractor_type"
    _what = "Feature extractor"

    get_feature_extractor_dict = _PreprocessorBase.get_config_dict

    def __call__(self, *args: Any, **kwargs: Any) -> BatchFeature:
        raise NotImplementedError(f"{type(self).__name__} must implement __call__.")


_PADDING_STRATEGIES = ("longest", "max_length", "do_not_pad")


def _padding_strategy(padding: Any) -> str:
    if padding is True:
        return "longest"
    if padding is False or padding is None:
        return "do_not_pad"
    text = str(getattr(padding, "value", padding))
    if text not in _PADDING_STRATEGIES:
        raise ProcessingError(f"padding must be True, False, 'longest', 'max_length' or 'do_not_pad', not {padding!r}.")
    return text


def _as_numpy(value: Any) -> np.ndarray:
    import numpy as np

    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return np.asarray(value)


class SequenceFeatureExtractor(FeatureExtractionMixin):
    """Feature extractor for sequences (audio): padding and truncation to a common length.

    ``feature_size`` is the size of one frame (1 for raw waveforms),
    ``sampling_rate`` the rate the model was trained at, ``padding_value``
    what padding frames hold.  ``padding_side`` ("right" or "left") and
    ``return_attention_mask`` are settings too.
    """

    model_input_names = ["input_values", "attention_mask"]

    def __init__(self, feature_size: int, sampling_rate: int, padding_value: float, **kwargs: Any) -> None:
        self.feature_size = feature_size
        self.sampling_rate = sampling_rate
        self.padding_value = padding_value
        self.padding_side = kwargs.pop("padding_side", "right")
        self.return_attention_mask = kwargs.pop("return_attention_mask", True)
        super().__init__(**kwargs)
        self._check_sequence_settings()

    def _check_sequence_settings(self) -> None:
        name = type(self).__name__
        if isinstance(self.feature_size, bool) or not isinstance(self.feature_size, int) or self.feature_size < 1:
            raise ConfigError(f"{name}: feature_size must be a positive integer, not {self.feature_size!r}.")
        rate = self.sampling_rate
        if rate is not None and (
            isinstance(rate, bool) or not isinstance(rate, (int, float)) or not rate > 0 or not math.isfinite(rate)
        ):
            raise ConfigError(f"{name}: sampling_rate must be a positive number of Hz, not {rate!r}.")
        if self.padding_value is not None and (
            isinstance(self.padding_value, bool) or not isinstance(self.padding_value, (int, float))
        ):
            raise ConfigError(f"{name}: padding_value must be a number, not {self.padding_value!r}.")
        if self.padding_side not in ("right", "left"):
            raise ConfigError(f"{name}: padding_side must be 'right' or 'left', not {self.padding_side!r}.")

    def pad(
        self,
        processed_features: Any,
        padding: bool | str = True,
        max_length: int | None = None,
        truncation: bool = False,
        pad_to_multiple_of: int | None = None,
        return_attention_mask: bool | None = None,
        return_tensors: str | None = None,
    ) -> BatchFeature:
        """Pad (and optionally truncate) a batch to one length.

        ``processed_features`` is a dict (or BatchFeature) of lists of
        sequences, or a list of such dicts (a collate function's input).  The
        first of ``model_input_names`` is the field that decides lengths.
        Float64 results are stored as float32.  With ``return_tensors=None``
        the type follows the inputs: torch in, torch out; otherwise numpy.
        """
        import numpy as np

        if (
            isinstance(processed_features, (list, tuple))
            and processed_features
            and isinstance(processed_features[0], Mapping)
        ):
            processed_features = {key: [item[key] for item in processed_features] for key in processed_features[0]}
        if not isinstance(processed_features, Mapping):
            raise ProcessingError(
                f"pad needs a dict (or BatchFeature) of sequences, or a list of such dicts; got "
                f"{type(processed_features).__name__}."
            )
        main = self.model_input_names[0]
        if main not in processed_features:
            raise ProcessingError(
                f"pad needs the field {main!r} (the first of model_input_names), but got {list(processed_features)}."
            )
        features = dict(processed_features)
        required = features[main]
        if return_attention_mask is None:
            return_attention_mask = self.return_attention_mask
        if len(required) == 0:
            if return_attention_mask:
                features["attention_mask"] = []
            return BatchFeature(features)

        first = required[0]
        if isinstance(first, (list, tuple)):
            for item in required:
                if len(item) != 0:
                    first = item[0]
                    break
        if return_tensors is None:
            from autoload._image_ops import is_torch_tensor

            if is_torch_tensor(first):
                return_tensors = "pt"
            elif isinstance(first, (int, float, list, tuple, np.ndarray, np.number)):
                return_tensors = "np"
            else:
                raise ProcessingError(
                    f"pad cannot handle values of type {type(first).__name__}; pass python lists, numpy arrays or "
                    "torch tensors."
                )
        for key, value in features.items():
            if len(value) and isinstance(value[0], (int, float)):
                features[key] = _as_numpy(value)
            elif not isinstance(value, np.ndarray):
                features[key] = [_as_numpy(item) for item in value]

        strategy = self._get_padding_strategies(padding=padding, max_length=max_length)
        required = features[main]
        batch_size = len(required)
        if any(len(value) != batch_size for value in features.values()):
            raise ProcessingError(
                f"pad got fields of different batch sizes: { {key: len(value) for key, value in features.items()} }."
            )
        rows = [
            self._truncate(
                {key: value[index] for key, value in features.items()},
                max_length=max_length,
                pad_to_multiple_of=pad_to_multiple_of,
                truncation=truncation,
            )
            for index in range(batch_size)
        ]
        if strategy == "longest":
            max_length = max(len(row[main]) for row in rows)
            strategy = "max_length"
        batch: dict[str, list[Any]] = {}
        for row in rows:
            padded = self._pad(
                row,
                max_length=max_length,
                padding_strategy=strategy,
                pad_to_multiple_of=pad_to_multiple_of,
                return_attention_mask=return_attention_mask,
            )
            for key, value in padded.items():
                if value.dtype == np.float64:
                    value = value.astype(np.float32)
                batch.setdefault(key, []).append(value)
        return BatchFeature(batch, tensor_type=return_tensors)

    def _pad(
        self,
        processed_features: dict[str, Any],
        max_length: int | None = None,
        padding_strategy: str = "do_not_pad",
        pad_to_multiple_of: int | None = None,
        return_attention_mask: bool | None = None,
    ) -> dict[str, Any]:
        """Pad one example's fields to ``max_length`` on ``padding_side`` with ``padding_value``."""
        import numpy as np

        main = self.model_input_names[0]
        required = processed_features[main]
        if padding_strategy == "longest":
            max_length = len(required)
        if max_length is not None and pad_to_multiple_of is not None and max_length % pad_to_multiple_of != 0:
            max_length = (max_length // pad_to_multiple_of + 1) * pad_to_multiple_of
        needs_padding = padding_strategy != "do_not_pad" and max_length is not None and len(required) < max_length
        if return_attention_mask and "attention_mask" not in processed_features:
            processed_features["attention_mask"] = np.ones(len(required), dtype=np.int32)
        if needs_padding:
            missing = max_length - len(required)
            before, after = (0, missing) if self.padding_side == "right" else (missing, 0)
            if return_attention_mask:
                processed_features["attention_mask"] = np.pad(processed_features["attention_mask"], (before, after))
            widths = ((before, after), (0, 0)) if self.feature_size > 1 else (before, after)
            processed_features[main] = np.pad(required, widths, "constant", constant_values=self.padding_value)
        return processed_features

    def _truncate(
        self,
        processed_features: dict[str, Any],
        max_length: int | None = None,
        pad_to_multiple_of: int | None = None,
        truncation: bool | None = None,
    ) -> dict[str, Any]:
        """Cut one example's fields to ``max_length`` (rounded up to ``pad_to_multiple_of``)."""
        if not truncation:
            return processed_features
        if max_length is None:
            raise ProcessingError("truncation=True needs max_length.")
        main = self.model_input_names[0]
        if pad_to_multiple_of is not None and max_length % pad_to_multiple_of != 0:
            max_length = (max_length // pad_to_multiple_of + 1) * pad_to_multiple_of
        if len(processed_features[main]) > max_length:
            processed_features[main] = processed_features[main][:max_length]
            if "attention_mask" in processed_features:
                processed_features["attention_mask"] = processed_features["attention_mask"][:max_length]
        return processed_features

    def _get_padding_strategies(self, padding: Any = False, max_length: int | None = None) -> str:
        """``"longest"``, ``"max_length"`` or ``"do_not_pad"`` from the ``padding`` argument."""
        strategy = _padding_strategy(padding)
        if strategy == "max_length" and max_length is None:
            raise ProcessingError("padding='max_length' needs max_length.")
        if strategy != "do_not_pad" and self.padding_value is None:
            raise ProcessingError(
                f"{type(self).__name__} has no padding_value, so it cannot pad; set feature_extractor.padding_value."
            )
        return strategy


# -- image processors --------------------------------------------------------------------------

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


class ImageProcessingMixin(_PreprocessorBase):
    """Settings load/save for image processors (``image_processor_type`` in saved files).

    Read from ``processor_config.json``'s ``"image_processor"`` entry when
    present, else from ``preprocessor_config.json``.
    """

    _nested_keys = ("image_processor",)
    _type_key = "image_processor_type"
    _what = "Image processor"

    get_image_processor_dict = _PreprocessorBase.get_config_dict


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
        for image in images:
            height, width = self._resize_target(_ShapeOnly(image.height, image.width), settings["size"])
            if height <= 0 or width <= 0:
                raise ProcessingError(f"Cannot resize to {height}x{width}: both sides must be positive.")
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
            return max(1, int(height * scale)), max(1, int(width * scale))
        if "height" in size and "width" in size:
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
            array = ops.convert_to_rgb(image) if do_convert_rgb else np.array(image)
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


# -- processors ----------------------------------------------------------------------------------

_MODALITIES = ("image_processor", "feature_extractor", "tokenizer")

_TEXT_KWARGS = frozenset(
    {
        "add_special_tokens",
        "padding",
        "truncation",
        "max_length",
        "stride",
        "is_split_into_words",
        "pad_to_multiple_of",
        "return_token_type_ids",
        "return_attention_mask",
        "return_overflowing_tokens",
        "return_special_tokens_mask",
        "return_offsets_mapping",
        "return_length",
        "verbose",
        "padding_side",
        "text_pair",
        "text_target",
        "text_pair_target",
    }
)
_AUDIO_KWARGS = frozenset(
    {"sampling_rate", "padding", "max_length", "truncation", "pad_to_multiple_of", "return_attention_mask"}
)


def _modality(attribute: str) -> str:
    for modality in _MODALITIES:
        if modality in attribute:
            return modality
    raise ProcessingError(
        f"Cannot tell what the processor part {attribute!r} is: its name must contain 'tokenizer', "
        "'image_processor' or 'feature_extractor'."
    )


def _resolve_class(declared: Any, where: str) -> Any:
    """A class from a class, a ``"module:Class"`` reference, or a bare name of :mod:`autoload` (Auto classes)."""
    if isinstance(declared, type):
        return declared
    if isinstance(declared, str):
        if ":" in declared:
            from autoload.architecture import import_reference

            try:
                return import_reference(declared)
            except (ImportError, AttributeError) as exc:
                raise ProcessingError(f"{where}: cannot import {declared!r}: {exc}") from exc
        import autoload

        found = getattr(autoload, declared, None)
        if isinstance(found, type):
            return found
        raise ProcessingError(
            f"{where}: {declared!r} is neither a class nor a 'module:Class' reference autoload can import."
        )
    raise ProcessingError(f"{where} must be a class or a 'module:Class' reference, not {declared!r}.")


def _call_parameters(function: Any) -> tuple[set[str], bool]:
    """Named keyword parameters of a callable, and whether it takes ``**kwargs``."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return set(), True
    names = {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return names, any(p.kind == p.VAR_KEYWORD for p in parameters)


class ProcessorMixin:
    """One object owning a tokenizer and an image processor or a feature extractor.

    A subclass names its parts and their classes::

        class MyProcessor(ProcessorMixin):
            attributes = ("feature_extractor", "tokenizer")
            feature_extractor_class = "my_plugin.feature_extraction:MyFeatureExtractor"
            tokenizer_class = MyTokenizer   # a class works too; a tuple means "any of these"

    ``from_pretrained`` loads every part from the same checkpoint;
    ``save_pretrained`` writes the tokenizer's files and a
    ``processor_config.json`` holding the other parts' settings under their
    names (transformers' current layout; ``legacy_format=True`` writes
    ``preprocessor_config.json`` instead), and records ``processor_class``.
    ``__call__`` sends ``text`` to the tokenizer, ``images`` to the image
    processor and ``audio`` to the feature extractor.
    """

    attributes: ClassVar[tuple[str, ...]] = ()
    #: With text and audio/images together, put the text's ``input_ids`` under ``labels`` (speech recognition).
    text_as_labels: ClassVar[bool] = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        names = self.get_attributes()
        parts: dict[str, Any] = {}
        extras: dict[str, Any] = {}
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__} takes {len(names)} parts ({', '.join(names)}), got {len(args)}.")
        for name, value in zip(names, args):
            parts[name] = value
        for key, value in kwargs.items():
            if key in names:
                if key in parts:
                    raise TypeError(f"{type(self).__name__} got two values for {key!r}.")
                parts[key] = value
            else:
                extras[key] = value
        missing = [name for name in names if name not in parts]
        if missing:
            raise TypeError(f"{type(self).__name__} needs {', '.join(names)}; missing {', '.join(missing)}.")
        for name, part in parts.items():
            self._check_part(name, part)
            setattr(self, name, part)
        for key, value in extras.items():
            setattr(self, key, value)

    @classmethod
    def get_attributes(cls) -> list[str]:
        """The part names, from ``attributes`` or, failing that, from the ``<part>_class`` class attributes."""
        if cls.attributes:
            return list(cls.attributes)
        found: list[str] = []
        for klass in reversed(cls.__mro__):
            for key, value in vars(klass).items():
                if key.endswith("_class") and value is not None and key != "processor_class":
                    name = key[: -len("_class")]
                    if any(modality in name for modality in _MODALITIES) and name not in found:
                        found.append(name)
        return found

    @classmethod
    def _declared_classes(cls, name: str) -> tuple[Any, ...]:
        declared = getattr(cls, f"{name}_class", None)
        if declared is None:
            return ()
        items = declared if isinstance(declared, (tuple, list)) else (declared,)
        return tuple(_resolve_class(item, f"{cls.__name__}.{name}_class") for item in items if item is not None)

    def _check_part(self, name: str, part: Any) -> None:
        expected = [klass for klass in self._declared_classes(name) if not klass.__name__.startswith("Auto")]
        if expected and not isinstance(part, tuple(expected)):
            raise ProcessingError(
                f"{type(self).__name__}: {name} must be a {' or '.join(k.__name__ for k in expected)}, "
                f"not a {type(part).__name__}."
            )

    # -- loading ---------------------------------------------------------------------------

    @classmethod
    def _extra_init_names(cls) -> set[str]:
        names, _ = _call_parameters(cls.__init__)
        return names - set(cls.get_attributes()) - {"self"}

    @classmethod
    def from_pretrained(cls, path_or_repo: str | os.PathLike[str], **kwargs: Any) -> Any:
        """Load every part from one checkpoint (folder or Hub repo id).

        Keywords naming a part's setting override it for that part;
        ``processor_config.json`` supplies the processor's own settings.
        """
        return_unused_kwargs = kwargs.pop("return_unused_kwargs", False)
        options = HubOptions.pop_from(kwargs)
        processor_file = None
        if not os.path.isfile(path_or_repo):
            processor_file = resolve_file(path_or_repo, PROCESSOR_NAME, options, required=False)
        processor_dict = _read_json(processor_file, "Processor config") if processor_file else {}
        remaining = dict(kwargs)
        parts: dict[str, Any] = {}
        tokenizer_names = []
        for name in cls.get_attributes():
            modality = _modality(name)
            if modality == "tokenizer":
                tokenizer_names.append(name)
                continue
            parts[name] = cls._load_part(name, path_or_repo, options, processor_dict, remaining)
        extra_names = cls._extra_init_names()
        extras = {key: value for key, value in processor_dict.items() if key in extra_names}
        for key in list(remaining):
            if key in extra_names:
                extras[key] = remaining.pop(key)
        for name in tokenizer_names:
            declared = cls._declared_classes(name)
            if not declared:
                raise ProcessingError(f"{cls.__name__} does not declare {name}_class.")
            hub = options.as_kwargs()
            if name != "tokenizer":  # secondary tokenizers live in a subfolder named after them
                hub["subfolder"] = os.path.join(options.subfolder, name) if options.subfolder else name
            parts[name] = declared[0].from_pretrained(path_or_repo, **hub, **remaining)
            remaining = {}
        processor = cls(**parts, **extras)
        return (processor, remaining) if return_unused_kwargs else processor

    @classmethod
    def _load_part(
        cls,
        name: str,
        path_or_repo: str | os.PathLike[str],
        options: HubOptions,
        processor_dict: dict[str, Any],
        remaining: dict[str, Any],
    ) -> Any:
        declared = cls._declared_classes(name)
        if not declared:
            raise ProcessingError(f"{cls.__name__} does not declare {name}_class.")
        part_class = declared[0]
        if name == _modality(name):
            loaded, unused = part_class.from_pretrained(
                path_or_repo, **options.as_kwargs(), return_unused_kwargs=True, **remaining
            )
        else:  # a second part of one kind exists only inside processor_config.json
            settings = processor_dict.get(name)
            if not isinstance(settings, dict):
                raise ConfigError(
                    f"{describe(path_or_repo, options)}: {PROCESSOR_NAME} has no {name!r} entry for {cls.__name__}."
                )
            loaded, unused = part_class._from_dict(
                settings, source=f"{PROCESSOR_NAME} [{name!r}]", return_unused_kwargs=True, **remaining
            )
        remaining.clear()
        remaining.update(unused)
        return loaded

    # -- saving -------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """What ``processor_config.json`` holds: non-tokenizer parts nested by name, own settings, class name."""
        output: dict[str, Any] = {}
        for name in self.get_attributes():
            if _modality(name) != "tokenizer":
                part_dict = getattr(self, name).to_dict()
                part_dict.pop("processor_class", None)
                output[name] = part_dict
        for key in self._extra_init_names():
            if key in vars(self) and key != "chat_template":
                output[key] = _jsonable(copy.deepcopy(vars(self)[key]))
        output["processor_class"] = type(self).__name__
        return output

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def save_pretrained(self, save_directory: str | os.PathLike[str], *, legacy_format: bool = False) -> list[str]:
        """Save every part into ``save_directory``; returns the paths of the processing files written.

        The default layout is transformers' current one: tokenizer files plus
        ``processor_config.json`` with the other parts nested.  With
        ``legacy_format=True`` the image processor / feature extractor is
        written flat to ``preprocessor_config.json`` (with ``processor_class``)
        as older libraries expect, and ``processor_config.json`` only when the
        processor has settings of its own.
        """
        if os.path.isfile(save_directory):
            raise ConfigError(f"save_pretrained needs a folder, but {save_directory} is a file.")
        os.makedirs(save_directory, exist_ok=True)
        class_name = type(self).__name__
        written: list[str] = []
        for name in self.get_attributes():
            part = getattr(self, name)
            if _modality(name) == "tokenizer":
                _record_processor_class(part, class_name)
                target = save_directory if name == "tokenizer" else os.path.join(save_directory, name)
                result = part.save_pretrained(target)
                if isinstance(result, (list, tuple)):
                    written.extend(str(item) for item in result)
            elif legacy_format and name == _modality(name):
                previous = getattr(part, "_processor_class", None)
                part._set_processor_class(class_name)
                try:
                    written.extend(part.save_pretrained(save_directory))
                finally:
                    part._set_processor_class(previous)
        output = self.to_dict()
        if legacy_format:
            for name in self.get_attributes():
                if name == _modality(name):
                    output.pop(name, None)
        if not legacy_format or set(output) - {"processor_class"}:
            path = os.path.join(save_directory, PROCESSOR_NAME)
            files.write_json(path, output)
            written.append(path)
        return written

    # -- calling -------------------------------------------------------------------------------

    def _part_for(self, modality: str) -> Any:
        for name in self.get_attributes():
            if name == modality:
                return getattr(self, name)
        return None

    def _positional_order(self) -> list[str]:
        order = []
        for name in self.get_attributes():
            if name == "image_processor":
                order.append("images")
            elif name == "feature_extractor":
                order.append("audio")
        if "tokenizer" in self.get_attributes():
            order.append("text")
        return order

    def _kwargs_for(self, modality: str, part: Any) -> tuple[frozenset[str] | set[str], bool]:
        names, open_ended = _call_parameters(part.__call__)
        if modality == "tokenizer":
            return _TEXT_KWARGS | names, open_ended
        if modality == "image_processor":
            return set(getattr(part, "settings", ())) | {"input_data_format", "default_to_square"} | names, False
        return _AUDIO_KWARGS | names, open_ended

    def _known_by_an_idle_part(self, key: str, calls: dict[str, Any]) -> bool:
        names = {"images": "image_processor", "audio": "feature_extractor", "text": "tokenizer"}
        for input_name, modality in names.items():
            part = self._part_for(modality)
            if part is not None and input_name not in calls and key in self._kwargs_for(modality, part)[0]:
                return True
        return False

    def __call__(
        self,
        *args: Any,
        text: Any = None,
        images: Any = None,
        audio: Any = None,
        text_kwargs: dict[str, Any] | None = None,
        images_kwargs: dict[str, Any] | None = None,
        audio_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Process ``text``, ``images`` and/or ``audio`` with the matching parts.

        Positional inputs follow the parts: the audio or images first, then
        text.  A keyword goes to every called part that knows it
        (``return_tensors`` to all); per-part keywords can be given explicitly
        as ``text_kwargs``/``images_kwargs``/``audio_kwargs``.  One input
        gives that part's output; several are merged into one
        :class:`BatchFeature` (with ``text_as_labels``, the text's ids become
        ``labels``).
        """
        inputs = {"text": text, "images": images, "audio": audio}
        order = self._positional_order()
        if len(args) > len(order):
            raise TypeError(f"{type(self).__name__} takes at most {len(order)} positional inputs ({', '.join(order)}).")
        for key, value in zip(order, args):
            if inputs[key] is not None:
                raise TypeError(f"{type(self).__name__} got {key} both positionally and by keyword.")
            inputs[key] = value
        calls: dict[str, tuple[Any, dict[str, Any]]] = {}
        for key, modality, explicit in (
            ("images", "image_processor", images_kwargs),
            ("audio", "feature_extractor", audio_kwargs),
            ("text", "tokenizer", text_kwargs),
        ):
            if inputs[key] is None:
                continue
            part = self._part_for(modality)
            if part is None:
                raise ProcessingError(f"{type(self).__name__} has no {modality}, so it cannot process {key}.")
            calls[key] = (part, dict(explicit or {}))
        if not calls:
            raise ProcessingError(f"{type(self).__name__} needs at least one of {', '.join(order)}.")
        for key, value in kwargs.items():
            targets = []
            for input_name, (part, part_kwargs) in calls.items():
                modality = {"images": "image_processor", "audio": "feature_extractor", "text": "tokenizer"}[input_name]
                known, _ = self._kwargs_for(modality, part)
                if key == "return_tensors" or key in known:
                    targets.append(part_kwargs)
            if not targets:
                if self._known_by_an_idle_part(key, calls):
                    continue  # meant for a part this call does not use (sampling_rate with text only)
                if len(calls) > 1:
                    raise ProcessingError(
                        f"{type(self).__name__}: no part knows the argument {key!r}; pass it inside text_kwargs=, "
                        "images_kwargs= or audio_kwargs=."
                    )
                targets = [next(iter(calls.values()))[1]]
            for target in targets:
                target.setdefault(key, value)
        outputs = {key: part(inputs[key], **part_kwargs) for key, (part, part_kwargs) in calls.items()}
        if len(outputs) == 1:
            return next(iter(outputs.values()))
        text_output = outputs.pop("text", None)
        merged: dict[str, Any] = {}
        for output in outputs.values():
            merged.update(dict(output))
        if text_output is not None:
            if self.text_as_labels:
                merged["labels"] = text_output["input_ids"]
            else:
                merged.update(dict(text_output))
        return BatchFeature(merged)

    def batch_decode(self, *args: Any, **kwargs: Any) -> Any:
        """The tokenizer's ``batch_decode``."""
        return self._tokenizer_for("batch_decode").batch_decode(*args, **kwargs)

    def decode(self, *args: Any, **kwargs: Any) -> Any:
        """The tokenizer's ``decode``."""
        return self._tokenizer_for("decode").decode(*args, **kwargs)

    def _tokenizer_for(self, action: str) -> Any:
        tokenizer = getattr(self, "tokenizer", None)
        if tokenizer is None:
            raise ProcessingError(f"{type(self).__name__} has no tokenizer to {action} with.")
        return tokenizer

    @property
    def model_input_names(self) -> list[str]:
        names: list[str] = []
        for name in self.get_attributes():
            for input_name in getattr(getattr(self, name), "model_input_names", []):
                if input_name not in names:
                    names.append(input_name)
        return names

    def __repr__(self) -> str:
        parts = "\n".join(f"- {name}: {getattr(self, name)!r}" for name in self.get_attributes())
        return f"{type(self).__name__}:\n{parts}\n\n{self.to_json_string()}"


def _record_processor_class(tokenizer: Any, class_name: str) -> None:
    """Have the tokenizer write ``processor_class`` into ``tokenizer_config.json``, as transformers does."""
    setter = getattr(tokenizer, "_set_processor_class", None)
    if callable(setter):
        setter(class_name)
        return
    init_kwargs = getattr(tokenizer, "init_kwargs", None)
    if isinstance(init_kwargs, dict):
        init_kwargs["processor_class"] = class_name


__all__ = [
    "FEATURE_EXTRACTOR_NAME",
    "IMAGE_PROCESSOR_NAME",
    "PREPROCESSOR_NAME",
    "PROCESSOR_NAME",
    "BaseImageProcessor",
    "BatchFeature",
    "FeatureExtractionMixin",
    "ImageProcessingMixin",
    "ProcessorMixin",
    "SequenceFeatureExtractor",
    "get_size_dict",
    "to_tensor_type",
    *sorted(_IMAGE_OPS),
]
