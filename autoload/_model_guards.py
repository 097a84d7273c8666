"""Guards around a model: bounded allocations while it is built, embedding indices checked when it runs.

Both protect against data from elsewhere.  A ``config.json`` decides how
much a constructor allocates: parameters are built on the meta device, but
buffers (BERT's ``position_ids`` has ``max_position_embeddings`` entries)
and the temporary tensors a constructor makes are real, so
``max_position_embeddings: 100000000`` would allocate gigabytes before the
checkpoint's shapes could disagree.  :func:`bounded_allocations` refuses,
before it happens, any allocation that takes the construction beyond a
budget derived from the checkpoint's size.

Token ids come from a tokenizer, which may not be the model's: an id past
the end of an embedding is an ``IndexError`` deep inside PyTorch on the CPU
and a device-side assert on CUDA.  :func:`check_embedding_indices` makes it a
:class:`~autoload.errors.ModelInputError` naming the id and the size.
"""

from __future__ import annotations

import contextlib
import math
import weakref
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from autoload.errors import ConfigError, ModelInputError

# -- allocations while building ------------------------------------------------------------

_aten = torch.ops.aten
#: Operators that allocate a new tensor whose size comes from their arguments, not from an input tensor.
_FACTORIES = frozenset(
    {
        _aten.empty,
        _aten.empty_strided,
        _aten.zeros,
        _aten.ones,
        _aten.full,
        _aten.arange,
        _aten.rand,
        _aten.randn,
        _aten.randint,
        _aten.randperm,
        _aten.linspace,
        _aten.logspace,
        _aten.eye,
        _aten.new_empty,
        _aten.new_empty_strided,
        _aten.new_zeros,
        _aten.new_ones,
        _aten.new_full,
    }
)

#: The construction budget: this many times the checkpoint's bytes, plus the slack.
BUDGET_PER_CHECKPOINT_BYTE = 2
BUDGET_SLACK_BYTES = 256 * 2**20


def construction_budget(checkpoint_bytes: int) -> int:
    """Bytes a model may allocate while it is built for a checkpoint of ``checkpoint_bytes``."""
    return BUDGET_PER_CHECKPOINT_BYTE * max(0, int(checkpoint_bytes)) + BUDGET_SLACK_BYTES


def _size(value: int) -> str:
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if value >= scale:
            return f"{value / scale:.1f} {unit}"
    return f"{value} bytes"


class _AllocationBudget(TorchDispatchMode):
    """Runs each allocating operator on the meta device first, and refuses it when the budget would be passed."""

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # torch would wrap __torch_dispatch__ in dynamo.disable, importing torch._dynamo (seconds of a
        # cold load); nothing is compiled while a model is being built.
        return False

    def __init__(self, limit: int, owner: str, checkpoint_bytes: int) -> None:
        super().__init__()
        self.limit = limit
        self.owner = owner
        self.checkpoint_bytes = checkpoint_bytes
        self.spent = 0

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        if func.overloadpacket in _FACTORIES and not _targets_meta(args, kwargs):
            shape, dtype = _planned(func, args, kwargs)
            needed = math.prod(shape) * dtype.itemsize
            if self.spent + needed > self.limit:
                raise ConfigError(
                    f"{self.owner} could not be built from its config: building it would allocate "
                    f"{_size(self.spent + needed)} (a tensor of shape {list(shape)}, {dtype}), "
                    f"while the whole checkpoint holds {_size(self.checkpoint_bytes)}. The config's sizes "
                    "(max_position_embeddings, vocab_size, intermediate_size, ...) are corrupt or hostile; check "
                    "config.json against the checkpoint it came with."
                )
            result = func(*args, **kwargs)
            # Count what is alive, not what was ever asked for: a parameter is allocated and then replaced by a
            # meta tensor at once, so the real one is freed (a float32 embedding of a bfloat16 checkpoint is
            # twice the checkpoint's bytes for a moment, never for long).
            self.spent += needed
            weakref.finalize(result, self._release, needed)
            return result
        return func(*args, **kwargs)

    def _release(self, size: int) -> None:
        self.spent -= size


