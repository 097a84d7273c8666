"""Every head of the four model types at parity with transformers, in both directions.

transformers builds a tiny random model, saves it, autoload loads it and both
run the same left-padded batch: logits, hidden states and losses agree to
1e-5 in float32, with eager and SDPA attention.  Then the other way round:
autoload builds and saves, transformers loads.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from llama_test_support import (
    ROPE_SCALINGS,
    TASKS,
    VARIANTS,
    assert_close_outputs,
    autoload_model,
    labels_for,
    load_autoload,
    load_transformers,
    padded_batch,
    transformers_model,
)

ATTENTION = ("eager", "sdpa")
# Every head of every model type; the other variants (one switch each) through the causal-LM head only.
MEMBERS = ("llama", "mistral", "qwen2", "qwen3")
CASES = [(variant, task) for variant in MEMBERS for task in TASKS] + [
    (variant, "causal-lm") for variant in sorted(VARIANTS) if variant not in MEMBERS
]


def _run(model: torch.nn.Module, task: str, batch: dict[str, torch.Tensor]) -> object:
    with torch.no_grad():
        return model(**batch, **labels_for(task, batch))


@pytest.mark.parametrize("attn", ATTENTION)
@pytest.mark.parametrize(("variant", "task"), CASES)
def test_transformers_checkpoint_gives_the_same_outputs(tmp_path: Path, variant: str, task: str, attn: str) -> None:
    model_type, overrides = VARIANTS[variant]
    theirs = transformers_model(model_type, task, attn=attn, **overrides)
    theirs.save_pretrained(tmp_path)
    ours = load_autoload(tmp_path, task, attn_implementation=attn)
    assert type(ours).__name__ == type(theirs).__name__
    batch = padded_batch()
    assert_close_outputs(_run(ours, task, batch), _run(theirs, task, batch), task)


@pytest.mark.parametrize(("variant", "task"), CASES)
def test_checkpoint_saved_here_loads_in_transformers(tmp_path: Path, variant: str, task: str) -> None:
    model_type, overrides = VARIANTS[variant]
    ours = autoload_model(model_type, task, seed=3, **overrides)
    ours.save_pretrained(tmp_path)
    theirs, info = load_transformers(tmp_path, task, output_loading_info=True, attn_implementation="eager")
    assert not info["missing_keys"] and not info["unexpected_keys"], info
    batch = padded_batch(seed=4)
    assert_close_outputs(_run(ours, task, batch), _run(theirs.eval(), task, batch), task)


@pytest.mark.parametrize(
    ("model_type", "kind"), [("llama", kind) for kind in sorted(ROPE_SCALINGS)] + [("qwen3", "yarn")]
)
def test_every_rope_scaling(tmp_path: Path, model_type: str, kind: str) -> None:
    """Prompt longer than original_max_position_embeddings, so every scaling regime is exercised."""
    overrides = {"head_dim": 16} if model_type == "qwen3" else {}
    theirs = transformers_model(model_type, "causal-lm", rope_parameters=dict(ROPE_SCALINGS[kind]), **overrides)
    theirs.save_pretrained(tmp_path)
    ours = load_autoload(tmp_path, "causal-lm", attn_implementation="eager")
    batch = padded_batch(length=40)
    assert_close_outputs(_run(ours, "causal-lm", batch), _run(theirs, "causal-lm", batch), "causal-lm")


@pytest.mark.parametrize("tied", [True, False])
def test_tied_and_untied_embeddings(tmp_path: Path, tied: bool) -> None:
    ours = autoload_model("llama", "causal-lm", tie_word_embeddings=tied)
    assert (ours.lm_head.weight is ours.model.embed_tokens.weight) is tied
    ours.save_pretrained(tmp_path)
    from safetensors import safe_open

    with safe_open(str(tmp_path / "model.safetensors"), "pt") as handle:
        assert ("lm_head.weight" in set(handle.keys())) is not tied
    theirs = load_transformers(tmp_path, "causal-lm")
    assert (theirs.lm_head.weight.data_ptr() == theirs.model.embed_tokens.weight.data_ptr()) is tied


def test_explicit_head_dim_shapes_the_projections() -> None:
    model = autoload_model("llama", "base", head_dim=16)
    attention = model.layers[0].self_attn
    assert attention.head_dim == 16
    assert attention.q_proj.weight.shape == (4 * 16, 32) and attention.k_proj.weight.shape == (2 * 16, 32)
    assert attention.o_proj.weight.shape == (32, 4 * 16)


def test_each_member_has_its_own_switches() -> None:
    mistral = autoload_model("mistral", "base", sliding_window=4).layers[0].self_attn
    qwen2 = autoload_model("qwen2", "base").layers[0].self_attn
    qwen3 = autoload_model("qwen3", "base", head_dim=16).layers[0].self_attn
    assert mistral.q_proj.bias is None and mistral.sliding_window == 4
    assert qwen2.q_proj.bias is not None and qwen2.v_proj.bias is not None and qwen2.o_proj.bias is None
    assert qwen3.q_norm.weight.shape == (16,) and qwen3.q_proj.bias is None


@pytest.mark.parametrize("attn", ATTENTION)
@pytest.mark.parametrize("variant", ["mistral", "qwen2-sliding"])
def test_sliding_window_shorter_than_the_prompt(tmp_path: Path, variant: str, attn: str) -> None:
    """Window 4, prompt 12: early keys drop out of view; the same as transformers, padded or not."""
    model_type, overrides = VARIANTS[variant]
    theirs = transformers_model(model_type, "causal-lm", attn=attn, **overrides)
    theirs.save_pretrained(tmp_path)
    ours = load_autoload(tmp_path, "causal-lm", attn_implementation=attn)
    batch = padded_batch(length=12)
    assert_close_outputs(_run(ours, "causal-lm", batch), _run(theirs, "causal-lm", batch), "causal-lm")
    # The window really bites: a full-attention model with the same weights gives other logits.
    full = load_autoload(tmp_path, "causal-lm", attn_implementation=attn, sliding_window=None)
    if model_type == "qwen2":
        full = load_autoload(tmp_path, "causal-lm", attn_implementation=attn, use_sliding_window=False)
        full.model.layers[1].self_attn.sliding_window = None
    assert not torch.allclose(_run(full, "causal-lm", batch).logits, _run(ours, "causal-lm", batch).logits)


@pytest.mark.parametrize("attn", ATTENTION)
@pytest.mark.parametrize("variant", ["llama-head-dim", "mistral", "qwen2-sliding", "qwen3"])
def test_cached_steps_equal_one_uncached_pass(variant: str, attn: str) -> None:
    """Prompt, then one token at a time through the cache: the logits of a single full pass, padding included."""
    model_type, overrides = VARIANTS[variant]
    model = autoload_model(model_type, "causal-lm", attn=attn, **overrides)
    batch = padded_batch(length=11)
    with torch.no_grad():
        full = model(**batch, use_cache=False).logits
        prompt = 6
        step = model(
            input_ids=batch["input_ids"][:, :prompt], attention_mask=batch["attention_mask"][:, :prompt], use_cache=True
        )
        pieces, cache = [step.logits], step.past_key_values
        for position in range(prompt, batch["input_ids"].shape[1]):
            step = model(
                input_ids=batch["input_ids"][:, position : position + 1],
                attention_mask=batch["attention_mask"][:, : position + 1],
                past_key_values=cache,
                use_cache=True,
            )
            pieces.append(step.logits)
            cache = step.past_key_values
    assert cache.get_seq_length() == batch["input_ids"].shape[1]
    # Padding positions attend to nothing; what they yield (a uniform average in eager attention, over the keys
    # present at the time) is not a prediction, so only real positions are compared.
    real = batch["attention_mask"].bool()
    torch.testing.assert_close(torch.cat(pieces, dim=1)[real], full[real], atol=1e-5, rtol=1e-5)


def test_cache_matches_transformers_cache_step_by_step(tmp_path: Path) -> None:
    """Mistral, window 4: one cached step after a 9-token prompt equals transformers' cached step."""
    theirs = transformers_model("mistral", "causal-lm", sliding_window=4)
    theirs.save_pretrained(tmp_path)
    ours = load_autoload(tmp_path, "causal-lm", attn_implementation="eager")
    batch = padded_batch(length=10)
    prompt = {key: value[:, :9] for key, value in batch.items()}
    with torch.no_grad():
        mine = ours(**prompt, use_cache=True)
        reference = theirs(**prompt, use_cache=True)
        mine = ours(
            input_ids=batch["input_ids"][:, 9:],
            attention_mask=batch["attention_mask"],
            past_key_values=mine.past_key_values,
        )
        reference = theirs(
            input_ids=batch["input_ids"][:, 9:], attention_mask=batch["attention_mask"], cache=reference.cache
        )
    torch.testing.assert_close(mine.logits, reference.logits, atol=1e-5, rtol=1e-5)


