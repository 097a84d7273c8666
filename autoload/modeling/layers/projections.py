"""Linear layers whose float32 CPU inference picks the kernel that suits a product with few rows.

A decoding step multiplies one hidden state per sequence by every projection
of the model.  ``F.linear`` sends such a product to MKL, whose small-row path
reads a large weight at a fraction of memory bandwidth: it either packs the
whole weight for a general product or, for one row, takes a dot product per
output row.  oneDNN's matmul (built into torch's CPU builds, and what torch
already uses for bfloat16 and float16) streams the weight as it is.
Measured on an AMD EPYC (AVX2, MKL 2024.2, 2 threads) with weights larger
than the cache, oneDNN takes 0.65-0.8x MKL's time for a ``2048 x 512`` or
``512 x 2048`` weight at 1 to 8 rows, and 0.45-0.75x for a vocabulary head at
1 to 32 rows.

oneDNN also pays a fixed ~30 microseconds per call to look its kernel up,
which MKL does not.  So :func:`linear` uses it only where that cost is small
beside the work (a weight of at least :data:`ONEDNN_MIN_WEIGHT` elements) and
where the product has few rows (at most :data:`ONEDNN_MAX_ROWS`); beyond a
hundred or so rows the two libraries are within about 10% of each other,
either way, and MKL stays.  Everything else goes through ``F.linear``
unchanged: other dtypes and devices, products that autograd must track
(oneDNN's op has no backward), tensor subclasses such as DTensor, weights in
neither row nor column order, code being traced or compiled, and builds
without oneDNN.

The numbers differ from MKL's only by the order of summation: a few float32
ulps, as between any two BLAS builds.  Setting the environment variable
``AUTOLOAD_ONEDNN_LINEAR=0`` before the first product keeps every product on
``F.linear``, for comparing the two.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

Tensor = torch.Tensor

#: Rows (product of the input's leading dimensions) up to which a product may go to oneDNN.
ONEDNN_MAX_ROWS = 64
#: Weight elements from which oneDNN's per-call lookup is a small part of the product (4 MiB of float32).
ONEDNN_MIN_WEIGHT = 1 << 20

_PLAIN_TYPES = (torch.Tensor, nn.Parameter)


@functools.cache
def onednn_linear() -> Callable[..., Tensor] | None:
    """oneDNN's float32 linear op, or None where this torch lacks it, fails a first check, or it is switched off.

    The op is the one torch's own compiler emits for CPU linear layers.  It is
    private to torch, so it is tried once on a small product and compared with
    ``F.linear``; any error or disagreement leaves every product on ``F.linear``.
    """
    if os.environ.get("AUTOLOAD_ONEDNN_LINEAR", "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    if not torch.backends.mkldnn.is_available():
        return None
    try:
        op = torch.ops.mkldnn._linear_pointwise.default
        generator = torch.Generator().manual_seed(0)
        x, weight, bias = (torch.randn(shape, generator=generator) for shape in ((3, 8), (5, 8), (5,)))
        with torch.no_grad():
            agrees = torch.allclose(op(x, weight, bias, "none", [], ""), F.linear(x, weight, bias), atol=1e-5)
    except (AttributeError, RuntimeError):
        return None
    return op if agrees else None


def _onednn_suits(x: Tensor, weight: Tensor, bias: Tensor | None) -> bool:
    if weight.dtype is not torch.float32 or x.dtype is not torch.float32 or weight.device.type != "cpu":
        return False
    if weight.dim() != 2 or weight.numel() < ONEDNN_MIN_WEIGHT:
        return False
    if x.dim() == 0 or x.shape[-1] != weight.shape[1] or x.numel() > ONEDNN_MAX_ROWS * weight.shape[1]:
        return False
    if type(x) not in _PLAIN_TYPES or type(weight) not in _PLAIN_TYPES:
        return False
    if bias is not None and (type(bias) not in _PLAIN_TYPES or bias.dtype is not torch.float32):
        return False
    if torch.is_grad_enabled() and (
        x.requires_grad or weight.requires_grad or (bias is not None and bias.requires_grad)
    ):
        return False
    if not (weight.is_contiguous() or weight.t().is_contiguous()):
        return False
    # A compiler or tracer should see the standard op: it picks (and packs for) its own kernel.
    return not (torch.jit.is_tracing() or torch.compiler.is_compiling())


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``F.linear(x, weight, bias)``, through oneDNN for float32 CPU inference with few rows and a large weight."""
    if _onednn_suits(x, weight, bias):
        op = onednn_linear()
        if op is not None:
            return op(x, weight, bias, "none", [], "")
    return F.linear(x, weight, bias)


class Linear(nn.Linear):
    """``nn.Linear`` (same parameters, same checkpoint keys) whose forward is :func:`linear`."""

    def forward(self, input: Tensor) -> Tensor:
        return linear(input, self.weight, self.bias)


__all__ = ["ONEDNN_MAX_ROWS", "ONEDNN_MIN_WEIGHT", "Linear", "linear", "onednn_linear"]
