"""Wav2Vec2Processor against transformers': calls, padding, decoding and both file layouts."""

from __future__ import annotations

import json

import autoload
import numpy as np
import pytest
import torch
import transformers
from autoload.errors import ProcessingError
from wav2vec2_helpers import tiny_config_kwargs

from autoload_plugin_wav2vec2.feature_extraction import Wav2Vec2FeatureExtractor
from autoload_plugin_wav2vec2.processing import Wav2Vec2Processor
from autoload_plugin_wav2vec2.tokenization import Wav2Vec2CTCTokenizer

RNG = np.random.default_rng(1)
AUDIO = [RNG.standard_normal(900).astype(np.float32), RNG.standard_normal(640).astype(np.float32)]
TEXT = ["hello that", "a tall hat"]


@pytest.fixture
def processors(vocab_file):
    theirs = transformers.Wav2Vec2Processor(
        transformers.Wav2Vec2FeatureExtractor(return_attention_mask=True),
        transformers.Wav2Vec2CTCTokenizer(str(vocab_file), do_lower_case=True),
    )
    ours = Wav2Vec2Processor(
        Wav2Vec2FeatureExtractor(return_attention_mask=True), Wav2Vec2CTCTokenizer(vocab_file, do_lower_case=True)
    )
    return theirs, ours


def assert_same(actual, expected) -> None:
    assert list(actual.keys()) == list(expected.keys())
    for key in expected:
        np.testing.assert_array_equal(np.asarray(actual[key]), np.asarray(expected[key]))


@pytest.mark.parametrize(
    "inputs",
    [
        {"audio": AUDIO},
        {"text": TEXT},
        {"audio": AUDIO, "text": TEXT},
        {"audio": AUDIO[0], "text": TEXT[0]},
    ],
    ids=["audio", "text", "both", "single"],
)
def test_calls_match(processors, inputs) -> None:
    theirs, ours = processors
    expected = theirs(**inputs, sampling_rate=16000, padding=True, return_tensors="np")
    actual = ours(**inputs, sampling_rate=16000, padding=True, return_tensors="np")
    assert_same(actual, expected)
    if "audio" in inputs and "text" in inputs:
        assert "labels" in actual


def test_audio_is_the_first_positional_input(processors) -> None:
    _, ours = processors
    positional = ours(AUDIO, sampling_rate=16000, padding=True, return_tensors="np")
    keyword = ours(audio=AUDIO, sampling_rate=16000, padding=True, return_tensors="np")
    assert_same(positional, keyword)
    with pytest.raises(ProcessingError):
        ours(sampling_rate=16000)


def test_pad_matches_a_ctc_collate(processors) -> None:
    theirs, ours = processors
    features = [{"input_values": row} for row in AUDIO]
    labels = [{"input_ids": ids} for ids in ours.tokenizer(TEXT)["input_ids"]]
    for kwargs in ({"input_features": features}, {"labels": labels}, {"input_features": features, "labels": labels}):
        expected = theirs.pad(**kwargs, padding=True, return_tensors="pt")
        actual = ours.pad(**kwargs, padding=True, return_tensors="pt")
        assert list(actual.keys()) == list(expected.keys())
        for key in expected:
            torch.testing.assert_close(actual[key], expected[key])
    positional = ours.pad(features, padding=True, return_tensors="pt")
    torch.testing.assert_close(positional["input_values"], expected["input_values"])


def test_decoding_goes_through_the_tokenizer(processors) -> None:
    theirs, ours = processors
    frames = torch.tensor([[0, 9, 9, 5, 10, 0, 10, 8, 4, 12, 7, 6, 0], [7, 7, 4, 4, 6, 7, 10, 0, 10, 0, 0, 0, 0]])
    assert ours.batch_decode(frames) == theirs.batch_decode(frames)
    assert ours.decode(frames[0]) == theirs.decode(frames[0]) == "hello that"
    expected = theirs.batch_decode(frames, output_word_offsets=True)
    actual = ours.batch_decode(frames, output_word_offsets=True)
    assert actual.word_offsets == expected.word_offsets and actual.text == expected.text


def test_model_input_names(processors) -> None:
    theirs, ours = processors
    assert ours.model_input_names == theirs.model_input_names


