"""AutoModel and every AutoModelFor<Task>, generated from the task table."""

from __future__ import annotations

import inspect
import os
from typing import Any

from autoload.auto.base import AutoClass, hub_options, model_type_of, split_hub_kwargs
from autoload.configuration import PretrainedConfig, load_config_dict
from autoload.hub import describe
from autoload.registry import get_registry
from autoload.tasks import AUTO_CLASS_ALIASES, TASKS


def _keyword_names(function: Any) -> set[str]:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return set()
    return {p.name for p in parameters if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}


class AutoModelBase(AutoClass):
    """Resolves the model class of the checkpoint's model type for one task, then delegates to it."""

    task: str = "base"

    @classmethod
    def model_class_for(cls, config: PretrainedConfig | str) -> type:
        model_type = config if isinstance(config, str) else config.model_type
        return get_registry().model_class(model_type, cls.task)

    @classmethod
    def from_config(cls, config: PretrainedConfig, **kwargs: Any) -> Any:
        """A randomly initialised model of the config's architecture for this task."""
        return cls.model_class_for(config).from_config(config, **kwargs)

    @classmethod
    def from_pretrained(cls, path_or_repo: str | os.PathLike[str], *model_args: Any, **kwargs: Any) -> Any:
        """Load the checkpoint with the class its ``model_type`` declares for this task.

        Keyword arguments the model class's ``from_pretrained`` accepts (dtype,
        device, ...) go to it; the others override config attributes, as in
        transformers.
        """
        config = kwargs.pop("config", None)
        hub_kwargs = split_hub_kwargs(kwargs)
        kwargs.pop("trust_remote_code", None)
        if isinstance(config, PretrainedConfig):
            model_class = cls.model_class_for(config)
            return model_class.from_pretrained(path_or_repo, *model_args, config=config, **hub_kwargs, **kwargs)
        options = hub_options(hub_kwargs)
        config_dict = load_config_dict(path_or_repo, options)
        registry = get_registry()
        model_type = model_type_of(config_dict, describe(path_or_repo, options))
        config_class = registry.config_class(model_type, config_dict=config_dict)
        model_class = registry.model_class(model_type, cls.task)
        loader_options = _keyword_names(model_class.from_pretrained)
        overrides = {key: kwargs.pop(key) for key in list(kwargs) if key not in loader_options}
        config, unused = config_class.from_dict(config_dict, return_unused_kwargs=True, **overrides)
        config.name_or_path = os.fspath(path_or_repo)
        return model_class.from_pretrained(path_or_repo, *model_args, config=config, **hub_kwargs, **kwargs, **unused)

    @classmethod
    def register(cls, config_class: type, model_class: type, exist_ok: bool = False) -> None:
        """Make ``model_class`` this Auto class's model for ``config_class`` (the seed's contract)."""
        get_registry().register_model(cls.task, config_class, model_class, exist_ok=exist_ok)


def _make_auto_model_class(name: str, task: str) -> type[AutoModelBase]:
    doc = (
        f"Loads the ``{task}`` model class that the checkpoint's architecture declares.\n\n"
        f"``{name}.from_pretrained(path_or_repo)`` or ``{name}.from_config(config)``."
    )
    return type(name, (AutoModelBase,), {"task": task, "__doc__": doc, "__module__": __name__})


AUTO_MODEL_CLASSES: dict[str, type[AutoModelBase]] = {
    task.auto_class: _make_auto_model_class(task.auto_class, task.task_id) for task in TASKS
}
for _alias, _task in AUTO_CLASS_ALIASES.items():
    AUTO_MODEL_CLASSES[_alias] = next(cls for cls in AUTO_MODEL_CLASSES.values() if cls.task == _task)

globals().update(AUTO_MODEL_CLASSES)
__all__ = ["AUTO_MODEL_CLASSES", "AutoModelBase", *AUTO_MODEL_CLASSES]
