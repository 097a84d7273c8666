"""The memory order of the output projection's weight on the CPU: column by column for float32.

Each decoding step multiplies one hidden state (or a few, one per row of a
batch) by the output projection, the largest matrix of most language models:
66 MB in float32 for T5-small, 154 MB for GPT-2.  ``nn.Linear`` keeps that
weight as ``[vocab, hidden]``, row after row, and for such a product MKL then
takes one dot product per vocabulary row: a kernel that, on the machines we
measured, reads memory at about a third of the rate a plain sum does and
hardly gains from a second thread.  Stored column after column instead (the
transpose made contiguous; the shape stays ``[vocab, hidden]``), the same
product goes through the kernel that streams the matrix: 1.6-2x faster for
one row, 10-20% faster for 8 to 32 rows, the same for hundreds.  oneDNN, which
takes the products with few rows (:mod:`autoload.modeling.layers.projections`),
is 8-30% faster on the column order too.

Half precision is the other way round: oneDNN's bfloat16 and float16 products
are several times slower on the column order.  So the order follows the dtype:
a float32 weight on a CPU with MKL lies column-major, any other is row-major.
:func:`settle` applies that rule; the loader reads the weight straight into
its order, and ``PreTrainedModel`` settles again after ``.to()``/``.half()``,
after resizing the vocabulary and at the end of ``post_init``, so that no cast
leaves the weight in the order that is slow for its new dtype.

Nothing else changes: the parameter keeps its shape, dtype, identity and ties
(the input embeddings it is tied to look rows up as before), ``save_pretrained``
writes the usual row-major bytes, and the numbers differ from a row-major
product only by the order of the summation (a few float32 ulps).  Only
``weight.stride()`` and ``weight.is_contiguous()`` show it, and one outside
tool: ``safetensors.torch.save_file(model.state_dict())`` refuses a
non-contiguous tensor (as it refuses tied ones); ``save_pretrained`` and
``safetensors.torch.save_model`` write it.  Devices other than the CPU are left
alone: their BLAS takes either order at the same speed.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

#: Rows copied at a time into the column order: about 1 MiB of a 512-wide float32 matrix, a size at which the
#: transposing copy stays in cache (a whole-matrix ``t().contiguous()`` is about a third slower).
BLOCK_ROWS = 256


def column_major_wanted(dtype: torch.dtype, device: torch.device) -> bool:
    """Whether a projection weight of this dtype on this device is faster column-major: float32 on a CPU with MKL."""
    return device.type == "cpu" and dtype == torch.float32 and torch.backends.mkl.is_available()


def prefers_column_major(weight: torch.Tensor) -> bool:
    return weight.dim() == 2 and column_major_wanted(weight.dtype, weight.device)


def is_column_major(weight: torch.Tensor) -> bool:
    return weight.dim() == 2 and weight.t().is_contiguous()


def column_major_from_blocks(
    shape: tuple[int, int], dtype: torch.dtype, blocks: Iterable[tuple[int, torch.Tensor]]
) -> torch.Tensor:
    """A column-major ``shape`` CPU tensor filled from ``(first_row, rows)`` blocks (cast to ``dtype`` on the way)."""
    rows, columns = shape
    result = torch.empty_strided((rows, columns), (1, max(rows, 1)), dtype=dtype)
    for start, block in blocks:
        result[start : start + block.shape[0]].copy_(block)
    return result


def column_major(tensor: torch.Tensor) -> torch.Tensor:
    """A column-major copy of a 2-D tensor, made a block of rows at a time."""
    rows = tensor.shape[0]
    blocks = ((start, tensor[start : start + BLOCK_ROWS]) for start in range(0, rows, BLOCK_ROWS))
    return column_major_from_blocks((rows, tensor.shape[1]), tensor.dtype, blocks)


def output_projection_weight(model: nn.Module) -> nn.Parameter | None:
    """The weight of ``model.get_output_embeddings()``, when the model has such a head."""
    try:
        head = model.get_output_embeddings()  # type: ignore[operator]
    except (AttributeError, NotImplementedError):
        return None
    weight = getattr(head, "weight", None)
    return weight if isinstance(weight, nn.Parameter) else None


def settle(model: nn.Module) -> None:
    """Put the output projection's weight in the order that is fast for its dtype and device (see above).

    The Parameter object itself is kept (its ``.data`` is replaced), so ties,
    optimizer state keyed by it and references held elsewhere stay valid.  A
    tensor-parallel shard (a DTensor), a weight on the meta device or on an
    accelerator, and a weight of any other shape are left as they are.
    """
    weight = output_projection_weight(model)
    if weight is None or weight.dim() != 2 or weight.device.type != "cpu" or type(weight.data) is not torch.Tensor:
        return
    if prefers_column_major(weight):
        if not is_column_major(weight):
            with torch.no_grad():
                weight.data = column_major(weight.data)
    elif is_column_major(weight) and not weight.is_contiguous():
        with torch.no_grad():
            weight.data = weight.data.contiguous()
