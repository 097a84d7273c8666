"""GPT-2 models against transformers, the oracle, both ways.

Each test builds a tiny random GPT-2 with transformers (weights perturbed so
LayerNorms and biases are not at their trivial init values), saves it, loads
it here, and compares outputs; or saves one made here and loads it there.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from autoload import AutoModel, AutoModelForCausalLM, ConfigError, ModelInputError  # noqa: E402
from gpt2_helpers import (  # noqa: E402
    HEADS,
    PAD,
    TINY,
    VOCAB_SIZE,
    load_hf,
    load_ours,
    padded_batch,
    perturb,
    positions_from_mask,
    save_hf,
)

from autoload_plugin_gpt2 import modeling  # noqa: E402
from autoload_plugin_gpt2.configuration import GPT2Config  # noqa: E402

ATOL = 1e-5


def assert_outputs_match(ours: Any, theirs: Any, atol: float = ATOL, where: str = "output") -> None:
    """Every tensor transformers returned, returned here too and equal; caches compared by content."""
    for key, expected in theirs.items():
        if key == "cache":
            assert_caches_match(ours["cache"], expected)
            continue
        if isinstance(expected, tuple) and not expected:
            # transformers reports "nothing recorded" as (); here that field is left out.
            assert ours.get(key) in (None, ()), f"{where}.{key}"
            continue
        actual = ours[key]
        if isinstance(expected, tuple):
            assert len(actual) == len(expected), f"{where}.{key}: {len(actual)} != {len(expected)}"
            for index, (left, right) in enumerate(zip(actual, expected)):
                torch.testing.assert_close(
                    left, right, atol=atol, rtol=atol, msg=lambda m, at=f"{where}.{key}[{index}]": f"{at} {m}"
                )
        else:
            torch.testing.assert_close(
                actual, expected, atol=atol, rtol=atol, msg=lambda m, at=f"{where}.{key}": f"{at} {m}"
            )


def assert_caches_match(ours: Any, theirs: Any) -> None:
    if hasattr(theirs, "self_attention_cache"):
        assert_caches_match(ours.self_attention_cache, theirs.self_attention_cache)
        assert_caches_match(ours.cross_attention_cache, theirs.cross_attention_cache)
        return
    assert ours.get_seq_length() == theirs.get_seq_length()
    for index, layer in enumerate(theirs.layers):
        torch.testing.assert_close(ours.layers[index].keys, layer.keys, atol=ATOL, rtol=ATOL)
        torch.testing.assert_close(ours.layers[index].values, layer.values, atol=ATOL, rtol=ATOL)


def head_kwargs(name: str, batch: dict[str, Any]) -> dict[str, Any]:
    """Labels for every head, so losses are compared too."""
    generator = torch.Generator().manual_seed(3)
    size = batch["input_ids"].shape
    if name == "GPT2LMHeadModel":
        return {"labels": batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)}
    if name == "GPT2ForSequenceClassification":
        return {"labels": torch.randint(0, 2, (size[0],), generator=generator)}
    if name == "GPT2ForTokenClassification":
        return {"labels": torch.randint(0, 2, size, generator=generator)}
    if name == "GPT2ForQuestionAnswering":
        return {
            "start_positions": torch.tensor([1, 0, 50])[: size[0]],  # 50: out of range, ignored
            "end_positions": torch.tensor([3, 2, 4])[: size[0]],
        }
    return {}


OVERRIDES = {"GPT2ForSequenceClassification": {"pad_token_id": PAD}}


# -- transformers -> autoload ------------------------------------------------------------------


@pytest.mark.parametrize("attn", ["eager", "sdpa"])
@pytest.mark.parametrize("name", sorted(HEADS))
def test_transformers_checkpoint_gives_the_same_outputs(tmp_path: Path, name: str, attn: str) -> None:
    save_hf(name, tmp_path, **OVERRIDES.get(name, {}))
    theirs, ours = load_hf(name, tmp_path, attn), load_ours(HEADS[name], tmp_path, attn)
    batch = padded_batch()
    kwargs = {**batch, **head_kwargs(name, batch), "output_hidden_states": True}
    if attn == "eager":
        kwargs["output_attentions"] = True
    with torch.no_grad():
        expected, actual = theirs(**kwargs), ours(**kwargs)
    assert_outputs_match(actual, expected)
    with torch.no_grad():
        as_tuple = ours(**kwargs, return_dict=False)
    assert len(as_tuple) == len([v for v in actual.values() if v is not None])
    torch.testing.assert_close(as_tuple[0], actual[0])


@pytest.mark.parametrize("name", sorted(HEADS))
def test_autoload_checkpoint_loads_in_transformers(tmp_path: Path, name: str) -> None:
    config = GPT2Config(**TINY, **OVERRIDES.get(name, {}))
    torch.manual_seed(0)
    ours = getattr(modeling, HEADS[name])(config)
    perturb(ours)
    ours.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["model_type"] == "gpt2"
    theirs = load_hf(name, tmp_path, "eager")
    ours = load_ours(HEADS[name], tmp_path, "eager")
    batch = padded_batch()
    kwargs = {**batch, **head_kwargs(name, batch), "output_hidden_states": True}
    with torch.no_grad():
        assert_outputs_match(ours(**kwargs), theirs(**kwargs))
    their_state = theirs.state_dict()
    for key, value in ours.state_dict().items():
        torch.testing.assert_close(value, their_state[key], atol=0, rtol=0, msg=key)


def test_weight_layout_is_transformers_conv1d(tmp_path: Path) -> None:
    save_hf("GPT2LMHeadModel", tmp_path)
    theirs, ours = load_hf("GPT2LMHeadModel", tmp_path), load_ours("GPT2LMHeadModel", tmp_path)
    assert set(ours.state_dict()) == set(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert ours.state_dict()[key].shape == value.shape, key
    assert ours.lm_head.weight is ours.transformer.wte.weight


def test_auto_classes_pick_the_gpt2_heads(tmp_path: Path) -> None:
    save_hf("GPT2LMHeadModel", tmp_path)
    assert type(AutoModelForCausalLM.from_pretrained(tmp_path)) is modeling.GPT2LMHeadModel
    assert type(AutoModel.from_pretrained(tmp_path)) is modeling.GPT2Model


# -- configuration variants ---------------------------------------------------------------------

ACTIVATIONS = sorted(
    name for name in transformers.activations.ACT2FN if name not in {"prelu", "xielu", "gelu_python_tanh"}
)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_matches(tmp_path: Path, activation: str) -> None:
    save_hf("GPT2Model", tmp_path, activation_function=activation)
    theirs, ours = load_hf("GPT2Model", tmp_path), load_ours("GPT2Model", tmp_path)
    batch = padded_batch()
    with torch.no_grad():
        assert_outputs_match(ours(**batch), theirs(**batch))


VARIANTS = {
    "inverse-layer-scale": {"scale_attn_by_inverse_layer_idx": True},
    "reorder-and-upcast": {"reorder_and_upcast_attn": True},
    "both": {"scale_attn_by_inverse_layer_idx": True, "reorder_and_upcast_attn": True},
    "unscaled": {"scale_attn_weights": False},
    "default-inner": {"n_inner": None},
    "eps": {"layer_norm_epsilon": 1e-3},
}


@pytest.mark.parametrize("attn", ["eager", "sdpa"])
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_attention_variants_match(tmp_path: Path, variant: str, attn: str) -> None:
    save_hf("GPT2LMHeadModel", tmp_path, **VARIANTS[variant])
    theirs, ours = load_hf("GPT2LMHeadModel", tmp_path, attn), load_ours("GPT2LMHeadModel", tmp_path, attn)
    batch = padded_batch()
    kwargs = {**batch, "labels": batch["input_ids"], "output_hidden_states": True}
    if attn == "eager":
        kwargs["output_attentions"] = True
    with torch.no_grad():
        assert_outputs_match(ours(**kwargs), theirs(**kwargs))


def test_token_type_ids_and_inputs_embeds_match(tmp_path: Path) -> None:
    save_hf("GPT2LMHeadModel", tmp_path)
    theirs, ours = load_hf("GPT2LMHeadModel", tmp_path), load_ours("GPT2LMHeadModel", tmp_path)
    batch = padded_batch()
    token_type_ids = torch.randint(0, 3, batch["input_ids"].shape)
    embeds = theirs.transformer.wte(batch["input_ids"]).detach()
    with torch.no_grad():
        assert_outputs_match(
            ours(**batch, token_type_ids=token_type_ids), theirs(**batch, token_type_ids=token_type_ids)
        )
        expected = theirs(inputs_embeds=embeds, attention_mask=batch["attention_mask"])
        assert_outputs_match(ours(inputs_embeds=embeds, attention_mask=batch["attention_mask"]), expected)


def test_custom_position_ids_match(tmp_path: Path) -> None:
    save_hf("GPT2Model", tmp_path)
    theirs, ours = load_hf("GPT2Model", tmp_path), load_ours("GPT2Model", tmp_path)
    batch = padded_batch()
    position_ids = positions_from_mask(batch["attention_mask"])
    with torch.no_grad():
        assert_outputs_match(ours(**batch, position_ids=position_ids), theirs(**batch, position_ids=position_ids))


@pytest.mark.parametrize("attn", ["eager", "sdpa"])
def test_cross_attention_matches(tmp_path: Path, attn: str) -> None:
    save_hf("GPT2LMHeadModel", tmp_path, add_cross_attention=True)
    theirs, ours = load_hf("GPT2LMHeadModel", tmp_path, attn), load_ours("GPT2LMHeadModel", tmp_path, attn)
    batch = padded_batch()
    encoder_states = torch.randn(3, 5, TINY["n_embd"], generator=torch.Generator().manual_seed(5))
    encoder_mask = torch.ones(3, 5, dtype=torch.long)
    encoder_mask[0, 3:] = 0
    kwargs = {**batch, "encoder_hidden_states": encoder_states, "encoder_attention_mask": encoder_mask}
    if attn == "eager":
        kwargs["output_attentions"] = True
    with torch.no_grad():
        expected, actual = theirs(**kwargs), ours(**kwargs)
    assert_outputs_match(actual, expected, where=attn)
    assert len(actual.cross_attentions if attn == "eager" else ()) == (2 if attn == "eager" else 0)
    # Cached decoding: one more token reuses the cross-attention keys/values.
    step = {
        "input_ids": torch.randint(1, VOCAB_SIZE - 1, (3, 1)),
        "attention_mask": torch.cat([batch["attention_mask"], torch.ones(3, 1, dtype=torch.long)], dim=1),
        "encoder_hidden_states": encoder_states,
        "encoder_attention_mask": encoder_mask,
    }
    with torch.no_grad():
        expected_step = theirs(**step, past_key_values=expected.cache)
        actual_step = ours(**step, past_key_values=actual.cache)
    torch.testing.assert_close(actual_step.logits, expected_step.logits, atol=ATOL, rtol=ATOL)


# -- sequence classification ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("num_labels", "problem_type", "labels"),
    [
        (1, None, torch.tensor([0.5, -1.0, 2.0])),
        (3, None, torch.tensor([0, 2, 1])),
        (3, "multi_label_classification", torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0]])),
        (2, "regression", torch.tensor([[0.5, 1.0], [0.0, -1.0], [2.0, 0.25]])),
    ],
)
def test_sequence_classification_losses_match(
    tmp_path: Path, num_labels: int, problem_type: str | None, labels: Any
) -> None:
    overrides = {"pad_token_id": PAD, "num_labels": num_labels, "problem_type": problem_type}
    save_hf("GPT2ForSequenceClassification", tmp_path, **overrides)
    theirs = load_hf("GPT2ForSequenceClassification", tmp_path)
    ours = load_ours("GPT2ForSequenceClassification", tmp_path)
    batch = padded_batch()
    with torch.no_grad():
        expected, actual = theirs(**batch, labels=labels), ours(**batch, labels=labels)
    assert_outputs_match(actual, expected)
    assert ours.config.problem_type == theirs.config.problem_type


def test_sequence_classification_reads_the_last_real_token(tmp_path: Path) -> None:
    save_hf("GPT2ForSequenceClassification", tmp_path, pad_token_id=PAD)
    ours = load_ours("GPT2ForSequenceClassification", tmp_path)
    batch = padded_batch()
    with torch.no_grad():
        pooled = ours(**batch).logits
        every_token = ours.score(ours.transformer(**batch).last_hidden_state)
    # Row 0 is full, row 1 right-padded by 3, row 2 left-padded (its last token is real).
    torch.testing.assert_close(pooled, every_token[torch.arange(3), torch.tensor([7, 4, 7])])


def test_sequence_classification_without_pad_token(tmp_path: Path) -> None:
    save_hf("GPT2ForSequenceClassification", tmp_path)
    theirs = load_hf("GPT2ForSequenceClassification", tmp_path)
    ours = load_ours("GPT2ForSequenceClassification", tmp_path)
    single = torch.randint(1, VOCAB_SIZE - 1, (1, 6))
    with torch.no_grad():
        assert_outputs_match(ours(single), theirs(single))
    with pytest.raises(ModelInputError, match="pad_token_id"):
        ours(torch.randint(1, VOCAB_SIZE - 1, (2, 6)))


# -- caching, padding, dtype -----------------------------------------------------------------------


@pytest.mark.parametrize("attn", ["eager", "sdpa"])
def test_cached_steps_equal_one_uncached_forward(tmp_path: Path, attn: str) -> None:
    save_hf("GPT2LMHeadModel", tmp_path)
    ours = load_ours("GPT2LMHeadModel", tmp_path, attn)
    theirs = load_hf("GPT2LMHeadModel", tmp_path, attn)
    batch = padded_batch()
    input_ids, mask = batch["input_ids"], batch["attention_mask"]
    positions = positions_from_mask(mask)
    with torch.no_grad():
        full = ours(input_ids, attention_mask=mask, position_ids=positions, use_cache=False).logits
        assert ours(input_ids, attention_mask=mask, use_cache=False).cache is None
        prefix = ours(input_ids[:, :3], attention_mask=mask[:, :3], position_ids=positions[:, :3], use_cache=True)
        cache, steps = prefix.cache, [prefix.logits]
        for index in range(3, input_ids.shape[1]):
            out = ours(
                input_ids[:, index : index + 1],
                past_key_values=cache,
                attention_mask=mask[:, : index + 1],
                position_ids=positions[:, index : index + 1],
            )
            cache = out.cache
            steps.append(out.logits)
        our_full = ours(input_ids, attention_mask=mask, position_ids=positions)
        their_full = theirs(input_ids, attention_mask=mask, position_ids=positions)
    stepped = torch.cat(steps, dim=1)
    real = mask.bool()
    torch.testing.assert_close(stepped[real], full[real], atol=ATOL, rtol=ATOL)
    assert cache.get_seq_length() == input_ids.shape[1]
    assert_caches_match(our_full.cache, their_full.cache)
    # Keys and values of real tokens are the same however the sequence was fed in
    # (padding rows see a different number of keys in the prefix, so they differ).
    for layer, full_layer in zip(cache.layers, our_full.cache.layers):
        for stepped_states, full_states in ((layer.keys, full_layer.keys), (layer.values, full_layer.values)):
            torch.testing.assert_close(
                stepped_states.transpose(1, 2)[real], full_states.transpose(1, 2)[real], atol=ATOL, rtol=ATOL
            )


def test_left_padded_batch_equals_unpadded_rows(tmp_path: Path) -> None:
    save_hf("GPT2LMHeadModel", tmp_path)
    ours = load_ours("GPT2LMHeadModel", tmp_path)
    generator = torch.Generator().manual_seed(11)
    rows = [torch.randint(1, VOCAB_SIZE - 1, (length,), generator=generator) for length in (7, 4, 2)]
    width = max(len(row) for row in rows)
    input_ids = torch.full((len(rows), width), PAD)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for index, row in enumerate(rows):
        input_ids[index, width - len(row) :] = row
        mask[index, width - len(row) :] = 1
    with torch.no_grad():
        batched = ours(input_ids, attention_mask=mask, position_ids=positions_from_mask(mask)).logits
        for index, row in enumerate(rows):
            alone = ours(row[None]).logits[0]
            torch.testing.assert_close(batched[index, width - len(row) :], alone, atol=ATOL, rtol=ATOL)


@pytest.mark.parametrize("attn", ["eager", "sdpa"])
def test_static_cache_decoding_matches(tmp_path: Path, attn: str) -> None:
    from autoload.generation import StaticCache

    save_hf("GPT2LMHeadModel", tmp_path)
    ours = load_ours("GPT2LMHeadModel", tmp_path, attn)
    input_ids = torch.randint(1, VOCAB_SIZE - 1, (2, 6))
    with torch.no_grad():
        full = ours(input_ids, use_cache=False).logits
        cache = StaticCache(max_batch_size=2, max_cache_len=16, config=ours.config)
        first = ours(input_ids[:, :4], past_key_values=cache, use_cache=True)
        steps = [first.logits]
        for index in range(4, 6):
            out = ours(
                input_ids[:, index : index + 1],
                past_key_values=cache,
                cache_position=torch.tensor([index]),
                use_cache=True,
            )
            steps.append(out.logits)
    torch.testing.assert_close(torch.cat(steps, dim=1), full, atol=ATOL, rtol=ATOL)


def test_logits_to_keep(tmp_path: Path) -> None:
    save_hf("GPT2LMHeadModel", tmp_path)
    ours = load_ours("GPT2LMHeadModel", tmp_path)
    theirs = load_hf("GPT2LMHeadModel", tmp_path)
    batch = padded_batch()
    with torch.no_grad():
        for keep in (1, 3, torch.tensor([0, 5])):
            torch.testing.assert_close(
                ours(**batch, logits_to_keep=keep).logits,
                theirs(**batch, logits_to_keep=keep).logits,
                atol=ATOL,
                rtol=ATOL,
            )


@pytest.mark.parametrize("variant", ["plain", "reorder-and-upcast"])
def test_bfloat16_load_matches(tmp_path: Path, variant: str) -> None:
    overrides = {"reorder_and_upcast_attn": True} if variant != "plain" else {}
    save_hf("GPT2LMHeadModel", tmp_path, **overrides)
    ours = load_ours("GPT2LMHeadModel", tmp_path, "eager", dtype=torch.bfloat16)
    theirs = load_hf("GPT2LMHeadModel", tmp_path, "eager", dtype=torch.bfloat16)
    assert ours.dtype == torch.bfloat16
    assert all(p.dtype == torch.bfloat16 for p in ours.parameters())
    batch = padded_batch()
    with torch.no_grad():
        expected, actual = theirs(**batch), ours(**batch)
    assert actual.logits.dtype == torch.bfloat16
    torch.testing.assert_close(actual.logits, expected.logits, atol=1e-2, rtol=1e-2)


def test_old_checkpoints_with_mask_buffers_load_quietly(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """transformers 4 saved each layer's causal mask (``h.N.attn.bias``); those keys are skipped without warning."""
    from safetensors.torch import load_file, save_file

    save_hf("GPT2LMHeadModel", tmp_path)
    state = load_file(tmp_path / "model.safetensors")
    for layer in range(TINY["n_layer"]):
        state[f"h.{layer}.attn.bias"] = torch.tril(torch.ones(1, 1, 8, 8))
        state[f"h.{layer}.attn.masked_bias"] = torch.tensor(-1e4)
    save_file(state, tmp_path / "model.safetensors", metadata={"format": "pt"})
    with caplog.at_level("WARNING"):
        ours = load_ours("GPT2LMHeadModel", tmp_path)
    assert "attn.bias" not in caplog.text
    theirs = load_hf("GPT2LMHeadModel", tmp_path)
    batch = padded_batch()
    with torch.no_grad():
        torch.testing.assert_close(ours(**batch).logits, theirs(**batch).logits, atol=ATOL, rtol=ATOL)


