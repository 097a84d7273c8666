"""Tiny configurations and a small Unigram vocabulary shared by the tests (no Hub access anywhere)."""

from __future__ import annotations

from typing import Any

TINY: dict[str, Any] = {
    "vocab_size": 99,
    "d_model": 32,
    "d_kv": 8,
    "d_ff": 37,
    "num_layers": 2,
    "num_heads": 4,
    "relative_attention_num_buckets": 8,
    "relative_attention_max_distance": 20,
}

# (piece, log-probability) as SentencePiece stores them; the first three are pad, eos and unk as in T5
PIECES = ["▁the", "▁a", "s", "▁cat", "▁dog", "▁sat", "▁on", "▁mat", "e", "t", "a", "c", "o", "n", "d", "g", "m"]
PIECES += ["h", "▁", "r", "i", "▁hello", "▁world", "l", "w", ".", ","]
VOCAB = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -2.0)] + [
    (piece, -1.0 - index / 3) for index, piece in enumerate(PIECES)
]


def tiny(**overrides: Any) -> dict[str, Any]:
    return {**TINY, **overrides}
