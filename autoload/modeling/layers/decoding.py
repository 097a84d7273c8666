"""What every decoder's forward settles before its first layer runs, and how its heads read the result.

A decoder is called three ways: on a whole prompt, on one new token with the
cache of the tokens before it (generation), and in training.  The rules that
pick the cache, the absolute positions of the new tokens and the size of the
key/value window are the same for every architecture, so they live here and a
plugin's ``forward`` reads::

    flags = output_flags(config, output_attentions, output_hidden_states, return_dict)
    step = decoder_inputs(self, input_ids, inputs_embeds, past_key_values=past_key_values, cache=cache,
                          use_cache=use_cache, cache_position=cache_position, position_ids=position_ids)
    ...  # embed, build the causal mask from step.cache_position / step.kv_length / step.kv_offset
    return BaseModelOutputWithPast(..., past_key_values=step.returned_cache)

The heads' shared pieces are here too: :func:`keep_logits` (which positions
get a vocabulary projection) and :func:`last_token_logits` (sequence
classification by a decoder, which reads the last real token of each row).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, NamedTuple

import torch
from torch import nn

from autoload.errors import ModelInputError
from autoload.generation.cache import Cache, DynamicCache, EncoderDecoderCache

Tensor = torch.Tensor

logger = logging.getLogger(__name__)


class OutputFlags(NamedTuple):
    """The three output switches of a forward, each the caller's value or else the config's."""

    output_attentions: bool
    output_hidden_states: bool
    return_dict: bool


def output_flags(
    config: Any,
    output_attentions: bool | None = None,
    output_hidden_states: bool | None = None,
    return_dict: bool | None = None,
) -> OutputFlags:
    """Fill the switches the caller left as ``None`` from ``config``; unpack or read by name."""
    return OutputFlags(
        bool(config.output_attentions if output_attentions is None else output_attentions),
        bool(config.output_hidden_states if output_hidden_states is None else output_hidden_states),
        bool(config.use_return_dict if return_dict is None else return_dict),
    )


def require_one_input(input_ids: Tensor | None, inputs_embeds: Tensor | None, owner: str) -> None:
    """Token ids or their embeddings, never both nor neither: the model could not tell which to trust."""
    if (input_ids is None) == (inputs_embeds is None):
        raise ModelInputError(
            f"{owner} needs exactly one of input_ids and inputs_embeds, "
            f"but got {'both' if input_ids is not None else 'neither'}."
        )


def one_cache(past_key_values: Any, cache: Any) -> Cache | None:
    """The key/value cache given under either name (``cache`` is transformers 5's), checked to be a Cache."""
    if past_key_values is not None and cache is not None and past_key_values is not cache:
        raise ModelInputError("Pass the key/value cache once: as past_key_values or as cache, not both.")
    found = past_key_values if past_key_values is not None else cache
    if found is not None and not isinstance(found, Cache):
        raise ModelInputError(
            "past_key_values must be an autoload.generation Cache (DynamicCache, StaticCache...), not "
            f"{type(found).__name__}; wrap legacy tuples with DynamicCache.from_legacy_cache(...)."
        )
    return found


def resolve_use_cache(model: nn.Module, use_cache: bool | None) -> bool:
    """The caller's ``use_cache``, else the config's; off while gradient checkpointing trains.

    A checkpointed layer runs twice (forward, then again in backward) and
    would append its keys and values to the cache a second time.
    """
    resolved = bool(getattr(model.config, "use_cache", True) if use_cache is None else use_cache)
    checkpointing = getattr(model, "gradient_checkpointing", False) and model.training and torch.is_grad_enabled()
    if resolved and checkpointing:
        if use_cache:
            logger.warning("use_cache=True is ignored while training with gradient checkpointing.")
        return False
    return resolved


@dataclass(frozen=True)
class DecoderInputs:
    """Where the new tokens stand: the cache to update, their absolute positions and the key/value window.

    ``cache`` is what the layers update (``None`` runs without one);
    ``returned_cache`` is what the output carries (``None`` unless caching was
    asked for).  ``kv_length``/``kv_offset`` are the size and first absolute
    position of the keys the new tokens attend to, as the mask builders want them.
    """

    cache: Cache | None
    use_cache: bool
    past_length: int
    cache_position: Tensor
    position_ids: Tensor
    kv_length: int
    kv_offset: int

    @property
    def returned_cache(self) -> Cache | None:
        return self.cache if self.use_cache else None


def decoder_inputs(
    model: nn.Module,
    input_ids: Tensor | None = None,
    inputs_embeds: Tensor | None = None,
    *,
    past_key_values: Any = None,
    cache: Any = None,
    use_cache: bool | None = None,
    cache_position: Tensor | None = None,
    position_ids: Tensor | None = None,
    cross_attention: bool = False,
) -> DecoderInputs:
    """Settle the cache and positions for one decoder call on ``input_ids`` or ``inputs_embeds``.

    - exactly one of ``input_ids`` (batch, length) and ``inputs_embeds``
      (batch, length, hidden) must be given;
    - the cache comes as ``past_key_values`` or ``cache``; with caching on and
      none given a :class:`DynamicCache` is made, wrapped in an
      :class:`EncoderDecoderCache` when the decoder has ``cross_attention``;
    - ``cache_position`` defaults to the positions after the cached tokens and
      ``position_ids`` to ``cache_position`` (left-padded batches pass their own);
    - the key/value window comes from the cache's ``get_mask_sizes`` (a static
      cache's window is its whole length).
    """
    require_one_input(input_ids, inputs_embeds, f"{type(model).__name__}.forward")
    past_key_values = one_cache(past_key_values, cache)
    use_cache = resolve_use_cache(model, use_cache)
    if use_cache and past_key_values is None:
        past_key_values = DynamicCache()
    if use_cache and cross_attention and not isinstance(past_key_values, EncoderDecoderCache):
        past_key_values = EncoderDecoderCache(past_key_values, DynamicCache())

    # The sequence axis is the last of the ids and the one before the hidden axis of the embeddings
    # (multiple-choice heads pass a choices axis in front).
    new_tokens = inputs_embeds if inputs_embeds is not None else input_ids
    length = new_tokens.shape[-2] if inputs_embeds is not None else new_tokens.shape[-1]
    past_length = past_key_values.get_seq_length() if past_key_values is not None else 0
    if cache_position is None:
        cache_position = torch.arange(past_length, past_length + length, device=new_tokens.device)
    if position_ids is None:
        position_ids = cache_position.unsqueeze(0)
    if past_key_values is not None:
        kv_length, kv_offset = past_key_values.get_mask_sizes(cache_position, 0)
    else:
        kv_length, kv_offset = past_length + length, 0
    return DecoderInputs(
        cache=past_key_values,
        use_cache=use_cache,
        past_length=past_length,
        cache_position=cache_position,
        position_ids=position_ids,
        kv_length=kv_length,
        kv_offset=kv_offset,
    )


def keep_logits(hidden_states: Tensor, logits_to_keep: int | Tensor = 0) -> Tensor:
    """The positions whose logits are wanted: all (``0``), the last ``n``, or the given indices.

    Generation needs only the last position: projecting the rest of the
    prompt onto the vocabulary would be wasted work.
    """
    if isinstance(logits_to_keep, int):
        return hidden_states if logits_to_keep == 0 else hidden_states[:, -logits_to_keep:, :]
    return hidden_states[:, logits_to_keep, :]


def last_token_logits(logits: Tensor, input_ids: Tensor | None, pad_token_id: int | None, owner: str) -> Tensor:
    """Each row's logits at its last real token, for a decoder that classifies whole sequences.

    A causal decoder's last token is the only one that has seen all the
    others.  The last real token is the rightmost one that is not
    ``pad_token_id``, whichever side the batch was padded on; a pad id in the
    middle of the text does not cut it short.  Without ``input_ids`` padding
    cannot be seen and the last position is read; without ``pad_token_id`` only
    a batch of one can be classified.
    """
    batch_size, length = logits.shape[:2]
    if pad_token_id is None and batch_size != 1:
        raise ModelInputError(
            f"{owner} needs config.pad_token_id to find the last real token of each row of a batch of "
            f"{batch_size}; set it (e.g. to the tokenizer's pad_token_id), or classify one row at a time."
        )
    if pad_token_id is None or input_ids is None:
        if pad_token_id is not None:
            logger.warning("%s cannot tell padding apart in inputs_embeds; it reads the last position.", owner)
        last = torch.full((batch_size,), length - 1, device=logits.device, dtype=torch.long)
    else:
        not_pad = (input_ids != pad_token_id).to(logits.device, torch.int32)
        positions = torch.arange(input_ids.shape[-1], device=logits.device, dtype=torch.int32)
        last = (positions * not_pad).argmax(-1)
    return logits[torch.arange(batch_size, device=logits.device), last]


__all__ = [
    "DecoderInputs",
    "OutputFlags",
    "decoder_inputs",
    "keep_logits",
    "last_token_logits",
    "one_cache",
    "output_flags",
    "require_one_input",
    "resolve_use_cache",
]
