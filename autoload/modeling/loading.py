"""From a checkpoint's tensors to a meta-built model's parameters, in named phases.

:func:`load_checkpoint` runs them in order:

1. :func:`collect_slots`: one walk over the model finds every parameter and buffer a tensor can go into;
2. :func:`resolve_ties`: declared and constructor-made parameter sharing;
3. :func:`match_keys`: checkpoint keys to parameter names (base-model prefix, legacy spellings, tied copies);
4. :func:`check_fit`: architecture, shapes and dtypes, from the headers before any data is read;
5. :func:`read_tensors`: the tensors, in file order, straight into the parameters (float32 kept where declared),
   onto one device, or onto each parameter's own device under a device map (``"disk"`` ones left unread);
6. :func:`materialise_missing`: memory and ``_init_weights`` for what the checkpoint lacks; buffers to the device;
7. :func:`report`: the loading info and one warning listing what did not fit.
"""

from __future__ import annotations

import inspect
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from autoload import weights as _weights
from autoload.configuration import PretrainedConfig
from autoload.errors import CheckpointError, ConfigError
from autoload.modeling import tensor_parallel, weight_layout

if TYPE_CHECKING:
    from autoload.modeling.pretrained import PreTrainedModel

logger = logging.getLogger("autoload")

ATTN_IMPLEMENTATIONS = ("sdpa", "eager")

# -- small helpers --------------------------------------------------------------


def _as_dtype(value: Any) -> torch.dtype:
    """A floating torch dtype from ``torch.float16``, ``"float16"`` or ``"torch.float16"``."""
    found: Any = value
    if isinstance(value, str):
        found = getattr(torch, value.strip().removeprefix("torch."), None)
    if not isinstance(found, torch.dtype) or not found.is_floating_point:
        raise ConfigError(
            f"dtype must be None, 'auto' or a floating torch dtype (torch.float16, 'bfloat16', ...), not {value!r}."
        )
    return found


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _check_attn_implementation(value: Any) -> str | None:
    if value is None or value in ATTN_IMPLEMENTATIONS:
        return value
    raise ConfigError(
        f"attn_implementation must be one of {', '.join(map(repr, ATTN_IMPLEMENTATIONS))}, not {value!r}. "
        "'sdpa' uses torch.nn.functional.scaled_dot_product_attention; 'eager' computes attention explicitly."
    )


def _tie_enabled(config: Any) -> bool:
    return bool(getattr(config, "tie_word_embeddings", True))


def _declared_ties(modules: Mapping[str, nn.Module]) -> dict[str, str]:
    """Full target name -> full source name, from every model class in the tree whose config ties."""
    ties: dict[str, str] = {}
    for prefix, module in modules.items():
        if not getattr(module, "_is_autoload_model", False):
            continue
        keys = type(module)._tied_weights_keys
        if not keys or not _tie_enabled(module.config):
            continue
        if not isinstance(keys, Mapping):
            raise TypeError(
                f"{type(module).__name__}._tied_weights_keys must map target parameter names to source names, "
                f"not be a {type(keys).__name__}."
            )
        base = f"{prefix}." if prefix else ""
        for target, source in keys.items():
            ties[base + target] = base + source
    return ties


def _split(name: str) -> tuple[str, str]:
    owner, _, leaf = name.rpartition(".")
    return owner, leaf


def _format_names(names: list[str], limit: int = 10) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


_LEGACY_LEAVES = {"gamma": "weight", "beta": "bias"}
_RENAME_CACHE: dict[type, tuple[tuple[re.Pattern[str], str], ...]] = {}


def _renames_for(cls: type[PreTrainedModel]) -> tuple[tuple[re.Pattern[str], str], ...]:
    compiled = _RENAME_CACHE.get(cls)
    if compiled is None:
        compiled = tuple((re.compile(pattern), replacement) for pattern, replacement in cls._checkpoint_key_renames)
        _RENAME_CACHE[cls] = compiled
    return compiled


