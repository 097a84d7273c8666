"""The Auto classes resolve through plugins they do not know by name."""

from __future__ import annotations

import ast
import importlib
import json
from pathlib import Path

import pytest

import autoload
import autoload.errors
from autoload.tasks import AUTO_CLASS_ALIASES, TASKS


def write(folder, name, data):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(data))
    return folder


@pytest.fixture
def toy_checkpoint(tmp_path, autoload_registry):
    return write(tmp_path / "toy", "config.json", {"model_type": "toy", "hidden_size": 8})


def test_every_auto_class_of_the_seed_exists():
    seed_names = [task.auto_class for task in TASKS] + list(AUTO_CLASS_ALIASES)
    processing = ["AutoConfig", "AutoTokenizer", "AutoFeatureExtractor", "AutoImageProcessor", "AutoProcessor"]
    for name in [*seed_names, *processing]:
        assert hasattr(autoload, name), name
    assert autoload.AutoModelForVision2Seq is autoload.AutoModelForImageTextToText
    assert len(seed_names) == 37  # counted on the seed page: 36 tasks and AutoModelForVision2Seq


def _module_tree(module):
    return ast.parse(Path(module.__file__).read_text(encoding="utf-8"))


def test_auto_model_classes_are_written_out_as_the_task_table_says():
    """Type checkers read class statements, not ``globals().update``: one per task, with that task's id."""
    from autoload.auto import models

    tree = _module_tree(models)
    declared = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            tasks = [
                statement.value.value
                for statement in node.body
                if isinstance(statement, ast.Assign) and [t.id for t in statement.targets] == ["task"]
            ]
            declared[node.name] = tasks[0] if tasks else None
    aliases = {
        node.targets[0].id: node.value.id
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name) and node.targets[0].id.startswith("Auto")
    }
    declared.pop("AutoModelBase")
    assert declared == {task.auto_class: task.task_id for task in TASKS}
    assert {alias: declared[target] for alias, target in aliases.items()} == AUTO_CLASS_ALIASES
    for name, task in declared.items():
        assert getattr(autoload, name).task == task
        assert task in getattr(autoload, name).__doc__


def test_public_names_are_visible_to_type_checkers():
    """``__all__`` is a literal list, and every public name has an explicit ``import X as X`` for checkers."""
    tree = _module_tree(autoload)
    literal_all = next(
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["__all__"]
    )
    assert isinstance(literal_all, ast.List) and all(isinstance(item, ast.Constant) for item in literal_all.elts)
    assert set(autoload.__all__) == {"__version__", *autoload._LAZY}
    assert {task.auto_class for task in TASKS} | set(AUTO_CLASS_ALIASES) <= set(autoload.__all__)
    assert set(autoload.errors.__all__) <= set(autoload.__all__)
    checking = next(
        node for node in tree.body if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
    )
    reexported = {
        alias.name: statement.module
        for statement in checking.body
        if isinstance(statement, ast.ImportFrom)
        for alias in statement.names
        if alias.asname == alias.name
    }
    lazy = {**autoload._LAZY, **autoload._LAZY_OPTIONAL}
    assert reexported == lazy
    for name in lazy:
        assert getattr(autoload, name) is getattr(importlib.import_module(lazy[name]), name)


@pytest.mark.parametrize("name", ["AutoModel", "AutoConfig", "AutoTokenizer", "AutoProcessor"])
def test_auto_classes_cannot_be_constructed(name):
    with pytest.raises(OSError, match="from_pretrained"):
        getattr(autoload, name)()


def test_auto_config_loads_the_plugin_config(toy_checkpoint):
    config = autoload.AutoConfig.from_pretrained(toy_checkpoint, ratio=0.25)
    assert type(config).__name__ == "ToyConfig"
    assert (config.hidden_size, config.ratio) == (8, 0.25)
    config, unused = autoload.AutoConfig.from_pretrained(toy_checkpoint, nonsense=1, return_unused_kwargs=True)
    assert unused == {"nonsense": 1}


