"""GPT-2 (Radford et al., 2019) in plain PyTorch, with its task heads.

Read top to bottom, this file is the model:

1. **Embeddings.** A token's vector is its word embedding (``wte``) plus a
   learned absolute position embedding (``wpe``).  Optional ``token_type_ids``
   are looked up in the *word* embedding table and added too, as OpenAI's code
   did.
2. **Blocks.** ``n_layer`` pre-LayerNorm blocks: LayerNorm, causal multi-head
   self-attention, residual; (with ``add_cross_attention``) LayerNorm,
   attention over an encoder's states, residual; LayerNorm, a two-layer MLP,
   residual.  A final LayerNorm (``ln_f``) closes the stack.
3. **Heads.** The language-model head is a bias-free projection onto the
   vocabulary, tied to ``wte``; the classification heads read the last real
   token (sequence classification), every token (token classification) or
   predict answer spans (question answering).

GPT-2's projections are ``Conv1D`` layers: linear layers whose weight is
stored as ``(in_features, out_features)``, the transpose of ``nn.Linear``.
Module and parameter names, and that layout, are those of the transformers
implementation, so the same ``model.safetensors`` loads in both libraries.

Attention goes through the host's dispatch (``config._attn_implementation``,
``"sdpa"`` by default or ``"eager"``); a call asking for
``output_attentions=True`` runs eagerly so the probabilities exist.  With
``reorder_and_upcast_attn`` the eager path computes the scores in float32 with
the scale folded into the product (what transformers does; SDPA ignores the
flag there too).  Decoding keeps keys and values in a host ``Cache``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import torch
from autoload import ConfigError
from autoload.generation import Cache, EncoderDecoderCache, GenerationMixin
from autoload.modeling import (
    BaseModelOutputWithPastAndCrossAttentions,
    CausalLMOutputWithCrossAttentions,
    ModelOutput,
    PreTrainedModel,
    QuestionAnsweringModelOutput,
    SequenceClassifierOutputWithPast,
    TokenClassifierOutput,
)
from autoload.modeling.layers import (
    Linear,
    attention,
    attention_implementation,
    bidirectional_mask,
    causal_lm_loss,
    causal_mask,
    decoder_inputs,
    dropout,
    get_activation,
    keep_logits,
    last_token_logits,
    linear,
    one_cache,
    output_flags,
    run_layer,
    sequence_classification_loss,
    span_loss,
    token_classification_loss,
)
from torch import nn

from autoload_plugin_gpt2.configuration import GPT2Config

logger = logging.getLogger(__name__)

Tensor = torch.Tensor


def _check_config(config: GPT2Config) -> None:
    """Refuse configs the model would otherwise compute wrongly or fail on obscurely."""
    if config.n_embd % config.n_head != 0:
        raise ConfigError(
            f"GPT2Config: n_embd ({config.n_embd}) must be a multiple of n_head ({config.n_head}), "
            "since each head gets an equal slice of the hidden vector."
        )
    get_activation(config.activation_function, owner="GPT2Config.activation_function")


class Conv1D(nn.Module):
    """A linear layer whose weight is stored ``(in_features, out_features)``.

    OpenAI's TensorFlow code wrote its projections as 1x1 convolutions, and the
    checkpoints kept that layout; keeping it here (rather than transposing on
    load) is what lets the same file load in both libraries unchanged.
    """

    #: Tells the host's tensor-parallel styles that the weight is stored (in_features, out_features).
    weight_layout = "in_out"

    def __init__(self, out_features: int, in_features: int, *, residual_projection: bool = False) -> None:
        super().__init__()
        self.nf = out_features
        self.weight = nn.Parameter(torch.empty(in_features, out_features))
        self.bias = nn.Parameter(torch.empty(out_features))
        # GPT-2 initialises the projections that feed the residual stream with a
        # smaller spread (1/sqrt(2 * n_layer)); see GPT2PreTrainedModel._init_weights.
        self.residual_projection = residual_projection

    def forward(self, x: Tensor) -> Tensor:
        # The transposed view is an (out, in) weight in column order: the same product as addmm(bias, x, weight).
        return linear(x, self.weight.t(), self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.weight.shape[0]}, out_features={self.nf}"


def _split_heads(states: Tensor, head_dim: int) -> Tensor:
    """(batch, length, heads * head_dim) -> (batch, heads, length, head_dim)."""
    return states.view(*states.shape[:-1], -1, head_dim).transpose(1, 2)


class GPT2Attention(nn.Module):
    """Multi-head attention: causal self-attention, or (``is_cross_attention``) attention over encoder states."""

    def __init__(self, config: GPT2Config, is_cross_attention: bool = False, layer_idx: int | None = None) -> None:
        super().__init__()
        self.config = config
        self.embed_dim = config.hidden_size
        self.num_heads = config.num_attention_heads
        self.head_dim = self.embed_dim // self.num_heads
        self.is_cross_attention = is_cross_attention
        self.is_causal = not is_cross_attention
        self.layer_idx = layer_idx
        self.reorder_and_upcast_attn = config.reorder_and_upcast_attn

        self.scaling = self.head_dim**-0.5 if config.scale_attn_weights else 1.0
        if config.scale_attn_by_inverse_layer_idx:
            self.scaling /= float((layer_idx or 0) + 1)

        if is_cross_attention:
            self.c_attn = Conv1D(2 * self.embed_dim, self.embed_dim)
            self.q_attn = Conv1D(self.embed_dim, self.embed_dim)
        else:
            self.c_attn = Conv1D(3 * self.embed_dim, self.embed_dim)
        self.c_proj = Conv1D(self.embed_dim, self.embed_dim, residual_projection=True)
        self.attn_dropout = nn.Dropout(config.attn_pdrop)
        self.resid_dropout = nn.Dropout(config.resid_pdrop)

    def _keys_and_values(
        self, hidden_states: Tensor, encoder_hidden_states: Tensor | None, cache: Cache | None
    ) -> tuple[Tensor, Tensor, Tensor]:
        if not self.is_cross_attention:
            # chunk, not split by width: a tensor-parallel rank holds [q_r | k_r | v_r] of a third each.
            query, key, value = self.c_attn(hidden_states).chunk(3, dim=2)
            key, value = _split_heads(key, self.head_dim), _split_heads(value, self.head_dim)
            if cache is not None:
                self_cache = cache.self_attention_cache if isinstance(cache, EncoderDecoderCache) else cache
                key, value = self_cache.update(key, value, self.layer_idx)
            return _split_heads(query, self.head_dim), key, value

        query = _split_heads(self.q_attn(hidden_states), self.head_dim)
        # Encoder states do not change while decoding: their keys and values are
        # computed on the first step and read back from the cache afterwards.
        cross_cache = cache.cross_attention_cache if isinstance(cache, EncoderDecoderCache) else None
        if cross_cache is not None and cache.is_updated.get(self.layer_idx, False):
            layer = cross_cache.layers[self.layer_idx]
            return query, layer.keys, layer.values
        key, value = self.c_attn(encoder_hidden_states).chunk(2, dim=2)
        key, value = _split_heads(key, self.head_dim), _split_heads(value, self.head_dim)
        if cross_cache is not None:
            key, value = cross_cache.update(key, value, self.layer_idx)
            cache.is_updated[self.layer_idx] = True
        return query, key, value

    def _upcast_and_reordered_attention(
        self, query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None
    ) -> tuple[Tensor, Tensor]:
        """Eager attention with scores and softmax in float32, the scale applied inside the product."""
        batch, heads, query_length, head_dim = query.shape
        key_length = key.shape[-2]
        with torch.autocast(query.device.type, enabled=False):
            flat_query = query.reshape(-1, query_length, head_dim).float()
            flat_keys = key.transpose(-1, -2).reshape(-1, head_dim, key_length).float()
            scores = torch.empty(batch * heads, query_length, key_length, dtype=torch.float32, device=query.device)
            scores = torch.baddbmm(scores, flat_query, flat_keys, beta=0, alpha=self.scaling)
            scores = scores.view(batch, heads, query_length, key_length)
        if mask is not None:
            scores = scores + mask
        weights = nn.functional.softmax(scores, dim=-1).to(value.dtype)
        weights = self.attn_dropout(weights)
        return torch.matmul(weights, value).transpose(1, 2), weights

    def forward(
        self,
        hidden_states: Tensor,
        attention_mask: Tensor | None = None,
        cache: Cache | None = None,
        encoder_hidden_states: Tensor | None = None,
        implementation: str = "sdpa",
    ) -> tuple[Tensor, Tensor | None]:
        query, key, value = self._keys_and_values(hidden_states, encoder_hidden_states, cache)
        if implementation == "eager" and self.reorder_and_upcast_attn:
            output, weights = self._upcast_and_reordered_attention(query, key, value, attention_mask)
        else:
            # GPT-2 takes the eager softmax in the activations' dtype (no float32 upcast).
            output, weights = attention(
                query,
                key,
                value,
                attention_mask,
                implementation=implementation,
                scaling=self.scaling,
                dropout=self.attn_dropout.p if self.training else 0.0,
                is_causal=self.is_causal,
                softmax_in_float32=False,
            )
        output = output.reshape(*output.shape[:-2], -1)
        return dropout(self.c_proj(output), self.resid_dropout.p, self.training), weights


class GPT2MLP(nn.Module):
    """The feed-forward network of a block: widen, activate, project back."""

    def __init__(self, intermediate_size: int, config: GPT2Config) -> None:
        super().__init__()
        self.c_fc = Conv1D(intermediate_size, config.hidden_size)
        self.c_proj = Conv1D(config.hidden_size, intermediate_size, residual_projection=True)
        self.act = get_activation(config.activation_function, owner="GPT2Config.activation_function")
        self.dropout = nn.Dropout(config.resid_pdrop)

    def forward(self, hidden_states: Tensor) -> Tensor:
        return dropout(self.c_proj(self.act(self.c_fc(hidden_states))), self.dropout.p, self.training)


class GPT2Block(nn.Module):
    """One pre-LayerNorm transformer block."""

    #: Tensor parallelism (autoload.modeling.tensor_parallel): heads and the MLP's width split across ranks.
    _tp_plan = {
        "attn.c_attn": "packed_colwise:3",
        "attn.c_proj": "rowwise",
        "mlp.c_fc": "colwise",
        "mlp.c_proj": "rowwise",
    }

    def __init__(self, config: GPT2Config, layer_idx: int | None = None) -> None:
        super().__init__()
        hidden_size = config.hidden_size
        inner_dim = config.n_inner if config.n_inner is not None else 4 * hidden_size
        self.ln_1 = nn.LayerNorm(hidden_size, eps=config.layer_norm_epsilon)
        self.attn = GPT2Attention(config, layer_idx=layer_idx)
        self.ln_2 = nn.LayerNorm(hidden_size, eps=config.layer_norm_epsilon)
        if config.add_cross_attention:
            self.crossattention = GPT2Attention(config, is_cross_attention=True, layer_idx=layer_idx)
            self.ln_cross_attn = nn.LayerNorm(hidden_size, eps=config.layer_norm_epsilon)
        self.mlp = GPT2MLP(inner_dim, config)

    def forward(
        self,
        hidden_states: Tensor,
        attention_mask: Tensor | None = None,
        cache: Cache | None = None,
        encoder_hidden_states: Tensor | None = None,
        encoder_attention_mask: Tensor | None = None,
        implementation: str = "sdpa",
    ) -> tuple[Tensor, Tensor | None, Tensor | None]:
        attended, self_weights = self.attn(
            self.ln_1(hidden_states), attention_mask, cache, implementation=implementation
        )
        hidden_states = hidden_states + attended

        cross_weights = None
        if encoder_hidden_states is not None:
            if not hasattr(self, "crossattention"):
                raise ConfigError(
                    "encoder_hidden_states were passed, but this GPT-2 has no cross-attention layers; "
                    "build it with GPT2Config(add_cross_attention=True)."
                )
            attended, cross_weights = self.crossattention(
                self.ln_cross_attn(hidden_states),
                encoder_attention_mask,
                cache,
                encoder_hidden_states=encoder_hidden_states,
                implementation=implementation,
            )
            hidden_states = hidden_states + attended

        hidden_states = hidden_states + self.mlp(self.ln_2(hidden_states))
        return hidden_states, self_weights, cross_weights


# -- the pretrained-model base ------------------------------------------------------------


class GPT2PreTrainedModel(PreTrainedModel):
    config_class = GPT2Config
    base_model_prefix = "transformer"
    main_input_name = "input_ids"
    supports_gradient_checkpointing = True
    _no_split_modules = ["GPT2Block"]  # device_map="auto" keeps a block on one device
    # Old checkpoints stored the causal mask as a buffer; it is computed now.
    _keys_to_ignore_on_load_unexpected = [r"attn\.bias$", r"crossattention\.bias$", r"attn\.masked_bias$"]

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, Conv1D):
            # GPT-2's scheme: the projections that add into the residual stream
            # (two per block) start smaller, so the stream's variance does not
            # grow with depth.
            std = self.config.initializer_range
            if module.residual_projection:
                std /= math.sqrt(2 * self.config.n_layer)
            nn.init.normal_(module.weight, mean=0.0, std=std)
            nn.init.zeros_(module.bias)
        else:
            super()._init_weights(module)


# -- the base model ---------------------------------------------------------------------------


class GPT2Model(GPT2PreTrainedModel):
    """The bare GPT-2 decoder: embeddings, blocks and final LayerNorm."""

    _tp_plan = {"wte": "embedding"}

    def __init__(self, config: GPT2Config) -> None:
        super().__init__(config)
        _check_config(config)
        self.embed_dim = config.hidden_size
        self.wte = nn.Embedding(config.vocab_size, self.embed_dim)
        self.wpe = nn.Embedding(config.max_position_embeddings, self.embed_dim)
        self.drop = nn.Dropout(config.embd_pdrop)
        self.h = nn.ModuleList([GPT2Block(config, layer_idx=index) for index in range(config.num_hidden_layers)])
        self.ln_f = nn.LayerNorm(self.embed_dim, eps=config.layer_norm_epsilon)
        self.gradient_checkpointing = False
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.wte

    def set_input_embeddings(self, value: nn.Module) -> None:
        self.wte = value

    def forward(
        self,
        input_ids: Tensor | None = None,
        past_key_values: Cache | None = None,
        attention_mask: Tensor | None = None,
        token_type_ids: Tensor | None = None,
        position_ids: Tensor | None = None,
        inputs_embeds: Tensor | None = None,
        encoder_hidden_states: Tensor | None = None,
        encoder_attention_mask: Tensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        cache_position: Tensor | None = None,
        cache: Cache | None = None,
    ) -> BaseModelOutputWithPastAndCrossAttentions | tuple[Any, ...]:
        """Run the decoder.

        ``past_key_values`` (also accepted as ``cache``, transformers 5's name)
        holds the keys and values of tokens already seen; only the new tokens
        are passed then.  ``attention_mask`` is the 2-D 0/1 mask over past and
        new tokens.  Positions default to continuing after the cached tokens;
        left-padded batches should pass ``position_ids`` (``generate()`` does).
        """
        config = self.config
        output_attentions, output_hidden_states, return_dict = output_flags(
            config, output_attentions, output_hidden_states, return_dict
        )
        step = decoder_inputs(
            self,
            input_ids,
            inputs_embeds,
            past_key_values=past_key_values,
            cache=cache,
            use_cache=use_cache,
            cache_position=cache_position,
            position_ids=position_ids,
            cross_attention=config.add_cross_attention,
        )
        past_key_values = step.cache
        if input_ids is not None:
            input_shape = input_ids.shape
            inputs_embeds = self.wte(input_ids.view(-1, input_shape[-1]))
        else:
            input_shape = inputs_embeds.shape[:-1]
            inputs_embeds = inputs_embeds.view(-1, *inputs_embeds.shape[-2:])
        batch_size, length = inputs_embeds.shape[:2]
        position_ids = step.position_ids.view(-1, length)

        hidden_states = inputs_embeds + self.wpe(position_ids).to(inputs_embeds.device)
        if token_type_ids is not None:
            hidden_states = hidden_states + self.wte(token_type_ids.view(-1, length))
        hidden_states = dropout(hidden_states, self.drop.p, self.training)

        implementation = attention_implementation(config, bool(output_attentions))
        if attention_mask is not None and attention_mask.dim() < 4:
            attention_mask = attention_mask.view(batch_size, -1)
        self_mask = causal_mask(
            implementation,
            batch_size=batch_size,
            query_length=length,
            kv_length=step.kv_length,
            query_offset=step.cache_position,
            kv_offset=step.kv_offset,
            attention_mask=attention_mask,
            dtype=hidden_states.dtype,
            device=hidden_states.device,
        )
        cross_mask = None
        if encoder_hidden_states is not None:
            cross_mask = bidirectional_mask(
                implementation,
                batch_size=batch_size,
                query_length=length,
                kv_length=encoder_hidden_states.shape[1],
                attention_mask=encoder_attention_mask,
                dtype=hidden_states.dtype,
                device=hidden_states.device,
                what="encoder_attention_mask",
            )

        all_hidden_states: list[Tensor] = []
        all_attentions: list[Tensor] = []
        all_cross_attentions: list[Tensor] = []
        for block in self.h:
            if output_hidden_states:
                all_hidden_states.append(hidden_states)
            hidden_states, self_weights, cross_weights = run_layer(
                self,
                block,
                hidden_states,
                self_mask,
                past_key_values,
                encoder_hidden_states=encoder_hidden_states,
                encoder_attention_mask=cross_mask,
                implementation=implementation,
            )
            if output_attentions:
                all_attentions.append(self_weights)
                if cross_weights is not None:
                    all_cross_attentions.append(cross_weights)

        hidden_states = self.ln_f(hidden_states).view(*input_shape, -1)
        if output_hidden_states:
            all_hidden_states.append(hidden_states)

        output = BaseModelOutputWithPastAndCrossAttentions(
            last_hidden_state=hidden_states,
            cache=step.returned_cache,
            hidden_states=tuple(all_hidden_states) if output_hidden_states else None,
            attentions=tuple(all_attentions) if output_attentions else None,
            cross_attentions=tuple(all_cross_attentions) if all_cross_attentions else None,
        )
        return output if return_dict else output.to_tuple()


# -- heads --------------------------------------------------------------------------------------


class GPT2LMHeadModel(GPT2PreTrainedModel, GenerationMixin):
    """GPT-2 with its language-model head: next-token logits, tied to the word embeddings."""

    _tied_weights_keys = {"lm_head.weight": "transformer.wte.weight"}
    _tp_plan = {"lm_head": "colwise_gather"}

    def __init__(self, config: GPT2Config) -> None:
        super().__init__(config)
        self.transformer = GPT2Model(config)
        self.lm_head = Linear(config.n_embd, config.vocab_size, bias=False)
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head

    def set_output_embeddings(self, value: nn.Module) -> None:
        self.lm_head = value

    def forward(
        self,
        input_ids: Tensor | None = None,
        past_key_values: Cache | None = None,
        attention_mask: Tensor | None = None,
        token_type_ids: Tensor | None = None,
        position_ids: Tensor | None = None,
        inputs_embeds: Tensor | None = None,
        encoder_hidden_states: Tensor | None = None,
        encoder_attention_mask: Tensor | None = None,
        labels: Tensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        cache_position: Tensor | None = None,
        logits_to_keep: int | Tensor = 0,
        cache: Cache | None = None,
        num_items_in_batch: int | Tensor | None = None,
    ) -> CausalLMOutputWithCrossAttentions | tuple[Any, ...]:
        """Next-token logits; with ``labels`` (usually ``input_ids``, ``-100`` to skip) also the shifted LM loss.

        ``logits_to_keep`` limits the logits to the last positions (generation
        needs only the last one), which saves a vocabulary-sized projection per
        prompt token.
        """
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        outputs = self.transformer(
            input_ids,
            past_key_values=one_cache(past_key_values, cache),
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            inputs_embeds=inputs_embeds,
            encoder_hidden_states=encoder_hidden_states,
            encoder_attention_mask=encoder_attention_mask,
            use_cache=use_cache,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
            cache_position=cache_position,
        )
        logits = self.lm_head(keep_logits(outputs.last_hidden_state, logits_to_keep))
        loss = None
        if labels is not None:
            loss = causal_lm_loss(logits, labels, self.config.vocab_size, num_items_in_batch=num_items_in_batch)
        output = CausalLMOutputWithCrossAttentions(
            loss=loss,
            logits=logits,
            cache=outputs.cache,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
            cross_attentions=outputs.cross_attentions,
        )
        return output if return_dict else output.to_tuple()


class GPT2ForSequenceClassification(GPT2PreTrainedModel):
    """GPT-2 classifying a whole sequence from its last real token (the only one that has seen every other)."""

    def __init__(self, config: GPT2Config) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.transformer = GPT2Model(config)
        self.score = Linear(config.n_embd, self.num_labels, bias=False)
        self.post_init()

    def forward(
        self,
        input_ids: Tensor | None = None,
        past_key_values: Cache | None = None,
        attention_mask: Tensor | None = None,
        token_type_ids: Tensor | None = None,
        position_ids: Tensor | None = None,
        inputs_embeds: Tensor | None = None,
        labels: Tensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        cache_position: Tensor | None = None,
        cache: Cache | None = None,
    ) -> SequenceClassifierOutputWithPast | tuple[Any, ...]:
        """Logits of the last non-padding token of each row (``config.pad_token_id`` tells padding apart)."""
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        outputs = self.transformer(
            input_ids,
            past_key_values=one_cache(past_key_values, cache),
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            inputs_embeds=inputs_embeds,
            use_cache=use_cache,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
            cache_position=cache_position,
        )
        logits = self.score(outputs.last_hidden_state)
        pooled_logits = last_token_logits(logits, input_ids, self.config.pad_token_id, type(self).__name__)

        loss = None if labels is None else sequence_classification_loss(pooled_logits, labels, self.config)
        output = SequenceClassifierOutputWithPast(
            loss=loss,
            logits=pooled_logits,
            cache=outputs.cache,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
        )
        return output if return_dict else output.to_tuple()


class GPT2ForTokenClassification(GPT2PreTrainedModel):
    """GPT-2 labelling every token (each sees only the tokens before it)."""

    def __init__(self, config: GPT2Config) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.transformer = GPT2Model(config)
        dropout = getattr(config, "classifier_dropout", None)
        if dropout is None:
            dropout = getattr(config, "hidden_dropout", None)
        self.dropout = nn.Dropout(0.1 if dropout is None else dropout)
        self.classifier = Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(
        self,
        input_ids: Tensor | None = None,
        past_key_values: Cache | None = None,
        attention_mask: Tensor | None = None,
        token_type_ids: Tensor | None = None,
        position_ids: Tensor | None = None,
        inputs_embeds: Tensor | None = None,
        labels: Tensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        cache_position: Tensor | None = None,
        cache: Cache | None = None,
    ) -> TokenClassifierOutput | tuple[Any, ...]:
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        past_key_values = one_cache(past_key_values, cache)
        outputs = self.transformer(
            input_ids,
            past_key_values=past_key_values,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            inputs_embeds=inputs_embeds,
            # The output has no cache field: build none unless the caller brought one.
            use_cache=bool(use_cache) or past_key_values is not None,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
            cache_position=cache_position,
        )
        logits = self.classifier(self.dropout(outputs.last_hidden_state))
        loss = None if labels is None else token_classification_loss(logits, labels, self.num_labels)
        output = TokenClassifierOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )
        return output if return_dict else output.to_tuple()


class GPT2ForQuestionAnswering(GPT2PreTrainedModel):
    """GPT-2 predicting an answer span: a start and an end logit per token."""

    def __init__(self, config: GPT2Config) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.transformer = GPT2Model(config)
        self.qa_outputs = Linear(config.hidden_size, 2)
        self.post_init()

    def forward(
        self,
        input_ids: Tensor | None = None,
        attention_mask: Tensor | None = None,
        token_type_ids: Tensor | None = None,
        position_ids: Tensor | None = None,
        inputs_embeds: Tensor | None = None,
        start_positions: Tensor | None = None,
        end_positions: Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> QuestionAnsweringModelOutput | tuple[Any, ...]:
        """Span logits; with ``start_positions``/``end_positions`` also the loss (out-of-range positions ignored)."""
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        outputs = self.transformer(
            input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            inputs_embeds=inputs_embeds,
            use_cache=False,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
        )
        logits = self.qa_outputs(outputs.last_hidden_state)
        start_logits, end_logits = (part.squeeze(-1).contiguous() for part in logits.split(1, dim=-1))
        loss = None
        if start_positions is not None and end_positions is not None:
            loss = span_loss(start_logits, end_logits, start_positions, end_positions)
        output = QuestionAnsweringModelOutput(
            loss=loss,
            start_logits=start_logits,
            end_logits=end_logits,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
        )
        return output if return_dict else output.to_tuple()


# -- the double-heads model (language modelling + multiple choice) ---------------------------------------


@dataclass
class GPT2DoubleHeadsModelOutput(ModelOutput):
    """Outputs of :class:`GPT2DoubleHeadsModel`: LM and multiple-choice losses and logits (fields as transformers')."""

    loss: Any = None
    mc_loss: Any = None
    logits: Any = None
    mc_logits: Any = None
    cache: Any = None
    hidden_states: Any = None
    attentions: Any = None


class GPT2SequenceSummary(nn.Module):
    """One vector per sequence, for the multiple-choice head: a chosen token's state, projected and activated.

    ``config.summary_type`` picks the token: ``"cls_index"`` (a given index per
    sequence, the last token by default), ``"last"``, ``"first"`` or ``"mean"``
    of all tokens.  ``summary_use_proj`` adds a linear layer (to ``num_labels``
    outputs with ``summary_proj_to_labels``, else to the hidden size), and
    ``summary_activation`` an activation after it.
    """

    def __init__(self, config: GPT2Config) -> None:
        super().__init__()
        self.summary_type = getattr(config, "summary_type", "last")
        if self.summary_type not in ("last", "first", "mean", "cls_index"):
            raise ConfigError(
                f"GPT2Config.summary_type={self.summary_type!r} is not supported; "
                "use 'cls_index', 'last', 'first' or 'mean'."
            )
        self.summary: nn.Module = nn.Identity()
        if getattr(config, "summary_use_proj", False):
            to_labels = getattr(config, "summary_proj_to_labels", False) and config.num_labels > 0
            self.summary = Linear(config.hidden_size, config.num_labels if to_labels else config.hidden_size)
        activation = getattr(config, "summary_activation", None)
        self.activation = (
            get_activation(activation, owner="GPT2Config.summary_activation") if activation else nn.Identity()
        )
        first, last = getattr(config, "summary_first_dropout", 0.0), getattr(config, "summary_last_dropout", 0.0)
        self.first_dropout = nn.Dropout(first) if first and first > 0 else nn.Identity()
        self.last_dropout = nn.Dropout(last) if last and last > 0 else nn.Identity()

    def forward(self, hidden_states: Tensor, cls_index: Tensor | None = None) -> Tensor:
        if self.summary_type == "last":
            output = hidden_states[..., -1, :]
        elif self.summary_type == "first":
            output = hidden_states[..., 0, :]
        elif self.summary_type == "mean":
            output = hidden_states.mean(dim=-2)
        else:
            if cls_index is None:
                index = torch.full_like(hidden_states[..., :1, :], hidden_states.shape[-2] - 1, dtype=torch.long)
            else:
                index = cls_index[..., None, None].expand(*cls_index.shape, 1, hidden_states.shape[-1])
            output = hidden_states.gather(-2, index).squeeze(-2)
        return self.last_dropout(self.activation(self.summary(self.first_dropout(output))))


class GPT2DoubleHeadsModel(GPT2PreTrainedModel, GenerationMixin):
    """GPT-2 with its LM head and a multiple-choice head over one token per choice (RocStories/SWAG-style tuning).

    Inputs are ``(batch, num_choices, length)``; ``mc_token_ids`` gives the
    index of the classification token of each choice (the last token when
    omitted).  No Auto class maps to it, as in transformers: load it by name.
    """

    _tied_weights_keys = {"lm_head.weight": "transformer.wte.weight"}

    def __init__(self, config: GPT2Config) -> None:
        super().__init__(config)
        config.num_labels = 1  # one score per choice
        self.transformer = GPT2Model(config)
        self.lm_head = Linear(config.n_embd, config.vocab_size, bias=False)
        self.multiple_choice_head = GPT2SequenceSummary(config)
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head

    def set_output_embeddings(self, value: nn.Module) -> None:
        self.lm_head = value

    def forward(
        self,
        input_ids: Tensor | None = None,
        past_key_values: Cache | None = None,
        attention_mask: Tensor | None = None,
        token_type_ids: Tensor | None = None,
        position_ids: Tensor | None = None,
        inputs_embeds: Tensor | None = None,
        mc_token_ids: Tensor | None = None,
        labels: Tensor | None = None,
        mc_labels: Tensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        cache_position: Tensor | None = None,
        cache: Cache | None = None,
    ) -> GPT2DoubleHeadsModelOutput | tuple[Any, ...]:
        """LM logits per token and one choice score per sequence; ``labels``/``mc_labels`` add their losses."""
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        outputs = self.transformer(
            input_ids,
            past_key_values=one_cache(past_key_values, cache),
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            inputs_embeds=inputs_embeds,
            use_cache=use_cache,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
            cache_position=cache_position,
        )
        hidden_states = outputs.last_hidden_state
        lm_logits = self.lm_head(hidden_states)
        mc_logits = self.multiple_choice_head(hidden_states, mc_token_ids).squeeze(-1)
        mc_loss = None
        if mc_labels is not None:
            mc_loss = nn.functional.cross_entropy(
                mc_logits.view(-1, mc_logits.size(-1)), mc_labels.to(mc_logits.device).view(-1)
            )
        lm_loss = None
        if labels is not None:
            lm_loss = causal_lm_loss(lm_logits, labels, self.config.vocab_size)
        output = GPT2DoubleHeadsModelOutput(
            loss=lm_loss,
            mc_loss=mc_loss,
            logits=lm_logits,
            mc_logits=mc_logits,
            cache=outputs.cache,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
        )
        return output if return_dict else output.to_tuple()


__all__ = [
    "Conv1D",
    "GPT2DoubleHeadsModel",
    "GPT2DoubleHeadsModelOutput",
    "GPT2ForQuestionAnswering",
    "GPT2ForSequenceClassification",
    "GPT2ForTokenClassification",
    "GPT2LMHeadModel",
    "GPT2Model",
    "GPT2PreTrainedModel",
]
