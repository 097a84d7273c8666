"""Feature extractors: audio and other sequences -> ``input_values`` / ``input_features``, with padding.

Saved as ``preprocessor_config.json`` with ``feature_extractor_type``; read
also from ``processor_config.json``'s ``"feature_extractor"`` (or
``"audio_processor"``) entry.  numpy is imported only when padding runs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from autoload.batch import BatchFeature
from autoload.errors import ConfigError, ProcessingError
from autoload.processing.base import PreprocessorBase

if TYPE_CHECKING:
    import numpy as np


class FeatureExtractionMixin(PreprocessorBase):
    """Base of feature extractors: settings load/save; subclasses implement ``__call__``.

    Saved as ``preprocessor_config.json`` with ``feature_extractor_type`` set
    to the class name; read also from ``processor_config.json``'s
    ``"feature_extractor"`` (or ``"audio_processor"``) entry.
    """

    _nested_keys = ("feature_extractor", "audio_processor")
    _type_key = "feature_extractor_type"
    _what = "Feature extractor"

    get_feature_extractor_dict = PreprocessorBase.get_config_dict

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
            isinstance(self.padding_value, bool)
            or not isinstance(self.padding_value, (int, float))
            or not math.isfinite(self.padding_value)
        ):
            raise ConfigError(f"{name}: padding_value must be a finite number, not {self.padding_value!r}.")
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

        if pad_to_multiple_of is not None and (
            isinstance(pad_to_multiple_of, bool) or not isinstance(pad_to_multiple_of, int) or pad_to_multiple_of < 1
        ):
            raise ProcessingError(f"pad_to_multiple_of must be a positive integer, not {pad_to_multiple_of!r}.")
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

    def _audio_rows(self, raw_speech: Any) -> list[np.ndarray]:
        """One float32 mono waveform per utterance, from any container audio arrives in.

        Audio comes as a 1-D waveform, a 2-D (batch, samples) array or tensor,
        a list of floats, or a list of waveforms of different lengths; every
        audio extractor has to tell these apart the same way before it pads.
        Each waveform is also checked for what would silently spoil the
        features: complex samples (casting drops the imaginary part), float64
        values beyond float32's range (they would become infinite), extra
        channels, no samples at all, and NaN or infinite samples (normalising
        or taking a log-mel spreads them over the whole utterance).
        """
        import numpy as np

        name = type(self).__name__
        if hasattr(raw_speech, "detach"):
            raw_speech = raw_speech.detach().cpu().numpy()
        if isinstance(raw_speech, np.ndarray):
            if raw_speech.ndim > 2:
                raise ProcessingError(
                    f"{name} takes mono audio: a 1-D waveform or a 2-D (batch, samples) array, but got shape "
                    f"{raw_speech.shape}. Mix multi-channel audio down to one channel first."
                )
            items: list[Any] = list(raw_speech) if raw_speech.ndim == 2 else [raw_speech]
        elif isinstance(raw_speech, (list, tuple)):
            if not raw_speech:
                raise ProcessingError(f"{name} got an empty list of audio.")
            first = raw_speech[0]
            is_batch = isinstance(first, (list, tuple, np.ndarray)) or hasattr(first, "detach")
            items = list(raw_speech) if is_batch else [raw_speech]
        else:
            raise ProcessingError(
                f"{name} takes a waveform as a numpy array, torch tensor or list of floats, or a batch of them, "
                f"not {type(raw_speech).__name__}."
            )
        rows = []
        for index, item in enumerate(items):
            if hasattr(item, "detach"):
                item = item.detach().cpu().numpy()
            if np.iscomplexobj(item):
                raise ProcessingError(
                    f"Audio {index} holds complex numbers; a waveform is real. Pass the real signal (not a spectrum)."
                )
            try:
                with np.errstate(over="raise", invalid="raise"):
                    row = np.asarray(item, dtype=np.float32)
            except (TypeError, ValueError, OverflowError, FloatingPointError) as exc:
                raise ProcessingError(f"Audio {index} cannot be read as float32 samples: {exc}") from exc
            if row.ndim != 1:
                raise ProcessingError(
                    f"Audio {index} has shape {row.shape}; each utterance must be a 1-D mono waveform. "
                    "Mix multi-channel audio down to one channel first."
                )
            if row.size == 0:
                raise ProcessingError(
                    f"Audio {index} is empty (0 samples); there is nothing to hear. Drop it from the batch."
                )
            if not np.isfinite(row).all():
                bad = int(np.flatnonzero(~np.isfinite(row))[0])
                raise ProcessingError(
                    f"Audio {index} holds a non-finite sample ({row[bad]} at sample {bad}); normalising it would turn "
                    "the whole utterance into NaN. Fix or drop the damaged samples first."
                )
            rows.append(row)
        return rows

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
