"""Small configs and random checkpoints of any installed model type, for tests.

Real checkpoints are large and live on the Hub; a test needs neither. The
sizes below are the smallest that still exercise every code path of a
transformer (several heads, more than one layer, an intermediate size that
is not a multiple of the hidden size).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

#: Applied to the fields a config class has; everything else keeps the class's defaults.
TINY_DEFAULTS: dict[str, Any] = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 37,
}


def tiny_config(model_type: str, **overrides: Any) -> Any:
    """A config of ``model_type`` (resolved like ``AutoConfig``) shrunk to test size."""
    from autoload import AutoConfig

    defaults = AutoConfig.for_model(model_type)
    values = {key: value for key, value in TINY_DEFAULTS.items() if hasattr(defaults, key)}
    values.update(overrides)
    return AutoConfig.for_model(model_type, **values)


def save_tiny_checkpoint(
    directory: str | os.PathLike[str], model_type: str, task: str = "base", *, seed: int = 0, **config_overrides: Any
) -> Path:
    """Build the ``task`` model of a tiny ``model_type`` config through its Auto class and save it."""
    import torch

    import autoload
    from autoload.errors import UnknownTaskError
    from autoload.tasks import AUTO_CLASS_BY_TASK

    if task not in AUTO_CLASS_BY_TASK:
        raise UnknownTaskError(f"Unknown task id {task!r}; known task ids: {', '.join(AUTO_CLASS_BY_TASK)}.")
    config = tiny_config(model_type, **config_overrides)
    auto_class = getattr(autoload, AUTO_CLASS_BY_TASK[task])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = auto_class.from_config(config)
    path = Path(directory)
    model.save_pretrained(path)
    return path


__all__ = ["TINY_DEFAULTS", "save_tiny_checkpoint", "tiny_config"]
