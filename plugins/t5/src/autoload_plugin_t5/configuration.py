"""T5Config: the hyper-parameters of a T5 checkpoint, as ``config.json`` stores them.

Field names and defaults are transformers' (those of ``t5-small``), so a
``config.json`` written by either library reads the same in the other.  The
feed-forward block is named by ``feed_forward_proj``: ``"relu"`` for the
original T5, ``"gated-gelu"`` for T5 v1.1 / Flan-T5 (two input projections,
one through GELU, multiplied).  v1.1 also unties the output projection from
the embeddings (``tie_word_embeddings=false``); only a tied head rescales the
decoder output by ``d_model ** -0.5`` first, which ``scale_decoder_outputs``
records.  No torch here: ``AutoConfig`` imports this module just to read a file.
"""

from __future__ import annotations

from typing import Any, ClassVar

from autoload import ConfigError, PretrainedConfig


class T5Config(PretrainedConfig):
    """Configuration of every T5 model class of this plugin.

    ``d_kv`` is the size of one attention head (``num_heads * d_kv`` need not
    equal ``d_model``); ``num_decoder_layers`` defaults to ``num_layers``.
    Relative positions are sorted into ``relative_attention_num_buckets``
    buckets, logarithmically wider up to ``relative_attention_max_distance``.
    """

    model_type = "t5"
    attribute_map: ClassVar[dict[str, str]] = {
        "hidden_size": "d_model",
        "num_attention_heads": "num_heads",
        "num_hidden_layers": "num_layers",
        "head_dim": "d_kv",
    }

    def __init__(
        self,
        vocab_size: int = 32128,
        d_model: int = 512,
        d_kv: int = 64,
        d_ff: int = 2048,
        num_layers: int = 6,
        num_decoder_layers: int | None = None,
        num_heads: int = 8,
        relative_attention_num_buckets: int = 32,
        relative_attention_max_distance: int = 128,
        dropout_rate: float = 0.1,
        layer_norm_epsilon: float = 1e-6,
        initializer_factor: float = 1.0,
        feed_forward_proj: str = "relu",
        is_encoder_decoder: bool = True,
        use_cache: bool = True,
        pad_token_id: int | None = 0,
        eos_token_id: int | list[int] | None = 1,
        decoder_start_token_id: int | None = 0,
        classifier_dropout: float = 0.0,
        tie_word_embeddings: bool = True,
        scale_decoder_outputs: bool | None = None,
        **kwargs: Any,
    ) -> None:
        parts = feed_forward_proj.split("-") if isinstance(feed_forward_proj, str) else []
        if not parts or len(parts) > 2 or (len(parts) == 2 and parts[0] != "gated") or not parts[-1]:
            raise ConfigError(
                f"T5Config.feed_forward_proj={feed_forward_proj!r} is not valid: use an activation name ('relu') or "
                "'gated-' followed by one ('gated-gelu')."
            )
        for name, value in (("d_model", d_model), ("d_kv", d_kv), ("num_heads", num_heads), ("num_layers", num_layers)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"T5Config.{name} must be a positive integer, not {value!r}.")
        # derived values transformers writes too; always recomputed from feed_forward_proj
        kwargs.pop("dense_act_fn", None)
        kwargs.pop("is_gated_act", None)
        self.vocab_size = vocab_size
        self.d_model = d_model
        self.d_kv = d_kv
        self.d_ff = d_ff
        self.num_layers = num_layers
        self.num_decoder_layers = num_layers if num_decoder_layers is None else num_decoder_layers
        self.num_heads = num_heads
        self.relative_attention_num_buckets = relative_attention_num_buckets
        self.relative_attention_max_distance = relative_attention_max_distance
        self.dropout_rate = dropout_rate
        self.layer_norm_epsilon = layer_norm_epsilon
        self.initializer_factor = initializer_factor
        self.feed_forward_proj = feed_forward_proj
        self.use_cache = use_cache
        self.classifier_dropout = classifier_dropout
        self.is_gated_act = parts[0] == "gated"
        # "gated-gelu" was trained with the tanh approximation of GELU, not the exact one its name suggests
        self.dense_act_fn = "gelu_new" if feed_forward_proj == "gated-gelu" else parts[-1]
        # transformers 5 saves tied heads of v1.1-style checkpoints as tie_word_embeddings=true with
        # scale_decoder_outputs=false, so the scaling is its own setting, derived only when absent
        self.scale_decoder_outputs = (
            tie_word_embeddings is not False if scale_decoder_outputs is None else bool(scale_decoder_outputs)
        )
        super().__init__(
            is_encoder_decoder=is_encoder_decoder,
            pad_token_id=pad_token_id,
            eos_token_id=eos_token_id,
            decoder_start_token_id=decoder_start_token_id,
            tie_word_embeddings=tie_word_embeddings,
            **kwargs,
        )


__all__ = ["T5Config"]
