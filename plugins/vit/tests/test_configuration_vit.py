"""ViTConfig: transformers' fields and defaults, files in both directions, impossible values refused."""

from __future__ import annotations

import json

import pytest
from autoload.errors import ConfigError

from autoload_plugin_vit.configuration import ViTConfig

transformers = pytest.importorskip("transformers")

FIELDS = (
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "hidden_act",
    "hidden_dropout_prob",
    "attention_probs_dropout_prob",
    "initializer_range",
    "layer_norm_eps",
    "image_size",
    "patch_size",
    "num_channels",
    "qkv_bias",
    "encoder_stride",
    "pooler_output_size",
    "pooler_act",
)


def test_defaults_equal_transformers():
    ours, theirs = ViTConfig(), transformers.ViTConfig()
    for name in FIELDS:
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.model_type == theirs.model_type == "vit"


def test_pooler_output_size_defaults_to_hidden_size():
    assert ViTConfig(hidden_size=48, num_attention_heads=4).pooler_output_size == 48
    assert ViTConfig(hidden_size=48, num_attention_heads=4, pooler_output_size=7).pooler_output_size == 7


def test_files_move_both_ways(tmp_path):
    theirs = transformers.ViTConfig(
        image_size=[30, 40], patch_size=5, qkv_bias=False, hidden_act="gelu_new", num_labels=4, encoder_stride=5
    )
    theirs.save_pretrained(tmp_path / "hf")
    ours = ViTConfig.from_pretrained(tmp_path / "hf")
    for name in FIELDS:
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.num_labels == 4
    ours.save_pretrained(tmp_path / "ours")
    back = transformers.ViTConfig.from_pretrained(tmp_path / "ours")
    for name in FIELDS:
        assert getattr(back, name) == getattr(theirs, name), name
    saved = json.loads((tmp_path / "ours" / "config.json").read_text())
    assert saved["model_type"] == "vit" and saved["image_size"] == [30, 40]


def test_overrides_at_load(tmp_path):
    ViTConfig(hidden_size=64, num_attention_heads=4).save_pretrained(tmp_path)
    config = ViTConfig.from_pretrained(tmp_path, image_size=64, qkv_bias=False)
    assert (config.image_size, config.qkv_bias, config.hidden_size) == (64, False, 64)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"hidden_size": 0}, "hidden_size"),
        ({"num_attention_heads": -1}, "num_attention_heads"),
        ({"image_size": [32]}, "image_size"),
        ({"image_size": "big"}, "image_size"),
        ({"patch_size": 0}, "patch_size"),
        ({"patch_size": 64, "image_size": 32}, "larger than image_size"),
        ({"encoder_stride": 0}, "encoder_stride"),
        ({"hidden_dropout_prob": 1.5}, "hidden_dropout_prob"),
        ({"hidden_size": 2, "num_attention_heads": 4}, "heads"),
        ({"qkv_bias": "yes"}, "qkv_bias"),
    ],
)
def test_impossible_values(tmp_path, settings, message):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "vit", **settings}))
    with pytest.raises(ConfigError, match=message):
        ViTConfig.from_pretrained(tmp_path)
