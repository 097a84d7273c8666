"""Model layers every architecture needs, written once: what a plugin's modeling file builds on.

- :mod:`~autoload.modeling.layers.activations`: ``ACT2FN`` and :func:`get_activation`;
- :mod:`~autoload.modeling.layers.masks`: padding, causal (with a cache offset
  and sliding window), bidirectional and cross-attention masks;
- :mod:`~autoload.modeling.layers.attention`: eager / SDPA :func:`attention`, :func:`repeat_kv`;
- :mod:`~autoload.modeling.layers.projections`: :class:`Linear` and :func:`linear`, ``nn.Linear`` with a faster
  float32 CPU kernel for decoding's few-row products;
- :mod:`~autoload.modeling.layers.rotary`: :class:`RotaryEmbedding` with every scaling type;
- :mod:`~autoload.modeling.layers.norms`: :class:`RMSNorm`, :class:`T5RMSNorm`;
- :mod:`~autoload.modeling.layers.losses`: the task heads' losses;
- :mod:`~autoload.modeling.layers.regularization`: :func:`dropout` that skips itself in eval mode;
- :mod:`~autoload.modeling.layers.checkpointing`: :func:`run_layer` for gradient checkpointing;
- :mod:`~autoload.modeling.layers.decoding`: a decoder forward's preamble (:func:`decoder_inputs`,
  :func:`output_flags`) and the decoder heads' :func:`keep_logits` / :func:`last_token_logits`.

Each is numerically what transformers computes, so plugins keep parity by construction.
"""

from autoload.modeling.layers.activations import ACT2FN, Activation, get_activation
from autoload.modeling.layers.attention import attention, attention_implementation, repeat_kv
from autoload.modeling.layers.checkpointing import run_layer, set_gradient_checkpointing
from autoload.modeling.layers.decoding import (
    DecoderInputs,
    OutputFlags,
    decoder_inputs,
    keep_logits,
    last_token_logits,
    one_cache,
    output_flags,
    require_one_input,
    resolve_use_cache,
)
from autoload.modeling.layers.losses import (
    IGNORE_INDEX,
    causal_lm_loss,
    cross_entropy,
    masked_lm_loss,
    sequence_classification_loss,
    shift_tokens_right,
    span_loss,
    token_classification_loss,
)
from autoload.modeling.layers.masks import bidirectional_mask, causal_mask, padding_positions
from autoload.modeling.layers.norms import RMSNorm, T5RMSNorm
from autoload.modeling.layers.projections import Linear, linear
from autoload.modeling.layers.regularization import dropout
from autoload.modeling.layers.rotary import (
    ROPE_TYPES,
    RotaryEmbedding,
    apply_rotary_pos_emb,
    compute_inv_freq,
    rope_parameters_from_config,
    rotate_half,
)

__all__ = [
    "ACT2FN",
    "DecoderInputs",
    "OutputFlags",
    "IGNORE_INDEX",
    "Linear",
    "ROPE_TYPES",
    "Activation",
    "RMSNorm",
    "RotaryEmbedding",
    "T5RMSNorm",
    "apply_rotary_pos_emb",
    "attention",
    "attention_implementation",
    "bidirectional_mask",
    "causal_lm_loss",
    "causal_mask",
    "compute_inv_freq",
    "cross_entropy",
    "decoder_inputs",
    "dropout",
    "get_activation",
    "keep_logits",
    "last_token_logits",
    "linear",
    "masked_lm_loss",
    "one_cache",
    "output_flags",
    "padding_positions",
    "repeat_kv",
    "require_one_input",
    "resolve_use_cache",
    "rope_parameters_from_config",
    "rotate_half",
    "run_layer",
    "sequence_classification_loss",
    "set_gradient_checkpointing",
    "shift_tokens_right",
    "span_loss",
    "token_classification_loss",
]
