"""Whisper models against transformers: every head both ways at 1e-5, loss, caches, greedy generation."""

from __future__ import annotations

import pytest
import torch
import transformers
from autoload import AutoModel, AutoModelForAudioClassification, AutoModelForSpeechSeq2Seq
from autoload.generation import GenerationMixin
from autoload.testing import assert_same_outputs
from whisper_helpers import FRAMES, tiny

from autoload_plugin_whisper.configuration import WhisperConfig
from autoload_plugin_whisper.modeling import WhisperForConditionalGeneration, sinusoids

HEADS = [
    ("WhisperModel", AutoModel),
    ("WhisperForConditionalGeneration", AutoModelForSpeechSeq2Seq),
    ("WhisperForAudioClassification", AutoModelForAudioClassification),
]


def inputs_for(head: str) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    inputs = {"input_features": torch.randn(2, 16, FRAMES, generator=generator)}
    labels = torch.randint(4, 120, (2, 7), generator=generator)
    labels[1, 5:] = -100
    if head == "WhisperModel":
        inputs["decoder_input_ids"] = labels.clamp(min=0)
        inputs["decoder_attention_mask"] = (labels != -100).long()
    elif head == "WhisperForConditionalGeneration":
        inputs["labels"] = labels
    else:
        inputs["labels"] = torch.tensor([0, 2])
    return inputs


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(("head", "auto_class"), HEADS, ids=[name for name, _ in HEADS])
def test_head_matches_transformers_both_ways(tmp_path, head, auto_class, weighted):
    torch.manual_seed(0)
    config = transformers.WhisperConfig(**tiny(use_weighted_layer_sum=weighted))
    theirs = getattr(transformers, head)._from_config(config, attn_implementation="eager").eval()
    theirs.save_pretrained(tmp_path / "theirs")
    ours = auto_class.from_pretrained(tmp_path / "theirs", attn_implementation="eager").eval()
    inputs = inputs_for(head)
    flags = {"output_hidden_states": True, "output_attentions": True}
    with torch.no_grad():
        expected, actual = theirs(**inputs, **flags), ours(**inputs, **flags)
    for key in expected:
        if key != "cache":
            assert_same_outputs(actual[key], expected[key], atol=1e-5, rtol=1e-5)
    ours.save_pretrained(tmp_path / "ours")
    back = getattr(transformers, head).from_pretrained(tmp_path / "ours").eval()
    with torch.no_grad():
        assert_same_outputs(back(**inputs)[0], expected[0], atol=1e-5, rtol=1e-5)


def test_encoder_positions_are_the_sinusoids_of_transformers():
    expected = transformers.models.whisper.modeling_whisper.sinusoids(30, 32)
    assert torch.equal(sinusoids(30, 32), expected)
    model = WhisperForConditionalGeneration(WhisperConfig(**tiny()))
    assert torch.equal(model.model.encoder.embed_positions.weight, expected)
    assert model.proj_out.weight is model.model.decoder.embed_tokens.weight


def test_wrong_number_of_frames_is_refused():
    model = WhisperForConditionalGeneration(WhisperConfig(**tiny())).eval()
    with pytest.raises(ValueError, match="60 frames"):
        model(input_features=torch.zeros(1, 16, 50), decoder_input_ids=torch.tensor([[3]]))


def test_cached_decoding_equals_full_decoding():
    torch.manual_seed(0)
    model = WhisperForConditionalGeneration(WhisperConfig(**tiny())).eval()
    features = torch.randn(2, 16, FRAMES, generator=torch.Generator().manual_seed(2))
    tokens = torch.randint(4, 120, (2, 6), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        full = model(input_features=features, decoder_input_ids=tokens, use_cache=False).logits
        first = model(input_features=features, decoder_input_ids=tokens[:, :3], use_cache=True)
        cache, logits = first.past_key_values, [first.logits]
        for step in range(3, 6):
            out = model(
                encoder_outputs=(first.encoder_last_hidden_state,),
                decoder_input_ids=tokens[:, step : step + 1],
                past_key_values=cache,
                use_cache=True,
            )
            logits.append(out.logits)
    assert all(cache.is_updated.values()) and cache.get_seq_length() == 6
    assert_same_outputs(torch.cat(logits, dim=1), full, atol=1e-5, rtol=1e-5)


def test_greedy_generate_with_a_given_prompt_equals_transformers(tmp_path):
    """A checkpoint without Whisper's generation settings, prompt given: Whisper's generate() and the host's plain
    encoder-decoder one both equal transformers' counterparts."""
    torch.manual_seed(0)
    config = transformers.WhisperConfig(**tiny(begin_suppress_tokens=None))
    theirs = transformers.WhisperForConditionalGeneration(config).eval()
    theirs.save_pretrained(tmp_path)
    ours = AutoModelForSpeechSeq2Seq.from_pretrained(tmp_path).eval()
    features = torch.randn(2, 16, FRAMES, generator=torch.Generator().manual_seed(4))
    prompt = torch.tensor([[3, 7, 8], [3, 7, 8]])
    kwargs = {"input_features": features, "decoder_input_ids": prompt, "max_new_tokens": 8, "do_sample": False}
    assert torch.equal(ours.generate(**kwargs), theirs.generate(**kwargs))
    expected = transformers.GenerationMixin.generate(theirs, **kwargs)
    assert torch.equal(GenerationMixin.generate(ours, **kwargs), expected)


def test_training_dropout_draws_equal_transformers(tmp_path):
    """In train mode every dropout runs, in transformers' order: the same seed gives the same logits."""
    torch.manual_seed(0)
    rates = {"dropout": 0.3, "activation_dropout": 0.2, "attention_dropout": 0.1, "layerdrop": 0.0}
    config = transformers.WhisperConfig(**tiny(**rates))
    theirs = transformers.WhisperForConditionalGeneration._from_config(config, attn_implementation="eager")
    theirs.save_pretrained(tmp_path)
    ours = AutoModelForSpeechSeq2Seq.from_pretrained(tmp_path, attn_implementation="eager")
    inputs = inputs_for("WhisperForConditionalGeneration")
    theirs.train(), ours.train()
    with torch.no_grad():
        torch.manual_seed(11)
        expected = theirs(**inputs).logits
        torch.manual_seed(11)
        actual = ours(**inputs).logits
        evaluated = ours.eval()(**inputs).logits
    assert_same_outputs(actual, expected, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(actual, evaluated)  # dropout did act
