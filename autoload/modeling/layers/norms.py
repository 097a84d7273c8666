"""Root-mean-square normalisation (no mean subtraction, no bias), in the two published numerics."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

Tensor = torch.Tensor


def _both_float32(hidden_states: Tensor, weight: Tensor) -> bool:
    """Where both numerics below reduce to torch's own ``rms_norm``: the same float32 arithmetic in fewer kernels.

    In float32 the upcasts are no-ops and ``F.rms_norm`` computes
    ``x * rsqrt(mean(x^2) + eps) * w`` in the same order, bit for bit; in half
    precision the two published numerics round at different places, so they
    stay written out.
    """
    return hidden_states.dtype == torch.float32 and weight.dtype == torch.float32


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
        if _both_float32(hidden_states, self.weight):
            return F.rms_norm(hidden_states, self.weight.shape, self.weight, self.variance_epsilon)
        return self._written_out(hidden_states)

    def _written_out(self, hidden_states: Tensor) -> Tensor:
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

    def _written_out(self, hidden_states: Tensor) -> Tensor:
        variance = hidden_states.to(torch.float32).pow(2).mean(-1, keepdim=True)
        hidden_states = hidden_states * torch.rsqrt(variance + self.variance_epsilon)
        if self.weight.dtype in (torch.float16, torch.bfloat16):
            hidden_states = hidden_states.to(self.weight.dtype)
        return self.weight * hidden_states


__all__ = ["RMSNorm", "T5RMSNorm"]
