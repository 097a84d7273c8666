"""BertConfig: the hyper-parameters of a BERT checkpoint, as ``config.json`` stores them.

Field names and defaults are transformers' (those of bert-base-uncased), so a
``config.json`` written by either library reads the same in the other.  This
module must stay free of torch: ``AutoConfig`` imports it just to read a file.
"""

from __future__ import annotations

from typing import Any

from autoload import PretrainedConfig


class BertConfig(PretrainedConfig):
    """Configuration of every BERT model class of this plugin.

    ``is_decoder`` (causal self-attention, for :class:`BertLMHeadModel`),
    ``add_cross_attention``, ``tie_word_embeddings``, ``bos_token_id`` and
    ``eos_token_id`` are common to all configs and handled by the base class.

    ``position_embedding_type`` is kept because most BERT configs on the Hub
    carry it; only ``"absolute"`` (learned positions) is implemented, and the
    model refuses any other value rather than silently ignoring it.
    """

    model_type = "bert"

    def __init__(
        self,
        vocab_size: int = 30522,
        hidden_size: int = 768,
        num_hidden_layers: int = 12,
        num_attention_heads: int = 12,
        intermediate_size: int = 3072,
        hidden_act: str = "gelu",
        hidden_dropout_prob: float = 0.1,
        attention_probs_dropout_prob: float = 0.1,
        max_position_embeddings: int = 512,
        type_vocab_size: int = 2,
        initializer_range: float = 0.02,
        layer_norm_eps: float = 1e-12,
        pad_token_id: int | None = 0,
        position_embedding_type: str = "absolute",
        use_cache: bool = True,
        classifier_dropout: float | None = None,
        **kwargs: Any,
    ) -> None:
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.hidden_act = hidden_act
        self.hidden_dropout_prob = hidden_dropout_prob
        self.attention_probs_dropout_prob = attention_probs_dropout_prob
        self.max_position_embeddings = max_position_embeddings
        self.type_vocab_size = type_vocab_size
        self.initializer_range = initializer_range
        self.layer_norm_eps = layer_norm_eps
        self.position_embedding_type = position_embedding_type
        self.use_cache = use_cache
        self.classifier_dropout = classifier_dropout
        super().__init__(pad_token_id=pad_token_id, **kwargs)


__all__ = ["BertConfig"]
