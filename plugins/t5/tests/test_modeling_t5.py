"""T5 models against transformers: every head both ways at 1e-5, losses, caches, generation, v1.1 checkpoints."""

from __future__ import annotations

import pytest
import torch
import transformers
from autoload import AutoModel, AutoModelForSeq2SeqLM, AutoModelForTextEncoding
from autoload.testing import assert_same_outputs
from safetensors.torch import load_file, save_file
from t5_helpers import tiny

from autoload_plugin_t5.configuration import T5Config
from autoload_plugin_t5.modeling import T5ForConditionalGeneration, relative_position_bucket

HEADS = [
    ("T5Model", AutoModel),
    ("T5ForConditionalGeneration", AutoModelForSeq2SeqLM),
    ("T5EncoderModel", AutoModelForTextEncoding),
]
VARIANTS = {
    "t5": {},
    "v1.1": {"feed_forward_proj": "gated-gelu", "tie_word_embeddings": False},
    "deeper-decoder": {"num_decoder_layers": 3},
}


def batch(generator: torch.Generator) -> dict[str, torch.Tensor]:
    """A padded batch: row 1 has padding in both the encoder and the decoder inputs, labels ignore it."""
    input_ids = torch.randint(2, 99, (2, 9), generator=generator)
    attention_mask = torch.ones(2, 9, dtype=torch.long)
    attention_mask[1, 6:] = 0
    labels = torch.randint(2, 99, (2, 7), generator=generator)
    labels[1, 5:] = -100
    decoder_attention_mask = (labels != -100).long()
    return {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "labels": labels,
        "decoder_attention_mask": decoder_attention_mask,
    }


