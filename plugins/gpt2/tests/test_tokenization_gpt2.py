"""GPT2Tokenizer against transformers' GPT2Tokenizer: same ids, tokens, offsets and text, from every file layout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

from autoload import AutoTokenizer  # noqa: E402

from autoload_plugin_gpt2.tokenization import ENDOFTEXT, GPT2Tokenizer  # noqa: E402

TRAINING_TEXT = [
    "The quick brown fox jumps over the lazy dog.",
    "Hello, world! It's a lovely day; isn't it? I'm sure you'll agree, we've seen worse.",
    "Numbers: 3.14159, 2025, 1,000,000 and 42nd.",
    "def tokenize(text):\n    return text.split()  # code\n\n",
    "Café naïve coöperate résumé — em dash, “quotes”, \u2018single\u2019.",
    "日本語のテキストと中文文本。한국어 텍스트.",
    "Emoji 😀🎉👍🏽 and flags 🇯🇵 plus ZWJ 👨‍👩‍👧.",
    "Tabs\tand   multiple   spaces, trailing   ",
]

CORPUS = [
    "Hello world",
    " Hello world",
    "hello  world   with   spaces",
    "The quick brown fox jumps over the lazy dog.",
    "It's, I'm, you'll, we've, they're, don't, I'd",
    "Numbers 12345 67.89 -0.5e10",
    "line one\nline two\r\nline three\n\n\ttabbed",
    "Trailing space ",
    "   leading spaces",
    "Café naïve coöperate résumé",
    "Ünïcödé ß ẞ ǅ ﬁ",
    "日本語のテキスト 中文文本 한국어",
    "Emoji 😀🎉👍🏽🇯🇵👨‍👩‍👧 done",
    "zero\u200bwidth\u00a0nbsp",
    "Special " + ENDOFTEXT + " inside text" + ENDOFTEXT,
    "",
    " ",
    "Unseen words: xylophone quizzically zebra",
    "def f(x):\n    return x ** 2  # square\n",
]


@pytest.fixture(scope="module")
def vocabulary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """vocab.json + merges.txt of a byte-level BPE trained on a varied corpus (about 600 tokens)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600, special_tokens=[ENDOFTEXT], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    backend.train_from_iterator(TRAINING_TEXT * 5, trainer)
    folder = tmp_path_factory.mktemp("gpt2-vocab")
    backend.model.save(str(folder))
    return folder


def theirs_from(folder: Path, **kwargs: Any) -> Any:
    return transformers.GPT2Tokenizer.from_pretrained(folder, **kwargs)


def ours_from(folder: Path, **kwargs: Any) -> GPT2Tokenizer:
    tokenizer = AutoTokenizer.from_pretrained(folder, **kwargs)
    assert type(tokenizer) is GPT2Tokenizer
    return tokenizer


