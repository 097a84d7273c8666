"""WhisperFeatureExtractor against transformers' on random audio of several lengths and settings (1e-5)."""

from __future__ import annotations

import numpy as np
import pytest
import transformers
from autoload import AutoFeatureExtractor, ProcessingError

from autoload_plugin_whisper.feature_extraction import WhisperFeatureExtractor, slaney_mel_filter_bank

RNG = np.random.default_rng(0)
AUDIO = {
    "ragged": [RNG.standard_normal(n).astype(np.float32) * 0.3 for n in (16000, 8123, 500)],
    "one": RNG.standard_normal(7000).astype(np.float32),
    "float-list": list(RNG.standard_normal(900)),
    "2d": RNG.standard_normal((2, 4001)),
    "longer-than-30s": [RNG.standard_normal(480_500).astype(np.float32) * 0.1],
    "silence-and-tone": [np.zeros(3000, np.float32), np.sin(np.arange(9000) / 7).astype(np.float32)],
}
CALLS = [
    {},
    {"do_normalize": True},
    {"return_attention_mask": True},
    {"padding": "longest"},
    {"padding": "longest", "return_attention_mask": True, "pad_to_multiple_of": 1000},
    {"max_length": 16000},
    {"return_tensors": "pt"},
]
SETTINGS = [{}, {"feature_size": 128}, {"return_attention_mask": True}, {"hop_length": 128, "n_fft": 320}]


def assert_same(actual, expected):
    assert list(actual.keys()) == list(expected.keys())
    for key in expected:
        left, right = np.asarray(actual[key]), np.asarray(expected[key])
        assert left.shape == right.shape and left.dtype == right.dtype, key
        np.testing.assert_allclose(left, right, atol=1e-5, rtol=0, err_msg=key)


@pytest.mark.parametrize("settings", SETTINGS, ids=str)
@pytest.mark.parametrize("call", CALLS, ids=str)
@pytest.mark.parametrize("audio", sorted(AUDIO))
def test_matches_transformers(audio, call, settings):
    ours, theirs = WhisperFeatureExtractor(**settings), transformers.WhisperFeatureExtractor(**settings)
    call = {"return_tensors": "np", **call}
    assert_same(ours(AUDIO[audio], sampling_rate=16000, **call), theirs(AUDIO[audio], sampling_rate=16000, **call))


def test_mel_filters_equal_transformers():
    for bins in (80, 128):
        expected = transformers.WhisperFeatureExtractor(feature_size=bins).mel_filters
        np.testing.assert_allclose(slaney_mel_filter_bank(201, bins, 16000), expected, atol=1e-12)


def test_settings_move_both_ways(tmp_path):
    transformers.WhisperFeatureExtractor(feature_size=128, chunk_length=10).save_pretrained(tmp_path / "theirs")
    ours = AutoFeatureExtractor.from_pretrained(tmp_path / "theirs")
    assert isinstance(ours, WhisperFeatureExtractor)
    assert (ours.feature_size, ours.n_samples, ours.nb_max_frames) == (128, 160000, 1000)
    ours.save_pretrained(tmp_path / "ours")
    back = transformers.WhisperFeatureExtractor.from_pretrained(tmp_path / "ours")
    assert back.to_dict() == transformers.WhisperFeatureExtractor.from_pretrained(tmp_path / "theirs").to_dict()


@pytest.mark.parametrize(
    ("audio", "kwargs", "match"),
    [
        (np.zeros((2, 2, 100)), {}, "mono"),
        ([], {}, "empty"),
        ([np.zeros(10), np.zeros(0)], {}, "Audio 1 is empty"),
        (np.full(100, 1 + 1j), {}, "complex"),
        (np.array([0.0, np.nan, 0.0]), {}, r"non-finite sample \(nan at sample 1\)"),
        (np.full(10, 1e300), {}, "float32 samples"),
        (np.zeros(100), {"sampling_rate": 8000}, "16000 Hz"),
        ([np.zeros(10), np.zeros(20)], {"padding": False}, "one length"),
        (np.zeros(100), {"device": "cuda"}, "CPU"),
    ],
)
def test_bad_input_is_a_processing_error(audio, kwargs, match):
    kwargs.setdefault("sampling_rate", 16000)
    with pytest.raises(ProcessingError, match=match):
        WhisperFeatureExtractor()(audio, **kwargs)