# -- errors -----------------------------------------------------------------------------------------


def test_heads_must_divide_the_width() -> None:
    with pytest.raises(ConfigError, match="multiple of n_head"):
        modeling.GPT2Model(GPT2Config(**{**TINY, "n_head": 5}))


def test_unknown_activation_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="activation_function"):
        modeling.GPT2Model(GPT2Config(**{**TINY, "activation_function": "gelu_nonsense"}))


def test_input_ids_xor_inputs_embeds() -> None:
    model = modeling.GPT2Model(GPT2Config(**TINY)).eval()
    with pytest.raises(ModelInputError, match="exactly one of input_ids and inputs_embeds"):
        model()
    with pytest.raises(ModelInputError, match="exactly one"):
        model(torch.ones(1, 2, dtype=torch.long), inputs_embeds=torch.zeros(1, 2, 32))


def test_cross_attention_needs_the_config_flag() -> None:
    model = modeling.GPT2Model(GPT2Config(**TINY)).eval()
    with pytest.raises(ConfigError, match="add_cross_attention"):
        model(torch.ones(1, 2, dtype=torch.long), encoder_hidden_states=torch.zeros(1, 3, 32))


def test_cache_is_accepted_under_both_names_and_checked() -> None:
    torch.manual_seed(0)
    model = modeling.GPT2LMHeadModel(GPT2Config(**TINY)).eval()
    prompt, step = torch.randint(1, VOCAB_SIZE - 1, (2, 4)), torch.randint(1, VOCAB_SIZE - 1, (2, 1))
    with torch.no_grad():
        by_old_name = model(step, past_key_values=model(prompt).cache).logits
        by_new_name = model(step, cache=model(prompt).cache).logits
        whole = model(torch.cat([prompt, step], dim=1), use_cache=False).logits[:, -1:]
        torch.testing.assert_close(by_old_name, whole, atol=ATOL, rtol=ATOL)
        torch.testing.assert_close(by_new_name, whole, atol=ATOL, rtol=ATOL)
        legacy = model(prompt).cache.to_legacy_cache()
        with pytest.raises(ModelInputError, match="from_legacy_cache"):
            model(step, past_key_values=legacy)
        with pytest.raises(ModelInputError, match="not both"):
            model(step, past_key_values=model(prompt).cache, cache=model(prompt).cache)