def _targets_meta(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    device = kwargs.get("device")
    if device is not None:
        return torch.device(device).type == "meta"
    first = args[0] if args else None
    return isinstance(first, torch.Tensor) and first.is_meta  # new_* follow their tensor's device


def _planned(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[list[int], torch.dtype]:
    """The shape and dtype a factory call will allocate, read from its arguments.

    Computed by hand rather than by running the operator on the meta device:
    torch's meta kernels for factories import sympy, half a second of every
    cold load.  Sizes are clamped at zero; the real call raises for what is
    impossible.
    """
    packet = func.overloadpacket
    dtype = kwargs.get("dtype")
    if packet is _aten.arange:
        bounds = list(args[:3]) if len(args) > 1 else [0, args[0]]
        start, end = bounds[0], bounds[1]
        step = bounds[2] if len(bounds) > 2 else 1
        count = math.ceil((float(end) - float(start)) / float(step)) if step else 0
        integral = all(isinstance(value, int) for value in (start, end, step))
        default = torch.int64 if integral else torch.get_default_dtype()
        return [max(0, count)], dtype or default
    if packet in (_aten.linspace, _aten.logspace):
        return [max(0, int(args[2]))], dtype or torch.get_default_dtype()
    if packet is _aten.eye:
        rows = max(0, int(args[0]))
        columns = max(0, int(args[1])) if len(args) > 1 else rows
        return [rows, columns], dtype or torch.get_default_dtype()
    if packet is _aten.randperm:
        return [max(0, int(args[0]))], dtype or torch.int64
    if packet is _aten.randint:
        size = next(value for value in reversed(args) if isinstance(value, (list, tuple, torch.Size)))
        return [max(0, int(n)) for n in size], dtype or torch.int64
    if args and isinstance(args[0], torch.Tensor):  # new_*(self, size, ...): self gives the default dtype
        return [max(0, int(n)) for n in args[1]], dtype or args[0].dtype
    return [max(0, int(n)) for n in args[0]], dtype or torch.get_default_dtype()


@contextlib.contextmanager
def bounded_allocations(owner: str, checkpoint_bytes: int) -> Iterator[None]:
    """Within the block, real allocations by tensor factories may total :func:`construction_budget` bytes.

    ``owner`` starts the error message (``"BertModel (config of ./ckpt)"``).
    Meta tensors cost nothing and are not counted; parameters built for real
    and then moved to the meta device are (they were allocated first).
    """
    with _AllocationBudget(construction_budget(checkpoint_bytes), owner, checkpoint_bytes):
        yield


def checkpoint_bytes(entries: Any) -> int:
    """Bytes of a checkpoint's tensors, from their header entries (``shape`` and ``dtype``)."""
    total = 0
    for entry in entries.values():
        dtype = getattr(entry, "dtype", None)
        itemsize = dtype.itemsize if isinstance(dtype, torch.dtype) else 4
        total += math.prod(entry.shape) * itemsize
    return total


# -- embedding indices -------------------------------------------------------------------------


def check_embedding_indices(model: nn.Module) -> None:
    """Make every ``nn.Embedding`` of ``model`` refuse indices outside its table with a clear error.

    The check is one min/max reduction and one host synchronisation per
    embedding call; it is skipped while tracing or compiling, where the
    values are not known.  Installing it twice is harmless.
    """
    try:
        word_embeddings = model.get_input_embeddings()  # type: ignore[operator]
    except (AttributeError, NotImplementedError):
        word_embeddings = None
    owner = type(model).__name__
    for name, module in model.named_modules():
        if isinstance(module, nn.Embedding) and not getattr(module, "_autoload_checks_indices", False):
            module.register_forward_pre_hook(_IndexCheck(owner, name, module is word_embeddings))
            module._autoload_checks_indices = True


class _IndexCheck:
    def __init__(self, owner: str, name: str, is_vocabulary: bool) -> None:
        self.owner = owner
        self.name = name
        self.is_vocabulary = is_vocabulary

    def __call__(self, module: nn.Embedding, args: tuple[Any, ...]) -> None:
        ids = args[0] if args else None
        if not isinstance(ids, torch.Tensor) or ids.numel() == 0 or ids.is_meta or ids.is_floating_point():
            return
        if torch.jit.is_tracing() or torch.compiler.is_compiling():
            return
        low, high = torch.stack(torch.aminmax(ids)).tolist()
        size = module.num_embeddings
        if low >= 0 and high < size:
            return
        bad = low if low < 0 else high
        if self.is_vocabulary:
            raise ModelInputError(
                f"Token id {bad} is outside the vocabulary of {self.owner}: its vocabulary size is {size} (ids 0 to "
                f"{size - 1}, embedding {self.name!r}). The ids come from a tokenizer that does not belong to this "
                "model; use the tokenizer saved with the checkpoint (or resize the model's token embeddings after "
                "adding tokens)."
            )
        raise ModelInputError(
            f"Index {bad} is outside the embedding {self.name!r} of {self.owner}, which has {size} entries (0 to "
            f"{size - 1}). Check the input that feeds it (token_type_ids, position_ids, ...) against the config."
        )


__all__ = ["bounded_allocations", "check_embedding_indices", "checkpoint_bytes", "construction_budget"]
