"""T5Tokenizer against transformers' on a small Unigram vocabulary, both ways through saved files."""

from __future__ import annotations

import pytest
import transformers
from autoload import AutoTokenizer, ConfigError
from t5_helpers import VOCAB

from autoload_plugin_t5.tokenization import T5Tokenizer

TEXTS = ["the cat sat on the mat.", "hello  world <extra_id_1> dogs", "zzz qq", "", "  the,a  "]


@pytest.fixture(scope="module")
def theirs():
    return transformers.T5Tokenizer(vocab=VOCAB, extra_ids=4)


def assert_same_tokenization(ours, theirs):
    for text in TEXTS:
        expected = theirs(text)["input_ids"]
        assert ours(text)["input_ids"] == expected, text
        assert ours.decode(expected) == theirs.decode(expected)
        assert ours.decode(expected, skip_special_tokens=True) == theirs.decode(expected, skip_special_tokens=True)
    batch = dict(padding=True, return_attention_mask=True)
    assert ours(TEXTS[:2], TEXTS[2:4], **batch)["input_ids"] == theirs(TEXTS[:2], TEXTS[2:4], **batch)["input_ids"]
    assert len(ours) == len(theirs)


def test_transformers_checkpoint_loads_through_autotokenizer(tmp_path, theirs):
    theirs.save_pretrained(tmp_path)
    ours = AutoTokenizer.from_pretrained(tmp_path)
    assert isinstance(ours, T5Tokenizer)
    assert_same_tokenization(ours, theirs)
    assert ours.get_sentinel_tokens() == [f"<extra_id_{index}>" for index in range(4)]


def test_built_from_vocab_equals_transformers(theirs):
    assert_same_tokenization(T5Tokenizer(vocab=VOCAB, extra_ids=4), theirs)


def test_saved_tokenizer_loads_in_transformers(tmp_path, theirs):
    T5Tokenizer(vocab=VOCAB, extra_ids=4).save_pretrained(tmp_path)
    back = transformers.AutoTokenizer.from_pretrained(tmp_path)
    for text in TEXTS:
        assert back(text)["input_ids"] == theirs(text)["input_ids"], text


def test_every_sequence_ends_with_eos():
    tokenizer = T5Tokenizer(vocab=VOCAB, extra_ids=2)
    ids = tokenizer("the cat", "a dog")["input_ids"]
    assert ids.count(tokenizer.eos_token_id) == 2 and ids[-1] == tokenizer.eos_token_id


def test_mismatched_sentinels_are_refused():
    with pytest.raises(ConfigError, match="extra_ids"):
        T5Tokenizer(vocab=VOCAB, extra_ids=3, additional_special_tokens=["<extra_id_0>"])
