"""Dropout that costs nothing where it does nothing."""

from __future__ import annotations

import torch
import torch.nn.functional as F

Tensor = torch.Tensor


def dropout(hidden_states: Tensor, p: float, training: bool) -> Tensor:
    """``F.dropout`` in training with ``p > 0``; otherwise the input itself, without calling into torch.

    A decode step of a small encoder-decoder makes a few hundred operator
    calls besides its matrix products, and in eval mode every dropout among
    them (a module call or ``F.dropout(..., training=False)``) is a no-op that
    still costs a dispatch.  Plugins pass the rate (``self.dropout.p`` of an
    ``nn.Dropout`` they keep for transformers' module layout) and
    ``self.training``.
    """
    if not training or p == 0.0:
        return hidden_states
    return F.dropout(hidden_states, p=p, training=True)


__all__ = ["dropout"]
