"""Every Wav2Vec2 head against transformers (the oracle) on tiny random models."""

from __future__ import annotations

import json

import autoload
import numpy as np
import pytest
import torch
import transformers
from autoload.errors import ConfigError, ProcessingError
from safetensors.torch import load_file, save_file
from transformers.models.wav2vec2 import modeling_wav2vec2 as theirs_module
from wav2vec2_helpers import tiny_config_kwargs

from autoload_plugin_wav2vec2 import modeling as ours_module
from autoload_plugin_wav2vec2.configuration import Wav2Vec2Config

ATOL = 1e-5

HEADS = (
    "Wav2Vec2Model",
    "Wav2Vec2ForCTC",
    "Wav2Vec2ForSequenceClassification",
    "Wav2Vec2ForAudioFrameClassification",
    "Wav2Vec2ForXVector",
    "Wav2Vec2ForPreTraining",
)
VARIANTS = {
    "group-postnorm": {},
    "layer-stable": {"feat_extract_norm": "layer", "do_stable_layer_norm": True},
    "layer-bias-odd-kernel": {
        "feat_extract_norm": "layer",
        "conv_bias": True,
        "conv_stride": (5, 2),
        "num_conv_pos_embeddings": 15,
    },
    "weighted-sum": {"use_weighted_layer_sum": True},
    "stable-weighted-attn-adapter": {
        "do_stable_layer_norm": True,
        "use_weighted_layer_sum": True,
        "adapter_attn_dim": 8,
    },
    "adapter": {"add_adapter": True, "output_hidden_size": 16, "num_adapter_layers": 2},
}
# transformers rejects (or cannot run) these combinations itself
UNSUPPORTED = {
    ("adapter", "Wav2Vec2ForSequenceClassification"),
    ("adapter", "Wav2Vec2ForAudioFrameClassification"),
    ("adapter", "Wav2Vec2ForXVector"),
    ("adapter", "Wav2Vec2ForPreTraining"),
}


def make_pair(head: str, attn: str = "eager", **overrides):
    """A transformers model and ours with the same weights, both in eval mode."""
    kwargs = tiny_config_kwargs(**overrides)
    their_config = transformers.Wav2Vec2Config(**kwargs)
    their_config._attn_implementation = attn
    torch.manual_seed(0)
    theirs = getattr(theirs_module, head)(their_config).eval()
    ours = getattr(ours_module, head)(Wav2Vec2Config(**kwargs)).eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    return theirs, ours