def test_hidden_states_and_attentions_equal_transformers(tmp_path: Path) -> None:
    theirs = transformers_model("qwen3", "base", head_dim=16)
    theirs.save_pretrained(tmp_path)
    ours = load_autoload(tmp_path, "base", attn_implementation="eager")
    batch = padded_batch()
    with torch.no_grad():
        mine = ours(**batch, output_hidden_states=True, output_attentions=True)
        reference = theirs(**batch, output_hidden_states=True, output_attentions=True)
    assert len(mine.hidden_states) == len(reference.hidden_states) == 3
    for got, want in zip(mine.hidden_states, reference.hidden_states):
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    for got, want in zip(mine.attentions, reference.attentions):
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_tuple_outputs_and_logits_to_keep() -> None:
    model = autoload_model("qwen2", "causal-lm")
    batch = padded_batch()
    with torch.no_grad():
        as_dict = model(**batch, labels=batch["input_ids"])
        as_tuple = model(**batch, labels=batch["input_ids"], return_dict=False)
        last = model(**batch, logits_to_keep=1)
    torch.testing.assert_close(as_tuple[0], as_dict.loss)
    torch.testing.assert_close(as_tuple[1], as_dict.logits)
    torch.testing.assert_close(last.logits, as_dict.logits[:, -1:])


