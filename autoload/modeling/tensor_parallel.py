"""Tensor parallelism: one model's weights split over the ranks of a torch.distributed process group.

torch already owns everything that moves data between ranks: DTensor gathers,
all-reduces and redistributes, ``distribute_module`` puts the conversions
around a module's forward.  What autoload adds is what torch cannot know:

- which weights split along which dimension, declared by the plugin next to
  the modules (``_tp_plan``), so an architecture's plan lives in its one
  modeling file;
- each rank reading only its own slice of every split weight, straight from the
  safetensors memory map, so a rank's peak memory is about 1/world of the
  weights instead of all of them then a split;
- errors before any weight is read when the world size cannot split the model.

A plan is a class attribute of any module class, with entries relative to that
module; ``*`` stands for one path component (a layer index)::

    class LlamaDecoderLayer(nn.Module):
        _tp_plan = {"self_attn.q_proj": "colwise", "self_attn.o_proj": "rowwise", ...}

    class LlamaForCausalLM(LlamaPreTrainedModel, GenerationMixin):
        _tp_plan = {"lm_head": "colwise_gather"}

A class inherits its parents' plan like any class attribute; a subclass whose
module paths differ declares its own (an entry that names no module is an error).

The styles:

``colwise``
    the output features are split: each rank computes its slice of the outputs
    (query/key/value, gate/up projections); the output stays the local slice.
``rowwise``
    the input features are split (the local slice a ``colwise`` layer made);
    the partial outputs are summed over the ranks (attention output, down
    projection); the output is complete on every rank.
``colwise_gather``
    ``colwise``, then the slices are gathered: every rank gets all outputs (the
    language-model head, whose logits every rank's sampler needs).
``embedding``
    the vocabulary is split: each rank looks up the ids it holds; the results
    are summed over the ranks.
``packed_colwise:N``
    ``colwise`` for a weight that packs N projections one after the other along
    its outputs (GPT-2's fused query|key|value): each rank holds its slice of
    each of the N, side by side.

Linear layers store their weight ``(out_features, in_features)``; a module
whose weight is stored the other way round (GPT-2's ``Conv1D``) says so with
the class attribute ``weight_layout = "in_out"``.
"""

from __future__ import annotations

import fnmatch
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from autoload.errors import ParallelismError

if TYPE_CHECKING:
    from torch.distributed.device_mesh import DeviceMesh

    from autoload.weights import Checkpoint

STYLES = ("colwise", "rowwise", "colwise_gather", "embedding", "packed_colwise")

#: The config attributes that count attention heads: a rank must hold whole heads.
_HEAD_COUNTS = ("num_attention_heads", "num_key_value_heads")


@dataclass(frozen=True)
class ShardSpec:
    """How one parameter is split: along ``dim``, in ``blocks`` packed pieces each split alike."""

    dim: int
    blocks: int = 1


def parse_style(value: str, where: str) -> tuple[str, int]:
    """``"packed_colwise:3"`` -> ``("packed_colwise", 3)``; anything unknown is an error naming ``where``."""
    name, _, count = str(value).partition(":")
    if name not in STYLES or (count and name != "packed_colwise") or (name == "packed_colwise" and not count):
        raise ParallelismError(
            f"{where}: {value!r} is not a tensor-parallel style. Use one of {', '.join(STYLES[:-1])} or "
            "packed_colwise:N (N projections packed along the outputs)."
        )
    blocks = 1
    if count:
        if not count.isdigit() or int(count) < 1:
            raise ParallelismError(f"{where}: {value!r} needs a positive number of packed projections after ':'.")
        blocks = int(count)
    return name, blocks


def _weight_out_dim(module: nn.Module) -> int:
    """The dimension of ``module.weight`` that indexes output features."""
    if isinstance(module, nn.Embedding):
        return 1
    return 1 if getattr(module, "weight_layout", "out_in") == "in_out" else 0


