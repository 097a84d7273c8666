"""The losses task heads compute, with transformers' conventions (-100 = no label, problem types)."""

from __future__ import annotations

from typing import Any

import torch
from torch.nn import functional as F

from autoload.errors import ConfigError

Tensor = torch.Tensor

IGNORE_INDEX = -100
PROBLEM_TYPES = ("regression", "single_label_classification", "multi_label_classification")


def cross_entropy(
    logits: Tensor,
    labels: Tensor,
    *,
    num_items_in_batch: Tensor | int | None = None,
    ignore_index: int = IGNORE_INDEX,
) -> Tensor:
    """Mean cross-entropy over labelled items, or (gradient accumulation) their sum over ``num_items_in_batch``.

    Dividing by the number of labelled tokens in the whole accumulated batch,
    rather than averaging each micro-batch, gives every token the same weight.
    """
    if num_items_in_batch is None:
        return F.cross_entropy(logits, labels, ignore_index=ignore_index)
    total = F.cross_entropy(logits, labels, ignore_index=ignore_index, reduction="sum")
    if torch.is_tensor(num_items_in_batch):
        num_items_in_batch = num_items_in_batch.to(total.device)
    return total / num_items_in_batch


def causal_lm_loss(
    logits: Tensor,
    labels: Tensor,
    vocab_size: int,
    *,
    num_items_in_batch: Tensor | int | None = None,
    ignore_index: int = IGNORE_INDEX,
    shift_labels: Tensor | None = None,
) -> Tensor:
    """Next-token loss: ``labels`` are the input ids (-100 to skip), shifted here so position t predicts t+1.

    Computed in float32 whatever the logits' dtype.  ``shift_labels`` passes
    labels already aligned with the logits (no shift).
    """
    logits = logits.float()
    if shift_labels is None:
        shift_labels = F.pad(labels, (0, 1), value=ignore_index)[..., 1:].contiguous()
    flat_logits = logits.view(-1, vocab_size)
    flat_labels = shift_labels.view(-1).to(flat_logits.device)
    return cross_entropy(flat_logits, flat_labels, num_items_in_batch=num_items_in_batch, ignore_index=ignore_index)


def masked_lm_loss(
    logits: Tensor,
    labels: Tensor,
    vocab_size: int,
    *,
    num_items_in_batch: Tensor | int | None = None,
    ignore_index: int = IGNORE_INDEX,
) -> Tensor:
    """Loss of a fill-in-the-blank head: labels at masked positions, -100 elsewhere; float32."""
    flat_labels = labels.view(-1).to(logits.device)
    return cross_entropy(
        logits.float().view(-1, vocab_size),
        flat_labels,
        num_items_in_batch=num_items_in_batch,
        ignore_index=ignore_index,
    )


def sequence_classification_loss(
    logits: Tensor, labels: Tensor, config: Any, *, record_problem_type: bool = True
) -> Tensor:
    """Regression, single-label or multi-label classification loss, as ``config.problem_type`` says.

    When ``problem_type`` is unset it is decided from the first labels seen and
    recorded in the config (as transformers does): one label means regression
    (MSE), integer labels single-label classification (cross-entropy), anything
    else multi-label classification (binary cross-entropy with logits).
    ``record_problem_type=False`` decides the same way but leaves the config untouched.
    """
    num_labels = config.num_labels
    problem_type = config.problem_type
    if problem_type is None:
        if num_labels == 1:
            problem_type = "regression"
        elif labels.dtype in (torch.long, torch.int):
            problem_type = "single_label_classification"
        else:
            problem_type = "multi_label_classification"
        if record_problem_type:
            config.problem_type = problem_type
    labels = labels.to(logits.device)
    if problem_type == "regression":
        if num_labels == 1:
            return F.mse_loss(logits.squeeze(), labels.squeeze())
        return F.mse_loss(logits, labels)
    if problem_type == "single_label_classification":
        return F.cross_entropy(logits.view(-1, num_labels), labels.view(-1), ignore_index=IGNORE_INDEX)
    if problem_type == "multi_label_classification":
        return F.binary_cross_entropy_with_logits(logits, labels)
    raise ConfigError(f"problem_type={problem_type!r} is not one of {', '.join(map(repr, PROBLEM_TYPES))}.")


def token_classification_loss(logits: Tensor, labels: Tensor, num_labels: int) -> Tensor:
    """A label per token, -100 where there is none (special tokens, continuation pieces of a word)."""
    return F.cross_entropy(logits.view(-1, num_labels), labels.view(-1).to(logits.device), ignore_index=IGNORE_INDEX)


def span_loss(start_logits: Tensor, end_logits: Tensor, start_positions: Tensor, end_positions: Tensor) -> Tensor:
    """Extractive question answering: mean of the start and end position losses.

    Positions outside the sequence (answers truncated away) are clamped onto
    one index past the end, which the loss ignores.
    """
    if start_positions.dim() > 1:
        start_positions = start_positions.squeeze(-1)
    if end_positions.dim() > 1:
        end_positions = end_positions.squeeze(-1)
    ignored = start_logits.shape[1]
    start_positions = start_positions.clamp(0, ignored).to(start_logits.device)
    end_positions = end_positions.clamp(0, ignored).to(end_logits.device)
    start_loss = F.cross_entropy(start_logits, start_positions, ignore_index=ignored)
    end_loss = F.cross_entropy(end_logits, end_positions, ignore_index=ignored)
    return (start_loss + end_loss) / 2


__all__ = [
    "IGNORE_INDEX",
    "PROBLEM_TYPES",
    "causal_lm_loss",
    "cross_entropy",
    "masked_lm_loss",
    "sequence_classification_loss",
    "shift_tokens_right",
    "span_loss",
    "token_classification_loss",
]


def shift_tokens_right(input_ids: Tensor, pad_token_id: int | None, decoder_start_token_id: int | None) -> Tensor:
    """Decoder inputs from seq2seq labels: prepend the start token, drop the last, -100 becomes padding."""
    if decoder_start_token_id is None:
        raise ConfigError(
            "The config has no decoder_start_token_id, which is needed to build decoder inputs from labels."
        )
    if pad_token_id is None:
        raise ConfigError("The config has no pad_token_id, which is needed to replace -100 in labels.")
    shifted = input_ids.new_zeros(input_ids.shape)
    shifted[:, 1:] = input_ids[:, :-1].clone()
    shifted[:, 0] = decoder_start_token_id
    return shifted.masked_fill(shifted == IGNORE_INDEX, pad_token_id)