def _renamed(key: str, renames: tuple[tuple[re.Pattern[str], str], ...]) -> str:
    """Old checkpoint spellings -> current parameter names (``LayerNorm.gamma`` -> ``LayerNorm.weight``, ...)."""
    owner, leaf = _split(key)
    if leaf in _LEGACY_LEAVES:
        key = f"{owner}.{_LEGACY_LEAVES[leaf]}" if owner else _LEGACY_LEAVES[leaf]
    for pattern, replacement in renames:
        key = pattern.sub(replacement, key)
    return key


# -- tying helpers ------------------------------------------------------------------


def _tie(modules: Mapping[str, nn.Module], target: str, source: str) -> None:
    target_owner_name, target_leaf = _split(target)
    source_owner_name, source_leaf = _split(source)
    target_owner = modules.get(target_owner_name)
    source_owner = modules.get(source_owner_name)
    if target_owner is None or source_owner is None:
        return  # a head without that layer; nothing to tie
    source_param = source_owner._parameters.get(source_leaf)
    if source_param is None or target_leaf not in target_owner._parameters:
        return
    current = target_owner._parameters[target_leaf]
    if current is source_param:
        return
    if current is not None and current.shape != source_param.shape:
        raise CheckpointError(
            f"Cannot tie {target} {tuple(current.shape)} to {source} {tuple(source_param.shape)}: shapes differ."
        )
    target_owner._parameters[target_leaf] = source_param


def _tied_targets(model: PreTrainedModel) -> list[str]:
    """Names of parameters that are the same object as another one, source names excluded."""
    modules = dict(model.named_modules())
    declared = _declared_ties(modules)
    sources = set(declared.values())
    groups: dict[int, list[str]] = {}
    for name, param in model.named_parameters(remove_duplicate=False):
        groups.setdefault(id(param), []).append(name)
    targets: list[str] = []
    for names in groups.values():
        if len(names) > 1:
            keep = next((name for name in names if name in sources), names[0])
            targets.extend(name for name in names if name != keep)
    return targets


# -- loading ------------------------------------------------------------------------


def _load_dtype(dtype: Any, config: PretrainedConfig, checkpoint: _weights.Checkpoint) -> torch.dtype:
    if dtype is None:
        return torch.float32
    if dtype == "auto":
        if config.dtype:
            try:
                return _as_dtype(config.dtype)
            except ConfigError:
                logger.warning("config.dtype %r is not a floating dtype; using the checkpoint's dtype.", config.dtype)
        return checkpoint.first_floating_dtype() or torch.float32
    return _as_dtype(dtype)


@dataclass
class LoadPlan:
    """What the phases of :func:`load_checkpoint` learn about one model and one checkpoint."""

    model: PreTrainedModel
    checkpoint: _weights.Checkpoint
    dtype: torch.dtype
    device: torch.device
    modules: dict[str, nn.Module] = field(default_factory=dict)
    params: dict[str, tuple[nn.Module, str, nn.Parameter]] = field(default_factory=dict)
    buffers: dict[str, tuple[nn.Module, str, torch.Tensor]] = field(default_factory=dict)
    all_buffers: list[tuple[nn.Module, str]] = field(default_factory=list)
    shared: dict[int, list[str]] = field(default_factory=dict)
    ties: dict[str, str] = field(default_factory=dict)
    matched: dict[str, str] = field(default_factory=dict)  # model name -> checkpoint key
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    keep_fp32: set[str] = field(default_factory=set)
    # Under a device map: parameter/buffer name -> its device, or "disk" (see autoload.modeling.device_map).
    placement: Mapping[str, torch.device | str] | None = None
    # Parameters placed on disk and left unread: name -> (safetensors file, checkpoint key, dtype).
    unread: dict[str, tuple[str, str, torch.dtype]] = field(default_factory=dict)

    def device_for(self, name: str) -> torch.device:
        """The device a slot's tensor goes to: the load device, or its own under a device map (disk: the CPU)."""
        if self.placement is None:
            return self.device
        where = self.placement.get(name, self.device)
        return torch.device("cpu") if where == "disk" else where  # type: ignore[return-value]

    def dtype_for(self, name: str, current: torch.Tensor) -> torch.dtype:
        """The dtype a slot gets: the load dtype for floats, float32 where declared, the slot's own otherwise."""
        if not current.is_floating_point():
            return current.dtype
        return torch.float32 if name in self.keep_fp32 else self.dtype