def test_auto_config_for_model():
    config = autoload.AutoConfig.for_model("toy", hidden_size=3)
    assert config.hidden_size == 3 and config.model_type == "toy"


def test_auto_model_delegates_with_config_overrides_and_loader_options(toy_checkpoint):
    model = autoload.AutoModel.from_pretrained(toy_checkpoint, dtype="float16", hidden_size=16, revision="v1")
    assert type(model).__name__ == "ToyModel" and model.how == "from_pretrained"
    assert model.config.hidden_size == 16
    assert model.options == {"dtype": "float16", "device": None, "revision": "v1"}
    head = autoload.AutoModelForSequenceClassification.from_pretrained(toy_checkpoint)
    assert type(head).__name__ == "ToyForSequenceClassification"


def test_auto_model_from_config(autoload_registry):
    config = autoload.AutoConfig.for_model("toy")
    model = autoload.AutoModel.from_config(config)
    assert type(model).__name__ == "ToyModel" and model.how == "from_config"


def test_task_not_declared_lists_declared_tasks_and_supporting_types(toy_checkpoint, tmp_path):
    autoload.AutoConfig.for_model("toy-text")  # loads toy-text, which supports masked-lm
    with pytest.raises(autoload.TaskNotSupportedError) as info:
        autoload.AutoModelForMaskedLM.from_pretrained(toy_checkpoint)
    message = str(info.value)
    assert "'masked-lm'" in message
    assert "base (AutoModel)" in message and "sequence-classification" in message
    assert "toy-text" in message


def test_unknown_model_type_suggests_plugin_and_close_match(tmp_path, autoload_registry):
    folder = write(tmp_path / "x", "config.json", {"model_type": "toyy"})
    with pytest.raises(autoload.UnknownModelTypeError) as info:
        autoload.AutoConfig.from_pretrained(folder)
    message = str(info.value)
    assert "pip install autoload-plugin-toyy" in message
    assert "Did you mean 'toy'?" in message
    assert "toy-text" in message  # installed model types are listed
    assert isinstance(info.value, ValueError)


def test_auto_map_is_refused_naming_the_plugin(tmp_path, autoload_registry):
    folder = write(
        tmp_path / "remote",
        "config.json",
        {"model_type": "fancy", "auto_map": {"AutoConfig": "configuration_fancy.FancyConfig"}},
    )
    with pytest.raises(autoload.RemoteCodeError, match="autoload-plugin-fancy"):
        autoload.AutoModel.from_pretrained(folder, trust_remote_code=True)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("", "is empty"),
        ('{\n  "model_type": "toy",\n  oops\n}', "line 3, column 3"),
        ("[1, 2]", "must hold a JSON object, but holds a list"),
        ('{"hidden_size": 3}', "has no 'model_type'"),
        ('{"model_type": 7}', "invalid model_type 7"),
        ('{"model_type": "toy", "hidden_size": "wide"}', "field 'hidden_size' must be int"),
        ('{"model_type": "toy", "use_bias": 1}', "field 'use_bias' must be bool"),
    ],
)
def test_malformed_config_json(tmp_path, autoload_registry, content, fragment):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "config.json").write_text(content)
    with pytest.raises(autoload.ConfigError) as info:
        autoload.AutoConfig.from_pretrained(folder)
    assert fragment in str(info.value)


def test_missing_config_is_a_clear_os_error(tmp_path, autoload_registry):
    with pytest.raises(autoload.FileResolutionError, match=r"has no file 'config\.json'") as info:
        autoload.AutoConfig.from_pretrained(tmp_path)
    assert isinstance(info.value, OSError)


def test_not_a_folder_nor_repo_id(tmp_path, autoload_registry):
    with pytest.raises(autoload.FileResolutionError, match=r"neither an existing local folder nor a Hub repo id"):
        autoload.AutoConfig.from_pretrained(str(tmp_path / "does" / "not" / "exist"))


