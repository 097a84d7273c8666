"""The plugin's declarations: four entry points of one distribution, valid, and cheap to import."""

from __future__ import annotations

import importlib
import importlib.metadata
import subprocess
import sys

import pytest
from autoload.architecture import import_reference
from autoload.tasks import AUTO_CLASS_BY_TASK
from llama_test_support import MODEL_TYPES, TASKS

from autoload_plugin_llama import plugin

PREFIX = {"llama": "Llama", "mistral": "Mistral", "qwen2": "Qwen2", "qwen3": "Qwen3"}
HEAD_SUFFIX = {
    "base": "Model",
    "causal-lm": "ForCausalLM",
    "sequence-classification": "ForSequenceClassification",
    "token-classification": "ForTokenClassification",
    "question-answering": "ForQuestionAnswering",
}


def test_one_distribution_declares_four_entry_points() -> None:
    entry_points = importlib.metadata.entry_points(group="autoload.architectures")
    ours = {entry_point.name: entry_point for entry_point in entry_points if entry_point.name in MODEL_TYPES}
    assert set(ours) == set(MODEL_TYPES)
    for entry_point in ours.values():
        assert entry_point.value == "autoload_plugin_llama.plugin"
        assert entry_point.dist.name == "autoload-plugin-llama"
        assert entry_point.dist.version == importlib.import_module("autoload_plugin_llama").__version__


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_declaration_is_valid(model_type: str) -> None:
    declared = {architecture.model_type: architecture for architecture in plugin.autoload_architectures()}
    assert set(declared) == set(MODEL_TYPES)
    architecture = declared[model_type]
    assert architecture.problems() == []
    architecture.validate(source="autoload-plugin-llama", entry_point_name=model_type)
    llama = model_type == "llama"
    assert architecture.tokenizer == (plugin.LLAMA_TOKENIZER if llama else plugin.GENERIC_TOKENIZER)
    assert set(architecture.models) == set(TASKS) and set(TASKS) <= set(AUTO_CLASS_BY_TASK)
    assert {task: ref.rpartition(":")[2] for task, ref in architecture.models.items()} == {
        task: PREFIX[model_type] + HEAD_SUFFIX[task] for task in TASKS
    }
    expected_name = "Qwen2Tokenizer" if model_type.startswith("qwen") else "LlamaTokenizerFast"
    assert expected_name in architecture.processing_names("tokenizer")


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_declared_classes_import(model_type: str) -> None:
    pytest.importorskip("torch")
    architecture = next(a for a in plugin.autoload_architectures() if a.model_type == model_type)
    config_class = import_reference(architecture.config)
    assert config_class.model_type == model_type
    for task, reference in architecture.models.items():
        model_class = import_reference(reference)
        assert model_class.config_class is config_class, task


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(result.stdout.split())


@pytest.mark.parametrize(
    "statement",
    [
        "import autoload_plugin_llama.plugin as p; p.autoload_architectures()",
        "from autoload_plugin_llama.configuration import LlamaConfig, Qwen3Config; LlamaConfig(); Qwen3Config()",
        "from autoload import AutoConfig; AutoConfig.for_model('mistral')",
    ],
)
def test_declaration_and_config_import_nothing_heavy(statement: str) -> None:
    heavy = _modules_after(statement) & {"torch", "numpy", "tokenizers", "PIL", "transformers", "safetensors"}
    assert not heavy, f"{statement!r} imported {sorted(heavy)}"
