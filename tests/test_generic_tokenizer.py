"""The host's generic tokenizer.json tokenizer, and how AutoTokenizer reaches it, against transformers 5.

Tiny tokenizers are trained here with the ``tokenizers`` library in the shapes
real checkpoints have (Qwen2/GPT-2 byte-level BPE, Llama-2 BPE with byte
fallback and a metaspace, Llama-3 byte-level BPE whose post-processor adds
``<|begin_of_text|>``), saved by transformers, and loaded by both libraries:
every id, mask and decoded text must agree.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from tokenizer_shapes import CORPUS, byte_level, vocab_and_merges
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

import autoload
from autoload import Architecture
from autoload.errors import ClassResolutionError
from autoload.tokenization import PreTrainedTokenizerFast, PythonBackend, TokenizersBackend, byte_level_bpe

transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One folder per checkpoint shape, each written by transformers."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        made: dict[str, Path] = {}

        vocab, merges = vocab_and_merges(byte_level(["<|endoftext|>", "<|im_start|>", "<|im_end|>"]))
        made["qwen2"] = tmp_path_factory.mktemp("qwen2")
        transformers.Qwen2Tokenizer(vocab=vocab, merges=merges).save_pretrained(made["qwen2"])

        metaspace = Tokenizer(models.BPE(byte_fallback=True, unk_token="<unk>"))
        metaspace.pre_tokenizer = pre_tokenizers.Metaspace()
        metaspace.decoder = decoders.Metaspace()
        bytes_alphabet = [f"<0x{index:02X}>" for index in range(256)]
        metaspace.train_from_iterator(
            CORPUS * 20, trainers.BpeTrainer(vocab_size=400, special_tokens=["<unk>", "<s>", "</s>", *bytes_alphabet])
        )
        vocab, merges = vocab_and_merges(metaspace)
        made["llama"] = tmp_path_factory.mktemp("llama")
        transformers.LlamaTokenizer(vocab=vocab, merges=merges).save_pretrained(made["llama"])

        llama3 = byte_level(["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"])
        bos = llama3.token_to_id("<|begin_of_text|>")
        llama3.post_processor = processors.TemplateProcessing(
            single="<|begin_of_text|> $A",
            pair="<|begin_of_text|> $A <|begin_of_text|> $B:1",
            special_tokens=[("<|begin_of_text|>", bos)],
        )
        made["llama3"] = tmp_path_factory.mktemp("llama3")
        transformers.PreTrainedTokenizerFast(
            tokenizer_object=llama3, bos_token="<|begin_of_text|>", eos_token="<|end_of_text|>"
        ).save_pretrained(made["llama3"])
    return made


def _theirs(folder: Path, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return transformers.AutoTokenizer.from_pretrained(folder, **kwargs)


def assert_same_encoding(ours: Any, theirs: Any, *args: Any, **kwargs: Any) -> None:
    expected, actual = theirs(*args, **kwargs), ours(*args, **kwargs)
    assert sorted(actual.keys()) == sorted(expected.keys()), (args, kwargs)
    for key in expected:
        assert actual[key] == expected[key], (key, args, kwargs)


SHAPES = ["qwen2", "llama", "llama3"]


@pytest.mark.parametrize("shape", SHAPES)
def test_generic_tokenizer_encodes_like_transformers(folders: dict[str, Path], shape: str) -> None:
    ours, theirs = TokenizersBackend.from_pretrained(folders[shape]), _theirs(folders[shape])
    for text in CORPUS:
        assert_same_encoding(ours, theirs, text)
        assert ours.tokenize(text) == theirs.tokenize(text), text
    assert_same_encoding(ours, theirs, CORPUS[:3], CORPUS[1:4])
    assert ours.all_special_tokens == theirs.all_special_tokens
    assert ours.all_special_ids == theirs.all_special_ids
    assert ours.get_vocab() == theirs.get_vocab() and len(ours) == len(theirs)
    for name in ("bos_token", "eos_token", "unk_token", "pad_token"):
        assert getattr(ours, name) == getattr(theirs, name), name
        assert getattr(ours, f"{name}_id") == getattr(theirs, f"{name}_id"), name


@pytest.mark.parametrize("shape", SHAPES)
def test_padding_and_truncation_match(folders: dict[str, Path], shape: str) -> None:
    ours, theirs = TokenizersBackend.from_pretrained(folders[shape]), _theirs(folders[shape])
    if theirs.pad_token is None:
        ours.pad_token = theirs.pad_token = theirs.eos_token
    ours.padding_side = (
        theirs.padding_side
    )  # transformers' LlamaTokenizer class pads on the left; the file says nothing
    for side in ("right", "left"):
        kwargs = {"padding": True, "padding_side": side, "truncation": True, "max_length": 9}
        assert_same_encoding(ours, theirs, CORPUS, **kwargs)
    assert_same_encoding(ours, theirs, CORPUS, padding="max_length", max_length=24, return_length=True)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("skip", [False, True])
@pytest.mark.parametrize("clean_up", [None, True, False])
def test_decode_matches(folders: dict[str, Path], shape: str, skip: bool, clean_up: bool | None) -> None:
    ours, theirs = TokenizersBackend.from_pretrained(folders[shape]), _theirs(folders[shape])
    batch = [theirs(text)["input_ids"] for text in CORPUS]
    options = {"skip_special_tokens": skip, "clean_up_tokenization_spaces": clean_up}
    for ids in batch:
        assert ours.decode(ids, **options) == theirs.decode(ids, **options), ids
    assert ours.batch_decode(batch, **options) == theirs.batch_decode(batch, **options)


@pytest.mark.parametrize("shape", ["llama", "qwen2"])
@pytest.mark.parametrize(
    "flags", [{"add_bos_token": True}, {"add_eos_token": True}, {"add_bos_token": True, "add_eos_token": True}]
)
def test_add_bos_and_eos_tokens_as_transformers_5(
    folders: dict[str, Path], shape: str, flags: dict[str, bool], tmp_path: Path
) -> None:
    ours, theirs = TokenizersBackend.from_pretrained(folders[shape], **flags), _theirs(folders[shape], **flags)
    for text in CORPUS[:3]:
        assert_same_encoding(ours, theirs, text)
    assert_same_encoding(ours, theirs, CORPUS[0], CORPUS[1])
    assert ours.num_special_tokens_to_add(pair=True) == theirs.num_special_tokens_to_add(pair=True)
    # the flags travel with a save, both ways
    ours.save_pretrained(tmp_path / "ours")
    config = json.loads((tmp_path / "ours" / "tokenizer_config.json").read_text())
    assert all(config[key] is value for key, value in flags.items())
    assert config["tokenizer_class"] == "TokenizersBackend"
    back = _theirs(tmp_path / "ours")
    again = autoload.AutoTokenizer.from_pretrained(tmp_path / "ours")
    assert type(again) is TokenizersBackend
    for text in CORPUS[:3]:
        assert back(text)["input_ids"] == again(text)["input_ids"] == ours(text)["input_ids"]
    # switching a flag on the instance rebuilds the template, as the property setter does in transformers
    ours.add_eos_token = not ours.add_eos_token
    theirs.add_eos_token = not theirs.add_eos_token
    assert_same_encoding(ours, theirs, CORPUS[0])


@pytest.mark.parametrize("shape", SHAPES)
def test_auto_tokenizer_loads_transformers_folders(folders: dict[str, Path], shape: str, tmp_path: Path) -> None:
    ours, theirs = autoload.AutoTokenizer.from_pretrained(folders[shape]), _theirs(folders[shape])
    for text in CORPUS:
        assert ours(text)["input_ids"] == theirs(text)["input_ids"], text
    ours.save_pretrained(tmp_path)
    back = _theirs(tmp_path)
    for text in CORPUS:
        assert back(text)["input_ids"] == theirs(text)["input_ids"], text


def _with_config(folder: Path, target: Path, tokenizer_class: str | None, model_type: str | None) -> Path:
    target.mkdir()
    for path in folder.iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    config = json.loads((target / "tokenizer_config.json").read_text())
    if tokenizer_class is None:
        config.pop("tokenizer_class", None)
    else:
        config["tokenizer_class"] = tokenizer_class
    (target / "tokenizer_config.json").write_text(json.dumps(config))
    if model_type is not None:
        (target / "config.json").write_text(json.dumps({"model_type": model_type}))
    return target


@pytest.mark.parametrize("name", ["TokenizersBackend", "PreTrainedTokenizerFast"])
def test_generic_names_never_resolve_to_a_plugin(folders: dict[str, Path], tmp_path: Path, name: str) -> None:
    """A BERT checkpoint recording a generic name gets the generic tokenizer, as in transformers 5."""
    folder = _with_config(folders["llama3"], tmp_path / "bert", name, "bert")
    assert autoload.AutoTokenizer.resolve_class(folder) is TokenizersBackend
    assert type(_theirs(folder)).__name__ == "TokenizersBackend"


def test_unknown_class_falls_back_only_without_a_declared_tokenizer(folders: dict[str, Path], tmp_path: Path) -> None:
    # no config.json, a name nobody answers to, a tokenizer.json: the generic tokenizer reads it
    loose = _with_config(folders["llama3"], tmp_path / "loose", "SomeoneElsesTokenizer", None)
    assert autoload.AutoTokenizer.resolve_class(loose) is TokenizersBackend
    # no tokenizer_class at all: the same
    unnamed = _with_config(folders["llama3"], tmp_path / "unnamed", None, None)
    assert autoload.AutoTokenizer.resolve_class(unnamed) is TokenizersBackend
    # the checkpoint's own architecture declares a tokenizer: a foreign name is a mismatch worth reporting
    bert = _with_config(folders["llama3"], tmp_path / "bert", "SomeoneElsesTokenizer", "bert")
    with pytest.raises(ClassResolutionError, match="SomeoneElsesTokenizer"):
        autoload.AutoTokenizer.resolve_class(bert)


def test_plugins_cannot_claim_the_generic_names() -> None:
    for names in (("TokenizersBackend",), ("PreTrainedTokenizerFast", "FooTokenizerFast")):
        declaration = Architecture(
            model_type="foo", config="pkg.mod:FooConfig", tokenizer="pkg.mod:FooTokenizer", tokenizer_names=names
        )
        assert any("generic tokenizer" in problem for problem in declaration.problems())
    own_class = Architecture(model_type="foo", config="pkg.mod:FooConfig", tokenizer="pkg.mod:TokenizersBackend")
    assert any("generic tokenizer" in problem for problem in own_class.problems())
    host_class = Architecture(
        model_type="foo", config="pkg.mod:FooConfig", tokenizer="autoload.tokenization:PreTrainedTokenizerFast"
    )
    assert host_class.problems() == []


def test_transformers_5_names() -> None:
    assert PreTrainedTokenizerFast is TokenizersBackend
    assert transformers.PreTrainedTokenizerFast is transformers.TokenizersBackend
    assert autoload.tokenization.PreTrainedTokenizer is PythonBackend
    assert not issubclass(PythonBackend, TokenizersBackend)
    with pytest.raises(TypeError, match="TokenizersBackend"):

        class Misplaced(autoload.tokenization.PreTrainedTokenizer):
            def build_backend(self, **files: Any) -> Any:
                return None


def test_byte_level_bpe_fromvocab_and_merges(folders: dict[str, Path], tmp_path: Path) -> None:
    """vocab.json + merges.txt alone build the same byte-level BPE transformers' GPT-2 tokenizer builds."""
    vocab, merges = vocab_and_merges(byte_level(["<|endoftext|>"]))
    (tmp_path / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (tmp_path / "merges.txt").write_text("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges), encoding="utf-8")
    backend = byte_level_bpe(tmp_path / "vocab.json", tmp_path / "merges.txt")
    ours = TokenizersBackend(tokenizer_object=backend, eos_token="<|endoftext|>")
    theirs = transformers.GPT2Tokenizer.from_pretrained(tmp_path)
    for text in CORPUS:
        assert ours(text)["input_ids"] == theirs(text)["input_ids"], text
        ids = theirs(text)["input_ids"]
        assert ours.decode(ids) == theirs.decode(ids)
