"""BERT as a decoder (BertLMHeadModel, is_decoder=True): cache and generate() against transformers."""

from __future__ import annotations

import warnings

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("autoload_plugin_bert")

from autoload import AutoModelForCausalLM  # noqa: E402
from autoload.generation import DynamicCache  # noqa: E402


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bert-decoder")
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=99,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        is_decoder=True,
        pad_token_id=0,
        bos_token_id=2,
        eos_token_id=3,
    )
    reference = transformers.BertLMHeadModel(config).eval()
    reference.save_pretrained(folder)
    return reference, AutoModelForCausalLM.from_pretrained(folder)


def _ids():
    return torch.randint(4, 99, (2, 7), generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize(
    "settings",
    [
        {"max_new_tokens": 8},
        {"max_new_tokens": 8, "do_sample": True},
        {"max_new_tokens": 8, "num_beams": 3, "num_return_sequences": 2},
        {"max_new_tokens": 8, "use_cache": False},
    ],
)
def test_bert_decoder_generates_like_transformers(models, settings):
    reference, ours = models
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(5)
        theirs = reference.generate(_ids(), **settings)
    torch.manual_seed(5)
    assert torch.equal(ours.generate(_ids(), **settings), theirs)


def test_bert_decoder_left_padding(models):
    reference, ours = models
    ids = _ids()
    mask = torch.ones_like(ids)
    mask[1, :3] = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = reference.generate(ids, attention_mask=mask, max_new_tokens=6)
    assert torch.equal(ours.generate(ids, attention_mask=mask, max_new_tokens=6), theirs)


def test_bert_step_by_step_with_cache_equals_full_sequence(models):
    _, ours = models
    ids = _ids()
    with torch.no_grad():
        full = ours(ids, use_cache=False).logits
        cache = DynamicCache()
        first = ours(ids[:, :5], past_key_values=cache, use_cache=True)
        second = ours(ids[:, 5:], past_key_values=first.cache, use_cache=True)
    assert first.cache is cache and cache.get_seq_length() == 7
    torch.testing.assert_close(torch.cat([first.logits, second.logits], dim=1), full, atol=1e-5, rtol=1e-5)
