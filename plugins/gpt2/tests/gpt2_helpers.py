"""Shared helpers of the GPT-2 plugin's tests: tiny random checkpoints made by transformers (the oracle)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import transformers

VOCAB_SIZE = 99
PAD = 0
#: Small enough to be fast, large enough to exercise every path (several heads and layers, n_inner not 4 * n_embd).
TINY: dict[str, Any] = {
    "vocab_size": VOCAB_SIZE,
    "n_embd": 32,
    "n_layer": 2,
    "n_head": 4,
    "n_inner": 37,
    "n_positions": 64,
    "bos_token_id": VOCAB_SIZE - 1,
    "eos_token_id": VOCAB_SIZE - 1,
}

#: transformers class name -> this plugin's class name.
HEADS = {
    "GPT2Model": "GPT2Model",
    "GPT2LMHeadModel": "GPT2LMHeadModel",
    "GPT2ForSequenceClassification": "GPT2ForSequenceClassification",
    "GPT2ForTokenClassification": "GPT2ForTokenClassification",
    "GPT2ForQuestionAnswering": "GPT2ForQuestionAnswering",
}


def hf_config(**overrides: Any) -> Any:
    return transformers.GPT2Config(**{**TINY, **overrides})


def perturb(model: Any, seed: int = 1234) -> None:
    """Move every weight off its init value (LayerNorms off 1/0); tied weights move together."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.1 * torch.randn(parameter.shape, generator=generator))


def save_hf(name: str, path: Path, seed: int = 0, **overrides: Any) -> Path:
    torch.manual_seed(seed)
    model = getattr(transformers, name)(hf_config(**overrides))
    perturb(model)
    model.save_pretrained(path)
    return path


def load_hf(name: str, path: Path, attn: str = "sdpa", **kwargs: Any) -> Any:
    return getattr(transformers, name).from_pretrained(path, attn_implementation=attn, **kwargs).eval()


def load_ours(name: str, path: Path, attn: str = "sdpa", **kwargs: Any) -> Any:
    from autoload_plugin_gpt2 import modeling

    return getattr(modeling, name).from_pretrained(path, attn_implementation=attn, **kwargs).eval()


def padded_batch(batch: int = 3, length: int = 8, seed: int = 7) -> dict[str, torch.Tensor]:
    """Row 0 full, row 1 right-padded, row 2 left-padded; padding holds PAD ids."""
    generator = torch.Generator().manual_seed(seed)
    input_ids = torch.randint(1, VOCAB_SIZE - 1, (batch, length), generator=generator)
    attention_mask = torch.ones(batch, length, dtype=torch.long)
    attention_mask[1, length - 3 :] = 0
    if batch > 2:
        attention_mask[2, :2] = 0
    return {"input_ids": input_ids.masked_fill(attention_mask == 0, PAD), "attention_mask": attention_mask}


def positions_from_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """Positions that skip padding, as generate() computes them for left-padded prompts."""
    return (attention_mask.long().cumsum(-1) - 1).clamp(min=0)
