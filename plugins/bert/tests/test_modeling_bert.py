"""BERT models against transformers, the oracle.

Every test builds a tiny random BERT with transformers, perturbs all its
weights (so LayerNorms and biases are not at their trivial init values), saves
it, loads it here, and compares outputs on a padded batch.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from autoload.errors import AutoloadError, ConfigError, ModelInputError, ProcessingError  # noqa: E402
from autoload.generation import Cache  # noqa: E402

from autoload_plugin_bert import modeling  # noqa: E402
from autoload_plugin_bert.configuration import BertConfig  # noqa: E402

ATOL = 1e-5

TINY: dict[str, Any] = {
    "vocab_size": 99,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 37,
    "max_position_embeddings": 64,
    "type_vocab_size": 2,
}

BATCH, LENGTH, CHOICES = 3, 9, 2


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


# -- building and loading -------------------------------------------------------------


def hf_config(**overrides: Any) -> Any:
    return transformers.BertConfig(**{**TINY, **overrides})


def perturb(model: Any) -> None:
    """Move every weight off its init value; tied weights move together."""
    generator = torch.Generator().manual_seed(1234)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.1 * torch.randn(parameter.shape, generator=generator))


def save_hf(name: str, path: Path, overrides: dict[str, Any] | None = None, **save_kwargs: Any) -> Path:
    model = getattr(transformers, name)(hf_config(**(overrides or {})))
    perturb(model)
    model.save_pretrained(path, **save_kwargs)
    return path


def load_hf(name: str, path: Path, attn: str = "sdpa", dtype: Any = None) -> Any:
    model = getattr(transformers, name).from_pretrained(path, attn_implementation=attn)
    if dtype is not None:
        model = model.to(dtype)
    return model.eval()


def load_ours(cls: type, path: Path, **kwargs: Any) -> Any:
    return cls.from_pretrained(path, **kwargs).eval()


# -- inputs -------------------------------------------------------------------------------


def padded_mask(batch: int, length: int) -> Any:
    """Row 0 full, row 1 right-padded, row 2 left-padded (BERT does not care which side)."""
    mask = torch.ones(batch, length, dtype=torch.long)
    mask[1, length - 3 :] = 0
    if batch > 2:
        mask[2, :2] = 0
    return mask


def token_inputs(batch: int = BATCH, length: int = LENGTH) -> dict[str, Any]:
    input_ids = torch.randint(1, TINY["vocab_size"], (batch, length))
    token_type_ids = torch.zeros(batch, length, dtype=torch.long)
    token_type_ids[:, length // 2 :] = 1
    attention_mask = padded_mask(batch, length)
    input_ids = input_ids.masked_fill(attention_mask == 0, 0)
    return {"input_ids": input_ids, "token_type_ids": token_type_ids, "attention_mask": attention_mask}


def choice_inputs() -> dict[str, Any]:
    flat = token_inputs(BATCH * CHOICES, LENGTH)
    return {key: value.view(BATCH, CHOICES, LENGTH) for key, value in flat.items()}


def masked_labels(inputs: dict[str, Any]) -> Any:
    labels = torch.randint(0, TINY["vocab_size"], inputs["input_ids"].shape)
    keep = torch.rand(labels.shape) < 0.4
    keep[:, 0] = True
    return labels.masked_fill(~keep, -100)


@dataclass
class Head:
    name: str
    hf_name: str
    inputs: Callable[[], dict[str, Any]]
    labels: Callable[[dict[str, Any]], dict[str, Any]]
    overrides: dict[str, Any]

    @property
    def ours(self) -> type:
        return getattr(modeling, self.name)


HEADS = [
    Head("BertModel", "BertModel", token_inputs, lambda inputs: {}, {}),
    Head(
        "BertForPreTraining",
        "BertForPreTraining",
        token_inputs,
        lambda inputs: {"labels": masked_labels(inputs), "next_sentence_label": torch.tensor([0, 1, 1])},
        {},
    ),
    Head(
        "BertLMHeadModel",
        "BertLMHeadModel",
        token_inputs,
        lambda inputs: {"labels": inputs["input_ids"].masked_fill(inputs["attention_mask"] == 0, -100)},
        {"is_decoder": True},
    ),
    Head("BertForMaskedLM", "BertForMaskedLM", token_inputs, lambda inputs: {"labels": masked_labels(inputs)}, {}),
    Head(
        "BertForNextSentencePrediction",
        "BertForNextSentencePrediction",
        token_inputs,
        lambda inputs: {"labels": torch.tensor([1, 0, 1])},
        {},
    ),
    Head(
        "BertForSequenceClassification",
        "BertForSequenceClassification",
        token_inputs,
        lambda inputs: {"labels": torch.tensor([2, 0, 1])},
        {"num_labels": 3},
    ),
    Head(
        "BertForMultipleChoice",
        "BertForMultipleChoice",
        choice_inputs,
        lambda inputs: {"labels": torch.tensor([1, 0, 1])},
        {},
    ),
    Head(
        "BertForTokenClassification",
        "BertForTokenClassification",
        token_inputs,
        lambda inputs: {
            "labels": torch.randint(0, 5, inputs["input_ids"].shape).masked_fill(inputs["attention_mask"] == 0, -100)
        },
        {"num_labels": 5},
    ),
    Head(
        "BertForQuestionAnswering",
        "BertForQuestionAnswering",
        token_inputs,
        lambda inputs: {"start_positions": torch.tensor([1, 3, 4]), "end_positions": torch.tensor([2, 5, 8])},
        {},
    ),
]
HEAD_IDS = [head.name for head in HEADS]


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One transformers checkpoint per head, saved once for the whole module."""
    folder = tmp_path_factory.mktemp("bert-checkpoints")
    torch.manual_seed(0)
    return {head.name: save_hf(head.hf_name, folder / head.name, head.overrides) for head in HEADS}


