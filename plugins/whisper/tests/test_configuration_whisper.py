"""WhisperConfig: defaults, aliases, validation, and config.json both ways with transformers."""

from __future__ import annotations

import inspect

import pytest
import transformers
from autoload import AutoConfig, ConfigError
from whisper_helpers import tiny

from autoload_plugin_whisper.configuration import WhisperConfig

# every field WhisperConfig takes (the common ones of the base class are tested by the host)
FIELDS = [name for name in inspect.signature(WhisperConfig).parameters if name != "kwargs"]


def test_defaults_equal_transformers():
    ours, theirs = WhisperConfig().to_dict(), transformers.WhisperConfig().to_dict()
    for key in FIELDS:
        assert ours[key] == theirs[key], key


def test_aliases():
    config = WhisperConfig(**tiny())
    assert (config.hidden_size, config.num_attention_heads, config.num_hidden_layers) == (32, 4, 2)


@pytest.mark.parametrize("kwargs", [{"encoder_attention_heads": 5}, {"decoder_attention_heads": 0}])
def test_heads_must_divide_d_model(kwargs):
    with pytest.raises(ConfigError, match="attention_heads"):
        WhisperConfig(**tiny(**kwargs))


def test_config_json_both_ways(tmp_path):
    theirs = transformers.WhisperConfig(**tiny(suppress_tokens=[7, 8], use_weighted_layer_sum=True))
    theirs.save_pretrained(tmp_path / "theirs")
    ours = AutoConfig.from_pretrained(tmp_path / "theirs")
    assert isinstance(ours, WhisperConfig)
    for key in FIELDS:
        assert getattr(ours, key) == getattr(theirs, key), key
    ours.save_pretrained(tmp_path / "ours")
    back = transformers.AutoConfig.from_pretrained(tmp_path / "ours")
    for key in FIELDS:
        assert getattr(back, key) == getattr(theirs, key), key
