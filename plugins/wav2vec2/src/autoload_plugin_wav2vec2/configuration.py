"""Wav2Vec2Config: every knob of the wav2vec 2.0 family, with transformers' field names and defaults.

The file format is transformers' own ``config.json``, so configurations move
both ways.  This module must stay free of torch and numpy: ``AutoConfig``
reads it just to learn which plugin a checkpoint needs.
"""

from __future__ import annotations

import math
from typing import Any

from autoload import ConfigError, PretrainedConfig

_FEAT_EXTRACT_NORMS = ("group", "layer")
_CTC_REDUCTIONS = ("sum", "mean", "none")


class Wav2Vec2Config(PretrainedConfig):
    """Configuration of a Wav2Vec2 model.

    The waveform goes through a stack of 1-D convolutions (``conv_dim``,
    ``conv_stride``, ``conv_kernel``; the first one normalised by GroupNorm when
    ``feat_extract_norm="group"``, every one by LayerNorm when ``"layer"``),
    then a Transformer encoder whose positions come from a grouped convolution
    (``num_conv_pos_embeddings``, ``num_conv_pos_embedding_groups``).  Layer norm
    sits after each sub-block unless ``do_stable_layer_norm`` puts it before
    (the "large/lv60" checkpoints).  SpecAugment (``mask_time_*``,
    ``mask_feature_*``) only acts in training mode.  The remaining groups
    configure the heads: CTC (``vocab_size``, ``ctc_*``), classification
    (``use_weighted_layer_sum``, ``classifier_proj_size``), x-vectors
    (``tdnn_*``, ``xvector_output_dim``), the optional convolutional adapter
    (``add_adapter``, ``adapter_*``, ``output_hidden_size``) and the pre-training
    quantizer (``num_codevectors_per_group``, ``num_codevector_groups``,
    ``codevector_dim``, ``proj_codevector_dim``, ``num_negatives``, ...).
    """

    model_type = "wav2vec2"

    def __init__(
        self,
        vocab_size: int | None = 32,
        hidden_size: int = 768,
        num_hidden_layers: int = 12,
        num_attention_heads: int = 12,
        intermediate_size: int = 3072,
        hidden_act: str = "gelu",
        hidden_dropout: float = 0.1,
        activation_dropout: float = 0.1,
        attention_dropout: float = 0.1,
        feat_proj_dropout: float = 0.0,
        feat_quantizer_dropout: float = 0.0,
        final_dropout: float = 0.1,
        layerdrop: float = 0.1,
        initializer_range: float = 0.02,
        layer_norm_eps: float = 1e-5,
        feat_extract_norm: str = "group",
        feat_extract_activation: str = "gelu",
        conv_dim: list[int] | tuple[int, ...] = (512, 512, 512, 512, 512, 512, 512),
        conv_stride: list[int] | tuple[int, ...] = (5, 2, 2, 2, 2, 2, 2),
        conv_kernel: list[int] | tuple[int, ...] = (10, 3, 3, 3, 3, 2, 2),
        conv_bias: bool = False,
        num_conv_pos_embeddings: int = 128,
        num_conv_pos_embedding_groups: int = 16,
        do_stable_layer_norm: bool = False,
        apply_spec_augment: bool = True,
        mask_time_prob: float = 0.05,
        mask_time_length: int = 10,
        mask_time_min_masks: int = 2,
        mask_feature_prob: float = 0.0,
        mask_feature_length: int = 10,
        mask_feature_min_masks: int = 0,
        num_codevectors_per_group: int = 320,
        num_codevector_groups: int = 2,
        contrastive_logits_temperature: float = 0.1,
        num_negatives: int = 100,
        codevector_dim: int = 256,
        proj_codevector_dim: int = 256,
        diversity_loss_weight: float = 0.1,
        ctc_loss_reduction: str = "sum",
        ctc_zero_infinity: bool = False,
        use_weighted_layer_sum: bool = False,
        classifier_proj_size: int = 256,
        tdnn_dim: list[int] | tuple[int, ...] = (512, 512, 512, 512, 1500),
        tdnn_kernel: list[int] | tuple[int, ...] = (5, 3, 3, 1, 1),
        tdnn_dilation: list[int] | tuple[int, ...] = (1, 2, 3, 1, 1),
        xvector_output_dim: int = 512,
        pad_token_id: int | None = 0,
        bos_token_id: int | None = 1,
        eos_token_id: int | list[int] | None = 2,
        add_adapter: bool = False,
        adapter_kernel_size: int = 3,
        adapter_stride: int = 2,
        num_adapter_layers: int = 3,
        output_hidden_size: int | None = None,
        adapter_attn_dim: int | None = None,
        **kwargs: Any,
    ) -> None:
        # Derived in transformers' files; recomputed here from conv_dim.
        saved_layer_count = kwargs.pop("num_feat_extract_layers", None)

        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.hidden_act = hidden_act
        self.hidden_dropout = hidden_dropout
        self.activation_dropout = activation_dropout
        self.attention_dropout = attention_dropout
        self.feat_proj_dropout = feat_proj_dropout
        self.feat_quantizer_dropout = feat_quantizer_dropout
        self.final_dropout = final_dropout
        self.layerdrop = layerdrop
        self.initializer_range = initializer_range
        self.layer_norm_eps = layer_norm_eps
        self.feat_extract_norm = feat_extract_norm
        self.feat_extract_activation = feat_extract_activation
        self.conv_dim = list(conv_dim)
        self.conv_stride = list(conv_stride)
        self.conv_kernel = list(conv_kernel)
        self.conv_bias = conv_bias
        self.num_conv_pos_embeddings = num_conv_pos_embeddings
        self.num_conv_pos_embedding_groups = num_conv_pos_embedding_groups
        self.do_stable_layer_norm = do_stable_layer_norm
        self.apply_spec_augment = apply_spec_augment
        self.mask_time_prob = mask_time_prob
        self.mask_time_length = mask_time_length
        self.mask_time_min_masks = mask_time_min_masks
        self.mask_feature_prob = mask_feature_prob
        self.mask_feature_length = mask_feature_length
        self.mask_feature_min_masks = mask_feature_min_masks
        self.num_codevectors_per_group = num_codevectors_per_group
        self.num_codevector_groups = num_codevector_groups
        self.contrastive_logits_temperature = contrastive_logits_temperature
        self.num_negatives = num_negatives
        self.codevector_dim = codevector_dim
        self.proj_codevector_dim = proj_codevector_dim
        self.diversity_loss_weight = diversity_loss_weight
        self.ctc_loss_reduction = ctc_loss_reduction
        self.ctc_zero_infinity = ctc_zero_infinity
        self.use_weighted_layer_sum = use_weighted_layer_sum
        self.classifier_proj_size = classifier_proj_size
        self.tdnn_dim = list(tdnn_dim)
        self.tdnn_kernel = list(tdnn_kernel)
        self.tdnn_dilation = list(tdnn_dilation)
        self.xvector_output_dim = xvector_output_dim
        self.add_adapter = add_adapter
        self.adapter_kernel_size = adapter_kernel_size
        self.adapter_stride = adapter_stride
        self.num_adapter_layers = num_adapter_layers
        self.output_hidden_size = output_hidden_size or hidden_size
        self.adapter_attn_dim = adapter_attn_dim
        super().__init__(pad_token_id=pad_token_id, bos_token_id=bos_token_id, eos_token_id=eos_token_id, **kwargs)
        self._validate(saved_layer_count)

    def _validate(self, saved_layer_count: Any) -> None:
        lengths = {
            "conv_dim": len(self.conv_dim),
            "conv_stride": len(self.conv_stride),
            "conv_kernel": len(self.conv_kernel),
        }
        if len(set(lengths.values())) != 1:
            raise ConfigError(
                "Wav2Vec2Config: conv_dim, conv_stride and conv_kernel describe the same convolution stack and must "
                f"have one entry per layer, but their lengths are {lengths}."
            )
        if saved_layer_count is not None and saved_layer_count != len(self.conv_dim):
            raise ConfigError(
                f"Wav2Vec2Config: num_feat_extract_layers is {saved_layer_count}, but conv_dim has "
                f"{len(self.conv_dim)} entries; the stack is defined by conv_dim, fix or drop num_feat_extract_layers."
            )
        tdnn = {
            "tdnn_dim": len(self.tdnn_dim),
            "tdnn_kernel": len(self.tdnn_kernel),
            "tdnn_dilation": len(self.tdnn_dilation),
        }
        if len(set(tdnn.values())) != 1:
            raise ConfigError(
                f"Wav2Vec2Config: tdnn_dim, tdnn_kernel and tdnn_dilation must have the same length, but are {tdnn}."
            )
        if self.feat_extract_norm not in _FEAT_EXTRACT_NORMS:
            raise ConfigError(
                f"Wav2Vec2Config: feat_extract_norm must be one of {_FEAT_EXTRACT_NORMS}, "
                f"not {self.feat_extract_norm!r}."
            )
        if self.ctc_loss_reduction not in _CTC_REDUCTIONS:
            raise ConfigError(
                f"Wav2Vec2Config: ctc_loss_reduction must be one of {_CTC_REDUCTIONS}, not {self.ctc_loss_reduction!r}."
            )

    @property
    def num_feat_extract_layers(self) -> int:
        """How many convolutions the feature encoder has (always ``len(conv_dim)``)."""
        return len(self.conv_dim)

    @property
    def inputs_to_logits_ratio(self) -> int:
        """Audio samples per output frame: the product of the convolution strides."""
        return math.prod(self.conv_stride)

    def to_dict(self) -> dict[str, Any]:
        output = super().to_dict()
        # transformers writes the derived count too; keep the files identical in shape.
        output["num_feat_extract_layers"] = self.num_feat_extract_layers
        return output
