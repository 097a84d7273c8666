"""autoload: Hugging Face style Auto classes, every architecture an installable plugin.

Public names are imported on first touch (PEP 562), so ``import autoload``
costs almost nothing: no torch, numpy, tokenizers, safetensors,
huggingface_hub, PIL, pluggy or ``importlib.metadata``.
"""

from __future__ import annotations

import importlib

from autoload.__about__ import __version__

TYPE_CHECKING = False  # avoids importing typing: import time is a feature here

_ERRORS = (
    "AutoloadError",
    "CheckpointError",
    "ClassResolutionError",
    "ConfigError",
    "FileResolutionError",
    "InvalidArchitectureError",
    "PluginConflictError",
    "PluginLoadError",
    "ProcessingError",
    "RegistrationError",
    "RemoteCodeError",
    "TaskNotSupportedError",
    "UnknownModelTypeError",
    "UnknownTaskError",
    "UnsafeCheckpointError",
)

_LAZY: dict[str, str] = {
    "AutoConfig": "autoload.auto.configuration",
    "AutoTokenizer": "autoload.auto.processing",
    "AutoImageProcessor": "autoload.auto.processing",
    "AutoFeatureExtractor": "autoload.auto.processing",
    "AutoProcessor": "autoload.auto.processing",
    "PretrainedConfig": "autoload.configuration",
    "PreTrainedConfig": "autoload.configuration",
    "Architecture": "autoload.architecture",
    "hookimpl": "autoload.hookspecs",
    "hookspec": "autoload.hookspecs",
    "PreTrainedModel": "autoload.modeling",
    "ModelOutput": "autoload.outputs",
    "BatchFeature": "autoload.batch",
    "PreTrainedTokenizer": "autoload.tokenization",
    "BatchEncoding": "autoload.tokenization",
    "BaseImageProcessor": "autoload.processing",
    "SequenceFeatureExtractor": "autoload.processing",
    "ProcessorMixin": "autoload.processing",
    **{name: "autoload.errors" for name in _ERRORS},
}
# AutoModel and every AutoModelFor<Task> (generated from autoload/tasks.py) live in autoload.auto.models.
_AUTO_MODEL_MODULE = "autoload.auto.models"


def _auto_model_names() -> list[str]:
    from autoload.tasks import AUTO_CLASS_ALIASES, TASKS

    return [task.auto_class for task in TASKS] + list(AUTO_CLASS_ALIASES)


def __getattr__(name: str) -> object:
    module_name = _LAZY.get(name)
    if module_name is None and name.startswith("AutoModel") and name in _auto_model_names():
        module_name = _AUTO_MODEL_MODULE
    if module_name is None:
        raise AttributeError(f"module 'autoload' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_auto_model_names()))


__all__ = ["__version__", *sorted(_LAZY)]  # plus the AutoModel* classes, listed by dir(autoload)


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from autoload.architecture import Architecture  # noqa: F401
    from autoload.auto.configuration import AutoConfig  # noqa: F401
    from autoload.auto.models import *  # noqa: F403
    from autoload.auto.processing import AutoFeatureExtractor, AutoImageProcessor, AutoProcessor, AutoTokenizer  # noqa: F401
    from autoload.configuration import PreTrainedConfig, PretrainedConfig  # noqa: F401
    from autoload.errors import *  # noqa: F403
    from autoload.hookspecs import hookimpl, hookspec  # noqa: F401
    from autoload.modeling import PreTrainedModel  # noqa: F401
