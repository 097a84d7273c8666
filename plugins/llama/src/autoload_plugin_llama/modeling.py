"""The Llama family (Llama, Mistral, Qwen2, Qwen3) in plain PyTorch: one decoder, four sets of switches.

Read top to bottom, this file is the model:

1. **Embedding.** Token ids become vectors; there are no position embeddings:
   positions enter attention as rotations of queries and keys (RoPE).
2. **Decoder.** ``num_hidden_layers`` pre-norm blocks.  Each normalises its
   input with RMSNorm, attends causally (grouped-query: ``num_key_value_heads``
   key/value heads each serve a group of query heads), adds the result back,
   normalises again and applies a gated feed-forward network,
   ``down(act(gate(x)) * up(x))``, added back too.
3. **Final RMSNorm**, then the heads: a language-modelling projection onto the
   vocabulary, or a classifier.

The four members differ only in switches, gathered in :class:`FamilyTraits`:

- Llama: ``attention_bias`` (q/k/v/o projections) and ``mlp_bias``, both off by default.
- Mistral: no biases; every layer attends to a sliding window of ``sliding_window`` positions.
- Qwen2: biases on q/k/v only; a sliding window from layer ``max_window_layers`` on when enabled.
- Qwen3: RMSNorm over each query and key head before the rotation (``q_norm``,
  ``k_norm``); ``attention_bias`` as Llama's; Qwen2's sliding-window switches.

Rotary embeddings, RMSNorm, the attention kernels (eager and SDPA), the masks,
the losses and the key/value cache are the host's, shared by every decoder
plugin.  Module and parameter names are those of the transformers
implementation, so the same ``model.safetensors`` loads in both libraries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from autoload.generation import Cache, GenerationMixin
from autoload.modeling import (
    BaseModelOutputWithPast,
    CausalLMOutputWithPast,
    PreTrainedModel,
    QuestionAnsweringModelOutput,
    SequenceClassifierOutputWithPast,
    TokenClassifierOutput,
)
from autoload.modeling.layers import (
    Linear,
    RMSNorm,
    RotaryEmbedding,
    apply_rotary_pos_emb,
    attention,
    attention_implementation,
    causal_lm_loss,
    causal_mask,
    decoder_inputs,
    get_activation,
    keep_logits,
    last_token_logits,
    output_flags,
    run_layer,
    sequence_classification_loss,
    span_loss,
    token_classification_loss,
)
from torch import Tensor, nn

from autoload_plugin_llama.configuration import LlamaConfig, MistralConfig, Qwen2Config, Qwen3Config


@dataclass(frozen=True)
class FamilyTraits:
    """What sets one member of the family apart, read off its config."""

    qkv_bias: bool
    output_bias: bool
    mlp_bias: bool
    qk_norm: bool


def _llama_traits(config: Any) -> FamilyTraits:
    return FamilyTraits(config.attention_bias, config.attention_bias, config.mlp_bias, qk_norm=False)


def _mistral_traits(config: Any) -> FamilyTraits:
    return FamilyTraits(qkv_bias=False, output_bias=False, mlp_bias=False, qk_norm=False)


def _qwen2_traits(config: Any) -> FamilyTraits:
    return FamilyTraits(qkv_bias=True, output_bias=False, mlp_bias=False, qk_norm=False)


def _qwen3_traits(config: Any) -> FamilyTraits:
    return FamilyTraits(config.attention_bias, config.attention_bias, mlp_bias=False, qk_norm=True)


def _head_dim(config: Any) -> int:
    return getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads


def sliding_window_of_layer(config: Any, layer_idx: int) -> int | None:
    """The window a layer attends within, or ``None`` for full causal attention.

    Qwen configs say it per layer (``layer_types``); Mistral's one
    ``sliding_window`` covers every layer; Llama has none.
    """
    layer_types = getattr(config, "layer_types", None)
    if layer_types is not None:
        return config.sliding_window if layer_types[layer_idx] == "sliding_attention" else None
    return getattr(config, "sliding_window", None)


# -- the blocks ----------------------------------------------------------------------------------------


class LlamaFamilyMLP(nn.Module):
    """The gated feed-forward network: ``down_proj(act(gate_proj(x)) * up_proj(x))``."""

    def __init__(self, config: Any, traits: FamilyTraits) -> None:
        super().__init__()
        self.gate_proj = Linear(config.hidden_size, config.intermediate_size, bias=traits.mlp_bias)
        self.up_proj = Linear(config.hidden_size, config.intermediate_size, bias=traits.mlp_bias)
        self.down_proj = Linear(config.intermediate_size, config.hidden_size, bias=traits.mlp_bias)
        self.act_fn = get_activation(config.hidden_act, owner=f"{type(config).__name__}.hidden_act")

    def forward(self, x: Tensor) -> Tensor:
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


class LlamaFamilyAttention(nn.Module):
    """Causal grouped-query self-attention with rotary positions (and, for Qwen3, per-head q/k norms)."""

    def __init__(self, config: Any, layer_idx: int, traits: FamilyTraits) -> None:
        super().__init__()
        self.config = config
        self.layer_idx = layer_idx
        self.head_dim = _head_dim(config)
        self.num_key_value_groups = config.num_attention_heads // config.num_key_value_heads
        self.scaling = self.head_dim**-0.5
        self.attention_dropout = config.attention_dropout
        self.sliding_window = sliding_window_of_layer(config, layer_idx)
        self.is_causal = True
        query_width = config.num_attention_heads * self.head_dim
        key_value_width = config.num_key_value_heads * self.head_dim
        self.q_proj = Linear(config.hidden_size, query_width, bias=traits.qkv_bias)
        self.k_proj = Linear(config.hidden_size, key_value_width, bias=traits.qkv_bias)
        self.v_proj = Linear(config.hidden_size, key_value_width, bias=traits.qkv_bias)
        self.o_proj = Linear(query_width, config.hidden_size, bias=traits.output_bias)
        if traits.qk_norm:
            # Over head_dim only: each head's query and key are normalised on their own.
            self.q_norm = RMSNorm(self.head_dim, eps=config.rms_norm_eps)
            self.k_norm = RMSNorm(self.head_dim, eps=config.rms_norm_eps)
        else:
            self.q_norm = self.k_norm = None

    def forward(
        self,
        hidden_states: Tensor,
        position_embeddings: tuple[Tensor, Tensor],
        attention_mask: Tensor | None,
        past_key_values: Cache | None = None,
        implementation: str = "sdpa",
    ) -> tuple[Tensor, Tensor | None]:
        batch, length = hidden_states.shape[:2]
        per_head = (batch, length, -1, self.head_dim)
        query = self.q_proj(hidden_states).view(per_head)
        key = self.k_proj(hidden_states).view(per_head)
        value = self.v_proj(hidden_states).view(per_head).transpose(1, 2)
        if self.q_norm is not None:
            query, key = self.q_norm(query), self.k_norm(key)
        query, key = query.transpose(1, 2), key.transpose(1, 2)

        cos, sin = position_embeddings
        query, key = apply_rotary_pos_emb(query, key, cos, sin)
        if past_key_values is not None:
            key, value = past_key_values.update(key, value, self.layer_idx)

        output, weights = attention(
            query,
            key,
            value,
            attention_mask,
            implementation=implementation,
            scaling=self.scaling,
            dropout=self.attention_dropout if self.training else 0.0,
            is_causal=True,
            num_key_value_groups=self.num_key_value_groups,
        )
        return self.o_proj(output.reshape(batch, length, -1)), weights


class LlamaFamilyDecoderLayer(nn.Module):
    """Pre-norm block: ``x + attn(norm(x))``, then ``x + mlp(norm(x))``."""

    # Tensor parallelism: each rank holds whole heads and a slice of the MLP; the two output projections sum them.
    _tp_plan: ClassVar[dict[str, str]] = {
        "self_attn.q_proj": "colwise",
        "self_attn.k_proj": "colwise",
        "self_attn.v_proj": "colwise",
        "self_attn.o_proj": "rowwise",
        "mlp.gate_proj": "colwise",
        "mlp.up_proj": "colwise",
        "mlp.down_proj": "rowwise",
    }

    def __init__(self, config: Any, layer_idx: int, traits: FamilyTraits) -> None:
        super().__init__()
        self.self_attn = LlamaFamilyAttention(config, layer_idx, traits)
        self.mlp = LlamaFamilyMLP(config, traits)
        self.input_layernorm = RMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.post_attention_layernorm = RMSNorm(config.hidden_size, eps=config.rms_norm_eps)

    def forward(
        self,
        hidden_states: Tensor,
        position_embeddings: tuple[Tensor, Tensor],
        attention_mask: Tensor | None,
        past_key_values: Cache | None = None,
        implementation: str = "sdpa",
    ) -> tuple[Tensor, Tensor | None]:
        attended, weights = self.self_attn(
            self.input_layernorm(hidden_states),
            position_embeddings,
            attention_mask,
            past_key_values=past_key_values,
            implementation=implementation,
        )
        hidden_states = hidden_states + attended
        hidden_states = hidden_states + self.mlp(self.post_attention_layernorm(hidden_states))
        return hidden_states, weights


# -- the shared model classes ---------------------------------------------------------------------------


class LlamaFamilyPreTrainedModel(PreTrainedModel):
    """Base of every model class of the family; a member sets ``config_class`` and ``traits``."""

    base_model_prefix = "model"
    main_input_name = "input_ids"
    supports_gradient_checkpointing = True
    # device_map="auto" keeps each decoder layer (its residual connections) on one device.
    _no_split_modules: ClassVar[list[str]] = ["LlamaFamilyDecoderLayer"]
    #: Reads the member's switches off a config.
    traits: ClassVar[Callable[[Any], FamilyTraits]] = staticmethod(_llama_traits)
    #: The member's base model class, built inside every head.
    base_model_class: ClassVar[type[LlamaFamilyModel]]


def _return(output: Any, return_dict: bool | None, config: Any) -> Any:
    return_dict = config.use_return_dict if return_dict is None else return_dict
    return output if return_dict else output.to_tuple()


class LlamaFamilyModel(LlamaFamilyPreTrainedModel):
    """The decoder without a head: token ids in, final normalised hidden states out."""

    _tp_plan: ClassVar[dict[str, str]] = {"embed_tokens": "embedding"}

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        traits = type(self).traits(config)
        self.padding_idx = config.pad_token_id
        self.vocab_size = config.vocab_size
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size, self.padding_idx)
        self.layers = nn.ModuleList(
            LlamaFamilyDecoderLayer(config, index, traits) for index in range(config.num_hidden_layers)
        )
        self.norm = RMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.rotary_emb = RotaryEmbedding(config)
        self.gradient_checkpointing = False
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        return self.embed_tokens

    def set_input_embeddings(self, value: nn.Module) -> None:
        self.embed_tokens = value

    def forward(
        self,
        input_ids: Tensor | None = None,
        attention_mask: Tensor | None = None,
        position_ids: Tensor | None = None,
        past_key_values: Cache | None = None,
        inputs_embeds: Tensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        cache_position: Tensor | None = None,
        cache: Cache | None = None,
    ) -> BaseModelOutputWithPast | tuple:
        config = self.config
        output_attentions, output_hidden_states, _ = output_flags(config, output_attentions, output_hidden_states)
        step = decoder_inputs(
            self,
            input_ids,
            inputs_embeds,
            past_key_values=past_key_values,
            cache=cache,
            use_cache=use_cache,
            cache_position=cache_position,
            position_ids=position_ids,
        )
        if inputs_embeds is None:
            inputs_embeds = self.embed_tokens(input_ids)

        # One mask per kind of layer (full, and sliding when any layer slides), shared by the layers of that kind.
        implementation = attention_implementation(config, output_attentions)
        batch_size, query_length = inputs_embeds.shape[:2]
        masks = {
            window: causal_mask(
                implementation,
                batch_size=batch_size,
                query_length=query_length,
                kv_length=step.kv_length,
                query_offset=step.cache_position,
                kv_offset=step.kv_offset,
                attention_mask=attention_mask,
                sliding_window=window,
                dtype=inputs_embeds.dtype,
                device=inputs_embeds.device,
            )
            for window in {layer.self_attn.sliding_window for layer in self.layers}
        }

        hidden_states = inputs_embeds
        position_embeddings = self.rotary_emb(hidden_states, step.position_ids)
        all_hidden_states: list[Tensor] = []
        all_attentions: list[Tensor | None] = []
        for layer in self.layers:
            if output_hidden_states:
                all_hidden_states.append(hidden_states)
            hidden_states, weights = run_layer(
                self,
                layer,
                hidden_states,
                position_embeddings,
                masks[layer.self_attn.sliding_window],
                past_key_values=step.cache,
                implementation=implementation,
            )
            all_attentions.append(weights)
        hidden_states = self.norm(hidden_states)
        if output_hidden_states:
            all_hidden_states.append(hidden_states)

        output = BaseModelOutputWithPast(
            last_hidden_state=hidden_states,
            past_key_values=step.returned_cache,
            hidden_states=tuple(all_hidden_states) if output_hidden_states else None,
            attentions=tuple(all_attentions) if output_attentions else None,
        )
        return _return(output, return_dict, config)


def _run_base(model: LlamaFamilyPreTrainedModel, **kwargs: Any) -> BaseModelOutputWithPast:
    return getattr(model, model.base_model_prefix)(**kwargs, return_dict=True)


class LlamaFamilyForCausalLM(LlamaFamilyPreTrainedModel, GenerationMixin):
    """The decoder with a projection onto the vocabulary: next-token logits, a shifted loss, and ``generate()``."""

    _tied_weights_keys: ClassVar[dict[str, str]] = {"lm_head.weight": "model.embed_tokens.weight"}
    _tp_plan: ClassVar[dict[str, str]] = {"lm_head": "colwise_gather"}

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self.model = self.base_model_class(config)
        self.vocab_size = config.vocab_size
        self.lm_head = Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()

    def get_output_embeddings(self) -> nn.Module:
        return self.lm_head

    def set_output_embeddings(self, value: nn.Module) -> None:
        self.lm_head = value

    def forward(
        self,
        input_ids: Tensor | None = None,
        attention_mask: Tensor | None = None,
        position_ids: Tensor | None = None,
        past_key_values: Cache | None = None,
        inputs_embeds: Tensor | None = None,
        labels: Tensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        cache_position: Tensor | None = None,
        logits_to_keep: int | Tensor = 0,
        cache: Cache | None = None,
        **loss_kwargs: Any,
    ) -> CausalLMOutputWithPast | tuple:
        outputs = _run_base(
            self,
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=past_key_values,
            inputs_embeds=inputs_embeds,
            use_cache=use_cache,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            cache_position=cache_position,
            cache=cache,
        )
        logits = self.lm_head(keep_logits(outputs.last_hidden_state, logits_to_keep))
        loss = None
        if labels is not None:
            loss = causal_lm_loss(logits, labels, vocab_size=self.config.vocab_size, **loss_kwargs)
        output = CausalLMOutputWithPast(
            loss=loss,
            logits=logits,
            past_key_values=outputs.past_key_values,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
        )
        return _return(output, return_dict, self.config)


class LlamaFamilyForSequenceClassification(LlamaFamilyPreTrainedModel):
    """Scores the last real token of each row (the decoder has read the whole text by then)."""

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.model = self.base_model_class(config)
        self.score = Linear(config.hidden_size, config.num_labels, bias=False)
        self.post_init()

    def forward(
        self,
        input_ids: Tensor | None = None,
        attention_mask: Tensor | None = None,
        position_ids: Tensor | None = None,
        past_key_values: Cache | None = None,
        inputs_embeds: Tensor | None = None,
        labels: Tensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        cache_position: Tensor | None = None,
        cache: Cache | None = None,
    ) -> SequenceClassifierOutputWithPast | tuple:
        outputs = _run_base(
            self,
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=past_key_values,
            inputs_embeds=inputs_embeds,
            use_cache=use_cache,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            cache_position=cache_position,
            cache=cache,
        )
        logits = self.score(outputs.last_hidden_state)
        pooled_logits = last_token_logits(logits, input_ids, self.config.pad_token_id, type(self).__name__)
        loss = None
        if labels is not None:
            loss = sequence_classification_loss(pooled_logits, labels.to(logits.device), self.config)
        output = SequenceClassifierOutputWithPast(
            loss=loss,
            logits=pooled_logits,
            past_key_values=outputs.past_key_values,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
        )
        return _return(output, return_dict, self.config)


class LlamaFamilyForTokenClassification(LlamaFamilyPreTrainedModel):
    """A label for every token, from its final hidden state."""

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.model = self.base_model_class(config)
        dropout = getattr(config, "classifier_dropout", None)
        if dropout is None:
            dropout = getattr(config, "hidden_dropout", None)
        self.dropout = nn.Dropout(0.1 if dropout is None else dropout)
        self.score = Linear(config.hidden_size, config.num_labels, bias=True)
        self.post_init()

    def forward(
        self,
        input_ids: Tensor | None = None,
        attention_mask: Tensor | None = None,
        position_ids: Tensor | None = None,
        past_key_values: Cache | None = None,
        inputs_embeds: Tensor | None = None,
        labels: Tensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        cache_position: Tensor | None = None,
        cache: Cache | None = None,
    ) -> TokenClassifierOutput | tuple:
        outputs = _run_base(
            self,
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=past_key_values,
            inputs_embeds=inputs_embeds,
            use_cache=use_cache,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            cache_position=cache_position,
            cache=cache,
        )
        logits = self.score(self.dropout(outputs.last_hidden_state))
        loss = None
        if labels is not None:
            loss = token_classification_loss(logits.float(), labels, self.num_labels)
        output = TokenClassifierOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )
        return _return(output, return_dict, self.config)


class LlamaFamilyForQuestionAnswering(LlamaFamilyPreTrainedModel):
    """Start and end logits of an answer span, one pair per token."""

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        setattr(self, self.base_model_prefix, self.base_model_class(config))
        self.qa_outputs = Linear(config.hidden_size, 2)
        self.post_init()

    def forward(
        self,
        input_ids: Tensor | None = None,
        attention_mask: Tensor | None = None,
        position_ids: Tensor | None = None,
        past_key_values: Cache | None = None,
        inputs_embeds: Tensor | None = None,
        start_positions: Tensor | None = None,
        end_positions: Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        cache_position: Tensor | None = None,
        cache: Cache | None = None,
    ) -> QuestionAnsweringModelOutput | tuple:
        outputs = _run_base(
            self,
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=past_key_values,
            inputs_embeds=inputs_embeds,
            use_cache=False,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            cache_position=cache_position,
            cache=cache,
        )
        start_logits, end_logits = self.qa_outputs(outputs.last_hidden_state).split(1, dim=-1)
        start_logits = start_logits.squeeze(-1).contiguous()
        end_logits = end_logits.squeeze(-1).contiguous()
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
        return _return(output, return_dict, self.config)


# -- the four members -------------------------------------------------------------------------------------
# Each member is the shared classes with its config class and traits; names are transformers'.


class LlamaPreTrainedModel(LlamaFamilyPreTrainedModel):
    config_class = LlamaConfig
    traits = staticmethod(_llama_traits)


class LlamaModel(LlamaPreTrainedModel, LlamaFamilyModel):
    pass


class LlamaForCausalLM(LlamaPreTrainedModel, LlamaFamilyForCausalLM):
    base_model_class = LlamaModel


class LlamaForSequenceClassification(LlamaPreTrainedModel, LlamaFamilyForSequenceClassification):
    base_model_class = LlamaModel


class LlamaForTokenClassification(LlamaPreTrainedModel, LlamaFamilyForTokenClassification):
    base_model_class = LlamaModel


class LlamaForQuestionAnswering(LlamaPreTrainedModel, LlamaFamilyForQuestionAnswering):
    base_model_class = LlamaModel
    base_model_prefix = "transformer"  # the attribute name transformers' checkpoints use for this head


class MistralPreTrainedModel(LlamaFamilyPreTrainedModel):
    config_class = MistralConfig
    traits = staticmethod(_mistral_traits)


class MistralModel(MistralPreTrainedModel, LlamaFamilyModel):
    pass


class MistralForCausalLM(MistralPreTrainedModel, LlamaFamilyForCausalLM):
    base_model_class = MistralModel


class MistralForSequenceClassification(MistralPreTrainedModel, LlamaFamilyForSequenceClassification):
    base_model_class = MistralModel


class MistralForTokenClassification(MistralPreTrainedModel, LlamaFamilyForTokenClassification):
    base_model_class = MistralModel


class MistralForQuestionAnswering(MistralPreTrainedModel, LlamaFamilyForQuestionAnswering):
    base_model_class = MistralModel


class Qwen2PreTrainedModel(LlamaFamilyPreTrainedModel):
    config_class = Qwen2Config
    traits = staticmethod(_qwen2_traits)


class Qwen2Model(Qwen2PreTrainedModel, LlamaFamilyModel):
    pass


class Qwen2ForCausalLM(Qwen2PreTrainedModel, LlamaFamilyForCausalLM):
    base_model_class = Qwen2Model


class Qwen2ForSequenceClassification(Qwen2PreTrainedModel, LlamaFamilyForSequenceClassification):
    base_model_class = Qwen2Model


class Qwen2ForTokenClassification(Qwen2PreTrainedModel, LlamaFamilyForTokenClassification):
    base_model_class = Qwen2Model


class Qwen2ForQuestionAnswering(Qwen2PreTrainedModel, LlamaFamilyForQuestionAnswering):
    base_model_class = Qwen2Model
    base_model_prefix = "transformer"


class Qwen3PreTrainedModel(LlamaFamilyPreTrainedModel):
    config_class = Qwen3Config
    traits = staticmethod(_qwen3_traits)


class Qwen3Model(Qwen3PreTrainedModel, LlamaFamilyModel):
    pass


class Qwen3ForCausalLM(Qwen3PreTrainedModel, LlamaFamilyForCausalLM):
    base_model_class = Qwen3Model


class Qwen3ForSequenceClassification(Qwen3PreTrainedModel, LlamaFamilyForSequenceClassification):
    base_model_class = Qwen3Model


class Qwen3ForTokenClassification(Qwen3PreTrainedModel, LlamaFamilyForTokenClassification):
    base_model_class = Qwen3Model


class Qwen3ForQuestionAnswering(Qwen3PreTrainedModel, LlamaFamilyForQuestionAnswering):
    base_model_class = Qwen3Model
    base_model_prefix = "transformer"


__all__ = [
    "FamilyTraits",
    "LlamaForCausalLM",
    "LlamaForQuestionAnswering",
    "LlamaForSequenceClassification",
    "LlamaForTokenClassification",
    "LlamaModel",
    "LlamaPreTrainedModel",
    "MistralForCausalLM",
    "MistralForQuestionAnswering",
    "MistralForSequenceClassification",
    "MistralForTokenClassification",
    "MistralModel",
    "MistralPreTrainedModel",
    "Qwen2ForCausalLM",
    "Qwen2ForQuestionAnswering",
    "Qwen2ForSequenceClassification",
    "Qwen2ForTokenClassification",
    "Qwen2Model",
    "Qwen2PreTrainedModel",
    "Qwen3ForCausalLM",
    "Qwen3ForQuestionAnswering",
    "Qwen3ForSequenceClassification",
    "Qwen3ForTokenClassification",
    "Qwen3Model",
    "Qwen3PreTrainedModel",
]