def audio_batch(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    values = torch.randn(2, 800, generator=generator)
    mask = torch.ones(2, 800, dtype=torch.long)
    mask[1, 560:] = 0
    values[1, 560:] = 0.0
    return values, mask


def assert_outputs_equal(theirs, ours) -> None:
    assert list(ours.keys()) == list(theirs.keys())
    for key in theirs:
        expected, actual = theirs[key], ours[key]
        if isinstance(expected, tuple):
            assert len(actual) == len(expected), key
            for index, (left, right) in enumerate(zip(actual, expected)):
                torch.testing.assert_close(left, right, atol=ATOL, rtol=ATOL, msg=f"{key}[{index}]")
        else:
            torch.testing.assert_close(actual, expected, atol=ATOL, rtol=ATOL, msg=key)


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("head", HEADS)
def test_outputs_hidden_states_and_attentions_match(head: str, variant: str) -> None:
    if (variant, head) in UNSUPPORTED:
        pytest.skip("transformers does not support this head with the adapter")
    theirs, ours = make_pair(head, **VARIANTS[variant])
    values, mask = audio_batch()
    with torch.no_grad():
        for attention_mask in (None, mask):
            expected = theirs(values, attention_mask=attention_mask, output_hidden_states=True, output_attentions=True)
            actual = ours(values, attention_mask=attention_mask, output_hidden_states=True, output_attentions=True)
            assert_outputs_equal(expected, actual)
            assert len(actual.hidden_states) == 3 and len(actual.attentions) == 2
            # without the flags the optional fields are absent, as in transformers
            plain_theirs = theirs(values, attention_mask=attention_mask)
            plain_ours = ours(values, attention_mask=attention_mask)
            assert_outputs_equal(plain_theirs, plain_ours)


@pytest.mark.parametrize("variant", ["group-postnorm", "layer-stable"])
def test_sdpa_is_the_default_and_matches(variant: str) -> None:
    theirs, ours = make_pair("Wav2Vec2ForCTC", attn="sdpa", **VARIANTS[variant])
    assert ours.config._attn_implementation in (None, "sdpa")
    values, mask = audio_batch()
    with torch.no_grad():
        for attention_mask in (None, mask):
            assert_outputs_equal(
                theirs(values, attention_mask=attention_mask), ours(values, attention_mask=attention_mask)
            )
        # asking for attentions computes that call eagerly, with the same result
        eager = ours(values, attention_mask=mask, output_attentions=True)
        torch.testing.assert_close(eager.logits, ours(values, attention_mask=mask).logits, atol=ATOL, rtol=ATOL)
        assert len(eager.attentions) == 2


def test_padded_utterance_gets_its_unpadded_result() -> None:
    _, ours = make_pair("Wav2Vec2Model", feat_extract_norm="layer", do_stable_layer_norm=True)
    values, mask = audio_batch()
    with torch.no_grad():
        batched = ours(values, attention_mask=mask).last_hidden_state
        alone = ours(values[1:, :560]).last_hidden_state
    frames = alone.shape[1]
    torch.testing.assert_close(batched[1, :frames], alone[0], atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("norm", ["group", "layer"])
def test_ctc_loss_matches(reduction: str, norm: str) -> None:
    theirs, ours = make_pair("Wav2Vec2ForCTC", ctc_loss_reduction=reduction, feat_extract_norm=norm)
    values, mask = audio_batch()
    # padded with -100 in one row and with the pad/blank id (0) in the other
    labels = torch.tensor([[3, 4, 4, 5, 6], [7, 8, 0, 0, 0]])
    with torch.no_grad():
        for attention_mask in (None, mask):
            expected = theirs(values, attention_mask=attention_mask, labels=labels)
            actual = ours(values, attention_mask=attention_mask, labels=labels)
            assert_outputs_equal(expected, actual)
            labels_ignored = labels.masked_fill(labels == 0, -100)
            torch.testing.assert_close(
                ours(values, attention_mask=attention_mask, labels=labels_ignored).loss, actual.loss
            )


def test_ctc_zero_infinity_matches() -> None:
    theirs, ours = make_pair("Wav2Vec2ForCTC", ctc_zero_infinity=True)
    values = torch.randn(1, 800)
    labels = torch.arange(1, 12).repeat(6)[None]  # 66 targets cannot fit in 49 frames
    with torch.no_grad():
        expected, actual = theirs(values, labels=labels), ours(values, labels=labels)
    assert actual.loss.item() == 0.0
    assert_outputs_equal(expected, actual)


def test_ctc_rejects_labels_outside_the_vocabulary() -> None:
    _, ours = make_pair("Wav2Vec2ForCTC")
    with pytest.raises(ProcessingError, match="vocab_size"):
        ours(torch.randn(1, 800), labels=torch.tensor([[12]]))
    with pytest.raises(ConfigError, match="vocab_size"):
        ours_module.Wav2Vec2ForCTC(Wav2Vec2Config(**tiny_config_kwargs(vocab_size=None)))


@pytest.mark.parametrize("weighted", [False, True])
def test_classification_losses_match(weighted: bool) -> None:
    values, mask = audio_batch()
    for head, labels in (
        ("Wav2Vec2ForSequenceClassification", torch.tensor([1, 2])),
        ("Wav2Vec2ForXVector", torch.tensor([0, 2])),
    ):
        theirs, ours = make_pair(head, use_weighted_layer_sum=weighted)
        with torch.no_grad():
            for attention_mask in (None, mask):
                assert_outputs_equal(
                    theirs(values, attention_mask=attention_mask, labels=labels),
                    ours(values, attention_mask=attention_mask, labels=labels),
                )
    theirs, ours = make_pair("Wav2Vec2ForAudioFrameClassification", use_weighted_layer_sum=weighted)
    with torch.no_grad():
        frames = ours(values).logits.shape[1]
        labels = torch.nn.functional.one_hot(
            torch.randint(0, 3, (2, frames), generator=torch.Generator().manual_seed(1)), 3
        )
        assert_outputs_equal(theirs(values, labels=labels), ours(values, labels=labels))


def test_mask_and_negative_helpers_draw_like_transformers() -> None:
    for shape, prob, length, min_masks, lengths in (
        ((3, 40), 0.3, 4, 0, None),
        ((2, 50), 0.65, 10, 2, [50, 31]),
        ((2, 12), 0.05, 5, 2, [12, 4]),
    ):
        mask = None
        if lengths is not None:
            mask = torch.zeros(shape, dtype=torch.long)
            for row, count in enumerate(lengths):
                mask[row, :count] = 1
        for seed in range(5):
            np.random.seed(seed)
            expected = theirs_module._compute_mask_indices(
                shape, prob, length, attention_mask=mask, min_masks=min_masks
            )
            np.random.seed(seed)
            actual = ours_module.compute_mask_indices(shape, prob, length, attention_mask=mask, min_masks=min_masks)
            np.testing.assert_array_equal(actual, expected)
            if actual.sum(-1).min() < 2:
                continue  # a row needs two masked frames to have a distractor
            np.random.seed(seed)
            negatives = theirs_module._sample_negative_indices(shape, 3, expected)
            np.random.seed(seed)
            np.testing.assert_array_equal(ours_module.sample_negative_indices(shape, 3, actual), negatives)
            # a negative is never the frame itself, and stays in its own utterance
            for row in range(shape[0]):
                frames = np.flatnonzero(actual[row])
                for frame in frames:
                    picked = negatives[row, frame] - row * shape[1]
                    assert frame not in picked and actual[row][picked].all()
    with pytest.raises(ValueError, match="mask_length"):
        ours_module.compute_mask_indices((1, 5), 0.5, 6)


@pytest.mark.parametrize("variant", ["group-postnorm", "layer-stable"])
def test_pretraining_losses_match_given_the_same_masks_and_negatives(variant: str) -> None:
    theirs, ours = make_pair("Wav2Vec2ForPreTraining", **VARIANTS[variant])
    values, mask = audio_batch()
    frames = int(ours._get_feat_extract_output_lengths(values.shape[1]))
    frame_mask = ours._get_feature_vector_attention_mask(frames, mask)
    np.random.seed(3)
    mask_time = ours_module.compute_mask_indices((2, frames), 0.5, 2, attention_mask=frame_mask)
    negatives = ours_module.sample_negative_indices((2, frames), ours.config.num_negatives, mask_time)
    mask_time, negatives = torch.tensor(mask_time), torch.tensor(negatives, dtype=torch.long)
    with torch.no_grad():
        for attention_mask in (None, mask):
            expected = theirs(
                values, attention_mask=attention_mask, mask_time_indices=mask_time, sampled_negative_indices=negatives
            )
            actual = ours(
                values, attention_mask=attention_mask, mask_time_indices=mask_time, sampled_negative_indices=negatives
            )
            assert {"loss", "contrastive_loss", "diversity_loss", "codevector_perplexity"} <= set(actual.keys())
            assert_outputs_equal(expected, actual)
        without = ours(values, mask_time_indices=mask_time)
        assert "loss" not in without
        with pytest.raises(ProcessingError, match="mask_time_indices"):
            ours(values, sampled_negative_indices=negatives)


def test_pretraining_loss_masks_negatives_equal_to_the_target() -> None:
    theirs, ours = make_pair(
        "Wav2Vec2ForPreTraining", num_codevectors_per_group=1, num_codevector_groups=1, codevector_dim=4
    )
    values, _ = audio_batch()
    frames = int(ours._get_feat_extract_output_lengths(values.shape[1]))
    np.random.seed(0)
    mask_time = ours_module.compute_mask_indices((2, frames), 0.5, 2)
    negatives = ours_module.sample_negative_indices((2, frames), 4, mask_time)
    mask_time, negatives = torch.tensor(mask_time), torch.tensor(negatives, dtype=torch.long)
    with torch.no_grad():  # a one-entry codebook: every negative equals the target
        expected = theirs(values, mask_time_indices=mask_time, sampled_negative_indices=negatives)
        actual = ours(values, mask_time_indices=mask_time, sampled_negative_indices=negatives)
    assert_outputs_equal(expected, actual)


def test_mask_time_indices_on_the_base_model() -> None:
    theirs, ours = make_pair("Wav2Vec2Model")
    values, _ = audio_batch()
    np.random.seed(1)
    mask_time = torch.tensor(ours_module.compute_mask_indices((2, 49), 0.4, 3))
    with torch.no_grad():
        expected = theirs(values, mask_time_indices=mask_time)
        actual = ours(values, mask_time_indices=mask_time)
        assert_outputs_equal(expected, actual)
        assert not torch.allclose(actual.last_hidden_state, ours(values).last_hidden_state)
    _, no_embed = make_pair("Wav2Vec2Model", mask_time_prob=0.0)
    with pytest.raises(ConfigError, match="masked_spec_embed"):
        no_embed(values, mask_time_indices=mask_time)


def test_spec_augment_only_in_training() -> None:
    overrides = {
        "mask_time_prob": 0.5,
        "mask_time_length": 2,
        "mask_feature_prob": 0.3,
        "mask_feature_length": 4,
        "hidden_dropout": 0.0,
        "attention_dropout": 0.0,
        "activation_dropout": 0.0,
        "feat_proj_dropout": 0.0,
        "final_dropout": 0.0,
        "layerdrop": 0.0,
    }
    theirs, ours = make_pair("Wav2Vec2ForCTC", **overrides)
    values, mask = audio_batch()
    with torch.no_grad():
        evaluated = ours(values, attention_mask=mask).logits
        theirs.train()
        ours.train()
        np.random.seed(7)
        expected = theirs(values, attention_mask=mask).logits
        np.random.seed(7)
        actual = ours(values, attention_mask=mask).logits
    torch.testing.assert_close(actual, expected, atol=ATOL, rtol=ATOL)
    assert not torch.allclose(actual, evaluated)


def test_return_dict_false_gives_tuples() -> None:
    theirs, ours = make_pair("Wav2Vec2ForCTC")
    values, _ = audio_batch()
    labels = torch.tensor([[3, 4], [5, 6]])
    with torch.no_grad():
        expected = theirs(values, labels=labels, return_dict=False, output_hidden_states=True)
        actual = ours(values, labels=labels, return_dict=False, output_hidden_states=True)
    assert isinstance(actual, tuple) and len(actual) == len(expected) == 3
    torch.testing.assert_close(actual[0], expected[0])


def test_freeze_feature_encoder_and_base_model() -> None:
    for head in ("Wav2Vec2Model", "Wav2Vec2ForCTC", "Wav2Vec2ForXVector"):
        _, model = make_pair(head)
        model.freeze_feature_encoder()
        base = model if head == "Wav2Vec2Model" else model.wav2vec2
        assert not any(p.requires_grad for p in base.feature_extractor.parameters())
        assert all(p.requires_grad for p in base.encoder.parameters())
    _, ctc = make_pair("Wav2Vec2ForCTC")
    ctc.freeze_base_model()
    assert not any(p.requires_grad for p in ctc.wav2vec2.parameters())
    assert all(p.requires_grad for p in ctc.lm_head.parameters())


def test_training_step_runs_and_reaches_every_trained_parameter() -> None:
    _, ours = make_pair("Wav2Vec2ForCTC", layerdrop=0.0, mask_time_prob=0.0)
    ours.train()
    ours.freeze_feature_encoder()
    values, mask = audio_batch()
    loss = ours(values, attention_mask=mask, labels=torch.tensor([[3, 4, 5], [6, 7, -100]])).loss
    loss.backward()
    untouched = [name for name, p in ours.named_parameters() if p.requires_grad and p.grad is None]
    assert untouched == []


# -- checkpoints -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "head", ["Wav2Vec2ForCTC", "Wav2Vec2ForPreTraining", "Wav2Vec2ForXVector", "Wav2Vec2ForSequenceClassification"]
)
def test_checkpoints_move_both_ways(head: str, tmp_path) -> None:
    theirs, _ = make_pair(head, feat_extract_norm="layer", do_stable_layer_norm=True)
    theirs.save_pretrained(tmp_path / "theirs")
    ours, info = getattr(ours_module, head).from_pretrained(tmp_path / "theirs", output_loading_info=True)
    assert info["missing_keys"] == [] and info["unexpected_keys"] == []
    assert not ours.training
    values, mask = audio_batch()
    with torch.no_grad():
        expected = theirs(values, attention_mask=mask)
        assert_outputs_equal(expected, ours(values, attention_mask=mask))
    ours.save_pretrained(tmp_path / "ours")
    saved = load_file(tmp_path / "ours" / "model.safetensors")
    assert set(saved) == set(theirs.state_dict())
    assert "wav2vec2.encoder.pos_conv_embed.conv.parametrizations.weight.original0" in saved
    config = json.loads((tmp_path / "ours" / "config.json").read_text())
    assert config["model_type"] == "wav2vec2"
    back = getattr(transformers, head).from_pretrained(tmp_path / "ours").eval()
    with torch.no_grad():
        assert_outputs_equal(expected, back(values, attention_mask=mask))


def test_old_weight_g_weight_v_checkpoints_load(tmp_path) -> None:
    theirs, _ = make_pair("Wav2Vec2ForCTC")
    theirs.save_pretrained(tmp_path / "new")
    renamed = {
        key.replace("parametrizations.weight.original0", "weight_g").replace(
            "parametrizations.weight.original1", "weight_v"
        ): value
        for key, value in load_file(tmp_path / "new" / "model.safetensors").items()
    }
    assert "wav2vec2.encoder.pos_conv_embed.conv.weight_g" in renamed
    (tmp_path / "old").mkdir()
    save_file(renamed, tmp_path / "old" / "model.safetensors", metadata={"format": "pt"})
    (tmp_path / "old" / "config.json").write_text((tmp_path / "new" / "config.json").read_text())
    ours, info = ours_module.Wav2Vec2ForCTC.from_pretrained(tmp_path / "old", output_loading_info=True)
    assert info["missing_keys"] == [] and info["unexpected_keys"] == []
    values, _ = audio_batch()
    with torch.no_grad():
        torch.testing.assert_close(ours(values).logits, theirs(values).logits, atol=ATOL, rtol=ATOL)


def test_base_checkpoint_into_heads_initialises_only_the_head(tmp_path) -> None:
    theirs, _ = make_pair("Wav2Vec2Model")
    theirs.save_pretrained(tmp_path / "base")
    model, info = ours_module.Wav2Vec2ForPreTraining.from_pretrained(tmp_path / "base", output_loading_info=True)
    assert sorted(info["missing_keys"]) == sorted(
        [
            "project_hid.weight",
            "project_hid.bias",
            "project_q.weight",
            "project_q.bias",
            "quantizer.codevectors",
            "quantizer.weight_proj.weight",
            "quantizer.weight_proj.bias",
        ]
    )
    # the quantizer's projection gets its own N(0, 1) initialisation, not the generic N(0, 0.02)
    assert 0.5 < model.quantizer.weight_proj.weight.std().item() < 1.5
    assert torch.all(model.quantizer.weight_proj.bias == 0)
    with torch.no_grad():
        torch.testing.assert_close(
            model.wav2vec2.encoder.pos_conv_embed.conv.weight, theirs.encoder.pos_conv_embed.conv.weight
        )


def test_fresh_models_are_initialised_like_transformers() -> None:
    config = Wav2Vec2Config(**tiny_config_kwargs(hidden_size=64, intermediate_size=64, conv_dim=(64, 64)))
    model = ours_module.Wav2Vec2ForPreTraining.from_config(config)
    conv = model.wav2vec2.encoder.pos_conv_embed.conv
    weights = conv.parametrizations.weight
    # the magnitude starts as the direction's norm, so the effective weight is the direction
    torch.testing.assert_close(conv.weight, weights.original1)
    expected_std = 2 * (1 / (16 * 64)) ** 0.5
    assert 0.8 * expected_std < weights.original1.std().item() < 1.2 * expected_std
    assert torch.all(conv.bias == 0)
    bound = (1 / 64) ** 0.5
    assert model.wav2vec2.feature_projection.projection.weight.abs().max().item() <= bound
    assert 0.8 < model.quantizer.weight_proj.weight.std().item() < 1.2
    assert model.quantizer.codevectors.min().item() >= 0.0 and model.quantizer.codevectors.max().item() <= 1.0
    linear_std = model.wav2vec2.encoder.layers[0].attention.q_proj.weight.std().item()
    assert 0.015 < linear_std < 0.025
    assert not any(torch.isnan(p).any() for p in model.parameters())


def test_auto_classes_resolve_every_head(tmp_path) -> None:
    theirs, _ = make_pair("Wav2Vec2ForCTC")
    theirs.save_pretrained(tmp_path)
    assert isinstance(autoload.AutoConfig.from_pretrained(tmp_path), Wav2Vec2Config)
    for auto_name, head in (
        ("AutoModel", "Wav2Vec2Model"),
        ("AutoModelForCTC", "Wav2Vec2ForCTC"),
        ("AutoModelForAudioClassification", "Wav2Vec2ForSequenceClassification"),
        ("AutoModelForAudioFrameClassification", "Wav2Vec2ForAudioFrameClassification"),
        ("AutoModelForAudioXVector", "Wav2Vec2ForXVector"),
        ("AutoModelForPreTraining", "Wav2Vec2ForPreTraining"),
    ):
        model = getattr(autoload, auto_name).from_pretrained(tmp_path)
        assert type(model) is getattr(ours_module, head), auto_name
    values, _ = audio_batch()
    ctc = autoload.AutoModelForCTC.from_pretrained(tmp_path)
    with torch.no_grad():
        torch.testing.assert_close(ctc(values).logits, theirs(values).logits, atol=ATOL, rtol=ATOL)
