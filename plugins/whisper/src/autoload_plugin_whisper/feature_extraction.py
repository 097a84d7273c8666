"""WhisperFeatureExtractor: raw 16 kHz mono audio to the log-mel spectrogram Whisper reads.

Whisper was trained on fixed 30-second windows, so every utterance is padded
(with silence) or cut to ``n_samples`` before the spectrogram is taken; the
encoder's positional table has exactly ``n_samples // hop_length // 2`` rows.
The spectrogram is the one of the original implementation: a centred STFT
(reflect padding, periodic Hann window of ``n_fft`` samples, hop
``hop_length``) whose last frame is dropped, power spectrum, Slaney-normalised
mel filters on the Slaney mel scale from 0 to 8 kHz, ``log10`` with a floor of
1e-10, dynamic range clipped to 8 (80 dB) below each utterance's maximum, and
finally ``(x + 4) / 4``.  The filters are computed here with numpy; the
transform runs in float32 through ``torch.stft``, so the features equal
transformers' (within 1e-5, in practice bit for bit).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from autoload import BatchFeature, ConfigError, ProcessingError
from autoload.processing import SequenceFeatureExtractor

logger = logging.getLogger("autoload")

_VARIANCE_EPSILON = 1e-7
_LOG_FLOOR = 1e-10
_DYNAMIC_RANGE = 8.0  # in log10 units: 80 dB


def hertz_to_slaney_mel(frequency: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz (3 mels per 200 Hz), logarithmic above."""
    frequency = np.asarray(frequency, dtype=np.float64)
    mels = 3.0 * frequency / 200.0
    log_region = frequency >= 1000.0
    mels[log_region] = 15.0 + np.log(frequency[log_region] / 1000.0) * (27.0 / np.log(6.4))
    return mels


def slaney_mel_to_hertz(mels: np.ndarray) -> np.ndarray:
    """Inverse of :func:`hertz_to_slaney_mel`."""
    mels = np.asarray(mels, dtype=np.float64)
    frequency = 200.0 * mels / 3.0
    log_region = mels >= 15.0
    frequency[log_region] = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mels[log_region] - 15.0))
    return frequency


