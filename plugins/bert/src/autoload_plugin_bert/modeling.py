"""BERT (Devlin et al., 2018) in plain PyTorch, with every task head.

Read top to bottom, this file is the model:

1. **Embeddings.** A token's vector is the sum of a word embedding, a
   segment ("token type") embedding and a learned absolute position
   embedding, normalised by LayerNorm.
2. **Encoder.** ``num_hidden_layers`` identical post-LayerNorm blocks: multi-head
   self-attention, then a two-layer feed-forward network, each wrapped in a
   residual connection followed by LayerNorm.  With ``config.is_decoder`` the
   self-attention is causal (each token sees only those before it), and with
   ``config.add_cross_attention`` each block also attends to an encoder's
   output between the two.
3. **Pooler.** The first token's ([CLS]) final state through a dense layer and
   tanh: the sentence vector the classification heads read.
4. **Heads.** Small layers over the encoder's output, one class per task.

Attention runs through ``torch.nn.functional.scaled_dot_product_attention`` by
default.  ``config._attn_implementation == "eager"`` (or any call with
``output_attentions=True``) computes ``softmax(Q K^T / sqrt(d) + mask) V``
explicitly, so the attention probabilities can be returned.

Module and parameter names are those of the transformers implementation, so
the same ``model.safetensors`` loads in both libraries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import torch
from autoload import ConfigError, ProcessingError
from autoload.generation import Cache, EncoderDecoderCache, GenerationMixin
from autoload.modeling import (
    BaseModelOutputWithPoolingAndCrossAttentions,
    CausalLMOutputWithCrossAttentions,
    MaskedLMOutput,
    ModelOutput,
    MultipleChoiceModelOutput,
    NextSentencePredictorOutput,
    PreTrainedModel,
    QuestionAnsweringModelOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)
from autoload.modeling.layers import (
    Linear,
    attention,
    attention_implementation,
    bidirectional_mask,
    causal_lm_loss,
    causal_mask,
    cross_entropy,
    decoder_inputs,
    get_activation,
    keep_logits,
    one_cache,
    output_flags,
    run_layer,
    sequence_classification_loss,
    span_loss,
    token_classification_loss,
)
from torch import nn

from autoload_plugin_bert.configuration import BertConfig

logger = logging.getLogger(__name__)

Tensor = torch.Tensor


def _check_config(config: BertConfig) -> None:
    """Refuse configs the model would otherwise compute wrongly or fail on obscurely."""
    if config.hidden_size % config.num_attention_heads != 0:
        raise ConfigError(
            f"BertConfig: hidden_size ({config.hidden_size}) must be a multiple of num_attention_heads "
            f"({config.num_attention_heads}), since each head gets an equal slice of the hidden vector."
        )
    position_type = getattr(config, "position_embedding_type", "absolute")
    if position_type not in (None, "absolute"):
        raise ConfigError(
            f"BertConfig.position_embedding_type={position_type!r} is not supported: only learned absolute "
            "position embeddings ('absolute') are implemented (transformers 5 dropped the relative variants too)."
        )
    if config.add_cross_attention and not config.is_decoder:
        raise ConfigError(
            "BertConfig.add_cross_attention=True needs is_decoder=True: cross-attention layers only exist in "
            "a decoder. Set is_decoder=True, or add_cross_attention=False."
        )
    get_activation(config.hidden_act, owner="BertConfig.hidden_act")


# -- embeddings --------------------------------------------------------------------


class BertEmbeddings(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        # Defaults for position and segment ids, kept as buffers so they follow the model's device.
        # Not saved: they are a function of the config, not learned.
        position_ids = torch.arange(config.max_position_embeddings).expand((1, -1))
        self.register_buffer("position_ids", position_ids, persistent=False)
        self.register_buffer("token_type_ids", torch.zeros_like(position_ids), persistent=False)

    def forward(
        self,
        input_ids: Tensor | None = None,
        token_type_ids: Tensor | None = None,
        position_ids: Tensor | None = None,
        inputs_embeds: Tensor | None = None,
        past_length: int = 0,
    ) -> Tensor:
        batch_size, seq_length = input_ids.shape if input_ids is not None else inputs_embeds.shape[:2]
        if position_ids is None:
            if past_length + seq_length > self.position_ids.shape[1]:
                raise ProcessingError(
                    f"The input has {past_length + seq_length} tokens, but this BERT has position embeddings for "
                    f"only {self.position_ids.shape[1]} (max_position_embeddings); truncate the input "
                    f"(tokenizer(..., truncation=True, max_length={self.position_ids.shape[1]}))."
                )
            position_ids = self.position_ids[:, past_length : past_length + seq_length]
        if token_type_ids is None:
            token_type_ids = self.token_type_ids[:, :seq_length].expand(batch_size, seq_length)
        if inputs_embeds is None:
            inputs_embeds = self.word_embeddings(input_ids)
        embeddings = inputs_embeds + self.token_type_embeddings(token_type_ids)
        embeddings = embeddings + self.position_embeddings(position_ids)
        embeddings = self.LayerNorm(embeddings)
        return self.dropout(embeddings)


# -- one transformer block ------------------------------------------------------------


class BertSelfAttention(nn.Module):
    """Multi-head attention projections; also used for cross-attention (keys and values from the encoder)."""

    def __init__(self, config: BertConfig, layer_idx: int = 0, is_cross_attention: bool = False) -> None:
        super().__init__()
        self.layer_idx = layer_idx
        self.is_cross_attention = is_cross_attention
        self.num_attention_heads = config.num_attention_heads
        self.attention_head_size = config.hidden_size // config.num_attention_heads
        self.all_head_size = self.num_attention_heads * self.attention_head_size
        self.scaling = self.attention_head_size**-0.5

        self.query = Linear(config.hidden_size, self.all_head_size)
        self.key = Linear(config.hidden_size, self.all_head_size)
        self.value = Linear(config.hidden_size, self.all_head_size)
        self.dropout = nn.Dropout(config.attention_probs_dropout_prob)

    def _split_heads(self, projected: Tensor) -> Tensor:
        batch, length = projected.shape[:2]
        return projected.view(batch, length, self.num_attention_heads, self.attention_head_size).transpose(1, 2)

    def _keys_and_values(
        self, hidden_states: Tensor, key_value_states: Tensor | None, cache: Cache | None
    ) -> tuple[Tensor, Tensor]:
        """Keys and values to attend to, through the cache when decoding step by step.

        Self-attention appends this step's keys/values to the cache.  Cross-attention
        keys/values depend only on the encoder states: computed on the first step,
        read back from the cross-attention cache afterwards.
        """
        if key_value_states is None:
            key = self._split_heads(self.key(hidden_states))
            value = self._split_heads(self.value(hidden_states))
            if cache is not None:
                own = cache.self_attention_cache if isinstance(cache, EncoderDecoderCache) else cache
                key, value = own.update(key, value, self.layer_idx)
            return key, value
        cross = cache.cross_attention_cache if isinstance(cache, EncoderDecoderCache) else None
        if cross is not None and cache.is_updated.get(self.layer_idx, False):  # type: ignore[union-attr]
            stored = cross.layers[self.layer_idx]
            return stored.keys, stored.values
        key = self._split_heads(self.key(key_value_states))
        value = self._split_heads(self.value(key_value_states))
        if cross is not None:
            key, value = cross.update(key, value, self.layer_idx)
            cache.is_updated[self.layer_idx] = True  # type: ignore[union-attr]
        return key, value

    def forward(
        self,
        hidden_states: Tensor,
        mask: Tensor | None,
        key_value_states: Tensor | None = None,
        implementation: str = "sdpa",
        is_causal: bool = False,
        cache: Cache | None = None,
    ) -> tuple[Tensor, Tensor | None]:
        query = self._split_heads(self.query(hidden_states))
        key, value = self._keys_and_values(hidden_states, key_value_states, cache)
        context, probabilities = attention(
            query,
            key,
            value,
            mask,
            implementation=implementation,
            scaling=self.scaling,
            dropout=self.dropout.p if self.training else 0.0,
            is_causal=is_causal,
            softmax_in_float32=False,  # BERT's softmax runs in the activations' dtype
        )
        batch, length = hidden_states.shape[:2]
        return context.reshape(batch, length, self.all_head_size), probabilities


class BertSelfOutput(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states: Tensor, residual: Tensor) -> Tensor:
        hidden_states = self.dropout(self.dense(hidden_states))
        return self.LayerNorm(hidden_states + residual)


class BertAttention(nn.Module):
    """Attention plus its output projection and residual LayerNorm (self- or cross-attention alike)."""

    def __init__(self, config: BertConfig, layer_idx: int = 0, is_cross_attention: bool = False) -> None:
        super().__init__()
        self.self = BertSelfAttention(config, layer_idx, is_cross_attention)
        self.output = BertSelfOutput(config)

    def forward(
        self,
        hidden_states: Tensor,
        mask: Tensor | None,
        key_value_states: Tensor | None = None,
        implementation: str = "sdpa",
        is_causal: bool = False,
        cache: Cache | None = None,
    ) -> tuple[Tensor, Tensor | None]:
        context, probabilities = self.self(hidden_states, mask, key_value_states, implementation, is_causal, cache)
        return self.output(context, hidden_states), probabilities


class BertIntermediate(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = Linear(config.hidden_size, config.intermediate_size)
        self.intermediate_act_fn = get_activation(config.hidden_act, owner="BertConfig.hidden_act")

    def forward(self, hidden_states: Tensor) -> Tensor:
        return self.intermediate_act_fn(self.dense(hidden_states))


class BertOutput(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = Linear(config.intermediate_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states: Tensor, residual: Tensor) -> Tensor:
        hidden_states = self.dropout(self.dense(hidden_states))
        return self.LayerNorm(hidden_states + residual)


class BertLayer(nn.Module):
    def __init__(self, config: BertConfig, layer_idx: int = 0) -> None:
        super().__init__()
        # The feed-forward network acts on each position alone, so it may run on
        # slices of the sequence to save memory; the result is the same.
        self.chunk_size_feed_forward = config.chunk_size_feed_forward
        self.is_causal = bool(config.is_decoder)
        self.attention = BertAttention(config, layer_idx)
        if config.add_cross_attention:
            self.crossattention = BertAttention(config, layer_idx, is_cross_attention=True)
        self.intermediate = BertIntermediate(config)
        self.output = BertOutput(config)

    def feed_forward(self, hidden_states: Tensor) -> Tensor:
        return self.output(self.intermediate(hidden_states), hidden_states)

    def forward(
        self,
        hidden_states: Tensor,
        mask: Tensor | None,
        encoder_hidden_states: Tensor | None = None,
        encoder_mask: Tensor | None = None,
        implementation: str = "sdpa",
        cache: Cache | None = None,
        past_length: int = 0,
    ) -> tuple[Tensor, Tensor | None, Tensor | None]:
        # With keys already cached the queries are not the first positions: causality comes from the mask.
        hidden_states, self_probabilities = self.attention(
            hidden_states,
            mask,
            implementation=implementation,
            is_causal=self.is_causal and not past_length,
            cache=cache,
        )
        cross_probabilities = None
        if encoder_hidden_states is not None:
            if not hasattr(self, "crossattention"):
                raise ConfigError(
                    "encoder_hidden_states were given, but this BERT has no cross-attention layers; build it "
                    "from a config with is_decoder=True and add_cross_attention=True."
                )
            hidden_states, cross_probabilities = self.crossattention(
                hidden_states, encoder_mask, encoder_hidden_states, implementation, cache=cache
            )
        if self.chunk_size_feed_forward and self.chunk_size_feed_forward > 0:
            chunks = hidden_states.split(self.chunk_size_feed_forward, dim=1)
            hidden_states = torch.cat([self.feed_forward(chunk) for chunk in chunks], dim=1)
        else:
            hidden_states = self.feed_forward(hidden_states)
        return hidden_states, self_probabilities, cross_probabilities


class BertEncoder(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(config, index) for index in range(config.num_hidden_layers)])
        self.gradient_checkpointing = False

    def forward(
        self,
        hidden_states: Tensor,
        mask: Tensor | None,
        encoder_hidden_states: Tensor | None = None,
        encoder_mask: Tensor | None = None,
        implementation: str = "sdpa",
        output_hidden_states: bool = False,
        cache: Cache | None = None,
        past_length: int = 0,
    ) -> tuple[Tensor, tuple[Tensor, ...] | None, tuple[Tensor, ...], tuple[Tensor, ...]]:
        """Returns the last states, every layer's input and output, and the attention probabilities."""
        all_hidden = [hidden_states] if output_hidden_states else None
        self_probabilities: list[Tensor] = []
        cross_probabilities: list[Tensor] = []
        for layer in self.layer:
            hidden_states, self_p, cross_p = run_layer(
                self,
                layer,
                hidden_states,
                mask,
                encoder_hidden_states,
                encoder_mask,
                implementation,
                cache=cache,
                past_length=past_length,
            )
            if all_hidden is not None:
                all_hidden.append(hidden_states)
            if self_p is not None:
                self_probabilities.append(self_p)
            if cross_p is not None:
                cross_probabilities.append(cross_p)
        hidden_tuple = tuple(all_hidden) if all_hidden is not None else None
        return hidden_states, hidden_tuple, tuple(self_probabilities), tuple(cross_probabilities)