def load_checkpoint(
    model: PreTrainedModel,
    checkpoint: _weights.Checkpoint,
    *,
    dtype: torch.dtype,
    device: torch.device,
    ignore_mismatched_sizes: bool,
    ignore_architecture_mismatch: bool = False,
    placement: Mapping[str, torch.device | str] | None = None,
    unread: dict[str, tuple[str, str, torch.dtype]] | None = None,
) -> dict[str, list[Any]]:
    """Give a meta-built model the checkpoint's tensors; initialise only what is missing.

    ``placement`` (a device map expanded to every parameter and buffer name)
    reads each tensor onto its own device; parameters placed on ``"disk"``
    whose tensor lies in a safetensors file stay on meta, and ``unread`` is
    filled with where each one lies (name -> file, key, dtype) for the offload index.
    """
    plan = LoadPlan(model, checkpoint, dtype, device, placement=placement)
    if unread is not None:
        plan.unread = unread
    collect_slots(plan)
    resolve_ties(plan)
    match_keys(plan)
    check_fit(
        plan, ignore_mismatched_sizes=ignore_mismatched_sizes, ignore_architecture_mismatch=ignore_architecture_mismatch
    )
    read_tensors(plan)
    materialise_missing(plan)
    return report(plan)


_load_checkpoint = load_checkpoint  # the name older tools import


def collect_slots(plan: LoadPlan) -> None:
    """Phase 1: every parameter and buffer a tensor can go into, in one walk; which stay in float32."""
    for module_name, module in plan.model.named_modules(remove_duplicate=False):
        plan.modules[module_name] = module
        base = f"{module_name}." if module_name else ""
        for leaf, param in module._parameters.items():
            if param is not None:
                plan.params[base + leaf] = (module, leaf, param)
                plan.shared.setdefault(id(param), []).append(base + leaf)
        for leaf, buffer in module._buffers.items():
            if buffer is None:
                continue
            plan.all_buffers.append((module, leaf))
            if leaf not in module._non_persistent_buffers_set:
                plan.buffers[base + leaf] = (module, leaf, buffer)
    if plan.dtype in (torch.float16, torch.bfloat16):
        plan.keep_fp32 = float32_names(plan.model)


def float32_names(model: nn.Module) -> set[str]:
    """Parameters and buffers that stay float32 in a half-precision model.

    Those of modules named in the model class's ``_keep_in_fp32_modules``
    (a name matches a whole dotted component: ``"wo"`` keeps ``layer.0.wo.weight``),
    and the buffers a module lists in its own ``_keep_in_fp32_buffers``
    (rotary ``inv_freq``).
    """
    names: set[str] = set()
    keep_modules = list(getattr(type(model), "_keep_in_fp32_modules", None) or ())
    pattern = re.compile("|".join(rf"(^|\.){re.escape(m)}($|\.)" for m in keep_modules)) if keep_modules else None
    for module_name, module in model.named_modules(remove_duplicate=False):
        base = f"{module_name}." if module_name else ""
        if pattern is not None and pattern.search(module_name):
            names.update(base + leaf for leaf, p in module._parameters.items() if p is not None)
            names.update(base + leaf for leaf, b in module._buffers.items() if b is not None)
        for leaf in getattr(module, "_keep_in_fp32_buffers", ()) or ():
            names.add(base + leaf)
    return names


