"""BertConfig against transformers' BertConfig: same fields, same defaults, same files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from autoload.errors import ConfigError

from autoload_plugin_bert.configuration import BertConfig

transformers = pytest.importorskip("transformers")

BERT_FIELDS = (
    "vocab_size",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "hidden_act",
    "hidden_dropout_prob",
    "attention_probs_dropout_prob",
    "max_position_embeddings",
    "type_vocab_size",
    "initializer_range",
    "layer_norm_eps",
    "pad_token_id",
    "use_cache",
    "classifier_dropout",
    "is_decoder",
    "add_cross_attention",
    "bos_token_id",
    "eos_token_id",
    "tie_word_embeddings",
)


def test_defaults_equal_transformers() -> None:
    ours, theirs = BertConfig(), transformers.BertConfig()
    for name in BERT_FIELDS:
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.model_type == theirs.model_type == "bert"
    assert ours.position_embedding_type == "absolute"
    assert ours.num_labels == theirs.num_labels == 2


def test_every_transformers_field_is_known() -> None:
    """Nothing transformers writes for BERT is unknown to BertConfig."""
    written = transformers.BertConfig().to_dict()
    ours = BertConfig().to_dict()
    ignorable = {
        "transformers_version",
        "_name_or_path",
        "architectures",
        "dtype",
        "output_attentions",
        "output_hidden_states",
    }
    assert set(written) - set(ours) - ignorable == set()
    for name in BERT_FIELDS:
        assert ours[name] == written[name], name


def test_reads_a_config_saved_by_transformers(tmp_path: Path) -> None:
    theirs = transformers.BertConfig(
        vocab_size=99,
        hidden_size=32,
        num_hidden_layers=3,
        num_attention_heads=4,
        intermediate_size=37,
        hidden_act="gelu_new",
        classifier_dropout=0.25,
        is_decoder=True,
        num_labels=5,
        problem_type="multi_label_classification",
    )
    theirs.save_pretrained(tmp_path)
    ours = BertConfig.from_pretrained(tmp_path)
    for name in BERT_FIELDS:
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.num_labels == 5
    assert ours.problem_type == "multi_label_classification"
    assert ours.id2label == theirs.id2label


def test_config_saved_here_reads_in_transformers(tmp_path: Path) -> None:
    ours = BertConfig(vocab_size=120, hidden_size=48, num_attention_heads=6, layer_norm_eps=1e-6, pad_token_id=3)
    ours.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["model_type"] == "bert"
    theirs = transformers.BertConfig.from_pretrained(tmp_path)
    for name in BERT_FIELDS:
        assert getattr(theirs, name) == getattr(ours, name), name
    assert BertConfig.from_pretrained(tmp_path) == ours


def test_hub_era_config_keys_are_kept() -> None:
    """transformers 4 configs carry keys transformers 5 dropped; they survive a round trip."""
    old = {"model_type": "bert", "position_embedding_type": "absolute", "gradient_checkpointing": False}
    config = BertConfig.from_dict(old)
    assert config.position_embedding_type == "absolute"
    assert config.to_dict()["gradient_checkpointing"] is False


def test_wrongly_typed_field_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="hidden_size"):
        BertConfig.from_dict({"hidden_size": "768"})