# -- comparison ---------------------------------------------------------------------------


def assert_close(ours: Any, theirs: Any, atol: float = ATOL, rtol: float = 0.0, where: str = "") -> None:
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)), where
        assert len(ours) == len(theirs), f"{where}: {len(ours)} != {len(theirs)} entries"
        for index, (a, b) in enumerate(zip(ours, theirs)):
            assert_close(a, b, atol, rtol, f"{where}[{index}]")
        return
    assert ours.shape == theirs.shape, f"{where}: shape {tuple(ours.shape)} != {tuple(theirs.shape)}"
    assert ours.dtype == theirs.dtype, f"{where}: dtype {ours.dtype} != {theirs.dtype}"
    torch.testing.assert_close(ours, theirs, atol=atol, rtol=rtol, msg=lambda message: f"{where}: {message}")


def assert_outputs_match(ours: Any, theirs: Any, atol: float = ATOL, rtol: float = 0.0) -> None:
    """Every field transformers returned (bar its key/value cache) matches ours."""
    expected = [key for key in theirs if key != "cache"]
    assert [key for key in ours if key != "cache"] == expected
    for key in expected:
        assert_close(ours[key], theirs[key], atol, rtol, key)


# -- every head, both attention implementations ------------------------------------------------


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
@pytest.mark.parametrize("head", HEADS, ids=HEAD_IDS)
def test_head_matches_transformers(head: Head, attn: str, checkpoints: dict[str, Path]) -> None:
    path = checkpoints[head.name]
    theirs = load_hf(head.hf_name, path, attn)
    ours, info = head.ours.from_pretrained(path, attn_implementation=attn, output_loading_info=True)
    # Every parameter found its tensor (tied ones through their source), nothing left over.
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"], info
    assert ours.config._attn_implementation == attn
    assert not ours.training
    inputs = head.inputs()
    labels = head.labels(inputs)
    with torch.no_grad():
        expected = theirs(**inputs, **labels, output_hidden_states=True)
        actual = ours(**inputs, **labels, output_hidden_states=True)
        assert_outputs_match(actual, expected)
        if labels:
            assert "loss" in actual and actual.loss.ndim == 0
        # Without labels, without a padding mask: the fast paths of the masks.
        plain = {key: value for key, value in inputs.items() if key != "attention_mask"}
        assert_outputs_match(ours(**plain), theirs(**plain))


@pytest.mark.parametrize("ours_attn", ["sdpa", "eager"])
@pytest.mark.parametrize("head", HEADS, ids=HEAD_IDS)
def test_output_attentions_match_eager_transformers(head: Head, ours_attn: str, checkpoints: dict[str, Path]) -> None:
    path = checkpoints[head.name]
    theirs = load_hf(head.hf_name, path, "eager")
    ours = load_ours(head.ours, path, attn_implementation=ours_attn)
    inputs = head.inputs()
    with torch.no_grad():
        expected = theirs(**inputs, output_attentions=True, output_hidden_states=True)
        actual = ours(**inputs, output_attentions=True, output_hidden_states=True)
    assert len(actual.attentions) == TINY["num_hidden_layers"]
    assert actual.attentions[0].shape[-2:] == (LENGTH, LENGTH)
    assert_outputs_match(actual, expected)


