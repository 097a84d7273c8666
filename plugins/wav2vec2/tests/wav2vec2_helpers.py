"""Tiny configurations and a small CTC vocabulary shared by the tests (no Hub access anywhere)."""

from __future__ import annotations

from typing import Any

TINY: dict[str, Any] = {
    "vocab_size": 12,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 37,
    "conv_dim": (32, 32),
    "conv_stride": (4, 4),
    "conv_kernel": (8, 4),
    "num_conv_pos_embeddings": 16,
    "num_conv_pos_embedding_groups": 2,
    "tdnn_dim": (16, 16),
    "tdnn_kernel": (3, 1),
    "tdnn_dilation": (1, 2),
    "xvector_output_dim": 8,
    "classifier_proj_size": 10,
    "codevector_dim": 16,
    "proj_codevector_dim": 12,
    "num_codevectors_per_group": 5,
    "num_negatives": 4,
    "num_labels": 3,
}

VOCAB = {
    "<pad>": 0,
    "<s>": 1,
    "</s>": 2,
    "<unk>": 3,
    "|": 4,
    "E": 5,
    "T": 6,
    "A": 7,
    "O": 8,
    "H": 9,
    "L": 10,
    "'": 11,
    "TH": 12,
}


def tiny_config_kwargs(**overrides: Any) -> dict[str, Any]:
    return {**TINY, **overrides}
