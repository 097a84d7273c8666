"""The Vision Transformer (Dosovitskiy et al., 2020, "An Image is Worth 16x16 Words").

The model reads an image as a sentence of patches:

1. **Patch embeddings.** A convolution with kernel and stride ``patch_size``
   cuts the image into non-overlapping patches and projects each to
   ``hidden_size``.  A learned ``[CLS]`` token is put in front, and learned
   position embeddings are added (bicubically resized when the image has
   another resolution than the one trained on and ``interpolate_pos_encoding``
   is set).  For masked image modeling, chosen patches are replaced by a
   learned mask token first.
2. **Encoder.** Pre-norm Transformer layers: ``x + Attention(LayerNorm(x))``
   then ``x + MLP(LayerNorm(x))``; a final LayerNorm follows the last layer.
3. **Heads.** Image classification reads the final ``[CLS]`` state;
   masked image modeling turns the patch states back into pixels with a 1x1
   convolution and a pixel shuffle (SimMIM) and scores the masked patches
   with an L1 loss.

Parameter names are those of the published ViT checkpoints (and of the files
transformers writes), so weights move both ways; checkpoints using
transformers 5's in-memory names are renamed on load.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from autoload import ConfigError, ProcessingError
from autoload.modeling import (
    BaseModelOutput,
    BaseModelOutputWithPooling,
    ImageClassifierOutput,
    MaskedImageModelingOutput,
    PreTrainedModel,
)
from autoload.modeling.layers import (
    Linear,
    attention,
    attention_implementation,
    bidirectional_mask,
    get_activation,
    run_layer,
    sequence_classification_loss,
)
from torch import Tensor, nn
from torch.nn import functional as F

from autoload_plugin_vit.configuration import ViTConfig


def _pair(value: int | list[int] | tuple[int, ...]) -> tuple[int, int]:
    return (int(value[0]), int(value[1])) if isinstance(value, (list, tuple)) else (int(value), int(value))


# -- embeddings ---------------------------------------------------------------------------------


class ViTPatchEmbeddings(nn.Module):
    """(batch, channels, height, width) pixels -> (batch, patches, hidden) tokens, one per patch."""

    def __init__(self, config: ViTConfig) -> None:
        super().__init__()
        self.image_size = _pair(config.image_size)
        self.patch_size = _pair(config.patch_size)
        self.grid_size = (self.image_size[0] // self.patch_size[0], self.image_size[1] // self.patch_size[1])
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        self.num_channels = config.num_channels
        self.projection = nn.Conv2d(
            config.num_channels, config.hidden_size, kernel_size=self.patch_size, stride=self.patch_size
        )

    def forward(self, pixel_values: Tensor) -> Tensor:
        if pixel_values.shape[1] != self.num_channels:
            raise ProcessingError(
                f"pixel_values has {pixel_values.shape[1]} channels, but this ViT was built for "
                f"{self.num_channels} (config.num_channels)."
            )
        return self.projection(pixel_values).flatten(2).transpose(1, 2)


class ViTEmbeddings(nn.Module):
    """Patch tokens with the [CLS] token in front and position embeddings added."""

    def __init__(self, config: ViTConfig, use_mask_token: bool = False) -> None:
        super().__init__()
        self.cls_token = nn.Parameter(torch.randn(1, 1, config.hidden_size))
        self.mask_token = nn.Parameter(torch.zeros(1, 1, config.hidden_size)) if use_mask_token else None
        self.patch_embeddings = ViTPatchEmbeddings(config)
        self.position_embeddings = nn.Parameter(
            torch.randn(1, self.patch_embeddings.num_patches + 1, config.hidden_size)
        )
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.patch_size = self.patch_embeddings.patch_size
        self.image_size = self.patch_embeddings.image_size

    def interpolate_pos_encoding(self, embeddings: Tensor, height: int, width: int) -> Tensor:
        """Position embeddings resized (bicubic) to the patch grid of a ``height`` x ``width`` image.

        The trained embeddings form a grid of the training resolution; that
        grid is treated as a small image with ``hidden_size`` channels and
        resampled.  At the training resolution (and a square image) they are
        returned unchanged.
        """
        num_patches = embeddings.shape[1] - 1
        num_positions = self.position_embeddings.shape[1] - 1
        if not torch.jit.is_tracing() and num_patches == num_positions and height == width:
            return self.position_embeddings
        class_position = self.position_embeddings[:, :1]
        patch_positions = self.position_embeddings[:, 1:]
        dim = embeddings.shape[-1]
        grid_h, grid_w = self.patch_embeddings.grid_size
        new_h, new_w = height // self.patch_size[0], width // self.patch_size[1]
        grid = patch_positions.reshape(1, grid_h, grid_w, dim).permute(0, 3, 1, 2)
        grid = F.interpolate(grid, size=(new_h, new_w), mode="bicubic", align_corners=False)
        patch_positions = grid.permute(0, 2, 3, 1).reshape(1, -1, dim)
        return torch.cat((class_position, patch_positions), dim=1)

    def forward(
        self,
        pixel_values: Tensor,
        bool_masked_pos: Tensor | None = None,
        interpolate_pos_encoding: bool = False,
    ) -> Tensor:
        batch_size, _, height, width = pixel_values.shape
        embeddings = self.patch_embeddings(pixel_values)
        if bool_masked_pos is not None:
            if self.mask_token is None:
                raise ProcessingError(
                    "bool_masked_pos was given, but this ViTModel has no mask token; build it with use_mask_token=True "
                    "(ViTForMaskedImageModeling does)."
                )
            if tuple(bool_masked_pos.shape) != tuple(embeddings.shape[:2]):
                raise ProcessingError(
                    f"bool_masked_pos must have shape (batch, num_patches) = {tuple(embeddings.shape[:2])}, "
                    f"not {tuple(bool_masked_pos.shape)}."
                )
            mask_tokens = self.mask_token.expand(batch_size, embeddings.shape[1], -1)
            mask = bool_masked_pos.unsqueeze(-1).type_as(mask_tokens)
            embeddings = embeddings * (1.0 - mask) + mask_tokens * mask
        embeddings = torch.cat((self.cls_token.expand(batch_size, -1, -1), embeddings), dim=1)
        if interpolate_pos_encoding:
            embeddings = embeddings + self.interpolate_pos_encoding(embeddings, height, width)
        else:
            if (height, width) != self.image_size:
                raise ProcessingError(
                    f"Input image size ({height}*{width}) doesn't match the model ({self.image_size[0]}*"
                    f"{self.image_size[1]}). Resize the image, or pass interpolate_pos_encoding=True."
                )
            embeddings = embeddings + self.position_embeddings
        return self.dropout(embeddings)


# -- attention ----------------------------------------------------------------------------------


class ViTSelfAttention(nn.Module):
    """Multi-head scaled dot-product attention: the query, key and value projections and the mixing."""

    def __init__(self, config: ViTConfig) -> None:
        super().__init__()
        self.config = config
        self.num_attention_heads = config.num_attention_heads
        self.attention_head_size = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        self.all_head_size = self.num_attention_heads * self.attention_head_size
        self.scaling = self.attention_head_size**-0.5
        self.dropout_prob = config.attention_probs_dropout_prob
        self.query = Linear(config.hidden_size, self.all_head_size, bias=config.qkv_bias)
        self.key = Linear(config.hidden_size, self.all_head_size, bias=config.qkv_bias)
        self.value = Linear(config.hidden_size, self.all_head_size, bias=config.qkv_bias)

    def _heads(self, projected: Tensor) -> Tensor:
        batch, length, _ = projected.shape
        return projected.view(batch, length, self.num_attention_heads, self.attention_head_size).transpose(1, 2)

    def forward(
        self, hidden_states: Tensor, mask: Tensor | None = None, implementation: str = "sdpa"
    ) -> tuple[Tensor, Tensor | None]:
        batch, length, _ = hidden_states.shape
        context, probs = attention(
            self._heads(self.query(hidden_states)),
            self._heads(self.key(hidden_states)),
            self._heads(self.value(hidden_states)),
            mask,
            implementation=implementation,
            scaling=self.scaling,
            dropout=self.dropout_prob if self.training else 0.0,
        )
        return context.reshape(batch, length, self.all_head_size), probs


class ViTSelfOutput(nn.Module):
    """The attention's output projection (the residual is added by the layer)."""

    def __init__(self, config: ViTConfig) -> None:
        super().__init__()
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        self.dense = Linear(config.num_attention_heads * head_dim, config.hidden_size)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states: Tensor) -> Tensor:
        return self.dropout(self.dense(hidden_states))


