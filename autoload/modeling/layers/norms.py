"""Root-mean-square normalisation (no mean subtraction, no bias), in the two published numerics."""

from __future__ import annotations

import torch
from torch import nn

Tensor = torch.Tensor


class RMSNorm(nn.Module):
    """Llama-style RMSNorm: statistics in float32, the result cast back before the learned scale.

    The float32 upcast matters in half precision, where the mean of squares
    of a wide hidden vector loses most of its digits.
    """

    def __init__(self, hidden_size: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.variance_epsilon = eps

    def forward(self, hidden_states: Tensor) -> Tensor:
        input_dtype = hidden_states.dtype
        hidden_states = hidden_states.to(torch.float32)
        variance = hidden_states.pow(2).mean(-1, keepdim=True)
        hidden_states = hidden_states * torch.rsqrt(variance + self.variance_epsilon)
        return self.weight * hidden_states.to(input_dtype)

    def extra_repr(self) -> str:
        return f"{tuple(self.weight.shape)}, eps={self.variance_epsilon}"


class T5RMSNorm(RMSNorm):
    """T5-style: the variance in float32, the scaling in the input's dtype, cast to a half-precision weight's dtype.

    T5, Whisper-era and mT5 checkpoints were trained with these numerics; the
    difference from :class:`RMSNorm` shows only in half precision.
    """

    def forward(self, hidden_states: Tensor) -> Tensor:
        variance = hidden_states.to(torch.float32).pow(2).mean(-1, keepdim=True)
        hidden_states = hidden_states * torch.rsqrt(variance + self.variance_epsilon)
        if self.weight.dtype in (torch.float16, torch.bfloat16):
            hidden_states = hidden_states.to(self.weight.dtype)
        return self.weight * hidden_states


__all__ = ["RMSNorm", "T5RMSNorm"]
