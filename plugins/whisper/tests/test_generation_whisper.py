"""Whisper's generate() against transformers' on a tiny random checkpoint with a Whisper generation config.

Generated ids must be equal: language and task forcing (codes, names, tokens, one per row, detection),
timestamps, prompts, beams, sampling, several windows; decoded timestamps and offsets equal too.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import transformers
from autoload import AutoModelForSpeechSeq2Seq, AutoTokenizer, GenerationError
from autoload.generation import GenerationMixin
from transformers.generation.logits_process import WhisperTimeStampLogitsProcessor as TheirTimestampProcessor

from autoload_plugin_whisper.generation import WhisperTimeStampLogitsProcessor

FEATURES = torch.randn(3, 16, 60, generator=torch.Generator().manual_seed(1))


@pytest.fixture(scope="module")
def models(checkpoint):
    directory, theirs = checkpoint
    return theirs, AutoModelForSpeechSeq2Seq.from_pretrained(directory).eval()


def both(models, features, seed=0, **kwargs):
    theirs, ours = models
    torch.manual_seed(seed)
    expected = theirs.generate(features, **kwargs)
    torch.manual_seed(seed)
    actual = ours.generate(features, **kwargs)
    return expected, actual


def assert_equal_ids(expected, actual):
    assert actual.dtype == torch.long and actual.shape == expected.shape, (actual, expected)
    assert torch.equal(actual, expected), (actual, expected)


CASES = {
    "language-code": {"language": "en"},
    "language-name-and-translate": {"language": "French", "task": "translate"},
    "language-token": {"language": "<|de|>", "task": "transcribe"},
    "language-per-row": {"language": ["en", "german", "<|ja|>"]},
    "detected-language": {},
    "detected-language-translate": {"task": "translate"},
    "timestamps": {"language": "en", "return_timestamps": True},
    "timestamps-detected-language": {"return_timestamps": True},
    "beams": {"language": "en", "num_beams": 3},
    "beams-timestamps": {"language": "es", "return_timestamps": True, "num_beams": 2},
    "return-sequences": {"language": "en", "num_beams": 2, "num_return_sequences": 2},
    "sampling-by-temperature": {"task": "transcribe", "temperature": 0.7},
    "temperature-tuple": {"language": "de", "temperature": (0.5, 1.0)},
    "do-sample-is-decided-by-temperature": {"language": "en", "do_sample": True},
    "longer": {"language": "en", "return_timestamps": True, "max_new_tokens": 40},
    "default-length": {"language": "de"},
    "max-length": {"language": "de", "max_length": 9},
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_generated_ids_equal_transformers(models, case):
    kwargs = {"max_new_tokens": 12, **CASES[case]}
    if "max_length" in kwargs or case == "default-length":
        kwargs.pop("max_new_tokens")
    expected, actual = both(models, FEATURES, **kwargs)
    assert_equal_ids(expected, actual)


def test_prompt_ids_equal_transformers(models, theirs_tokenizer):
    prompt = theirs_tokenizer.get_prompt_ids("hello world", return_tensors="pt")
    expected, actual = both(models, FEATURES, language="en", prompt_ids=prompt, max_new_tokens=12)
    assert_equal_ids(expected, actual)
    # A prompt as numpy ids (the tokenizer's default) is taken too.
    from_numpy = models[1].generate(FEATURES, language="en", prompt_ids=prompt.numpy(), max_new_tokens=12)
    assert torch.equal(from_numpy, actual)


def test_forced_decoder_ids_of_older_checkpoints(models):
    theirs, _ = models
    forced = [[1, None], [2, theirs.generation_config.task_to_id["translate"]]]
    for model in models:
        model.generation_config.forced_decoder_ids = forced
    try:
        assert_equal_ids(*both(models, FEATURES, max_new_tokens=8))
        assert_equal_ids(*both(models, FEATURES, max_new_tokens=8, language="es"))
    finally:
        for model in models:
            del model.generation_config.forced_decoder_ids


def test_explicit_decoder_input_ids(models):
    theirs, _ = models
    prompt = torch.tensor([[theirs.config.decoder_start_token_id, theirs.generation_config.lang_to_id["<|it|>"]]] * 3)
    assert_equal_ids(*both(models, FEATURES, decoder_input_ids=prompt, max_new_tokens=8))


def test_short_audio_is_padded_to_a_window(models):
    features = torch.randn(2, 16, 37, generator=torch.Generator().manual_seed(7))
    assert_equal_ids(*both(models, features, language="en", return_timestamps=True, max_new_tokens=10))


def test_long_form_decodes_window_after_window(models):
    features = torch.randn(2, 16, 150, generator=torch.Generator().manual_seed(5))
    mask = torch.ones(2, 150, dtype=torch.long)
    mask[1, 95:] = 0
    assert_equal_ids(*both(models, features, attention_mask=mask, language="en", max_new_tokens=10))
    assert_equal_ids(*both(models, features[:1], max_new_tokens=10))
    _, ours = models
    with pytest.raises(GenerationError, match="attention_mask"):
        ours.generate(features, max_new_tokens=4)
    with pytest.raises(GenerationError, match="return_timestamps"):
        ours.generate(features[:1], return_timestamps=False, max_new_tokens=4)


def test_segments_and_decoded_offsets_equal_transformers(models, theirs_tokenizer, tokenizer_dir):
    ours_tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    kwargs = {"language": "en", "return_timestamps": True, "return_segments": True, "max_new_tokens": 30}
    expected, actual = both(models, FEATURES, **kwargs)
    assert_equal_ids(expected["sequences"], actual["sequences"])
    assert len(actual["segments"]) == len(expected["segments"])
    for their_row, our_row in zip(expected["segments"], actual["segments"]):
        assert len(our_row) == len(their_row)
        for theirs, ours in zip(their_row, our_row):
            assert torch.equal(ours["tokens"], theirs["tokens"])
            assert float(ours["start"]) == float(theirs["start"]) and float(ours["end"]) == float(theirs["end"])
            assert ours["idxs"] == theirs["idxs"]
    assert any(len(row) > 1 for row in actual["segments"]), "the tiny model should produce several segments"
    for row in actual["sequences"]:
        for options in ({"decode_with_timestamps": True}, {"output_offsets": True}, {"skip_special_tokens": True}):
            assert ours_tokenizer.decode(row, **options) == theirs_tokenizer.decode(row, **options)
    assert ours_tokenizer.batch_decode(actual["sequences"], decode_with_timestamps=True) == (
        theirs_tokenizer.batch_decode(expected["sequences"], decode_with_timestamps=True)
    )


def test_return_dict_in_generate_gives_the_host_output(models):
    _, ours = models
    output = ours.generate(FEATURES, language="en", max_new_tokens=5, return_dict_in_generate=True, output_scores=True)
    plain = ours.generate(FEATURES, language="en", max_new_tokens=5)
    assert torch.equal(output.sequences[:, 4:], plain) and len(output.scores) == 5


def test_plain_host_generation_is_still_reachable(models):
    """The host's generic encoder-decoder generate(), prompt given: equal to transformers' generic one."""
    theirs, ours = models
    prompt = torch.tensor([[theirs.config.decoder_start_token_id, theirs.generation_config.lang_to_id["<|en|>"]]] * 3)
    kwargs = {"decoder_input_ids": prompt, "max_new_tokens": 6, "begin_suppress_tokens": None, "suppress_tokens": None}
    expected = transformers.GenerationMixin.generate(theirs, FEATURES, **kwargs)
    assert torch.equal(GenerationMixin.generate(ours, FEATURES, **kwargs), expected)


@pytest.mark.parametrize("begin_index", [2, 4])
@pytest.mark.parametrize("max_initial", [None, 3])
def test_timestamp_processor_equals_transformers(begin_index, max_initial):
    generator = torch.Generator().manual_seed(begin_index)
    vocabulary, first_time = 60, 30
    config = transformers.GenerationConfig(eos_token_id=20, no_timestamps_token_id=first_time - 1)
    config.max_initial_timestamp_index = max_initial
    ours = WhisperTimeStampLogitsProcessor(config, begin_index=begin_index)
    theirs = TheirTimestampProcessor(config, begin_index=begin_index)
    for length in range(begin_index, begin_index + 6):
        for _ in range(5):
            ids = torch.randint(0, vocabulary, (4, length), generator=generator)
            ids[:, length // 2 :] = torch.where(
                torch.rand(ids[:, length // 2 :].shape, generator=generator) < 0.5,
                torch.randint(first_time, vocabulary, ids[:, length // 2 :].shape, generator=generator),
                ids[:, length // 2 :],
            )
            scores = torch.randn(4, vocabulary, generator=generator) * 3
            torch.testing.assert_close(ours(ids, scores.clone()), theirs(ids, scores.clone()), atol=0, rtol=0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"language": "klingon"}, "Unsupported Whisper language 'klingon'"),
        ({"task": "summarize"}, "'summarize'"),
        ({"return_token_timestamps": True}, "token-level timestamps"),
        ({"logprob_threshold": -1.0}, "temperature fallback"),
        ({"condition_on_prev_tokens": True}, "long-form"),
        ({"max_new_tokens": 70}, "max_target_positions"),
    ],
)
def test_bad_arguments_are_clear_errors(models, kwargs, match):
    _, ours = models
    with pytest.raises(GenerationError, match=match):
        ours.generate(FEATURES, **kwargs)


def test_english_only_models_refuse_language_unless_told_multilingual(models):
    for model in models:
        model.generation_config.is_multilingual = False
    try:
        with pytest.raises(GenerationError, match="English-only"):
            models[1].generate(FEATURES, language="en", max_new_tokens=3)
        assert_equal_ids(*both(models, FEATURES, is_multilingual=True, language="en", max_new_tokens=3))
    finally:
        for model in models:
            model.generation_config.is_multilingual = True


def test_timestamps_need_the_no_timestamps_token(tmp_path):
    from whisper_helpers import tiny

    config = transformers.WhisperConfig(**tiny())
    transformers.WhisperForConditionalGeneration(config).save_pretrained(tmp_path)
    ours = AutoModelForSpeechSeq2Seq.from_pretrained(tmp_path)
    with pytest.raises(GenerationError, match="no_timestamps_token_id"):
        ours.generate(FEATURES, return_timestamps=True)
    with pytest.raises(GenerationError, match="lang_to_id"):
        ours.generate(FEATURES, language="en")
    assert np.all(ours.generate(FEATURES, max_new_tokens=3).numpy() >= 0)
