"""WhisperTokenizer against transformers' on a tiny multilingual vocabulary: ids, prefixes, decoding, offsets, files."""

from __future__ import annotations

import json

import pytest
import torch
import transformers
from autoload import AutoTokenizer, ProcessingError
from whisper_helpers import CORPUS

from autoload_plugin_whisper.tokenization import WhisperTokenizer

TEXTS = [
    *CORPUS,
    "",
    " leading space",
    "trailing space ",
    "<|en|> a special token inside text <|endoftext|>",
    "<|0.00|> a timestamp inside text",
    "ÀÉÎÕÜ ßøæ ﬁ \uff46\uff55\uff4c\uff4c\u3000\uff57\uff49\uff44\uff54\uff48"  # full-width letters,
    "line one\r\nline two",
]
PREFIXES = [
    {},
    {"language": "en"},
    {"language": "French", "task": "translate"},
    {"language": "de", "task": "transcribe", "predict_timestamps": True},
    {"task": "transcribe"},
    {"language": "yue"},
]


@pytest.fixture(scope="module")
def ours(tokenizer_dir):
    return AutoTokenizer.from_pretrained(tokenizer_dir)


def timestamped(tokenizer) -> list[list[int]]:
    """Sequences as Whisper produces them: prompts, segments in one window, several windows, lone endings."""
    ids = tokenizer.convert_tokens_to_ids
    first = ids("<|0.00|>")
    text = tokenizer("Hello world, this is", add_special_tokens=False).input_ids
    more = tokenizer(" the quick brown fox", add_special_tokens=False).input_ids
    start = [ids("<|startoftranscript|>"), ids("<|fr|>"), ids("<|transcribe|>")]
    end = [ids("<|endoftext|>")]
    return [
        [*start, first, *text, first + 50, first + 50, *more, first + 80, *end],
        [*start, first + 3, *text, first + 40, first + 2, *more, first + 90, *end],  # lone ending, new window
        [*start, first, *text, first + 70, first + 70, *more, first + 1400, first + 10, *text, first + 30, *end],
        [ids("<|startofprev|>"), *more, *start, first, *text, first + 20, *end],
        [ids("<|startofprev|>"), *more],  # a prompt without transcript
        start + text + end,  # no timestamps
        [*start, first + 5, *text],  # one timestamp only
        [],
    ]


def test_the_class_and_vocabulary_match(ours, theirs_tokenizer):
    assert type(ours) is WhisperTokenizer
    assert ours.get_vocab() == theirs_tokenizer.get_vocab()
    assert ours.all_special_ids == theirs_tokenizer.all_special_ids
    assert ours.timestamp_ids() == theirs_tokenizer.timestamp_ids()


@pytest.mark.parametrize("prefix", PREFIXES, ids=lambda p: "-".join(f"{k}={v}" for k, v in p.items()) or "default")
def test_ids_equal_transformers(tokenizer_dir, prefix):
    ours = AutoTokenizer.from_pretrained(tokenizer_dir, **prefix)
    theirs = transformers.AutoTokenizer.from_pretrained(tokenizer_dir, **prefix)
    assert ours.prefix_tokens == theirs.prefix_tokens
    for text in TEXTS:
        assert ours(text).input_ids == theirs(text).input_ids, text
        assert ours(text, add_special_tokens=False).input_ids == theirs(text, add_special_tokens=False).input_ids
        assert (
            ours(text, return_special_tokens_mask=True).special_tokens_mask
            == theirs(text, return_special_tokens_mask=True).special_tokens_mask
        )
    assert ours(TEXTS[:2], TEXTS[2:4]).input_ids == theirs(TEXTS[:2], TEXTS[2:4]).input_ids
    padded = {"padding": True, "return_tensors": "pt"}
    assert torch.equal(ours(TEXTS, **padded).input_ids, theirs(TEXTS, **padded).input_ids)


def test_set_prefix_tokens_and_decoder_prompt_ids(tokenizer_dir):
    ours = AutoTokenizer.from_pretrained(tokenizer_dir)
    theirs = transformers.AutoTokenizer.from_pretrained(tokenizer_dir)
    for call in [{"language": "german", "task": "translate"}, {"no_timestamps": False}, {"language": "ja"}]:
        assert ours.get_decoder_prompt_ids(**call) == theirs.get_decoder_prompt_ids(**call)
        assert ours("Hello").input_ids == theirs("Hello").input_ids
    ours.set_prefix_tokens(language="es", predict_timestamps=False)
    theirs.set_prefix_tokens(language="es", predict_timestamps=False)
    assert ours.prefix_tokens == theirs.prefix_tokens
    assert ours(TEXTS).input_ids == theirs(TEXTS).input_ids
    assert ours.build_inputs_with_special_tokens([5, 6]) == theirs.build_inputs_with_special_tokens([5, 6])
    assert ours.get_special_tokens_mask([5, 6]) == theirs.get_special_tokens_mask([5, 6])


