"""One model over the devices of one machine, its CPU memory and its disk: ``from_pretrained(device_map=...)``.

Placing modules on devices, moving activations between them and streaming
offloaded weights in for each forward is what accelerate's big-model dispatch
does, well tested and kept up to date with new accelerators; autoload uses it
(the optional extra ``autoload-core[accelerate]``) rather than writing it
again.  What autoload adds is what accelerate cannot know:

- the weights are read from the safetensors memory map straight onto the
  device each module is placed on, and weights placed on ``"disk"`` are never
  read at all: accelerate's offload index points at the checkpoint's own
  safetensors files, so nothing is copied and nothing stays resident;
- a device map given as a dict is checked against the model before anything
  is read: every parameter placed, every key naming a module, every device one
  this machine has; the errors say which, and what would be valid;
- the classes that must not be split over two devices come from the plugins
  (``_no_split_modules``: a decoder layer, whose residual connections span it).

accelerate is imported only here, and only when a device map other than one
device is asked for.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from autoload.errors import ParallelismError

if TYPE_CHECKING:
    from autoload.modeling.pretrained import PreTrainedModel

#: The strategies accelerate computes a device map with.
STRATEGIES = ("auto", "balanced", "balanced_low_0", "sequential")
_OFFLOAD_TARGETS = ("cpu", "disk")
#: Keyword arguments whose values accelerate's hooks must not move between devices (the cache keeps its own).
_SKIP_KEYS = ["past_key_values", "cache"]

Placement = Any  # int (accelerator index), "cpu", "disk" or a device string such as "cuda:1"


def single_device(device_map: Any) -> str | int | torch.device | None:
    """The one device a ``device_map`` names (``"cpu"``, ``0``, ``{"": "cuda:0"}``), else None.

    Such a map is ``device=`` under another name and takes the plain
    one-device path: no accelerate, no hooks.
    """
    if isinstance(device_map, torch.device):
        return device_map
    if isinstance(device_map, bool):
        return None
    if isinstance(device_map, int):
        return _checked_device(device_map, "device_map")
    if isinstance(device_map, str):
        if device_map in STRATEGIES:
            return None
        return _checked_device(device_map, "device_map")
    if isinstance(device_map, Mapping) and list(device_map) == [""]:
        value = _checked_device(device_map[""], "device_map['']")
        return None if value == "disk" else value
    return None


def require_accelerate() -> Any:
    """accelerate, or an error that says how to install it."""
    try:
        import accelerate
    except ImportError as exc:
        raise ParallelismError(
            "A device_map that spreads the model over several devices, CPU memory or disk needs accelerate, which "
            'is not installed. Install it with: pip install "autoload-core[accelerate]" (or load the model on one '
            "device with device='cpu' / device='cuda:0')."
        ) from exc
    return accelerate


def no_split_classes(model: nn.Module) -> list[str]:
    """Class names that must stay on one device: ``_no_split_modules`` of every autoload model in the tree."""
    names: list[str] = []
    for module in model.modules():
        if getattr(module, "_is_autoload_model", False):
            for name in type(module)._no_split_modules or ():
                if name not in names:
                    names.append(name)
    return names


def resolve(
    model: PreTrainedModel,
    device_map: str | Mapping[str, Any],
    *,
    max_memory: Mapping[int | str, int | str] | None,
    dtype: torch.dtype,
    keep_fp32: Iterable[str] = (),
) -> dict[str, Placement]:
    """The device map as ``{module name: placement}``: computed by accelerate for a strategy, checked for a dict."""
    if isinstance(device_map, str):
        if device_map not in STRATEGIES:
            raise ParallelismError(
                f"device_map={device_map!r} is neither a device nor one of {', '.join(map(repr, STRATEGIES))}."
            )
        return _inferred(model, device_map, max_memory, dtype, keep_fp32)
    if isinstance(device_map, Mapping):
        if max_memory is not None:
            raise ParallelismError(
                "max_memory only applies when accelerate computes the device map (device_map='auto', 'balanced', "
                "'balanced_low_0' or 'sequential'); a device_map dict already says where each module goes."
            )
        return _checked_map(model, device_map)
    raise ParallelismError(
        f"device_map must be a device, one of {', '.join(map(repr, STRATEGIES))}, or a dict of module names to "
        f"devices; not a {type(device_map).__name__}."
    )


def expand(device_map: Mapping[str, Placement], model: nn.Module) -> dict[str, torch.device | str]:
    """Each parameter and buffer name -> the device it is read onto, or ``"disk"`` (left unread).

    A buffer no key covers (one the checkpoint does not hold, such as rotary
    frequencies) goes where the model computes.
    """
    devices = {key: _torch_device(value) for key, value in device_map.items()}
    fallback = main_device(device_map)
    placement: dict[str, torch.device | str] = {}
    for name in _tensor_names(model, persistent_only=False):
        owner = _owning_key(name, devices)
        placement[name] = devices[owner] if owner is not None else fallback
    return placement


def offload_index(
    model: nn.Module,
    placement: Mapping[str, torch.device | str],
    unread: Mapping[str, tuple[str, str, torch.dtype]],
    offload_folder: str | os.PathLike[str] | None,
) -> dict[str, dict[str, Any]]:
    """accelerate's offload index for every parameter placed on disk.

    A parameter whose tensor sits in a safetensors file of the checkpoint
    (``unread``: name -> file, key, dtype) is served from that file; one that
    holds data (initialised because the checkpoint lacks it, or read from a
    pickled checkpoint) is written to ``offload_folder`` by accelerate.
    """
    from accelerate.utils import offload_weight

    index: dict[str, dict[str, Any]] = {}
    to_write: list[str] = []
    for name, param in model.named_parameters(remove_duplicate=False):
        if placement.get(name) != "disk":
            continue
        if name in unread:
            file, key, dtype = unread[name]
            index[name] = {"safetensors_file": file, "weight_name": key, "dtype": str(dtype).removeprefix("torch.")}
        elif param.device.type != "meta":
            to_write.append(name)
    if to_write:
        if offload_folder is None:
            raise ParallelismError(
                f"The device_map puts {_listed(to_write)} on disk, but they are not stored in a safetensors file of "
                "the checkpoint (initialised fresh, or read from a pickled checkpoint), so they must be written "
                "somewhere: pass offload_folder='path/to/folder'."
            )
        os.makedirs(offload_folder, exist_ok=True)
        params = dict(model.named_parameters(remove_duplicate=False))
        for name in to_write:
            offload_weight(params[name].detach(), name, os.fspath(offload_folder), index=index)
    return index


def dispatch(
    model: PreTrainedModel,
    device_map: Mapping[str, Placement],
    index: Mapping[str, Any],
    *,
    offload_folder: str | os.PathLike[str] | None,
    offload_buffers: bool,
) -> None:
    """Attach accelerate's hooks: inputs follow the modules' devices, offloaded weights come in per forward."""
    from accelerate import dispatch_model

    dispatch_model(
        model,
        device_map=dict(device_map),
        offload_dir=None if offload_folder is None else os.fspath(offload_folder),
        offload_index=dict(index) or None,
        offload_buffers=offload_buffers,
        skip_keys=_SKIP_KEYS,
    )
    model.hf_device_map = dict(device_map)


def is_offloaded(model: nn.Module) -> bool:
    """Whether a dispatched model keeps some weights in CPU memory or on disk, off its parameters."""
    device_map = model.__dict__.get("hf_device_map") or {}
    return any(value in _OFFLOAD_TARGETS for value in device_map.values()) and any(
        param.device.type == "meta" for param in model.parameters()
    )


def gathered_state_dict(model: PreTrainedModel) -> dict[str, torch.Tensor]:
    """The full state dict of an offloaded model, on the CPU; tied copies left out (saved once, as always)."""
    from accelerate.utils.modeling import get_state_dict_offloaded_model

    from autoload.modeling.loading import _declared_ties

    state = get_state_dict_offloaded_model(model)
    for target in _declared_ties(dict(model.named_modules())):
        state.pop(target, None)
    return state


def main_device(device_map: Mapping[str, Placement]) -> torch.device:
    """Where the model computes: the first accelerator the map uses, else the CPU (as accelerate chooses)."""
    for value in device_map.values():
        if value not in _OFFLOAD_TARGETS:
            return _torch_device(value)  # type: ignore[return-value]
    return torch.device("cpu")


# -- inferred maps -------------------------------------------------------------------


def _inferred(
    model: PreTrainedModel,
    strategy: str,
    max_memory: Mapping[int | str, int | str] | None,
    dtype: torch.dtype,
    keep_fp32: Iterable[str],
) -> dict[str, Placement]:
    from accelerate.utils import get_balanced_memory, get_max_memory, infer_auto_device_map

    if max_memory is not None:
        max_memory = _checked_max_memory(max_memory)
    no_split = no_split_classes(model)
    special = dict.fromkeys(keep_fp32, torch.float32)
    if strategy == "sequential":
        budget = get_max_memory(dict(max_memory) if max_memory is not None else None)
    else:
        budget = get_balanced_memory(
            model,
            max_memory=dict(max_memory) if max_memory is not None else None,
            no_split_module_classes=no_split,
            dtype=dtype,
            special_dtypes=special or None,
            low_zero=strategy == "balanced_low_0",
        )
    inferred = infer_auto_device_map(
        model, max_memory=budget, no_split_module_classes=no_split, dtype=dtype, special_dtypes=special or None
    )
    return dict(inferred)


def _checked_max_memory(max_memory: Mapping[int | str, int | str]) -> dict[int | str, int | str]:
    if not isinstance(max_memory, Mapping):
        raise ParallelismError(
            f"max_memory must be a dict such as {{0: '20GiB', 'cpu': '60GiB'}}, not a {type(max_memory).__name__}."
        )
    checked: dict[int | str, int | str] = {}
    for key, value in max_memory.items():
        if key == "disk":
            raise ParallelismError("max_memory cannot limit 'disk': whatever fits nowhere else goes to disk.")
        device = _checked_device(key, "max_memory")
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ParallelismError(f"max_memory[{key!r}] must be a byte count or a size such as '2GiB', not {value!r}.")
        checked[device if not isinstance(device, torch.device) else str(device)] = value
    return checked


# -- checked maps ----------------------------------------------------------------------


def _checked_map(model: nn.Module, device_map: Mapping[str, Any]) -> dict[str, Placement]:
    """A user's ``{module name: device}``: known names, real devices, every parameter and buffer placed."""
    modules = dict(model.named_modules())
    tensors = set(_tensor_names(model, persistent_only=False))
    checked: dict[str, Placement] = {}
    for key, value in device_map.items():
        if not isinstance(key, str):
            raise ParallelismError(f"device_map keys must be module names (strings), not {key!r}.")
        if key != "" and key not in modules and key not in tensors:
            raise ParallelismError(
                f"device_map names {key!r}, which is no module of {type(model).__name__}. "
                f"Valid names there: {_valid_names_near(key, modules)}."
            )
        checked[key] = _checked_device(value, f"device_map[{key!r}]")
    checked = _without_nesting(model, checked, modules)
    unplaced = [name for name in _tensor_names(model, persistent_only=True) if _owning_key(name, checked) is None]
    if unplaced:
        raise ParallelismError(
            f"device_map leaves {_listed(unplaced)} of {type(model).__name__} without a device. Add their modules "
            "(or '' for everything not listed) to the dict."
        )
    return checked


