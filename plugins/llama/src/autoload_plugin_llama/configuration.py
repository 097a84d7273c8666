"""Configurations of the Llama family: ``LlamaConfig``, ``MistralConfig``, ``Qwen2Config``, ``Qwen3Config``.

Field names and defaults are transformers' (5.x), so a ``config.json`` written
by either library reads the same in the other.  This module must stay free of
torch: ``AutoConfig`` imports it just to read a file.

Rotary settings are kept the way transformers 5 writes them, as one
``rope_parameters`` dict (``{"rope_type": "llama3", "rope_theta": 500000.0,
"factor": 8.0, ...}``).  Checkpoints written before that carry a top-level
``rope_theta`` and a ``rope_scaling`` dict (whose kind is under ``type`` or
``rope_type``); both spellings are read and folded into ``rope_parameters``,
which is what gets written back.
"""

from __future__ import annotations

from typing import Any

from autoload import ConfigError, PretrainedConfig

DEFAULT_ROPE_THETA = 10_000.0

# Keys each scaling kind cannot do without; the rotary layer reads them.
_REQUIRED_ROPE_KEYS: dict[str, tuple[str, ...]] = {
    "default": (),
    "linear": ("factor",),
    "dynamic": ("factor",),
    "yarn": ("factor",),
    "longrope": ("short_factor", "long_factor"),
    "llama3": ("factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"),
}
# Kinds whose frequencies depend on the context length the model was pretrained with.
_NEEDS_ORIGINAL_LENGTH = ("llama3", "yarn", "longrope")


def standardize_rope_parameters(
    rope_parameters: dict[str, Any] | None,
    rope_scaling: dict[str, Any] | None,
    rope_theta: float | None,
    max_position_embeddings: int,
    owner: str,
) -> dict[str, Any]:
    """One ``rope_parameters`` dict from whichever spelling a ``config.json`` used.

    A legacy ``rope_scaling`` wins over ``rope_parameters`` (transformers gives
    it the same priority), the theta found inside the dict wins over a
    top-level ``rope_theta``, and a missing kind means plain RoPE.
    """
    chosen = rope_scaling or rope_parameters
    if chosen is not None and not isinstance(chosen, dict):
        raise ConfigError(
            f"{owner}: rope_parameters must be a dict such as "
            f'{{"rope_type": "linear", "factor": 2.0, "rope_theta": 10000.0}}, not {chosen!r}.'
        )
    parameters = dict(chosen or {})
    parameters.setdefault("rope_type", parameters.get("type", "default"))
    parameters.setdefault("rope_theta", DEFAULT_ROPE_THETA if rope_theta is None else rope_theta)
    kind = parameters["rope_type"]
    if kind in _NEEDS_ORIGINAL_LENGTH:
        parameters.setdefault("original_max_position_embeddings", max_position_embeddings)
    if kind not in _REQUIRED_ROPE_KEYS:
        raise ConfigError(
            f"{owner}: rope_type {kind!r} is not a RoPE kind this plugin knows; "
            f"use one of {', '.join(sorted(_REQUIRED_ROPE_KEYS))}."
        )
    missing = [key for key in _REQUIRED_ROPE_KEYS[kind] if parameters.get(key) is None]
    if missing:
        raise ConfigError(
            f"{owner}: rope_parameters of rope_type {kind!r} needs {', '.join(missing)}; got {parameters}."
        )
    return parameters