def test_prompt_ids_equal(ours, theirs_tokenizer):
    for text in ["hello world", "  Bonjour le monde.  "]:
        assert ours.get_prompt_ids(text).tolist() == theirs_tokenizer.get_prompt_ids(text).tolist()
        assert torch.equal(
            ours.get_prompt_ids(text, return_tensors="pt"), theirs_tokenizer.get_prompt_ids(text, return_tensors="pt")
        )
    with pytest.raises(ProcessingError, match="special token"):
        ours.get_prompt_ids("no <|endoftext|> here")


DECODE_OPTIONS = [
    {},
    {"skip_special_tokens": True},
    {"decode_with_timestamps": True},
    {"decode_with_timestamps": True, "skip_special_tokens": True},
    {"decode_with_timestamps": True, "time_precision": 0.04},
    {"output_offsets": True},
    {"output_offsets": True, "skip_special_tokens": True, "time_precision": 0.01},
    {"basic_normalize": True},
    {"basic_normalize": True, "remove_diacritics": True, "skip_special_tokens": True},
]


@pytest.mark.parametrize("options", DECODE_OPTIONS, ids=lambda o: "-".join(o) or "plain")
def test_decode_equals_transformers(ours, theirs_tokenizer, options):
    for sequence in timestamped(theirs_tokenizer):
        assert ours.decode(sequence, **options) == theirs_tokenizer.decode(sequence, **options), sequence
        assert ours.decode(torch.tensor(sequence, dtype=torch.long), **options) == theirs_tokenizer.decode(
            torch.tensor(sequence, dtype=torch.long), **options
        )
    for text in TEXTS:
        encoded = theirs_tokenizer(text).input_ids
        assert ours.decode(encoded, **options) == theirs_tokenizer.decode(encoded, **options)


@pytest.mark.parametrize("options", [{}, {"skip_special_tokens": True}, {"decode_with_timestamps": True}])
def test_batch_decode_equals_transformers(ours, theirs_tokenizer, options):
    rows = [row for row in timestamped(theirs_tokenizer) if row][:3]
    width = max(map(len, rows))
    padded = [row + [theirs_tokenizer.eos_token_id] * (width - len(row)) for row in rows]
    assert ours.batch_decode(padded, **options) == theirs_tokenizer.batch_decode(padded, **options)
    assert ours.batch_decode(torch.tensor(padded), **options) == theirs_tokenizer.batch_decode(
        torch.tensor(padded), **options
    )


def test_offsets_of_a_batch_are_refused(ours, theirs_tokenizer):
    rows = timestamped(theirs_tokenizer)[:2]
    width = max(map(len, rows))
    with pytest.raises(ProcessingError, match="one sequence"):
        ours.decode([row + [0] * (width - len(row)) for row in rows], output_offsets=True)


def test_english_normalizer_is_refused_clearly(ours):
    with pytest.raises(ProcessingError, match="basic_normalize"):
        ours.decode([ours.eos_token_id], normalize=True)


def test_bad_language_or_task_is_a_clear_error(tokenizer_dir):
    with pytest.raises(ProcessingError, match="Unsupported Whisper language 'klingon'"):
        AutoTokenizer.from_pretrained(tokenizer_dir, language="klingon")
    ours = AutoTokenizer.from_pretrained(tokenizer_dir)
    with pytest.raises(ProcessingError, match="'summarize'"):
        ours.set_prefix_tokens(task="summarize")


def test_saved_by_us_loads_in_transformers(tmp_path, tokenizer_dir):
    ours = AutoTokenizer.from_pretrained(tokenizer_dir, language="fr", task="translate")
    ours.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "tokenizer_config.json").read_text())
    assert config["tokenizer_class"] == "WhisperTokenizer" and config["language"] == "fr"
    theirs = transformers.AutoTokenizer.from_pretrained(tmp_path)
    assert type(theirs).__name__ == "WhisperTokenizer"
    assert theirs.prefix_tokens == ours.prefix_tokens
    assert theirs(TEXTS).input_ids == ours(TEXTS).input_ids
    back = AutoTokenizer.from_pretrained(tmp_path)
    assert back(TEXTS).input_ids == ours(TEXTS).input_ids


def test_loads_from_vocab_and_merges_files(tmp_path, tokenizer_dir, theirs_tokenizer):
    """The older layout: vocab.json + merges.txt + added_tokens.json, no tokenizer.json."""
    from autoload.tokenization import bpe_vocabulary_files

    for name, text in bpe_vocabulary_files(theirs_tokenizer.backend_tokenizer).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    vocab_size = theirs_tokenizer.backend_tokenizer.get_vocab_size(with_added_tokens=False)
    added = {token: index for token, index in theirs_tokenizer.get_vocab().items() if index >= vocab_size}
    (tmp_path / "added_tokens.json").write_text(json.dumps(added), encoding="utf-8")
    config = json.loads((tokenizer_dir / "tokenizer_config.json").read_text())
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    ours = AutoTokenizer.from_pretrained(tmp_path, language="en")
    theirs = transformers.AutoTokenizer.from_pretrained(tokenizer_dir, language="en")
    assert ours.get_vocab() == theirs.get_vocab()
    assert ours(TEXTS).input_ids == theirs(TEXTS).input_ids
    for sequence in timestamped(theirs):
        assert ours.decode(sequence, decode_with_timestamps=True) == theirs.decode(
            sequence, decode_with_timestamps=True
        )