def _without_nesting(
    model: nn.Module, device_map: dict[str, Placement], modules: Mapping[str, nn.Module]
) -> dict[str, Placement]:
    """``{"": "cpu", "h.1": "disk"}`` as accelerate's hooks need it: no key inside another.

    A key with more specific keys below it is replaced by its submodules, each
    keeping its placement unless a key says otherwise.  Tensors the module owns
    directly (not through a submodule) cannot be placed apart from it, so they
    must stay where the model computes.
    """
    flat = dict(device_map)
    main = main_device(device_map)
    while True:
        nested = [key for key in flat if key in modules and any(_inside(other, key) for other in flat)]
        if not nested:
            return flat
        for key in nested:
            module, placement = modules[key], flat.pop(key)
            own = [
                leaf for leaf, tensor in (*module._parameters.items(), *module._buffers.items()) if tensor is not None
            ]
            if own and _torch_device(placement) != main:
                raise ParallelismError(
                    f"device_map puts {key or 'the model'!r} on {placement!r} but some of its submodules elsewhere; "
                    f"its own tensors ({', '.join(own)}) cannot follow either. List its submodules one by one instead "
                    f"(valid names: {_valid_names_near(key + '.', modules)})."
                )
            for child, _ in module.named_children():
                name = f"{key}.{child}" if key else child
                flat.setdefault(name, placement)


