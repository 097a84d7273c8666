"""Activation functions by the names configs use (``hidden_act="gelu_new"``), one table for every plugin.

Several names are different approximations of GELU that checkpoints were
trained with; each entry computes exactly what transformers computes for that
name, so a model's outputs match to the last bit a float allows.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch.nn import functional as F

from autoload.errors import ConfigError

Tensor = torch.Tensor
Activation = Callable[[Tensor], Tensor]

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def gelu_erf(x: Tensor) -> Tensor:
    """Exact GELU written with erf (``gelu_python``)."""
    return x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))


def gelu_tanh(x: Tensor) -> Tensor:
    """The tanh approximation written out, as Google's BERT and OpenAI's GPT-2 code had it (``gelu_new``)."""
    return 0.5 * x * (1.0 + torch.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * torch.pow(x, 3.0))))


def gelu_fast(x: Tensor) -> Tensor:
    return 0.5 * x * (1.0 + torch.tanh(x * 0.7978845608 * (1.0 + 0.044715 * x * x)))


def gelu_pytorch_tanh(x: Tensor) -> Tensor:
    return F.gelu(x, approximate="tanh")


def gelu_10(x: Tensor) -> Tensor:
    """GELU clipped to [-10, 10], which keeps int8-quantised activations in range."""
    return torch.clip(F.gelu(x), -10.0, 10.0)


def quick_gelu(x: Tensor) -> Tensor:
    return x * torch.sigmoid(1.702 * x)


def relu_squared(x: Tensor) -> Tensor:
    return torch.square(F.relu(x))


def laplace(x: Tensor) -> Tensor:
    return 0.5 * (1.0 + torch.erf((x - 0.707107).div(0.282095 * math.sqrt(2.0))))


def sqrt_softplus(x: Tensor) -> Tensor:
    return F.softplus(x).sqrt()


def identity(x: Tensor) -> Tensor:
    return x


#: ``hidden_act`` name -> function.  The names and meanings are transformers' ``ACT2FN``.
ACT2FN: dict[str, Activation] = {
    "gelu": F.gelu,
    "gelu_10": gelu_10,
    "gelu_accurate": gelu_tanh,
    "gelu_fast": gelu_fast,
    "gelu_new": gelu_tanh,
    "gelu_python": gelu_erf,
    "gelu_python_tanh": gelu_tanh,
    "gelu_pytorch_tanh": gelu_pytorch_tanh,
    "elu": F.elu,
    "selu": F.selu,
    "hardswish": F.hardswish,
    "laplace": laplace,
    "leaky_relu": F.leaky_relu,
    "linear": identity,
    "mish": F.mish,
    "quick_gelu": quick_gelu,
    "relu": F.relu,
    "relu2": relu_squared,
    "relu6": F.relu6,
    "sigmoid": torch.sigmoid,
    "silu": F.silu,
    "sqrtsoftplus": sqrt_softplus,
    "swish": F.silu,
    "tanh": torch.tanh,
}


def get_activation(name: str | Activation, *, owner: str = "hidden_act") -> Activation:
    """The function for an activation name (a callable is returned as it is).

    ``owner`` names the setting in the error message (``"BertConfig.hidden_act"``),
    so a user with a typo in config.json learns which field to fix.
    """
    if callable(name):
        return name
    try:
        return ACT2FN[name]
    except (KeyError, TypeError):
        raise ConfigError(
            f"{owner}={name!r} is not a known activation; use one of {', '.join(sorted(ACT2FN))}."
        ) from None


__all__ = ["ACT2FN", "Activation", "get_activation", "gelu_erf", "gelu_fast", "gelu_tanh", "quick_gelu"]
