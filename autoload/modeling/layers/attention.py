"""Scaled dot-product attention, eager or through ``torch.nn.functional.scaled_dot_product_attention``.

A model computes its queries, keys and values, builds one mask per forward
with :mod:`autoload.modeling.layers.masks`, and calls :func:`attention` in each
layer.  The implementation comes from ``config._attn_implementation``
(``from_pretrained(attn_implementation=...)``), ``"sdpa"`` by default; asking
for the attention probabilities (``output_attentions=True``) needs the eager
path, which :func:`attention_implementation` chooses for you.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.nn import functional as F

from autoload.errors import ConfigError

Tensor = torch.Tensor

IMPLEMENTATIONS = ("sdpa", "eager")


def attention_implementation(config: Any, output_attentions: bool = False) -> str:
    """``"eager"`` or ``"sdpa"``: the config's choice, or eager when probabilities must be returned."""
    implementation = getattr(config, "_attn_implementation", None) or "sdpa"
    if implementation not in IMPLEMENTATIONS:
        raise ConfigError(
            f"attn_implementation={implementation!r} is not available; use 'sdpa' (the default) or 'eager'."
        )
    return "eager" if output_attentions else implementation


def repeat_kv(states: Tensor, repeats: int) -> Tensor:
    """Grouped-query attention: each of the ``(batch, kv_heads, length, dim)`` heads serves ``repeats`` query heads."""
    if repeats == 1:
        return states
    batch, kv_heads, length, dim = states.shape
    return (
        states[:, :, None, :, :]
        .expand(batch, kv_heads, repeats, length, dim)
        .reshape(batch, kv_heads * repeats, length, dim)
    )


def attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    mask: Tensor | None,
    *,
    implementation: str = "sdpa",
    scaling: float | None = None,
    dropout: float = 0.0,
    is_causal: bool = False,
    num_key_value_groups: int = 1,
    softmax_in_float32: bool = True,
    position_bias: Tensor | None = None,
) -> tuple[Tensor, Tensor | None]:
    """Attend ``(batch, heads, q_len, dim)`` queries to ``(batch, kv_heads, kv_len, dim)`` keys and values.

    ``mask`` is what the mask builders returned for this implementation.
    ``is_causal`` says the layer is a decoder's self-attention: with no mask
    (the builder found nothing beyond causality to mask) SDPA then masks the
    future itself.  ``dropout`` is the probability to use now (pass 0.0 in
    eval mode).  ``softmax_in_float32`` upcasts the eager softmax, as most
    models do; BERT-era models take it in the activations' dtype.
    ``position_bias`` (T5) is added to the scores before the mask.

    Returns the output as ``(batch, q_len, heads, dim)`` (contiguous, ready
    to be flattened to the hidden size) and, on the eager path, the
    probabilities ``(batch, heads, q_len, kv_len)``.
    """
    if implementation == "eager":
        return _eager(
            query,
            key,
            value,
            mask,
            scaling,
            dropout,
            is_causal,
            num_key_value_groups,
            softmax_in_float32,
            position_bias,
        )
    if implementation != "sdpa":
        raise ConfigError(f"attention implementation {implementation!r} is not one of {IMPLEMENTATIONS}.")
    return _sdpa(query, key, value, mask, scaling, dropout, is_causal, num_key_value_groups, position_bias), None


def _future_hidden(query_length: int, kv_length: int, device: torch.device) -> Tensor:
    # Lower-right aligned: the last query sees every key.
    shift = kv_length - query_length
    return torch.arange(query_length, device=device)[:, None] + shift >= torch.arange(kv_length, device=device)[None, :]


def _eager(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    mask: Tensor | None,
    scaling: float | None,
    dropout: float,
    is_causal: bool,
    groups: int,
    softmax_in_float32: bool,
    position_bias: Tensor | None,
) -> tuple[Tensor, Tensor]:
    key = repeat_kv(key, groups)
    value = repeat_kv(value, groups)
    if scaling is None:
        scaling = query.shape[-1] ** -0.5
    scores = torch.matmul(query, key.transpose(2, 3)) * scaling
    if position_bias is not None:
        scores = scores + position_bias
    if mask is not None:
        if mask.dtype == torch.bool:
            mask = torch.where(mask, 0.0, torch.finfo(scores.dtype).min).to(scores.dtype)
        scores = scores + mask
    elif is_causal and query.shape[2] > 1:
        allowed = _future_hidden(query.shape[2], key.shape[2], query.device)
        scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min)
    if softmax_in_float32:
        probabilities = F.softmax(scores, dim=-1, dtype=torch.float32).to(query.dtype)
    else:
        probabilities = F.softmax(scores, dim=-1)
    if dropout > 0.0:
        probabilities = F.dropout(probabilities, p=dropout, training=True)
    output = torch.matmul(probabilities, value)
    return output.transpose(1, 2).contiguous(), probabilities


def _sdpa(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    mask: Tensor | None,
    scaling: float | None,
    dropout: float,
    is_causal: bool,
    groups: int,
    position_bias: Tensor | None,
) -> Tensor:
    extra: dict[str, Any] = {}
    if groups > 1:
        if mask is None and key.shape[-1] == value.shape[-1] <= 256:
            extra["enable_gqa"] = True
        else:
            key = repeat_kv(key, groups)
            value = repeat_kv(value, groups)
    query_length = query.shape[2]
    causal = is_causal and mask is None and query_length > 1
    if causal and key.shape[2] > query_length:
        # A prefill into a static cache: keys beyond the queries are empty slots in the future.
        key = key[:, :, :query_length]
        value = value[:, :, :query_length]
        if position_bias is not None:
            position_bias = position_bias[..., :query_length]
    if position_bias is not None:
        minimum = torch.finfo(query.dtype).min
        if mask is None:
            if causal:
                allowed = _future_hidden(query_length, key.shape[2], query.device)
                mask = torch.where(allowed, position_bias, minimum)
            else:
                mask = position_bias
        elif mask.dtype == torch.bool:
            mask = torch.where(mask, position_bias, minimum)
        else:
            mask = position_bias + mask
        mask = mask.to(query.dtype).contiguous()
        causal = False
    output = F.scaled_dot_product_attention(
        query, key, value, attn_mask=mask, dropout_p=dropout, is_causal=causal, scale=scaling, **extra
    )
    return output.transpose(1, 2).contiguous()


__all__ = ["IMPLEMENTATIONS", "attention", "attention_implementation", "repeat_kv"]