def _inside(name: str, key: str) -> bool:
    return name != key and (key == "" or name.startswith(key + "."))


def _tensor_names(model: nn.Module, *, persistent_only: bool) -> list[str]:
    """Parameter and buffer names (tied and shared ones under every name); only the saved buffers if asked."""
    names = [name for name, _ in model.named_parameters(remove_duplicate=False)]
    for module_name, module in model.named_modules(remove_duplicate=False):
        base = f"{module_name}." if module_name else ""
        for leaf, buffer in module._buffers.items():
            if buffer is not None and not (persistent_only and leaf in module._non_persistent_buffers_set):
                names.append(base + leaf)
    return names


def _owning_key(name: str, device_map: Mapping[str, Any]) -> str | None:
    """The most specific device-map key that covers ``name`` (a dotted prefix of it, or ``""``)."""
    candidate = name
    while True:
        if candidate in device_map:
            return candidate
        if not candidate:
            return None
        candidate = candidate.rpartition(".")[0]


def _valid_names_near(key: str, modules: Mapping[str, nn.Module]) -> str:
    """The children of the deepest module that ``key`` does name a prefix of (the top level when none)."""
    parent = key
    while parent and parent not in modules:
        parent = parent.rpartition(".")[0]
    children = [f"{parent}.{name}" if parent else name for name, _ in modules[parent].named_children()]
    return _listed(children, limit=12) if children else f"none below {parent!r}; use {parent!r} itself"