def resolve_ties(plan: LoadPlan) -> None:
    """Phase 2: tied parameters, target -> source: declared ties plus any the constructor shared."""
    ties = _declared_ties(plan.modules)
    sources = set(ties.values())
    for names in plan.shared.values():
        if len(names) > 1:
            keep = next((name for name in names if name in sources), names[0])
            for name in names:
                if name != keep:
                    ties.setdefault(name, keep)
    plan.ties = {target: source for target, source in ties.items() if target in plan.params and source in plan.params}


def match_keys(plan: LoadPlan) -> None:
    """Phase 3: checkpoint keys to model names: as they are, with the base-model prefix added or
    stripped, then under their legacy spelling; a tied copy feeds its source."""
    cls = type(plan.model)
    entries = plan.checkpoint.entries
    prefix = cls.base_model_prefix
    add_prefix = strip_prefix = False
    if prefix:
        model_has_base = isinstance(plan.model._modules.get(prefix), nn.Module)
        checkpoint_has_base = any(key.startswith(prefix + ".") for key in entries)
        add_prefix = model_has_base and not checkpoint_has_base
        strip_prefix = not model_has_base and checkpoint_has_base
    head = prefix + "."

    def to_model_name(key: str) -> str:
        if add_prefix:
            return head + key
        if strip_prefix and key.startswith(head):
            return key[len(head) :]
        return key

    known = plan.params.keys() | plan.buffers.keys()
    matched = plan.matched
    unmatched: list[str] = []
    for key in entries:
        name = to_model_name(key)
        if name in known and name not in matched:
            matched[name] = key
        else:
            unmatched.append(key)
    renames = _renames_for(cls)
    for key in unmatched:
        name = to_model_name(_renamed(key, renames))
        if name in known and name not in matched:
            matched[name] = key
        else:
            plan.unexpected.append(key)
    for target, source in plan.ties.items():
        key = matched.pop(target, None)
        if key is not None and source not in matched:
            matched[source] = key  # only the tied copy was saved: it feeds the source


def check_fit(plan: LoadPlan, *, ignore_mismatched_sizes: bool, ignore_architecture_mismatch: bool) -> None:
    """Phase 4: architecture, shapes and dtypes, from the headers, before any data is read."""
    cls = type(plan.model)
    checkpoint = plan.checkpoint
    _check_architecture_fits(
        cls, checkpoint, plan.matched, plan.unexpected, plan.params, plan.ties, ignore_architecture_mismatch
    )
    bad_dtypes: list[str] = []
    for name, key in list(plan.matched.items()):
        entry = checkpoint.entries[key]
        slot = plan.params[name][2] if name in plan.params else plan.buffers[name][2]
        if entry.shape != tuple(slot.shape):
            plan.mismatched.append((name, entry.shape, tuple(slot.shape)))
            del plan.matched[name]
            continue
        stored = entry.dtype
        if (
            stored is None
            or stored.is_complex
            or stored.is_floating_point != slot.is_floating_point()
            or (stored == torch.bool) != (slot.dtype == torch.bool)
        ):
            needed = "a floating" if slot.is_floating_point() else str(slot.dtype).removeprefix("torch.")
            bad_dtypes.append(
                f"{key} is {entry.dtype_name}, but {name} needs {needed} dtype (in {os.path.basename(entry.file)})"
            )
    if bad_dtypes:
        raise CheckpointError(
            f"Checkpoint {checkpoint.source} does not fit {cls.__name__}: {_format_names(bad_dtypes, 5)}."
        )
    if plan.mismatched and not ignore_mismatched_sizes:
        details = [f"{name}: checkpoint {list(old)} vs model {list(new)}" for name, old, new in plan.mismatched]
        raise CheckpointError(
            f"Checkpoint {checkpoint.source} does not fit {cls.__name__}: shapes differ for "
            f"{_format_names(details, 5)}. Pass ignore_mismatched_sizes=True to initialise those parameters fresh."
        )


