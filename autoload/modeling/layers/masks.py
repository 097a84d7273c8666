"""Attention masks: from the user's 2-D padding mask to what an attention implementation consumes.

Every builder returns, for the implementation it is asked for:

- ``"sdpa"``: a boolean ``(batch, 1, query_length, kv_length)`` tensor, True
  where a query may attend to a key, or ``None`` when nothing needs masking
  beyond what :func:`~autoload.modeling.layers.attention.attention`'s
  ``is_causal`` does by itself (so SDPA can pick its fastest kernels);
- ``"eager"``: the same pattern as an additive float mask (0 where allowed,
  the dtype's most negative value where not), or ``None`` when nothing is
  masked.

Positions are absolute.  A decoder step with a key/value cache asks for a
block of ``query_length`` queries starting at ``query_offset`` (the first
entry of ``cache_position``, i.e. how many tokens came before) against
``kv_length`` keys whose first one sits at ``kv_offset`` (0 unless a sliding
cache dropped older keys).  The 2-D ``attention_mask`` covers every token so
far, ``(batch, past + current)``, 1 = real token, 0 = padding; it is padded
with "attend" columns when the cache holds more slots than it covers (a static
cache's free slots are hidden by causality anyway).

These are the semantics of transformers' ``masking_utils`` (``sdpa_mask``,
``eager_mask``), including when a mask may be skipped, so outputs agree with it
on left-padded batches with and without a cache.  A query row with nothing to
attend to (a left-padding position) stays all-masked: SDPA gives zeros there,
eager attention a uniform average, neither NaN.
"""

from __future__ import annotations

import torch

from autoload.errors import ProcessingError

Tensor = torch.Tensor

IMPLEMENTATIONS = ("sdpa", "eager")


def _check_implementation(implementation: str) -> None:
    if implementation not in IMPLEMENTATIONS:
        raise ProcessingError(
            f"attention implementation {implementation!r} has no mask builder; use one of {IMPLEMENTATIONS}."
        )


def _as_offset(value: int | Tensor | None) -> int:
    if value is None:
        return 0
    if isinstance(value, Tensor):
        return int(value.reshape(-1)[0]) if value.numel() else 0
    return int(value)


def _prepared(mask: Tensor, implementation: str, dtype: torch.dtype, device: torch.device) -> Tensor:
    """A mask the caller already built in 3-D or 4-D: taken as it is, converted to the implementation's kind."""
    if mask.dim() == 3:
        mask = mask[:, None, :, :]
    mask = mask.to(device)
    if mask.dtype == torch.bool:
        return _finish(mask, implementation, dtype)
    return mask.to(dtype)


def _padding(attention_mask: Tensor | None, kv_length: int, kv_offset: int, device: torch.device) -> Tensor | None:
    """The 2-D mask as booleans over absolute key positions ``kv_offset .. kv_offset + kv_length``."""
    if attention_mask is None:
        return None
    if attention_mask.dim() != 2:
        raise ProcessingError(
            "attention_mask must have shape (batch, key_length), (batch, query_length, key_length) or "
            f"(batch, 1, query_length, key_length), but it has shape {tuple(attention_mask.shape)}."
        )
    keep = attention_mask.to(device=device, dtype=torch.bool)
    missing = kv_offset + kv_length - keep.shape[-1]
    if missing > 0:
        keep = torch.nn.functional.pad(keep, (0, missing), value=True)
    return keep[:, kv_offset : kv_offset + kv_length]


def _finish(allowed: Tensor, implementation: str, dtype: torch.dtype) -> Tensor:
    if implementation == "sdpa":
        return allowed
    zero = torch.zeros((), dtype=dtype, device=allowed.device)
    return torch.where(allowed, zero, torch.finfo(dtype).min)


def _check_length(attention_mask: Tensor | None, needed: int, what: str) -> None:
    if attention_mask is not None and attention_mask.dim() == 2 and attention_mask.shape[-1] < needed:
        raise ProcessingError(
            f"{what} covers {attention_mask.shape[-1]} positions, but there are {needed} to attend to; pass the "
            "mask that covers every token so far (past and current), as the tokenizer returned it."
        )


