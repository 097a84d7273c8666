"""Behaviour the conformance suite cannot know about: this architecture's own promises."""

from __future__ import annotations

import autoload
import torch

TINY = {"vocab_size": 99, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4}


def _model(auto_class_name: str, **overrides: object) -> torch.nn.Module:
    torch.manual_seed(0)
    config = autoload.AutoConfig.for_model("new-model", **{**TINY, **overrides})
    return getattr(autoload, auto_class_name).from_config(config).eval()


def test_padding_does_not_change_the_other_tokens() -> None:
    model = _model("AutoModel")
    input_ids = torch.tensor([[5, 6, 7, 8]])
    padded = torch.tensor([[5, 6, 7, 8, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 1, 0, 0]])
    with torch.no_grad():
        plain = model(input_ids).last_hidden_state
        masked = model(padded, attention_mask=mask).last_hidden_state[:, :4]
    torch.testing.assert_close(masked, plain, atol=1e-5, rtol=1e-5)


def test_sequence_classification_has_one_logit_per_label() -> None:
    model = _model("AutoModelForSequenceClassification", num_labels=3)
    output = model(torch.tensor([[5, 6, 7], [8, 9, 10]]), labels=torch.tensor([0, 2]))
    assert output.logits.shape == (2, 3)
    assert output.loss.ndim == 0
