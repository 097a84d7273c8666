"""Key/value caches: growth, static buffers, cropping, beam reordering, batch operations."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from autoload import GenerationError  # noqa: E402
from autoload.generation import DynamicCache, EncoderDecoderCache, StaticCache  # noqa: E402


def _kv(batch=3, heads=2, length=4, dim=5, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(batch, heads, length, dim, generator=generator), torch.randn(
        batch, heads, length, dim, generator=generator
    )


def test_dynamic_cache_grows_and_reports_sizes():
    cache = DynamicCache()
    assert cache.get_seq_length() == 0 and cache.get_max_cache_shape() is None
    k1, v1 = _kv(length=4)
    k2, v2 = _kv(length=1, seed=1)
    for layer in range(2):
        cache.update(k1, v1, layer)
    keys, values = cache.update(k2, v2, 0)
    assert torch.equal(keys, torch.cat([k1, k2], dim=2)) and torch.equal(values, torch.cat([v1, v2], dim=2))
    assert cache.get_seq_length(0) == 5 and cache.get_seq_length(1) == 4 and len(cache) == 2
    assert cache.get_mask_sizes(torch.arange(5, 7), 0) == (7, 0)
    assert cache.get_mask_sizes(2, 1) == (6, 0)  # transformers' int form


def _grow_token_by_token(cache, steps, seed=10):
    """Feed ``steps`` one-token updates to layer 0; returns every (keys, values) pair handed back."""
    handed = []
    for step in range(steps):
        handed.append(cache.update(*_kv(length=1, seed=seed + step), 0))
    return handed


def test_dynamic_cache_writes_decode_steps_into_spare_room_without_changing_earlier_views():
    cache = DynamicCache()
    prompt = _kv(length=4)
    cache.update(*prompt, 0)
    handed = _grow_token_by_token(cache, 70)  # past the first buffer's spare room, so it grows once
    expected_keys = torch.cat([prompt[0]] + [_kv(length=1, seed=10 + step)[0] for step in range(70)], dim=2)
    expected_values = torch.cat([prompt[1]] + [_kv(length=1, seed=10 + step)[1] for step in range(70)], dim=2)
    for step, (keys, values) in enumerate(handed):
        # A view handed out at step s still shows exactly the first 4 + s + 1 tokens.
        assert torch.equal(keys, expected_keys[:, :, : 5 + step]) and torch.equal(
            values, expected_values[:, :, : 5 + step]
        )
    # Consecutive decode steps share one buffer (no per-step copy of the history).
    assert handed[1][0].data_ptr() == handed[2][0].data_ptr()
    assert cache.get_seq_length() == 74


def test_dynamic_cache_stores_the_first_states_contiguous():
    """Projections hand over heads-first views of [batch, length, heads, dim]; a cross-attention layer reads what
    its first update stored at every later step, and a strided read of it is about half as fast."""
    projected = torch.randn(2, 7, 3, 4)  # [batch, length, heads, dim]
    keys_view, values_view = projected.transpose(1, 2), (projected * 2).transpose(1, 2)
    cache = EncoderDecoderCache(DynamicCache(), DynamicCache())
    keys, values = cache.cross_attention_cache.update(keys_view, values_view, 0)
    assert keys.is_contiguous() and values.is_contiguous()
    assert torch.equal(keys, keys_view) and torch.equal(values, values_view)
    layer = cache.cross_attention_cache.layers[0]
    assert layer.keys is keys and layer.values is values


def test_dynamic_cache_never_overwrites_what_a_view_shows_after_crop_or_reorder():
    cache = DynamicCache()
    cache.update(*_kv(length=4), 0)
    before_crop, _ = _grow_token_by_token(cache, 3)[-1]
    snapshot = before_crop.clone()
    cache.crop(5)
    cache.update(*_kv(length=1, seed=99), 0)
    assert torch.equal(before_crop, snapshot)
    before_reorder, _ = cache.update(*_kv(length=1, seed=98), 0)
    snapshot = before_reorder.clone()
    cache.reorder_cache(torch.tensor([2, 0, 1]))
    keys, _ = cache.update(*_kv(length=1, seed=97), 0)
    assert torch.equal(before_reorder, snapshot) and torch.equal(keys[:, :, :7], snapshot[[2, 0, 1]])


def test_dynamic_cache_concatenates_while_autograd_tracks_the_states():
    cache = DynamicCache()
    keys, values = _kv(length=2)
    cache.update(keys.requires_grad_(), values.requires_grad_(), 0)
    step_keys, step_values = _kv(length=1, seed=1)
    out_keys, out_values = cache.update(step_keys.requires_grad_(), step_values.requires_grad_(), 0)
    (out_keys.sum() + out_values.sum()).backward()
    assert torch.equal(keys.grad, torch.ones_like(keys)) and torch.equal(step_keys.grad, torch.ones_like(step_keys))


def test_dynamic_cache_made_under_inference_mode_keeps_working_outside_it():
    cache = DynamicCache()
    with torch.inference_mode():
        cache.update(*_kv(length=2), 0)
        _grow_token_by_token(cache, 2)
    keys, _ = cache.update(*_kv(length=1, seed=50), 0)  # would fail writing into an inference tensor
    assert keys.shape[2] == 5 and torch.equal(keys[:, :, 4:], _kv(length=1, seed=50)[0])


def test_static_cache_writes_in_place_and_masks_the_rest():
    cache = StaticCache(max_cache_len=10, max_batch_size=3)
    k1, v1 = _kv(length=4)
    keys, _ = cache.update(k1, v1, 0)
    buffer = keys.data_ptr()
    assert keys.shape[2] == 10 and torch.equal(keys[:, :, :4], k1) and not keys[:, :, 4:].any()
    k2, v2 = _kv(length=1, seed=1)
    keys, values = cache.update(k2, v2, 0)
    assert keys.data_ptr() == buffer and torch.equal(keys[:, :, 4:5], k2) and torch.equal(values[:, :, 4:5], v2)
    assert cache.get_seq_length() == 5 and cache.get_max_cache_shape() == 10
    assert cache.get_mask_sizes(torch.arange(5, 6), 0) == (10, 0)
    with pytest.raises(GenerationError, match="max_cache_len"):
        cache.update(*_kv(length=6), 0)
    with pytest.raises(GenerationError, match="max_batch_size"):
        StaticCache(max_cache_len=4, max_batch_size=1).update(*_kv(batch=2, length=1), 0)


def test_static_cache_sizes_layers_from_config():
    class Config:
        num_hidden_layers = 3

    assert len(StaticCache(config=Config(), max_cache_len=8)) == 3
    with pytest.raises(GenerationError):
        StaticCache(max_cache_len=0)


@pytest.mark.parametrize("make", [DynamicCache, lambda: StaticCache(max_cache_len=12)])
def test_crop_keeps_a_prefix_either_spelling(make):
    cache = make()
    k, v = _kv(length=6)
    cache.update(k, v, 0)
    cache.crop(4)
    assert cache.get_seq_length() == 4
    cache.crop(-1)  # transformers 5: a negative count drops that many
    assert cache.get_seq_length() == 3
    k2, v2 = _kv(length=1, seed=3)
    keys, _ = cache.update(k2, v2, 0)
    assert torch.equal(keys[:, :, :3], k[:, :, :3]) and torch.equal(keys[:, :, 3:4], k2)


@pytest.mark.parametrize("make", [DynamicCache, lambda: StaticCache(max_cache_len=8)])
def test_reorder_cache_follows_beam_indices(make):
    cache = make()
    k, v = _kv(length=3)
    cache.update(k, v, 0)
    order = torch.tensor([2, 2, 0])
    cache.reorder_cache(order)
    keys, values = cache[0]
    assert torch.equal(keys[:, :, :3], k[order]) and torch.equal(values[:, :, :3], v[order])


def test_batch_operations_and_legacy_format():
    cache = DynamicCache()
    k, v = _kv(batch=2, length=3)
    cache.update(k, v, 0)
    cache.batch_repeat_interleave(3)
    assert cache[0][0].shape[0] == 6 and torch.equal(cache[0][0][1], k[0])
    cache.batch_select_indices(torch.tensor([0, 3]))
    assert torch.equal(cache[0][0], k)
    legacy = cache.to_legacy_cache()
    again = DynamicCache.from_legacy_cache(legacy)
    assert torch.equal(again[0][1], v)
    static = StaticCache(max_cache_len=4)
    static.update(k, v, 0)
    with pytest.raises(GenerationError, match="batch size"):
        static.batch_select_indices(torch.tensor([0]))


def test_encoder_decoder_cache_keeps_cross_attention_once():
    cache = EncoderDecoderCache(DynamicCache(), DynamicCache())
    self_k, self_v = _kv(length=1)
    cross_k, cross_v = _kv(length=7, seed=2)
    cache.update(self_k, self_v, 0)
    cache.cross_attention_cache.update(cross_k, cross_v, 0)
    cache.is_updated[0] = True
    assert cache.get_seq_length() == 1 and cache.cross_attention_cache.get_seq_length() == 7
    order = torch.tensor([1, 0, 2])
    cache.reorder_cache(order)
    assert torch.equal(cache.cross_attention_cache.layers[0].keys, cross_k[order])
    assert torch.equal(cache.self_attention_cache.layers[0].keys, self_k[order])
    cache.reset()
    assert cache.is_updated == {0: False} and cache.get_seq_length() == 0
    with pytest.raises(TypeError):
        EncoderDecoderCache(DynamicCache(), "not a cache")  # type: ignore[arg-type]