def causal_mask(
    implementation: str,
    *,
    batch_size: int,
    query_length: int,
    kv_length: int | None = None,
    query_offset: int | Tensor | None = None,
    kv_offset: int = 0,
    attention_mask: Tensor | None = None,
    sliding_window: int | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
    allow_skip: bool = True,
) -> Tensor | None:
    """The mask of a decoder's self-attention: causal, padding, and optionally a sliding window.

    ``query_offset`` is the absolute position of the first query: an int, or
    ``cache_position`` itself (its first entry is used).  ``kv_length`` defaults
    to ``query_offset + query_length`` (every token so far) and ``kv_offset`` to
    0; a cache reports both (``cache.get_mask_sizes``).  With
    ``sliding_window=w`` a query at position p sees keys p-w+1 .. p.
    ``allow_skip=False`` always materialises the mask.
    """
    _check_implementation(implementation)
    device = torch.device(device)
    if attention_mask is not None and attention_mask.dim() in (3, 4):
        return _prepared(attention_mask, implementation, dtype, device)
    q_offset = _as_offset(query_offset)
    if kv_length is None:
        kv_length = q_offset + query_length
    _check_length(attention_mask, q_offset + query_length, "attention_mask")
    keep = _padding(attention_mask, kv_length, kv_offset, device)
    if (
        implementation == "sdpa"
        and allow_skip
        and _causal_skippable(keep, query_length, kv_length, q_offset, kv_offset, sliding_window)
    ):
        return None

    q_positions = torch.arange(q_offset, q_offset + query_length, device=device)[:, None]
    kv_positions = torch.arange(kv_offset, kv_offset + kv_length, device=device)[None, :]
    allowed = kv_positions <= q_positions
    if sliding_window is not None:
        allowed = allowed & (kv_positions > q_positions - sliding_window)
    allowed = allowed[None, None, :, :]
    if keep is not None:
        allowed = allowed & keep[:, None, None, :]
    return _finish(allowed.expand(batch_size, 1, query_length, kv_length), implementation, dtype)


def _causal_skippable(
    keep: Tensor | None, query_length: int, kv_length: int, q_offset: int, kv_offset: int, sliding_window: int | None
) -> bool:
    """Whether SDPA's own ``is_causal`` (or no mask at all, for one query) gives the same result.

    Never when keys lie after the last query (the free slots of a static cache
    during decoding): without a mask a query would attend to them.
    """
    if sliding_window is not None and kv_length >= sliding_window:
        return False
    no_padding = keep is None or bool(keep.all())
    keys_end_with_queries = kv_offset + kv_length == q_offset + query_length
    if no_padding and keys_end_with_queries and (query_length == 1 or kv_length == query_length):
        return True
    # A prefill into a static cache: its free slots lie in the future, which SDPA's top-left causal mask hides.
    return (
        q_offset == 0
        and kv_offset == 0
        and (keep is None or (bool(keep[:, :query_length].all()) and not bool(keep[:, query_length:].any())))
    )


def bidirectional_mask(
    implementation: str,
    *,
    batch_size: int,
    query_length: int,
    kv_length: int,
    attention_mask: Tensor | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
    allow_skip: bool = True,
    what: str = "attention_mask",
) -> Tensor | None:
    """The mask of an encoder's self-attention, or of cross-attention to an encoder (keys = encoder states).

    Only padding is masked; with no padding the result is ``None`` (unless
    ``allow_skip=False``).  ``what`` names the argument in error messages
    (``"encoder_attention_mask"``).
    """
    _check_implementation(implementation)
    device = torch.device(device)
    if attention_mask is None:
        if allow_skip:
            return None
        return _finish(
            torch.ones(batch_size, 1, query_length, kv_length, dtype=torch.bool, device=device), implementation, dtype
        )
    if attention_mask.dim() in (3, 4):
        return _prepared(attention_mask, implementation, dtype, device)
    if attention_mask.dim() == 2 and attention_mask.shape[-1] != kv_length:
        raise ProcessingError(
            f"{what} covers {attention_mask.shape[-1]} positions, but there are {kv_length} to attend to; "
            "pass the mask that was returned together with these inputs."
        )
    keep = _padding(attention_mask, kv_length, 0, device)
    if allow_skip and bool(keep.all()):
        return None
    allowed = keep[:, None, None, :].expand(batch_size, 1, query_length, kv_length)
    return _finish(allowed, implementation, dtype)


def padding_positions(attention_mask: Tensor) -> Tensor:
    """``position_ids`` for a left-padded batch: 0 at each row's first real token, counting up (1 on padding).

    This is what GPT-style models use when generating from a left-padded batch,
    so each row's positions do not depend on how much padding it got.
    """
    positions = attention_mask.long().cumsum(-1) - 1
    return positions.masked_fill(attention_mask == 0, 1)


__all__ = ["IMPLEMENTATIONS", "bidirectional_mask", "causal_mask", "padding_positions"]
