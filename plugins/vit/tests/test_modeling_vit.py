"""ViT models against transformers: outputs, losses, options, and checkpoints in both directions.

Every comparison builds a tiny random model with transformers, moves its
weights through files (transformers save -> autoload load, or the reverse),
and compares in float32, eval mode, atol 1e-5.
"""

from __future__ import annotations

import pytest
import torch
from autoload.errors import ConfigError, ProcessingError

from autoload_plugin_vit.configuration import ViTConfig
from autoload_plugin_vit.modeling import (
    ViTForImageClassification,
    ViTForMaskedImageModeling,
    ViTModel,
    ViTPreTrainedModel,
)

transformers = pytest.importorskip("transformers")

ATOL = 1e-5
TINY = {
    "image_size": 32,
    "patch_size": 8,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 37,
}

VARIANTS = {
    "default": {},
    "patch4": {"patch_size": 4, "encoder_stride": 4},
    "image24": {"image_size": 24, "patch_size": 8, "encoder_stride": 8},
    "no-qkv-bias": {"qkv_bias": False},
    "gelu-new-eps": {"hidden_act": "gelu_new", "layer_norm_eps": 1e-6},
    "pooler16-relu": {"pooler_output_size": 16, "pooler_act": "relu"},
    "one-channel": {"num_channels": 1},
}

OURS = {
    "ViTModel": ViTModel,
    "ViTForImageClassification": ViTForImageClassification,
    "ViTForMaskedImageModeling": ViTForMaskedImageModeling,
}


def _hf_model(name: str, attn: str = "sdpa", seed: int = 0, **overrides):
    config = transformers.ViTConfig(**{**TINY, **overrides})
    config._attn_implementation = attn
    torch.manual_seed(seed)
    kwargs = {}
    if name == "ViTModel:no-pool":
        name, kwargs = "ViTModel", {"add_pooling_layer": False}
    model = getattr(transformers, name)(config, **kwargs).eval()
    # make every parameter non-trivial (biases and norms start at 0 and 1)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(torch.randn_like(param) * 0.05)
    return model


def _ours_from(hf_model, path, cls, **kwargs):
    hf_model.save_pretrained(path)
    return cls.from_pretrained(path, **kwargs).eval()


def _pixels(config_like: dict, batch: int = 2, size: tuple[int, int] | None = None, seed: int = 1) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    height, width = size or (config_like["image_size"],) * 2
    return torch.randn(batch, config_like.get("num_channels", 3), height, width, generator=generator)


def _close(actual, expected):
    torch.testing.assert_close(actual, expected, atol=ATOL, rtol=0)


# -- outputs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("pooling", [True, False])
def test_base_model_matches(tmp_path, variant, pooling):
    overrides = VARIANTS[variant]
    hf = _hf_model("ViTModel" if pooling else "ViTModel:no-pool", **overrides)
    ours = _ours_from(hf, tmp_path, ViTModel, add_pooling_layer=pooling)
    assert (ours.pooler is None) is (not pooling)
    pixels = _pixels({**TINY, **overrides})
    with torch.no_grad():
        got = ours(pixels, output_hidden_states=True)
        want = hf(pixels, output_hidden_states=True)
    _close(got.last_hidden_state, want.last_hidden_state)
    if pooling:
        _close(got.pooler_output, want.pooler_output)
    else:
        assert got.pooler_output is None and "pooler_output" not in got
    assert len(got.hidden_states) == len(want.hidden_states) == TINY["num_hidden_layers"] + 1
    for a, b in zip(got.hidden_states, want.hidden_states):
        _close(a, b)


@pytest.mark.parametrize("variant", ["default", "patch4", "no-qkv-bias"])
def test_attentions_match_eager_transformers(tmp_path, variant):
    overrides = VARIANTS[variant]
    hf = _hf_model("ViTModel", attn="eager", **overrides)
    ours = _ours_from(hf, tmp_path, ViTModel)  # sdpa by default: output_attentions switches the call to eager
    assert ours.config._attn_implementation == "sdpa"
    pixels = _pixels({**TINY, **overrides})
    with torch.no_grad():
        got = ours(pixels, output_attentions=True, output_hidden_states=True)
        want = hf(pixels, output_attentions=True, output_hidden_states=True)
    assert len(got.attentions) == len(want.attentions) == TINY["num_hidden_layers"]
    for a, b in zip(got.attentions, want.attentions):
        _close(a, b)
    _close(got.last_hidden_state, want.last_hidden_state)
    eager = ViTModel.from_pretrained(tmp_path, attn_implementation="eager").eval()
    with torch.no_grad():
        _close(eager(pixels).last_hidden_state, want.last_hidden_state)


