"""GPT2Config: the hyper-parameters of a GPT-2 checkpoint, as ``config.json`` stores them.

GPT-2's files use OpenAI's short names (``n_embd``, ``n_layer``, ``n_head``,
``n_positions``); those are what is stored, and the generic names other
architectures use (``hidden_size``...) are aliases of them, so code written
for any decoder reads a GPT-2 config too.  Field names and defaults are those
of transformers (the 124M ``gpt2`` checkpoint), so a ``config.json`` written by
either library reads the same in the other.  No torch here: ``AutoConfig``
imports this module just to read a file.
"""

from __future__ import annotations

from typing import Any, ClassVar

from autoload import PretrainedConfig


class GPT2Config(PretrainedConfig):
    """Configuration of every GPT-2 model class of this plugin.

    ``n_inner`` is the feed-forward width; ``None`` means four times ``n_embd``,
    as in the paper.  ``scale_attn_by_inverse_layer_idx`` divides layer ``i``'s
    attention scores by ``i + 1`` on top of the usual ``1/sqrt(head_dim)``
    (Mistral's stabilisation trick); ``reorder_and_upcast_attn`` computes the
    eager attention scores in float32 with the scale folded into the product,
    which keeps half-precision training from overflowing.  The ``summary_*``
    fields describe the multiple-choice head of GPT-2's double-heads model and
    are kept so configs round-trip unchanged.
    """

    model_type = "gpt2"
    attribute_map: ClassVar[dict[str, str]] = {
        "hidden_size": "n_embd",
        "max_position_embeddings": "n_positions",
        "num_attention_heads": "n_head",
        "num_hidden_layers": "n_layer",
    }

    def __init__(
        self,
        vocab_size: int = 50257,
        n_positions: int = 1024,
        n_embd: int = 768,
        n_layer: int = 12,
        n_head: int = 12,
        n_inner: int | None = None,
        activation_function: str = "gelu_new",
        resid_pdrop: float = 0.1,
        embd_pdrop: float = 0.1,
        attn_pdrop: float = 0.1,
        layer_norm_epsilon: float = 1e-5,
        initializer_range: float = 0.02,
        summary_type: str = "cls_index",
        summary_use_proj: bool = True,
        summary_activation: str | None = None,
        summary_proj_to_labels: bool = True,
        summary_first_dropout: float = 0.1,
        scale_attn_weights: bool = True,
        use_cache: bool = True,
        bos_token_id: int | None = 50256,
        pad_token_id: int | None = None,
        scale_attn_by_inverse_layer_idx: bool = False,
        reorder_and_upcast_attn: bool = False,
        add_cross_attention: bool = False,
        tie_word_embeddings: bool = True,
        **kwargs: Any,
    ) -> None:
        self.vocab_size = vocab_size
        self.n_positions = n_positions
        self.n_embd = n_embd
        self.n_layer = n_layer
        self.n_head = n_head
        self.n_inner = n_inner
        self.activation_function = activation_function
        self.resid_pdrop = resid_pdrop
        self.embd_pdrop = embd_pdrop
        self.attn_pdrop = attn_pdrop
        self.layer_norm_epsilon = layer_norm_epsilon
        self.initializer_range = initializer_range
        self.summary_type = summary_type
        self.summary_use_proj = summary_use_proj
        self.summary_activation = summary_activation
        self.summary_proj_to_labels = summary_proj_to_labels
        self.summary_first_dropout = summary_first_dropout
        self.scale_attn_weights = scale_attn_weights
        self.use_cache = use_cache
        self.scale_attn_by_inverse_layer_idx = scale_attn_by_inverse_layer_idx
        self.reorder_and_upcast_attn = reorder_and_upcast_attn
        # eos_token_id may be one id or a list of stop ids; it is taken from kwargs
        # rather than as a typed parameter so that the base class's field-type
        # check (which reads parameter defaults) accepts both forms.
        kwargs.setdefault("eos_token_id", 50256)
        super().__init__(
            bos_token_id=bos_token_id,
            pad_token_id=pad_token_id,
            add_cross_attention=add_cross_attention,
            tie_word_embeddings=tie_word_embeddings,
            **kwargs,
        )


__all__ = ["GPT2Config"]