@pytest.mark.parametrize("head", HEADS, ids=HEAD_IDS)
def test_return_dict_false_gives_the_same_tuple(head: Head, checkpoints: dict[str, Path]) -> None:
    path = checkpoints[head.name]
    theirs = load_hf(head.hf_name, path)
    ours = load_ours(head.ours, path)
    inputs = head.inputs()
    labels = head.labels(inputs)
    with torch.no_grad():
        expected = theirs(**inputs, **labels, output_hidden_states=True, return_dict=False)
        actual = ours(**inputs, **labels, output_hidden_states=True, return_dict=False)
    assert isinstance(actual, tuple)
    # Both causal LMs slip their key/value cache into the tuple (each its own library's class).
    expected = tuple(item for item in expected if not isinstance(item, transformers.cache_utils.Cache))
    actual = tuple(item for item in actual if not isinstance(item, Cache))
    assert_close(actual, expected, where="tuple")


# -- base model --------------------------------------------------------------------------------


def test_base_model_without_pooler(checkpoints: dict[str, Path]) -> None:
    path = checkpoints["BertModel"]
    theirs = transformers.BertModel.from_pretrained(path, add_pooling_layer=False).eval()
    ours = modeling.BertModel(BertConfig.from_pretrained(path), add_pooling_layer=False).eval()
    assert ours.pooler is None
    assert not any(name.startswith("pooler") for name in ours.state_dict())
    ours.load_state_dict(theirs.state_dict(), strict=True)
    inputs = token_inputs()
    with torch.no_grad():
        actual, expected = ours(**inputs), theirs(**inputs)
    assert "pooler_output" not in actual
    assert_outputs_match(actual, expected)


def test_parameter_and_buffer_names_equal_transformers() -> None:
    for head in HEADS:
        config = hf_config(**head.overrides)
        theirs = getattr(transformers, head.hf_name)(config)
        ours = head.ours(BertConfig.from_dict(config.to_dict()))
        assert list(ours.state_dict()) == list(theirs.state_dict()), head.name
        assert {name for name, _ in ours.named_buffers()} == {name for name, _ in theirs.named_buffers()}
        # The id buffers are rebuilt from the config, never saved.
        assert not any(name.endswith(("position_ids", "token_type_ids")) for name in ours.state_dict())


def test_inputs_embeds_position_ids_and_default_token_types(checkpoints: dict[str, Path]) -> None:
    path = checkpoints["BertModel"]
    theirs = load_hf("BertModel", path)
    ours = load_ours(modeling.BertModel, path)
    inputs = token_inputs()
    embeds = torch.randn(BATCH, LENGTH, TINY["hidden_size"])
    positions = torch.arange(LENGTH).flip(0).expand(BATCH, -1)
    with torch.no_grad():
        assert_outputs_match(
            ours(inputs_embeds=embeds, attention_mask=inputs["attention_mask"], position_ids=positions),
            theirs(inputs_embeds=embeds, attention_mask=inputs["attention_mask"], position_ids=positions),
        )
        no_types = ours(input_ids=inputs["input_ids"])
        zero_types = ours(input_ids=inputs["input_ids"], token_type_ids=torch.zeros_like(inputs["input_ids"]))
        assert_close(no_types.last_hidden_state, zero_types.last_hidden_state)


@pytest.mark.parametrize(
    "overrides",
    [
        {"hidden_act": "gelu_new"},
        {"hidden_act": "relu"},
        {"hidden_act": "gelu_pytorch_tanh"},
        {"hidden_act": "quick_gelu"},
        {"hidden_act": "silu"},
        {"hidden_act": "gelu_fast"},
        {"chunk_size_feed_forward": 3},
        {"layer_norm_eps": 1e-5, "type_vocab_size": 3, "num_attention_heads": 8},
    ],
    ids=lambda overrides: ",".join(f"{key}={value}" for key, value in overrides.items()),
)
def test_config_variants(overrides: dict[str, Any], tmp_path: Path) -> None:
    path = save_hf("BertModel", tmp_path, overrides)
    theirs = load_hf("BertModel", path)
    ours = load_ours(modeling.BertModel, path)
    inputs = token_inputs()
    with torch.no_grad():
        assert_outputs_match(ours(**inputs, output_hidden_states=True), theirs(**inputs, output_hidden_states=True))


