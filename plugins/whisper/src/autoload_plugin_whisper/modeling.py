"""Whisper (Radford et al., 2022, "Robust Speech Recognition via Large-Scale Weak Supervision") in plain PyTorch.

An encoder-decoder transformer.  The encoder reads a 30-second log-mel
spectrogram through two 1-D convolutions (the second halves the time axis),
adds fixed sinusoidal positions and runs pre-norm self-attention layers.  The
decoder embeds tokens with learned positions, and each of its pre-norm layers
runs causal self-attention, cross-attention over the encoder output, and a
GELU feed-forward block.  The output projection shares the token embedding.

During generation the encoder runs once; the decoder keeps an
``EncoderDecoderCache``: self-attention keys/values grow by one token per
step, cross-attention keys/values are computed on the first step and reused.
Parameter names are transformers', so checkpoints load in both libraries.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from autoload.generation import Cache, EncoderDecoderCache
from autoload.modeling import (
    BaseModelOutput,
    BaseModelOutputWithPastAndCrossAttentions,
    PreTrainedModel,
    Seq2SeqLMOutput,
    Seq2SeqModelOutput,
    SequenceClassifierOutput,
)
from autoload.modeling.layers import (
    Linear,
    attention,
    attention_implementation,
    causal_mask,
    cross_entropy,
    decoder_inputs,
    dropout,
    get_activation,
    keep_logits,
    output_flags,
    shift_tokens_right,
)
from torch import nn
from torch.nn import functional as F

from autoload_plugin_whisper.configuration import WhisperConfig
from autoload_plugin_whisper.generation import WhisperGenerationMixin


def sinusoids(length: int, channels: int, max_timescale: float = 10000.0) -> torch.Tensor:
    """The encoder's fixed positions: sines then cosines over geometrically spaced timescales."""
    if channels % 2:
        raise ValueError(f"Sinusoidal positions need an even number of channels, got {channels}.")
    increment = math.log(max_timescale) / (channels // 2 - 1)
    inverse_timescales = torch.exp(-increment * torch.arange(channels // 2))
    scaled_time = torch.arange(length).view(-1, 1) * inverse_timescales.view(1, -1)
    return torch.cat([scaled_time.sin(), scaled_time.cos()], dim=1)


class WhisperSinusoidalPositions(nn.Embedding):
    """The encoder's position table: stored in checkpoints like any embedding, but fixed sinusoids, never trained."""


class WhisperAttention(nn.Module):
    """Multi-head attention; self-attention when ``key_value_states`` is None, cross-attention otherwise.

    The query is scaled before the product (as the original code), the key
    projection has no bias.  With an ``EncoderDecoderCache``, self-attention
    appends to ``self_attention_cache`` and cross-attention fills
    ``cross_attention_cache`` once per generation.
    """

    def __init__(
        self, config: WhisperConfig, num_heads: int, layer_idx: int | None = None, is_causal: bool = False
    ) -> None:
        super().__init__()
        self.config = config
        self.is_causal = is_causal
        self.embed_dim = config.d_model
        self.num_heads = num_heads
        self.head_dim = self.embed_dim // num_heads
        self.scaling = self.head_dim**-0.5
        self.dropout = config.attention_dropout
        self.layer_idx = layer_idx
        self.k_proj = Linear(self.embed_dim, self.embed_dim, bias=False)
        self.v_proj = Linear(self.embed_dim, self.embed_dim)
        self.q_proj = Linear(self.embed_dim, self.embed_dim)
        self.out_proj = Linear(self.embed_dim, self.embed_dim)

    def _heads(self, states: torch.Tensor) -> torch.Tensor:
        batch, length, _ = states.shape
        return states.view(batch, length, self.num_heads, self.head_dim).transpose(1, 2)

    def forward(
        self,
        hidden_states: torch.Tensor,
        key_value_states: torch.Tensor | None = None,
        past_key_values: Cache | None = None,
        attention_mask: torch.Tensor | None = None,
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        is_cross = key_value_states is not None
        query = self._heads(self.q_proj(hidden_states) * self.scaling)
        cache = past_key_values
        reuse = False
        if isinstance(cache, EncoderDecoderCache):
            reuse = is_cross and cache.is_updated.get(self.layer_idx, False)
            if is_cross:
                cache.is_updated[self.layer_idx] = True
            cache = cache.cross_attention_cache if is_cross else cache.self_attention_cache
        if reuse:
            key, value = cache.layers[self.layer_idx].keys, cache.layers[self.layer_idx].values
        else:
            source = key_value_states if is_cross else hidden_states
            key, value = self._heads(self.k_proj(source)), self._heads(self.v_proj(source))
            if cache is not None:
                key, value = cache.update(key, value, self.layer_idx)
        output, weights = attention(
            query,
            key,
            value,
            attention_mask,
            implementation=attention_implementation(self.config, output_attentions),
            scaling=1.0,  # the query is scaled already
            dropout=self.dropout if self.training else 0.0,
            is_causal=self.is_causal,
        )
        output = output.reshape(*hidden_states.shape[:-1], self.embed_dim)
        return self.out_proj(output), weights


class WhisperEncoderLayer(nn.Module):
    """Pre-norm self-attention and feed-forward, each added back to the residual stream."""

    def __init__(self, config: WhisperConfig) -> None:
        super().__init__()
        self.embed_dim = config.d_model
        self.self_attn = WhisperAttention(config, config.encoder_attention_heads)
        self.self_attn_layer_norm = nn.LayerNorm(self.embed_dim)
        self.dropout = config.dropout
        self.activation_fn = get_activation(config.activation_function, owner="WhisperConfig.activation_function")
        self.activation_dropout = config.activation_dropout
        self.fc1 = Linear(self.embed_dim, config.encoder_ffn_dim)
        self.fc2 = Linear(config.encoder_ffn_dim, self.embed_dim)
        self.final_layer_norm = nn.LayerNorm(self.embed_dim)

    def forward(
        self, hidden_states: torch.Tensor, output_attentions: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        residual = hidden_states
        hidden_states, weights = self.self_attn(
            self.self_attn_layer_norm(hidden_states), output_attentions=output_attentions
        )
        hidden_states = residual + dropout(hidden_states, self.dropout, self.training)
        residual = hidden_states
        hidden_states = self.activation_fn(self.fc1(self.final_layer_norm(hidden_states)))
        hidden_states = dropout(hidden_states, self.activation_dropout, self.training)
        hidden_states = dropout(self.fc2(hidden_states), self.dropout, self.training)
        hidden_states = residual + hidden_states
        if hidden_states.dtype == torch.float16:
            limit = torch.finfo(hidden_states.dtype).max - 1000
            hidden_states = hidden_states.clamp(min=-limit, max=limit)
        return hidden_states, weights


class WhisperDecoderLayer(nn.Module):
    """Pre-norm causal self-attention, cross-attention over the encoder output, then feed-forward."""

    def __init__(self, config: WhisperConfig, layer_idx: int) -> None:
        super().__init__()
        self.embed_dim = config.d_model
        self.self_attn = WhisperAttention(config, config.decoder_attention_heads, layer_idx, is_causal=True)
        self.self_attn_layer_norm = nn.LayerNorm(self.embed_dim)
        self.encoder_attn = WhisperAttention(config, config.decoder_attention_heads, layer_idx)
        self.encoder_attn_layer_norm = nn.LayerNorm(self.embed_dim)
        self.dropout = config.dropout
        self.activation_fn = get_activation(config.activation_function, owner="WhisperConfig.activation_function")
        self.activation_dropout = config.activation_dropout
        self.fc1 = Linear(self.embed_dim, config.decoder_ffn_dim)
        self.fc2 = Linear(config.decoder_ffn_dim, self.embed_dim)
        self.final_layer_norm = nn.LayerNorm(self.embed_dim)

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None,
        encoder_hidden_states: torch.Tensor | None,
        past_key_values: Cache | None,
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        residual = hidden_states
        hidden_states, self_weights = self.self_attn(
            self.self_attn_layer_norm(hidden_states),
            past_key_values=past_key_values,
            attention_mask=attention_mask,
            output_attentions=output_attentions,
        )
        hidden_states = residual + dropout(hidden_states, self.dropout, self.training)
        cross_weights = None
        if encoder_hidden_states is not None:
            residual = hidden_states
            hidden_states, cross_weights = self.encoder_attn(
                self.encoder_attn_layer_norm(hidden_states),
                key_value_states=encoder_hidden_states,
                past_key_values=past_key_values,
                output_attentions=output_attentions,
            )
            hidden_states = residual + dropout(hidden_states, self.dropout, self.training)
        residual = hidden_states
        hidden_states = self.activation_fn(self.fc1(self.final_layer_norm(hidden_states)))
        hidden_states = dropout(hidden_states, self.activation_dropout, self.training)
        hidden_states = dropout(self.fc2(hidden_states), self.dropout, self.training)
        return residual + hidden_states, self_weights, cross_weights


class WhisperPreTrainedModel(PreTrainedModel):
    config_class = WhisperConfig
    base_model_prefix = "model"
    main_input_name = "input_features"

    def _init_weights(self, module: nn.Module) -> None:
        std = self.config.init_std
        if isinstance(module, WhisperSinusoidalPositions):
            with torch.no_grad():
                module.weight.copy_(sinusoids(*module.weight.shape))
        elif isinstance(module, (nn.Linear, nn.Conv1d)):
            nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.padding_idx is not None:
                with torch.no_grad():
                    module.weight[module.padding_idx].zero_()
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
        if isinstance(module, WhisperForAudioClassification) and self.config.use_weighted_layer_sum:
            nn.init.constant_(module.layer_weights, 1.0 / (self.config.num_hidden_layers + 1))

    def _get_feat_extract_output_lengths(self, input_lengths: torch.LongTensor) -> torch.LongTensor:
        """Frames after the stride-2 convolution for ``input_lengths`` spectrogram frames."""
        return (input_lengths - 1) // 2 + 1


class WhisperEncoder(WhisperPreTrainedModel):
    """Spectrogram -> convolutions -> sinusoidal positions -> pre-norm layers -> final LayerNorm."""

    def __init__(self, config: WhisperConfig) -> None:
        super().__init__(config)
        embed_dim = config.d_model
        self.dropout = config.dropout
        self.layerdrop = config.encoder_layerdrop
        self.num_mel_bins = config.num_mel_bins
        self.max_source_positions = config.max_source_positions
        self.conv1 = nn.Conv1d(self.num_mel_bins, embed_dim, kernel_size=3, padding=1)
        self.conv2 = nn.Conv1d(embed_dim, embed_dim, kernel_size=3, stride=2, padding=1)
        self.embed_positions = WhisperSinusoidalPositions(self.max_source_positions, embed_dim)
        self.embed_positions.requires_grad_(False)
        self.layers = nn.ModuleList([WhisperEncoderLayer(config) for _ in range(config.encoder_layers)])
        self.layer_norm = nn.LayerNorm(embed_dim)
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        return self.conv1

    def _freeze_parameters(self) -> None:
        for param in self.parameters():
            param.requires_grad = False

    def forward(
        self,
        input_features: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> BaseModelOutput | tuple:
        """``attention_mask`` is accepted and ignored: Whisper is trained on zero-padded 30 s windows."""
        output_attentions, output_hidden_states, return_dict = output_flags(
            self.config, output_attentions, output_hidden_states, return_dict
        )
        expected = self.max_source_positions * self.conv1.stride[0] * self.conv2.stride[0]
        if input_features.shape[-1] != expected:
            raise ValueError(
                f"Whisper expects input_features of {expected} frames (the feature extractor's 30-second window), "
                f"but got {input_features.shape[-1]}. Pad the audio with WhisperFeatureExtractor (the default "
                "padding='max_length') before calling the model."
            )
        embeds = F.gelu(self.conv1(input_features))
        embeds = F.gelu(self.conv2(embeds)).permute(0, 2, 1)
        hidden_states = embeds + self.embed_positions.weight
        hidden_states = dropout(hidden_states, self.dropout, self.training)
        all_hidden: list[torch.Tensor] = []
        all_attentions: list[torch.Tensor | None] = []
        for layer in self.layers:
            if output_hidden_states:
                all_hidden.append(hidden_states)
            if self.training and self.layerdrop > 0.0 and torch.rand([]) < self.layerdrop:
                continue
            hidden_states, weights = layer(hidden_states, output_attentions=output_attentions)
            if output_attentions:
                all_attentions.append(weights)
        hidden_states = self.layer_norm(hidden_states)
        if output_hidden_states:
            all_hidden.append(hidden_states)
        output = BaseModelOutput(
            last_hidden_state=hidden_states,
            hidden_states=tuple(all_hidden) if output_hidden_states else None,
            attentions=tuple(all_attentions) if output_attentions else None,
        )
        return output if return_dict else output.to_tuple()


class WhisperDecoder(WhisperPreTrainedModel):
    """Tokens + learned positions -> causal layers with cross-attention -> final LayerNorm."""

    main_input_name = "input_ids"

    def __init__(self, config: WhisperConfig) -> None:
        super().__init__(config)
        self.dropout = config.dropout
        self.layerdrop = config.decoder_layerdrop
        self.padding_idx = config.pad_token_id
        self.max_target_positions = config.max_target_positions
        self.embed_tokens = nn.Embedding(config.vocab_size, config.d_model, self.padding_idx)
        self.embed_positions = nn.Embedding(self.max_target_positions, config.d_model)
        self.layers = nn.ModuleList([WhisperDecoderLayer(config, index) for index in range(config.decoder_layers)])
        self.layer_norm = nn.LayerNorm(config.d_model)
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        return self.embed_tokens

    def set_input_embeddings(self, value: nn.Module) -> None:
        self.embed_tokens = value

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        encoder_hidden_states: torch.Tensor | None = None,
        past_key_values: Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        cache_position: torch.LongTensor | None = None,
    ) -> BaseModelOutputWithPastAndCrossAttentions | tuple:
        output_attentions, output_hidden_states, return_dict = output_flags(
            self.config, output_attentions, output_hidden_states, return_dict
        )
        step = decoder_inputs(
            self,
            input_ids,
            inputs_embeds,
            past_key_values=past_key_values,
            use_cache=use_cache,
            cache_position=cache_position,
            position_ids=position_ids,
            cross_attention=True,
        )
        if inputs_embeds is None:
            inputs_embeds = self.embed_tokens(input_ids)
        batch, length = inputs_embeds.shape[:2]
        position_ids = step.position_ids.expand(batch, -1)
        if position_ids.max() >= self.max_target_positions:
            raise ValueError(
                f"Whisper's decoder has positions for {self.max_target_positions} tokens "
                "(max_target_positions); the input reaches position "
                f"{int(position_ids.max())}. Shorten decoder_input_ids or max_new_tokens."
            )
        hidden_states = inputs_embeds + self.embed_positions(position_ids)
        hidden_states = dropout(hidden_states, self.dropout, self.training)
        mask = causal_mask(
            attention_implementation(self.config, output_attentions),
            batch_size=batch,
            query_length=length,
            kv_length=step.kv_length,
            query_offset=step.cache_position,
            kv_offset=step.kv_offset,
            attention_mask=attention_mask,
            dtype=inputs_embeds.dtype,
            device=inputs_embeds.device,
        )
        all_hidden: list[torch.Tensor] = []
        self_attentions: list[torch.Tensor | None] = []
        cross_attentions: list[torch.Tensor | None] = []
        for layer in self.layers:
            if output_hidden_states:
                all_hidden.append(hidden_states)
            if self.training and self.layerdrop > 0.0 and torch.rand([]) < self.layerdrop:
                continue
            hidden_states, self_weights, cross_weights = layer(
                hidden_states,
                mask,
                encoder_hidden_states,
                step.returned_cache,
                output_attentions=output_attentions,
            )
            if output_attentions:
                self_attentions.append(self_weights)
                cross_attentions.append(cross_weights)
        hidden_states = self.layer_norm(hidden_states)
        if output_hidden_states:
            all_hidden.append(hidden_states)
        output = BaseModelOutputWithPastAndCrossAttentions(
            last_hidden_state=hidden_states,
            past_key_values=step.returned_cache,
            hidden_states=tuple(all_hidden) if output_hidden_states else None,
            attentions=tuple(self_attentions) if output_attentions else None,
            cross_attentions=tuple(cross_attentions)
            if output_attentions and encoder_hidden_states is not None
            else None,
        )
        return output if return_dict else output.to_tuple()


class WhisperModel(WhisperPreTrainedModel):
    """The bare encoder-decoder: ``last_hidden_state`` is the decoder's, before the output projection."""

    def __init__(self, config: WhisperConfig) -> None:
        super().__init__(config)
        self.encoder = WhisperEncoder(config)
        self.decoder = WhisperDecoder(config)
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        return self.decoder.embed_tokens

    def set_input_embeddings(self, value: nn.Module) -> None:
        self.decoder.embed_tokens = value

    def get_encoder(self) -> WhisperEncoder:
        return self.encoder

    def get_decoder(self) -> WhisperDecoder:
        return self.decoder

    def freeze_encoder(self) -> None:
        """Stop training the encoder (fine-tuning only the decoder is common for Whisper)."""
        self.encoder._freeze_parameters()

    def _mask_input_features(self, input_features: torch.Tensor, attention_mask: Any = None) -> torch.Tensor:
        """SpecAugment in training: zero random spans of frames and of mel channels."""
        if not self.config.apply_spec_augment or not self.training:
            return input_features
        batch, channels, frames = input_features.shape
        input_features = input_features.clone()
        if self.config.mask_time_prob > 0:
            spans = _random_spans(
                batch,
                frames,
                self.config.mask_time_prob,
                self.config.mask_time_length,
                self.config.mask_time_min_masks,
                input_features.device,
            )
            input_features[spans[:, None].expand(-1, channels, -1)] = 0
        if self.config.mask_feature_prob > 0:
            spans = _random_spans(
                batch,
                channels,
                self.config.mask_feature_prob,
                self.config.mask_feature_length,
                self.config.mask_feature_min_masks,
                input_features.device,
            )
            input_features[spans[:, :, None].expand(-1, -1, frames)] = 0
        return input_features

    def forward(
        self,
        input_features: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        decoder_input_ids: torch.LongTensor | None = None,
        decoder_attention_mask: torch.Tensor | None = None,
        encoder_outputs: Any = None,
        past_key_values: Cache | None = None,
        decoder_inputs_embeds: torch.Tensor | None = None,
        decoder_position_ids: torch.LongTensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        cache_position: torch.LongTensor | None = None,
        cache: Cache | None = None,
    ) -> Seq2SeqModelOutput | tuple:
        if past_key_values is None:
            past_key_values = cache  # transformers 5's name for the same argument
        encoder_outputs = _encode(
            self.encoder,
            lambda: self._mask_input_features(input_features, attention_mask),
            encoder_outputs,
            output_attentions,
            output_hidden_states,
        )
        decoder_outputs = self.decoder(
            input_ids=decoder_input_ids,
            attention_mask=decoder_attention_mask,
            encoder_hidden_states=encoder_outputs[0],
            past_key_values=past_key_values,
            inputs_embeds=decoder_inputs_embeds,
            position_ids=decoder_position_ids,
            use_cache=use_cache,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
            cache_position=cache_position,
        )
        output = Seq2SeqModelOutput(
            last_hidden_state=decoder_outputs.last_hidden_state,
            past_key_values=decoder_outputs.past_key_values,
            decoder_hidden_states=decoder_outputs.hidden_states,
            decoder_attentions=decoder_outputs.attentions,
            cross_attentions=decoder_outputs.cross_attentions,
            encoder_last_hidden_state=encoder_outputs.last_hidden_state,
            encoder_hidden_states=encoder_outputs.hidden_states,
            encoder_attentions=encoder_outputs.attentions,
        )
        return output if _flag(return_dict, self.config.return_dict) else output.to_tuple()


class WhisperForConditionalGeneration(WhisperPreTrainedModel, WhisperGenerationMixin):
    """Speech recognition and translation: the encoder-decoder plus the output projection tied to the embedding.

    ``generate()`` is Whisper's (:mod:`autoload_plugin_whisper.generation`):
    ``language=``, ``task=``, ``return_timestamps=`` build the decoder prompt
    and the timestamp rules, on the host's encoder-decoder generation (encoder
    once, cached decoder).
    """

    _tied_weights_keys = {"proj_out.weight": "model.decoder.embed_tokens.weight"}

    def __init__(self, config: WhisperConfig) -> None:
        super().__init__(config)
        self.model = WhisperModel(config)
        self.proj_out = Linear(config.d_model, config.vocab_size, bias=False)
        self.max_target_positions = config.max_target_positions
        self.post_init()

    def get_output_embeddings(self) -> nn.Module:
        return self.proj_out

    def set_output_embeddings(self, value: nn.Module) -> None:
        self.proj_out = value

    def get_input_embeddings(self) -> nn.Module:
        return self.model.get_input_embeddings()

    def get_encoder(self) -> WhisperEncoder:
        return self.model.encoder

    def get_decoder(self) -> WhisperDecoder:
        return self.model.decoder

    def freeze_encoder(self) -> None:
        self.model.encoder._freeze_parameters()

    def forward(
        self,
        input_features: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        decoder_input_ids: torch.LongTensor | None = None,
        decoder_attention_mask: torch.Tensor | None = None,
        encoder_outputs: Any = None,
        past_key_values: Cache | None = None,
        decoder_inputs_embeds: torch.Tensor | None = None,
        decoder_position_ids: torch.LongTensor | None = None,
        labels: torch.LongTensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        cache_position: torch.LongTensor | None = None,
        cache: Cache | None = None,
        logits_to_keep: int | torch.Tensor = 0,
    ) -> Seq2SeqLMOutput | tuple:
        """``labels`` (-100 where ignored) give the loss; without ``decoder_input_ids`` they are shifted right
        behind ``decoder_start_token_id`` to become the decoder's input (teacher forcing)."""
        if labels is not None:
            if labels.shape[1] > self.max_target_positions:
                raise ValueError(
                    f"labels have {labels.shape[1]} tokens, more than Whisper's decoder can hold "
                    f"(max_target_positions={self.max_target_positions}). Truncate the transcripts."
                )
            if decoder_input_ids is None and decoder_inputs_embeds is None:
                decoder_input_ids = shift_tokens_right(
                    labels, self.config.pad_token_id, self.config.decoder_start_token_id
                )
        outputs = self.model(
            input_features,
            attention_mask=attention_mask,
            decoder_input_ids=decoder_input_ids,
            encoder_outputs=encoder_outputs,
            decoder_attention_mask=decoder_attention_mask,
            past_key_values=past_key_values if past_key_values is not None else cache,
            decoder_inputs_embeds=decoder_inputs_embeds,
            decoder_position_ids=decoder_position_ids,
            use_cache=use_cache,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
            cache_position=cache_position,
        )
        logits = self.proj_out(keep_logits(outputs.last_hidden_state, logits_to_keep))
        loss = _loss(logits, labels)
        output = Seq2SeqLMOutput(
            loss=loss,
            logits=logits,
            past_key_values=outputs.past_key_values,
            decoder_hidden_states=outputs.decoder_hidden_states,
            decoder_attentions=outputs.decoder_attentions,
            cross_attentions=outputs.cross_attentions,
            encoder_last_hidden_state=outputs.encoder_last_hidden_state,
            encoder_hidden_states=outputs.encoder_hidden_states,
            encoder_attentions=outputs.encoder_attentions,
        )
        return output if _flag(return_dict, self.config.return_dict) else output.to_tuple()


class WhisperForAudioClassification(WhisperPreTrainedModel):
    """The encoder, a projection, mean pooling over time and a linear classifier (language ID, keyword spotting).

    With ``use_weighted_layer_sum`` the classifier reads a learned softmax
    mix of every encoder layer's output instead of the last one.
    """

    def __init__(self, config: WhisperConfig) -> None:
        super().__init__(config)
        self.encoder = WhisperEncoder(config)
        num_layers = config.num_hidden_layers + 1  # the layers plus the input embeddings
        if config.use_weighted_layer_sum:
            self.layer_weights = nn.Parameter(torch.ones(num_layers) / num_layers)
        self.projector = Linear(config.d_model, config.classifier_proj_size)
        self.classifier = Linear(config.classifier_proj_size, config.num_labels)
        self.post_init()

    def freeze_encoder(self) -> None:
        self.encoder._freeze_parameters()

    def get_input_embeddings(self) -> nn.Module:
        return self.encoder.get_input_embeddings()

    def forward(
        self,
        input_features: torch.Tensor | None = None,
        encoder_outputs: Any = None,
        labels: torch.LongTensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        attention_mask: torch.Tensor | None = None,
    ) -> SequenceClassifierOutput | tuple:
        weighted = self.config.use_weighted_layer_sum
        encoder_outputs = _encode(
            self.encoder,
            lambda: input_features,
            encoder_outputs,
            output_attentions,
            True if weighted else output_hidden_states,
        )
        if weighted:
            stacked = torch.stack(encoder_outputs.hidden_states, dim=1)
            weights = F.softmax(self.layer_weights, dim=-1)
            hidden_states = (stacked * weights.view(-1, 1, 1)).sum(dim=1)
        else:
            hidden_states = encoder_outputs.last_hidden_state
        pooled = self.projector(hidden_states).mean(dim=1)
        logits = self.classifier(pooled)
        loss = _loss(logits, labels)
        output = SequenceClassifierOutput(
            loss=loss, logits=logits, hidden_states=encoder_outputs.hidden_states, attentions=encoder_outputs.attentions
        )
        return output if _flag(return_dict, self.config.return_dict) else output.to_tuple()


# -- helpers ------------------------------------------------------------------------------------------------------


def _loss(logits: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor | None:
    if labels is None:
        return None
    return cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.to(logits.device).reshape(-1))


def _flag(value: bool | None, default: bool) -> bool:
    return bool(default) if value is None else bool(value)


def _encode(
    encoder: WhisperEncoder,
    features: Any,
    encoder_outputs: Any,
    output_attentions: bool | None,
    output_hidden_states: bool | None,
) -> BaseModelOutput:
    """Run the encoder unless its outputs were given (generation passes them in); always a BaseModelOutput."""
    if encoder_outputs is None:
        input_features = features()
        if input_features is None:
            raise ValueError("Whisper needs input_features (a log-mel spectrogram) or encoder_outputs.")
        return encoder(
            input_features,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
        )
    if isinstance(encoder_outputs, BaseModelOutput):
        return encoder_outputs
    if isinstance(encoder_outputs, torch.Tensor):
        return BaseModelOutput(last_hidden_state=encoder_outputs)
    return BaseModelOutput(
        last_hidden_state=encoder_outputs[0],
        hidden_states=encoder_outputs[1] if len(encoder_outputs) > 1 else None,
        attentions=encoder_outputs[2] if len(encoder_outputs) > 2 else None,
    )


def _random_spans(
    batch: int, length: int, probability: float, span: int, min_spans: int, device: torch.device
) -> torch.Tensor:
    """A (batch, length) boolean mask of random spans of ``span`` steps covering about ``probability`` of them."""
    if span > length:
        raise ValueError(f"SpecAugment span length {span} is longer than the sequence ({length}).")
    count = max(int(probability * length / span + torch.rand([]).item()), min_spans)
    count = min(count, length // span, length - span + 1)
    mask = torch.zeros(batch, length, dtype=torch.bool, device=device)
    if count <= 0:
        return mask
    for row in range(batch):
        starts = torch.randperm(length - span + 1, device=device)[:count]
        for start in starts.tolist():
            mask[row, start : start + span] = True
    return mask


__all__ = [
    "WhisperEncoder",
    "WhisperDecoder",
    "WhisperForAudioClassification",
    "WhisperForConditionalGeneration",
    "WhisperModel",
    "WhisperPreTrainedModel",
    "sinusoids",
]
