"""Wav2Vec2CTCTokenizer against transformers' tokenizer: encoding, CTC decoding, offsets and files."""

from __future__ import annotations

import json
import logging
import random

import autoload
import numpy as np
import pytest
import torch
import transformers
from autoload.errors import ConfigError, FileResolutionError, ProcessingError
from wav2vec2_helpers import VOCAB

from autoload_plugin_wav2vec2.tokenization import Wav2Vec2CTCTokenizer, Wav2Vec2CTCTokenizerOutput

TEXTS = [
    "HELLO THE",
    "hello",
    "A  TO <s>HAT </s> ",
    " THE TH<pad>E",
    "XYZ HAT",
    "A<unk>B",
    "THAT'S ALL",
    "",
    " ",
    "A<s>B</s>",
    "Hello The",
    "ALL  TOO   LATE ",
]
# one vocabulary with every special token, one that lacks <s> and </s> (they get new ids)
VOCABS = {"full": VOCAB, "missing-specials": {"<pad>": 0, "<unk>": 1, "|": 2, "A": 3, "B": 4, "E": 5, "L": 6}}


@pytest.fixture(
    params=[(name, lower) for name in VOCABS for lower in (False, True)], ids=lambda p: f"{p[0]}-lower{p[1]}"
)
def pair(request, tmp_path):
    name, lower = request.param
    path = tmp_path / "vocab.json"
    path.write_text(json.dumps(VOCABS[name]), encoding="utf-8")
    return (
        transformers.Wav2Vec2CTCTokenizer(str(path), do_lower_case=lower),
        Wav2Vec2CTCTokenizer(path, do_lower_case=lower),
    )


def rows(value):
    return [list(row) for row in value]


def test_vocabulary_and_special_tokens_match(pair) -> None:
    theirs, ours = pair
    assert ours.get_vocab() == theirs.get_vocab()
    assert len(ours) == len(theirs) and ours.vocab_size == theirs.vocab_size
    assert ours.all_special_tokens == theirs.all_special_tokens
    assert ours.all_special_ids == theirs.all_special_ids
    for role in ("pad_token_id", "unk_token_id", "bos_token_id", "eos_token_id", "word_delimiter_token_id"):
        assert getattr(ours, role) == getattr(theirs, role), role


def test_encoding_matches(pair) -> None:
    theirs, ours = pair
    for text in TEXTS:
        assert ours.tokenize(text) == theirs.tokenize(text), text
        assert ours(text)["input_ids"] == theirs(text).input_ids, text
        assert ours(text)["attention_mask"] == theirs(text).attention_mask, text


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"padding": True},
        {"padding": "longest", "pad_to_multiple_of": 4},
        {"padding": "max_length", "max_length": 14},
        {"truncation": True, "max_length": 3},
        {"padding": True, "truncation": True, "max_length": 5, "return_attention_mask": False},
        {"padding": True, "padding_side": "left"},
    ],
)
def test_batch_encoding_matches(pair, kwargs) -> None:
    theirs, ours = pair
    expected, actual = theirs(TEXTS, **kwargs), ours(TEXTS, **kwargs)
    assert sorted(actual.keys()) == sorted(expected.keys())
    for key in expected:
        assert rows(actual[key]) == rows(expected[key]), key


@pytest.mark.parametrize("tensor_type", ["pt", "np"])
def test_tensors(pair, tensor_type) -> None:
    theirs, ours = pair
    for text in (TEXTS[:3], "HAT"):
        expected = theirs(text, padding=True, return_tensors=tensor_type)
        actual = ours(text, padding=True, return_tensors=tensor_type)
        for key in expected:
            assert type(actual[key]) is type(expected[key])
            np.testing.assert_array_equal(np.asarray(actual[key]), np.asarray(expected[key]))
    with pytest.raises(ProcessingError):
        ours(TEXTS, return_tensors=tensor_type)  # ragged without padding


DECODE_OPTIONS = [
    {},
    {"skip_special_tokens": True},
    {"output_char_offsets": True},
    {"output_word_offsets": True},
    {"output_char_offsets": True, "output_word_offsets": True, "skip_special_tokens": True},
    {"group_tokens": False},
    {"spaces_between_special_tokens": True},
    {"clean_up_tokenization_spaces": True},
]


def assert_decoded_equal(actual, expected, context) -> None:
    if isinstance(expected, (str, list)):
        assert actual == expected, context
        return
    assert isinstance(actual, Wav2Vec2CTCTokenizerOutput)
    assert list(actual.keys()) == list(expected.keys()), context
    for key in expected:
        assert actual[key] == expected[key], (context, key)


def test_decoding_random_frames_matches(pair) -> None:
    theirs, ours = pair
    generator = random.Random(0)
    size = len(ours)
    for _ in range(150):
        # mostly blanks and repeats, like real CTC output
        ids = [generator.choice([0, 0, generator.randrange(size)]) for _ in range(generator.randrange(0, 16))]
        for options in DECODE_OPTIONS:
            assert_decoded_equal(ours.decode(ids, **options), theirs.decode(ids, **options), (ids, options))