def test_tuple_outputs(tmp_path):
    hf = _hf_model("ViTModel", attn="eager")
    ours = _ours_from(hf, tmp_path, ViTModel)
    pixels = _pixels(TINY)
    with torch.no_grad():
        got = ours(pixels, return_dict=False, output_hidden_states=True, output_attentions=True)
        want = hf(pixels, return_dict=False, output_hidden_states=True, output_attentions=True)
    assert isinstance(got, tuple) and len(got) == len(want) == 4
    _close(got[0], want[0])
    _close(got[1], want[1])
    for a, b in zip(got[3], want[3]):
        _close(a, b)
    labels = torch.tensor([0, 1])
    classifier = _ours_from(_hf_model("ViTForImageClassification"), tmp_path / "cls", ViTForImageClassification)
    with torch.no_grad():
        loss, logits = classifier(pixels, labels=labels, return_dict=False)
    assert loss.dim() == 0 and logits.shape == (2, 2)


@pytest.mark.parametrize("variant", ["default", "patch4", "image24", "no-qkv-bias"])
@pytest.mark.parametrize(
    ("num_labels", "problem_type", "label_kind"),
    [
        (3, None, "long"),
        (1, None, "float"),
        (3, None, "multi"),
        (3, "multi_label_classification", "multi"),
        (2, "regression", "float2"),
        (3, "single_label_classification", "long"),
    ],
)
def test_image_classification_matches(tmp_path, variant, num_labels, problem_type, label_kind):
    overrides = {**VARIANTS[variant], "num_labels": num_labels, "problem_type": problem_type}
    hf = _hf_model("ViTForImageClassification", **overrides)
    ours = _ours_from(hf, tmp_path, ViTForImageClassification)
    pixels = _pixels({**TINY, **overrides})
    generator = torch.Generator().manual_seed(3)
    labels = {
        "long": torch.randint(0, num_labels, (2,), generator=generator),
        "float": torch.randn(2, generator=generator),
        "float2": torch.randn(2, num_labels, generator=generator),
        "multi": torch.randint(0, 2, (2, num_labels), generator=generator).float(),
    }[label_kind]
    with torch.no_grad():
        got = ours(pixels, labels=labels, output_hidden_states=True)
        want = hf(pixels, labels=labels.clone(), output_hidden_states=True)
    _close(got.logits, want.logits)
    _close(got.loss, want.loss)
    for a, b in zip(got.hidden_states, want.hidden_states):
        _close(a, b)
    assert ours.config.problem_type == problem_type  # the forward pass leaves the config alone


def test_classification_without_labels_and_zero_labels(tmp_path):
    hf = _hf_model("ViTForImageClassification", num_labels=0)
    ours = _ours_from(hf, tmp_path, ViTForImageClassification)
    assert isinstance(ours.classifier, torch.nn.Identity)
    pixels = _pixels(TINY)
    with torch.no_grad():
        got, want = ours(pixels), hf(pixels)
    assert got.loss is None and "loss" not in got
    _close(got.logits, want.logits)