def parameter_specs(module: nn.Module, style: str, blocks: int) -> dict[str, ShardSpec | None]:
    """For each parameter of ``module`` (not of its children): how it is split, or None when replicated."""
    out_dim = _weight_out_dim(module)
    in_dim = 1 - out_dim
    specs: dict[str, ShardSpec | None] = {}
    for leaf, param in module.named_parameters(recurse=False):
        if style == "embedding":
            specs[leaf] = ShardSpec(0) if leaf == "weight" else None
        elif style in ("colwise", "colwise_gather", "packed_colwise"):
            dim = out_dim if param.dim() == 2 else 0
            specs[leaf] = ShardSpec(dim, blocks)
        else:  # rowwise: the weight's input dimension; the bias is added once, after the sum
            specs[leaf] = ShardSpec(in_dim) if param.dim() == 2 else None
    return specs


# -- the plan -----------------------------------------------------------------------------------------------------


def declared_plan(model: nn.Module) -> dict[str, str]:
    """Every ``_tp_plan`` entry of ``model``'s modules, resolved to full module names."""
    modules = dict(model.named_modules())
    resolved: dict[str, str] = {}
    for owner_name, owner in modules.items():
        plan = getattr(type(owner), "_tp_plan", None)
        if not plan:
            continue
        prefix = f"{owner_name}." if owner_name else ""
        for pattern, style in plan.items():
            where = f"{type(owner).__name__}._tp_plan[{pattern!r}]"
            parse_style(style, where)
            matches = [name for name in modules if fnmatch.fnmatchcase(name, prefix + pattern) and name]
            # '*' must stand for one component only: fnmatch's '*' also crosses dots.
            depth = (prefix + pattern).count(".")
            matches = [name for name in matches if name.count(".") == depth]
            if not matches:
                raise ParallelismError(
                    f"{where} names no module of {type(model).__name__}. Plan entries are module paths relative to "
                    f"the class that declares them ('*' for one path component, e.g. 'layers.*.mlp.up_proj')."
                )
            for name in matches:
                resolved[name] = style
    return resolved


def user_plan(model: nn.Module, plan: Mapping[str, str]) -> dict[str, str]:
    """A plan given to ``from_pretrained(tp_plan={...})``: patterns over the model's full module names."""
    modules = [name for name, _ in model.named_modules() if name]
    resolved: dict[str, str] = {}
    for pattern, style in plan.items():
        parse_style(style, f"tp_plan[{pattern!r}]")
        depth = pattern.count(".")
        matches = [name for name in modules if fnmatch.fnmatchcase(name, pattern) and name.count(".") == depth]
        if not matches:
            raise ParallelismError(f"tp_plan[{pattern!r}] names no module of {type(model).__name__}.")
        resolved.update(dict.fromkeys(matches, style))
    return resolved


def check_divisible(model: nn.Module, plan: Mapping[str, str], world_size: int) -> None:
    """Refuse, before any weight is read, a world size that cannot split heads or sharded dimensions evenly."""
    config = getattr(model, "config", None)
    model_type = getattr(config, "model_type", type(model).__name__)
    for attribute in _HEAD_COUNTS:
        count = getattr(config, attribute, None)
        if isinstance(count, int) and count % world_size:
            raise ParallelismError(
                f"Cannot split {model_type} over {world_size} ranks: {attribute}={count} is not a multiple of "
                f"{world_size}, and every rank must hold whole attention heads. Run with a world size that "
                f"divides {count}."
            )
    modules = dict(model.named_modules())
    for name, value in plan.items():
        style, blocks = parse_style(value, f"the plan entry for {name}")
        module = modules[name]
        for leaf, spec in parameter_specs(module, style, blocks).items():
            if spec is None:
                continue
            size = getattr(module, leaf).shape[spec.dim]
            if size % (world_size * spec.blocks):
                raise ParallelismError(
                    f"Cannot split {model_type} over {world_size} ranks: {name}.{leaf} has {size} along the "
                    f"dimension the '{value}' plan splits, which is not a multiple of {world_size * spec.blocks}."
                )


# -- the styles, as torch ParallelStyles ------------------------------------------------------------------------


