"""NewModelConfig: the hyper-parameters, as ``config.json`` stores them.

This module must not import torch: ``AutoConfig`` imports it just to read a file.
"""

from __future__ import annotations

from typing import Any

from autoload import ConfigError, PretrainedConfig


class NewModelConfig(PretrainedConfig):
    """Sizes of the encoder; common fields (``num_labels``, ``tie_word_embeddings``...) come from the base class."""

    model_type = "new-model"

    def __init__(
        self,
        vocab_size: int = 1000,
        hidden_size: int = 64,
        num_hidden_layers: int = 2,
        num_attention_heads: int = 4,
        intermediate_size: int = 128,
        hidden_dropout_prob: float = 0.1,
        attention_probs_dropout_prob: float = 0.1,
        max_position_embeddings: int = 256,
        layer_norm_eps: float = 1e-12,
        initializer_range: float = 0.02,
        pad_token_id: int | None = 0,
        **kwargs: Any,
    ) -> None:
        if hidden_size % num_attention_heads != 0:
            raise ConfigError(
                f"hidden_size ({hidden_size}) must be a multiple of num_attention_heads ({num_attention_heads})."
            )
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.hidden_dropout_prob = hidden_dropout_prob
        self.attention_probs_dropout_prob = attention_probs_dropout_prob
        self.max_position_embeddings = max_position_embeddings
        self.layer_norm_eps = layer_norm_eps
        self.initializer_range = initializer_range
        super().__init__(pad_token_id=pad_token_id, **kwargs)


__all__ = ["NewModelConfig"]