# -- losses ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("num_labels", "problem_type", "labels", "expected_problem_type"),
    [
        (1, None, lambda: torch.randn(BATCH), "regression"),
        (3, None, lambda: torch.tensor([2, 0, 1]), "single_label_classification"),
        (3, None, lambda: (torch.rand(BATCH, 3) > 0.5).float(), "multi_label_classification"),
        (3, "regression", lambda: torch.randn(BATCH, 3), "regression"),
        (3, "multi_label_classification", lambda: (torch.rand(BATCH, 3) > 0.5).float(), None),
        (2, "single_label_classification", lambda: torch.tensor([1, 0, 1]), None),
    ],
    ids=["regression", "single-long", "multi-float", "regression-3", "multi-set", "single-set"],
)
def test_sequence_classification_losses(
    num_labels: int, problem_type: str | None, labels: Callable[[], Any], expected_problem_type: str | None, tmp_path
) -> None:
    overrides: dict[str, Any] = {"num_labels": num_labels}
    if problem_type is not None:
        overrides["problem_type"] = problem_type
    path = save_hf("BertForSequenceClassification", tmp_path, overrides)
    theirs = load_hf("BertForSequenceClassification", path)
    ours = load_ours(modeling.BertForSequenceClassification, path)
    inputs, label_values = token_inputs(), labels()
    with torch.no_grad():
        expected = theirs(**inputs, labels=label_values)
        actual = ours(**inputs, labels=label_values)
    assert_outputs_match(actual, expected)
    assert ours.config.problem_type == theirs.config.problem_type
    if expected_problem_type is not None:
        assert ours.config.problem_type == expected_problem_type


def test_question_answering_clamps_out_of_range_positions(checkpoints: dict[str, Path]) -> None:
    path = checkpoints["BertForQuestionAnswering"]
    theirs = load_hf("BertForQuestionAnswering", path)
    ours = load_ours(modeling.BertForQuestionAnswering, path)
    inputs = token_inputs()
    # Past the end (ignored), negative (clamped to 0), and the (batch, 1) shape of multi-GPU gathers.
    start, end = torch.tensor([[2], [50], [-3]]), torch.tensor([[4], [1], [60]])
    with torch.no_grad():
        expected = theirs(**inputs, start_positions=start, end_positions=end)
        actual = ours(**inputs, start_positions=start, end_positions=end)
    assert_outputs_match(actual, expected)
    assert torch.isfinite(actual.loss)


def test_masked_lm_loss_ignores_minus_100(checkpoints: dict[str, Path]) -> None:
    ours = load_ours(modeling.BertForMaskedLM, checkpoints["BertForMaskedLM"])
    inputs = token_inputs()
    labels = masked_labels(inputs)
    with torch.no_grad():
        output = ours(**inputs, labels=labels)
    scored = labels != -100
    by_hand = torch.nn.functional.cross_entropy(output.logits[scored], labels[scored])
    assert_close(output.loss, by_hand)


# -- causal LM and cross-attention --------------------------------------------------------------------


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
def test_causal_lm_is_causal_and_matches(attn: str, checkpoints: dict[str, Path]) -> None:
    path = checkpoints["BertLMHeadModel"]
    theirs = load_hf("BertLMHeadModel", path, attn)
    ours = load_ours(modeling.BertLMHeadModel, path, attn_implementation=attn)
    inputs = token_inputs()
    with torch.no_grad():
        full = ours(**inputs).logits
        # Changing the last token must not change any earlier real token's logits.  (A padding
        # position that can see no real token attends everywhere, in transformers too.)
        changed = dict(inputs, input_ids=inputs["input_ids"].clone())
        changed["input_ids"][:, -1] = (changed["input_ids"][:, -1] + 1) % TINY["vocab_size"]
        real = inputs["attention_mask"][:, :-1].bool()
        assert_close(ours(**changed).logits[:, :-1][real], full[:, :-1][real])
        assert not torch.allclose(ours(**changed).logits[0, -1], full[0, -1])
        for keep in (1, 3):
            assert_outputs_match(ours(**inputs, logits_to_keep=keep), theirs(**inputs, logits_to_keep=keep))
        # The caller's cache arguments are accepted as long as there is nothing in them.
        assert_outputs_match(ours(**inputs, past_key_values=None, use_cache=False), theirs(**inputs, use_cache=False))