def test_batch_decode_matches(pair) -> None:
    theirs, ours = pair
    batch = torch.tensor([[1, 5, 5, 0, 5, 4, 4, 6], [6, 6, 0, 4, 3, 0, 0, 2], [0, 0, 0, 0, 0, 0, 0, 0]])
    for options in DECODE_OPTIONS:
        assert_decoded_equal(ours.batch_decode(batch, **options), theirs.batch_decode(batch, **options), options)
    assert ours.batch_decode(batch.numpy()) == theirs.batch_decode(batch.numpy())
    assert ours.decode(batch[0]) == ours.decode(batch[0].tolist()) == ours.decode(np.asarray(batch[0]))


def test_pad_matches(pair) -> None:
    theirs, ours = pair
    for inputs in (
        {"input_ids": [[3, 4], [3]]},
        [{"input_ids": [3, 4]}, {"input_ids": [3]}],
        {"input_ids": [[3, 4, 5], [3]], "attention_mask": [[1, 1, 1], [1]]},
    ):
        expected, actual = theirs.pad(inputs), ours.pad(inputs)
        assert {k: rows(v) for k, v in actual.items()} == {k: rows(v) for k, v in expected.items()}
    padded = ours.pad({"input_ids": [torch.tensor([3, 4]), torch.tensor([3])]}, max_length=4, padding="max_length")
    assert isinstance(padded["input_ids"], torch.Tensor) and padded["input_ids"].shape == (2, 4)


# -- decoding real CTC output --------------------------------------------------------------


def frames_for(transcript_runs, vocab):
    """Frame-level ids for ``(token, repeat)`` runs, plus the offsets they must decode to."""
    ids, chars, start = [], [], 0
    for token, repeat in transcript_runs:
        ids.extend([vocab[token]] * repeat)
        if token != "<pad>":
            chars.append({"char": " " if token == "|" else token, "start_offset": start, "end_offset": start + repeat})
        start += repeat
    return ids, chars


def expected_words(chars):
    words, current = [], None
    for char in chars:
        if char["char"] == " ":
            if current:
                words.append(current)
            current = None
        elif current is None:
            current = {"word": char["char"], "start_offset": char["start_offset"], "end_offset": char["end_offset"]}
        else:
            current["word"] += char["char"]
            current["end_offset"] = char["end_offset"]
    if current:
        words.append(current)
    return words


def test_hand_built_logits_decode_to_the_transcript(vocab_file) -> None:
    runs = [
        ("<pad>", 2), ("H", 2), ("E", 1), ("L", 3), ("<pad>", 1), ("L", 1), ("O", 2), ("|", 2),
        ("TH", 1), ("A", 1), ("<pad>", 1), ("T", 3), ("<pad>", 2), ("|", 1),
        ("A", 1), ("L", 2), ("<pad>", 1), ("L", 1), ("<pad>", 3),
    ]  # fmt: skip
    ids, chars = frames_for(runs, VOCAB)
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(len(ids), len(VOCAB), generator=generator)
    logits[torch.arange(len(ids)), torch.tensor(ids)] += 10.0
    predicted = logits.argmax(-1)
    assert predicted.tolist() == ids

    ours = Wav2Vec2CTCTokenizer(vocab_file)
    theirs = transformers.Wav2Vec2CTCTokenizer(str(vocab_file))
    assert ours.decode(predicted) == "HELLO THAT ALL"
    output = ours.decode(predicted, output_char_offsets=True, output_word_offsets=True)
    assert output.text == "HELLO THAT ALL"
    assert output.char_offsets == chars
    assert output.word_offsets == expected_words(chars)
    assert [word["word"] for word in output.word_offsets] == ["HELLO", "THAT", "ALL"]
    assert_decoded_equal(output, theirs.decode(predicted, output_char_offsets=True, output_word_offsets=True), "ctc")
    # the transcript encodes back to the labels a CTC loss needs
    assert ours("HELLO THAT ALL")["input_ids"] == theirs("HELLO THAT ALL").input_ids


def test_lower_case_vocabulary_round_trip(vocab_file) -> None:
    ours = Wav2Vec2CTCTokenizer(vocab_file, do_lower_case=True)
    ids = ours("hello that tall")["input_ids"]
    assert ours.unk_token_id not in ids
    spaced = []
    for index in ids:  # keep doubled letters apart with a blank, as CTC output does
        if spaced and spaced[-1] == index:
            spaced.append(ours.pad_token_id)
        spaced.append(index)
    assert ours.decode(spaced) == "hello that tall"


# -- files ------------------------------------------------------------------------------------