def slow_folder(vocabulary: Path, tmp_path: Path, config: dict[str, Any] | None = None) -> Path:
    """The original GPT-2 layout: vocab.json and merges.txt, no tokenizer.json."""
    folder = tmp_path / "slow"
    folder.mkdir()
    for name in ("vocab.json", "merges.txt"):
        (folder / name).write_bytes((vocabulary / name).read_bytes())
    (folder / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "GPT2Tokenizer", **(config or {})}))
    (folder / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    return folder


def assert_same_encodings(ours: Any, theirs: Any, texts: list[str], **call: Any) -> None:
    for text in texts:
        expected, actual = theirs(text, **call), ours(text, **call)
        assert dict(actual) == dict(expected), text
        assert ours.convert_ids_to_tokens(actual["input_ids"]) == theirs.convert_ids_to_tokens(expected["input_ids"])
        for skip in (False, True):
            assert ours.decode(actual["input_ids"], skip_special_tokens=skip) == theirs.decode(
                expected["input_ids"], skip_special_tokens=skip
            ), text


def test_vocabulary_files_alone_give_transformers_ids(vocabulary: Path, tmp_path: Path) -> None:
    folder = slow_folder(vocabulary, tmp_path)
    ours, theirs = ours_from(folder), theirs_from(folder)
    assert_same_encodings(ours, theirs, CORPUS, return_offsets_mapping=True)
    assert (ours.bos_token, ours.eos_token, ours.unk_token, ours.pad_token) == (ENDOFTEXT, ENDOFTEXT, ENDOFTEXT, None)
    assert ours.eos_token_id == theirs.eos_token_id
    assert len(ours) == len(theirs)
    assert ours.get_vocab() == theirs.get_vocab()


def test_tokenizer_json_saved_by_transformers(vocabulary: Path, tmp_path: Path) -> None:
    theirs = theirs_from(slow_folder(vocabulary, tmp_path))
    saved = tmp_path / "saved"
    theirs.save_pretrained(saved)
    (saved / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    assert (saved / "tokenizer.json").exists()
    ours = ours_from(saved)
    assert_same_encodings(ours, theirs_from(saved), CORPUS, return_offsets_mapping=True)


def test_saved_here_loads_in_transformers(vocabulary: Path, tmp_path: Path) -> None:
    ours = ours_from(slow_folder(vocabulary, tmp_path), pad_token=ENDOFTEXT)
    saved = tmp_path / "ours"
    ours.save_pretrained(saved)
    config = json.loads((saved / "tokenizer_config.json").read_text())
    assert config["tokenizer_class"] == "GPT2Tokenizer"
    assert {"tokenizer.json", "vocab.json", "merges.txt"} <= {path.name for path in saved.iterdir()}
    theirs = theirs_from(saved)
    assert_same_encodings(ours_from(saved), theirs, CORPUS)
    # The vocabulary files written next to tokenizer.json are a complete tokenizer on their own.
    (saved / "tokenizer.json").unlink()
    assert_same_encodings(ours_from(saved), theirs, CORPUS)


@pytest.mark.parametrize("layout", ["vocab-files", "tokenizer-json"])
@pytest.mark.parametrize(
    "options",
    [{"add_prefix_space": True}, {"add_bos_token": True}, {"add_bos_token": True, "add_prefix_space": True}],
    ids=["prefix-space", "bos", "bos-and-prefix-space"],
)
def test_options_match(vocabulary: Path, tmp_path: Path, layout: str, options: dict[str, Any]) -> None:
    folder = slow_folder(vocabulary, tmp_path)
    if layout == "tokenizer-json":
        theirs_from(folder).save_pretrained(folder)
    ours, theirs = ours_from(folder, **options), theirs_from(folder, **options)
    assert_same_encodings(ours, theirs, CORPUS, return_offsets_mapping=True)
    pair_expected = theirs("Hello world", "the quick fox")
    assert dict(ours("Hello world", "the quick fox")) == dict(pair_expected)


def test_hub_style_tokenizer_json_keeps_its_byte_level_post_processor(vocabulary: Path, tmp_path: Path) -> None:
    """The Hub's gpt2 tokenizer.json trims offsets with a ByteLevel post-processor: kept, as transformers does."""
    folder = slow_folder(vocabulary, tmp_path)
    theirs_from(folder).save_pretrained(folder)
    data = json.loads((folder / "tokenizer.json").read_text())
    data["post_processor"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}
    (folder / "tokenizer.json").write_text(json.dumps(data))
    (folder / "tokenizer_config.json").write_text(json.dumps({"model_max_length": 1024}))
    ours = ours_from(folder)
    theirs = transformers.AutoTokenizer.from_pretrained(folder)
    assert ours.model_max_length == 1024
    assert_same_encodings(ours, theirs, CORPUS, return_offsets_mapping=True)


def test_transformers_4_fast_class_name_is_understood(vocabulary: Path, tmp_path: Path) -> None:
    folder = slow_folder(vocabulary, tmp_path, {"tokenizer_class": "GPT2TokenizerFast", "add_prefix_space": True})
    (folder / "config.json").unlink()
    ours = ours_from(folder)
    assert ours.add_prefix_space is True
    assert_same_encodings(ours, theirs_from(folder, add_prefix_space=True), CORPUS[:5])


def test_batches_padding_and_truncation_match(vocabulary: Path, tmp_path: Path) -> None:
    folder = slow_folder(vocabulary, tmp_path)
    for side in ("right", "left"):
        ours = ours_from(folder, pad_token=ENDOFTEXT, padding_side=side)
        theirs = theirs_from(folder, pad_token=ENDOFTEXT, padding_side=side)
        texts = [text for text in CORPUS if text]
        assert dict(ours(texts, padding=True)) == dict(theirs(texts, padding=True))
        assert dict(ours(texts, padding="max_length", truncation=True, max_length=6)) == dict(
            theirs(texts, padding="max_length", truncation=True, max_length=6)
        )
        assert ours.batch_decode(ours(texts)["input_ids"]) == theirs.batch_decode(theirs(texts)["input_ids"])


def test_split_into_words_matches(vocabulary: Path, tmp_path: Path) -> None:
    folder = slow_folder(vocabulary, tmp_path)
    words = ["Hello", "world", "😀", "naïve"]
    for options in ({}, {"add_prefix_space": True}):
        ours, theirs = ours_from(folder, **options), theirs_from(folder, **options)
        expected = theirs(words, is_split_into_words=True)
        actual = ours(words, is_split_into_words=True)
        assert dict(actual) == dict(expected)
        assert actual.word_ids() == expected.word_ids()


def test_built_from_vocab_and_merges_in_memory(vocabulary: Path, tmp_path: Path) -> None:
    vocab = json.loads((vocabulary / "vocab.json").read_text())
    lines = (vocabulary / "merges.txt").read_text().splitlines()[1:]
    from_lines = GPT2Tokenizer(vocab=vocab, merges=lines)
    from_pairs = GPT2Tokenizer(vocab=vocab, merges=[tuple(line.split(" ")) for line in lines])
    theirs = theirs_from(slow_folder(vocabulary, tmp_path))
    assert_same_encodings(from_lines, theirs, CORPUS)
    assert_same_encodings(from_pairs, theirs, CORPUS)
