"""T5 (Raffel et al., 2020, "Exploring the Limits of Transfer Learning with a Unified Text-to-Text Transformer").

An encoder-decoder transformer with three departures from the original one:

* no position embeddings: each attention layer adds a learned scalar per head
  for the (bucketed) distance between query and key.  Only the first layer of
  each stack owns the bucket table; the bias it computes is passed on to every
  later layer of the stack.
* attention scores are not divided by ``sqrt(d_kv)`` (the initialisation of
  the query projection absorbs it).
* pre-norm residual blocks with a scale-only RMS norm (``T5LayerNorm``) and no
  biases anywhere.

One token embedding (``shared``) feeds encoder and decoder.  When the output
projection is tied to it (original T5), the decoder output is multiplied by
``d_model ** -0.5`` first; v1.1 / Flan-T5 checkpoints untie it and skip that.
Parameter names are transformers', so checkpoints load in both libraries.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import torch
from autoload.generation import Cache, EncoderDecoderCache, GenerationMixin
from autoload.modeling import (
    BaseModelOutput,
    BaseModelOutputWithPastAndCrossAttentions,
    PreTrainedModel,
    Seq2SeqLMOutput,
    Seq2SeqModelOutput,
)
from autoload.modeling.layers import (
    Linear,
    T5RMSNorm,
    attention,
    attention_implementation,
    bidirectional_mask,
    causal_mask,
    cross_entropy,
    decoder_inputs,
    dropout,
    get_activation,
    require_one_input,
    shift_tokens_right,
)
from torch import nn

from autoload_plugin_t5.configuration import T5Config


class T5LayerNorm(T5RMSNorm):
    """Scale-only RMS norm (no mean subtraction, no bias), variance in float32: the host's T5 numerics."""


class T5DenseActDense(nn.Module):
    """``wo(act(wi(x)))``: the original T5 feed-forward block."""

    def __init__(self, config: T5Config) -> None:
        super().__init__()
        self.wi = Linear(config.d_model, config.d_ff, bias=False)
        self.wo = Linear(config.d_ff, config.d_model, bias=False)
        self.dropout = nn.Dropout(config.dropout_rate)
        self.act = get_activation(config.dense_act_fn, owner="T5Config.feed_forward_proj")

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        hidden_states = dropout(self.act(self.wi(hidden_states)), self.dropout.p, self.training)
        return self.wo(hidden_states.to(self.wo.weight.dtype))


class T5DenseGatedActDense(nn.Module):
    """``wo(act(wi_0(x)) * wi_1(x))``: the gated feed-forward block of T5 v1.1."""

    def __init__(self, config: T5Config) -> None:
        super().__init__()
        self.wi_0 = Linear(config.d_model, config.d_ff, bias=False)
        self.wi_1 = Linear(config.d_model, config.d_ff, bias=False)
        self.wo = Linear(config.d_ff, config.d_model, bias=False)
        self.dropout = nn.Dropout(config.dropout_rate)
        self.act = get_activation(config.dense_act_fn, owner="T5Config.feed_forward_proj")

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        hidden_states = dropout(
            self.act(self.wi_0(hidden_states)) * self.wi_1(hidden_states), self.dropout.p, self.training
        )
        return self.wo(hidden_states.to(self.wo.weight.dtype))


class T5LayerFF(nn.Module):
    def __init__(self, config: T5Config) -> None:
        super().__init__()
        self.DenseReluDense = T5DenseGatedActDense(config) if config.is_gated_act else T5DenseActDense(config)
        self.layer_norm = T5LayerNorm(config.d_model, eps=config.layer_norm_epsilon)
        self.dropout = nn.Dropout(config.dropout_rate)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        output = self.DenseReluDense(self.layer_norm(hidden_states))
        return hidden_states + dropout(output, self.dropout.p, self.training)


