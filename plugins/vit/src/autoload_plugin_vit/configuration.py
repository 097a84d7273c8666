"""ViTConfig: the hyper-parameters of a ViT checkpoint, as ``config.json`` stores them.

Field names and defaults are transformers' (those of google/vit-base-patch16-224),
so a ``config.json`` written by either library reads the same in the other.
This module must stay free of torch: ``AutoConfig`` imports it just to read a file.
"""

from __future__ import annotations

from typing import Any

from autoload import ConfigError, PretrainedConfig

# Fields that may be an int or a (height, width) pair, so the base class's
# "the default's type is the schema" check cannot judge them.
_PAIR_FIELDS = ("image_size", "patch_size")


def _as_pair(name: str, value: Any) -> tuple[int, int]:
    pair = tuple(value) if isinstance(value, (list, tuple)) else (value, value)
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or v <= 0 for v in pair):
        raise ConfigError(f"ViTConfig: {name} must be a positive int or a pair of them, not {value!r}.")
    return pair  # type: ignore[return-value]


class ViTConfig(PretrainedConfig):
    """Configuration of every ViT model class of this plugin.

    ``image_size`` and ``patch_size`` are ints (square) or (height, width)
    pairs; the image is cut into ``patch_size`` patches, each one token.
    ``encoder_stride`` is the upsampling factor of the masked-image-modeling
    decoder (set it equal to ``patch_size`` to reconstruct at full size).
    ``pooler_output_size`` defaults to ``hidden_size``.
    """

    model_type = "vit"

    def __init__(
        self,
        hidden_size: int = 768,
        num_hidden_layers: int = 12,
        num_attention_heads: int = 12,
        intermediate_size: int = 3072,
        hidden_act: str = "gelu",
        hidden_dropout_prob: float = 0.0,
        attention_probs_dropout_prob: float = 0.0,
        initializer_range: float = 0.02,
        layer_norm_eps: float = 1e-12,
        image_size: int | list[int] | tuple[int, int] = 224,
        patch_size: int | list[int] | tuple[int, int] = 16,
        num_channels: int = 3,
        qkv_bias: bool = True,
        encoder_stride: int = 16,
        pooler_output_size: int | None = None,
        pooler_act: str = "tanh",
        **kwargs: Any,
    ) -> None:
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.hidden_act = hidden_act
        self.hidden_dropout_prob = hidden_dropout_prob
        self.attention_probs_dropout_prob = attention_probs_dropout_prob
        self.initializer_range = initializer_range
        self.layer_norm_eps = layer_norm_eps
        self.image_size = list(image_size) if isinstance(image_size, tuple) else image_size
        self.patch_size = list(patch_size) if isinstance(patch_size, tuple) else patch_size
        self.num_channels = num_channels
        self.qkv_bias = qkv_bias
        self.encoder_stride = encoder_stride
        self.pooler_output_size = pooler_output_size if pooler_output_size else hidden_size
        self.pooler_act = pooler_act
        super().__init__(**kwargs)
        self._check()

    def _check(self) -> None:
        for name in ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "num_channels"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ConfigError(f"ViTConfig: {name} must be a positive integer, not {value!r}.")
        for name in ("encoder_stride", "pooler_output_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ConfigError(f"ViTConfig: {name} must be a positive integer, not {value!r}.")
        image = _as_pair("image_size", self.image_size)
        patch = _as_pair("patch_size", self.patch_size)
        if patch[0] > image[0] or patch[1] > image[1]:
            raise ConfigError(f"ViTConfig: patch_size {self.patch_size} is larger than image_size {self.image_size}.")
        head_dim = getattr(self, "head_dim", None)
        if head_dim is None and self.hidden_size < self.num_attention_heads:
            raise ConfigError(
                f"ViTConfig: hidden_size ({self.hidden_size}) is smaller than num_attention_heads "
                f"({self.num_attention_heads}), which leaves the heads empty."
            )
        for name in ("hidden_dropout_prob", "attention_probs_dropout_prob"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ConfigError(f"ViTConfig: {name} must be a probability in [0, 1], not {value!r}.")

    @classmethod
    def _check_field_types(cls, config_dict: dict[str, Any]) -> None:
        super()._check_field_types({key: value for key, value in config_dict.items() if key not in _PAIR_FIELDS})
        for name in _PAIR_FIELDS:
            if config_dict.get(name) is not None:
                _as_pair(name, config_dict[name])


__all__ = ["ViTConfig"]