# -- the double-heads model -------------------------------------------------------------------------


def choice_batch() -> dict[str, Any]:
    generator = torch.Generator().manual_seed(13)
    input_ids = torch.randint(1, VOCAB_SIZE - 1, (2, 3, 7), generator=generator)
    return {
        "input_ids": input_ids,
        "mc_token_ids": torch.tensor([[6, 4, 5], [2, 6, 6]]),
        "labels": input_ids.masked_fill(torch.rand(input_ids.shape, generator=generator) < 0.3, -100),
        "mc_labels": torch.tensor([2, 0]),
    }


@pytest.mark.parametrize("summary", [{}, {"summary_activation": "tanh", "summary_first_dropout": 0.0}])
@pytest.mark.parametrize("direction", ["from-transformers", "to-transformers"])
def test_double_heads_model_matches(tmp_path: Path, direction: str, summary: dict[str, Any]) -> None:
    if direction == "from-transformers":
        save_hf("GPT2DoubleHeadsModel", tmp_path, **summary)
    else:
        torch.manual_seed(0)
        model = modeling.GPT2DoubleHeadsModel(GPT2Config(**TINY, **summary))
        perturb(model)
        model.save_pretrained(tmp_path)
    theirs = load_hf("GPT2DoubleHeadsModel", tmp_path, "eager")
    ours = load_ours("GPT2DoubleHeadsModel", tmp_path, "eager")
    batch = choice_batch()
    with torch.no_grad():
        expected = theirs(**batch, output_hidden_states=True, output_attentions=True)
        actual = ours(**batch, output_hidden_states=True, output_attentions=True)
        assert_outputs_match(actual, expected)
        no_index = {key: value for key, value in batch.items() if key != "mc_token_ids"}
        assert_outputs_match(ours(**no_index), theirs(**no_index))
    assert ours.config.num_labels == 1
    assert ours.lm_head.weight is ours.transformer.wte.weight