def relative_position_bucket(
    relative_position: torch.Tensor, bidirectional: bool = True, num_buckets: int = 32, max_distance: int = 128
) -> torch.Tensor:
    """Map ``key_position - query_position`` to a bucket index.

    Half the buckets (all of them for a causal decoder, which only looks
    back) hold exact small distances; the rest cover distances up to
    ``max_distance`` on a log scale, and everything farther shares the last
    bucket.  A bidirectional encoder spends separate buckets on keys ahead.
    """
    buckets = torch.zeros_like(relative_position)
    if bidirectional:
        num_buckets //= 2
        buckets = buckets + (relative_position > 0).to(torch.long) * num_buckets
        distance = relative_position.abs()
    else:
        distance = -torch.min(relative_position, torch.zeros_like(relative_position))
    max_exact = num_buckets // 2
    is_small = distance < max_exact
    log_bucket = max_exact + (
        torch.log(distance.float() / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact)
    ).to(torch.long)
    log_bucket = torch.min(log_bucket, torch.full_like(log_bucket, num_buckets - 1))
    return buckets + torch.where(is_small, distance, log_bucket)


class T5Attention(nn.Module):
    """Unscaled multi-head attention with an additive relative-position bias.

    ``has_relative_attention_bias`` is true for the first layer of a stack,
    which computes the bias; later layers receive it as ``position_bias``.
    Cross-attention has no bias of its own (a zero bias is passed along).
    """

    def __init__(self, config: T5Config, has_relative_attention_bias: bool = False, layer_idx: int | None = None):
        super().__init__()
        self.config = config
        self.is_decoder = config.is_decoder
        self.has_relative_attention_bias = has_relative_attention_bias
        self.relative_attention_num_buckets = config.relative_attention_num_buckets
        self.relative_attention_max_distance = config.relative_attention_max_distance
        self.d_model = config.d_model
        self.key_value_proj_dim = config.d_kv
        self.n_heads = config.num_heads
        self.dropout = config.dropout_rate
        self.inner_dim = self.n_heads * self.key_value_proj_dim
        self.layer_idx = layer_idx
        self.q = Linear(self.d_model, self.inner_dim, bias=False)
        self.k = Linear(self.d_model, self.inner_dim, bias=False)
        self.v = Linear(self.d_model, self.inner_dim, bias=False)
        self.o = Linear(self.inner_dim, self.d_model, bias=False)
        if has_relative_attention_bias:
            self.relative_attention_bias = nn.Embedding(self.relative_attention_num_buckets, self.n_heads)

    def compute_bias(
        self, query_length: int, key_length: int, device: torch.device | None = None, past_length: int = 0
    ) -> torch.Tensor:
        """``(1, heads, query_length, key_length)`` bias for queries starting at ``past_length``."""
        device = self.relative_attention_bias.weight.device if device is None else device
        query_position = torch.arange(query_length, dtype=torch.long, device=device)[:, None] + past_length
        key_position = torch.arange(key_length, dtype=torch.long, device=device)[None, :]
        buckets = relative_position_bucket(
            key_position - query_position,
            bidirectional=not self.is_decoder,
            num_buckets=self.relative_attention_num_buckets,
            max_distance=self.relative_attention_max_distance,
        )
        # Contiguous once here, rather than copied again by every layer that adds it to its scores.
        return self.relative_attention_bias(buckets).permute(2, 0, 1).unsqueeze(0).contiguous()

    def _heads(self, states: torch.Tensor) -> torch.Tensor:
        batch, length, _ = states.shape
        return states.view(batch, length, self.n_heads, self.key_value_proj_dim).transpose(1, 2)

    def forward(
        self,
        hidden_states: torch.Tensor,
        mask: torch.Tensor | None = None,
        key_value_states: torch.Tensor | None = None,
        position_bias: torch.Tensor | None = None,
        past_key_values: Cache | None = None,
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        batch, query_length = hidden_states.shape[:2]
        is_cross = key_value_states is not None
        past_length = past_key_values.get_seq_length(self.layer_idx) if past_key_values is not None else 0
        query = self._heads(self.q(hidden_states))
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
            key, value = self._heads(self.k(source)), self._heads(self.v(source))
            if cache is not None:
                key, value = cache.update(key, value, self.layer_idx)
        if position_bias is None:
            key_length = key.shape[-2]
            if self.has_relative_attention_bias:
                position_bias = self.compute_bias(query_length, key_length, query.device, past_length)
            else:
                position_bias = torch.zeros(
                    (1, self.n_heads, query_length, key_length), device=query.device, dtype=query.dtype
                )
                if self.training:
                    position_bias.requires_grad = True
        output, weights = attention(
            query,
            key,
            value,
            mask,
            implementation=attention_implementation(self.config, output_attentions),
            scaling=1.0,  # T5 does not scale scores: the query initialisation accounts for it
            dropout=self.dropout if self.training else 0.0,
            is_causal=self.is_decoder and not is_cross,
            position_bias=position_bias,
        )
        output = self.o(output.reshape(batch, query_length, self.inner_dim))
        return output, position_bias, weights


class T5LayerSelfAttention(nn.Module):
    def __init__(self, config: T5Config, has_relative_attention_bias: bool = False, layer_idx: int | None = None):
        super().__init__()
        self.SelfAttention = T5Attention(config, has_relative_attention_bias, layer_idx)
        self.layer_norm = T5LayerNorm(config.d_model, eps=config.layer_norm_epsilon)
        self.dropout = nn.Dropout(config.dropout_rate)

    def forward(self, hidden_states, attention_mask=None, position_bias=None, past_key_values=None, **kwargs):
        output, position_bias, weights = self.SelfAttention(
            self.layer_norm(hidden_states),
            mask=attention_mask,
            position_bias=position_bias,
            past_key_values=past_key_values,
            **kwargs,
        )
        return hidden_states + dropout(output, self.dropout.p, self.training), position_bias, weights


class T5LayerCrossAttention(nn.Module):
    def __init__(self, config: T5Config, layer_idx: int | None = None) -> None:
        super().__init__()
        self.EncDecAttention = T5Attention(config, has_relative_attention_bias=False, layer_idx=layer_idx)
        self.layer_norm = T5LayerNorm(config.d_model, eps=config.layer_norm_epsilon)
        self.dropout = nn.Dropout(config.dropout_rate)

    def forward(
        self, hidden_states, key_value_states, attention_mask=None, position_bias=None, past_key_values=None, **kwargs
    ):
        output, position_bias, weights = self.EncDecAttention(
            self.layer_norm(hidden_states),
            mask=attention_mask,
            key_value_states=key_value_states,
            position_bias=position_bias,
            past_key_values=past_key_values,
            **kwargs,
        )
        return hidden_states + dropout(output, self.dropout.p, self.training), position_bias, weights


def _clamp_half(hidden_states: torch.Tensor) -> torch.Tensor:
    """Keep float16 activations finite: T5's residual stream grows past float16's range in large checkpoints."""
    if hidden_states.dtype != torch.float16:
        return hidden_states
    largest = torch.finfo(hidden_states.dtype).max
    limit = torch.where(torch.isinf(hidden_states).any(), largest - 1000, largest)
    return torch.clamp(hidden_states, min=-limit, max=limit)


class T5Block(nn.Module):
    """Self-attention, cross-attention (decoder only) and feed-forward, in ``layer[0..2]``."""

    def __init__(self, config: T5Config, has_relative_attention_bias: bool = False, layer_idx: int | None = None):
        super().__init__()
        self.is_decoder = config.is_decoder
        self.layer = nn.ModuleList([T5LayerSelfAttention(config, has_relative_attention_bias, layer_idx)])
        if self.is_decoder:
            self.layer.append(T5LayerCrossAttention(config, layer_idx))
        self.layer.append(T5LayerFF(config))

    def forward(
        self,
        hidden_states,
        attention_mask=None,
        position_bias=None,
        encoder_hidden_states=None,
        encoder_attention_mask=None,
        encoder_decoder_position_bias=None,
        past_key_values=None,
        output_attentions=False,
    ):
        hidden_states, position_bias, self_weights = self.layer[0](
            hidden_states,
            attention_mask=attention_mask,
            position_bias=position_bias,
            past_key_values=past_key_values,
            output_attentions=output_attentions,
        )
        hidden_states = _clamp_half(hidden_states)
        cross_weights = None
        if self.is_decoder and encoder_hidden_states is not None:
            hidden_states, encoder_decoder_position_bias, cross_weights = self.layer[1](
                hidden_states,
                key_value_states=encoder_hidden_states,
                attention_mask=encoder_attention_mask,
                position_bias=encoder_decoder_position_bias,
                past_key_values=past_key_values,
                output_attentions=output_attentions,
            )
            hidden_states = _clamp_half(hidden_states)
        hidden_states = _clamp_half(self.layer[-1](hidden_states))
        return hidden_states, position_bias, encoder_decoder_position_bias, self_weights, cross_weights


class T5PreTrainedModel(PreTrainedModel):
    config_class = T5Config
    base_model_prefix = "transformer"
    main_input_name = "input_ids"
    _no_split_modules = ["T5Block"]  # device_map="auto" keeps a block on one device

    def _init_weights(self, module: nn.Module) -> None:
        """T5's initialisation: variances scaled by fan-in (``initializer_factor`` multiplies them all)."""
        factor = self.config.initializer_factor
        d_model, d_kv, d_ff = self.config.d_model, self.config.d_kv, self.config.d_ff
        if isinstance(module, T5LayerNorm):
            nn.init.constant_(module.weight, factor)
        elif isinstance(module, (T5Model, T5ForConditionalGeneration, T5EncoderModel)):
            nn.init.normal_(module.shared.weight, mean=0.0, std=factor)
            lm_head = getattr(module, "lm_head", None)
            if lm_head is not None and lm_head.weight is not module.shared.weight:
                nn.init.normal_(lm_head.weight, mean=0.0, std=factor)
        elif isinstance(module, T5DenseActDense):
            nn.init.normal_(module.wi.weight, mean=0.0, std=factor * d_model**-0.5)
            nn.init.normal_(module.wo.weight, mean=0.0, std=factor * d_ff**-0.5)
        elif isinstance(module, T5DenseGatedActDense):
            nn.init.normal_(module.wi_0.weight, mean=0.0, std=factor * d_model**-0.5)
            nn.init.normal_(module.wi_1.weight, mean=0.0, std=factor * d_model**-0.5)
            nn.init.normal_(module.wo.weight, mean=0.0, std=factor * d_ff**-0.5)
        elif isinstance(module, T5Attention):
            heads = self.config.num_heads
            nn.init.normal_(module.q.weight, mean=0.0, std=factor * (d_model * d_kv) ** -0.5)
            nn.init.normal_(module.k.weight, mean=0.0, std=factor * d_model**-0.5)
            nn.init.normal_(module.v.weight, mean=0.0, std=factor * d_model**-0.5)
            nn.init.normal_(module.o.weight, mean=0.0, std=factor * (heads * d_kv) ** -0.5)
            if module.has_relative_attention_bias:
                nn.init.normal_(module.relative_attention_bias.weight, mean=0.0, std=factor * d_model**-0.5)

    def _shift_right(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Labels -> decoder inputs: prepend ``decoder_start_token_id``, drop the last token, -100 -> pad."""
        return shift_tokens_right(input_ids, self.config.pad_token_id, self.config.decoder_start_token_id)


class T5Stack(nn.Module):
    """The encoder or (``config.is_decoder``) the decoder: blocks, final norm, dropout.

    ``embed_tokens`` is the model's shared embedding module, so the three
    names (``shared``, ``encoder.embed_tokens``, ``decoder.embed_tokens``)
    are one parameter, saved once as ``shared.weight``.
    """

    main_input_name = "input_ids"

    def __init__(self, config: T5Config, embed_tokens: nn.Embedding) -> None:
        super().__init__()
        self.config = config
        self.embed_tokens = embed_tokens
        self.is_decoder = config.is_decoder
        self.block = nn.ModuleList(
            [
                T5Block(config, has_relative_attention_bias=index == 0, layer_idx=index)
                for index in range(config.num_layers)
            ]
        )
        self.final_layer_norm = T5LayerNorm(config.d_model, eps=config.layer_norm_epsilon)
        self.dropout = nn.Dropout(config.dropout_rate)

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        encoder_hidden_states: torch.Tensor | None = None,
        encoder_attention_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        past_key_values: Cache | None = None,
        use_cache: bool | None = None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
        cache_position: torch.LongTensor | None = None,
        return_dict: bool | None = None,
    ) -> BaseModelOutputWithPastAndCrossAttentions | tuple:
        if use_cache and not self.is_decoder:
            raise ValueError("use_cache=True only applies to the T5 decoder; the encoder runs once.")
        step = None
        if self.is_decoder:
            step = decoder_inputs(
                self,
                input_ids,
                inputs_embeds,
                past_key_values=past_key_values,
                use_cache=use_cache,
                cache_position=cache_position,
                cross_attention=True,
            )
        else:
            require_one_input(input_ids, inputs_embeds, "The T5 encoder")
        past_key_values = step.cache if step is not None else None
        if inputs_embeds is None:
            inputs_embeds = self.embed_tokens(input_ids)
        batch, length = inputs_embeds.shape[:2]
        implementation = attention_implementation(self.config, output_attentions)
        if step is not None:
            mask = causal_mask(
                implementation,
                batch_size=batch,
                query_length=length,
                kv_length=step.kv_length,
                query_offset=step.cache_position,
                kv_offset=step.kv_offset,
                attention_mask=attention_mask,
                dtype=inputs_embeds.dtype,
                device=inputs_embeds.device,
            )
        else:
            mask = bidirectional_mask(
                implementation,
                batch_size=batch,
                query_length=length,
                kv_length=length,
                attention_mask=attention_mask,
                dtype=inputs_embeds.dtype,
                device=inputs_embeds.device,
            )
        cross_mask = None
        if self.is_decoder and encoder_hidden_states is not None:
            cross_mask = bidirectional_mask(
                implementation,
                batch_size=batch,
                query_length=length,
                kv_length=encoder_hidden_states.shape[1],
                attention_mask=encoder_attention_mask,
                dtype=inputs_embeds.dtype,
                device=inputs_embeds.device,
                what="encoder attention_mask",
            )

        position_bias = cross_bias = None
        all_hidden: list[torch.Tensor] = []
        self_attentions: list[torch.Tensor | None] = []
        cross_attentions: list[torch.Tensor | None] = []
        hidden_states = dropout(inputs_embeds, self.dropout.p, self.training)
        for block in self.block:
            if output_hidden_states:
                all_hidden.append(hidden_states)
            hidden_states, position_bias, cross_bias, self_weights, cross_weights = block(
                hidden_states,
                mask,
                position_bias,
                encoder_hidden_states,
                cross_mask,
                cross_bias,
                past_key_values=past_key_values,
                output_attentions=output_attentions,
            )
            if output_attentions:
                self_attentions.append(self_weights)
                cross_attentions.append(cross_weights)
        hidden_states = dropout(self.final_layer_norm(hidden_states), self.dropout.p, self.training)
        if output_hidden_states:
            all_hidden.append(hidden_states)
        output = BaseModelOutputWithPastAndCrossAttentions(
            last_hidden_state=hidden_states,
            past_key_values=step.returned_cache if step is not None else None,
            hidden_states=tuple(all_hidden) if output_hidden_states else None,
            attentions=tuple(self_attentions) if output_attentions else None,
            cross_attentions=tuple(cross_attentions)
            if output_attentions and self.is_decoder and encoder_hidden_states is not None
            else None,
        )
        return output if return_dict is None or return_dict else output.to_tuple()


def _stack_configs(config: T5Config) -> tuple[T5Config, T5Config]:
    encoder_config = copy.deepcopy(config)
    encoder_config.is_decoder = False
    encoder_config.use_cache = False
    decoder_config = copy.deepcopy(config)
    decoder_config.is_decoder = True
    decoder_config.num_layers = config.num_decoder_layers
    return encoder_config, decoder_config


class _T5EncoderDecoder(T5PreTrainedModel):
    """What T5Model and T5ForConditionalGeneration share: the embedding, both stacks and the encoder pass."""

    _keys_to_ignore_on_load_unexpected = [r"decoder\.block\.0\.layer\.1\.EncDecAttention\.relative_attention_bias"]

    def _build(self, config: T5Config) -> None:
        self.shared = nn.Embedding(config.vocab_size, config.d_model)
        encoder_config, decoder_config = _stack_configs(config)
        self.encoder = T5Stack(encoder_config, self.shared)
        self.decoder = T5Stack(decoder_config, self.shared)

    def get_input_embeddings(self) -> nn.Module:
        return self.shared

    def set_input_embeddings(self, value: nn.Module) -> None:
        self.shared = value
        self.encoder.embed_tokens = value
        self.decoder.embed_tokens = value

    def get_encoder(self) -> T5Stack:
        return self.encoder

    def get_decoder(self) -> T5Stack:
        return self.decoder

    def _run(
        self,
        input_ids,
        attention_mask,
        decoder_input_ids,
        decoder_attention_mask,
        encoder_outputs,
        past_key_values,
        inputs_embeds,
        decoder_inputs_embeds,
        use_cache,
        output_attentions,
        output_hidden_states,
        cache_position,
    ) -> tuple[BaseModelOutput, BaseModelOutputWithPastAndCrossAttentions]:
        output_attentions = _flag(output_attentions, self.config.output_attentions)
        output_hidden_states = _flag(output_hidden_states, self.config.output_hidden_states)
        use_cache = _flag(use_cache, self.config.use_cache)
        if encoder_outputs is None:
            encoded = self.encoder(
                input_ids=input_ids,
                attention_mask=attention_mask,
                inputs_embeds=inputs_embeds,
                output_attentions=output_attentions,
                output_hidden_states=output_hidden_states,
            )
            encoder_outputs = BaseModelOutput(
                last_hidden_state=encoded.last_hidden_state,
                hidden_states=encoded.hidden_states,
                attentions=encoded.attentions,
            )
        else:
            encoder_outputs = _as_encoder_output(encoder_outputs)
        decoder_outputs = self.decoder(
            input_ids=decoder_input_ids,
            attention_mask=decoder_attention_mask,
            inputs_embeds=decoder_inputs_embeds,
            past_key_values=past_key_values,
            encoder_hidden_states=encoder_outputs.last_hidden_state,
            encoder_attention_mask=attention_mask,
            use_cache=use_cache,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            cache_position=cache_position,
        )
        return encoder_outputs, decoder_outputs


class T5Model(_T5EncoderDecoder):
    """The bare encoder-decoder: ``last_hidden_state`` is the decoder's final (normed) output."""

    def __init__(self, config: T5Config) -> None:
        super().__init__(config)
        self._build(config)
        self.post_init()

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        decoder_input_ids: torch.LongTensor | None = None,
        decoder_attention_mask: torch.Tensor | None = None,
        encoder_outputs: Any = None,
        past_key_values: Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        decoder_inputs_embeds: torch.Tensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        cache_position: torch.LongTensor | None = None,
        cache: Cache | None = None,
    ) -> Seq2SeqModelOutput | tuple:
        encoder_outputs, decoder_outputs = self._run(
            input_ids,
            attention_mask,
            decoder_input_ids,
            decoder_attention_mask,
            encoder_outputs,
            past_key_values if past_key_values is not None else cache,
            inputs_embeds,
            decoder_inputs_embeds,
            use_cache,
            output_attentions,
            output_hidden_states,
            cache_position,
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


class T5ForConditionalGeneration(_T5EncoderDecoder, GenerationMixin):
    """Text-to-text generation: the encoder-decoder plus the language-model head.

    ``labels`` (-100 where ignored) give the loss; without
    ``decoder_input_ids`` they are shifted right behind
    ``decoder_start_token_id`` (the pad token) to become the decoder's input.
    """

    _tied_weights_keys = {"lm_head.weight": "shared.weight"}

    def __init__(self, config: T5Config) -> None:
        super().__init__(config)
        self.model_dim = config.d_model
        self._build(config)
        self.lm_head = Linear(config.d_model, config.vocab_size, bias=False)
        self.post_init()

    def get_output_embeddings(self) -> nn.Module:
        return self.lm_head

    def set_output_embeddings(self, value: nn.Module) -> None:
        self.lm_head = value

    def prepare_decoder_input_ids_from_labels(self, labels: torch.Tensor) -> torch.Tensor:
        return self._shift_right(labels)

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        decoder_input_ids: torch.LongTensor | None = None,
        decoder_attention_mask: torch.Tensor | None = None,
        encoder_outputs: Any = None,
        past_key_values: Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        decoder_inputs_embeds: torch.Tensor | None = None,
        labels: torch.LongTensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        cache_position: torch.LongTensor | None = None,
        cache: Cache | None = None,
        logits_to_keep: int | torch.Tensor = 0,
    ) -> Seq2SeqLMOutput | tuple:
        if labels is not None and decoder_input_ids is None and decoder_inputs_embeds is None:
            decoder_input_ids = self._shift_right(labels)
        encoder_outputs, decoder_outputs = self._run(
            input_ids,
            attention_mask,
            decoder_input_ids,
            decoder_attention_mask,
            encoder_outputs,
            past_key_values if past_key_values is not None else cache,
            inputs_embeds,
            decoder_inputs_embeds,
            use_cache,
            output_attentions,
            output_hidden_states,
            cache_position,
        )
        sequence_output = decoder_outputs.last_hidden_state
        if isinstance(logits_to_keep, int) and logits_to_keep > 0:
            sequence_output = sequence_output[:, -logits_to_keep:]
        elif isinstance(logits_to_keep, torch.Tensor):
            sequence_output = sequence_output[:, logits_to_keep]
        if self.config.scale_decoder_outputs:
            # a tied head reuses the input embedding, whose scale is ~1 per entry: bring the output to it
            sequence_output = sequence_output * (self.model_dim**-0.5)
        logits = self.lm_head(sequence_output)
        loss = (
            None
            if labels is None
            else cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.to(logits.device).reshape(-1))
        )
        output = Seq2SeqLMOutput(
            loss=loss,
            logits=logits,
            past_key_values=decoder_outputs.past_key_values,
            decoder_hidden_states=decoder_outputs.hidden_states,
            decoder_attentions=decoder_outputs.attentions,
            cross_attentions=decoder_outputs.cross_attentions,
            encoder_last_hidden_state=encoder_outputs.last_hidden_state,
            encoder_hidden_states=encoder_outputs.hidden_states,
            encoder_attentions=encoder_outputs.attentions,
        )
        return output if _flag(return_dict, self.config.return_dict) else output.to_tuple()