def test_causal_lm_loss_with_num_items_in_batch(checkpoints: dict[str, Path]) -> None:
    path = checkpoints["BertLMHeadModel"]
    theirs = load_hf("BertLMHeadModel", path)
    ours = load_ours(modeling.BertLMHeadModel, path)
    inputs = token_inputs()
    labels = inputs["input_ids"].masked_fill(inputs["attention_mask"] == 0, -100)
    count = torch.tensor(11)
    with torch.no_grad():
        expected = theirs(**inputs, labels=labels, num_items_in_batch=count)
        actual = ours(**inputs, labels=labels, num_items_in_batch=count)
    assert_outputs_match(actual, expected)


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
def test_cross_attention_decoder(attn: str, tmp_path: Path) -> None:
    path = save_hf("BertLMHeadModel", tmp_path, {"is_decoder": True, "add_cross_attention": True})
    theirs = load_hf("BertLMHeadModel", path, attn)
    eager_theirs = load_hf("BertLMHeadModel", path, "eager")
    ours = load_ours(modeling.BertLMHeadModel, path, attn_implementation=attn)
    assert any(name.startswith("bert.encoder.layer.0.crossattention.self.") for name in ours.state_dict())
    inputs = token_inputs()
    encoder_states = torch.randn(BATCH, 5, TINY["hidden_size"])
    encoder_mask = torch.ones(BATCH, 5, dtype=torch.long)
    encoder_mask[0, 3:] = 0
    cross = {"encoder_hidden_states": encoder_states, "encoder_attention_mask": encoder_mask}
    labels = inputs["input_ids"].masked_fill(inputs["attention_mask"] == 0, -100)
    with torch.no_grad():
        assert_outputs_match(ours(**inputs, **cross, labels=labels), theirs(**inputs, **cross, labels=labels))
        assert_outputs_match(
            ours(**inputs, encoder_hidden_states=encoder_states), theirs(**inputs, encoder_hidden_states=encoder_states)
        )
        actual = ours(**inputs, **cross, output_attentions=True)
        expected = eager_theirs(**inputs, **cross, output_attentions=True)
    assert len(actual.cross_attentions) == TINY["num_hidden_layers"]
    assert actual.cross_attentions[0].shape == (BATCH, TINY["num_attention_heads"], LENGTH, 5)
    assert_outputs_match(actual, expected)


def test_encoder_hidden_states_without_cross_attention_layers_is_an_error(checkpoints: dict[str, Path]) -> None:
    ours = load_ours(modeling.BertLMHeadModel, checkpoints["BertLMHeadModel"])
    with pytest.raises(ConfigError, match="add_cross_attention"):
        ours(input_ids=torch.tensor([[5, 6]]), encoder_hidden_states=torch.randn(1, 3, TINY["hidden_size"]))


# -- checkpoints -----------------------------------------------------------------------------------


def test_sharded_checkpoint(tmp_path: Path) -> None:
    path = save_hf("BertForMaskedLM", tmp_path, max_shard_size="20KB")
    index = json.loads((path / "model.safetensors.index.json").read_text())
    assert len(set(index["weight_map"].values())) > 1
    theirs = load_hf("BertForMaskedLM", path)
    ours = load_ours(modeling.BertForMaskedLM, path)
    inputs = token_inputs()
    with torch.no_grad():
        assert_outputs_match(ours(**inputs, output_hidden_states=True), theirs(**inputs, output_hidden_states=True))


@pytest.mark.parametrize("head", HEADS, ids=HEAD_IDS)
def test_checkpoint_saved_here_loads_in_transformers(head: Head, checkpoints: dict[str, Path], tmp_path: Path) -> None:
    ours = load_ours(head.ours, checkpoints[head.name])
    ours.save_pretrained(tmp_path)
    theirs, info = getattr(transformers, head.hf_name).from_pretrained(tmp_path, output_loading_info=True)
    theirs.eval()
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"], info
    inputs = head.inputs()
    labels = head.labels(inputs)
    with torch.no_grad():
        assert_outputs_match(ours(**inputs, **labels), theirs(**inputs, **labels))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", ["BertModel", "BertForMaskedLM", "BertForSequenceClassification"])
def test_half_precision(name: str, dtype: str, checkpoints: dict[str, Path]) -> None:
    torch_dtype = getattr(torch, dtype)
    path = checkpoints[name]
    theirs = load_hf(name, path, dtype=torch_dtype)
    ours = load_ours(getattr(modeling, name), path, dtype=torch_dtype)
    assert all(parameter.dtype == torch_dtype for parameter in ours.parameters())
    inputs = token_inputs()
    with torch.no_grad():
        actual, expected = ours(**inputs), theirs(**inputs)
    assert_outputs_match(actual, expected, atol=1e-2, rtol=1e-2)