@pytest.mark.parametrize("variant", ["patch4", "image24"])
@pytest.mark.parametrize("with_mask", [True, False])
def test_masked_image_modeling_matches(tmp_path, variant, with_mask):
    overrides = VARIANTS[variant]
    hf = _hf_model("ViTForMaskedImageModeling", **overrides)
    ours = _ours_from(hf, tmp_path, ViTForMaskedImageModeling)
    config = {**TINY, **overrides}
    pixels = _pixels(config)
    patches = (config["image_size"] // config["patch_size"]) ** 2
    mask = torch.randint(0, 2, (2, patches), generator=torch.Generator().manual_seed(5)).bool() if with_mask else None
    with torch.no_grad():
        got = ours(pixels, bool_masked_pos=mask, output_hidden_states=True)
        want = hf(pixels, bool_masked_pos=mask, output_hidden_states=True)
    assert got.reconstruction.shape == pixels.shape
    _close(got.reconstruction, want.reconstruction)
    if with_mask:
        _close(got.loss, want.loss)
    else:
        assert got.loss is None
    for a, b in zip(got.hidden_states, want.hidden_states):
        _close(a, b)


def test_masked_image_modeling_with_other_stride(tmp_path):
    # encoder_stride != patch_size: reconstruction works, masking is refused (as in transformers)
    hf = _hf_model("ViTForMaskedImageModeling", encoder_stride=4)
    ours = _ours_from(hf, tmp_path, ViTForMaskedImageModeling)
    pixels = _pixels(TINY)
    with torch.no_grad():
        _close(ours(pixels).reconstruction, hf(pixels).reconstruction)
    with pytest.raises(ConfigError, match="encoder_stride"):
        ours(pixels, bool_masked_pos=torch.zeros(2, 16, dtype=torch.bool))


def test_base_model_with_mask_token(tmp_path):
    config = transformers.ViTConfig(**TINY)
    torch.manual_seed(0)
    hf = transformers.ViTModel(config, use_mask_token=True).eval()
    with torch.no_grad():
        hf.embeddings.mask_token.normal_()
    hf.save_pretrained(tmp_path)
    ours = ViTModel.from_pretrained(tmp_path, use_mask_token=True).eval()
    mask = torch.tensor([[True, False] * 8, [False, True] * 8])
    with torch.no_grad():
        _close(ours(_pixels(TINY), bool_masked_pos=mask).last_hidden_state, hf(_pixels(TINY), bool_masked_pos=mask)[0])
    plain = ViTModel.from_pretrained(tmp_path).eval()
    with pytest.raises(ProcessingError, match="mask token"):
        plain(_pixels(TINY), bool_masked_pos=mask)
    with pytest.raises(ProcessingError, match="num_patches"):
        ours(_pixels(TINY), bool_masked_pos=mask[:, :5])


@pytest.mark.parametrize("size", [(48, 48), (16, 16), (32, 48), (40, 24), (32, 32)])
@pytest.mark.parametrize("name", ["ViTModel", "ViTForImageClassification", "ViTForMaskedImageModeling"])
def test_interpolated_position_encodings(tmp_path, size, name):
    overrides = {"encoder_stride": 8}
    hf = _hf_model(name, **overrides)
    ours = _ours_from(hf, tmp_path, OURS[name])
    pixels = _pixels(TINY, size=size)
    with torch.no_grad():
        got = ours(pixels, interpolate_pos_encoding=True)
        if name == "ViTForMaskedImageModeling" and size[0] != size[1]:
            # transformers assumes a square patch grid here and fails; autoload uses the input's grid
            with pytest.raises(RuntimeError):
                hf(pixels, interpolate_pos_encoding=True)
            assert got.reconstruction.shape == pixels.shape
            return
        want = hf(pixels, interpolate_pos_encoding=True)
    _close(got[0], want[0])


def test_other_resolution_needs_interpolation(tmp_path):
    ours = _ours_from(_hf_model("ViTModel"), tmp_path, ViTModel)
    with pytest.raises(ProcessingError, match="interpolate_pos_encoding"):
        ours(_pixels(TINY, size=(48, 48)))
    with pytest.raises(ProcessingError, match="channels"):
        ours(torch.randn(1, 1, 32, 32))
    with pytest.raises(ProcessingError, match="pixel_values"):
        ours()


def test_attention_mask_matches(tmp_path):
    hf = _hf_model("ViTModel", attn="eager")
    ours = _ours_from(hf, tmp_path, ViTModel)
    pixels = _pixels(TINY)
    mask = torch.ones(2, 17, dtype=torch.long)
    mask[0, 5:9] = 0
    mask[1, -3:] = 0
    with torch.no_grad():
        want = hf(pixels, attention_mask=mask).last_hidden_state
        _close(ours(pixels, attention_mask=mask).last_hidden_state, want)
        _close(ours(pixels, attention_mask=mask, output_attentions=True).last_hidden_state, want)
        # the same mask given 4-D: boolean, and additive floats
        boolean = mask.bool()[:, None, None, :]
        additive = torch.zeros(2, 1, 1, 17).masked_fill(~boolean, torch.finfo(torch.float32).min)
        for four_d in (boolean, additive):
            _close(ours(pixels, attention_mask=four_d).last_hidden_state, want)
            _close(ours(pixels, attention_mask=four_d, output_attentions=True).last_hidden_state, want)
    with pytest.raises(ProcessingError, match="attention_mask"):
        ours(pixels, attention_mask=torch.ones(2, 16))


def test_input_dtype_follows_the_weights(tmp_path):
    hf = _hf_model("ViTModel")
    ours = _ours_from(hf, tmp_path, ViTModel)
    pixels = _pixels(TINY)
    with torch.no_grad():
        _close(ours(pixels.double()).last_hidden_state, hf(pixels).last_hidden_state)
    half = ViTModel.from_pretrained(tmp_path, dtype=torch.bfloat16).eval()
    with torch.no_grad():
        out = half(pixels).last_hidden_state
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out.float(), hf(pixels).last_hidden_state, atol=0.1, rtol=0.1)


