"""Gradient checkpointing for a stack of layers: recompute activations in the backward pass to save memory.

A plugin runs its layers through :func:`run_layer` and keeps a
``gradient_checkpointing`` flag on the module that owns the stack (its
encoder/decoder); ``PreTrainedModel.gradient_checkpointing_enable()`` sets the
flag on every such module, so any plugin that declares
``supports_gradient_checkpointing = True`` gets it without code of its own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import torch.utils.checkpoint
from torch import nn

#: Keyword arguments for ``torch.utils.checkpoint.checkpoint`` when the user gives none.
DEFAULT_CHECKPOINT_KWARGS: dict[str, Any] = {"use_reentrant": False}


def run_layer(owner: nn.Module, layer: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``layer(*args, **kwargs)``, checkpointed when ``owner.gradient_checkpointing`` is set and it trains.

    Put the tensors that need gradients (hidden states) in ``args``; options
    and masks may go in either.
    """
    if getattr(owner, "gradient_checkpointing", False) and owner.training and torch.is_grad_enabled():
        checkpoint = getattr(owner, "_gradient_checkpointing_func", None) or functools.partial(
            torch.utils.checkpoint.checkpoint, **DEFAULT_CHECKPOINT_KWARGS
        )
        return checkpoint(functools.partial(layer, **kwargs), *args)
    return layer(*args, **kwargs)


def set_gradient_checkpointing(
    model: nn.Module, enable: bool, gradient_checkpointing_kwargs: dict[str, Any] | None = None
) -> int:
    """Set the flag on every module of ``model`` that has one; returns how many there were."""
    options = dict(
        DEFAULT_CHECKPOINT_KWARGS if gradient_checkpointing_kwargs is None else gradient_checkpointing_kwargs
    )
    function = functools.partial(torch.utils.checkpoint.checkpoint, **options)
    count = 0
    for module in model.modules():
        if hasattr(module, "gradient_checkpointing"):
            module.gradient_checkpointing = enable
            module._gradient_checkpointing_func = function if enable else None
            count += 1
    return count


__all__ = ["DEFAULT_CHECKPOINT_KWARGS", "run_layer", "set_gradient_checkpointing"]