def test_masked_lm_checkpoint_into_base_and_classifier(checkpoints: dict[str, Path]) -> None:
    """Head checkpoints carry the ``bert.`` prefix; the base model and other heads find their weights under it."""
    path = checkpoints["BertForMaskedLM"]
    mlm = load_hf("BertForMaskedLM", path)
    inputs = token_inputs()
    with torch.no_grad():
        encoder_states = mlm(**inputs, output_hidden_states=True).hidden_states

        base = load_ours(modeling.BertModel, path)
        theirs_base = load_hf("BertModel", path)
        actual = base(**inputs, output_hidden_states=True)
        assert_close(actual.hidden_states, encoder_states, where="hidden_states")
        assert_close(actual.last_hidden_state, theirs_base(**inputs).last_hidden_state)

        classifier = load_ours(modeling.BertForSequenceClassification, path, num_labels=4)
        output = classifier(**inputs, output_hidden_states=True)
        assert output.logits.shape == (BATCH, 4)
        assert_close(output.hidden_states, encoder_states, where="hidden_states")


def test_base_checkpoint_into_head(checkpoints: dict[str, Path]) -> None:
    """The other way: a bare ``BertModel`` checkpoint has no prefix, a head adds it."""
    path = checkpoints["BertModel"]
    theirs = load_hf("BertModel", path)
    ours = load_ours(modeling.BertForMaskedLM, path)
    inputs = token_inputs()
    with torch.no_grad():
        expected = theirs(**inputs, output_hidden_states=True).hidden_states
        assert_close(ours(**inputs, output_hidden_states=True).hidden_states, expected, where="hidden_states")


def test_old_checkpoint_with_position_ids_buffer(tmp_path: Path) -> None:
    """transformers 4 saved ``embeddings.position_ids``; it is recomputed, not read."""
    from safetensors.torch import load_file, save_file

    path = save_hf("BertForMaskedLM", tmp_path)
    weights = load_file(path / "model.safetensors")
    weights["bert.embeddings.position_ids"] = torch.arange(TINY["max_position_embeddings"])[None]
    save_file(weights, path / "model.safetensors", metadata={"format": "pt"})
    theirs = load_hf("BertForMaskedLM", path)
    ours = load_ours(modeling.BertForMaskedLM, path)
    inputs = token_inputs()
    with torch.no_grad():
        assert_outputs_match(ours(**inputs), theirs(**inputs))


# -- tied weights ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["BertForPreTraining", "BertLMHeadModel", "BertForMaskedLM"])
def test_lm_head_is_tied_to_word_embeddings(name: str, checkpoints: dict[str, Path]) -> None:
    for model in (getattr(modeling, name)(BertConfig(**TINY)), load_ours(getattr(modeling, name), checkpoints[name])):
        predictions = model.cls.predictions
        assert predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight
        assert predictions.decoder.bias is predictions.bias
        assert model.get_output_embeddings() is predictions.decoder
        assert model.get_input_embeddings() is model.bert.embeddings.word_embeddings


def test_untied_lm_head(tmp_path: Path) -> None:
    path = save_hf("BertForMaskedLM", tmp_path, {"tie_word_embeddings": False})
    theirs = load_hf("BertForMaskedLM", path)
    ours = load_ours(modeling.BertForMaskedLM, path)
    assert ours.cls.predictions.decoder.weight is not ours.bert.embeddings.word_embeddings.weight
    assert not torch.equal(ours.cls.predictions.decoder.weight, ours.bert.embeddings.word_embeddings.weight)
    inputs = token_inputs()
    with torch.no_grad():
        assert_outputs_match(ours(**inputs), theirs(**inputs))


# -- initialisation ------------------------------------------------------------------------------------


def test_init_weights_follow_bert_recipe() -> None:
    config = BertConfig(**{**TINY, "vocab_size": 400, "hidden_size": 64, "initializer_range": 0.3})
    model = modeling.BertForPreTraining(config)
    embeddings = model.bert.embeddings
    assert torch.count_nonzero(embeddings.word_embeddings.weight[config.pad_token_id]) == 0
    for matrix in (
        embeddings.word_embeddings.weight[1:],
        embeddings.position_embeddings.weight,
        model.bert.encoder.layer[0].attention.self.query.weight,
        model.cls.seq_relationship.weight,
    ):
        assert abs(matrix.mean().item()) < 0.05
        assert matrix.std().item() == pytest.approx(0.3, rel=0.1)
    for module in model.modules():
        if isinstance(module, torch.nn.LayerNorm):
            assert torch.all(module.weight == 1) and torch.all(module.bias == 0)
        elif isinstance(module, torch.nn.Linear) and module.bias is not None:
            assert torch.all(module.bias == 0)
    assert torch.all(model.cls.predictions.bias == 0)
    assert torch.equal(embeddings.position_ids[0], torch.arange(config.max_position_embeddings))
    assert torch.count_nonzero(embeddings.token_type_ids) == 0