def _checked_device(value: Any, where: str) -> Placement:
    """``"disk"``, ``"cpu"``, an accelerator index or a device string this machine has; else a clear error."""
    if isinstance(value, str) and value == "disk":
        return "disk"
    if isinstance(value, bool):
        raise ParallelismError(f"{where}={value!r} is not a device.")
    if isinstance(value, int):
        if value < 0:
            raise ParallelismError(f"{where}={value} is not a device: accelerator indices start at 0.")
        _check_accelerator_index(value, where)
        return value
    if isinstance(value, (str, torch.device)):
        try:
            device = torch.device(value)
        except (RuntimeError, TypeError, ValueError):
            raise ParallelismError(
                f"{where}={value!r} is not a device. Use 'cpu', 'disk', an accelerator index (0, 1, ...) or a "
                "device string such as 'cuda:0'."
            ) from None
        if device.type == "cpu":
            return "cpu"
        if device.type != "meta" and device.index is not None:
            _check_accelerator_index(device.index, where, device.type)
        elif device.type != "meta":
            _check_accelerator_index(0, where, device.type)
        return str(device) if isinstance(value, torch.device) else value
    raise ParallelismError(
        f"{where}={value!r} is not a device. Use 'cpu', 'disk', an accelerator index (0, 1, ...) or a device string "
        "such as 'cuda:0'."
    )


def _accelerator() -> tuple[str | None, int]:
    """This machine's accelerator type (``"cuda"``, ``"xpu"``, ``"mps"``...) and how many it has."""
    api = getattr(torch, "accelerator", None)  # torch >= 2.6
    if api is not None:
        if not api.is_available():
            return None, 0
        return api.current_accelerator().type, api.device_count()
    return ("cuda", torch.cuda.device_count()) if torch.cuda.is_available() else (None, 0)


def _check_accelerator_index(index: int, where: str, kind: str | None = None) -> None:
    accelerator, available = _accelerator()
    if accelerator is None or (kind is not None and kind != accelerator) or index >= available:
        have = f"{available} {accelerator} device(s)" if accelerator is not None else "no accelerator"
        asked = f"{kind}:{index}" if kind else f"accelerator {index}"
        raise ParallelismError(f"{where} asks for {asked}, but this machine has {have}. Use 'cpu' or 'disk' instead.")


def _torch_device(value: Placement) -> torch.device | str:
    if value == "disk":
        return "disk"
    if isinstance(value, int):
        return torch.device(_accelerator()[0] or "cuda", value)
    return torch.device(value)


def _listed(names: list[str], limit: int = 8) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
