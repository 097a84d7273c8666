"""AutoConfig: ``config.json`` -> the config class of its model type."""

from __future__ import annotations

import os
from typing import Any

from autoload.auto.base import AutoClass, hub_options, read_model_type, split_hub_kwargs
from autoload.registry import get_registry


class AutoConfig(AutoClass):
    """Loads the config class that the checkpoint's ``model_type`` names.

    ``AutoConfig`` imports the config module of one plugin and nothing else:
    no torch, no tokenizers.
    """

    @classmethod
    def from_pretrained(cls, path_or_repo: str | os.PathLike[str], **kwargs: Any) -> Any:
        return_unused_kwargs = kwargs.pop("return_unused_kwargs", False)
        hub_kwargs = split_hub_kwargs(kwargs)
        kwargs.pop("trust_remote_code", None)
        model_type, config_dict = read_model_type(path_or_repo, hub_options(hub_kwargs))
        config_class = get_registry().config_class(model_type, config_dict=config_dict)
        config, unused = config_class.from_dict(config_dict, return_unused_kwargs=True, **kwargs)
        config.name_or_path = os.fspath(path_or_repo)
        return (config, unused) if return_unused_kwargs else config

    @classmethod
    def for_model(cls, model_type: str, *args: Any, **kwargs: Any) -> Any:
        """A config of ``model_type`` with its defaults, overridden by ``kwargs``."""
        return get_registry().config_class(model_type)(*args, **kwargs)

    @staticmethod
    def register(model_type: str, config_class: type, exist_ok: bool = False) -> None:
        """Make ``config_class`` serve ``model_type`` in this process (wins over installed plugins)."""
        get_registry().register_config(model_type, config_class, exist_ok=exist_ok)