def test_loads_the_older_layout(processors, tmp_path) -> None:
    theirs, _ = processors
    theirs.feature_extractor.save_pretrained(tmp_path)
    theirs.tokenizer.save_pretrained(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "wav2vec2"}))
    assert not (tmp_path / "processor_config.json").exists()
    for loaded in (Wav2Vec2Processor.from_pretrained(tmp_path), autoload.AutoProcessor.from_pretrained(tmp_path)):
        assert isinstance(loaded, Wav2Vec2Processor)
        assert loaded.feature_extractor.return_attention_mask and loaded.tokenizer.do_lower_case
        expected = theirs(audio=AUDIO, text=TEXT, sampling_rate=16000, padding=True, return_tensors="np")
        assert_same(loaded(audio=AUDIO, text=TEXT, sampling_rate=16000, padding=True, return_tensors="np"), expected)


def test_files_move_both_ways(processors, tmp_path) -> None:
    theirs, ours = processors
    theirs.save_pretrained(tmp_path / "theirs")
    assert (tmp_path / "theirs" / "processor_config.json").exists()
    loaded = Wav2Vec2Processor.from_pretrained(tmp_path / "theirs")
    expected = theirs(audio=AUDIO, text=TEXT, sampling_rate=16000, padding=True, return_tensors="np")
    assert_same(loaded(audio=AUDIO, text=TEXT, sampling_rate=16000, padding=True, return_tensors="np"), expected)

    ours.save_pretrained(tmp_path / "ours")
    for name in ("processor_config.json", "tokenizer_config.json", "vocab.json", "special_tokens_map.json"):
        assert (tmp_path / "ours" / name).exists(), name
    assert (
        json.loads((tmp_path / "ours" / "tokenizer_config.json").read_text())["processor_class"] == "Wav2Vec2Processor"
    )
    back = transformers.AutoProcessor.from_pretrained(tmp_path / "ours")
    assert type(back) is transformers.Wav2Vec2Processor
    assert_same(back(audio=AUDIO, text=TEXT, sampling_rate=16000, padding=True, return_tensors="np"), expected)

    ours.save_pretrained(tmp_path / "legacy", legacy_format=True)
    assert (tmp_path / "legacy" / "preprocessor_config.json").exists()
    legacy = transformers.Wav2Vec2Processor.from_pretrained(tmp_path / "legacy")
    assert legacy.feature_extractor.return_attention_mask


def test_end_to_end_ctc_training_inputs(processors, tmp_path) -> None:
    """Processor output feeds the CTC model directly, and the loss equals transformers'."""
    theirs_processor, ours_processor = processors
    config = transformers.Wav2Vec2Config(**tiny_config_kwargs(vocab_size=13, feat_extract_norm="layer"))
    torch.manual_seed(0)
    transformers.Wav2Vec2ForCTC(config).save_pretrained(tmp_path)
    ours_processor.save_pretrained(tmp_path)
    model = autoload.AutoModelForCTC.from_pretrained(tmp_path)
    processor = autoload.AutoProcessor.from_pretrained(tmp_path)
    theirs = transformers.Wav2Vec2ForCTC.from_pretrained(tmp_path).eval()

    batch = processor(audio=AUDIO, text=TEXT, sampling_rate=16000, padding=True, return_tensors="pt")
    expected_batch = theirs_processor(audio=AUDIO, text=TEXT, sampling_rate=16000, padding=True, return_tensors="pt")
    labels = batch["labels"].masked_fill(batch["labels"] == processor.tokenizer.pad_token_id, -100)
    expected_labels = expected_batch["labels"].masked_fill(expected_batch["labels"] == 0, -100)
    with torch.no_grad():
        actual = model(batch["input_values"], attention_mask=batch["attention_mask"], labels=labels)
        expected = theirs(
            expected_batch["input_values"], attention_mask=expected_batch["attention_mask"], labels=expected_labels
        )
    torch.testing.assert_close(actual.loss, expected.loss, atol=1e-4, rtol=1e-5)
    assert processor.batch_decode(actual.logits.argmax(-1)) == theirs_processor.batch_decode(expected.logits.argmax(-1))
