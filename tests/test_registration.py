"""The seed's "extending the Auto classes" contract, as written there."""

from __future__ import annotations

import pytest

import autoload
from autoload import AutoConfig, AutoModel, PreTrainedConfig


class NewModelConfig(PreTrainedConfig):
    model_type = "new-model"

    def __init__(self, width=3, **kwargs):
        self.width = width
        super().__init__(**kwargs)


class NewModel:
    config_class = NewModelConfig

    def __init__(self, config):
        self.config = config

    @classmethod
    def from_config(cls, config, **kwargs):
        return cls(config)

    @classmethod
    def from_pretrained(cls, path, *, config=None, **kwargs):
        return cls(config)


def test_seed_example_works_as_written(tmp_path, autoload_registry):
    AutoConfig.register("new-model", NewModelConfig)
    AutoModel.register(NewModelConfig, NewModel)
    NewModelConfig(width=5).save_pretrained(tmp_path)
    config = AutoConfig.from_pretrained(tmp_path)
    assert isinstance(config, NewModelConfig) and config.width == 5
    model = AutoModel.from_pretrained(tmp_path)
    assert isinstance(model, NewModel) and model.config.width == 5
    assert isinstance(AutoModel.from_config(config), NewModel)
    assert "new-model" in autoload_registry.known_model_types()


def test_config_key_must_equal_model_type(autoload_registry):
    with pytest.raises(autoload.RegistrationError, match=r"model_type is 'new-model'.*'other-name'"):
        AutoConfig.register("other-name", NewModelConfig)


def test_model_config_class_must_match(autoload_registry):
    class OtherConfig(PreTrainedConfig):
        model_type = "other"

    with pytest.raises(autoload.RegistrationError, match="config_class is NewModelConfig"):
        AutoModel.register(OtherConfig, NewModel)


def test_registering_twice_needs_exist_ok(autoload_registry):
    AutoConfig.register("new-model", NewModelConfig)
    AutoConfig.register("new-model", NewModelConfig)  # the same class again is harmless

    class Replacement(PreTrainedConfig):
        model_type = "new-model"

    with pytest.raises(autoload.RegistrationError, match="exist_ok=True"):
        AutoConfig.register("new-model", Replacement)
    AutoConfig.register("new-model", Replacement, exist_ok=True)
    assert AutoConfig.for_model("new-model").__class__ is Replacement

    AutoModel.register(NewModelConfig, NewModel)

    class OtherModel(NewModel):
        pass

    with pytest.raises(autoload.RegistrationError, match="exist_ok=True"):
        AutoModel.register(NewModelConfig, OtherModel)
    AutoModel.register(NewModelConfig, OtherModel, exist_ok=True)


def test_runtime_registration_beats_entry_points(tmp_path, autoload_registry):
    class MyToyConfig(PreTrainedConfig):
        model_type = "toy"

    with pytest.raises(autoload.RegistrationError, match="autoload-test-good"):
        AutoConfig.register("toy", MyToyConfig)
    AutoConfig.register("toy", MyToyConfig, exist_ok=True)
    assert AutoConfig.for_model("toy").__class__ is MyToyConfig


def test_registered_model_for_an_installed_model_type(tmp_path, autoload_registry):
    toy_config_class = AutoConfig.for_model("toy").__class__

    class ToyForCTC:
        config_class = toy_config_class

        @classmethod
        def from_config(cls, config, **kwargs):
            return cls()

    autoload.AutoModelForCTC.register(toy_config_class, ToyForCTC)
    assert isinstance(autoload.AutoModelForCTC.from_config(toy_config_class()), ToyForCTC)
    assert "ctc" in autoload_registry.declared_tasks("toy")
