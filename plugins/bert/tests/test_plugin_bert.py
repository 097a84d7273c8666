"""The plugin's declaration: found by entry point, valid, and cheap to import."""

from __future__ import annotations

import importlib
import importlib.metadata
import subprocess
import sys

import pytest
from autoload.architecture import import_reference
from autoload.tasks import AUTO_CLASS_BY_TASK

from autoload_plugin_bert import plugin

EXPECTED_MODELS = {
    "base": "BertModel",
    "pretraining": "BertForPreTraining",
    "causal-lm": "BertLMHeadModel",
    "masked-lm": "BertForMaskedLM",
    "next-sentence-prediction": "BertForNextSentencePrediction",
    "sequence-classification": "BertForSequenceClassification",
    "multiple-choice": "BertForMultipleChoice",
    "token-classification": "BertForTokenClassification",
    "question-answering": "BertForQuestionAnswering",
    "text-encoding": "BertModel",
}


def test_entry_point_names_the_declaration_module() -> None:
    entry_points = importlib.metadata.entry_points(group="autoload.architectures")
    bert = [entry_point for entry_point in entry_points if entry_point.name == "bert"]
    assert [entry_point.value for entry_point in bert] == ["autoload_plugin_bert.plugin"]
    assert bert[0].dist.name == "autoload-plugin-bert"
    assert bert[0].dist.version == importlib.import_module("autoload_plugin_bert").__version__


def test_declaration_is_valid() -> None:
    architecture = plugin.autoload_architectures()
    assert architecture.problems() == []
    architecture.validate(source="autoload-plugin-bert", entry_point_name="bert")
    assert architecture.model_type == "bert"
    assert architecture.tokenizer == "autoload_plugin_bert.tokenization:BertTokenizer"
    assert architecture.processing_names("tokenizer") == ("BertTokenizer", "BertTokenizerFast")
    assert {task: reference.rpartition(":")[2] for task, reference in architecture.models.items()} == EXPECTED_MODELS
    assert set(architecture.models) <= set(AUTO_CLASS_BY_TASK)


def test_declared_classes_import() -> None:
    pytest.importorskip("torch")
    architecture = plugin.autoload_architectures()
    config_class = import_reference(architecture.config)
    assert config_class.model_type == "bert"
    for task, reference in architecture.models.items():
        model_class = import_reference(reference)
        assert model_class.config_class is config_class, task
        assert model_class.base_model_prefix == "bert"


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(result.stdout.split())


@pytest.mark.parametrize(
    "statement",
    [
        "import autoload_plugin_bert.plugin as p; p.autoload_architectures()",
        "from autoload_plugin_bert.configuration import BertConfig; BertConfig()",
    ],
)
def test_declaration_and_config_import_nothing_heavy(statement: str) -> None:
    loaded = _modules_after(statement)
    heavy = loaded & {"torch", "numpy", "tokenizers", "PIL", "transformers", "safetensors"}
    assert not heavy, f"{statement!r} imported {sorted(heavy)}"


def test_hookimpl_is_autoloads_marker() -> None:
    import autoload.hookspecs

    marker = getattr(plugin.autoload_architectures, f"{autoload.hookspecs.PROJECT_NAME}_impl", None)
    assert marker is not None
