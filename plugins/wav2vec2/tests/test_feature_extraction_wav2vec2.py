"""Wav2Vec2FeatureExtractor against transformers' on varied audio, padding modes and settings."""

from __future__ import annotations

import json
import logging

import autoload
import numpy as np
import pytest
import torch
import transformers
from autoload.errors import ProcessingError

from autoload_plugin_wav2vec2.feature_extraction import Wav2Vec2FeatureExtractor

RNG = np.random.default_rng(0)
INPUTS = {
    "one-float32": RNG.standard_normal(50).astype(np.float32),
    "ragged-with-silence": [RNG.standard_normal(50), RNG.standard_normal(30) * 0.01, np.zeros(40)],
    "clipped": [np.zeros(20), np.clip(RNG.standard_normal(25) * 3, -1, 1), np.ones(25)],
    "2d-array": RNG.standard_normal((3, 33)),
    "float-lists": [list(RNG.standard_normal(10)), list(RNG.standard_normal(12))],
    "one-in-a-list": [RNG.standard_normal(17).astype(np.float32)],
    "loud-dc-offset": [RNG.standard_normal(40) * 1000 + 5000, RNG.standard_normal(18) + 3],
}
CALLS = [
    {},
    {"padding": True},
    {"padding": "longest", "pad_to_multiple_of": 8},
    {"padding": "max_length", "max_length": 60},
    {"padding": "max_length", "max_length": 20, "truncation": True},
    {"truncation": True, "max_length": 15},
    {"padding": True, "return_attention_mask": True},
    {"padding": True, "return_attention_mask": False},
    {"padding": True, "return_tensors": "np"},
    {"padding": True, "return_tensors": "pt", "return_attention_mask": True},
]
SETTINGS = [
    {},
    {"return_attention_mask": True},
    {"do_normalize": False, "padding_value": -1.0},
    {"return_attention_mask": True, "padding_side": "left"},
]


def assert_same(actual, expected) -> None:
    assert list(actual.keys()) == list(expected.keys())
    for key in expected:
        left, right = actual[key], expected[key]
        if isinstance(right, np.ndarray) and right.dtype == object:
            right = list(right)  # transformers' ragged object array; ours stays a list of arrays
        assert type(left) is type(right), key
        if isinstance(right, list):
            assert len(left) == len(right)
            for a, b in zip(left, right):
                assert a.dtype == b.dtype and a.shape == b.shape, key
                np.testing.assert_array_equal(a, b)
        else:
            assert left.dtype == right.dtype, key
            np.testing.assert_array_equal(np.asarray(left), np.asarray(right))


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()) or "default")
@pytest.mark.parametrize("name", list(INPUTS))
def test_outputs_equal_transformers(name, settings) -> None:
    theirs = transformers.Wav2Vec2FeatureExtractor(**settings)
    ours = Wav2Vec2FeatureExtractor(**settings)
    for call in CALLS:
        try:
            expected = theirs(INPUTS[name], sampling_rate=16000, **call)
        except ValueError:
            with pytest.raises(ProcessingError):
                ours(INPUTS[name], sampling_rate=16000, **call)
            continue
        assert_same(ours(INPUTS[name], sampling_rate=16000, **call), expected)


def test_silence_normalises_to_zeros() -> None:
    ours = Wav2Vec2FeatureExtractor(return_attention_mask=True)
    output = ours([np.zeros(30), np.zeros(10)], sampling_rate=16000, padding=True)
    for row in output["input_values"]:
        assert np.isfinite(row).all() and not row.any()


def test_normalisation_ignores_padding_when_masked() -> None:
    ours = Wav2Vec2FeatureExtractor(return_attention_mask=True)
    short = RNG.standard_normal(20)
    batched = ours([RNG.standard_normal(50), short], sampling_rate=16000, padding=True)["input_values"][1]
    alone = ours(short, sampling_rate=16000)["input_values"][0]
    np.testing.assert_allclose(batched[:20], alone, atol=1e-6)
    assert not batched[20:].any()
    assert abs(float(alone.mean())) < 1e-5 and abs(float(alone.std()) - 1) < 1e-3


def test_torch_tensors_are_accepted() -> None:
    ours = Wav2Vec2FeatureExtractor()
    audio = RNG.standard_normal((2, 40)).astype(np.float32)
    expected = ours(audio, sampling_rate=16000, return_tensors="pt")
    from_tensor = ours(torch.from_numpy(audio), sampling_rate=16000, return_tensors="pt")
    from_list = ours([torch.from_numpy(row) for row in audio], sampling_rate=16000, return_tensors="pt")
    torch.testing.assert_close(from_tensor["input_values"], expected["input_values"])
    torch.testing.assert_close(from_list["input_values"], expected["input_values"])


def test_sampling_rate_is_checked(caplog) -> None:
    ours = Wav2Vec2FeatureExtractor()
    with pytest.raises(ProcessingError, match="16000 Hz"):
        ours(np.zeros(10), sampling_rate=8000)
    with caplog.at_level(logging.WARNING, logger="autoload"):
        ours(np.zeros(10))
    assert "sampling_rate" in caplog.text


@pytest.mark.parametrize(
    ("audio", "fragment"),
    [
        (np.zeros((2, 3, 10)), "mono"),
        ([np.zeros((2, 10))], "1-D"),
        ("not audio", "numpy array"),
        ([], "empty"),
    ],
)
def test_bad_audio_is_rejected(audio, fragment) -> None:
    with pytest.raises(ProcessingError, match=fragment):
        Wav2Vec2FeatureExtractor()(audio, sampling_rate=16000)


def test_pad_matches_transformers() -> None:
    settings = {"return_attention_mask": True, "padding_value": 0.5}
    theirs, ours = transformers.Wav2Vec2FeatureExtractor(**settings), Wav2Vec2FeatureExtractor(**settings)
    features = [{"input_values": np.ones(5, dtype=np.float32)}, {"input_values": np.arange(3, dtype=np.float32)}]
    for kwargs in ({}, {"padding": "max_length", "max_length": 8}, {"pad_to_multiple_of": 4}):
        expected, actual = theirs.pad(features, **kwargs), ours.pad(features, **kwargs)
        for key in expected:
            np.testing.assert_array_equal(np.asarray(actual[key]), np.asarray(expected[key]))


def test_settings_move_both_ways(tmp_path) -> None:
    theirs = transformers.Wav2Vec2FeatureExtractor(return_attention_mask=True, do_normalize=False, padding_value=0.25)
    theirs.save_pretrained(tmp_path / "theirs")
    ours = Wav2Vec2FeatureExtractor.from_pretrained(tmp_path / "theirs")
    assert ours.return_attention_mask and not ours.do_normalize and ours.padding_value == 0.25
    ours.save_pretrained(tmp_path / "ours")
    saved = json.loads((tmp_path / "ours" / "preprocessor_config.json").read_text())
    assert saved["feature_extractor_type"] == "Wav2Vec2FeatureExtractor"
    back = transformers.Wav2Vec2FeatureExtractor.from_pretrained(tmp_path / "ours")
    assert back.to_dict() | {"processor_class": None} == theirs.to_dict() | {"processor_class": None}
    (tmp_path / "ours" / "config.json").write_text(json.dumps({"model_type": "wav2vec2"}))
    assert isinstance(autoload.AutoFeatureExtractor.from_pretrained(tmp_path / "ours"), Wav2Vec2FeatureExtractor)