# -- checkpoints in both directions ----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(OURS))
def test_autoload_checkpoints_load_in_transformers(tmp_path, name):
    config = ViTConfig(**TINY, encoder_stride=8, num_labels=3)
    torch.manual_seed(0)
    ours = OURS[name](config).eval()
    ours.save_pretrained(tmp_path)
    hf = getattr(transformers, name).from_pretrained(tmp_path).eval()
    pixels = _pixels(TINY)
    with torch.no_grad():
        got, want = ours(pixels), hf(pixels)
    _close(got[0], want[0])
    if name == "ViTModel":
        _close(got.pooler_output, want.pooler_output)
    # and a second autoload load of the same files gives the same model
    again = OURS[name].from_pretrained(tmp_path).eval()
    with torch.no_grad():
        _close(again(pixels)[0], got[0])


def test_head_checkpoint_loads_into_base_model_and_back(tmp_path):
    hf = _hf_model("ViTForImageClassification")
    base = _ours_from(hf, tmp_path, ViTModel, add_pooling_layer=False)
    with torch.no_grad():
        _close(base(_pixels(TINY)).last_hidden_state, hf.vit(_pixels(TINY)).last_hidden_state)
    base.save_pretrained(tmp_path / "base")
    head = ViTForImageClassification.from_pretrained(tmp_path / "base", num_labels=4)
    assert head.classifier.out_features == 4
    torch.testing.assert_close(head.vit.layernorm.weight, hf.vit.layernorm.weight)


def test_transformers_in_memory_names_load(tmp_path):
    """A state dict saved under transformers 5's module names (layers.N.attention.q_proj ...) still loads."""
    from safetensors.torch import save_file

    hf = _hf_model("ViTForImageClassification")
    state = {key: value.contiguous() for key, value in hf.state_dict().items()}
    assert any(".q_proj." in key for key in state)
    hf.config.save_pretrained(tmp_path)
    save_file(state, str(tmp_path / "model.safetensors"), metadata={"format": "pt"})
    ours = ViTForImageClassification.from_pretrained(tmp_path).eval()
    with torch.no_grad():
        _close(ours(_pixels(TINY)).logits, hf(_pixels(TINY)).logits)


def test_parameter_names_are_the_checkpoint_names(tmp_path):
    hf = _hf_model("ViTForMaskedImageModeling", encoder_stride=8)
    hf.save_pretrained(tmp_path)
    from safetensors import safe_open

    with safe_open(str(tmp_path / "model.safetensors"), "pt") as handle:
        saved = set(handle.keys())
    ours = ViTForMaskedImageModeling(ViTConfig(**TINY, encoder_stride=8))
    assert set(ours.state_dict()) == saved


# -- initialisation and training ----------------------------------------------------------------------


def test_init_weights_follow_transformers():
    config = ViTConfig(**TINY, initializer_range=1.0)
    torch.manual_seed(0)
    model = ViTForMaskedImageModeling(config)
    embeddings = model.vit.embeddings
    assert embeddings.mask_token.abs().max() == 0
    # truncated normal: position embeddings and [CLS] never leave [-2, 2]; they do reach past 1.5
    assert embeddings.position_embeddings.abs().max() <= 2.0
    assert embeddings.position_embeddings.abs().max() > 1.5
    assert embeddings.cls_token.abs().max() <= 2.0
    # plain normal for linear and conv weights: with std 1 some exceed 2
    query = model.vit.encoder.layer[0].attention.attention.query
    assert query.weight.abs().max() > 2.0
    assert abs(query.weight.std().item() - 1.0) < 0.15
    assert query.bias.abs().max() == 0
    assert model.vit.embeddings.patch_embeddings.projection.bias.abs().max() == 0
    layer_norm = model.vit.encoder.layer[0].layernorm_before
    assert torch.equal(layer_norm.weight, torch.ones_like(layer_norm.weight))
    assert layer_norm.bias.abs().max() == 0
    small = ViTModel(ViTConfig(**TINY))
    assert abs(small.encoder.layer[0].intermediate.dense.weight.std().item() - 0.02) < 0.004


def test_training_step_and_gradient_checkpointing():
    config = ViTConfig(**TINY, num_labels=3, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)
    model = ViTForImageClassification(config).train()
    model.gradient_checkpointing_enable()
    output = model(_pixels(TINY), labels=torch.tensor([0, 2]))
    output.loss.backward()
    assert model.vit.embeddings.cls_token.grad is not None
    assert model.vit.encoder.layer[0].attention.attention.query.weight.grad.abs().sum() > 0
    assert isinstance(model, ViTPreTrainedModel)
    assert model.get_input_embeddings() is model.vit.embeddings.patch_embeddings
