"""generate() on the four model types: the same ids as transformers, greedy, beam and seeded sampling."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from llama_test_support import VARIANTS, load_autoload, padded_batch, transformers_model

STRATEGIES: dict[str, dict[str, Any]] = {
    "greedy": {"do_sample": False},
    "beam": {"do_sample": False, "num_beams": 3, "num_return_sequences": 2},
    "sampling": {"do_sample": True, "top_k": 20, "top_p": 0.9, "temperature": 0.8},
}


def _generate(model: Any, batch: dict[str, torch.Tensor], strategy: str, **extra: Any) -> torch.Tensor:
    torch.manual_seed(1234)
    with torch.no_grad():
        return model.generate(**batch, max_new_tokens=8, pad_token_id=0, **STRATEGIES[strategy], **extra)


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
@pytest.mark.parametrize("variant", ["llama", "mistral", "qwen2-sliding", "qwen3"])
def test_generated_ids_equal_transformers(tmp_path: Path, variant: str, strategy: str) -> None:
    model_type, overrides = VARIANTS[variant]
    theirs = transformers_model(model_type, "causal-lm", attn="sdpa", **overrides)
    theirs.save_pretrained(tmp_path)
    ours = load_autoload(tmp_path, "causal-lm")
    batch = padded_batch(length=9)
    expected = _generate(theirs, batch, strategy)
    assert _generate(ours, batch, strategy).tolist() == expected.tolist()


def test_sliding_window_generation_past_the_window(tmp_path: Path) -> None:
    """Mistral with window 4 generating 8 tokens after a 9-token prompt: the cache outgrows the window."""
    theirs = transformers_model("mistral", "causal-lm", attn="eager", sliding_window=4)
    theirs.save_pretrained(tmp_path)
    ours = load_autoload(tmp_path, "causal-lm", attn_implementation="eager")
    batch = padded_batch(length=9)
    with torch.no_grad():
        expected = theirs.generate(**batch, max_new_tokens=8, do_sample=False, pad_token_id=0)
        got = ours.generate(**batch, max_new_tokens=8, do_sample=False, pad_token_id=0)
        # Uncached greedy decoding (whole sequence each step) gives the same ids: the cache changes nothing.
        uncached = ours.generate(**batch, max_new_tokens=8, do_sample=False, pad_token_id=0, use_cache=False)
    assert got.tolist() == expected.tolist() == uncached.tolist()


def test_eos_stops_generation_like_transformers(tmp_path: Path) -> None:
    theirs = transformers_model("qwen2", "causal-lm", attn="sdpa")
    theirs.save_pretrained(tmp_path)
    ours = load_autoload(tmp_path, "causal-lm")
    batch = padded_batch(length=6)
    with torch.no_grad():
        first = theirs.generate(**batch, max_new_tokens=4, do_sample=False, pad_token_id=0)
    stop = int(first[0, -2])  # a token greedy decoding produces: use it as eos so rows stop early
    expected = _generate(theirs, batch, "greedy", eos_token_id=stop)
    assert _generate(ours, batch, "greedy", eos_token_id=stop).tolist() == expected.tolist()


@pytest.mark.parametrize("attn", ["eager", "sdpa"])
@pytest.mark.parametrize("variant", ["mistral", "qwen3"])
def test_static_cache_generates_what_the_dynamic_cache_does(tmp_path: Path, variant: str, attn: str) -> None:
    """A preallocated cache returns its free slots too; the mask must hide them (and the window must still slide)."""
    model_type, overrides = VARIANTS[variant]
    theirs = transformers_model(model_type, "causal-lm", attn=attn, **overrides)
    theirs.save_pretrained(tmp_path)
    ours = load_autoload(tmp_path, "causal-lm", attn_implementation=attn)
    batch = padded_batch(length=9)
    expected = _generate(theirs, batch, "greedy")
    assert _generate(ours, batch, "greedy", cache_implementation="static").tolist() == expected.tolist()
