"""Encoder-decoder generate() (T5 plugin) against transformers: encoder once, decoder with a cross-attention cache."""

from __future__ import annotations

import warnings

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("autoload_plugin_t5")

from autoload import AutoModelForSeq2SeqLM  # noqa: E402
from autoload.generation import EncoderDecoderCache  # noqa: E402


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("t5-gen")
    torch.manual_seed(0)
    config = transformers.T5Config(
        vocab_size=99,
        d_model=32,
        d_kv=8,
        d_ff=64,
        num_layers=2,
        num_heads=4,
        decoder_start_token_id=0,
        pad_token_id=0,
        eos_token_id=1,
    )
    reference = transformers.T5ForConditionalGeneration(config).eval()
    reference.save_pretrained(folder)
    return reference, AutoModelForSeq2SeqLM.from_pretrained(folder)


def _inputs():
    ids = torch.randint(2, 99, (2, 7), generator=torch.Generator().manual_seed(3))
    mask = torch.ones_like(ids)
    mask[1, -2:] = 0
    return {"input_ids": ids, "attention_mask": mask}


@pytest.mark.parametrize(
    "settings",
    [
        {"max_new_tokens": 8},
        {"max_new_tokens": 8, "do_sample": True, "top_p": 0.9},
        {"max_new_tokens": 8, "num_beams": 3, "num_return_sequences": 2},
        {"max_new_tokens": 8, "use_cache": False},
        {"max_new_tokens": 8, "forced_bos_token_id": 5, "suppress_tokens": [7], "begin_suppress_tokens": [9]},
        {"max_new_tokens": 8, "decoder_start_token_id": 3},
    ],
)
def test_seq2seq_ids_equal_transformers(models, settings):
    reference, ours = models
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(2)
        theirs = reference.generate(**_inputs(), **settings)
    torch.manual_seed(2)
    mine = ours.generate(**_inputs(), **settings)
    assert torch.equal(mine, theirs)


def test_seq2seq_scores_and_cross_attention_cache(models):
    reference, ours = models
    settings = {"max_new_tokens": 6, "return_dict_in_generate": True, "output_scores": True}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = reference.generate(**_inputs(), **settings)
    mine = ours.generate(**_inputs(), **settings)
    assert torch.equal(mine.sequences, theirs.sequences)
    for a, b in zip(mine.scores, theirs.scores, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    assert isinstance(mine.cache, EncoderDecoderCache)
    assert mine.cache.cross_attention_cache.get_seq_length() == 7  # the encoder output, cached once
    assert all(mine.cache.is_updated.values())


def test_forced_decoder_ids_from_the_generation_config(models):
    _, ours = models
    ours.generation_config.forced_decoder_ids = [[1, 11], [2, 12]]
    try:
        out = ours.generate(**_inputs(), max_new_tokens=5)
    finally:
        del ours.generation_config.forced_decoder_ids
    assert out[:, 1].tolist() == [11, 11] and out[:, 2].tolist() == [12, 12]