def test_bf16_load_keeps_parameters_bf16_and_inv_freq_float32(tmp_path: Path) -> None:
    theirs = transformers_model("llama", "causal-lm", rope_parameters=dict(ROPE_SCALINGS["llama3"]))
    theirs.save_pretrained(tmp_path)
    ours = load_autoload(tmp_path, "causal-lm", dtype=torch.bfloat16)
    assert {parameter.dtype for parameter in ours.parameters()} == {torch.bfloat16}
    assert ours.model.rotary_emb.inv_freq.dtype == torch.float32
    reference = load_transformers(tmp_path, "causal-lm", dtype=torch.bfloat16)
    torch.testing.assert_close(ours.model.rotary_emb.inv_freq, reference.model.rotary_emb.inv_freq)
    batch = padded_batch()
    with torch.no_grad():
        mine, expected = ours(**batch).logits, reference(**batch).logits
    assert mine.dtype == expected.dtype == torch.bfloat16
    real = batch["attention_mask"].bool()
    torch.testing.assert_close(mine[real].float(), expected[real].float(), atol=2e-2, rtol=2e-2)


def test_question_answering_keeps_transformers_prefixes() -> None:
    assert hasattr(autoload_model("llama", "question-answering"), "transformer")
    assert hasattr(autoload_model("qwen2", "question-answering"), "transformer")
    assert hasattr(autoload_model("mistral", "question-answering"), "model")


def test_sequence_classification_needs_a_pad_token_for_batches() -> None:
    from autoload import ModelInputError

    model = autoload_model("llama", "sequence-classification", pad_token_id=None)
    with pytest.raises(ModelInputError, match="pad_token_id"):
        model(input_ids=torch.tensor([[5, 6], [7, 8]]))
    assert model(input_ids=torch.tensor([[5, 6]])).logits.shape == (1, 3)


def test_exactly_one_of_ids_and_embeddings() -> None:
    from autoload import ModelInputError

    model = autoload_model("qwen3", "base", head_dim=16)
    with pytest.raises(ModelInputError, match="exactly one"):
        model()
    ids = torch.tensor([[5, 6, 7]])
    with torch.no_grad():
        torch.testing.assert_close(
            model(inputs_embeds=model.embed_tokens(ids)).last_hidden_state, model(input_ids=ids).last_hidden_state
        )


def test_gradient_checkpointing_gives_the_same_gradients() -> None:
    batch = padded_batch()
    gradients = []
    for checkpointing in (False, True):
        model = autoload_model("qwen3", "causal-lm", head_dim=16, seed=5).train()
        model.config.attention_dropout = 0.0
        if checkpointing:
            model.gradient_checkpointing_enable()
        model(**batch, labels=batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)).loss.backward()
        gradients.append(model.model.layers[0].self_attn.q_proj.weight.grad.clone())
    torch.testing.assert_close(gradients[0], gradients[1])


@pytest.mark.parametrize("model_type", ["llama", "mistral", "qwen2", "qwen3"])
def test_tensor_parallel_plan_splits_what_transformers_splits(model_type: str) -> None:
    """The declared plan (used by ``from_pretrained(tp_plan="auto")``) covers transformers' column/row splits."""
    import transformers
    from autoload.modeling.tensor_parallel import declared_plan

    overrides = {"head_dim": 16} if model_type == "qwen3" else {}
    plan = declared_plan(autoload_model(model_type, "causal-lm", **overrides))
    theirs = transformers.AutoConfig.for_model(model_type).base_model_tp_plan
    for pattern, style in theirs.items():
        if style in ("colwise", "rowwise"):
            assert plan[f"model.{pattern.replace('*', '0')}"] == style, pattern
    assert plan["lm_head"] == "colwise_gather" and plan["model.embed_tokens"] == "embedding"