def read_tensors(plan: LoadPlan) -> None:
    """Phase 5: the tensors, in file order, straight into the parameters and persistent buffers."""
    device = plan.device
    by_key = {key: name for name, key in plan.matched.items()}
    entries = plan.checkpoint.entries
    wanted_keys = [key for key in entries if key in by_key]
    if any(tensor_parallel.is_sharded(plan.params[name][2]) for name in plan.matched if name in plan.params):
        wanted_keys = _read_shards(plan, wanted_keys, by_key)
    if plan.placement is not None:
        _read_placed(plan, wanted_keys, by_key)
        return
    column_major = _column_major_slot(plan)
    if column_major is not None and plan.matched[column_major] in wanted_keys:
        key = plan.matched[column_major]
        wanted_keys.remove(key)
        owner, leaf, old = plan.params[column_major]
        blocks = plan.checkpoint.iter_row_blocks(key, weight_layout.BLOCK_ROWS)
        tensor = weight_layout.column_major_from_blocks(tuple(old.shape), torch.float32, blocks)
        owner._parameters[leaf] = nn.Parameter(tensor, requires_grad=old.requires_grad)
    for key, tensor in plan.checkpoint.iter_tensors(wanted_keys):
        name = by_key[key]
        if name in plan.params:
            owner, leaf, old = plan.params[name]
            wanted = plan.dtype_for(name, old)
            if tensor.dtype != wanted or tensor.device != device:
                tensor = tensor.to(device=device, dtype=wanted)
            owner._parameters[leaf] = nn.Parameter(
                tensor, requires_grad=old.requires_grad and tensor.is_floating_point()
            )
        else:
            owner, leaf, old = plan.buffers[name]
            owner._buffers[leaf] = tensor.to(device=device, dtype=plan.dtype_for(name, old))


def _column_major_slot(plan: LoadPlan) -> str | None:
    """The parameter read straight into column order (see weight_layout): the output projection's weight, or
    the parameter it is tied to, when it loads as a float32 matrix onto the CPU."""
    weight = weight_layout.output_projection_weight(plan.model)
    if weight is None or weight.dim() != 2:
        return None
    name = next((name for name, (_, _, param) in plan.params.items() if param is weight), None)
    name = plan.ties.get(name, name) if name is not None else None
    if name is None or name not in plan.matched:  # check_fit dropped a checkpoint tensor of another shape
        return None
    if not weight_layout.column_major_wanted(plan.dtype_for(name, weight), plan.device):
        return None
    return name


def _read_placed(plan: LoadPlan, keys: list[str], by_key: dict[str, str]) -> None:
    """Device map: each tensor onto its own device; parameters on disk stay unread when a safetensors file
    holds them (accelerate streams them in from that file per forward), a pickle's are kept on the CPU."""
    placement = plan.placement or {}
    on_disk = {key for key in keys if by_key[key] in plan.params and placement.get(by_key[key]) == "disk"}
    # a weight tied to one placed elsewhere (a head on disk, its embedding on a device) is read all the same
    needed = {source for target, source in plan.ties.items() if placement.get(target) != "disk"}
    if not plan.checkpoint.is_pickle:
        for key in on_disk:
            name = by_key[key]
            owner, leaf, old = plan.params[name]
            wanted = plan.dtype_for(name, old)
            plan.unread[name] = (plan.checkpoint.entries[key].file, key, wanted)
            if old.dtype != wanted:  # accelerate casts what it streams in to the parameter's dtype
                meta = torch.empty(old.shape, dtype=wanted, device="meta")
                owner._parameters[leaf] = nn.Parameter(meta, requires_grad=old.requires_grad)
        keys = [key for key in keys if key not in on_disk or by_key[key] in needed]
    for key, tensor in plan.checkpoint.iter_tensors(keys):
        name = by_key[key]
        device = plan.device_for(name)
        if name in plan.params:
            owner, leaf, old = plan.params[name]
            tensor = tensor.to(device=device, dtype=plan.dtype_for(name, old))
            owner._parameters[leaf] = nn.Parameter(
                tensor, requires_grad=old.requires_grad and tensor.is_floating_point()
            )
        else:
            owner, leaf, old = plan.buffers[name]
            owner._buffers[leaf] = tensor.to(device=device, dtype=plan.dtype_for(name, old))