class ViTAttention(nn.Module):
    def __init__(self, config: ViTConfig) -> None:
        super().__init__()
        self.attention = ViTSelfAttention(config)
        self.output = ViTSelfOutput(config)

    def forward(
        self, hidden_states: Tensor, mask: Tensor | None = None, implementation: str = "sdpa"
    ) -> tuple[Tensor, Tensor | None]:
        context, probs = self.attention(hidden_states, mask, implementation)
        return self.output(context), probs


# -- feed-forward and layers --------------------------------------------------------------------------


class ViTIntermediate(nn.Module):
    """First half of the MLP: widen to ``intermediate_size`` and apply the activation."""

    def __init__(self, config: ViTConfig) -> None:
        super().__init__()
        self.dense = Linear(config.hidden_size, config.intermediate_size)
        self.intermediate_act_fn = get_activation(config.hidden_act, owner="ViTConfig.hidden_act")

    def forward(self, hidden_states: Tensor) -> Tensor:
        return self.intermediate_act_fn(self.dense(hidden_states))


class ViTOutput(nn.Module):
    """Second half of the MLP: back to ``hidden_size``, plus the residual."""

    def __init__(self, config: ViTConfig) -> None:
        super().__init__()
        self.dense = Linear(config.intermediate_size, config.hidden_size)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states: Tensor, residual: Tensor) -> Tensor:
        return self.dropout(self.dense(hidden_states)) + residual


