"""tokenizer.pad(), what data collators call, against transformers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from autoload import AutoTokenizer, ProcessingError

transformers = pytest.importorskip("transformers")

WORDS = ["the", "cat", "sat", "on", "mat", "a", "dog", "ran", "far", "away", "quick", "##ly", "."]
TEXTS = ["the cat sat on the mat.", "a dog ran", "quickly far away, the dog ran on and on.", "cat"]


@pytest.fixture(scope="module")
def tokenizers(tmp_path_factory):
    folder = tmp_path_factory.mktemp("vocab")
    (folder / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
    theirs = transformers.BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), model_max_length=24)
    theirs.save_pretrained(folder / "saved")
    return AutoTokenizer.from_pretrained(folder / "saved"), theirs


def as_lists(batch):
    return {key: (value.tolist() if hasattr(value, "tolist") else value) for key, value in batch.items()}


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"padding": "longest"},
        {"padding": "max_length", "max_length": 20},
        {"padding": "max_length"},  # model_max_length
        {"padding": True, "pad_to_multiple_of": 8},
        {"padding": True, "padding_side": "left"},
        {"padding": False},
    ],
)
@pytest.mark.parametrize("layout", ["list-of-examples", "batch-dict"])
def test_pad_matches_transformers(tokenizers, options, layout):
    ours, theirs = tokenizers
    examples = [theirs(text, return_special_tokens_mask=True) for text in TEXTS]
    examples = [{key: list(value) for key, value in example.items()} for example in examples]
    for example in examples:
        example["labels"] = len(example["input_ids"]) % 3
    if layout == "batch-dict":
        inputs = {key: [example[key] for example in examples] for key in examples[0]}
    else:
        inputs = examples
    assert as_lists(ours.pad(inputs, **options)) == as_lists(theirs.pad(inputs, **options))


def test_pad_without_attention_mask_drops_it(tokenizers):
    """transformers keeps the old, unpadded (ragged) masks here; a mask that was asked away is dropped instead."""
    ours, theirs = tokenizers
    examples = [theirs(text) for text in TEXTS]
    padded = as_lists(ours.pad(examples, return_attention_mask=False))
    expected = as_lists(theirs.pad(examples, return_attention_mask=False))
    assert "attention_mask" not in padded
    expected.pop("attention_mask")
    assert padded == expected


@pytest.mark.parametrize("kind", ["pt", "np"])
def test_pad_keeps_the_tensor_kind_and_pads_one_example(tokenizers, kind):
    ours, theirs = tokenizers
    convert = torch.tensor if kind == "pt" else np.array
    examples = [{key: convert(value) for key, value in theirs(text).items()} for text in TEXTS[:2]]
    padded, expected = ours.pad(examples), theirs.pad(examples)
    assert type(padded["input_ids"]) is type(expected["input_ids"])
    assert as_lists(padded) == as_lists(expected)
    single = theirs(TEXTS[1])
    options = {"padding": "max_length", "max_length": 10}
    assert as_lists(ours.pad(single, **options)) == as_lists(theirs.pad(single, **options))


def test_pad_then_model_batch_with_return_tensors(tokenizers):
    ours, _ = tokenizers
    batch = ours.pad([ours(text) for text in TEXTS], return_tensors="pt")
    assert batch["input_ids"].shape == batch["attention_mask"].shape == (len(TEXTS), batch["input_ids"].shape[1])


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        ([], "empty list"),
        ([{"input_ids": [1]}, {"ids": [2]}], "example 1 has fields"),
        ({"attention_mask": [[1]]}, "needs input_ids"),
        ("text", "takes an encoding"),
    ],
)
def test_pad_rejects_what_it_cannot_pad(tokenizers, bad, fragment):
    ours, _ = tokenizers
    with pytest.raises(ProcessingError, match=fragment):
        ours.pad(bad)