def slaney_mel_filter_bank(
    num_frequency_bins: int, num_mel_filters: int, sampling_rate: int, max_frequency: float = 8000.0
) -> np.ndarray:
    """Triangular filters evenly spaced on the Slaney mel scale, each scaled to unit area ("slaney" norm).

    Returns ``(num_frequency_bins, num_mel_filters)`` in float64, the layout
    transformers saves nowhere but computes the same way, so the spectrogram
    matches theirs.
    """
    edges_mel = np.linspace(
        hertz_to_slaney_mel(np.array([0.0]))[0], hertz_to_slaney_mel(np.array([max_frequency]))[0], num_mel_filters + 2
    )
    edges_hz = slaney_mel_to_hertz(edges_mel)
    bin_hz = np.linspace(0, sampling_rate // 2, num_frequency_bins)
    distance = edges_hz[None, :] - bin_hz[:, None]  # (bins, edges)
    widths = np.diff(edges_hz)
    rising = -distance[:, :-2] / widths[:-1]
    falling = distance[:, 2:] / widths[1:]
    filters = np.maximum(0.0, np.minimum(rising, falling))
    filters *= 2.0 / (edges_hz[2 : num_mel_filters + 2] - edges_hz[:num_mel_filters])
    return filters


class WhisperFeatureExtractor(SequenceFeatureExtractor):
    """Pads or cuts audio to ``chunk_length`` seconds and returns its log-mel spectrogram as ``input_features``.

    ``feature_size`` is the number of mel bins (80, or 128 for large-v3).
    ``return_attention_mask`` (default false) gives a frame-level mask, one
    entry per ``hop_length`` samples; ``do_normalize`` normalises each
    waveform to zero mean and unit variance before the spectrogram.
    """

    model_input_names = ["input_features"]

    def __init__(
        self,
        feature_size: int = 80,
        sampling_rate: int = 16000,
        hop_length: int = 160,
        chunk_length: int = 30,
        n_fft: int = 400,
        padding_value: float = 0.0,
        dither: float = 0.0,
        return_attention_mask: bool = False,
        **kwargs: Any,
    ) -> None:
        # derived values transformers also writes into preprocessor_config.json; recomputed, never trusted
        for derived in ("n_samples", "nb_max_frames", "mel_filters"):
            kwargs.pop(derived, None)
        super().__init__(
            feature_size=feature_size,
            sampling_rate=sampling_rate,
            padding_value=padding_value,
            return_attention_mask=return_attention_mask,
            **kwargs,
        )
        for name, value in (("hop_length", hop_length), ("chunk_length", chunk_length), ("n_fft", n_fft)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"WhisperFeatureExtractor: {name} must be a positive integer, not {value!r}.")
        self.hop_length = hop_length
        self.chunk_length = chunk_length
        self.n_fft = n_fft
        self.dither = dither
        self.n_samples = chunk_length * sampling_rate
        self.nb_max_frames = self.n_samples // hop_length
        self._filters: np.ndarray | None = None

    @property
    def mel_filters(self) -> np.ndarray:
        """``(1 + n_fft // 2, feature_size)`` Slaney mel filters, built on first use."""
        if self._filters is None:
            self._filters = slaney_mel_filter_bank(1 + self.n_fft // 2, self.feature_size, self.sampling_rate)
        return self._filters

    # -- the spectrogram ---------------------------------------------------------------------------------------

    def log_mel_spectrogram(self, waveforms: np.ndarray) -> np.ndarray:
        """``(batch, samples)`` float waveforms -> ``(batch, feature_size, samples // hop_length)`` float32.

        The STFT runs in float32 through ``torch.stft`` (torch is a dependency
        of this plugin anyway): the quietest mel bins are sensitive to the
        rounding of the transform, and this is the computation transformers
        and the original Whisper code do, so the features agree exactly.
        """
        import torch

        signal = torch.from_numpy(np.ascontiguousarray(waveforms, dtype=np.float32))
        if self.dither:
            signal = signal + self.dither * torch.randn(signal.shape, dtype=signal.dtype)
        window = torch.hann_window(self.n_fft)
        spectrum = torch.stft(signal, self.n_fft, self.hop_length, window=window, return_complex=True)
        # the original implementation drops the last frame; contiguous keeps the matmul on its fast path
        power = (spectrum[..., :-1].abs() ** 2).contiguous()
        mel = torch.from_numpy(self.mel_filters.astype(np.float32)).T @ power  # (batch, mels, frames)
        log_mel = torch.clamp(mel, min=_LOG_FLOOR).log10()
        ceiling = log_mel.amax(dim=(1, 2), keepdim=True)
        log_mel = torch.maximum(log_mel, ceiling - _DYNAMIC_RANGE)
        return ((log_mel + 4.0) / 4.0).numpy()

    @staticmethod
    def zero_mean_unit_var_norm(
        input_values: list[np.ndarray], attention_mask: np.ndarray | None, padding_value: float = 0.0
    ) -> list[np.ndarray]:
        """Normalise each waveform over its real samples (the mask's ones); padding goes back to ``padding_value``."""
        if attention_mask is None:
            return [(row - row.mean()) / np.sqrt(row.var() + _VARIANCE_EPSILON) for row in input_values]
        normalised = []
        for row, length in zip(input_values, np.asarray(attention_mask).sum(-1)):
            length = int(length)
            real = row[:length]
            scaled = (row - real.mean()) / np.sqrt(real.var() + _VARIANCE_EPSILON)
            scaled[length:] = padding_value
            normalised.append(scaled)
        return normalised

    # -- the call ----------------------------------------------------------------------------------------------

    def __call__(
        self,
        raw_speech: Any,
        truncation: bool = True,
        pad_to_multiple_of: int | None = None,
        return_tensors: str | None = None,
        return_attention_mask: bool | None = None,
        padding: bool | str = "max_length",
        max_length: int | None = None,
        sampling_rate: int | None = None,
        do_normalize: bool | None = None,
        device: str | None = "cpu",
        **kwargs: Any,
    ) -> BatchFeature:
        """Featurise one waveform or a batch (numpy arrays, torch tensors or lists of floats).

        By default every utterance is padded or cut to ``n_samples``
        (``chunk_length`` seconds), as the model expects; ``max_length`` (in
        samples), ``padding`` and ``truncation`` change that as in
        transformers.  ``sampling_rate`` must match the extractor's.
        ``device`` is accepted for compatibility; the spectrogram is computed
        with numpy on the CPU.
        """
        if kwargs:
            raise ProcessingError(f"{type(self).__name__} got unexpected arguments {sorted(kwargs)}.")
        if device not in (None, "cpu"):
            raise ProcessingError(
                f"{type(self).__name__} computes the spectrogram with numpy on the CPU; device={device!r} is not "
                "supported. Leave device at 'cpu' and move input_features to the device afterwards."
            )
        if sampling_rate is not None:
            if sampling_rate != self.sampling_rate:
                raise ProcessingError(
                    f"{type(self).__name__} expects audio sampled at {self.sampling_rate} Hz (the rate the model was "
                    f"trained at), but got sampling_rate={sampling_rate}. Resample the audio to "
                    f"{self.sampling_rate} Hz first."
                )
        else:
            logger.warning(
                "%s was called without sampling_rate; pass sampling_rate=%s to make sure the audio matches the model.",
                type(self).__name__,
                self.sampling_rate,
            )
        rows = self._audio_rows(raw_speech)
        # as transformers: None here means "the extractor's setting" for padding, but only an explicit request
        # turns the sample-level mask into a frame-level one below
        want_mask = return_attention_mask or do_normalize
        padded = self.pad(
            {"input_features": [row[:, None] for row in rows]},  # (samples, 1): padding sees frames of one value
            padding=padding,
            max_length=max_length if max_length else self.n_samples,
            truncation=truncation,
            pad_to_multiple_of=pad_to_multiple_of,
            return_attention_mask=want_mask,
            return_tensors="np",
        )
        waveforms = padded["input_features"]
        waveforms = waveforms[..., 0]
        if do_normalize:
            waveforms = np.stack(
                self.zero_mean_unit_var_norm(list(waveforms), padded["attention_mask"], self.padding_value)
            )
        data: dict[str, Any] = {"input_features": self.log_mel_spectrogram(waveforms)}
        if return_attention_mask:
            mask = np.asarray(padded["attention_mask"])
            frame_mask = mask[:, :: self.hop_length]
            if mask.shape[1] % self.hop_length:
                frame_mask = frame_mask[:, :-1]  # the spectrogram has one frame fewer than the strided mask
            data["attention_mask"] = frame_mask
        elif "attention_mask" in padded:
            # transformers hands back the sample-level mask in this case; kept so outputs match
            data["attention_mask"] = np.asarray(padded["attention_mask"])
        return BatchFeature(data, tensor_type=return_tensors)


__all__ = ["WhisperFeatureExtractor"]