class ViTLayer(nn.Module):
    """One pre-norm Transformer block."""

    def __init__(self, config: ViTConfig) -> None:
        super().__init__()
        self.attention = ViTAttention(config)
        self.intermediate = ViTIntermediate(config)
        self.output = ViTOutput(config)
        self.layernorm_before = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.layernorm_after = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(
        self, hidden_states: Tensor, mask: Tensor | None = None, implementation: str = "sdpa"
    ) -> tuple[Tensor, Tensor | None]:
        attended, probs = self.attention(self.layernorm_before(hidden_states), mask, implementation)
        hidden_states = attended + hidden_states
        hidden_states = self.output(self.intermediate(self.layernorm_after(hidden_states)), hidden_states)
        return hidden_states, probs


class ViTEncoder(nn.Module):
    def __init__(self, config: ViTConfig) -> None:
        super().__init__()
        self.config = config
        self.layer = nn.ModuleList([ViTLayer(config) for _ in range(config.num_hidden_layers)])
        self.gradient_checkpointing = False

    def forward(
        self,
        hidden_states: Tensor,
        mask: Tensor | None = None,
        implementation: str = "sdpa",
        output_hidden_states: bool = False,
        output_attentions: bool = False,
    ) -> BaseModelOutput:
        all_hidden: list[Tensor] | None = [] if output_hidden_states else None
        all_attentions: list[Tensor] | None = [] if output_attentions else None
        for layer in self.layer:
            if all_hidden is not None:
                all_hidden.append(hidden_states)
            hidden_states, probs = run_layer(self, layer, hidden_states, mask, implementation)
            if all_attentions is not None:
                all_attentions.append(probs)
        if all_hidden is not None:
            all_hidden.append(hidden_states)
        return BaseModelOutput(
            last_hidden_state=hidden_states,
            hidden_states=tuple(all_hidden) if all_hidden is not None else None,
            attentions=tuple(all_attentions) if all_attentions is not None else None,
        )


class ViTPooler(nn.Module):
    """Dense layer and activation over the final [CLS] state."""

    def __init__(self, config: ViTConfig) -> None:
        super().__init__()
        self.dense = Linear(config.hidden_size, config.pooler_output_size)
        self.activation = get_activation(config.pooler_act, owner="ViTConfig.pooler_act")

    def forward(self, hidden_states: Tensor) -> Tensor:
        return self.activation(self.dense(hidden_states[:, 0]))


# -- models ---------------------------------------------------------------------------------------------

# transformers 5 holds ViT weights in memory under other names (and converts
# when it reads or writes files); a state dict saved from those names still loads.
_IN_MEMORY_NAMES = (
    (r"\blayers\.(\d+)\.attention\.q_proj\.", r"encoder.layer.\1.attention.attention.query."),
    (r"\blayers\.(\d+)\.attention\.k_proj\.", r"encoder.layer.\1.attention.attention.key."),
    (r"\blayers\.(\d+)\.attention\.v_proj\.", r"encoder.layer.\1.attention.attention.value."),
    (r"\blayers\.(\d+)\.attention\.o_proj\.", r"encoder.layer.\1.attention.output.dense."),
    (r"\blayers\.(\d+)\.mlp\.fc1\.", r"encoder.layer.\1.intermediate.dense."),
    (r"\blayers\.(\d+)\.mlp\.fc2\.", r"encoder.layer.\1.output.dense."),
    (r"\blayers\.(\d+)\.layernorm_(before|after)\.", r"encoder.layer.\1.layernorm_\2."),
)


