"""Wav2Vec2Config against transformers' defaults and files, and the plugin's import cost."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import transformers
from autoload.errors import ConfigError
from wav2vec2_helpers import tiny_config_kwargs

from autoload_plugin_wav2vec2.configuration import Wav2Vec2Config


def _normalise(value):
    return list(value) if isinstance(value, tuple) else value


def test_defaults_equal_transformers() -> None:
    ours = Wav2Vec2Config().to_dict()
    theirs = transformers.Wav2Vec2Config().to_dict()
    ignored = {"transformers_version", "architectures", "dtype", "id2label", "label2id"}
    missing = [key for key in theirs if key not in ours and key not in ignored and not key.startswith("_")]
    assert missing == []
    for key, value in theirs.items():
        if key in ours and key not in ignored:
            assert _normalise(ours[key]) == _normalise(value), key


def test_derived_values() -> None:
    config = Wav2Vec2Config(**tiny_config_kwargs(conv_stride=(5, 2)))
    assert config.num_feat_extract_layers == 2
    assert config.inputs_to_logits_ratio == 10
    assert config.output_hidden_size == config.hidden_size
    assert Wav2Vec2Config(output_hidden_size=16).output_hidden_size == 16
    assert Wav2Vec2Config().inputs_to_logits_ratio == transformers.Wav2Vec2Config().inputs_to_logits_ratio


def test_config_files_move_both_ways(tmp_path) -> None:
    kwargs = tiny_config_kwargs(feat_extract_norm="layer", do_stable_layer_norm=True, add_adapter=True)
    transformers.Wav2Vec2Config(**kwargs).save_pretrained(tmp_path / "theirs")
    ours = Wav2Vec2Config.from_pretrained(tmp_path / "theirs")
    assert ours.conv_dim == [32, 32] and ours.do_stable_layer_norm and ours.add_adapter
    ours.save_pretrained(tmp_path / "ours")
    saved = json.loads((tmp_path / "ours" / "config.json").read_text())
    assert saved["model_type"] == "wav2vec2" and saved["num_feat_extract_layers"] == 2
    back = transformers.Wav2Vec2Config.from_pretrained(tmp_path / "ours")
    for key, value in kwargs.items():
        if key != "num_labels":
            assert _normalise(getattr(back, key)) == _normalise(value), key
    assert back.num_labels == 3


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"conv_dim": (32, 32), "conv_stride": (4,), "conv_kernel": (8, 4)}, "conv_dim, conv_stride and conv_kernel"),
        ({"feat_extract_norm": "batch"}, "feat_extract_norm"),
        ({"ctc_loss_reduction": "max"}, "ctc_loss_reduction"),
        ({"tdnn_dim": (1, 2), "tdnn_kernel": (3,), "tdnn_dilation": (1, 1)}, "tdnn_dim"),
        ({"num_feat_extract_layers": 3}, "num_feat_extract_layers"),
    ],
)
def test_invalid_configs_say_what_is_wrong(overrides, fragment) -> None:
    with pytest.raises(ConfigError, match=fragment):
        Wav2Vec2Config(**overrides)


def test_declaration_and_config_import_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "import autoload_plugin_wav2vec2\n"
        "import autoload_plugin_wav2vec2.plugin as p\n"
        "import autoload_plugin_wav2vec2.configuration\n"
        "arch = p.autoload_architectures()\n"
        "heavy = [m for m in ('torch', 'numpy', 'tokenizers', 'PIL') if m in sys.modules]\n"
        "print(arch.model_type, sorted(arch.models), heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split("[")[0].strip() == "wav2vec2"
    assert result.stdout.strip().endswith("[]"), result.stdout
    for task in ("base", "ctc", "audio-classification", "audio-frame-classification", "audio-xvector", "pretraining"):
        assert task in result.stdout
