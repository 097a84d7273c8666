"""The decoder preamble and decoder-head helpers of autoload.modeling.layers.decoding, against transformers."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from torch import nn  # noqa: E402

from autoload import ModelInputError  # noqa: E402
from autoload.configuration import PretrainedConfig  # noqa: E402
from autoload.generation import DynamicCache, EncoderDecoderCache, StaticCache  # noqa: E402
from autoload.modeling.layers import (  # noqa: E402
    decoder_inputs,
    keep_logits,
    last_token_logits,
    output_flags,
    resolve_use_cache,
)

PAD = 0


class _Decoder(nn.Module):
    """The smallest thing decoder_inputs reads: a config, a training flag, a gradient-checkpointing flag."""

    def __init__(self, **config: object) -> None:
        super().__init__()
        self.config = PretrainedConfig(**config)
        self.gradient_checkpointing = False


def _hf_sequence_classifier() -> transformers.GPT2ForSequenceClassification:
    torch.manual_seed(0)
    config = transformers.GPT2Config(
        vocab_size=40, n_embd=32, n_layer=2, n_head=4, n_positions=32, num_labels=3, pad_token_id=PAD
    )
    return transformers.GPT2ForSequenceClassification(config).eval()


@pytest.mark.parametrize(
    "rows",
    [
        [[5, 6, 7, 8], [9, 10, PAD, PAD]],  # right padding
        [[5, 6, 7, 8], [PAD, PAD, 9, 10]],  # left padding
        [[5, PAD, 7, 8], [9, PAD, 10, PAD]],  # a pad id inside the text does not cut it short
        [[PAD, PAD, PAD, PAD], [5, 6, 7, 8]],  # a row of padding only
    ],
)
def test_last_token_logits_picks_the_token_transformers_picks(rows: list[list[int]]) -> None:
    model = _hf_sequence_classifier()
    input_ids = torch.tensor(rows)
    with torch.no_grad():
        expected = model(input_ids).logits
        every_position = model.score(model.transformer(input_ids).last_hidden_state)
    pooled = last_token_logits(every_position, input_ids, PAD, "test")
    torch.testing.assert_close(pooled, expected, atol=1e-6, rtol=1e-6)


def test_last_token_logits_without_ids_or_pad_token() -> None:
    logits = torch.randn(2, 5, 3)
    torch.testing.assert_close(last_token_logits(logits, None, PAD, "test"), logits[:, -1])
    torch.testing.assert_close(last_token_logits(logits[:1], torch.ones(1, 5), None, "test"), logits[:1, -1])
    with pytest.raises(ModelInputError, match=r"test needs config.pad_token_id.*batch of 2"):
        last_token_logits(logits, torch.ones(2, 5, dtype=torch.long), None, "test")


def test_keep_logits() -> None:
    hidden = torch.randn(2, 6, 4)
    assert keep_logits(hidden, 0) is hidden
    torch.testing.assert_close(keep_logits(hidden, 2), hidden[:, -2:])
    torch.testing.assert_close(keep_logits(hidden, torch.tensor([0, 3])), hidden[:, [0, 3]])


def test_output_flags_fill_only_what_the_caller_left_out() -> None:
    config = PretrainedConfig(output_attentions=True)
    assert output_flags(config) == (True, False, True)
    attentions, hidden_states, return_dict = output_flags(config, False, True, False)
    assert (attentions, hidden_states, return_dict) == (False, True, False)
    assert output_flags(config).output_attentions


def test_prompt_then_step_continues_positions_and_window() -> None:
    model = _Decoder(use_cache=True)
    prompt = decoder_inputs(model, torch.ones(2, 4, dtype=torch.long))
    assert isinstance(prompt.cache, DynamicCache) and prompt.returned_cache is prompt.cache
    assert prompt.cache_position.tolist() == [0, 1, 2, 3]
    assert prompt.position_ids.tolist() == [[0, 1, 2, 3]]
    assert (prompt.past_length, prompt.kv_length, prompt.kv_offset) == (0, 4, 0)
    prompt.cache.update(torch.zeros(2, 1, 4, 8), torch.zeros(2, 1, 4, 8), 0)

    step = decoder_inputs(model, None, torch.zeros(2, 1, 32), cache=prompt.cache)
    assert step.cache is prompt.cache
    assert step.cache_position.tolist() == [4]
    assert (step.past_length, step.kv_length, step.kv_offset) == (4, 5, 0)
    assert (step.kv_length, step.kv_offset) == prompt.cache.get_mask_sizes(step.cache_position, 0)


def test_static_cache_window_is_the_cache_length() -> None:
    config = PretrainedConfig(num_hidden_layers=1, num_attention_heads=1, hidden_size=8, use_cache=True)
    cache = StaticCache(max_batch_size=1, max_cache_len=10, config=config)
    step = decoder_inputs(_Decoder(), torch.ones(1, 3, dtype=torch.long), past_key_values=cache)
    assert (step.kv_length, step.kv_offset) == cache.get_mask_sizes(step.cache_position, 0)
    assert step.kv_length == 10


def test_caching_off_and_cross_attention_caches() -> None:
    ids = torch.ones(1, 3, dtype=torch.long)
    off = decoder_inputs(_Decoder(use_cache=False), ids)
    assert off.cache is None and off.returned_cache is None and off.kv_length == 3
    crossed = decoder_inputs(_Decoder(), ids, use_cache=True, cross_attention=True)
    assert isinstance(crossed.cache, EncoderDecoderCache)
    given = DynamicCache()
    wrapped = decoder_inputs(_Decoder(), ids, past_key_values=given, use_cache=True, cross_attention=True)
    assert isinstance(wrapped.cache, EncoderDecoderCache) and wrapped.cache.self_attention_cache is given


def test_gradient_checkpointing_turns_caching_off_while_training(caplog: pytest.LogCaptureFixture) -> None:
    model = _Decoder(use_cache=True)
    model.gradient_checkpointing = True
    model.eval()
    assert resolve_use_cache(model, None) is True  # eval: nothing is recomputed
    model.train()
    assert resolve_use_cache(model, None) is False
    with caplog.at_level("WARNING"):
        assert resolve_use_cache(model, True) is False
    assert "gradient checkpointing" in caplog.text
    with torch.no_grad():  # no backward pass, nothing recomputed
        assert resolve_use_cache(model, True) is True


def test_bad_inputs_are_named() -> None:
    model = _Decoder()
    ids = torch.ones(1, 2, dtype=torch.long)
    with pytest.raises(ModelInputError, match=r"_Decoder\.forward needs exactly one.*neither"):
        decoder_inputs(model)
    with pytest.raises(ModelInputError, match=r"exactly one.*both"):
        decoder_inputs(model, ids, torch.zeros(1, 2, 8))
    with pytest.raises(ModelInputError, match="from_legacy_cache"):
        decoder_inputs(model, ids, past_key_values=((torch.zeros(1), torch.zeros(1)),))
    with pytest.raises(ModelInputError, match="not both"):
        decoder_inputs(model, ids, past_key_values=DynamicCache(), cache=DynamicCache())