def _read_shards(plan: LoadPlan, keys: list[str], by_key: dict[str, str]) -> list[str]:
    """Tensor parallelism: each split parameter gets only this rank's slices; the other keys are returned."""
    rest = []
    for key in keys:
        name = by_key[key]
        slot = plan.params.get(name)
        if slot is None or not tensor_parallel.is_sharded(slot[2]):
            rest.append(key)
            continue
        owner, leaf, old = slot
        local = tensor_parallel.read_local(
            plan.checkpoint, key, old, dtype=plan.dtype_for(name, old), device=plan.device
        )
        owner._parameters[leaf] = nn.Parameter(local, requires_grad=old.requires_grad)
        owner._parameters[leaf]._autoload_shard = getattr(old, "_autoload_shard", None)
    return rest


def materialise_missing(plan: LoadPlan) -> None:
    """Phase 6: memory and ``_init_weights`` for what the checkpoint lacks; buffers onto the device; ties."""
    cls = type(plan.model)
    plan.missing = [name for name in plan.params if name not in plan.matched and name not in plan.ties]
    tensor_parallel.check_complete(plan.missing, plan.params)
    if plan.missing:
        _initialise_missing(plan.model, plan.params, plan.missing, plan=plan)
    names = {id(owner): name for name, owner in plan.modules.items()}
    for owner, leaf in plan.all_buffers:
        current = owner._buffers.get(leaf)
        if current is None:
            continue
        module_name = names.get(id(owner), "")
        wanted = plan.dtype_for(f"{module_name}.{leaf}" if module_name else leaf, current)
        device = plan.device_for(f"{module_name}.{leaf}" if module_name else leaf)
        if current.device != device or current.dtype != wanted:
            owner._buffers[leaf] = current.to(device=device, dtype=wanted)
    for target, source in plan.ties.items():
        _tie(plan.modules, target, source)
    plan.model.tie_weights()
    if plan.placement is not None and not plan.checkpoint.is_pickle:
        for target, source in plan.ties.items():  # a tied copy placed on disk is served from its source's file
            key = plan.matched.get(source)
            if key is not None and plan.placement.get(target) == "disk" and target not in plan.unread:
                file = plan.checkpoint.entries[key].file
                plan.unread[target] = (file, key, plan.dtype_for(target, plan.params[target][2]))
    still_meta = [
        name
        for name, (owner, leaf, _) in plan.params.items()
        if owner._parameters[leaf].device.type == "meta" and name not in plan.unread
    ]
    if still_meta:
        raise CheckpointError(f"{cls.__name__} was left with parameters holding no data: {_format_names(still_meta)}.")


def report(plan: LoadPlan) -> dict[str, list[Any]]:
    """Phase 7: the loading info, and one warning listing what did not fit."""
    cls = type(plan.model)
    mismatched_names = {name for name, _, _ in plan.mismatched}
    missing_report = [name for name in plan.missing if name not in mismatched_names]
    missing_report += [name for name in plan.buffers if name not in plan.matched and name not in mismatched_names]
    unexpected = plan.unexpected
    if cls._keys_to_ignore_on_load_missing:
        patterns = [re.compile(p) for p in cls._keys_to_ignore_on_load_missing]
        missing_report = [n for n in missing_report if not any(p.search(n) for p in patterns)]
    if cls._keys_to_ignore_on_load_unexpected:
        patterns = [re.compile(p) for p in cls._keys_to_ignore_on_load_unexpected]
        unexpected = [k for k in unexpected if not any(p.search(k) for p in patterns)]

    if missing_report or unexpected or plan.mismatched:
        lines = [f"Loading {cls.__name__} from {plan.checkpoint.source}:"]
        if missing_report:
            lines.append(f"  missing from the checkpoint, initialised fresh: {_format_names(missing_report)}")
        if unexpected:
            lines.append(f"  in the checkpoint but not used: {_format_names(unexpected)}")
        if plan.mismatched:
            shapes = [f"{name} (checkpoint {list(old)}, model {list(new)})" for name, old, new in plan.mismatched]
            lines.append(f"  shape mismatch, initialised fresh: {_format_names(shapes)}")
        logger.warning("\n".join(lines))
    return {
        "missing_keys": missing_report,
        "unexpected_keys": unexpected,
        "mismatched_keys": plan.mismatched,
        "error_msgs": [],
    }