def _flag(value: bool | None, default: Any) -> bool:
    return bool(default) if value is None else bool(value)


class ViTPreTrainedModel(PreTrainedModel):
    config_class = ViTConfig
    base_model_prefix = "vit"
    main_input_name = "pixel_values"
    supports_gradient_checkpointing = True
    _checkpoint_key_renames = _IN_MEMORY_NAMES

    def _init_weights(self, module: nn.Module) -> None:
        """transformers' scheme: normal(0, range) for linear and conv weights, zero biases, unit norms;
        truncated normal for the position embeddings and [CLS] token; zeros for the mask token."""
        std = self.config.initializer_range
        if isinstance(module, ViTEmbeddings):
            nn.init.trunc_normal_(module.position_embeddings, mean=0.0, std=std)
            nn.init.trunc_normal_(module.cls_token, mean=0.0, std=std)
            if module.mask_token is not None:
                nn.init.zeros_(module.mask_token)
        else:
            super()._init_weights(module)


class ViTModel(ViTPreTrainedModel):
    """The bare ViT: last hidden states and, with the pooling layer, a pooled [CLS] vector."""

    def __init__(self, config: ViTConfig, add_pooling_layer: bool = True, use_mask_token: bool = False) -> None:
        """``add_pooling_layer=False`` drops the pooler (the heads' checkpoints have none); ``use_mask_token``
        adds the mask token that ``bool_masked_pos`` needs.  Both also reach here from ``from_pretrained``."""
        super().__init__(config)
        self.embeddings = ViTEmbeddings(config, use_mask_token=use_mask_token)
        self.encoder = ViTEncoder(config)
        self.layernorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.pooler = ViTPooler(config) if add_pooling_layer else None
        self.post_init()

    def get_input_embeddings(self) -> ViTPatchEmbeddings:
        return self.embeddings.patch_embeddings

    def forward(
        self,
        pixel_values: Tensor | None = None,
        bool_masked_pos: Tensor | None = None,
        interpolate_pos_encoding: bool | None = None,
        attention_mask: Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        **kwargs: Any,
    ) -> BaseModelOutputWithPooling | tuple[Tensor, ...]:
        if pixel_values is None:
            raise ProcessingError("ViTModel needs pixel_values.")
        if kwargs.pop("head_mask", None) is not None:
            raise ProcessingError("head_mask is not supported; mask heads by editing the weights instead.")
        if kwargs:
            raise TypeError(f"ViTModel.forward got unexpected arguments {sorted(kwargs)}.")
        config = self.config
        output_attentions = _flag(output_attentions, config.output_attentions)
        output_hidden_states = _flag(output_hidden_states, config.output_hidden_states)
        return_dict = _flag(return_dict, config.return_dict)

        expected = self.embeddings.patch_embeddings.projection.weight.dtype
        if pixel_values.dtype != expected:
            pixel_values = pixel_values.to(expected)
        embeddings = self.embeddings(
            pixel_values, bool_masked_pos=bool_masked_pos, interpolate_pos_encoding=bool(interpolate_pos_encoding)
        )
        implementation = attention_implementation(config, output_attentions)
        batch, length = embeddings.shape[:2]
        mask = bidirectional_mask(
            implementation,
            batch_size=batch,
            query_length=length,
            kv_length=length,
            attention_mask=attention_mask,
            dtype=embeddings.dtype,
            device=embeddings.device,
            what="attention_mask (tokens include [CLS])",
        )
        encoded = self.encoder(
            embeddings,
            mask,
            implementation=implementation,
            output_hidden_states=output_hidden_states,
            output_attentions=output_attentions,
        )
        sequence_output = self.layernorm(encoded.last_hidden_state)
        pooled = self.pooler(sequence_output) if self.pooler is not None else None
        output = BaseModelOutputWithPooling(
            last_hidden_state=sequence_output,
            pooler_output=pooled,
            hidden_states=encoded.hidden_states,
            attentions=encoded.attentions,
        )
        return output if return_dict else output.to_tuple()


