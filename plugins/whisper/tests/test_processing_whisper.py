"""WhisperProcessor against transformers': calls, decoding, decoder prompts and files both ways."""

from __future__ import annotations

import numpy as np
import pytest
import transformers
from autoload import AutoProcessor, ProcessingError

from autoload_plugin_whisper.feature_extraction import WhisperFeatureExtractor
from autoload_plugin_whisper.processing import WhisperProcessor
from autoload_plugin_whisper.tokenization import WhisperTokenizer

RNG = np.random.default_rng(3)
AUDIO = [RNG.standard_normal(9000).astype(np.float32) * 0.2, RNG.standard_normal(4100).astype(np.float32) * 0.2]
TEXT = ["Hello world, this is a test.", " Bonjour le monde."]


@pytest.fixture
def saved_by_transformers(tmp_path, tokenizer_dir):
    theirs = transformers.WhisperProcessor(
        transformers.WhisperFeatureExtractor(feature_size=16),
        transformers.AutoTokenizer.from_pretrained(tokenizer_dir, language="fr", task="transcribe"),
    )
    theirs.save_pretrained(tmp_path / "theirs")
    return theirs, tmp_path / "theirs"


def assert_same(actual, expected) -> None:
    assert sorted(actual.keys()) == sorted(expected.keys())
    for key in expected:
        left, right = actual[key], expected[key]
        if isinstance(right, list) and right and isinstance(right[0], list):
            assert [list(row) for row in left] == right, key
        elif isinstance(right, list) and right and isinstance(right[0], np.ndarray):
            assert len(left) == len(right)
            for a, b in zip(left, right):
                np.testing.assert_allclose(np.asarray(a), b, atol=1e-5, rtol=0)
        else:
            np.testing.assert_allclose(np.asarray(left), np.asarray(right), atol=1e-5, rtol=0)


CALLS = [
    ({"audio": AUDIO}, {"return_tensors": "np"}),
    ({"text": TEXT}, {"padding": True, "return_tensors": "np"}),
    ({"audio": AUDIO[0], "text": TEXT[0]}, {"return_tensors": "np"}),
    ({"audio": AUDIO, "text": TEXT}, {}),
]


@pytest.mark.parametrize(("inputs", "options"), CALLS, ids=["audio", "text", "both-one", "both-batch"])
def test_loaded_from_transformers_calls_match(saved_by_transformers, inputs, options):
    theirs, path = saved_by_transformers
    ours = AutoProcessor.from_pretrained(path)
    assert isinstance(ours, WhisperProcessor)
    assert isinstance(ours.tokenizer, WhisperTokenizer) and isinstance(ours.feature_extractor, WhisperFeatureExtractor)
    expected = theirs(**inputs, sampling_rate=16000, **options)
    actual = ours(**inputs, sampling_rate=16000, **options)
    assert_same(actual, expected)
    if "audio" in inputs and "text" in inputs:
        assert list(np.asarray(actual["labels"][0])[:3]) == ours.tokenizer.prefix_tokens[:3]


def test_decoding_and_prompts_match(saved_by_transformers):
    theirs, path = saved_by_transformers
    ours = AutoProcessor.from_pretrained(path)
    ids = theirs.tokenizer(TEXT, padding=True).input_ids
    for options in ({}, {"skip_special_tokens": True}, {"decode_with_timestamps": True}):
        assert ours.batch_decode(ids, **options) == theirs.batch_decode(ids, **options)
        assert ours.decode(ids[0], **options) == theirs.decode(ids[0], **options)
    call = {"task": "translate", "language": "de", "no_timestamps": True}
    assert ours.get_decoder_prompt_ids(**call) == theirs.get_decoder_prompt_ids(**call)
    assert ours.get_prompt_ids("hello world").tolist() == theirs.get_prompt_ids("hello world").tolist()


def test_saved_by_us_loads_in_transformers(tmp_path, saved_by_transformers):
    theirs, path = saved_by_transformers
    AutoProcessor.from_pretrained(path).save_pretrained(tmp_path / "ours")
    back = transformers.AutoProcessor.from_pretrained(tmp_path / "ours")
    assert type(back).__name__ == "WhisperProcessor"
    assert back.feature_extractor.to_dict() == theirs.feature_extractor.to_dict()
    assert back.tokenizer.prefix_tokens == theirs.tokenizer.prefix_tokens
    assert_same(back(audio=AUDIO, text=TEXT, sampling_rate=16000), theirs(audio=AUDIO, text=TEXT, sampling_rate=16000))


def test_needs_an_input(saved_by_transformers):
    ours = AutoProcessor.from_pretrained(saved_by_transformers[1])
    with pytest.raises(ProcessingError, match=r"audio=\.\.\., text="):
        ours()
