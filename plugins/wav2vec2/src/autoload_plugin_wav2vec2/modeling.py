"""wav2vec 2.0 (Baevski et al., 2020) in plain PyTorch.

The model reads a raw 16 kHz waveform.  A stack of strided 1-D convolutions
(the *feature encoder*) turns it into one vector every ``inputs_to_logits_ratio``
samples (20 ms for the usual 320); a linear *feature projection* lifts those to
the Transformer width; a grouped, weight-normalised convolution adds relative
position information; and a Transformer *encoder* contextualises the frames.

Heads on top:

* :class:`Wav2Vec2ForCTC` — per-frame character logits trained with CTC.
* :class:`Wav2Vec2ForSequenceClassification` — mean-pooled utterance label.
* :class:`Wav2Vec2ForAudioFrameClassification` — per-frame labels (diarization).
* :class:`Wav2Vec2ForXVector` — TDNN + statistics pooling speaker embeddings,
  trained with an additive-margin softmax.
* :class:`Wav2Vec2ForPreTraining` — the self-supervised objective: masked
  frames must pick their own Gumbel-quantised target among sampled distractors
  (contrastive loss), while a diversity loss keeps the codebooks in use.

:func:`compute_mask_indices` and :func:`sample_negative_indices` draw the span
masks and the distractors that pre-training (and SpecAugment) needs.

Parameter names are those of the transformers implementation, so checkpoints
load in both libraries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from autoload import ConfigError, ModelInputError, ProcessingError
from autoload.modeling import (
    BaseModelOutput,
    CausalLMOutput,
    ModelOutput,
    PreTrainedModel,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)
from autoload.modeling.layers import (
    Linear,
    attention,
    attention_implementation,
    bidirectional_mask,
    cross_entropy,
    get_activation,
    run_layer,
)
from torch import nn
from torch.nn import functional as F
from torch.nn.utils import parametrize

from autoload_plugin_wav2vec2.configuration import Wav2Vec2Config

# -- outputs --------------------------------------------------------------------


@dataclass(repr=False)
class Wav2Vec2BaseModelOutput(ModelOutput):
    """Encoder output plus ``extract_features``: the normalised convolution features the quantizer reads."""

    last_hidden_state: Any = None
    extract_features: Any = None
    hidden_states: Any = None
    attentions: Any = None


@dataclass(repr=False)
class Wav2Vec2ForPreTrainingOutput(ModelOutput):
    """Pre-training output; the three losses are present only when negatives were given."""

    loss: Any = None
    projected_states: Any = None
    projected_quantized_states: Any = None
    codevector_perplexity: Any = None
    hidden_states: Any = None
    attentions: Any = None
    contrastive_loss: Any = None
    diversity_loss: Any = None


@dataclass(repr=False)
class XVectorOutput(ModelOutput):
    """Speaker-verification output: ``embeddings`` are the x-vectors to compare with cosine similarity."""

    loss: Any = None
    logits: Any = None
    embeddings: Any = None
    hidden_states: Any = None
    attentions: Any = None


# -- masks and negatives for pre-training and SpecAugment -----------------------


def compute_mask_indices(
    shape: tuple[int, int],
    mask_prob: float,
    mask_length: int,
    attention_mask: torch.Tensor | np.ndarray | None = None,
    min_masks: int = 0,
) -> np.ndarray:
    """Draw SpecAugment span masks: a boolean ``(batch, length)`` array.

    Each row gets about ``mask_prob * length / mask_length`` spans (rounded up
    or down at random, at least ``min_masks``) of ``mask_length`` consecutive
    steps, starting at distinct random positions inside the row's real length
    (from ``attention_mask``).  Spans may overlap, so ``mask_prob`` is an upper
    bound on the masked fraction.  Randomness comes from numpy's global
    generator, in the same order of draws as transformers, so one seed gives
    the same masks in both libraries.
    """
    batch_size, sequence_length = shape
    if mask_length < 1:
        raise ValueError(f"mask_length must be at least 1, not {mask_length}.")
    if mask_length > sequence_length:
        raise ValueError(
            f"mask_length ({mask_length}) is longer than the sequence ({sequence_length} steps); "
            "use a shorter mask_length or longer inputs."
        )

    # One shared random offset turns the expected span count into an integer
    # that is right on average.
    rounding = np.random.rand(1).item()

    def span_count(length: int) -> int:
        count = max(int(mask_prob * length / mask_length + rounding), min_masks)
        count = min(count, sequence_length // mask_length) if count * mask_length > sequence_length else count
        # every span must start early enough to fit inside the real length
        return min(count, max(length - (mask_length - 1), 0))

    if attention_mask is None:
        lengths = [sequence_length] * batch_size
    else:
        mask_sum = attention_mask.sum(-1)
        lengths = [int(value) for value in (mask_sum.tolist() if hasattr(mask_sum, "tolist") else mask_sum)]

    mask = np.zeros((batch_size, sequence_length), dtype=bool)
    widest = span_count(sequence_length)
    if widest == 0:
        return mask

    starts = np.empty((batch_size, widest), dtype=np.int64)
    for row, length in enumerate(lengths):
        count = span_count(length)
        chosen = np.random.choice(np.arange(length - (mask_length - 1)), count, replace=False)
        # Rows with fewer spans repeat one of theirs (or mark the last, padded,
        # step) so that every row has the same number of starts.
        filler = chosen[0] if len(chosen) else sequence_length - 1
        starts[row, :count] = chosen
        starts[row, count:] = filler

    positions = (starts[:, :, None] + np.arange(mask_length)[None, None, :]).reshape(batch_size, -1)
    positions = np.minimum(positions, sequence_length - 1)
    np.put_along_axis(mask, positions, True, axis=-1)
    return mask


def sample_negative_indices(
    features_shape: tuple[int, int],
    num_negatives: int,
    mask_time_indices: np.ndarray | torch.Tensor | None = None,
) -> np.ndarray:
    """Pick ``num_negatives`` distractors for every masked frame: an int32 ``(batch, length, num_negatives)`` array.

    Distractors come uniformly from the *other* masked frames of the same
    utterance (never the frame itself).  Indices are into the flattened
    ``(batch * length)`` sequence of quantised features, which is how
    :class:`Wav2Vec2ForPreTraining` gathers them; unmasked frames get index
    ``batch_index * length`` placeholders that the loss ignores.  Uses numpy's
    global generator in the same order as transformers.
    """
    batch_size, sequence_length = features_shape
    if mask_time_indices is None:
        masked = np.ones(features_shape, dtype=bool)
    else:
        masked = np.asarray(mask_time_indices.cpu() if hasattr(mask_time_indices, "cpu") else mask_time_indices)
        masked = masked.astype(bool)

    negatives = np.zeros((batch_size, sequence_length, num_negatives), dtype=np.int32)
    all_positions = np.arange(sequence_length)
    for row in range(batch_size):
        masked_positions = all_positions[masked[row]]
        count = len(masked_positions)
        # draw from count - 1 candidates, then skip over the frame itself
        drawn = np.random.randint(0, count - 1, size=(count, num_negatives))
        own = np.arange(count)[:, None]
        drawn[drawn >= own] += 1
        negatives[row][masked[row]] = masked_positions[drawn]
        negatives[row] += row * sequence_length
    return negatives


# -- feature encoder -------------------------------------------------------------


class _ConvLayer(nn.Module):
    """One convolution of the feature encoder, with the normalisation its position calls for."""

    def __init__(self, config: Wav2Vec2Config, layer_id: int, norm: str | None) -> None:
        super().__init__()
        self.in_conv_dim = config.conv_dim[layer_id - 1] if layer_id > 0 else 1
        self.out_conv_dim = config.conv_dim[layer_id]
        self.conv = nn.Conv1d(
            self.in_conv_dim,
            self.out_conv_dim,
            kernel_size=config.conv_kernel[layer_id],
            stride=config.conv_stride[layer_id],
            bias=config.conv_bias,
        )
        self.norm_kind = norm
        if norm == "group":
            # one group per channel: each channel normalised over time
            self.layer_norm = nn.GroupNorm(self.out_conv_dim, self.out_conv_dim, affine=True)
        elif norm == "layer":
            self.layer_norm = nn.LayerNorm(self.out_conv_dim, elementwise_affine=True)
        self.activation = get_activation(config.feat_extract_activation, owner="Wav2Vec2Config.feat_extract_activation")

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        hidden_states = self.conv(hidden_states)
        if self.norm_kind == "group":
            hidden_states = self.layer_norm(hidden_states)
        elif self.norm_kind == "layer":
            hidden_states = self.layer_norm(hidden_states.transpose(1, 2)).transpose(1, 2)
        return self.activation(hidden_states)


class Wav2Vec2FeatureEncoder(nn.Module):
    """Waveform ``(batch, samples)`` to features ``(batch, channels, frames)``."""

    def __init__(self, config: Wav2Vec2Config) -> None:
        super().__init__()
        count = config.num_feat_extract_layers
        if config.feat_extract_norm == "group":
            # wav2vec 2.0 "base": only the first convolution is normalised
            norms: list[str | None] = ["group"] + [None] * (count - 1)
        elif config.feat_extract_norm == "layer":
            norms = ["layer"] * count
        else:
            raise ConfigError(
                f"Wav2Vec2Config.feat_extract_norm must be 'group' or 'layer', not {config.feat_extract_norm!r}."
            )
        self.conv_layers = nn.ModuleList(_ConvLayer(config, index, norm) for index, norm in enumerate(norms))
        self._requires_grad = True
        # Samples one output frame sees: shorter audio gives no frame at all.
        self.receptive_field = 1
        jump = 1
        for kernel, stride in zip(config.conv_kernel[:count], config.conv_stride[:count]):
            self.receptive_field += (kernel - 1) * jump
            jump *= stride

    def _freeze_parameters(self) -> None:
        for parameter in self.parameters():
            parameter.requires_grad = False
        self._requires_grad = False

    def forward(self, input_values: torch.Tensor) -> torch.Tensor:
        if input_values.shape[-1] < self.receptive_field:
            raise ModelInputError(
                f"The audio is {input_values.shape[-1]} samples long, shorter than the {self.receptive_field} samples "
                "of the feature encoder's receptive field (the span its convolutions need for one output frame). "
                "Pad it (the feature extractor's padding='max_length', max_length=...) or drop clips that short."
            )
        hidden_states = input_values[:, None]
        for layer in self.conv_layers:
            hidden_states = layer(hidden_states)
        return hidden_states


class Wav2Vec2FeatureProjection(nn.Module):
    """Normalise the convolution features and project them to the Transformer width.

    Returns the normalised features too: the pre-training quantizer reads them.
    """

    def __init__(self, config: Wav2Vec2Config) -> None:
        super().__init__()
        self.layer_norm = nn.LayerNorm(config.conv_dim[-1], eps=config.layer_norm_eps)
        self.projection = Linear(config.conv_dim[-1], config.hidden_size)
        self.projection._init_scheme = "fan_in_uniform"
        self.dropout = nn.Dropout(config.feat_proj_dropout)

    def forward(self, hidden_states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        normalised = self.layer_norm(hidden_states)
        return self.dropout(self.projection(normalised)), normalised


# -- encoder ----------------------------------------------------------------------


class _WeightNorm(nn.Module):
    """Weight normalisation: ``weight = g * v / ||v||``, the norm taken over every dimension but ``dim``.

    Registered as a parametrization, so ``g`` and ``v`` are stored as
    ``parametrizations.weight.original0`` and ``original1``, the names
    transformers' checkpoints use.  Unlike torch's own, splitting a weight
    that lives on the meta device (a model being built to load a checkpoint)
    only allocates the shapes: computing a norm there would pull in torch's
    compiler stack for a value the checkpoint replaces anyway.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, g: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        if v.is_meta:
            return v.new_empty(v.shape)
        return torch._weight_norm(v, g, self.dim)

    def right_inverse(self, weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if weight.is_meta:
            shape = [1] * weight.dim()
            shape[self.dim] = weight.shape[self.dim]
            return weight.new_empty(shape), weight
        return torch.norm_except_dim(weight, 2, self.dim), weight


class Wav2Vec2PositionalConvEmbedding(nn.Module):
    """Relative positions from a wide grouped convolution over time, weight-normalised per kernel tap."""

    def __init__(self, config: Wav2Vec2Config) -> None:
        super().__init__()
        conv = nn.Conv1d(
            config.hidden_size,
            config.hidden_size,
            kernel_size=config.num_conv_pos_embeddings,
            padding=config.num_conv_pos_embeddings // 2,
            groups=config.num_conv_pos_embedding_groups,
        )
        # Checkpoint keys: conv.parametrizations.weight.original0 (g) and .original1 (v).
        # unsafe: skip torch's trial evaluation; _WeightNorm keeps the weight's shape and dtype by construction
        parametrize.register_parametrization(conv, "weight", _WeightNorm(dim=2), unsafe=True)
        self.conv = conv
        # An even kernel with padding k // 2 yields one extra frame; drop it.
        self.trim = 1 if config.num_conv_pos_embeddings % 2 == 0 else 0
        self.activation = get_activation(config.feat_extract_activation, owner="Wav2Vec2Config.feat_extract_activation")

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        hidden_states = self.conv(hidden_states.transpose(1, 2))
        if self.trim:
            hidden_states = hidden_states[:, :, : -self.trim]
        return self.activation(hidden_states).transpose(1, 2)


class Wav2Vec2Attention(nn.Module):
    """Multi-head self-attention; scaled-dot-product kernel unless weights must be returned."""

    def __init__(self, config: Wav2Vec2Config) -> None:
        super().__init__()
        self.embed_dim = config.hidden_size
        self.num_heads = config.num_attention_heads
        self.head_dim = self.embed_dim // self.num_heads
        if self.head_dim * self.num_heads != self.embed_dim:
            raise ConfigError(
                f"Wav2Vec2Config: hidden_size ({self.embed_dim}) must be divisible by num_attention_heads "
                f"({self.num_heads})."
            )
        self.scaling = self.head_dim**-0.5
        self.dropout = config.attention_dropout
        self.config = config
        self.k_proj = Linear(self.embed_dim, self.embed_dim)
        self.v_proj = Linear(self.embed_dim, self.embed_dim)
        self.q_proj = Linear(self.embed_dim, self.embed_dim)
        self.out_proj = Linear(self.embed_dim, self.embed_dim)

    def forward(
        self,
        hidden_states: torch.Tensor,
        mask: torch.Tensor | None = None,
        implementation: str = "sdpa",
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``mask``: what :func:`autoload.modeling.layers.bidirectional_mask` built for ``implementation``."""
        batch, length, _ = hidden_states.shape

        def heads(projection: nn.Linear) -> torch.Tensor:
            return projection(hidden_states).view(batch, length, self.num_heads, self.head_dim).transpose(1, 2)

        context, weights = attention(
            heads(self.q_proj),
            heads(self.k_proj),
            heads(self.v_proj),
            mask,
            implementation=implementation,
            scaling=self.scaling,
            dropout=self.dropout if self.training else 0.0,
            softmax_in_float32=False,
        )
        context = context.reshape(batch, length, self.embed_dim)
        return self.out_proj(context), (weights if output_attentions else None)


class Wav2Vec2FeedForward(nn.Module):
    def __init__(self, config: Wav2Vec2Config) -> None:
        super().__init__()
        self.intermediate_dropout = nn.Dropout(config.activation_dropout)
        self.intermediate_dense = Linear(config.hidden_size, config.intermediate_size)
        self.intermediate_act_fn = get_activation(config.hidden_act, owner="Wav2Vec2Config.hidden_act")
        self.output_dense = Linear(config.intermediate_size, config.hidden_size)
        self.output_dropout = nn.Dropout(config.hidden_dropout)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        hidden_states = self.intermediate_dropout(self.intermediate_act_fn(self.intermediate_dense(hidden_states)))
        return self.output_dropout(self.output_dense(hidden_states))


class Wav2Vec2AttnAdapterLayer(nn.Module):
    """Small bottleneck added after each stable-layer-norm block (language adapters of MMS checkpoints)."""

    def __init__(self, config: Wav2Vec2Config) -> None:
        super().__init__()
        self.input_dim = config.adapter_attn_dim
        self.hidden_dim = config.hidden_size
        self.norm = nn.LayerNorm(self.hidden_dim)
        self.linear_1 = Linear(self.hidden_dim, self.input_dim)
        self.act_fn = nn.ReLU()
        self.linear_2 = Linear(self.input_dim, self.hidden_dim)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.linear_2(self.act_fn(self.linear_1(self.norm(hidden_states))))


class Wav2Vec2EncoderLayer(nn.Module):
    """One Transformer block, post-norm (``do_stable_layer_norm=False``) or pre-norm (``True``)."""

    def __init__(self, config: Wav2Vec2Config, pre_norm: bool) -> None:
        super().__init__()
        self.pre_norm = pre_norm
        self.attention = Wav2Vec2Attention(config)
        self.dropout = nn.Dropout(config.hidden_dropout)
        self.layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.feed_forward = Wav2Vec2FeedForward(config)
        self.final_layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        if pre_norm and config.adapter_attn_dim is not None:
            self.adapter_layer = Wav2Vec2AttnAdapterLayer(config)
        else:
            self.adapter_layer = None

    def forward(
        self, hidden_states: torch.Tensor, mask: torch.Tensor | None, implementation: str, output_attentions: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        residual = hidden_states
        if self.pre_norm:
            hidden_states = self.layer_norm(hidden_states)
        hidden_states, weights = self.attention(hidden_states, mask, implementation, output_attentions)
        hidden_states = residual + self.dropout(hidden_states)
        if self.pre_norm:
            hidden_states = hidden_states + self.feed_forward(self.final_layer_norm(hidden_states))
            if self.adapter_layer is not None:
                hidden_states = hidden_states + self.adapter_layer(hidden_states)
        else:
            hidden_states = self.layer_norm(hidden_states)
            hidden_states = self.final_layer_norm(hidden_states + self.feed_forward(hidden_states))
        return hidden_states, weights


class Wav2Vec2Encoder(nn.Module):
    """Positional convolution plus the Transformer blocks.

    In the post-norm variant the layer norm follows the positional embedding;
    in the stable (pre-norm) variant it closes the stack instead.  The hidden
    states returned are the input of the first block and the output of every
    block (before that closing norm), as transformers returns them.
    """

    def __init__(self, config: Wav2Vec2Config) -> None:
        super().__init__()
        self.config = config
        self.stable = bool(config.do_stable_layer_norm)
        self.pos_conv_embed = Wav2Vec2PositionalConvEmbedding(config)
        self.layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout)
        self.layers = nn.ModuleList(
            Wav2Vec2EncoderLayer(config, pre_norm=self.stable) for _ in range(config.num_hidden_layers)
        )
        self.gradient_checkpointing = False

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
    ) -> BaseModelOutput:
        """``attention_mask``: bool ``(batch, frames)`` at frame rate, or ``None`` for no padding."""
        key_padding_mask = None
        if attention_mask is not None:
            key_padding_mask = attention_mask.bool()
            # padded frames start from zero so they cannot leak through the positional convolution
            hidden_states = hidden_states.masked_fill(~key_padding_mask[..., None], 0.0)
            if bool(key_padding_mask.all()):
                key_padding_mask = None

        implementation = attention_implementation(self.config, output_attentions)
        batch, length = hidden_states.shape[:2]
        mask = bidirectional_mask(
            implementation,
            batch_size=batch,
            query_length=length,
            kv_length=length,
            attention_mask=key_padding_mask,
            dtype=hidden_states.dtype,
            device=hidden_states.device,
        )

        hidden_states = hidden_states + self.pos_conv_embed(hidden_states)
        if not self.stable:
            hidden_states = self.layer_norm(hidden_states)
        hidden_states = self.dropout(hidden_states)

        all_hidden: list[torch.Tensor] | None = [hidden_states] if output_hidden_states else None
        all_attentions: list[torch.Tensor] | None = [] if output_attentions else None
        for layer in self.layers:
            # LayerDrop: in training, skip whole blocks at random
            if self.training and self.config.layerdrop > 0.0 and torch.rand([]) < self.config.layerdrop:
                continue
            hidden_states, weights = run_layer(self, layer, hidden_states, mask, implementation, output_attentions)
            if all_hidden is not None:
                all_hidden.append(hidden_states)
            if all_attentions is not None:
                all_attentions.append(weights)

        if self.stable:
            hidden_states = self.layer_norm(hidden_states)
        return BaseModelOutput(
            last_hidden_state=hidden_states,
            hidden_states=None if all_hidden is None else tuple(all_hidden),
            attentions=None if all_attentions is None else tuple(all_attentions),
        )


class Wav2Vec2AdapterLayer(nn.Module):
    def __init__(self, config: Wav2Vec2Config) -> None:
        super().__init__()
        self.conv = nn.Conv1d(
            config.output_hidden_size,
            2 * config.output_hidden_size,
            config.adapter_kernel_size,
            stride=config.adapter_stride,
            padding=1,
        )

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return F.glu(self.conv(hidden_states), dim=1)


class Wav2Vec2Adapter(nn.Module):
    """Strided GLU convolutions after the encoder: shorter, optionally narrower output for a text decoder."""

    def __init__(self, config: Wav2Vec2Config) -> None:
        super().__init__()
        if config.output_hidden_size != config.hidden_size:
            self.proj = Linear(config.hidden_size, config.output_hidden_size)
            self.proj_layer_norm = nn.LayerNorm(config.output_hidden_size)
        else:
            self.proj = self.proj_layer_norm = None
        self.layers = nn.ModuleList(Wav2Vec2AdapterLayer(config) for _ in range(config.num_adapter_layers))
        self.layerdrop = config.layerdrop

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        if self.proj is not None and self.proj_layer_norm is not None:
            hidden_states = self.proj_layer_norm(self.proj(hidden_states))
        hidden_states = hidden_states.transpose(1, 2)
        for layer in self.layers:
            if not self.training or np.random.random() > self.layerdrop:
                hidden_states = layer(hidden_states)
        return hidden_states.transpose(1, 2)


# -- quantizer ----------------------------------------------------------------------


class Wav2Vec2GumbelVectorQuantizer(nn.Module):
    """Product quantizer: each of ``num_codevector_groups`` codebooks contributes one entry, concatenated.

    Training picks entries with a straight-through Gumbel softmax; evaluation
    takes the arg-max.  The perplexity of the (masked) code distribution is
    what the diversity loss maximises.
    """

    def __init__(self, config: Wav2Vec2Config) -> None:
        super().__init__()
        self.num_groups = config.num_codevector_groups
        self.num_vars = config.num_codevectors_per_group
        if config.codevector_dim % self.num_groups != 0:
            raise ConfigError(
                f"Wav2Vec2Config: codevector_dim ({config.codevector_dim}) must be divisible by "
                f"num_codevector_groups ({self.num_groups}), since the groups' entries are concatenated."
            )
        self.codevectors = nn.Parameter(
            torch.empty(1, self.num_groups * self.num_vars, config.codevector_dim // self.num_groups)
        )
        self.weight_proj = Linear(config.conv_dim[-1], self.num_groups * self.num_vars)
        self.weight_proj._init_scheme = "unit_normal"  # Gumbel softmax wants spread-out logits
        self.temperature = 2  # annealed during training with set_gumbel_temperature

    @staticmethod
    def _compute_perplexity(probs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if mask is None:
            marginal = probs.mean(dim=0)
        else:
            keep = mask.flatten()[:, None, None].expand(probs.shape)
            marginal = torch.where(keep, probs, torch.zeros_like(probs)).sum(dim=0) / mask.sum()
        return torch.exp(-torch.sum(torch.xlogy(marginal, marginal), dim=-1)).sum()

    def forward(
        self, hidden_states: torch.Tensor, mask_time_indices: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        batch, length, _ = hidden_states.shape
        logits = self.weight_proj(hidden_states).view(batch * length * self.num_groups, -1)

        if self.training:
            probs = F.gumbel_softmax(logits.float(), tau=self.temperature, hard=True).type_as(logits)
            soft = torch.softmax(logits.view(batch * length, self.num_groups, -1).float(), dim=-1)
            perplexity = self._compute_perplexity(soft, mask_time_indices)
        else:
            probs = torch.zeros_like(logits).scatter_(-1, logits.argmax(dim=-1, keepdim=True), 1.0)
            perplexity = self._compute_perplexity(probs.view(batch * length, self.num_groups, -1), mask_time_indices)

        probs = probs.view(batch * length, -1)
        selected = probs.unsqueeze(-1) * self.codevectors
        codevectors = selected.view(batch * length, self.num_groups, self.num_vars, -1).sum(-2)
        return codevectors.view(batch, length, -1), perplexity


# -- x-vector parts -----------------------------------------------------------------


class AMSoftmaxLoss(nn.Module):
    """Additive-margin softmax: the target class's cosine is lowered by ``margin`` before scaling."""

    def __init__(self, input_dim: int, num_labels: int, scale: float = 30.0, margin: float = 0.4) -> None:
        super().__init__()
        self.scale = scale
        self.margin = margin
        self.num_labels = num_labels
        self.weight = nn.Parameter(torch.randn(input_dim, num_labels))
        self.loss = nn.CrossEntropyLoss()

    def forward(self, hidden_states: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        labels = labels.flatten()
        cosine = torch.mm(F.normalize(hidden_states, dim=1), F.normalize(self.weight, dim=0))
        is_target = F.one_hot(labels, self.num_labels).bool()
        logits = self.scale * torch.where(is_target, cosine - self.margin, cosine)
        return self.loss(logits, labels)


class TDNNLayer(nn.Module):
    """Time-delay layer: a dilated 1-D convolution stored as a Linear over stacked frames (checkpoint layout)."""

    def __init__(self, config: Wav2Vec2Config, layer_id: int = 0) -> None:
        super().__init__()
        self.in_conv_dim = config.tdnn_dim[layer_id - 1] if layer_id > 0 else config.tdnn_dim[layer_id]
        self.out_conv_dim = config.tdnn_dim[layer_id]
        self.kernel_size = config.tdnn_kernel[layer_id]
        self.dilation = config.tdnn_dilation[layer_id]
        self.kernel = Linear(self.in_conv_dim * self.kernel_size, self.out_conv_dim)
        self.activation = nn.ReLU()

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        # Linear weight (out, kernel * in), laid out tap by tap, as a conv weight (out, in, kernel).
        weight = self.kernel.weight.view(self.out_conv_dim, self.kernel_size, self.in_conv_dim).transpose(1, 2)
        hidden_states = F.conv1d(hidden_states.transpose(1, 2), weight, self.kernel.bias, dilation=self.dilation)
        return self.activation(hidden_states.transpose(1, 2))


# -- base class ---------------------------------------------------------------------


def _conv_output_length(length: Any, kernel_size: int, stride: int) -> Any:
    if isinstance(length, torch.Tensor):
        return torch.div(length - kernel_size, stride, rounding_mode="floor") + 1
    return (length - kernel_size) // stride + 1


class Wav2Vec2PreTrainedModel(PreTrainedModel):
    config_class = Wav2Vec2Config
    base_model_prefix = "wav2vec2"
    main_input_name = "input_values"
    supports_gradient_checkpointing = True
    # Checkpoints written before torch's parametrized weight_norm name the
    # positional convolution's magnitude and direction weight_g / weight_v.
    _checkpoint_key_renames = (
        (r"pos_conv_embed\.conv\.weight_g$", "pos_conv_embed.conv.parametrizations.weight.original0"),
        (r"pos_conv_embed\.conv\.weight_v$", "pos_conv_embed.conv.parametrizations.weight.original1"),
    )

    config: Wav2Vec2Config

    def _init_weights(self, module: nn.Module) -> None:
        """Initialise one module's own parameters with transformers' distributions.

        The runtime may visit modules in any order (and, when loading, only
        the owners of missing parameters), so every rule looks at the module
        itself: the few linear layers with a special scheme carry an
        ``_init_scheme`` tag set by their parent.
        """
        std = self.config.initializer_range
        if isinstance(module, nn.Linear):
            scheme = getattr(module, "_init_scheme", None)
            if scheme == "torch_default":
                module.reset_parameters()
            elif scheme == "fan_in_uniform":
                bound = math.sqrt(1 / module.in_features)
                nn.init.uniform_(module.weight, a=-bound, b=bound)
                nn.init.uniform_(module.bias, a=-bound, b=bound)
            elif scheme == "unit_normal":
                nn.init.normal_(module.weight, mean=0.0, std=1.0)
                nn.init.zeros_(module.bias)
            else:
                nn.init.normal_(module.weight, mean=0.0, std=std)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        elif isinstance(module, parametrize.ParametrizationList):
            # the weight-normalised positional convolution: direction ~ N(0, 2 / sqrt(k * channels)),
            # magnitude = its norm per kernel tap, so the effective weight starts equal to the direction
            direction, magnitude = module.original1, module.original0
            kernel_std = 2 * math.sqrt(1 / (direction.shape[-1] * self.config.hidden_size))
            nn.init.normal_(direction, mean=0.0, std=kernel_std)
            with torch.no_grad():
                magnitude.copy_(torch.linalg.vector_norm(direction, dim=(0, 1), keepdim=True))
        elif isinstance(module, nn.Conv1d):
            if parametrize.is_parametrized(module):
                nn.init.zeros_(module.bias)  # the positional convolution; its weight is handled above
                return
            nn.init.kaiming_normal_(module.weight)
            if module.bias is not None:
                bound = math.sqrt(module.groups / (module.in_channels * module.kernel_size[0]))
                nn.init.uniform_(module.bias, a=-bound, b=bound)
        elif isinstance(module, (nn.LayerNorm, nn.GroupNorm)):
            if module.weight is not None:
                nn.init.ones_(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, Wav2Vec2GumbelVectorQuantizer):
            nn.init.uniform_(module.codevectors)
        elif isinstance(module, Wav2Vec2Model) and hasattr(module, "masked_spec_embed"):
            nn.init.uniform_(module.masked_spec_embed)
        elif isinstance(module, AMSoftmaxLoss):
            nn.init.normal_(module.weight)
        layer_weights = getattr(module, "layer_weights", None)
        if isinstance(layer_weights, nn.Parameter):
            nn.init.constant_(layer_weights, 1.0 / layer_weights.numel())

    # -- lengths and masks ---------------------------------------------------------

    def _get_feat_extract_output_lengths(self, input_lengths: Any, add_adapter: bool | None = None) -> Any:
        """Frames produced for ``input_lengths`` samples (int or tensor), after the adapter when it is on."""
        add_adapter = self.config.add_adapter if add_adapter is None else add_adapter
        for kernel_size, stride in zip(self.config.conv_kernel, self.config.conv_stride):
            input_lengths = _conv_output_length(input_lengths, kernel_size, stride)
        if add_adapter:
            # kernel k with padding 1 shortens like kernel 1 without padding when k == 3
            for _ in range(self.config.num_adapter_layers):
                input_lengths = _conv_output_length(input_lengths, 1, self.config.adapter_stride)
        return input_lengths

    def _get_feature_vector_attention_mask(
        self, feature_vector_length: int, attention_mask: torch.Tensor, add_adapter: bool | None = None
    ) -> torch.Tensor:
        """Sample-rate attention mask to a bool frame-rate mask (right padding assumed)."""
        lengths = self._get_feat_extract_output_lengths(attention_mask.sum(-1), add_adapter=add_adapter).to(torch.long)
        frames = torch.arange(feature_vector_length, device=attention_mask.device)
        return frames[None, :] < lengths[:, None]

    # -- shared helpers for the heads ------------------------------------------------

    def _flags(
        self, output_attentions: bool | None, output_hidden_states: bool | None, return_dict: bool | None
    ) -> tuple[bool, bool, bool]:
        config = self.config
        return (
            bool(config.output_attentions if output_attentions is None else output_attentions),
            bool(config.output_hidden_states if output_hidden_states is None else output_hidden_states),
            bool(config.use_return_dict if return_dict is None else return_dict),
        )

    def _layer_mix(self, outputs: Wav2Vec2BaseModelOutput) -> torch.Tensor:
        """The head's input: last hidden state, or a softmax-weighted sum of all layers when configured."""
        if not self.config.use_weighted_layer_sum:
            return outputs.last_hidden_state
        stacked = torch.stack(outputs.hidden_states, dim=1)
        weights = torch.softmax(self.layer_weights, dim=-1)
        return (stacked * weights.view(-1, 1, 1)).sum(dim=1)

    def freeze_feature_encoder(self) -> None:
        """Stop training the convolutional feature encoder (the usual first step of fine-tuning)."""
        base = self if isinstance(self, Wav2Vec2Model) else getattr(self, self.base_model_prefix)
        base.feature_extractor._freeze_parameters()

    def freeze_base_model(self) -> None:
        """Train the head only."""
        base = getattr(self, self.base_model_prefix, None)
        if base is None:
            raise AttributeError(f"{type(self).__name__} is the base model; use requires_grad_(False) instead.")
        for parameter in base.parameters():
            parameter.requires_grad = False


def _finish(output: ModelOutput, return_dict: bool) -> Any:
    return output if return_dict else output.to_tuple()


# -- base model ---------------------------------------------------------------------


class Wav2Vec2Model(Wav2Vec2PreTrainedModel):
    """The bare encoder: waveform in, contextual frame vectors out."""

    def __init__(self, config: Wav2Vec2Config) -> None:
        super().__init__(config)
        self.config = config
        self.feature_extractor = Wav2Vec2FeatureEncoder(config)
        self.feature_projection = Wav2Vec2FeatureProjection(config)
        # the learned "masked" vector exists only when masking can happen
        if config.mask_time_prob > 0.0 or config.mask_feature_prob > 0.0:
            self.masked_spec_embed = nn.Parameter(torch.empty(config.hidden_size).uniform_())
        self.encoder = Wav2Vec2Encoder(config)
        self.adapter = Wav2Vec2Adapter(config) if config.add_adapter else None
        self.post_init()

    def _mask_hidden_states(
        self,
        hidden_states: torch.Tensor,
        mask_time_indices: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """SpecAugment: given time masks always; drawn time and feature masks only in training."""
        if not getattr(self.config, "apply_spec_augment", True):
            return hidden_states
        batch, length, width = hidden_states.shape

        if mask_time_indices is None and self.config.mask_time_prob > 0 and self.training:
            drawn = compute_mask_indices(
                (batch, length),
                mask_prob=self.config.mask_time_prob,
                mask_length=self.config.mask_time_length,
                attention_mask=attention_mask,
                min_masks=self.config.mask_time_min_masks,
            )
            mask_time_indices = torch.tensor(drawn, device=hidden_states.device, dtype=torch.bool)
        if mask_time_indices is not None:
            if not hasattr(self, "masked_spec_embed"):
                raise ConfigError(
                    "mask_time_indices were given, but this model has no masked_spec_embed because its config sets "
                    "mask_time_prob and mask_feature_prob to 0. Set mask_time_prob > 0 in the config."
                )
            embed = self.masked_spec_embed.to(hidden_states.dtype)
            hidden_states = torch.where(mask_time_indices.bool()[..., None], embed, hidden_states)

        if self.config.mask_feature_prob > 0 and self.training:
            drawn = compute_mask_indices(
                (batch, width),
                mask_prob=self.config.mask_feature_prob,
                mask_length=self.config.mask_feature_length,
                min_masks=self.config.mask_feature_min_masks,
            )
            feature_mask = torch.tensor(drawn, device=hidden_states.device, dtype=torch.bool)
            hidden_states = hidden_states.masked_fill(feature_mask[:, None, :], 0.0)
        return hidden_states

    def forward(
        self,
        input_values: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        mask_time_indices: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> Wav2Vec2BaseModelOutput | tuple[Any, ...]:
        """Encode ``input_values`` ``(batch, samples)``.

        ``attention_mask`` (``(batch, samples)``, 1 for real audio) makes padded
        batches give each utterance the result it gets alone; only pass it to
        checkpoints trained with it (``feat_extract_norm="layer"``).
        ``mask_time_indices`` (``(batch, frames)``) replaces those frames with the
        learned mask vector, as pre-training does.
        """
        output_attentions, output_hidden_states, return_dict = self._flags(
            output_attentions, output_hidden_states, return_dict
        )
        extract_features = self.feature_extractor(input_values).transpose(1, 2)
        frame_mask = None
        if attention_mask is not None:
            frame_mask = self._get_feature_vector_attention_mask(
                extract_features.shape[1], attention_mask, add_adapter=False
            )

        hidden_states, extract_features = self.feature_projection(extract_features)
        hidden_states = self._mask_hidden_states(hidden_states, mask_time_indices, frame_mask)

        encoded = self.encoder(
            hidden_states,
            attention_mask=frame_mask,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
        )
        hidden_states = encoded.last_hidden_state
        if self.adapter is not None:
            hidden_states = self.adapter(hidden_states)

        output = Wav2Vec2BaseModelOutput(
            last_hidden_state=hidden_states,
            extract_features=extract_features,
            hidden_states=encoded.hidden_states,
            attentions=encoded.attentions,
        )
        return _finish(output, return_dict)


# -- heads ----------------------------------------------------------------------------


class Wav2Vec2ForPreTraining(Wav2Vec2PreTrainedModel):
    """The self-supervised wav2vec 2.0 objective: contrastive loss over quantised targets plus diversity loss."""

    def __init__(self, config: Wav2Vec2Config) -> None:
        super().__init__(config)
        self.wav2vec2 = Wav2Vec2Model(config)
        self.dropout_features = nn.Dropout(config.feat_quantizer_dropout)
        self.quantizer = Wav2Vec2GumbelVectorQuantizer(config)
        self.project_hid = Linear(config.hidden_size, config.proj_codevector_dim)
        self.project_q = Linear(config.codevector_dim, config.proj_codevector_dim)
        self.project_hid._init_scheme = self.project_q._init_scheme = "torch_default"
        self.post_init()

    def set_gumbel_temperature(self, temperature: float) -> None:
        """Set the Gumbel softmax temperature (annealed during pre-training)."""
        self.quantizer.temperature = temperature

    @staticmethod
    def compute_contrastive_logits(
        target_features: torch.Tensor,
        negative_features: torch.Tensor,
        predicted_features: torch.Tensor,
        temperature: float = 0.1,
    ) -> torch.Tensor:
        """Cosine similarity of each prediction to its target (index 0) and its distractors, over ``temperature``."""
        candidates = torch.cat([target_features, negative_features], dim=0)
        similarity = torch.cosine_similarity(predicted_features.float(), candidates.float(), dim=-1)
        return similarity.type_as(candidates) / temperature

    def forward(
        self,
        input_values: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        mask_time_indices: torch.Tensor | None = None,
        sampled_negative_indices: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> Wav2Vec2ForPreTrainingOutput | tuple[Any, ...]:
        """``mask_time_indices`` ``(batch, frames)`` chooses the frames to predict; with
        ``sampled_negative_indices`` ``(batch, frames, num_negatives)`` (see
        :func:`sample_negative_indices`) the losses are computed too."""
        output_attentions, output_hidden_states, return_dict = self._flags(
            output_attentions, output_hidden_states, return_dict
        )
        if mask_time_indices is not None:
            mask_time_indices = mask_time_indices.to(torch.bool)

        outputs = self.wav2vec2(
            input_values,
            attention_mask=attention_mask,
            mask_time_indices=mask_time_indices,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
        )
        # 1. every frame's context vector, projected to the comparison space
        predicted = self.project_hid(outputs.last_hidden_state)
        # 2. every frame's quantised (unmasked) feature, projected likewise
        extract_features = self.dropout_features(outputs.extract_features)
        quantized, perplexity = self.quantizer(extract_features, mask_time_indices=mask_time_indices)
        quantized = self.project_q(quantized.to(self.project_q.weight.dtype))

        loss = contrastive_loss = diversity_loss = None
        if sampled_negative_indices is not None:
            if mask_time_indices is None:
                raise ProcessingError(
                    "Wav2Vec2ForPreTraining: sampled_negative_indices need mask_time_indices too (the frames the "
                    "loss is computed on). Draw both with compute_mask_indices and sample_negative_indices."
                )
            batch, length, width = quantized.shape
            # 3. gather the distractors: (num_negatives, batch, frames, width)
            negatives = quantized.reshape(-1, width)[sampled_negative_indices.long().view(-1)]
            negatives = negatives.view(batch, length, -1, width).permute(2, 0, 1, 3)
            # 4. similarity logits; candidate 0 is the true target
            logits = self.compute_contrastive_logits(
                quantized[None], negatives, predicted, self.config.contrastive_logits_temperature
            )
            # 5. a distractor equal to the target (a collapsed codebook) must not count
            same_as_target = (quantized == negatives).all(-1)
            if same_as_target.any():
                logits[1:][same_as_target] = float("-inf")
            # 6. cross-entropy towards candidate 0 on masked frames only (others ignored with -100)
            logits = logits.transpose(0, 2).reshape(-1, logits.size(0))
            target = ((1 - mask_time_indices.long()) * -100).transpose(0, 1).flatten()
            contrastive_loss = F.cross_entropy(logits.float(), target, reduction="sum")
            # 7. diversity: how far the codebook perplexity is from using every entry
            num_codevectors = self.config.num_codevectors_per_group * self.config.num_codevector_groups
            diversity_loss = ((num_codevectors - perplexity) / num_codevectors) * mask_time_indices.sum()
            loss = contrastive_loss + self.config.diversity_loss_weight * diversity_loss

        output = Wav2Vec2ForPreTrainingOutput(
            loss=loss,
            projected_states=predicted,
            projected_quantized_states=quantized,
            codevector_perplexity=perplexity,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
            contrastive_loss=contrastive_loss,
            diversity_loss=diversity_loss,
        )
        return _finish(output, return_dict)


class Wav2Vec2ForCTC(Wav2Vec2PreTrainedModel):
    """Per-frame vocabulary logits for connectionist temporal classification (speech recognition)."""

    def __init__(self, config: Wav2Vec2Config, target_lang: str | None = None) -> None:
        super().__init__(config)
        if config.vocab_size is None:
            raise ConfigError(
                "Wav2Vec2ForCTC needs config.vocab_size for its output layer; pass vocab_size=... "
                "(the size of the CTC tokenizer's vocabulary)."
            )
        self.wav2vec2 = Wav2Vec2Model(config)
        self.dropout = nn.Dropout(config.final_dropout)
        self.target_lang = target_lang
        width = config.output_hidden_size if config.add_adapter else config.hidden_size
        self.lm_head = Linear(width, config.vocab_size)
        self.post_init()

    def forward(
        self,
        input_values: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> CausalLMOutput | tuple[Any, ...]:
        """``labels`` ``(batch, target_length)``: token ids, padded with -100 (or the pad/blank id)."""
        output_attentions, output_hidden_states, return_dict = self._flags(
            output_attentions, output_hidden_states, return_dict
        )
        if labels is not None and labels.numel() and int(labels.max()) >= self.config.vocab_size:
            raise ProcessingError(
                f"CTC labels must be below vocab_size ({self.config.vocab_size}), but the largest is "
                f"{int(labels.max())}. Check the tokenizer matches the model."
            )
        outputs = self.wav2vec2(
            input_values,
            attention_mask=attention_mask,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
        )
        logits = self.lm_head(self.dropout(outputs.last_hidden_state))

        loss = None
        if labels is not None:
            sample_mask = (
                attention_mask if attention_mask is not None else torch.ones_like(input_values, dtype=torch.long)
            )
            logit_lengths = self._get_feat_extract_output_lengths(sample_mask.sum(-1)).to(torch.long)
            loss = self._ctc_loss(logits, labels.to(logits.device), logit_lengths)

        output = CausalLMOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )
        return _finish(output, return_dict)

    def _ctc_loss(self, logits: torch.Tensor, labels: torch.Tensor, logit_lengths: torch.Tensor) -> torch.Tensor:
        blank = self.config.pad_token_id
        # -100 and the blank both mean "no target here"
        real = (labels != -100) & (labels != blank)
        log_probs = F.log_softmax(logits, dim=-1, dtype=torch.float32).transpose(0, 1)
        with torch.backends.cudnn.flags(enabled=False):
            return F.ctc_loss(
                log_probs,
                labels.masked_select(real),
                logit_lengths,
                real.sum(-1),
                blank=blank,
                reduction=self.config.ctc_loss_reduction,
                zero_infinity=self.config.ctc_zero_infinity,
            )


class Wav2Vec2ForSequenceClassification(Wav2Vec2PreTrainedModel):
    """Utterance classification (keyword spotting, emotion, language id): project, mean-pool, classify."""

    def __init__(self, config: Wav2Vec2Config) -> None:
        super().__init__(config)
        if config.add_adapter:
            raise ConfigError("Wav2Vec2ForSequenceClassification does not support the adapter (config.add_adapter).")
        self.wav2vec2 = Wav2Vec2Model(config)
        if config.use_weighted_layer_sum:
            layers = config.num_hidden_layers + 1  # the blocks plus their input
            self.layer_weights = nn.Parameter(torch.ones(layers) / layers)
        self.projector = Linear(config.hidden_size, config.classifier_proj_size)
        self.classifier = Linear(config.classifier_proj_size, config.num_labels)
        self.post_init()

    def forward(
        self,
        input_values: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> SequenceClassifierOutput | tuple[Any, ...]:
        output_attentions, output_hidden_states, return_dict = self._flags(
            output_attentions, output_hidden_states, return_dict
        )
        outputs = self.wav2vec2(
            input_values,
            attention_mask=attention_mask,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states or self.config.use_weighted_layer_sum,
            return_dict=True,
        )
        hidden_states = self.projector(self._layer_mix(outputs))
        if attention_mask is None:
            pooled = hidden_states.mean(dim=1)
        else:
            frame_mask = self._get_feature_vector_attention_mask(hidden_states.shape[1], attention_mask)
            hidden_states = hidden_states.masked_fill(~frame_mask[..., None], 0.0)
            pooled = hidden_states.sum(dim=1) / frame_mask.sum(dim=1).view(-1, 1)
        logits = self.classifier(pooled)

        loss = None
        if labels is not None:
            loss = cross_entropy(logits.view(-1, self.config.num_labels), labels.view(-1))
        output = SequenceClassifierOutput(
            loss=loss,
            logits=logits,
            hidden_states=outputs.hidden_states if output_hidden_states else None,
            attentions=outputs.attentions,
        )
        return _finish(output, return_dict)


class Wav2Vec2ForAudioFrameClassification(Wav2Vec2PreTrainedModel):
    """A label per frame (speaker diarization); ``labels`` are one-hot ``(batch, frames, num_labels)``."""

    def __init__(self, config: Wav2Vec2Config) -> None:
        super().__init__(config)
        if config.add_adapter:
            raise ConfigError("Wav2Vec2ForAudioFrameClassification does not support the adapter (config.add_adapter).")
        self.wav2vec2 = Wav2Vec2Model(config)
        if config.use_weighted_layer_sum:
            layers = config.num_hidden_layers + 1
            self.layer_weights = nn.Parameter(torch.ones(layers) / layers)
        self.classifier = Linear(config.hidden_size, config.num_labels)
        self.num_labels = config.num_labels
        self.post_init()

    def forward(
        self,
        input_values: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> TokenClassifierOutput | tuple[Any, ...]:
        output_attentions, output_hidden_states, return_dict = self._flags(
            output_attentions, output_hidden_states, return_dict
        )
        outputs = self.wav2vec2(
            input_values,
            attention_mask=attention_mask,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states or self.config.use_weighted_layer_sum,
            return_dict=True,
        )
        logits = self.classifier(self._layer_mix(outputs))

        loss = None
        if labels is not None:
            targets = torch.argmax(labels.view(-1, self.num_labels), dim=1)
            loss = cross_entropy(logits.view(-1, self.num_labels), targets)
        output = TokenClassifierOutput(
            loss=loss,
            logits=logits,
            hidden_states=outputs.hidden_states if output_hidden_states else None,
            attentions=outputs.attentions,
        )
        return _finish(output, return_dict)


class Wav2Vec2ForXVector(Wav2Vec2PreTrainedModel):
    """Speaker embeddings: TDNN layers, mean and standard deviation pooling, then the x-vector projection."""

    def __init__(self, config: Wav2Vec2Config) -> None:
        super().__init__(config)
        self.wav2vec2 = Wav2Vec2Model(config)
        if config.use_weighted_layer_sum:
            layers = config.num_hidden_layers + 1
            self.layer_weights = nn.Parameter(torch.ones(layers) / layers)
        self.projector = Linear(config.hidden_size, config.tdnn_dim[0])
        self.tdnn = nn.ModuleList(TDNNLayer(config, index) for index in range(len(config.tdnn_dim)))
        self.feature_extractor = Linear(config.tdnn_dim[-1] * 2, config.xvector_output_dim)
        self.classifier = Linear(config.xvector_output_dim, config.xvector_output_dim)
        self.objective = AMSoftmaxLoss(config.xvector_output_dim, config.num_labels)
        self.post_init()

    def _get_tdnn_output_lengths(self, input_lengths: Any) -> Any:
        for kernel_size in self.config.tdnn_kernel:
            input_lengths = (input_lengths - kernel_size) // 1 + 1
        return input_lengths

    def forward(
        self,
        input_values: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> XVectorOutput | tuple[Any, ...]:
        output_attentions, output_hidden_states, return_dict = self._flags(
            output_attentions, output_hidden_states, return_dict
        )
        outputs = self.wav2vec2(
            input_values,
            attention_mask=attention_mask,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states or self.config.use_weighted_layer_sum,
            return_dict=True,
        )
        hidden_states = self.projector(self._layer_mix(outputs))
        for layer in self.tdnn:
            hidden_states = layer(hidden_states)

        # statistics pooling over each utterance's real frames
        if attention_mask is None:
            mean = hidden_states.mean(dim=1)
            spread = hidden_states.std(dim=1)
        else:
            lengths = self._get_tdnn_output_lengths(self._get_feat_extract_output_lengths(attention_mask.sum(dim=1)))
            mean = torch.stack([hidden_states[row, :length].mean(dim=0) for row, length in enumerate(lengths)])
            spread = torch.stack([hidden_states[row, :length].std(dim=0) for row, length in enumerate(lengths)])
        embeddings = self.feature_extractor(torch.cat([mean, spread], dim=-1))
        logits = self.classifier(embeddings)

        loss = self.objective(logits, labels) if labels is not None else None
        output = XVectorOutput(
            loss=loss,
            logits=logits,
            embeddings=embeddings,
            hidden_states=outputs.hidden_states if output_hidden_states else None,
            attentions=outputs.attentions,
        )
        return _finish(output, return_dict)


__all__ = [
    "AMSoftmaxLoss",
    "TDNNLayer",
    "Wav2Vec2BaseModelOutput",
    "Wav2Vec2ForAudioFrameClassification",
    "Wav2Vec2ForCTC",
    "Wav2Vec2ForPreTraining",
    "Wav2Vec2ForPreTrainingOutput",
    "Wav2Vec2ForSequenceClassification",
    "Wav2Vec2ForXVector",
    "Wav2Vec2Model",
    "Wav2Vec2PreTrainedModel",
    "XVectorOutput",
    "compute_mask_indices",
    "sample_negative_indices",
]
