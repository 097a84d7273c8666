"""NewModel: a small transformer encoder and its task heads, in plain PyTorch.

Post-norm layers of self-attention and a feed-forward block over learned token
and position embeddings.  ``PreTrainedModel`` brings ``from_pretrained``,
``from_config``, ``save_pretrained``, weight initialisation and tying; each
class here only builds its modules and defines ``forward``.
"""

from __future__ import annotations

import torch
from autoload.modeling import (
    BaseModelOutput,
    PreTrainedModel,
    SequenceClassifierOutput,
)
from autoload.modeling.layers import Linear
from torch import nn
from torch.nn import functional as F

from autoload_plugin_new_model.configuration import NewModelConfig


class NewModelEmbeddings(nn.Module):
    def __init__(self, config: NewModelConfig) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        # A real tensor even when the model is built on the meta device to load a checkpoint.
        positions = torch.arange(config.max_position_embeddings).unsqueeze(0)
        self.register_buffer("position_ids", positions, persistent=False)

    def forward(self, input_ids: torch.Tensor, position_ids: torch.Tensor | None = None) -> torch.Tensor:
        positions = self.position_ids[:, : input_ids.shape[-1]] if position_ids is None else position_ids
        embeddings = self.word_embeddings(input_ids) + self.position_embeddings(positions)
        return self.dropout(self.layer_norm(embeddings))


class NewModelSelfAttention(nn.Module):
    def __init__(self, config: NewModelConfig) -> None:
        super().__init__()
        self.num_heads = config.num_attention_heads
        self.head_dim = config.hidden_size // config.num_attention_heads
        self.qkv = Linear(config.hidden_size, 3 * config.hidden_size)
        self.output = Linear(config.hidden_size, config.hidden_size)
        self.dropout_prob = config.attention_probs_dropout_prob

    def forward(self, hidden_states: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        batch, length, width = hidden_states.shape
        qkv = self.qkv(hidden_states).view(batch, length, 3, self.num_heads, self.head_dim)
        query, key, value = qkv.permute(2, 0, 3, 1, 4)
        context = F.scaled_dot_product_attention(
            query, key, value, attn_mask=mask, dropout_p=self.dropout_prob if self.training else 0.0
        )
        return self.output(context.transpose(1, 2).reshape(batch, length, width))


class NewModelLayer(nn.Module):
    def __init__(self, config: NewModelConfig) -> None:
        super().__init__()
        self.attention = NewModelSelfAttention(config)
        self.attention_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.intermediate = Linear(config.hidden_size, config.intermediate_size)
        self.output = Linear(config.intermediate_size, config.hidden_size)
        self.output_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        attended = self.attention_norm(hidden_states + self.dropout(self.attention(hidden_states, mask)))
        transformed = self.output(F.gelu(self.intermediate(attended)))
        return self.output_norm(attended + self.dropout(transformed))


class NewModelPreTrainedModel(PreTrainedModel):
    """What every class here shares: the config class and where head models keep the encoder.

    The base class's ``_init_weights`` (normal linear and embedding weights,
    zero biases, unit layer norms) suits this architecture; override it when
    yours needs another initialisation.
    """

    config_class = NewModelConfig
    base_model_prefix = "new_model"
    main_input_name = "input_ids"


class NewModel(NewModelPreTrainedModel):
    """The encoder without a head: one hidden state per token."""

    def __init__(self, config: NewModelConfig) -> None:
        super().__init__(config)
        self.embeddings = NewModelEmbeddings(config)
        self.layers = nn.ModuleList(NewModelLayer(config) for _ in range(config.num_hidden_layers))
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        return self.embeddings.word_embeddings

    def set_input_embeddings(self, value: nn.Module) -> None:
        self.embeddings.word_embeddings = value

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        is_causal: bool | None = None,
        position_ids: torch.Tensor | None = None,
    ) -> BaseModelOutput | tuple[torch.Tensor, ...]:
        """``attention_mask``: 1 for tokens to attend to, 0 for padding; ``is_causal``: attend only leftwards;
        ``position_ids``: each token's position (left-padded rows count from their first real token)."""
        output_hidden_states = (
            self.config.output_hidden_states if output_hidden_states is None else output_hidden_states
        )
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        is_causal = self.config.is_decoder if is_causal is None else is_causal
        length = input_ids.shape[-1]
        mask = None  # boolean, True where a query may attend to a key
        if attention_mask is not None:
            mask = attention_mask.bool()[:, None, None, :]
        if is_causal:
            causal = torch.ones(length, length, dtype=torch.bool, device=input_ids.device).tril()
            mask = causal if mask is None else mask & causal
        hidden_states = self.embeddings(input_ids, position_ids)
        all_hidden_states = [hidden_states] if output_hidden_states else None
        for layer in self.layers:
            hidden_states = layer(hidden_states, mask)
            if all_hidden_states is not None:
                all_hidden_states.append(hidden_states)
        output = BaseModelOutput(
            last_hidden_state=hidden_states,
            hidden_states=tuple(all_hidden_states) if all_hidden_states is not None else None,
        )
        return output if return_dict else output.to_tuple()


class NewModelForSequenceClassification(NewModelPreTrainedModel):
    """The encoder with a classifier over the first token's state (``num_labels == 1``: regression)."""

    def __init__(self, config: NewModelConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.new_model = NewModel(config)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.classifier = Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> SequenceClassifierOutput | tuple[torch.Tensor, ...]:
        """``labels``: one class index (or value, for regression) per sequence."""
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        encoded = self.new_model(
            input_ids, attention_mask=attention_mask, output_hidden_states=output_hidden_states, return_dict=True
        )
        features = encoded.last_hidden_state[:, 0]
        logits = self.classifier(self.dropout(features))
        loss = None
        if labels is not None:
            if self.num_labels == 1:  # regression
                loss = F.mse_loss(logits.squeeze(-1).float(), labels.float())
            else:
                loss = F.cross_entropy(logits.float(), labels.view(-1))
        output = SequenceClassifierOutput(loss=loss, logits=logits, hidden_states=encoded.hidden_states)
        return output if return_dict else output.to_tuple()


__all__ = [
    "NewModel",
    "NewModelForSequenceClassification",
    "NewModelPreTrainedModel",
]
