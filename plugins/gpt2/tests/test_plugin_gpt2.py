"""The plugin's declaration: found by entry point, valid, and cheap to import."""

from __future__ import annotations

import importlib
import importlib.metadata

import pytest

from autoload_plugin_gpt2 import plugin

EXPECTED_MODELS = {
    "base": "GPT2Model",
    "pretraining": "GPT2LMHeadModel",
    "causal-lm": "GPT2LMHeadModel",
    "sequence-classification": "GPT2ForSequenceClassification",
    "token-classification": "GPT2ForTokenClassification",
    "question-answering": "GPT2ForQuestionAnswering",
}


def test_entry_point_names_the_declaration_module() -> None:
    entry_points = importlib.metadata.entry_points(group="autoload.architectures")
    gpt2 = [entry_point for entry_point in entry_points if entry_point.name == "gpt2"]
    assert [entry_point.value for entry_point in gpt2] == ["autoload_plugin_gpt2.plugin"]
    assert gpt2[0].dist.name == "autoload-plugin-gpt2"
    assert gpt2[0].dist.version == importlib.import_module("autoload_plugin_gpt2").__version__


def test_declares_the_heads_transformers_auto_classes_map_gpt2_to() -> None:
    architecture = plugin.autoload_architectures()
    assert architecture.problems() == []
    assert {task: ref.rpartition(":")[2] for task, ref in architecture.models.items()} == EXPECTED_MODELS
    assert architecture.tokenizer == "autoload_plugin_gpt2.tokenization:GPT2Tokenizer"
    assert "GPT2TokenizerFast" in architecture.tokenizer_names


def test_each_task_gets_the_class_transformers_auto_classes_pick() -> None:
    transformers = pytest.importorskip("transformers")
    from autoload.tasks import AUTO_CLASS_BY_TASK

    architecture = plugin.autoload_architectures()
    for task, reference in architecture.models.items():
        auto_class = getattr(transformers, AUTO_CLASS_BY_TASK[task])
        assert auto_class._model_mapping._model_mapping["gpt2"] == reference.rpartition(":")[2], task