def test_gradient_checkpointing_gives_the_same_gradients() -> None:
    config = GPT2Config(**TINY, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    torch.manual_seed(0)
    plain = modeling.GPT2LMHeadModel(config).train()
    checkpointed = modeling.GPT2LMHeadModel(config).train()
    checkpointed.load_state_dict(plain.state_dict())
    checkpointed.gradient_checkpointing_enable()
    assert checkpointed.transformer.gradient_checkpointing
    batch = padded_batch()
    for model in (plain, checkpointed):
        out = model(**batch, labels=batch["input_ids"])
        out.loss.backward()
    assert out.cache is None  # no cache is kept while checkpointing in training
    for (name, left), right in zip(plain.named_parameters(), checkpointed.parameters()):
        torch.testing.assert_close(right.grad, left.grad, atol=ATOL, rtol=ATOL, msg=lambda m, n=name: f"{n}: {m}")


def test_attention_probabilities_come_from_an_sdpa_model_too(tmp_path: Path) -> None:
    """transformers returns no probabilities from SDPA; here the call runs eagerly and returns the eager ones."""
    save_hf("GPT2Model", tmp_path)
    theirs, ours = load_hf("GPT2Model", tmp_path, "eager"), load_ours("GPT2Model", tmp_path, "sdpa")
    batch = padded_batch()
    with torch.no_grad():
        expected, actual = theirs(**batch, output_attentions=True), ours(**batch, output_attentions=True)
    assert len(actual.attentions) == TINY["n_layer"]
    assert_outputs_match(actual, expected)


def test_loss_over_an_accumulated_batch_matches(tmp_path: Path) -> None:
    save_hf("GPT2LMHeadModel", tmp_path)
    theirs, ours = load_hf("GPT2LMHeadModel", tmp_path), load_ours("GPT2LMHeadModel", tmp_path)
    batch = padded_batch()
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    with torch.no_grad():
        expected = theirs(**batch, labels=labels, num_items_in_batch=torch.tensor(40)).loss
        actual = ours(**batch, labels=labels, num_items_in_batch=torch.tensor(40)).loss
    torch.testing.assert_close(actual, expected, atol=ATOL, rtol=ATOL)


def test_upcast_attention_under_autocast_matches(tmp_path: Path) -> None:
    """Mixed-precision training is what reorder_and_upcast_attn is for: its scores stay float32 under autocast."""
    save_hf("GPT2LMHeadModel", tmp_path, reorder_and_upcast_attn=True)
    theirs = load_hf("GPT2LMHeadModel", tmp_path, "eager")
    ours = load_ours("GPT2LMHeadModel", tmp_path, "eager")
    batch = padded_batch()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        expected = theirs(**batch, output_attentions=True)
        actual = ours(**batch, output_attentions=True)
    assert actual.logits.dtype == expected.logits.dtype
    torch.testing.assert_close(actual.logits, expected.logits, atol=1e-2, rtol=1e-2)
    for left, right in zip(actual.attentions, expected.attentions):
        assert left.dtype == right.dtype
        torch.testing.assert_close(left, right, atol=1e-2, rtol=1e-2)


def test_training_dropout_draws_equal_transformers(tmp_path: Path) -> None:
    """In train mode every dropout runs, in transformers' order: the same seed gives the same logits."""
    save_hf("GPT2LMHeadModel", tmp_path, resid_pdrop=0.3, embd_pdrop=0.2, attn_pdrop=0.1)
    theirs = load_hf("GPT2LMHeadModel", tmp_path, "eager").train()
    ours = load_ours("GPT2LMHeadModel", tmp_path, "eager").train()
    batch = padded_batch()
    with torch.no_grad():
        torch.manual_seed(11)
        expected = theirs(**batch).logits
        torch.manual_seed(11)
        actual = ours(**batch).logits
        evaluated = ours.eval()(**batch).logits
    torch.testing.assert_close(actual, expected, atol=ATOL, rtol=ATOL)
    assert not torch.allclose(actual, evaluated)  # dropout did act
