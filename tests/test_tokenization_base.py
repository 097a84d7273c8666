"""The tokenizer base (autoload.tokenization), checked against transformers' fast tokenizer base.

A small word-level tokenizer, written here the way a plugin would write one,
exercises the subclass contract; transformers' ``PreTrainedTokenizerFast`` over
the same ``tokenizer.json`` is the oracle for every output.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import subprocess
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

import hub_server
import numpy as np
import pytest
import torch
from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import WordLevel

from autoload.errors import CheckpointError, ConfigError, FileResolutionError, ProcessingError
from autoload.tokenization import VERY_LARGE_INTEGER, BatchEncoding, TokenizersBackend

transformers = pytest.importorskip("transformers")
fake_hub = hub_server.fake_hub  # the fake Hub fixture, for from_pretrained("org/name")

WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "lazy",
    "dog",
    "a",
    "an",
    "is",
    "was",
    "it",
    "and",
    "or",
    "not",
    "to",
    "be",
    ",",
    ".",
    "!",
    "?",
    "café",
    "naïve",
    "你",
    "好",
]
SPECIALS = ["[PAD]", "[UNK]", "<s>", "</s>", "[MASK]"]


class WordTokenizer(TokenizersBackend):
    """A whole-word tokenizer with a ``vocab.json``: a plugin's tokenizer in miniature."""

    vocab_files_names = {"vocab_file": "vocab.json"}

    def __init__(
        self,
        vocab_file: str | None = None,
        unk_token: str = "[UNK]",
        pad_token: str = "[PAD]",
        bos_token: str = "<s>",
        eos_token: str = "</s>",
        lowercase: bool = True,
        **kwargs: Any,
    ) -> None:
        self.lowercase = lowercase
        super().__init__(
            vocab_file=vocab_file,
            unk_token=unk_token,
            pad_token=pad_token,
            bos_token=bos_token,
            eos_token=eos_token,
            lowercase=lowercase,
            **kwargs,
        )

    def build_backend(self, vocab_file: str | None = None) -> Tokenizer:
        if vocab_file is None:
            raise FileResolutionError("WordTokenizer needs vocab.json")
        with open(vocab_file, encoding="utf-8") as handle:
            vocab = json.load(handle)
        backend = Tokenizer(WordLevel(vocab, unk_token=self.unk_token))
        if self.lowercase:
            backend.normalizer = normalizers.Lowercase()
        backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        backend.decoder = decoders.WordPiece(prefix="##")
        return backend

    def build_post_processor(self) -> Any:
        bos, eos = self.bos_token, self.eos_token
        return processors.TemplateProcessing(
            single=f"{bos} $A {eos}",
            pair=f"{bos} $A {eos} $B:1 {eos}:1",
            special_tokens=[(bos, self.bos_token_id), (eos, self.eos_token_id)],
        )

    def vocabulary_files(self) -> dict[str, str]:
        return {"vocab.json": json.dumps(self.backend_tokenizer.get_vocab(with_added_tokens=False))}


CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "It was not to be!",
    "café naïve 你好",
    "",
    "   ",
    "unknownword and the dog",
    " ".join(["the fox"] * 30),
    "<s> is a special token",
]
PAIRS = [("the dog", "a fox"), ("", "is it"), ("the quick brown fox jumps", "over the lazy dog and the fox")]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A folder with vocab.json and tokenizer_config.json only (no tokenizer.json)."""
    folder = tmp_path_factory.mktemp("word-tokenizer")
    vocab = {token: index for index, token in enumerate(SPECIALS[:4] + WORDS)}
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(
        json.dumps({"model_max_length": 16, "mask_token": "[MASK]", "tokenizer_class": "WordTokenizer"}),
        encoding="utf-8",
    )
    return str(folder)


@pytest.fixture(scope="module")
def ours(checkpoint: str) -> WordTokenizer:
    return WordTokenizer.from_pretrained(checkpoint)


@pytest.fixture(scope="module")
def saved(ours: WordTokenizer, tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("saved")
    ours.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def theirs(saved: str) -> Any:
    return transformers.PreTrainedTokenizerFast.from_pretrained(saved)


def assert_same(a: Any, b: Any) -> None:
    assert list(a.keys()) == list(b.keys())
    for key in b:
        x, y = a[key], b[key]
        if isinstance(y, torch.Tensor):
            assert isinstance(x, torch.Tensor) and x.dtype == y.dtype and torch.equal(x, y), key
        elif isinstance(y, np.ndarray):
            assert isinstance(x, np.ndarray) and x.dtype == y.dtype and np.array_equal(x, y), key
        else:
            assert x == y, key


def assert_same_call(ours: Any, theirs: Any, *args: Any, **kwargs: Any) -> None:
    """Same output, or transformers fails and autoload says so with a ProcessingError."""
    try:
        expected = theirs(*args, **kwargs)
    except BaseException as exc:  # the Rust side can panic, which is a BaseException
        if isinstance(exc, KeyboardInterrupt):
            raise
        with pytest.raises(ProcessingError):
            ours(*args, **kwargs)
        return
    assert_same(ours(*args, **kwargs), expected)


CALLS = [
    pytest.param({}, id="plain"),
    pytest.param({"padding": True}, id="pad-longest"),
    pytest.param({"padding": "max_length", "max_length": 12}, id="pad-max-length"),
    pytest.param({"padding": "max_length"}, id="pad-model-max-length"),
    pytest.param({"truncation": True}, id="truncate-model-max-length"),
    pytest.param({"truncation": True, "max_length": 6, "padding": True}, id="truncate-and-pad"),
    pytest.param({"max_length": 5}, id="max-length-alone-truncates"),
    pytest.param(
        {"truncation": True, "max_length": 7, "stride": 2, "return_overflowing_tokens": True, "padding": True},
        id="overflow-stride",
    ),
    pytest.param({"padding": True, "pad_to_multiple_of": 8}, id="pad-multiple"),
    pytest.param({"padding": True, "padding_side": "left"}, id="pad-left"),
    pytest.param(
        {"return_offsets_mapping": True, "return_special_tokens_mask": True, "return_length": True}, id="extras"
    ),
    pytest.param({"add_special_tokens": False, "return_token_type_ids": True}, id="no-specials"),
    pytest.param({"return_attention_mask": False}, id="no-mask"),
    pytest.param({"padding": True, "return_tensors": "pt"}, id="pt"),
    pytest.param({"padding": True, "return_tensors": "np"}, id="np"),
    pytest.param(
        {
            "truncation": True,
            "max_length": 6,
            "return_overflowing_tokens": True,
            "return_tensors": "pt",
            "padding": True,
        },
        id="overflow-pt",
    ),
]


@pytest.mark.parametrize("kwargs", CALLS)
def test_batch_matches_transformers(ours: WordTokenizer, theirs: Any, kwargs: dict[str, Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(ours(CORPUS, **kwargs), theirs(CORPUS, **kwargs))
        for text in CORPUS:
            assert_same(ours(text, **kwargs), theirs(text, **kwargs))


@pytest.mark.parametrize("kwargs", CALLS)
def test_pairs_match_transformers(ours: WordTokenizer, theirs: Any, kwargs: dict[str, Any]) -> None:
    firsts, seconds = [list(side) for side in zip(*PAIRS)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same_call(ours, theirs, firsts, seconds, **kwargs)
        for first, second in PAIRS:
            assert_same_call(ours, theirs, first, second, **kwargs)
    # the backend survives a failed call
    assert_same(ours(firsts, seconds), theirs(firsts, seconds))


@pytest.mark.parametrize("strategy", ["longest_first", "only_first", "only_second"])
def test_pair_truncation_strategies(ours: WordTokenizer, theirs: Any, strategy: str) -> None:
    first, second = PAIRS[2]
    for max_length in (9, 12):
        kwargs = {"truncation": strategy, "max_length": max_length, "stride": 1, "return_overflowing_tokens": True}
        assert_same_call(ours, theirs, first, second, **kwargs)
        assert_same_call(ours, theirs, [first, second], [second, first], **kwargs)


def test_only_second_on_single_text_is_a_processing_error(ours: WordTokenizer, theirs: Any) -> None:
    with pytest.raises(Exception, match="Second sequence"):
        theirs("the dog", truncation="only_second", max_length=3)
    with pytest.raises(ProcessingError, match="Second sequence"):
        ours("the dog", truncation="only_second", max_length=3)


def test_stride_too_large_is_a_processing_error(ours: WordTokenizer) -> None:
    with pytest.raises(ProcessingError, match="stride"):
        ours("the dog", truncation=True, max_length=4, stride=10, return_overflowing_tokens=True)


def test_split_into_words_matches_transformers(ours: WordTokenizer, theirs: Any) -> None:
    words = [["The", "quick", "fox"], ["café", "dog"]]
    pairs = [["a", "dog"], ["is", "it", "not"]]
    kwargs = {"is_split_into_words": True, "padding": True, "return_offsets_mapping": True}
    assert_same(ours(words, **kwargs), theirs(words, **kwargs))
    assert_same(ours(words, pairs, **kwargs), theirs(words, pairs, **kwargs))
    assert_same(ours(words[0], **kwargs), theirs(words[0], **kwargs))
    assert ours(words, **kwargs).word_ids(1) == theirs(words, **kwargs).word_ids(1)


def test_text_target_becomes_labels(ours: WordTokenizer, theirs: Any) -> None:
    assert_same(ours("the dog", text_target="a fox"), theirs("the dog", text_target="a fox"))
    assert_same(ours(text_target=["a fox", "the"]), theirs(text_target=["a fox", "the"]))


def test_vocabulary_and_special_tokens_match_transformers(ours: WordTokenizer, theirs: Any) -> None:
    assert ours.get_vocab() == theirs.get_vocab()
    assert (ours.vocab_size, len(ours)) == (theirs.vocab_size, len(theirs))
    assert ours.all_special_tokens == theirs.all_special_tokens
    assert ours.all_special_ids == theirs.all_special_ids
    for name in ("bos", "eos", "unk", "sep", "pad", "cls", "mask"):
        assert getattr(ours, f"{name}_token") == getattr(theirs, f"{name}_token")
        assert getattr(ours, f"{name}_token_id") == getattr(theirs, f"{name}_token_id")
    assert ours.special_tokens_map == theirs.special_tokens_map
    assert ours.model_max_length == theirs.model_max_length == 16
    assert ours.num_special_tokens_to_add(pair=True) == theirs.num_special_tokens_to_add(pair=True)
    tokens = ["the", "zebra", "[MASK]"]
    assert ours.convert_tokens_to_ids(tokens) == theirs.convert_tokens_to_ids(tokens)
    assert ours.convert_tokens_to_ids("zebra") == theirs.convert_tokens_to_ids("zebra")
    ids = ours.encode("the zebra [MASK]")
    assert ours.convert_ids_to_tokens(ids) == theirs.convert_ids_to_tokens(ids)
    assert ours.convert_ids_to_tokens(ids, skip_special_tokens=True) == theirs.convert_ids_to_tokens(
        ids, skip_special_tokens=True
    )
    assert ours.convert_ids_to_tokens(ids[1]) == theirs.convert_ids_to_tokens(ids[1])
    assert ours.tokenize("The dog, café!") == theirs.tokenize("The dog, café!")
    assert ours.encode("the", "dog") == theirs.encode("the", "dog")


@pytest.mark.parametrize("skip", [False, True])
@pytest.mark.parametrize("clean_up", [None, True, False])
def test_decode_matches_transformers(ours: WordTokenizer, theirs: Any, skip: bool, clean_up: bool | None) -> None:
    batch = ours(CORPUS, padding=True)["input_ids"]
    kwargs = {"skip_special_tokens": skip, "clean_up_tokenization_spaces": clean_up}
    assert ours.batch_decode(batch, **kwargs) == theirs.batch_decode(batch, **kwargs)
    assert ours.decode(batch, **kwargs) == theirs.decode(batch, **kwargs)
    for ids in batch:
        assert ours.decode(ids, **kwargs) == theirs.decode(ids, **kwargs)
    tensor = torch.tensor(batch)
    assert ours.batch_decode(tensor, **kwargs) == theirs.batch_decode(tensor, **kwargs)
    assert ours.decode(np.array(batch[0]), **kwargs) == theirs.decode(np.array(batch[0]), **kwargs)
    assert ours.decode(batch[0][1], **kwargs) == theirs.decode(batch[0][1], **kwargs)
    assert ours.batch_decode([]) == []


def test_decode_rejects_negative_ids(ours: WordTokenizer) -> None:
    with pytest.raises(ProcessingError, match="non-negative"):
        ours.decode([3, -1])


# -- BatchEncoding -------------------------------------------------------------------


def test_batch_encoding_exposes_encodings(ours: WordTokenizer, theirs: Any) -> None:
    mine, ref = ours(CORPUS[:3], padding=True), theirs(CORPUS[:3], padding=True)
    assert isinstance(mine, BatchEncoding)
    assert len(mine.encodings) == 3
    assert mine[1].ids == ref[1].ids
    assert mine.tokens(2) == ref.tokens(2)
    assert mine.word_ids(0) == ref.word_ids(0)
    assert mine.sequence_ids(0) == ref.sequence_ids(0)
    assert mine.token_to_word(0, 2) == ref.token_to_word(0, 2)
    assert mine.token_to_chars(0, 2) == ref.token_to_chars(0, 2)
    assert mine.char_to_token(0, 5) == ref.char_to_token(0, 5)
    assert mine.word_to_tokens(0, 1) == ref.word_to_tokens(0, 1)
    assert mine.input_ids == mine["input_ids"]
    assert [encoding.ids for encoding in mine[:2]] == [encoding.ids for encoding in ref[:2]]
    by_hand = BatchEncoding({"input_ids": [[1, 2], [3, 4]]})
    assert by_hand[:1] == {"input_ids": [[1, 2]]}
    with pytest.raises(KeyError):
        by_hand[0]
    assert mine.n_sequences == ref.n_sequences == 1
    single = ours("the dog")
    assert single.token_to_word(1) == theirs("the dog").token_to_word(1)
    restored = pickle.loads(pickle.dumps(mine))
    assert dict(restored) == dict(mine) and restored.tokens(2) == mine.tokens(2)


def test_empty_rows_become_int64_tensors(ours: WordTokenizer, theirs: Any) -> None:
    for tensor_type in ("pt", "np"):
        mine = ours("", add_special_tokens=False, return_tensors=tensor_type)
        assert_same(mine, theirs("", add_special_tokens=False, return_tensors=tensor_type))
        assert tuple(mine["input_ids"].shape) == (1, 0)


def test_ragged_batch_to_tensors_says_to_pad(ours: WordTokenizer) -> None:
    with pytest.raises(ProcessingError, match="padding=True"):
        ours(["the", "the dog"], return_tensors="pt")


def test_batch_encoding_moves_to_device(ours: WordTokenizer) -> None:
    batch = ours(["the", "the dog"], padding=True, return_tensors="pt").to("cpu")
    assert batch["input_ids"].dtype == torch.int64


# -- errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "pair", "match"),
    [
        (42, None, "text must be a str.*int 42"),
        (None, None, "Nothing to tokenize"),
        (b"bytes", None, "bytes"),
        (["ok", 3.5], None, r"text\[1\] must be a str.*float"),
        (["ok"], "not a batch", "must be a batch"),
        (["a", "b"], ["c"], "holds 2 texts but text_pair holds 1"),
        ([], None, "empty batch"),
        ("ok", 7, "text_pair must be a str"),
        ({"text": "x"}, None, "dict"),
    ],
)
def test_bad_input_is_a_processing_error(ours: WordTokenizer, text: Any, pair: Any, match: str) -> None:
    with pytest.raises(ProcessingError, match=match):
        ours(text, pair)


def test_bad_options_are_processing_errors(ours: WordTokenizer) -> None:
    for kwargs, match in [
        ({"padding": "sideways"}, "padding must be"),
        ({"truncation": "middle"}, "truncation must be"),
        ({"max_length": -1}, "max_length"),
        ({"return_tensors": "tf"}, "return_tensors"),
        ({"padding_side": "up", "padding": True}, "padding_side"),
        ({"stride": -2}, "stride"),
        ({"padding": True, "truncation": True, "max_length": 10, "pad_to_multiple_of": 4}, "multiple"),
    ]:
        with pytest.raises(ProcessingError, match=match):
            ours("the dog", **kwargs)


def test_split_words_must_be_lists_of_str(ours: WordTokenizer) -> None:
    with pytest.raises(ProcessingError, match=r"is_split_into_words=True.*\[1\]"):
        ours(["the", 5], is_split_into_words=True)


def test_lone_surrogate_is_a_processing_error(ours: WordTokenizer) -> None:
    with pytest.raises(ProcessingError, match="surrogate"):
        ours(["fine", "bad \ud800 text"])


def test_padding_without_pad_token(checkpoint: str) -> None:
    tokenizer = WordTokenizer.from_pretrained(checkpoint)
    tokenizer.pad_token = None
    with pytest.raises(ProcessingError, match="no padding token"):
        tokenizer(["the", "the dog"], padding=True)


def test_corrupt_tokenizer_json_names_the_file(saved: str, tmp_path: Any) -> None:
    for name in ("tokenizer_config.json", "vocab.json"):
        (tmp_path / name).write_bytes(Path(saved, name).read_bytes())
    (tmp_path / "tokenizer.json").write_text('{"version": "1.0", "model": {', encoding="utf-8")
    with pytest.raises(CheckpointError, match=r"tokenizer\.json"):
        WordTokenizer.from_pretrained(tmp_path)


def test_corrupt_tokenizer_config_names_the_file(tmp_path: Any, checkpoint: str) -> None:
    (tmp_path / "vocab.json").write_bytes(Path(checkpoint, "vocab.json").read_bytes())
    (tmp_path / "tokenizer_config.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"tokenizer_config\.json"):
        WordTokenizer.from_pretrained(tmp_path)
    (tmp_path / "tokenizer_config.json").write_text('{"model_max_length": "long"}', encoding="utf-8")
    with pytest.raises(ConfigError, match="model_max_length"):
        WordTokenizer.from_pretrained(tmp_path)


def test_missing_files_are_named(tmp_path: Any) -> None:
    with pytest.raises(FileResolutionError, match=r"tokenizer.json and vocab.json"):
        WordTokenizer.from_pretrained(tmp_path)


# -- loading, saving, options -----------------------------------------------------------


def test_save_writes_what_transformers_reads(ours: WordTokenizer, saved: str) -> None:
    assert sorted(os.listdir(saved)) == [
        "special_tokens_map.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "vocab.json",
    ]
    config = json.loads(Path(saved, "tokenizer_config.json").read_text(encoding="utf-8"))
    assert config["tokenizer_class"] == "WordTokenizer"
    assert config["model_max_length"] == 16
    assert config["lowercase"] is True
    assert "name_or_path" not in config
    special = json.loads(Path(saved, "special_tokens_map.json").read_text(encoding="utf-8"))
    assert special == ours.special_tokens_map


def test_transformers_save_loads_back_identically(theirs: Any, ours: WordTokenizer, tmp_path: Any) -> None:
    theirs.save_pretrained(tmp_path)
    reloaded = WordTokenizer.from_pretrained(tmp_path)
    assert_same(reloaded(CORPUS, padding=True), ours(CORPUS, padding=True))
    assert reloaded.model_max_length == 16


def test_save_keeps_the_stored_truncation_and_padding(ours: WordTokenizer, saved: str, tmp_path: Any) -> None:
    backend = Tokenizer.from_file(os.path.join(saved, "tokenizer.json"))
    backend.enable_truncation(5)
    backend.enable_padding(length=9, pad_id=0, pad_token="[PAD]")
    backend.save(str(tmp_path / "tokenizer.json"))
    tokenizer = WordTokenizer.from_pretrained(tmp_path)
    # calls follow their own arguments, as in transformers ...
    assert len(tokenizer("the quick brown fox jumps over")["input_ids"]) == 8
    tokenizer(["the", "the dog"], padding=True, truncation=True, max_length=3)
    # ... and saving writes back what the file said, not the last call's settings
    tokenizer.save_pretrained(tmp_path / "again")
    again = Tokenizer.from_file(str(tmp_path / "again" / "tokenizer.json"))
    assert again.truncation["max_length"] == 5 and again.padding["length"] == 9


def test_kwargs_override_the_config(checkpoint: str) -> None:
    tokenizer = WordTokenizer.from_pretrained(checkpoint, model_max_length=4, lowercase=False, padding_side="left")
    assert tokenizer.model_max_length == 4 and tokenizer.padding_side == "left"
    assert tokenizer.tokenize("The dog") == ["[UNK]", "dog"]
    assert len(tokenizer("the quick brown fox jumps", truncation=True)["input_ids"]) == 4


def test_model_max_length_defaults_to_unlimited(checkpoint: str, tmp_path: Any) -> None:
    (tmp_path / "vocab.json").write_bytes(Path(checkpoint, "vocab.json").read_bytes())
    tokenizer = WordTokenizer.from_pretrained(tmp_path)
    assert tokenizer.model_max_length == VERY_LARGE_INTEGER
    with pytest.warns(UserWarning, match="not truncating"):
        ids = tokenizer(" ".join(["dog"] * 50), truncation=True)["input_ids"]
    assert len(ids) == 52


def test_single_file_paths_load(saved: str, ours: WordTokenizer) -> None:
    from_json = WordTokenizer.from_pretrained(os.path.join(saved, "tokenizer.json"))
    from_vocab = WordTokenizer.from_pretrained(os.path.join(saved, "vocab.json"), mask_token="[MASK]")
    assert from_json("the dog")["input_ids"] == from_vocab("the dog")["input_ids"] == ours("the dog")["input_ids"]


def test_padding_true_with_max_length_warns_like_transformers(ours: WordTokenizer) -> None:
    with pytest.warns(UserWarning, match="max_length` is ignored"):
        ours(["the", "the dog"], padding=True, max_length=3, truncation=False)


def test_too_long_sequence_is_logged_once(checkpoint: str, caplog: pytest.LogCaptureFixture) -> None:
    tokenizer = WordTokenizer.from_pretrained(checkpoint)
    with caplog.at_level(logging.WARNING, logger="autoload.tokenization"):
        tokenizer(" ".join(["dog"] * 40))
        tokenizer(" ".join(["dog"] * 40))
    assert sum("longer than the specified maximum" in record.message for record in caplog.records) == 1


def test_add_special_tokens_and_tokens(checkpoint: str) -> None:
    tokenizer = WordTokenizer.from_pretrained(checkpoint)
    reference = transformers.PreTrainedTokenizerFast(tokenizer_object=tokenizer.backend_tokenizer)
    before = len(tokenizer)
    assert tokenizer.add_tokens(["zebra"]) == reference.add_tokens(["zebra"]) == 1
    assert tokenizer.add_special_tokens({"sep_token": "[SEP]"}) == 1
    assert len(tokenizer) == before + 2
    assert tokenizer.sep_token == "[SEP]" and tokenizer.sep_token_id == before + 1
    assert tokenizer.tokenize("the zebra [SEP]") == ["the", "zebra", "[SEP]"]
    assert "[SEP]" in tokenizer.all_special_tokens
    tokenizer.sep_token_id = tokenizer.convert_tokens_to_ids("the")
    assert tokenizer.sep_token == "the"


def test_pickle_and_deepcopy(ours: WordTokenizer) -> None:
    import copy

    for clone in (pickle.loads(pickle.dumps(ours)), copy.deepcopy(ours)):
        assert_same(clone(CORPUS, padding=True), ours(CORPUS, padding=True))
        assert clone.backend_tokenizer is not ours.backend_tokenizer


def test_calls_from_many_threads_keep_their_own_settings(ours: WordTokenizer) -> None:
    text = " ".join(["the quick brown fox"] * 20)
    expected = {n: ours([text] * 4, truncation=True, max_length=n, padding="max_length") for n in (5, 7, 9, 11)}
    failures: list[str] = []

    def work(n: int) -> None:
        for _ in range(40):
            got = ours([text] * 4, truncation=True, max_length=n, padding="max_length")
            if got["input_ids"] != expected[n]["input_ids"]:
                failures.append(f"max_length={n} gave lengths {[len(r) for r in got['input_ids']]}")

    threads = [threading.Thread(target=work, args=(n,)) for n in expected]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_importing_the_module_imports_neither_torch_nor_numpy() -> None:
    code = "import sys, autoload.tokenization; print('torch' in sys.modules, 'numpy' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]


def test_extra_special_tokens_round_trip_both_ways(checkpoint: str, tmp_path: Path) -> None:
    tokenizer = WordTokenizer.from_pretrained(checkpoint, extra_special_tokens=["<x>", "<y>"])
    assert tokenizer.extra_special_tokens == ["<x>", "<y>"]
    assert tokenizer.tokenize("the <x> dog<y>") == ["the", "<x>", "dog", "<y>"]
    tokenizer.save_pretrained(tmp_path / "ours")
    theirs = transformers.PreTrainedTokenizerFast.from_pretrained(tmp_path / "ours")
    assert theirs.all_special_tokens == tokenizer.all_special_tokens
    assert theirs.all_special_ids == tokenizer.all_special_ids
    text = ["the <x> dog", "<y> fox <x>"]
    assert_same(tokenizer(text, padding=True), theirs(text, padding=True))
    assert tokenizer.decode(tokenizer("the <x> dog")["input_ids"], skip_special_tokens=True) == theirs.decode(
        theirs("the <x> dog")["input_ids"], skip_special_tokens=True
    )
    theirs.save_pretrained(tmp_path / "theirs")
    back = WordTokenizer.from_pretrained(tmp_path / "theirs")
    assert back.all_special_tokens == tokenizer.all_special_tokens
    assert_same(back(text, padding=True), tokenizer(text, padding=True))


# -- from a Hub repository (the fake Hub of hub_server) ----------------------------------


def test_loads_from_a_hub_repo_without_fetching_unneeded_files(fake_hub: Any, saved: str, checkpoint: str) -> None:
    full = {name: Path(saved, name).read_bytes() for name in os.listdir(saved)}
    fake_hub.create_repo("org/words").commit(full)
    tokenizer = WordTokenizer.from_pretrained("org/words")
    assert tokenizer("the dog")["input_ids"] == WordTokenizer.from_pretrained(saved)("the dog")["input_ids"]
    assert "vocab.json" not in fake_hub.asked()  # tokenizer.json is enough

    vocab_only = {name: Path(checkpoint, name).read_bytes() for name in ("vocab.json", "tokenizer_config.json")}
    fake_hub.create_repo("org/vocab-only").commit(vocab_only)
    from_vocab = WordTokenizer.from_pretrained("org/vocab-only")
    assert from_vocab("the dog")["input_ids"] == tokenizer("the dog")["input_ids"]

    fake_hub.create_repo("org/empty").commit({"README.md": b"nothing here"})
    with pytest.raises(FileResolutionError, match="org/empty"):
        WordTokenizer.from_pretrained("org/empty")