class _LlamaFamilyConfig(PretrainedConfig):
    """What the four configs share: head geometry checks and the RoPE spelling."""

    def _finish(self, rope_parameters: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Settle derived fields, check the head geometry; returns kwargs left for the base class."""
        owner = type(self).__name__
        if self.num_key_value_heads is None:
            self.num_key_value_heads = self.num_attention_heads
        if self.num_attention_heads <= 0 or self.num_key_value_heads <= 0:
            raise ConfigError(f"{owner}: num_attention_heads and num_key_value_heads must be positive.")
        if self.num_attention_heads % self.num_key_value_heads:
            raise ConfigError(
                f"{owner}: num_attention_heads ({self.num_attention_heads}) must be a multiple of "
                f"num_key_value_heads ({self.num_key_value_heads}): each key/value head serves a whole group "
                "of query heads."
            )
        self.rope_parameters = standardize_rope_parameters(
            rope_parameters,
            kwargs.pop("rope_scaling", None),
            kwargs.pop("rope_theta", None),
            self.max_position_embeddings,
            owner,
        )
        return kwargs

    @property
    def rope_scaling(self) -> dict[str, Any]:
        """The old name of :attr:`rope_parameters`, for code written against older configs."""
        return self.rope_parameters

    @rope_scaling.setter
    def rope_scaling(self, value: dict[str, Any] | None) -> None:
        self.rope_parameters = standardize_rope_parameters(
            None, value, None, self.max_position_embeddings, type(self).__name__
        )


def _layer_types(config: Any, layer_types: list[str] | None) -> list[str]:
    """Qwen's per-layer attention kinds: sliding only from ``max_window_layers`` on, and only when enabled."""
    if layer_types is None:
        return [
            "sliding_attention"
            if config.sliding_window is not None and index >= config.max_window_layers
            else "full_attention"
            for index in range(config.num_hidden_layers)
        ]
    layer_types = list(layer_types)
    unknown = sorted(set(layer_types) - {"full_attention", "sliding_attention"})
    if unknown:
        raise ConfigError(
            f"{type(config).__name__}: layer_types may hold 'full_attention' and 'sliding_attention' only, "
            f"not {unknown}."
        )
    if len(layer_types) != config.num_hidden_layers:
        raise ConfigError(
            f"{type(config).__name__}: layer_types has {len(layer_types)} entries but num_hidden_layers is "
            f"{config.num_hidden_layers}; give one entry per layer."
        )
    return layer_types


class LlamaConfig(_LlamaFamilyConfig):
    """Llama 1/2/3 (and the many checkpoints built on its layout).

    ``head_dim`` defaults to ``hidden_size // num_attention_heads`` but may be
    set apart from it; ``num_key_value_heads`` below ``num_attention_heads``
    means grouped-query attention.  ``eos_token_id`` (default 2) may be a list,
    as in Llama 3 checkpoints, so it is taken from ``kwargs``.
    """

    model_type = "llama"

    def __init__(
        self,
        vocab_size: int = 32000,
        hidden_size: int = 4096,
        intermediate_size: int = 11008,
        num_hidden_layers: int = 32,
        num_attention_heads: int = 32,
        num_key_value_heads: int | None = None,
        hidden_act: str = "silu",
        max_position_embeddings: int = 2048,
        initializer_range: float = 0.02,
        rms_norm_eps: float = 1e-6,
        use_cache: bool = True,
        pad_token_id: int | None = None,
        bos_token_id: int | None = 1,
        pretraining_tp: int | None = 1,
        tie_word_embeddings: bool = False,
        rope_parameters: dict[str, Any] | None = None,
        attention_bias: bool = False,
        attention_dropout: float = 0.0,
        mlp_bias: bool = False,
        head_dim: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.intermediate_size = intermediate_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.num_key_value_heads = num_key_value_heads
        self.hidden_act = hidden_act
        self.max_position_embeddings = max_position_embeddings
        self.initializer_range = initializer_range
        self.rms_norm_eps = rms_norm_eps
        self.use_cache = use_cache
        self.pretraining_tp = pretraining_tp
        self.attention_bias = attention_bias
        self.attention_dropout = attention_dropout
        self.mlp_bias = mlp_bias
        if num_attention_heads > 0 and hidden_size % num_attention_heads:
            raise ConfigError(
                f"LlamaConfig: hidden_size ({hidden_size}) must be a multiple of num_attention_heads "
                f"({num_attention_heads})."
            )
        self.head_dim = hidden_size // num_attention_heads if head_dim is None else head_dim
        kwargs = self._finish(rope_parameters, kwargs)
        kwargs.setdefault("eos_token_id", 2)
        super().__init__(
            pad_token_id=pad_token_id, bos_token_id=bos_token_id, tie_word_embeddings=tie_word_embeddings, **kwargs
        )


class MistralConfig(_LlamaFamilyConfig):
    """Mistral: Llama's layout with sliding-window attention on every layer.

    ``sliding_window`` (default 4096) limits each token to that many most
    recent positions, itself included; ``None`` turns it off.
    """

    model_type = "mistral"

    def __init__(
        self,
        vocab_size: int = 32000,
        hidden_size: int = 4096,
        intermediate_size: int = 14336,
        num_hidden_layers: int = 32,
        num_attention_heads: int = 32,
        num_key_value_heads: int = 8,
        head_dim: int | None = None,
        hidden_act: str = "silu",
        max_position_embeddings: int = 4096 * 32,
        initializer_range: float = 0.02,
        rms_norm_eps: float = 1e-6,
        use_cache: bool = True,
        pad_token_id: int | None = None,
        bos_token_id: int | None = 1,
        tie_word_embeddings: bool = False,
        rope_parameters: dict[str, Any] | None = None,
        sliding_window: int | None = 4096,
        attention_dropout: float = 0.0,
        **kwargs: Any,
    ) -> None:
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.intermediate_size = intermediate_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.num_key_value_heads = num_key_value_heads
        self.head_dim = hidden_size // num_attention_heads if head_dim is None else head_dim
        self.hidden_act = hidden_act
        self.max_position_embeddings = max_position_embeddings
        self.initializer_range = initializer_range
        self.rms_norm_eps = rms_norm_eps
        self.use_cache = use_cache
        self.sliding_window = sliding_window
        self.attention_dropout = attention_dropout
        if sliding_window is not None and sliding_window <= 0:
            raise ConfigError(f"MistralConfig: sliding_window must be positive or null, not {sliding_window}.")
        kwargs = self._finish(rope_parameters, kwargs)
        kwargs.setdefault("eos_token_id", 2)
        super().__init__(
            pad_token_id=pad_token_id, bos_token_id=bos_token_id, tie_word_embeddings=tie_word_embeddings, **kwargs
        )


class _QwenConfig(_LlamaFamilyConfig):
    """Qwen2 and Qwen3 share the sliding-window switches: ``use_sliding_window`` and ``max_window_layers``."""

    def _settle_sliding_window(self, use_sliding_window: bool, sliding_window: int | None, layer_types: Any) -> None:
        self.use_sliding_window = use_sliding_window
        # As in transformers: the window exists only when switched on.
        self.sliding_window = sliding_window if use_sliding_window else None
        if self.sliding_window is not None and self.sliding_window <= 0:
            raise ConfigError(
                f"{type(self).__name__}: sliding_window must be positive or null, not {self.sliding_window}."
            )
        self.layer_types = _layer_types(self, layer_types)


class Qwen2Config(_QwenConfig):
    """Qwen2 / Qwen2.5: Llama's layout with biases on the query, key and value projections."""

    model_type = "qwen2"

    def __init__(
        self,
        vocab_size: int = 151936,
        hidden_size: int = 4096,
        intermediate_size: int = 22016,
        num_hidden_layers: int = 32,
        num_attention_heads: int = 32,
        num_key_value_heads: int | None = 32,
        hidden_act: str = "silu",
        max_position_embeddings: int = 32768,
        initializer_range: float = 0.02,
        rms_norm_eps: float = 1e-6,
        use_cache: bool = True,
        tie_word_embeddings: bool = False,
        rope_parameters: dict[str, Any] | None = None,
        use_sliding_window: bool = False,
        sliding_window: int | None = 4096,
        max_window_layers: int = 28,
        layer_types: list[str] | None = None,
        attention_dropout: float = 0.0,
        pad_token_id: int | None = None,
        bos_token_id: int | None = None,
        eos_token_id: int | list[int] | None = None,
        **kwargs: Any,
    ) -> None:
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.intermediate_size = intermediate_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.num_key_value_heads = num_key_value_heads
        self.hidden_act = hidden_act
        self.max_position_embeddings = max_position_embeddings
        self.initializer_range = initializer_range
        self.rms_norm_eps = rms_norm_eps
        self.use_cache = use_cache
        self.max_window_layers = max_window_layers
        self.attention_dropout = attention_dropout
        self._settle_sliding_window(use_sliding_window, sliding_window, layer_types)
        kwargs = self._finish(rope_parameters, kwargs)
        super().__init__(
            pad_token_id=pad_token_id,
            bos_token_id=bos_token_id,
            eos_token_id=eos_token_id,
            tie_word_embeddings=tie_word_embeddings,
            **kwargs,
        )


class Qwen3Config(_QwenConfig):
    """Qwen3: Qwen2's layout without the q/k/v biases (``attention_bias``), with RMSNorm on each query and key head.

    ``head_dim`` is its own field (default 128), independent of ``hidden_size``.
    """

    model_type = "qwen3"

    def __init__(
        self,
        vocab_size: int = 151936,
        hidden_size: int = 4096,
        intermediate_size: int = 22016,
        num_hidden_layers: int = 32,
        num_attention_heads: int = 32,
        num_key_value_heads: int | None = 32,
        head_dim: int = 128,
        hidden_act: str = "silu",
        max_position_embeddings: int = 32768,
        initializer_range: float = 0.02,
        rms_norm_eps: float = 1e-6,
        use_cache: bool = True,
        tie_word_embeddings: bool = False,
        rope_parameters: dict[str, Any] | None = None,
        attention_bias: bool = False,
        use_sliding_window: bool = False,
        sliding_window: int | None = 4096,
        max_window_layers: int = 28,
        layer_types: list[str] | None = None,
        attention_dropout: float = 0.0,
        pad_token_id: int | None = None,
        bos_token_id: int | None = None,
        eos_token_id: int | list[int] | None = None,
        **kwargs: Any,
    ) -> None:
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.intermediate_size = intermediate_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.num_key_value_heads = num_key_value_heads
        self.head_dim = head_dim
        self.hidden_act = hidden_act
        self.max_position_embeddings = max_position_embeddings
        self.initializer_range = initializer_range
        self.rms_norm_eps = rms_norm_eps
        self.use_cache = use_cache
        self.attention_bias = attention_bias
        self.max_window_layers = max_window_layers
        self.attention_dropout = attention_dropout
        self._settle_sliding_window(use_sliding_window, sliding_window, layer_types)
        kwargs = self._finish(rope_parameters, kwargs)
        super().__init__(
            pad_token_id=pad_token_id,
            bos_token_id=bos_token_id,
            eos_token_id=eos_token_id,
            tie_word_embeddings=tie_word_embeddings,
            **kwargs,
        )


__all__ = ["LlamaConfig", "MistralConfig", "Qwen2Config", "Qwen3Config", "standardize_rope_parameters"]