#: Loading is refused when fewer than this share of the model's parameters find a checkpoint tensor
#: while more than this share of the checkpoint's tensors find no parameter.
_ARCHITECTURE_MATCH_THRESHOLD = 0.5


def _check_architecture_fits(
    cls: type,
    checkpoint: _weights.Checkpoint,
    matched: Mapping[str, str],
    unexpected: list[str],
    params: Mapping[str, Any],
    ties: Mapping[str, str],
    ignore: bool,
) -> None:
    """Refuse weights of another architecture: a model left almost wholly random is not a load that worked.

    A head missing from a base checkpoint (a classifier) leaves most
    parameters matched, and a base model loaded from a checkpoint with a head
    leaves only the head's tensors unused; both pass.  Only when most of the
    model and most of the checkpoint miss each other is it an error.
    """
    loadable = [name for name in params if name not in ties]
    if ignore or not checkpoint.entries or not loadable:
        return
    matched_share = sum(1 for name in loadable if name in matched) / len(loadable)
    unused_share = len(unexpected) / len(checkpoint.entries)
    if matched_share >= _ARCHITECTURE_MATCH_THRESHOLD or unused_share <= _ARCHITECTURE_MATCH_THRESHOLD:
        return
    raise CheckpointError(
        f"Checkpoint {checkpoint.source} does not fit {cls.__name__}: almost none of the checkpoint's tensors match "
        f"the model ({len(matched)} of {len(checkpoint.entries)} used; {len(loadable) - len(matched)} of "
        f"{len(loadable)} parameters would stay randomly initialised; unused: {_format_names(unexpected, 5)}). The "
        "weights belong to another architecture than config.json says. Load the checkpoint with the config it was "
        "saved with, or pass ignore_architecture_mismatch=True to load it anyway."
    )


@torch.no_grad()
def _initialise_missing(
    model: PreTrainedModel,
    params: Mapping[str, tuple[nn.Module, str, nn.Parameter]],
    missing: list[str],
    *,
    plan: LoadPlan,
) -> None:
    """Give missing parameters memory and run ``_init_weights`` on the modules that own them.

    A module that owns both missing and loaded parameters has its loaded ones
    swapped out while ``_init_weights`` runs, so they keep the checkpoint's
    values.  The fallback value is zero, for parameters ``_init_weights``
    does not touch.
    """
    owners: dict[int, tuple[nn.Module, set[str]]] = {}
    for name in missing:
        owner, leaf, old = params[name]
        fresh = torch.zeros(old.shape, dtype=plan.dtype_for(name, old), device=plan.device_for(name))
        owner._parameters[leaf] = nn.Parameter(fresh, requires_grad=old.requires_grad and fresh.is_floating_point())
        owners.setdefault(id(owner), (owner, set()))[1].add(leaf)
    for owner, fresh_leaves in owners.values():
        kept = {
            leaf: param for leaf, param in owner._parameters.items() if param is not None and leaf not in fresh_leaves
        }
        for leaf, param in kept.items():
            owner._parameters[leaf] = nn.Parameter(torch.empty_like(param), requires_grad=param.requires_grad)
        try:
            model._init_weights(owner)
        finally:
            owner._parameters.update(kept)


def _pop_init_kwargs(cls: type, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Take the keyword arguments that the model class's constructor accepts besides ``config``."""
    try:
        parameters = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return {}
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    accepted = {name for name, p in parameters.items() if name not in ("self", "config") and p.kind in named}
    return {name: kwargs.pop(name) for name in list(kwargs) if name in accepted}
