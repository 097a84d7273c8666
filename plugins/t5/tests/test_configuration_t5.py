"""T5Config: derived fields, variants, validation, and config.json both ways with transformers."""

from __future__ import annotations

import json

import pytest
import transformers
from autoload import AutoConfig, ConfigError

from autoload_plugin_t5.configuration import T5Config


@pytest.mark.parametrize(
    ("proj", "act", "gated"), [("relu", "relu", False), ("gated-gelu", "gelu_new", True), ("gated-silu", "silu", True)]
)
def test_feed_forward_proj_derives_activation_like_transformers(proj, act, gated):
    ours, theirs = T5Config(feed_forward_proj=proj), transformers.T5Config(feed_forward_proj=proj)
    assert (ours.dense_act_fn, ours.is_gated_act) == (act, gated)
    assert (ours.dense_act_fn, ours.is_gated_act) == (theirs.dense_act_fn, theirs.is_gated_act)


@pytest.mark.parametrize("proj", ["gelu-gated", "gated-gelu-new", "", "gated-"])
def test_invalid_feed_forward_proj_is_a_config_error(proj):
    with pytest.raises(ConfigError, match="feed_forward_proj"):
        T5Config(feed_forward_proj=proj)


def test_aliases_and_defaults():
    config = T5Config(d_model=32, num_heads=4, num_layers=3, d_kv=8)
    assert (config.hidden_size, config.num_attention_heads, config.num_hidden_layers, config.head_dim) == (32, 4, 3, 8)
    assert config.num_decoder_layers == 3
    assert (config.pad_token_id, config.eos_token_id, config.decoder_start_token_id) == (0, 1, 0)
    assert config.is_encoder_decoder and config.scale_decoder_outputs


def test_v1_1_unties_and_stops_scaling():
    config = T5Config(feed_forward_proj="gated-gelu", tie_word_embeddings=False)
    assert not config.tie_word_embeddings and not config.scale_decoder_outputs


@pytest.mark.parametrize("kwargs", [{}, {"feed_forward_proj": "gated-gelu", "num_decoder_layers": 3}])
def test_config_json_both_ways(tmp_path, kwargs):
    theirs = transformers.T5Config(d_model=32, num_heads=4, **kwargs)
    theirs.save_pretrained(tmp_path / "theirs")
    ours = AutoConfig.from_pretrained(tmp_path / "theirs")
    assert isinstance(ours, T5Config)
    for key, value in theirs.to_dict().items():
        if key not in ("transformers_version", "_name_or_path", "architectures"):
            assert getattr(ours, key) == value, key
    ours.save_pretrained(tmp_path / "ours")
    back = transformers.AutoConfig.from_pretrained(tmp_path / "ours")
    for key in ("d_model", "num_heads", "feed_forward_proj", "dense_act_fn", "is_gated_act", "num_decoder_layers"):
        assert getattr(back, key) == getattr(theirs, key), key
    assert T5Config.from_dict(json.loads(ours.to_json_string())) == ours