class T5EncoderModel(T5PreTrainedModel):
    """The encoder alone, for text embeddings (e.g. the text encoder of diffusion models)."""

    _keys_to_ignore_on_load_unexpected = [r"^decoder\.", r"^lm_head\."]

    def __init__(self, config: T5Config) -> None:
        super().__init__(config)
        self.shared = nn.Embedding(config.vocab_size, config.d_model)
        encoder_config, _ = _stack_configs(config)
        self.encoder = T5Stack(encoder_config, self.shared)
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        return self.shared

    def set_input_embeddings(self, value: nn.Module) -> None:
        self.shared = value
        self.encoder.embed_tokens = value

    def get_encoder(self) -> T5Stack:
        return self.encoder

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> BaseModelOutput | tuple:
        encoded = self.encoder(
            input_ids=input_ids,
            attention_mask=attention_mask,
            inputs_embeds=inputs_embeds,
            output_attentions=_flag(output_attentions, self.config.output_attentions),
            output_hidden_states=_flag(output_hidden_states, self.config.output_hidden_states),
        )
        output = BaseModelOutput(
            last_hidden_state=encoded.last_hidden_state,
            hidden_states=encoded.hidden_states,
            attentions=encoded.attentions,
        )
        return output if _flag(return_dict, self.config.return_dict) else output.to_tuple()


def _flag(value: bool | None, default: bool) -> bool:
    return bool(default) if value is None else bool(value)


def _as_encoder_output(encoder_outputs: Any) -> BaseModelOutput:
    if isinstance(encoder_outputs, BaseModelOutput):
        return encoder_outputs
    if isinstance(encoder_outputs, torch.Tensor):
        return BaseModelOutput(last_hidden_state=encoder_outputs)
    if hasattr(encoder_outputs, "last_hidden_state"):
        return BaseModelOutput(
            last_hidden_state=encoder_outputs.last_hidden_state,
            hidden_states=getattr(encoder_outputs, "hidden_states", None),
            attentions=getattr(encoder_outputs, "attentions", None),
        )
    return BaseModelOutput(
        last_hidden_state=encoder_outputs[0],
        hidden_states=encoder_outputs[1] if len(encoder_outputs) > 1 else None,
        attentions=encoder_outputs[2] if len(encoder_outputs) > 2 else None,
    )


__all__ = [
    "T5EncoderModel",
    "T5ForConditionalGeneration",
    "T5Model",
    "T5PreTrainedModel",
    "T5Stack",
    "relative_position_bucket",
]