def test_files_move_both_ways(vocab_file, tmp_path) -> None:
    theirs = transformers.Wav2Vec2CTCTokenizer(str(vocab_file), do_lower_case=True, word_delimiter_token="|")
    theirs.save_pretrained(tmp_path / "theirs")
    ours = Wav2Vec2CTCTokenizer.from_pretrained(tmp_path / "theirs")
    assert ours.do_lower_case and ours.get_vocab() == theirs.get_vocab()
    for text in TEXTS:
        assert ours(text)["input_ids"] == theirs(text).input_ids

    written = ours.save_pretrained(tmp_path / "ours")
    assert sorted(p.rsplit("/", 1)[-1] for p in written) == [
        "special_tokens_map.json",
        "tokenizer_config.json",
        "vocab.json",
    ]
    config = json.loads((tmp_path / "ours" / "tokenizer_config.json").read_text())
    assert config["tokenizer_class"] == "Wav2Vec2CTCTokenizer" and config["word_delimiter_token"] == "|"
    back = transformers.AutoTokenizer.from_pretrained(tmp_path / "ours")
    assert type(back) is transformers.Wav2Vec2CTCTokenizer and back.do_lower_case
    assert back.get_vocab() == ours.get_vocab()
    for text in TEXTS:
        assert back(text).input_ids == ours(text)["input_ids"]
    again = Wav2Vec2CTCTokenizer.from_pretrained(tmp_path / "ours")
    assert again.get_vocab() == ours.get_vocab() and again.init_kwargs == ours.init_kwargs


def test_added_tokens_survive_saving(vocab_file, tmp_path) -> None:
    ours = Wav2Vec2CTCTokenizer(vocab_file)
    assert ours.add_tokens(["XY"]) == 1
    assert ours("AXYB")["input_ids"] == [7, 13, 3]
    ours.save_pretrained(tmp_path)
    theirs = transformers.Wav2Vec2CTCTokenizer.from_pretrained(tmp_path)
    assert theirs("AXYB").input_ids == [7, 13, 3]
    assert Wav2Vec2CTCTokenizer.from_pretrained(tmp_path)("AXYB")["input_ids"] == [7, 13, 3]


def test_older_layout_with_special_tokens_map_only(tmp_path) -> None:
    (tmp_path / "vocab.json").write_text(json.dumps(VOCAB))
    (tmp_path / "special_tokens_map.json").write_text(
        json.dumps({"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": {"content": "<pad>"}})
    )
    ours = Wav2Vec2CTCTokenizer.from_pretrained(tmp_path)
    assert ours.pad_token == "<pad>" and ours.pad_token_id == 0
    assert ours.decode([9, 9, 0, 5]) == "HE"


def test_multilingual_vocabulary(tmp_path) -> None:
    nested = {"eng": {"<pad>": 0, "<unk>": 1, "|": 2, "a": 3}, "fra": {"<pad>": 0, "<unk>": 1, "|": 2, "é": 3, "a": 4}}
    (tmp_path / "vocab.json").write_text(json.dumps(nested, ensure_ascii=False), encoding="utf-8")
    ours = Wav2Vec2CTCTokenizer(tmp_path / "vocab.json", target_lang="fra", bos_token=None, eos_token=None)
    theirs = transformers.Wav2Vec2CTCTokenizer(
        str(tmp_path / "vocab.json"), target_lang="fra", bos_token=None, eos_token=None
    )
    assert ours("é a")["input_ids"] == theirs("é a").input_ids
    ours.set_target_lang("eng")
    assert ours("a")["input_ids"] == [3]
    with pytest.raises(ConfigError, match="target_lang"):
        Wav2Vec2CTCTokenizer(tmp_path / "vocab.json")
    with pytest.raises(ConfigError, match="deu"):
        ours.set_target_lang("deu")


def test_errors_say_what_is_wrong(tmp_path, vocab_file) -> None:
    folder = tmp_path / "checkpoint"
    folder.mkdir()
    with pytest.raises(FileResolutionError, match=r"vocab\.json"):
        Wav2Vec2CTCTokenizer.from_pretrained(folder)
    (folder / "vocab.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        Wav2Vec2CTCTokenizer.from_pretrained(folder)
    ours = Wav2Vec2CTCTokenizer(vocab_file)
    with pytest.raises(ProcessingError, match="max_length"):
        ours("A", padding="max_length")


def test_unknown_arguments_warn_like_transformers(vocab_file, caplog) -> None:
    ours = Wav2Vec2CTCTokenizer(vocab_file)
    with caplog.at_level(logging.WARNING, logger="autoload"):
        assert ours("A", bogus=True)["input_ids"] == [7]
    assert "bogus" in caplog.text


def test_auto_tokenizer_finds_the_class(vocab_file, tmp_path) -> None:
    Wav2Vec2CTCTokenizer(vocab_file).save_pretrained(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "wav2vec2"}))
    tokenizer = autoload.AutoTokenizer.from_pretrained(tmp_path)
    assert isinstance(tokenizer, Wav2Vec2CTCTokenizer)