def _style_class() -> type:
    from torch.distributed.tensor import DTensor, Replicate, Shard, distribute_module, distribute_tensor
    from torch.distributed.tensor.parallel import ParallelStyle

    def as_dtensor(value: Any, mesh: DeviceMesh, placement: Any) -> Any:
        if isinstance(value, torch.Tensor) and not isinstance(value, DTensor):
            return DTensor.from_local(value, mesh, [placement], run_check=False)
        return value

    class AutoloadStyle(ParallelStyle):
        """One plan entry: the module's parameters become DTensors; its inputs and outputs are converted."""

        def __init__(self, style: str, blocks: int) -> None:
            super().__init__()
            self.style, self.blocks = style, blocks

        def _apply(self, module: nn.Module, device_mesh: DeviceMesh) -> nn.Module:
            specs = parameter_specs(module, self.style, self.blocks)

            def partition(_name: str, target: nn.Module, mesh: DeviceMesh) -> None:
                if target is not module:
                    return
                for leaf, spec in specs.items():
                    param = module._parameters[leaf]
                    placement = Replicate() if spec is None else Shard(spec.dim)
                    sharded = nn.Parameter(
                        distribute_tensor(param.data, mesh, [placement]), requires_grad=param.requires_grad
                    )
                    sharded._autoload_shard = spec  # type: ignore[attr-defined]
                    module._parameters[leaf] = sharded

            rowwise = self.style == "rowwise"

            def prepare_input(_module: nn.Module, inputs: tuple[Any, ...], mesh: DeviceMesh) -> tuple[Any, ...]:
                placement = Shard(-1) if rowwise else Replicate()
                return (as_dtensor(inputs[0], mesh, placement), *inputs[1:])

            gather = self.style != "colwise" and self.style != "packed_colwise"

            def prepare_output(_module: nn.Module, output: Any, mesh: DeviceMesh) -> Any:
                if gather:
                    output = output.redistribute(mesh, [Replicate()])
                return output.to_local()

            return distribute_module(module, device_mesh, partition, prepare_input, prepare_output)

    return AutoloadStyle


def shard_on_meta(model: nn.Module, mesh: DeviceMesh, plan: Mapping[str, str]) -> None:
    """Turn the planned modules' (meta) parameters into DTensors and hook their forward; no data moves yet."""
    from torch.distributed.tensor.parallel import parallelize_module

    style_class = _style_class()
    styles = {name: style_class(*parse_style(value, name)) for name, value in plan.items()}
    parallelize_module(model, mesh, styles)


# -- the process group and the mesh ----------------------------------------------------------------------------


def device_mesh_for(device_mesh: DeviceMesh | None, tp_size: int | None, device: Any) -> DeviceMesh:
    """The mesh to shard over: the caller's, or one over every rank of the (started if needed) process group."""
    import torch.distributed as dist

    if device_mesh is not None:
        return device_mesh
    if not dist.is_available():
        raise ParallelismError("tp_plan needs torch.distributed, which this build of torch lacks.")
    use_cuda = torch.cuda.is_available() and (device is None or torch.device(device).type == "cuda")
    if not dist.is_initialized():
        if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
            raise ParallelismError(
                "tp_plan splits a model over the ranks of a torch.distributed process group, and none is running. "
                "Start the script with `torchrun --nproc-per-node N script.py`, or call "
                "torch.distributed.init_process_group() before from_pretrained."
            )
        if use_cuda:
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))  # before NCCL binds a device
        dist.init_process_group("nccl" if use_cuda else "gloo")
    world = dist.get_world_size()
    if tp_size is not None and tp_size != world:
        raise ParallelismError(
            f"tp_size={tp_size} differs from the {world} ranks of the process group; pass device_mesh= to shard "
            "over part of them."
        )
    from torch.distributed.device_mesh import init_device_mesh

    backend = dist.get_backend()
    if backend == "nccl" and "LOCAL_RANK" in os.environ:
        # A group the caller started without torch.cuda.set_device would put every rank's slices on GPU 0.
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
    return init_device_mesh("cuda" if backend == "nccl" else "cpu", (world,))


