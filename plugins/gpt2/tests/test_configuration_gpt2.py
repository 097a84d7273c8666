"""GPT2Config against transformers' GPT2Config: same fields, same defaults, same files, both ways."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from autoload import AutoConfig
from autoload.errors import ConfigError

from autoload_plugin_gpt2.configuration import GPT2Config

transformers = pytest.importorskip("transformers")

GPT2_FIELDS = (
    "vocab_size",
    "n_positions",
    "n_embd",
    "n_layer",
    "n_head",
    "n_inner",
    "activation_function",
    "resid_pdrop",
    "embd_pdrop",
    "attn_pdrop",
    "layer_norm_epsilon",
    "initializer_range",
    "summary_type",
    "summary_use_proj",
    "summary_activation",
    "summary_proj_to_labels",
    "summary_first_dropout",
    "scale_attn_weights",
    "use_cache",
    "bos_token_id",
    "eos_token_id",
    "pad_token_id",
    "scale_attn_by_inverse_layer_idx",
    "reorder_and_upcast_attn",
    "add_cross_attention",
    "tie_word_embeddings",
)
ALIASES = {
    "hidden_size": "n_embd",
    "max_position_embeddings": "n_positions",
    "num_attention_heads": "n_head",
    "num_hidden_layers": "n_layer",
}


def test_defaults_equal_transformers() -> None:
    ours, theirs = GPT2Config(), transformers.GPT2Config()
    for name in GPT2_FIELDS + tuple(ALIASES):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.model_type == theirs.model_type == "gpt2"
    assert GPT2Config.attribute_map == dict(transformers.GPT2Config.attribute_map)


def test_every_transformers_field_is_known_and_written_alike() -> None:
    written = transformers.GPT2Config().to_dict()
    ours = GPT2Config().to_dict()
    ignorable = {"transformers_version", "_name_or_path", "architectures", "dtype", "output_attentions"}
    assert set(written) - set(ours) - ignorable == set()
    for name in GPT2_FIELDS:
        assert ours[name] == written[name], name
    # The generic names are aliases: they are never written to config.json.
    assert not set(ALIASES) & set(ours)


@pytest.mark.parametrize(("alias", "field"), sorted(ALIASES.items()))
def test_generic_names_are_aliases(alias: str, field: str) -> None:
    config = GPT2Config(**{alias: 7})
    assert getattr(config, field) == 7
    assert getattr(config, alias) == 7
    setattr(config, alias, 9)
    assert getattr(config, field) == 9
    assert config.to_dict()[field] == 9
    theirs = transformers.GPT2Config(**{alias: 7})
    assert getattr(theirs, field) == 7


def test_reads_a_config_saved_by_transformers(tmp_path: Path) -> None:
    theirs = transformers.GPT2Config(
        vocab_size=99,
        n_embd=32,
        n_layer=3,
        n_head=4,
        n_inner=37,
        activation_function="relu",
        scale_attn_by_inverse_layer_idx=True,
        reorder_and_upcast_attn=True,
        pad_token_id=0,
        eos_token_id=[1, 2],
        num_labels=5,
        problem_type="multi_label_classification",
    )
    theirs.save_pretrained(tmp_path)
    ours = AutoConfig.from_pretrained(tmp_path)
    assert type(ours) is GPT2Config
    for name in GPT2_FIELDS:
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.num_labels == 5
    assert ours.problem_type == "multi_label_classification"
    assert ours.id2label == theirs.id2label


def test_config_saved_here_reads_in_transformers(tmp_path: Path) -> None:
    ours = GPT2Config(
        vocab_size=120, hidden_size=48, num_attention_heads=6, layer_norm_epsilon=1e-6, n_inner=50, pad_token_id=3
    )
    ours.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["model_type"] == "gpt2"
    assert saved["n_embd"] == 48 and "hidden_size" not in saved
    theirs = transformers.GPT2Config.from_pretrained(tmp_path)
    for name in GPT2_FIELDS:
        assert getattr(theirs, name) == getattr(ours, name), name
    assert GPT2Config.from_pretrained(tmp_path) == ours


def test_hub_era_config_keys_are_kept() -> None:
    """The original gpt2 config.json carries keys transformers 5 dropped; they survive a round trip."""
    old = {
        "model_type": "gpt2",
        "n_ctx": 1024,
        "summary_last_dropout": 0.1,
        "task_specific_params": {"text-generation": {"do_sample": True, "max_length": 50}},
    }
    config = GPT2Config.from_dict(old)
    assert config.n_ctx == 1024
    written = config.to_dict()
    assert written["summary_last_dropout"] == 0.1
    assert written["task_specific_params"] == old["task_specific_params"]


def test_wrongly_typed_field_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="n_embd"):
        GPT2Config.from_dict({"n_embd": "768"})