# -- training ----------------------------------------------------------------------------------------------


def test_gradient_checkpointing_gives_the_same_gradients() -> None:
    config = BertConfig(**TINY, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    model = modeling.BertForMaskedLM(config).train()
    inputs = token_inputs()
    labels = masked_labels(inputs)

    def gradients() -> list[Any]:
        model.zero_grad()
        model(**inputs, labels=labels).loss.backward()
        return [parameter.grad.clone() for parameter in model.parameters() if parameter.grad is not None]

    plain = gradients()
    model.bert.encoder.gradient_checkpointing = True
    checkpointed = gradients()
    assert len(plain) == len(checkpointed) > 0
    assert_close(checkpointed, plain, atol=1e-6, where="grads")


def test_dropout_is_active_in_training_only() -> None:
    model = modeling.BertModel(BertConfig(**TINY, hidden_dropout_prob=0.5))
    inputs = token_inputs()
    model.train()
    first, second = model(**inputs).last_hidden_state, model(**inputs).last_hidden_state
    assert not torch.equal(first, second)
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(**inputs).last_hidden_state, model(**inputs).last_hidden_state)


# -- refusals ------------------------------------------------------------------------------------------------


def test_bad_inputs_are_refused_with_clear_errors() -> None:
    model = modeling.BertModel(BertConfig(**TINY)).eval()
    ids = torch.tensor([[5, 6, 7]])
    with pytest.raises(ModelInputError, match="exactly one of input_ids and inputs_embeds"):
        model()
    with pytest.raises(ModelInputError, match="exactly one"):
        model(input_ids=ids, inputs_embeds=torch.randn(1, 3, TINY["hidden_size"]))
    with pytest.raises(ProcessingError, match="max_position_embeddings"):
        model(input_ids=torch.ones(1, TINY["max_position_embeddings"] + 1, dtype=torch.long))
    with pytest.raises(ProcessingError, match="attention_mask covers 2 positions"):
        model(input_ids=ids, attention_mask=torch.ones(1, 2, dtype=torch.long))
    with pytest.raises(AutoloadError, match="cache"):
        model(input_ids=ids, past_key_values=object())


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"hidden_size": 30}, "multiple of num_attention_heads"),
        ({"position_embedding_type": "relative_key"}, "position_embedding_type"),
        ({"hidden_act": "no-such-activation"}, "hidden_act"),
        ({"add_cross_attention": True}, "is_decoder"),
    ],
)
def test_unsupported_configs_are_refused(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        modeling.BertModel(BertConfig(**{**TINY, **overrides}))


def test_question_answering_needs_two_labels() -> None:
    with pytest.raises(ConfigError, match="num_labels=2"):
        modeling.BertForQuestionAnswering(BertConfig(**TINY, num_labels=3))


def test_four_dimensional_masks_are_used_as_given(checkpoints: dict[str, Path]) -> None:
    ours = load_ours(modeling.BertModel, checkpoints["BertModel"])
    inputs = token_inputs()
    keep = inputs["attention_mask"].bool()[:, None, None, :].expand(BATCH, 1, LENGTH, LENGTH)
    additive = torch.zeros(keep.shape).masked_fill(~keep, torch.finfo(torch.float32).min)
    with torch.no_grad():
        reference = ours(**inputs).last_hidden_state
        for mask in (keep, additive):
            actual = ours(**dict(inputs, attention_mask=mask)).last_hidden_state
            assert_close(actual, reference)


def test_sequence_classification_problem_type_from_int32_labels(checkpoints: dict[str, Path]) -> None:
    """int32 labels pick single-label classification, as in transformers (torch then wants int64 targets)."""
    ours = load_ours(modeling.BertForSequenceClassification, checkpoints["BertForSequenceClassification"])
    theirs = load_hf("BertForSequenceClassification", checkpoints["BertForSequenceClassification"])
    labels = torch.tensor([2, 0, 1], dtype=torch.int32)
    for model in (ours, theirs):
        with pytest.raises(RuntimeError, match="target"):
            model(**token_inputs(), labels=labels)
    assert ours.config.problem_type == theirs.config.problem_type == "single_label_classification"


# -- through the Auto classes ---------------------------------------------------------------------------

AUTO_CLASSES = {
    "BertModel": "AutoModel",
    "BertForPreTraining": "AutoModelForPreTraining",
    "BertLMHeadModel": "AutoModelForCausalLM",
    "BertForMaskedLM": "AutoModelForMaskedLM",
    "BertForNextSentencePrediction": "AutoModelForNextSentencePrediction",
    "BertForSequenceClassification": "AutoModelForSequenceClassification",
    "BertForMultipleChoice": "AutoModelForMultipleChoice",
    "BertForTokenClassification": "AutoModelForTokenClassification",
    "BertForQuestionAnswering": "AutoModelForQuestionAnswering",
}


@pytest.mark.parametrize("head", HEADS, ids=HEAD_IDS)
def test_auto_classes_find_the_heads(head: Head, checkpoints: dict[str, Path]) -> None:
    import autoload

    path = checkpoints[head.name]
    config = autoload.AutoConfig.from_pretrained(path)
    assert type(config) is BertConfig
    ours = getattr(autoload, AUTO_CLASSES[head.name]).from_pretrained(path)
    assert type(ours) is head.ours
    theirs = load_hf(head.hf_name, path)
    inputs = head.inputs()
    with torch.no_grad():
        assert_outputs_match(ours(**inputs), theirs(**inputs))


def test_auto_model_for_text_encoding_is_the_base_model(checkpoints: dict[str, Path]) -> None:
    import autoload

    model = autoload.AutoModelForTextEncoding.from_pretrained(checkpoints["BertForMaskedLM"])
    assert type(model) is modeling.BertModel


# -- host runtime features on BERT (autoload.modeling) -------------------------------------------------


@pytest.mark.parametrize("kwargs", [None, {"use_reentrant": True}])
def test_gradient_checkpointing_enable_gives_the_same_gradients(kwargs: dict[str, Any] | None) -> None:
    config = BertConfig(**TINY, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    model = modeling.BertForSequenceClassification(config).train()
    inputs = token_inputs()
    labels = torch.tensor([0, 1, 1])

    def gradients() -> dict[str, Any]:
        model.zero_grad()
        model(**inputs, labels=labels).loss.backward()
        return {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}

    plain = gradients()
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)
    assert model.is_gradient_checkpointing and model.bert.encoder.gradient_checkpointing
    checkpointed = gradients()
    assert plain.keys() == checkpointed.keys()
    assert_close(list(checkpointed.values()), list(plain.values()), atol=1e-6, where="grads")
    model.gradient_checkpointing_disable()
    assert not model.is_gradient_checkpointing


@pytest.mark.parametrize(
    ("new_size", "pad_to", "mean_resizing"), [(120, None, True), (120, None, False), (103, 16, True), (50, None, True)]
)
def test_resize_token_embeddings_matches_transformers(
    tmp_path: Path, new_size: int, pad_to: int | None, mean_resizing: bool
) -> None:
    path = save_hf("BertForMaskedLM", tmp_path / "mlm")
    theirs = transformers.BertForMaskedLM.from_pretrained(path).eval()
    ours = load_ours(modeling.BertForMaskedLM, path)
    torch.manual_seed(7)
    theirs.resize_token_embeddings(new_size, pad_to_multiple_of=pad_to, mean_resizing=mean_resizing)
    torch.manual_seed(7)
    returned = ours.resize_token_embeddings(new_size, pad_to_multiple_of=pad_to, mean_resizing=mean_resizing)
    expected_size = theirs.config.vocab_size
    assert returned is ours.get_input_embeddings()
    assert ours.config.vocab_size == expected_size == returned.weight.shape[0]
    assert ours.cls.predictions.decoder.weight is ours.bert.embeddings.word_embeddings.weight
    assert ours.cls.predictions.decoder.bias is ours.cls.predictions.bias
    assert_close(ours.get_input_embeddings().weight, theirs.get_input_embeddings().weight, atol=0.0, where="rows")
    assert_close(ours.cls.predictions.bias, theirs.cls.predictions.bias, atol=0.0, where="bias")
    ids = torch.randint(0, expected_size, (2, 7))
    with torch.no_grad():
        assert_close(ours(input_ids=ids).logits, theirs(input_ids=ids).logits, where="logits")
    ours.save_pretrained(tmp_path / "resized")
    reloaded = transformers.BertForMaskedLM.from_pretrained(tmp_path / "resized").eval()
    with torch.no_grad():
        assert_close(reloaded(input_ids=ids).logits, theirs(input_ids=ids).logits, where="reloaded")


def test_decoder_and_input_grads_helpers() -> None:
    model = modeling.BertForMaskedLM(BertConfig(**TINY)).eval()
    assert model.get_decoder() is model.bert  # no decoder attribute: the base model's (itself)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    model.enable_input_require_grads()
    assert model(**token_inputs()).logits.requires_grad
    model.disable_input_require_grads()
    assert not model(**token_inputs()).logits.requires_grad
