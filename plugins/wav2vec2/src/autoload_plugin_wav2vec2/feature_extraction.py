"""Wav2Vec2FeatureExtractor: raw mono waveforms to the model's ``input_values``.

wav2vec 2.0 reads the waveform itself, so "feature extraction" is only
batching and scaling: each utterance is optionally normalised to zero mean
and unit variance (over its real samples when an attention mask says where
the padding is), and the batch is padded or truncated to one length.  The
numerics follow transformers exactly (float32, variance epsilon 1e-7).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
from autoload import BatchFeature, ConfigError, ProcessingError
from autoload.processing import SequenceFeatureExtractor

logger = logging.getLogger("autoload")

_VARIANCE_EPSILON = 1e-7
#: Most samples one padded batch may hold (1 GiB as float32, about 4.6 hours at 16 kHz): a max_length
#: or pad_to_multiple_of from a caller or a config could otherwise ask for any amount of memory.
MAX_PADDED_SAMPLES = 2**28


class Wav2Vec2FeatureExtractor(SequenceFeatureExtractor):
    """Pads, truncates and normalises 16 kHz mono audio for Wav2Vec2.

    ``return_attention_mask`` defaults to false because the "group"-norm
    checkpoints (wav2vec2-base) were trained on zero-padded batches without a
    mask; "layer"-norm checkpoints (large, lv60) save it as true.
    """

    model_input_names = ["input_values", "attention_mask"]

    def __init__(
        self,
        feature_size: int = 1,
        sampling_rate: int = 16000,
        padding_value: float = 0.0,
        return_attention_mask: bool = False,
        do_normalize: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            feature_size=feature_size,
            sampling_rate=sampling_rate,
            padding_value=padding_value,
            return_attention_mask=return_attention_mask,
            **kwargs,
        )
        self.do_normalize = do_normalize
        if self.padding_value is not None and not math.isfinite(self.padding_value):
            raise ConfigError(
                f"{type(self).__name__}: padding_value must be a finite number, not {self.padding_value!r}; "
                "padding with it would put NaN or infinity into every padded batch. Fix preprocessor_config.json."
            )

    @staticmethod
    def zero_mean_unit_var_norm(
        input_values: list[np.ndarray], attention_mask: list[np.ndarray] | None, padding_value: float = 0.0
    ) -> list[np.ndarray]:
        """Normalise each utterance; with a mask, statistics come from its first ``sum(mask)`` samples.

        Padding is set back to ``padding_value`` afterwards.  Silence (zero
        variance) maps to zeros thanks to the epsilon.
        """
        if attention_mask is None:
            return [(row - row.mean()) / np.sqrt(row.var() + _VARIANCE_EPSILON) for row in input_values]
        normalised = []
        # rows may differ in length (max_length shorter than a row, without truncation): one sum per row
        for row, length in zip(input_values, (int(np.sum(mask)) for mask in attention_mask)):
            real = row[:length]
            scaled = (row - real.mean()) / np.sqrt(real.var() + _VARIANCE_EPSILON)
            if length < scaled.shape[0]:
                scaled[length:] = padding_value
            normalised.append(scaled)
        return normalised

    def __call__(
        self,
        raw_speech: Any,
        padding: bool | str = False,
        max_length: int | None = None,
        truncation: bool = False,
        pad_to_multiple_of: int | None = None,
        return_attention_mask: bool | None = None,
        return_tensors: str | None = None,
        sampling_rate: int | None = None,
        **kwargs: Any,
    ) -> BatchFeature:
        """Prepare one waveform or a batch (numpy arrays, torch tensors or lists of floats).

        A 1-D input is one utterance, a 2-D array or a list of 1-D inputs a
        batch.  ``padding`` (``True``/``"longest"``, ``"max_length"``),
        ``max_length``, ``truncation``, ``pad_to_multiple_of`` and
        ``return_tensors`` (``"pt"``, ``"np"``) as in transformers; without
        ``return_tensors`` the output holds a list of float32 arrays.
        ``sampling_rate`` must match the extractor's (pass it: a missing one
        only warns).
        """
        if kwargs:
            raise ProcessingError(f"{type(self).__name__} got unexpected arguments {sorted(kwargs)}.")
        if sampling_rate is not None:
            if sampling_rate != self.sampling_rate:
                raise ProcessingError(
                    f"{type(self).__name__} expects audio sampled at {self.sampling_rate} Hz (the rate the model was "
                    f"trained at), but got sampling_rate={sampling_rate}. "
                    f"Resample the audio to {self.sampling_rate} Hz "
                    "first."
                )
        else:
            logger.warning(
                "%s was called without sampling_rate; pass sampling_rate=%s to make sure the audio matches the model.",
                type(self).__name__,
                self.sampling_rate,
            )

        rows = self._audio_rows(raw_speech)
        strategy = self._get_padding_strategies(padding=padding, max_length=max_length)
        self._check_lengths(rows, strategy, max_length, pad_to_multiple_of, truncation)
        if return_attention_mask is None:
            return_attention_mask = self.return_attention_mask

        examples = [
            self._truncate(
                {"input_values": row},
                max_length=max_length,
                pad_to_multiple_of=pad_to_multiple_of,
                truncation=truncation,
            )
            for row in rows
        ]
        target = max_length
        if strategy == "longest":
            if not examples:
                raise ProcessingError("Wav2Vec2FeatureExtractor got an empty batch; pass at least one utterance.")
            target = max(len(example["input_values"]) for example in examples)
            strategy = "max_length"
        examples = [
            self._pad(
                example,
                max_length=target,
                padding_strategy=strategy,
                pad_to_multiple_of=pad_to_multiple_of,
                return_attention_mask=return_attention_mask,
            )
            for example in examples
        ]
        input_values = [np.asarray(example["input_values"], dtype=np.float32) for example in examples]
        attention_mask = (
            [np.asarray(example["attention_mask"], dtype=np.int32) for example in examples]
            if return_attention_mask
            else None
        )

        if self.do_normalize:
            # the mask only guides normalisation when padding actually happened
            guide = attention_mask if _padding_kind(padding) != "do_not_pad" else None
            input_values = self.zero_mean_unit_var_norm(input_values, guide, padding_value=self.padding_value)

        elif len({row.shape for row in input_values}) == 1:
            # transformers hands un-normalised equal-length batches back as one array
            input_values = np.stack(input_values)

        data: dict[str, Any] = {"input_values": input_values}
        if attention_mask is not None:
            data["attention_mask"] = attention_mask
        return BatchFeature(data, tensor_type=return_tensors)

    def _check_lengths(
        self,
        rows: list[np.ndarray],
        strategy: str,
        max_length: int | None,
        pad_to_multiple_of: int | None,
        truncation: bool,
    ) -> None:
        """Refuse lengths that would cut audio silently or make padding allocate without bound."""
        name = type(self).__name__
        for label, value in (("max_length", max_length), ("pad_to_multiple_of", pad_to_multiple_of)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1):
                raise ProcessingError(f"{name}: {label} must be a positive whole number of samples, not {value!r}.")
        if strategy == "do_not_pad" and not truncation:
            return
        longest = max((len(row) for row in rows), default=0)
        target = max_length if strategy == "max_length" else longest
        if truncation and max_length is not None and strategy != "max_length":
            target = min(longest, max_length)
        target = target or 0
        if pad_to_multiple_of:
            target = -(-target // pad_to_multiple_of) * pad_to_multiple_of
        total = target * len(rows)
        if total > MAX_PADDED_SAMPLES:
            raise ProcessingError(
                f"{name}: padding {len(rows)} utterance(s) to {target} samples would need {total} samples "
                f"({total * 4 / 2**30:.1f} GiB as float32), more than the {MAX_PADDED_SAMPLES} allowed for one batch. "
                "Check max_length and pad_to_multiple_of (they count samples, not seconds), or split the batch."
            )


def _padding_kind(padding: Any) -> str:
    if padding is True:
        return "longest"
    if padding is False or padding is None:
        return "do_not_pad"
    return str(getattr(padding, "value", padding))


__all__ = ["Wav2Vec2FeatureExtractor"]
