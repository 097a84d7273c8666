"""PretrainedConfig against transformers as the oracle, both directions."""

from __future__ import annotations

import json

import pytest

import autoload
from autoload import PretrainedConfig

transformers = pytest.importorskip("transformers")


def test_autoload_config_loads_in_transformers(tmp_path):
    config = PretrainedConfig(
        id2label={0: "neg", 1: "pos", 2: "neutral"},
        dtype="bfloat16",
        problem_type="single_label_classification",
        custom_field=[1, 2],
        pad_token_id=0,
    )
    config.save_pretrained(tmp_path)
    theirs = transformers.PretrainedConfig.from_pretrained(tmp_path)
    assert theirs.id2label == {0: "neg", 1: "pos", 2: "neutral"}
    assert theirs.label2id == {"neg": 0, "pos": 1, "neutral": 2}
    assert theirs.num_labels == 3
    assert str(theirs.dtype) in ("torch.bfloat16", "bfloat16")
    assert theirs.problem_type == "single_label_classification"
    assert theirs.custom_field == [1, 2]
    assert theirs.pad_token_id == 0


def test_transformers_config_loads_in_autoload(tmp_path):
    theirs = transformers.BertConfig(
        hidden_size=32, num_labels=4, dtype="float16", finetuning_task="mnli", output_hidden_states=True
    )
    theirs.save_pretrained(tmp_path)
    ours = PretrainedConfig.from_pretrained(tmp_path)
    assert ours.id2label == theirs.id2label and all(isinstance(key, int) for key in ours.id2label)
    assert ours.label2id == theirs.label2id
    assert ours.num_labels == 4
    assert ours.dtype == "float16"
    assert ours.hidden_size == 32  # a key PretrainedConfig does not know is kept
    assert ours.finetuning_task == "mnli" and ours.output_hidden_states is True
    ours.save_pretrained(tmp_path / "again")
    saved = json.loads((tmp_path / "again" / "config.json").read_text())
    assert saved["hidden_size"] == 32 and saved["model_type"] == ""


def test_legacy_torch_dtype_is_read(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"torch_dtype": "float16"}))
    assert PretrainedConfig.from_pretrained(tmp_path).dtype == "float16"


def test_num_labels_keeps_labels_consistent():
    config = PretrainedConfig(num_labels=3)
    assert config.id2label == {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}
    config.num_labels = 5
    assert len(config.id2label) == 5 and config.label2id["LABEL_4"] == 4


def test_overrides_and_unused_kwargs(tmp_path):
    PretrainedConfig(output_attentions=False).save_pretrained(tmp_path)
    config, unused = PretrainedConfig.from_pretrained(
        tmp_path, output_attentions=True, not_an_attribute=3, return_unused_kwargs=True
    )
    assert config.output_attentions is True and unused == {"not_an_attribute": 3}


def test_json_file_path_and_dict_round_trip(tmp_path):
    config = PretrainedConfig(id2label={0: "a", 1: "b"})
    config.to_json_file(tmp_path / "custom.json")
    again = PretrainedConfig.from_pretrained(tmp_path / "custom.json")
    assert again.to_dict() == config.to_dict()
    assert PretrainedConfig.from_dict(json.loads(config.to_json_string())) == config


def test_save_is_atomic(tmp_path, monkeypatch):
    PretrainedConfig(id2label={0: "kept", 1: "too"}).save_pretrained(tmp_path)
    before = (tmp_path / "config.json").read_text()

    class Boom(Exception):
        pass

    def fail(*args, **kwargs):
        raise Boom

    monkeypatch.setattr("os.replace", fail)
    with pytest.raises(Boom):
        PretrainedConfig(id2label={0: "new"}).save_pretrained(tmp_path)
    assert (tmp_path / "config.json").read_text() == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["config.json"]


def test_invalid_problem_type():
    with pytest.raises(autoload.ConfigError, match="problem_type"):
        PretrainedConfig(problem_type="ranking")


def test_hub_offline_without_cache_is_clear(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(autoload.FileResolutionError, match="not in the local cache"):
        PretrainedConfig.from_pretrained("some-org/some-model", cache_dir=tmp_path, local_files_only=True)