def rank_device(mesh: DeviceMesh) -> torch.device:
    """Where this rank's slices live: its own GPU under NCCL, the CPU under gloo."""
    if mesh.device_type == "cuda":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device(mesh.device_type)


# -- loading: each rank reads its own slices --------------------------------------------------------------------


def is_sharded(tensor: Any) -> bool:
    """Whether ``tensor`` is a DTensor; never imports torch.distributed (no DTensor exists before it is)."""
    module = sys.modules.get("torch.distributed.tensor")
    return module is not None and isinstance(tensor, module.DTensor)


def local_ranges(shape: tuple[int, ...], spec: ShardSpec, rank: int, world: int) -> list[tuple[int, int]]:
    """The ``[start, stop)`` ranges along ``spec.dim`` this rank holds, one per packed block."""
    block = shape[spec.dim] // spec.blocks
    part = block // world
    return [(b * block + rank * part, b * block + (rank + 1) * part) for b in range(spec.blocks)]


def read_local(checkpoint: Checkpoint, key: str, slot: Any, *, dtype: torch.dtype, device: torch.device) -> Any:
    """This rank's part of checkpoint tensor ``key``, as a DTensor shaped like ``slot`` (a meta DTensor)."""
    from torch.distributed.tensor import DTensor

    mesh = slot.device_mesh
    spec: ShardSpec | None = getattr(slot, "_autoload_shard", None)
    shape = tuple(slot.shape)
    if spec is None:
        local = checkpoint.read_slices(key, None)
    else:
        rank, world = mesh.get_local_rank(), mesh.size()
        pieces = [
            checkpoint.read_slices(key, (spec.dim, start, stop))
            for start, stop in local_ranges(shape, spec, rank, world)
        ]
        local = pieces[0] if len(pieces) == 1 else torch.cat(pieces, dim=spec.dim)
    local = local.to(device=device, dtype=dtype).contiguous()
    stride = torch.empty(shape, device="meta").stride()  # the full tensor's, contiguous
    return DTensor.from_local(local, mesh, slot.placements, run_check=False, shape=torch.Size(shape), stride=stride)


def check_complete(names: Iterable[str], params: Mapping[str, tuple[nn.Module, str, Any]]) -> None:
    """Parameters missing from the checkpoint cannot be initialised as shards: say which."""
    sharded = [name for name in names if is_sharded(params[name][2])]
    if sharded:
        shown = ", ".join(sharded[:5]) + (f" and {len(sharded) - 5} more" if len(sharded) > 5 else "")
        raise ParallelismError(
            f"A tensor-parallel load needs every split weight in the checkpoint, but it lacks {shown}. Load it once "
            "without tp_plan, save it, and shard the saved checkpoint."
        )


# -- saving: one normal checkpoint, gathered ----------------------------------------------------------------------


def gathered_state_dict(model: nn.Module, state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor] | None:
    """The full tensors behind ``state`` on rank 0 (None on the others): what a one-device model would save.

    Every rank must call it: gathering is a collective.
    """
    import torch.distributed as dist

    specs = {name: getattr(param, "_autoload_shard", None) for name, param in model.named_parameters()}
    gathered: dict[str, torch.Tensor] = {}
    for name, tensor in state.items():
        if not is_sharded(tensor):
            gathered[name] = tensor
            continue
        full = tensor.full_tensor()
        spec = specs.get(name)
        if spec is not None and spec.blocks > 1:
            full = _unpack(full, spec, tensor.device_mesh.size())
        gathered[name] = full.cpu()
    return gathered if dist.get_rank() == 0 else None


def _unpack(full: torch.Tensor, spec: ShardSpec, world: int) -> torch.Tensor:
    """Undo the rank-major order of a gathered packed weight: [q0 k0 v0 q1 k1 v1] -> [q0 q1 k0 k1 v0 v1]."""
    pieces = full.chunk(world * spec.blocks, dim=spec.dim)
    ordered = [pieces[rank * spec.blocks + block] for block in range(spec.blocks) for rank in range(world)]
    return torch.cat(ordered, dim=spec.dim)
