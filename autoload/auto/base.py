"""What every Auto class shares: no construction, and reading a checkpoint's model type."""

from __future__ import annotations

import os
from typing import Any

from autoload.configuration import load_config_dict
from autoload.errors import ConfigError
from autoload.hub import HubOptions, describe

HUB_KEYS = (*HubOptions._FIELDS, "use_auth_token")


class AutoClass:
    """Base of the Auto classes: they are factories, never instantiated."""

    # Annotated ``-> None`` although it always raises: with ``NoReturn`` type checkers take the class for a
    # function that never returns, and every ``AutoX.from_pretrained`` becomes an unknown attribute.
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        name = type(self).__name__
        raise OSError(
            f"{name} is designed to be instantiated with {name}.from_pretrained(path_or_repo) "
            + (f"or {name}.from_config(config)." if hasattr(type(self), "from_config") else "(it has no constructor).")
        )


def split_hub_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Take the hub options out of ``kwargs`` (in place) and return them."""
    return {key: kwargs.pop(key) for key in list(kwargs) if key in HUB_KEYS}


def hub_options(hub_kwargs: dict[str, Any]) -> HubOptions:
    return HubOptions.pop_from(dict(hub_kwargs))


def model_type_of(config_dict: dict[str, Any], where: str) -> str:
    model_type = config_dict.get("model_type")
    if model_type is None:
        raise ConfigError(
            f"The config of {where} has no 'model_type', so autoload cannot tell which plugin serves it. "
            'Add "model_type": "<type>" to its config.json (transformers writes it on save).'
        )
    if not isinstance(model_type, str) or not model_type.strip():
        raise ConfigError(
            f"The config of {where} has an invalid model_type {model_type!r}; it must be a non-empty string."
        )
    return model_type


def read_model_type(path_or_repo: str | os.PathLike[str], options: HubOptions) -> tuple[str, dict[str, Any]]:
    config_dict = load_config_dict(path_or_repo, options)
    return model_type_of(config_dict, describe(path_or_repo, options)), config_dict