class BertPooler(nn.Module):
    """The sentence vector: the first ([CLS]) token's final state through dense + tanh."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = Linear(config.hidden_size, config.hidden_size)
        self.activation = nn.Tanh()

    def forward(self, hidden_states: Tensor) -> Tensor:
        return self.activation(self.dense(hidden_states[:, 0]))


# -- prediction heads -------------------------------------------------------------------


class BertPredictionHeadTransform(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = Linear(config.hidden_size, config.hidden_size)
        self.transform_act_fn = get_activation(config.hidden_act, owner="BertConfig.hidden_act")
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, hidden_states: Tensor) -> Tensor:
        return self.LayerNorm(self.transform_act_fn(self.dense(hidden_states)))


class BertLMPredictionHead(nn.Module):
    """Scores over the vocabulary.

    The decoder's weight is the word-embedding matrix and its bias is
    ``self.bias`` when ``tie_word_embeddings`` is true (the usual case); the
    model's tying makes them the same parameters.
    """

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.transform = BertPredictionHeadTransform(config)
        self.decoder = Linear(config.hidden_size, config.vocab_size, bias=True)
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))

    def forward(self, hidden_states: Tensor) -> Tensor:
        return self.decoder(self.transform(hidden_states))


class BertOnlyMLMHead(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.predictions = BertLMPredictionHead(config)

    def forward(self, sequence_output: Tensor) -> Tensor:
        return self.predictions(sequence_output)


class BertOnlyNSPHead(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.seq_relationship = Linear(config.hidden_size, 2)

    def forward(self, pooled_output: Tensor) -> Tensor:
        return self.seq_relationship(pooled_output)


class BertPreTrainingHeads(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.predictions = BertLMPredictionHead(config)
        self.seq_relationship = Linear(config.hidden_size, 2)

    def forward(self, sequence_output: Tensor, pooled_output: Tensor) -> tuple[Tensor, Tensor]:
        return self.predictions(sequence_output), self.seq_relationship(pooled_output)


# -- outputs --------------------------------------------------------------------------


@dataclass(repr=False)
class BertForPreTrainingOutput(ModelOutput):
    """``loss`` is the masked-LM loss plus the next-sentence loss (when both labels are given)."""

    loss: Any = None
    prediction_logits: Any = None
    seq_relationship_logits: Any = None
    hidden_states: Any = None
    attentions: Any = None


# -- models ---------------------------------------------------------------------------

_TIED_LM_HEAD = {
    "cls.predictions.decoder.weight": "bert.embeddings.word_embeddings.weight",
    "cls.predictions.decoder.bias": "cls.predictions.bias",
}


class BertPreTrainedModel(PreTrainedModel):
    """Shared plumbing of the BERT models: config class, weight init, embeddings access."""

    config_class = BertConfig
    base_model_prefix = "bert"
    main_input_name = "input_ids"
    supports_gradient_checkpointing = True
    _no_split_modules = ["BertEmbeddings", "BertLayer"]
    # Older checkpoints saved the position-id buffer; it is rebuilt from the config.
    _keys_to_ignore_on_load_unexpected = [r"embeddings\.position_ids$"]

    def _init_weights(self, module: nn.Module) -> None:
        # BERT's recipe is the host's default (normal(0, initializer_range) matrices, zero biases and padding
        # row, identity LayerNorms) plus a zero bias for the prediction head's own parameter.
        super()._init_weights(module)
        if isinstance(module, BertLMPredictionHead):
            nn.init.zeros_(module.bias)

    def _base(self) -> BertModel:
        return self if isinstance(self, BertModel) else self.bert

    def get_input_embeddings(self) -> nn.Embedding:
        return self._base().embeddings.word_embeddings

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self._base().embeddings.word_embeddings = value

    def get_output_embeddings(self) -> nn.Linear | None:
        """The vocabulary projection of the heads that have one (tied to the word embeddings)."""
        head = getattr(self, "cls", None)
        predictions = getattr(head, "predictions", None)
        return predictions.decoder if predictions is not None else None

    def set_output_embeddings(self, new_embeddings: nn.Linear) -> None:
        self.cls.predictions.decoder = new_embeddings
        self.cls.predictions.bias = new_embeddings.bias


class BertModel(BertPreTrainedModel):
    """The bare encoder (or decoder, with ``config.is_decoder``), optionally with the pooler.

    ``last_hidden_state`` holds one vector per token; ``pooler_output`` the
    sentence vector (absent with ``add_pooling_layer=False``).
    """

    def __init__(self, config: BertConfig, add_pooling_layer: bool = True) -> None:
        super().__init__(config)
        _check_config(config)
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.pooler = BertPooler(config) if add_pooling_layer else None
        self.post_init()

    def forward(
        self,
        input_ids: Tensor | None = None,
        attention_mask: Tensor | None = None,
        token_type_ids: Tensor | None = None,
        position_ids: Tensor | None = None,
        inputs_embeds: Tensor | None = None,
        encoder_hidden_states: Tensor | None = None,
        encoder_attention_mask: Tensor | None = None,
        past_key_values: Any = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        cache: Any = None,
        cache_position: Tensor | None = None,
    ) -> BaseModelOutputWithPoolingAndCrossAttentions | tuple[Tensor, ...]:
        config = self.config
        output_attentions, output_hidden_states, return_dict = output_flags(
            config, output_attentions, output_hidden_states, return_dict
        )
        if (past_key_values is not None or cache is not None) and not config.is_decoder:
            raise ConfigError(
                "A key/value cache only works for a decoder: this BERT attends in both directions. Build it "
                "from a config with is_decoder=True, or pass no past_key_values."
            )
        # An encoder runs the same preamble without a cache: positions 0..length-1, no key/value window offset.
        step = decoder_inputs(
            self,
            input_ids,
            inputs_embeds,
            past_key_values=past_key_values,
            cache=cache,
            use_cache=use_cache if config.is_decoder else False,
            cache_position=cache_position,
            cross_attention=encoder_hidden_states is not None or config.add_cross_attention,
        )
        embeddings = self.embeddings(
            input_ids=input_ids,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            inputs_embeds=inputs_embeds,
            past_length=step.past_length,
        )
        batch_size, seq_length = embeddings.shape[:2]
        implementation = attention_implementation(config, bool(output_attentions))
        mask_options = {"batch_size": batch_size, "dtype": embeddings.dtype, "device": embeddings.device}
        if config.is_decoder:
            mask = causal_mask(
                implementation,
                query_length=seq_length,
                kv_length=step.kv_length,
                query_offset=step.cache_position,
                kv_offset=step.kv_offset,
                attention_mask=attention_mask,
                **mask_options,
            )
        else:
            mask = bidirectional_mask(
                implementation,
                query_length=seq_length,
                kv_length=seq_length,
                attention_mask=attention_mask,
                **mask_options,
            )
        encoder_mask = None
        if encoder_hidden_states is not None:
            encoder_mask = bidirectional_mask(
                implementation,
                query_length=seq_length,
                kv_length=encoder_hidden_states.shape[1],
                attention_mask=encoder_attention_mask,
                what="encoder_attention_mask",
                **mask_options,
            )

        sequence_output, hidden_states, attentions, cross_attentions = self.encoder(
            embeddings,
            mask,
            encoder_hidden_states=encoder_hidden_states,
            encoder_mask=encoder_mask,
            implementation=implementation,
            output_hidden_states=bool(output_hidden_states),
            cache=step.cache,
            past_length=step.past_length,
        )
        pooled_output = self.pooler(sequence_output) if self.pooler is not None else None
        output = BaseModelOutputWithPoolingAndCrossAttentions(
            last_hidden_state=sequence_output,
            pooler_output=pooled_output,
            hidden_states=hidden_states,
            cache=step.returned_cache,
            attentions=attentions if output_attentions else None,
            # As in transformers 5: an empty tuple when asked for but no cross-attention ran.
            cross_attentions=cross_attentions if output_attentions else None,
        )
        return output if return_dict else output.to_tuple()


def _run_bert(model: BertPreTrainedModel, **kwargs: Any) -> BaseModelOutputWithPoolingAndCrossAttentions:
    return model.bert(**kwargs, return_dict=True)


def _finish_output(output: ModelOutput, return_dict: bool | None, config: BertConfig) -> ModelOutput | tuple:
    return_dict = config.use_return_dict if return_dict is None else return_dict
    return output if return_dict else output.to_tuple()


class BertForPreTraining(BertPreTrainedModel):
    """BERT's pre-training objective: masked-token prediction plus next-sentence prediction."""

    _tied_weights_keys = dict(_TIED_LM_HEAD)

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.bert = BertModel(config)
        self.cls = BertPreTrainingHeads(config)
        self.post_init()

    def forward(
        self,
        input_ids: Tensor | None = None,
        attention_mask: Tensor | None = None,
        token_type_ids: Tensor | None = None,
        position_ids: Tensor | None = None,
        inputs_embeds: Tensor | None = None,
        labels: Tensor | None = None,
        next_sentence_label: Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> BertForPreTrainingOutput | tuple[Tensor, ...]:
        """``labels``: token ids to predict, -100 where no prediction is scored.
        ``next_sentence_label``: 0 when sentence B follows A, 1 when it is random."""
        outputs = _run_bert(
            self,
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            inputs_embeds=inputs_embeds,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
        )
        prediction_scores, seq_relationship_score = self.cls(outputs.last_hidden_state, outputs.pooler_output)
        total_loss = None
        if labels is not None and next_sentence_label is not None:
            total_loss = cross_entropy(
                prediction_scores.view(-1, self.config.vocab_size), labels.view(-1)
            ) + cross_entropy(seq_relationship_score.view(-1, 2), next_sentence_label.view(-1))
        output = BertForPreTrainingOutput(
            loss=total_loss,
            prediction_logits=prediction_scores,
            seq_relationship_logits=seq_relationship_score,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
        )
        return _finish_output(output, return_dict, self.config)


class BertLMHeadModel(BertPreTrainedModel, GenerationMixin):
    """Left-to-right language modelling with BERT's weights (``config.is_decoder=True``).

    Keeps a key/value cache (``use_cache``, ``past_key_values``), so ``generate()``
    costs one position per new token.
    """

    _tied_weights_keys = dict(_TIED_LM_HEAD)

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        if not config.is_decoder:
            logger.warning("BertLMHeadModel attends bidirectionally unless the config sets is_decoder=True.")
        self.bert = BertModel(config, add_pooling_layer=False)
        self.cls = BertOnlyMLMHead(config)
        self.post_init()

    def supports_cache(self) -> bool:
        # Without is_decoder every token attends to later ones too: nothing computed earlier stays valid.
        return bool(self.config.is_decoder)

    def forward(
        self,
        input_ids: Tensor | None = None,
        attention_mask: Tensor | None = None,
        token_type_ids: Tensor | None = None,
        position_ids: Tensor | None = None,
        inputs_embeds: Tensor | None = None,
        encoder_hidden_states: Tensor | None = None,
        encoder_attention_mask: Tensor | None = None,
        labels: Tensor | None = None,
        past_key_values: Any = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        logits_to_keep: int | Tensor = 0,
        num_items_in_batch: Tensor | int | None = None,
        cache: Any = None,
        cache_position: Tensor | None = None,
    ) -> CausalLMOutputWithCrossAttentions | tuple[Tensor, ...]:
        """``labels`` are the input ids themselves (-100 to skip a position): the
        shift that makes position t predict token t+1 happens here.
        ``logits_to_keep``: score only the last N positions (0 means all), or the
        positions a tensor of indices names."""
        outputs = _run_bert(
            self,
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            inputs_embeds=inputs_embeds,
            encoder_hidden_states=encoder_hidden_states,
            encoder_attention_mask=encoder_attention_mask,
            past_key_values=one_cache(past_key_values, cache),
            use_cache=use_cache,
            cache_position=cache_position,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
        )
        logits = self.cls(keep_logits(outputs.last_hidden_state, logits_to_keep))

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
        return _finish_output(output, return_dict, self.config)


class BertForMaskedLM(BertPreTrainedModel):
    """Predicts the tokens hidden behind [MASK]: BERT's fill-in-the-blank head."""

    _tied_weights_keys = dict(_TIED_LM_HEAD)

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        if config.is_decoder:
            logger.warning("BertForMaskedLM needs bidirectional attention; the config sets is_decoder=True.")
        self.bert = BertModel(config, add_pooling_layer=False)
        self.cls = BertOnlyMLMHead(config)
        self.post_init()

    def forward(
        self,
        input_ids: Tensor | None = None,
        attention_mask: Tensor | None = None,
        token_type_ids: Tensor | None = None,
        position_ids: Tensor | None = None,
        inputs_embeds: Tensor | None = None,
        encoder_hidden_states: Tensor | None = None,
        encoder_attention_mask: Tensor | None = None,
        labels: Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> MaskedLMOutput | tuple[Tensor, ...]:
        """``labels``: the original token ids at masked positions, -100 elsewhere."""
        outputs = _run_bert(
            self,
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            inputs_embeds=inputs_embeds,
            encoder_hidden_states=encoder_hidden_states,
            encoder_attention_mask=encoder_attention_mask,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
        )
        prediction_scores = self.cls(outputs.last_hidden_state)
        loss = None
        if labels is not None:
            loss = cross_entropy(prediction_scores.view(-1, self.config.vocab_size), labels.view(-1))
        output = MaskedLMOutput(
            loss=loss, logits=prediction_scores, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )
        return _finish_output(output, return_dict, self.config)


class BertForNextSentencePrediction(BertPreTrainedModel):
    """Scores whether sentence B follows sentence A (logit 0) or is random (logit 1)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.bert = BertModel(config)
        self.cls = BertOnlyNSPHead(config)
        self.post_init()

    def forward(
        self,
        input_ids: Tensor | None = None,
        attention_mask: Tensor | None = None,
        token_type_ids: Tensor | None = None,
        position_ids: Tensor | None = None,
        inputs_embeds: Tensor | None = None,
        labels: Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> NextSentencePredictorOutput | tuple[Tensor, ...]:
        outputs = _run_bert(
            self,
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            inputs_embeds=inputs_embeds,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
        )
        scores = self.cls(outputs.pooler_output)
        loss = None
        if labels is not None:
            loss = cross_entropy(scores.view(-1, 2), labels.view(-1))
        output = NextSentencePredictorOutput(
            loss=loss, logits=scores, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )
        return _finish_output(output, return_dict, self.config)


def _classifier_dropout(config: BertConfig) -> nn.Dropout:
    rate = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
    return nn.Dropout(rate)


class BertForSequenceClassification(BertPreTrainedModel):
    """A linear classifier (or regressor) over the pooled sentence vector.

    The loss follows ``config.problem_type``; when that is unset it is decided
    from the first labels seen and recorded in the config: one label means
    regression (MSE), integer labels mean single-label classification
    (cross-entropy), anything else multi-label classification (BCE with logits).
    """

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.bert = BertModel(config)
        self.dropout = _classifier_dropout(config)
        self.classifier = Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(
        self,
        input_ids: Tensor | None = None,
        attention_mask: Tensor | None = None,
        token_type_ids: Tensor | None = None,
        position_ids: Tensor | None = None,
        inputs_embeds: Tensor | None = None,
        labels: Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> SequenceClassifierOutput | tuple[Tensor, ...]:
        outputs = _run_bert(
            self,
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            inputs_embeds=inputs_embeds,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
        )
        logits = self.classifier(self.dropout(outputs.pooler_output))
        loss = None
        if labels is not None:
            loss = sequence_classification_loss(logits, labels, self.config)
        output = SequenceClassifierOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )
        return _finish_output(output, return_dict, self.config)


class BertForMultipleChoice(BertPreTrainedModel):
    """Scores each of several candidate continuations; inputs are (batch, num_choices, length)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.bert = BertModel(config)
        self.dropout = _classifier_dropout(config)
        self.classifier = Linear(config.hidden_size, 1)
        self.post_init()

    def forward(
        self,
        input_ids: Tensor | None = None,
        attention_mask: Tensor | None = None,
        token_type_ids: Tensor | None = None,
        position_ids: Tensor | None = None,
        inputs_embeds: Tensor | None = None,
        labels: Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> MultipleChoiceModelOutput | tuple[Tensor, ...]:
        """``labels``: index of the right choice for each example."""
        num_choices = input_ids.shape[1] if input_ids is not None else inputs_embeds.shape[1]

        def flatten(tensor: Tensor | None) -> Tensor | None:
            # Every choice becomes its own sequence: (batch * num_choices, length).
            return tensor.reshape(-1, tensor.shape[-1]) if tensor is not None else None

        outputs = _run_bert(
            self,
            input_ids=flatten(input_ids),
            attention_mask=flatten(attention_mask),
            token_type_ids=flatten(token_type_ids),
            position_ids=flatten(position_ids),
            inputs_embeds=(
                inputs_embeds.reshape(-1, inputs_embeds.shape[-2], inputs_embeds.shape[-1])
                if inputs_embeds is not None
                else None
            ),
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
        )
        logits = self.classifier(self.dropout(outputs.pooler_output)).view(-1, num_choices)
        loss = None
        if labels is not None:
            loss = cross_entropy(logits, labels)
        output = MultipleChoiceModelOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )
        return _finish_output(output, return_dict, self.config)


class BertForTokenClassification(BertPreTrainedModel):
    """A label for every token (named entities, parts of speech); -100 labels are skipped."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.bert = BertModel(config, add_pooling_layer=False)
        self.dropout = _classifier_dropout(config)
        self.classifier = Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(
        self,
        input_ids: Tensor | None = None,
        attention_mask: Tensor | None = None,
        token_type_ids: Tensor | None = None,
        position_ids: Tensor | None = None,
        inputs_embeds: Tensor | None = None,
        labels: Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> TokenClassifierOutput | tuple[Tensor, ...]:
        outputs = _run_bert(
            self,
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            inputs_embeds=inputs_embeds,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
        )
        logits = self.classifier(self.dropout(outputs.last_hidden_state))
        loss = None
        if labels is not None:
            loss = token_classification_loss(logits, labels, self.num_labels)
        output = TokenClassifierOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )
        return _finish_output(output, return_dict, self.config)


class BertForQuestionAnswering(BertPreTrainedModel):
    """Extractive QA: for each token, a score for starting and one for ending the answer span."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        if config.num_labels != 2:
            raise ConfigError(
                f"BertForQuestionAnswering needs num_labels=2 (start and end scores), but the config has "
                f"{config.num_labels}; build it with num_labels=2."
            )
        self.num_labels = config.num_labels
        self.bert = BertModel(config, add_pooling_layer=False)
        self.qa_outputs = Linear(config.hidden_size, config.num_labels)
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
    ) -> QuestionAnsweringModelOutput | tuple[Tensor, ...]:
        """Positions beyond the sequence (answers truncated away) are ignored by the loss."""
        outputs = _run_bert(
            self,
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            inputs_embeds=inputs_embeds,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
        )
        logits = self.qa_outputs(outputs.last_hidden_state)
        start_logits, end_logits = (part.squeeze(-1).contiguous() for part in logits.split(1, dim=-1))
        total_loss = None
        if start_positions is not None and end_positions is not None:
            total_loss = span_loss(start_logits, end_logits, start_positions, end_positions)
        output = QuestionAnsweringModelOutput(
            loss=total_loss,
            start_logits=start_logits,
            end_logits=end_logits,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
        )
        return _finish_output(output, return_dict, self.config)


__all__ = [
    "BertForMaskedLM",
    "BertForMultipleChoice",
    "BertForNextSentencePrediction",
    "BertForPreTraining",
    "BertForPreTrainingOutput",
    "BertForQuestionAnswering",
    "BertForSequenceClassification",
    "BertForTokenClassification",
    "BertLMHeadModel",
    "BertLayer",
    "BertModel",
    "BertPreTrainedModel",
]
