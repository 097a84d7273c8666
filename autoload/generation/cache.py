"""Key/value caches: what a decoder keeps of past tokens so each new token costs one step, not a re-run.

A cache holds, for every attention layer, the keys and values of the tokens
already seen, shaped ``(batch, num_kv_heads, seq_len, head_dim)``.  An
attention module hands its new keys and values to :meth:`Cache.update` and
attends to what comes back.  The method names are transformers' public Cache
API, so model code written against one runs against the other.

- :class:`DynamicCache` grows as tokens come: nothing to size in advance.  It
  keeps spare room and writes new tokens in place, so a decode step copies one
  token's keys rather than the whole history (see :class:`DynamicLayer`).
- :class:`StaticCache` preallocates ``max_cache_len`` positions and writes in
  place, so tensor addresses stay put (what ``torch.compile`` and CUDA graphs
  need); unwritten slots are hidden by the causal mask, which is why its
  :meth:`~Cache.get_mask_sizes` reports the full length.
- :class:`EncoderDecoderCache` pairs a self-attention cache with a
  cross-attention one whose keys/values are computed once from the encoder
  output (``is_updated[layer_idx]`` says whether they are there already).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch

from autoload.errors import GenerationError


def _query_length(cache_position: torch.Tensor | int) -> int:
    # transformers passes the query length; the contract passes cache_position: accept both.
    if isinstance(cache_position, torch.Tensor):
        return int(cache_position.shape[-1]) if cache_position.dim() else 1
    return int(cache_position)


class DynamicLayer:
    """One layer's keys/values, grown along the sequence axis with spare room kept at the end.

    Concatenating at every decode step copies the whole history once per token,
    which is quadratic in the generated length and, for a batch, a visible part
    of each step.  Instead the layer keeps a buffer somewhat longer than what it
    holds and writes new tokens into the free slots; ``keys``/``values`` are
    views of the filled part.  A view handed out earlier never changes: later
    tokens go to slots beyond it.  When the room runs out the buffer is
    reallocated with room for a quarter more (at most 1024 tokens more), so
    the copying stays near linear while the spare memory stays bounded.

    The in-place path is only taken where it is safe: not while autograd tracks
    the states (a write would bump the version of tensors saved for backward),
    and not into a buffer made under ``torch.inference_mode`` from outside it.
    Otherwise, and after any reorder/crop/select, the layer falls back to
    plain new tensors.
    """

    def __init__(self) -> None:
        self.keys: torch.Tensor | None = None
        self.values: torch.Tensor | None = None
        self._key_buffer: torch.Tensor | None = None
        self._value_buffer: torch.Tensor | None = None
        self._views: tuple[torch.Tensor | None, torch.Tensor | None] = (None, None)

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.keys is None or self.values is None:
            # Projections hand over [batch, length, heads, dim] transposed to heads-first: strided views that every
            # later step would read again (for a cross-attention layer, 1500 encoder positions per step, at half the
            # speed of contiguous memory). One copy now, of states that are kept anyway.
            self.keys, self.values = key_states.contiguous(), value_states.contiguous()
            return self.keys, self.values
        start, count = self.keys.shape[-2], key_states.shape[-2]
        if torch.is_grad_enabled() and (key_states.requires_grad or value_states.requires_grad):
            self._drop_buffers()
            self.keys = torch.cat((self.keys, key_states), dim=-2)
            self.values = torch.cat((self.values, value_states), dim=-2)
            return self.keys, self.values
        if not self._has_room(start + count, key_states, value_states):
            self._grow(start + count)
        key_buffer, value_buffer = self._key_buffer, self._value_buffer
        assert key_buffer is not None and value_buffer is not None
        key_buffer[..., start : start + count, :] = key_states
        value_buffer[..., start : start + count, :] = value_states
        self.keys = key_buffer[..., : start + count, :]
        self.values = value_buffer[..., : start + count, :]
        self._views = (self.keys, self.values)
        return self.keys, self.values

    def _has_room(self, needed: int, key_states: torch.Tensor, value_states: torch.Tensor) -> bool:
        buffer = self._key_buffer
        if buffer is None or self._value_buffer is None or buffer.shape[-2] < needed:
            return False
        if buffer.is_inference() and not torch.is_inference_mode_enabled():
            return False
        # keys/values must still be the views this layer made (nobody replaced them), of the states' dtype.
        return (
            self.keys is self._views[0]
            and self.values is self._views[1]
            and buffer.dtype == key_states.dtype
            and self._value_buffer.dtype == value_states.dtype
        )

    def _grow(self, needed: int) -> None:
        keys, values = self.keys, self.values
        assert keys is not None and values is not None
        capacity = needed + min(max(64, needed // 4), 1024)  # spare room: at most a quarter, or 1024 tokens
        key_buffer = keys.new_empty((*keys.shape[:-2], capacity, keys.shape[-1]))
        value_buffer = values.new_empty((*values.shape[:-2], capacity, values.shape[-1]))
        filled = keys.shape[-2]
        key_buffer[..., :filled, :] = keys
        value_buffer[..., :filled, :] = values
        self._key_buffer, self._value_buffer = key_buffer, value_buffer
        self.keys, self.values = key_buffer[..., :filled, :], value_buffer[..., :filled, :]
        self._views = (self.keys, self.values)

    def _drop_buffers(self) -> None:
        self._key_buffer = self._value_buffer = None
        self._views = (None, None)

    def get_seq_length(self) -> int:
        return 0 if self.keys is None else self.keys.shape[-2]

    def get_max_length(self) -> int:
        return -1

    def get_mask_sizes(self, query_length: int) -> tuple[int, int]:
        return self.get_seq_length() + query_length, 0

    def crop(self, max_length: int) -> None:
        if self.keys is None:
            return
        keep = _kept_length(self.get_seq_length(), max_length)
        self._drop_buffers()  # the next update must not overwrite what an earlier view still shows
        self.keys = self.keys[..., :keep, :]
        self.values = self.values[..., :keep, :]  # type: ignore[index]

    def reorder(self, beam_idx: torch.Tensor) -> None:
        if self.keys is not None:
            index = beam_idx.to(self.keys.device)
            self._drop_buffers()
            self.keys = self.keys.index_select(0, index)
            self.values = self.values.index_select(0, index)  # type: ignore[union-attr]

    def repeat_interleave(self, repeats: int) -> None:
        if self.keys is not None:
            self._drop_buffers()
            self.keys = self.keys.repeat_interleave(repeats, dim=0)
            self.values = self.values.repeat_interleave(repeats, dim=0)  # type: ignore[union-attr]

    def select(self, indices: torch.Tensor) -> None:
        if self.keys is not None:
            self._drop_buffers()
            self.keys = self.keys[indices, ...]
            self.values = self.values[indices, ...]  # type: ignore[index]

    def reset(self) -> None:
        self.keys = self.values = None
        self._drop_buffers()
        self._drop_buffers()


class StaticLayer:
    """One layer's keys/values in a buffer of ``max_cache_len`` positions, written in place.

    The buffer is allocated on the first update, when the batch size, head
    count, head size, dtype and device are known from the states themselves.
    """

    def __init__(self, max_cache_len: int, max_batch_size: int | None = None) -> None:
        self.max_cache_len = max_cache_len
        self.max_batch_size = max_batch_size
        self.keys: torch.Tensor | None = None
        self.values: torch.Tensor | None = None
        self.length = 0

    def _allocate(self, key_states: torch.Tensor, value_states: torch.Tensor) -> None:
        batch, heads = key_states.shape[:2]
        if self.max_batch_size is not None and batch > self.max_batch_size:
            raise GenerationError(
                f"StaticCache was sized for max_batch_size={self.max_batch_size}, but a batch of {batch} came in. "
                "Build the cache with a larger max_batch_size."
            )
        shape = (batch, heads, self.max_cache_len)
        self.keys = key_states.new_zeros((*shape, key_states.shape[-1]))
        self.values = value_states.new_zeros((*shape, value_states.shape[-1]))

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.keys is None:
            self._allocate(key_states, value_states)
        start, count = self.length, key_states.shape[-2]
        if start + count > self.max_cache_len:
            raise GenerationError(
                f"StaticCache holds at most {self.max_cache_len} tokens, but {start + count} were written. "
                "Build it with a larger max_cache_len (prompt length plus max_new_tokens)."
            )
        self.keys[:, :, start : start + count] = key_states  # type: ignore[index]
        self.values[:, :, start : start + count] = value_states  # type: ignore[index]
        self.length = start + count
        return self.keys, self.values  # type: ignore[return-value]

    def get_seq_length(self) -> int:
        return self.length

    def get_max_length(self) -> int:
        return self.max_cache_len

    def get_mask_sizes(self, query_length: int) -> tuple[int, int]:
        del query_length
        return self.max_cache_len, 0

    def crop(self, max_length: int) -> None:
        # The stale slots are overwritten by the next update and masked until then.
        self.length = _kept_length(self.length, max_length)

    def reorder(self, beam_idx: torch.Tensor) -> None:
        if self.keys is not None:
            index = beam_idx.to(self.keys.device)
            self.keys.copy_(self.keys.index_select(0, index))
            self.values.copy_(self.values.index_select(0, index))  # type: ignore[union-attr]

    def repeat_interleave(self, repeats: int) -> None:
        raise GenerationError("A StaticCache cannot change its batch size; use a DynamicCache for this.")

    def select(self, indices: torch.Tensor) -> None:
        raise GenerationError("A StaticCache cannot change its batch size; use a DynamicCache for this.")

    def reset(self) -> None:
        if self.keys is not None:
            self.keys.zero_()
            self.values.zero_()  # type: ignore[union-attr]
        self.length = 0


def _kept_length(current: int, max_length: int) -> int:
    """``crop`` takes a length to keep (>= 0) or, as transformers 5 does, a number of tokens to drop (< 0)."""
    if max_length < 0:
        return max(current + max_length, 0)
    return min(current, max_length)


class Cache:
    """The past keys/values of a decoder, one layer object per attention layer.

    Layers are created on first use, so a cache does not need to know the
    model's depth in advance.
    """

    def __init__(self) -> None:
        self.layers: list[Any] = []

    def _new_layer(self) -> Any:
        raise NotImplementedError

    def update(
        self,
        key_states: torch.Tensor,
        value_states: torch.Tensor,
        layer_idx: int,
        cache_kwargs: dict[str, Any] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Store the new keys/values of layer ``layer_idx``; returns every key/value that layer attends to."""
        layers = self.layers
        while len(layers) <= layer_idx:
            layers.append(self._new_layer())
        return layers[layer_idx].update(key_states, value_states)

    def get_seq_length(self, layer_idx: int = 0) -> int:
        """How many tokens are cached already (the position of the next token)."""
        if layer_idx >= len(self.layers):
            return 0
        return self.layers[layer_idx].get_seq_length()

    def get_max_cache_shape(self) -> int | None:
        """The most tokens the cache can hold, or None when it grows without bound."""
        return None

    def get_max_length(self) -> int:
        """transformers' spelling of :meth:`get_max_cache_shape`: -1 for no bound."""
        bound = self.get_max_cache_shape()
        return -1 if bound is None else bound

    def get_mask_sizes(self, cache_position: torch.Tensor | int, layer_idx: int = 0) -> tuple[int, int]:
        """``(kv_length, kv_offset)``: how long the keys the layer attends to are, and where they start.

        ``cache_position`` may also be the query length as an int (transformers' signature).
        """
        query_length = _query_length(cache_position)
        if layer_idx >= len(self.layers):
            return self._empty_mask_sizes(query_length)
        return self.layers[layer_idx].get_mask_sizes(query_length)

    def _empty_mask_sizes(self, query_length: int) -> tuple[int, int]:
        return query_length, 0

    def reorder_cache(self, beam_idx: torch.Tensor) -> None:
        """Make row ``i`` the old row ``beam_idx[i]`` (beam search keeps the best beams)."""
        for layer in self.layers:
            layer.reorder(beam_idx)

    def crop(self, max_length: int) -> None:
        """Keep the first ``max_length`` tokens (a negative value drops that many from the end instead)."""
        for layer in self.layers:
            layer.crop(max_length)

    def batch_repeat_interleave(self, repeats: int) -> None:
        """Repeat every row ``repeats`` times in place (one prompt -> its beams or samples)."""
        for layer in self.layers:
            layer.repeat_interleave(repeats)

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        """Keep only rows ``indices``."""
        for layer in self.layers:
            layer.select(indices)

    def reset(self) -> None:
        """Forget every cached token, keeping allocated buffers."""
        for layer in self.layers:
            layer.reset()

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[tuple[torch.Tensor | None, torch.Tensor | None]]:
        for layer in self.layers:
            yield layer.keys, layer.values

    def __getitem__(self, layer_idx: int) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        layer = self.layers[layer_idx]
        return layer.keys, layer.values

    @property
    def is_compileable(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(layers={len(self.layers)}, seq_length={self.get_seq_length()})"


class DynamicCache(Cache):
    """A cache that grows as tokens come; the default for generation.

    ``DynamicCache()`` needs nothing.  ``config`` is accepted for transformers
    compatibility and unused; ``ddp_cache_data`` (an iterable of ``(keys,
    values)`` per layer) fills it from existing tensors.
    """

    def __init__(self, ddp_cache_data: Any = None, config: Any = None, **_: Any) -> None:
        super().__init__()
        del config
        for layer_idx, pair in enumerate(ddp_cache_data or ()):
            self.update(pair[0], pair[1], layer_idx)

    def _new_layer(self) -> DynamicLayer:
        return DynamicLayer()

    @classmethod
    def from_legacy_cache(cls, past_key_values: Any) -> DynamicCache:
        """From the old tuple-of-tuples format ``((k0, v0), (k1, v1), ...)``."""
        return cls(past_key_values)

    def to_legacy_cache(self) -> tuple[tuple[torch.Tensor, torch.Tensor], ...]:
        return tuple((layer.keys, layer.values) for layer in self.layers)


def _decoder_layer_count(config: Any) -> int | None:
    for name in ("num_decoder_layers", "decoder_layers", "num_hidden_layers", "n_layer", "num_layers"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


class StaticCache(Cache):
    """A cache of fixed size: ``max_cache_len`` positions per layer, allocated once and written in place.

    ``config`` gives the number of layers (layers beyond it are still added on
    demand); batch size, heads, head size, dtype and device come from the
    first keys/values written.
    """

    def __init__(
        self,
        config: Any = None,
        max_cache_len: int | None = None,
        max_batch_size: int | None = None,
        **_: Any,
    ) -> None:
        super().__init__()
        if not isinstance(max_cache_len, int) or max_cache_len <= 0:
            raise GenerationError(f"StaticCache needs max_cache_len, a positive int, not {max_cache_len!r}.")
        self.max_cache_len = max_cache_len
        self.max_batch_size = max_batch_size
        count = _decoder_layer_count(config) if config is not None else None
        self.layers = [self._new_layer() for _ in range(count or 0)]

    def _new_layer(self) -> StaticLayer:
        return StaticLayer(self.max_cache_len, self.max_batch_size)

    def get_max_cache_shape(self) -> int | None:
        return self.max_cache_len

    def _empty_mask_sizes(self, query_length: int) -> tuple[int, int]:
        return self.max_cache_len, 0

    @property
    def is_compileable(self) -> bool:
        return True


class EncoderDecoderCache(Cache):
    """A self-attention cache and a cross-attention cache, for encoder-decoder models.

    Cross-attention keys/values depend only on the encoder output: a layer
    computes them on the first step, stores them with
    ``cross_attention_cache.update(...)`` and sets ``is_updated[layer_idx] =
    True``; later steps read ``cross_attention_cache.layers[layer_idx]``.
    """

    def __init__(self, self_attention_cache: Cache | None = None, cross_attention_cache: Cache | None = None) -> None:
        super().__init__()
        self.self_attention_cache = self_attention_cache if self_attention_cache is not None else DynamicCache()
        self.cross_attention_cache = cross_attention_cache if cross_attention_cache is not None else DynamicCache()
        for name, cache in (("self", self.self_attention_cache), ("cross", self.cross_attention_cache)):
            if not isinstance(cache, Cache):
                raise TypeError(f"EncoderDecoderCache needs a Cache for {name}-attention, not {type(cache).__name__}.")
        self.is_updated: dict[int, bool] = {
            index: layer.get_seq_length() > 0 for index, layer in enumerate(self.cross_attention_cache.layers)
        }
        self.layers = self.self_attention_cache.layers

    def update(
        self,
        key_states: torch.Tensor,
        value_states: torch.Tensor,
        layer_idx: int,
        cache_kwargs: dict[str, Any] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.self_attention_cache.update(key_states, value_states, layer_idx, cache_kwargs)

    def get_seq_length(self, layer_idx: int = 0) -> int:
        return self.self_attention_cache.get_seq_length(layer_idx)

    def get_max_cache_shape(self) -> int | None:
        return self.self_attention_cache.get_max_cache_shape()

    def get_mask_sizes(self, cache_position: torch.Tensor | int, layer_idx: int = 0) -> tuple[int, int]:
        return self.self_attention_cache.get_mask_sizes(cache_position, layer_idx)

    def reorder_cache(self, beam_idx: torch.Tensor) -> None:
        self.self_attention_cache.reorder_cache(beam_idx)
        self.cross_attention_cache.reorder_cache(beam_idx)

    def crop(self, max_length: int) -> None:
        self.self_attention_cache.crop(max_length)

    def batch_repeat_interleave(self, repeats: int) -> None:
        self.self_attention_cache.batch_repeat_interleave(repeats)
        self.cross_attention_cache.batch_repeat_interleave(repeats)

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        self.self_attention_cache.batch_select_indices(indices)
        self.cross_attention_cache.batch_select_indices(indices)

    def reset(self) -> None:
        self.self_attention_cache.reset()
        self.cross_attention_cache.reset()
        self.is_updated = dict.fromkeys(self.is_updated, False)

    def __len__(self) -> int:
        return len(self.self_attention_cache)

    def __iter__(self) -> Iterator[Any]:
        for index, (keys, values) in enumerate(self.self_attention_cache):
            cross = self.cross_attention_cache
            cross_keys, cross_values = cross[index] if index < len(cross) else (None, None)
            yield keys, values, cross_keys, cross_values

    @property
    def is_compileable(self) -> bool:
        return self.self_attention_cache.is_compileable


__all__ = ["Cache", "DynamicCache", "DynamicLayer", "EncoderDecoderCache", "StaticCache", "StaticLayer"]