class ViTForImageClassification(ViTPreTrainedModel):
    """ViT with a linear classifier on the final [CLS] state."""

    def __init__(self, config: ViTConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.vit = ViTModel(config, add_pooling_layer=False)
        self.classifier = Linear(config.hidden_size, config.num_labels) if config.num_labels > 0 else nn.Identity()
        self.post_init()

    def forward(
        self,
        pixel_values: Tensor | None = None,
        labels: Tensor | None = None,
        interpolate_pos_encoding: bool | None = None,
        attention_mask: Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        **kwargs: Any,
    ) -> ImageClassifierOutput | tuple[Tensor, ...]:
        return_dict = _flag(return_dict, self.config.return_dict)
        outputs = self.vit(
            pixel_values,
            interpolate_pos_encoding=interpolate_pos_encoding,
            attention_mask=attention_mask,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
            **kwargs,
        )
        logits = self.classifier(outputs.last_hidden_state[:, 0, :])
        loss = None
        if labels is not None:
            loss = sequence_classification_loss(logits, labels, self.config, record_problem_type=False)
        output = ImageClassifierOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )
        return output if return_dict else output.to_tuple()


class ViTForMaskedImageModeling(ViTPreTrainedModel):
    """ViT that reconstructs pixels from patch states (SimMIM); the loss covers the masked patches only."""

    def __init__(self, config: ViTConfig) -> None:
        super().__init__(config)
        self.vit = ViTModel(config, add_pooling_layer=False, use_mask_token=True)
        self.decoder = nn.Sequential(
            nn.Conv2d(config.hidden_size, config.encoder_stride**2 * config.num_channels, kernel_size=1),
            nn.PixelShuffle(config.encoder_stride),
        )
        self.post_init()

    def forward(
        self,
        pixel_values: Tensor | None = None,
        bool_masked_pos: Tensor | None = None,
        interpolate_pos_encoding: bool | None = None,
        attention_mask: Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        **kwargs: Any,
    ) -> MaskedImageModelingOutput | tuple[Tensor, ...]:
        config = self.config
        return_dict = _flag(return_dict, config.return_dict)
        patch = _pair(config.patch_size)
        if bool_masked_pos is not None and patch != (config.encoder_stride, config.encoder_stride):
            raise ConfigError(
                "bool_masked_pos needs patch_size equal to encoder_stride, so that the reconstruction has the input's "
                f"size; this config has patch_size {config.patch_size} and encoder_stride {config.encoder_stride}."
            )
        outputs = self.vit(
            pixel_values,
            bool_masked_pos=bool_masked_pos,
            interpolate_pos_encoding=interpolate_pos_encoding,
            attention_mask=attention_mask,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
            **kwargs,
        )
        patches = outputs.last_hidden_state[:, 1:]
        batch, length, channels = patches.shape
        # the patch grid of this input (square at the trained size; any shape with interpolated positions)
        grid_h, grid_w = pixel_values.shape[-2] // patch[0], pixel_values.shape[-1] // patch[1]
        if grid_h * grid_w != length:
            grid_h = grid_w = math.floor(length**0.5)
        grid = patches.permute(0, 2, 1).reshape(batch, channels, grid_h, grid_w)
        reconstruction = self.decoder(grid)

        loss = None
        if bool_masked_pos is not None:
            image = _pair(config.image_size)
            grid_h, grid_w = image[0] // patch[0], image[1] // patch[1]
            mask = (
                bool_masked_pos.reshape(-1, grid_h, grid_w)
                .repeat_interleave(patch[0], 1)
                .repeat_interleave(patch[1], 2)
                .unsqueeze(1)
                .contiguous()
            )
            expected = self.vit.embeddings.patch_embeddings.projection.weight.dtype
            per_pixel = F.l1_loss(pixel_values.to(expected), reconstruction, reduction="none")
            loss = (per_pixel * mask).sum() / (mask.sum() + 1e-5) / config.num_channels
        output = MaskedImageModelingOutput(
            loss=loss, reconstruction=reconstruction, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )
        return output if return_dict else output.to_tuple()


__all__ = [
    "ViTForImageClassification",
    "ViTForMaskedImageModeling",
    "ViTModel",
    "ViTPreTrainedModel",
]
