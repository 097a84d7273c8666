"""Tokenizers of Llama-family checkpoints, made by transformers, read through autoload's AutoTokenizer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import transformers
from autoload import AutoTokenizer
from llama_test_support import TINY
from llama_tokenizer_fixtures import CONVERSATION, SAMPLES, save_llama_style_tokenizer, save_qwen_style_tokenizer

# Tokenizer style of each model type's checkpoints.
STYLE = {"llama": "llama", "mistral": "llama", "qwen2": "qwen", "qwen3": "qwen"}
SAVERS = {"llama": save_llama_style_tokenizer, "qwen": save_qwen_style_tokenizer}


@pytest.fixture(params=sorted(STYLE))
def checkpoint(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    model_type = request.param
    SAVERS[STYLE[model_type]](tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": model_type, **TINY}))
    return tmp_path


def _both(path: Path) -> tuple[Any, Any]:
    return AutoTokenizer.from_pretrained(path), transformers.AutoTokenizer.from_pretrained(path)


def test_ids_and_decoding_equal_transformers(checkpoint: Path) -> None:
    ours, theirs = _both(checkpoint)
    for text in [*SAMPLES, "<|im_start|>user\nhi<|im_end|>", "<s> literal </s> markers"]:
        assert ours(text)["input_ids"] == theirs(text)["input_ids"], text
        ids = theirs(text)["input_ids"]
        for skip in (True, False):
            assert ours.decode(ids, skip_special_tokens=skip) == theirs.decode(ids, skip_special_tokens=skip)
        assert ours.convert_ids_to_tokens(ids) == theirs.convert_ids_to_tokens(ids)


def test_special_tokens_equal_transformers(checkpoint: Path) -> None:
    ours, theirs = _both(checkpoint)
    for name in ("bos_token", "eos_token", "unk_token", "pad_token"):
        assert getattr(ours, name) == getattr(theirs, name), name
        assert getattr(ours, f"{name}_id") == getattr(theirs, f"{name}_id"), name
    assert ours("x", add_special_tokens=False)["input_ids"] == theirs("x", add_special_tokens=False)["input_ids"]


def test_padded_batches_equal_transformers_on_the_same_side(checkpoint: Path) -> None:
    ours, theirs = _both(checkpoint)
    if theirs.pad_token is None:
        theirs.pad_token = theirs.eos_token
        ours.pad_token = ours.eos_token
    assert ours.padding_side == theirs.padding_side
    mine = ours(SAMPLES, padding=True)
    reference = theirs(SAMPLES, padding=True)
    assert mine["input_ids"] == reference["input_ids"]
    assert mine["attention_mask"] == reference["attention_mask"]


@pytest.mark.parametrize("add_generation_prompt", [False, True])
def test_chat_template_equals_transformers(checkpoint: Path, add_generation_prompt: bool) -> None:
    ours, theirs = _both(checkpoint)
    kwargs = {"add_generation_prompt": add_generation_prompt}
    text = ours.apply_chat_template(CONVERSATION, tokenize=False, **kwargs)
    assert text == theirs.apply_chat_template(CONVERSATION, tokenize=False, **kwargs)
    ids = ours.apply_chat_template(CONVERSATION, tokenize=True, **kwargs)
    expected = theirs.apply_chat_template(CONVERSATION, tokenize=True, **kwargs)
    expected = expected["input_ids"] if isinstance(expected, dict) or hasattr(expected, "keys") else expected
    ids = ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids
    assert list(ids) == list(expected)


def test_saved_here_loads_in_transformers(checkpoint: Path, tmp_path: Path) -> None:
    ours = AutoTokenizer.from_pretrained(checkpoint)
    ours.save_pretrained(tmp_path / "saved")
    theirs = transformers.AutoTokenizer.from_pretrained(tmp_path / "saved")
    reference = transformers.AutoTokenizer.from_pretrained(checkpoint)
    for text in SAMPLES:
        assert theirs(text)["input_ids"] == reference(text)["input_ids"], text
    assert theirs.padding_side == reference.padding_side
    assert theirs.apply_chat_template(CONVERSATION, tokenize=False) == reference.apply_chat_template(
        CONVERSATION, tokenize=False
    )