# -- processing classes ------------------------------------------------------------


def test_auto_tokenizer_from_tokenizer_class_with_and_without_fast(toy_checkpoint):
    for recorded in ("ToyTokenizer", "ToyTokenizerFast", "ToyTokenizerLegacy"):
        write(toy_checkpoint, "tokenizer_config.json", {"tokenizer_class": recorded})
        tokenizer = autoload.AutoTokenizer.from_pretrained(toy_checkpoint, model_max_length=7)
        assert type(tokenizer).__name__ == "ToyTokenizer"
        assert tokenizer.kwargs == {"model_max_length": 7}


def test_auto_tokenizer_falls_back_to_the_model_type(toy_checkpoint):
    assert type(autoload.AutoTokenizer.from_pretrained(toy_checkpoint)).__name__ == "ToyTokenizer"


def test_auto_tokenizer_finds_a_class_of_another_plugin(tmp_path, autoload_registry):
    folder = write(tmp_path / "t", "tokenizer_config.json", {"tokenizer_class": "ToyTokenizer"})
    assert type(autoload.AutoTokenizer.from_pretrained(folder)).__name__ == "ToyTokenizer"


def test_auto_tokenizer_unknown_class_is_clear(toy_checkpoint):
    write(toy_checkpoint, "tokenizer_config.json", {"tokenizer_class": "MysteryTokenizer"})
    with pytest.raises(autoload.ClassResolutionError, match="MysteryTokenizer"):
        autoload.AutoTokenizer.from_pretrained(toy_checkpoint)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"image_processor_type": "ToyImageProcessor"}, "ToyImageProcessor"),
        ({"feature_extractor_type": "ToyFeatureExtractorLegacy"}, "ToyImageProcessor"),
        ({}, "ToyImageProcessor"),
    ],
)
def test_auto_image_processor_older_layout(toy_checkpoint, data, expected):
    write(toy_checkpoint, "preprocessor_config.json", data)
    assert type(autoload.AutoImageProcessor.from_pretrained(toy_checkpoint)).__name__ == expected


def test_auto_image_processor_newer_nested_layout(tmp_path, autoload_registry):
    folder = write(
        tmp_path / "n",
        "processor_config.json",
        {"processor_class": "ToyProcessor", "image_processor": {"image_processor_type": "ToyImageProcessor"}},
    )
    assert type(autoload.AutoImageProcessor.from_pretrained(folder)).__name__ == "ToyImageProcessor"
    assert type(autoload.AutoProcessor.from_pretrained(folder)).__name__ == "ToyProcessor"


def test_auto_feature_extractor(toy_checkpoint):
    write(toy_checkpoint, "preprocessor_config.json", {"feature_extractor_type": "ToyFeatureExtractor"})
    assert type(autoload.AutoFeatureExtractor.from_pretrained(toy_checkpoint)).__name__ == "ToyFeatureExtractor"


def test_auto_processor_prefers_declared_processor(toy_checkpoint):
    assert type(autoload.AutoProcessor.from_pretrained(toy_checkpoint)).__name__ == "ToyProcessor"


def test_auto_processor_falls_back_to_tokenizer(tmp_path, autoload_registry):
    folder = write(tmp_path / "text", "config.json", {"model_type": "toy-text"})
    assert autoload.AutoProcessor.resolve(folder)[0] == "tokenizer"


def test_runtime_processing_registration_wins(toy_checkpoint):
    class OwnTokenizer:
        @classmethod
        def from_pretrained(cls, path, **kwargs):
            return cls()

    autoload.AutoTokenizer.register("toy", OwnTokenizer)
    assert isinstance(autoload.AutoTokenizer.from_pretrained(toy_checkpoint), OwnTokenizer)
    with pytest.raises(autoload.RegistrationError):
        autoload.AutoTokenizer.register("toy", type("Other", (), {}))