def inputs_for(head: str, data: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    inputs = {"input_ids": data["input_ids"], "attention_mask": data["attention_mask"]}
    if head == "T5Model":
        inputs["decoder_input_ids"] = data["labels"].clamp(min=0)
        inputs["decoder_attention_mask"] = data["decoder_attention_mask"]
    elif head == "T5ForConditionalGeneration":
        inputs["labels"] = data["labels"]  # decoder_input_ids come from shifting the labels
        inputs["decoder_attention_mask"] = data["decoder_attention_mask"]
    return inputs


def transformers_model(head: str, config: transformers.T5Config, implementation: str = "eager"):
    torch.manual_seed(0)
    return getattr(transformers, head)._from_config(config, attn_implementation=implementation).eval()


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize(("head", "auto_class"), HEADS, ids=[name for name, _ in HEADS])
def test_head_matches_transformers_both_ways(tmp_path, head, auto_class, variant):
    config = transformers.T5Config(**tiny(**VARIANTS[variant]), decoder_start_token_id=0)
    theirs = transformers_model(head, config)
    theirs.save_pretrained(tmp_path / "theirs")
    ours = auto_class.from_pretrained(tmp_path / "theirs", attn_implementation="eager").eval()
    assert type(ours).__name__ == head
    inputs = inputs_for(head, batch(torch.Generator().manual_seed(1)))
    flags = {"output_hidden_states": True, "output_attentions": True}
    with torch.no_grad():
        expected, actual = theirs(**inputs, **flags), ours(**inputs, **flags)
    keys = [key for key in expected if key not in ("cache", "cross_attentions") or key in actual]
    for key in keys:
        if key == "cache":
            continue
        assert_same_outputs(actual[key], expected[key], atol=1e-5, rtol=1e-5)

    ours.save_pretrained(tmp_path / "ours")
    back = getattr(transformers, head).from_pretrained(tmp_path / "ours").eval()
    with torch.no_grad():
        assert_same_outputs(back(**inputs)[0], expected[0], atol=1e-5, rtol=1e-5)


def test_sdpa_equals_eager(tmp_path):
    torch.manual_seed(0)
    model = T5ForConditionalGeneration(T5Config(**tiny())).eval()
    model.save_pretrained(tmp_path)
    sdpa = AutoModelForSeq2SeqLM.from_pretrained(tmp_path).eval()
    inputs = inputs_for("T5ForConditionalGeneration", batch(torch.Generator().manual_seed(2)))
    model.config._attn_implementation = "eager"
    with torch.no_grad():
        assert_same_outputs(sdpa(**inputs).logits, model(**inputs).logits, atol=1e-5, rtol=1e-5)


def test_untied_v1_1_checkpoint_keeps_its_own_head(tmp_path):
    """A real v1.1 checkpoint stores lm_head.weight and tie_word_embeddings=false: head untied, no rescaling."""
    theirs = transformers_model(
        "T5ForConditionalGeneration",
        transformers.T5Config(**tiny(feed_forward_proj="gated-gelu"), decoder_start_token_id=0),
    )
    theirs.save_pretrained(tmp_path)
    state = load_file(tmp_path / "model.safetensors")
    state["lm_head.weight"] = torch.randn(99, 32, generator=torch.Generator().manual_seed(3))
    save_file(state, tmp_path / "model.safetensors", metadata={"format": "pt"})
    config_path = tmp_path / "config.json"
    config_path.write_text(
        config_path.read_text().replace('"tie_word_embeddings": true', '"tie_word_embeddings": false')
    )
    reference = transformers.T5ForConditionalGeneration.from_pretrained(tmp_path).eval()
    ours = AutoModelForSeq2SeqLM.from_pretrained(tmp_path).eval()
    assert ours.lm_head.weight is not ours.shared.weight
    assert torch.equal(ours.lm_head.weight, state["lm_head.weight"])
    inputs = inputs_for("T5ForConditionalGeneration", batch(torch.Generator().manual_seed(4)))
    with torch.no_grad():
        assert_same_outputs(ours(**inputs).logits, reference(**inputs).logits, atol=1e-5, rtol=1e-5)
    ours.save_pretrained(tmp_path / "again")
    assert "lm_head.weight" in load_file(tmp_path / "again" / "model.safetensors")


def test_shared_embedding_is_one_parameter_saved_once(tmp_path):
    model = T5ForConditionalGeneration(T5Config(**tiny()))
    assert model.encoder.embed_tokens.weight is model.shared.weight is model.decoder.embed_tokens.weight
    assert model.lm_head.weight is model.shared.weight
    model.save_pretrained(tmp_path)
    keys = set(load_file(tmp_path / "model.safetensors"))
    assert "shared.weight" in keys and not keys & {"encoder.embed_tokens.weight", "lm_head.weight"}


def test_relative_position_buckets_match_transformers():
    positions = torch.arange(-300, 300)[None, :]
    for bidirectional in (True, False):
        for buckets, distance in ((32, 128), (8, 20)):
            expected = transformers.models.t5.modeling_t5.T5Attention._relative_position_bucket(
                positions, bidirectional=bidirectional, num_buckets=buckets, max_distance=distance
            )
            assert torch.equal(relative_position_bucket(positions, bidirectional, buckets, distance), expected)


def test_cached_decoding_equals_full_decoding():
    torch.manual_seed(0)
    model = T5ForConditionalGeneration(T5Config(**tiny(feed_forward_proj="gated-gelu"))).eval()
    data = batch(torch.Generator().manual_seed(5))
    decoder_input_ids = torch.randint(2, 99, (2, 6), generator=torch.Generator().manual_seed(6))
    common = {"input_ids": data["input_ids"], "attention_mask": data["attention_mask"]}
    with torch.no_grad():
        full = model(**common, decoder_input_ids=decoder_input_ids, use_cache=False).logits
        first = model(**common, decoder_input_ids=decoder_input_ids[:, :4], use_cache=True)
        cache = first.past_key_values
        logits = [first.logits]
        for step in (4, 5):
            out = model(
                encoder_outputs=(first.encoder_last_hidden_state,),
                attention_mask=data["attention_mask"],
                decoder_input_ids=decoder_input_ids[:, step : step + 1],
                past_key_values=cache,
                use_cache=True,
            )
            logits.append(out.logits)
    assert all(cache.is_updated.values()) and cache.get_seq_length() == 6
    assert_same_outputs(torch.cat(logits, dim=1), full, atol=1e-5, rtol=1e-5)


GENERATE = {
    "greedy": {"max_new_tokens": 12},
    "beam": {"max_new_tokens": 12, "num_beams": 3},
    "beam-returns": {"max_new_tokens": 10, "num_beams": 4, "num_return_sequences": 2, "length_penalty": 0.5},
}


@pytest.mark.parametrize("mode", sorted(GENERATE))
@pytest.mark.parametrize("variant", ["t5", "v1.1"])
def test_generate_ids_equal_transformers(tmp_path, mode, variant):
    config = transformers.T5Config(**tiny(**VARIANTS[variant]), decoder_start_token_id=0)
    theirs = transformers_model("T5ForConditionalGeneration", config, "sdpa")
    theirs.save_pretrained(tmp_path)
    ours = AutoModelForSeq2SeqLM.from_pretrained(tmp_path).eval()
    data = batch(torch.Generator().manual_seed(7))
    kwargs = {"input_ids": data["input_ids"], "attention_mask": data["attention_mask"], "do_sample": False}
    kwargs.update(GENERATE[mode], decoder_start_token_id=0)
    expected = theirs.generate(**kwargs)
    assert torch.equal(ours.generate(**kwargs), expected)


def test_training_dropout_draws_equal_transformers(tmp_path):
    """In train mode every dropout runs, in transformers' order: the same seed gives the same logits."""
    config = transformers.T5Config(**tiny(dropout_rate=0.3), decoder_start_token_id=0)
    theirs = transformers_model("T5ForConditionalGeneration", config)
    theirs.save_pretrained(tmp_path)
    ours = AutoModelForSeq2SeqLM.from_pretrained(tmp_path, attn_implementation="eager")
    inputs = inputs_for("T5ForConditionalGeneration", batch(torch.Generator().manual_seed(3)))
    theirs.train(), ours.train()
    with torch.no_grad():
        torch.manual_seed(11)
        expected = theirs(**inputs).logits
        torch.manual_seed(11)
        actual = ours(**inputs).logits
        evaluated = ours.eval()(**inputs).logits
    assert_same_outputs(actual, expected, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(actual, evaluated)  # dropout did act
