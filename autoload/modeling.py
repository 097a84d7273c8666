"""PreTrainedModel: the base class every architecture's models derive from.

It brings ``from_pretrained``, ``from_config`` and ``save_pretrained`` in the
Hugging Face file layout.  Loading builds the model with its parameters on the
meta device (buffers stay real), then gives each parameter the tensor of the
memory-mapped safetensors file, cast to the requested dtype and moved to the
requested device.  So loading costs about what reading the weights costs: no
random initialisation that is thrown away, no second copy.  Only parameters
the checkpoint lacks are materialised and initialised, by the architecture's
own ``_init_weights``.

Architectures subclass it as in transformers::

    class NewModelPreTrainedModel(PreTrainedModel):
        config_class = NewModelConfig
        base_model_prefix = "new_model"

        def _init_weights(self, module): ...

    class NewModelForMaskedLM(NewModelPreTrainedModel):
        _tied_weights_keys = {"lm_head.weight": "new_model.embeddings.word_embeddings.weight"}

        def __init__(self, config):
            super().__init__(config)
            ...  # build submodules
            self.post_init()
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import logging
import os
import re
import threading
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, TypeVar

import torch
from torch import nn

from autoload import outputs as _outputs
from autoload import weights as _weights
from autoload.configuration import PretrainedConfig
from autoload.errors import AutoloadError, CheckpointError, ConfigError
from autoload.hub import HubOptions
from autoload.outputs import (
    BaseModelOutput,
    BaseModelOutputWithPooling,
    BaseModelOutputWithPoolingAndCrossAttentions,
    CausalLMOutput,
    CausalLMOutputWithCrossAttentions,
    ImageClassifierOutput,
    MaskedImageModelingOutput,
    MaskedLMOutput,
    ModelOutput,
    MultipleChoiceModelOutput,
    NextSentencePredictorOutput,
    QuestionAnsweringModelOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)

logger = logging.getLogger("autoload")

ATTN_IMPLEMENTATIONS = ("sdpa", "eager")

_ModelT = TypeVar("_ModelT", bound="PreTrainedModel")

# -- building with parameters on the meta device ------------------------------
#
# A global parameter-registration hook turns every parameter registered while
# the current thread is inside ``_parameters_on_meta()`` into a meta tensor.
# It is installed once and consults a thread-local depth, so a model built
# normally in another thread at the same moment is unaffected.  Buffers are
# untouched: they keep the real values the constructor computed.

_local = threading.local()
_hook_lock = threading.Lock()
_hook_installed = False


def _building_on_meta() -> bool:
    return getattr(_local, "meta_depth", 0) > 0


def _parameter_to_meta(module: nn.Module, name: str, param: nn.Parameter | None) -> nn.Parameter | None:
    if param is None or not _building_on_meta():
        return None
    limit = getattr(_local, "meta_limit", None)
    if limit is not None:
        _local.meta_count += 1
        if _local.meta_count > limit:
            raise ConfigError(
                f"The config asks for a model with far more parameters than the checkpoint holds (over {limit} "
                "parameter tensors while building it); its sizes (number of layers, ...) are corrupt or hostile. "
                "Check config.json against the checkpoint it came with."
            )
    if param.device.type == "meta":
        return None
    data = param.data.to("meta")
    try:
        replacement = type(param)(data, requires_grad=param.requires_grad)
    except TypeError:
        replacement = nn.Parameter(data, requires_grad=param.requires_grad)
    replacement.__dict__.update(param.__dict__)
    return replacement


@contextlib.contextmanager
def _parameters_on_meta(limit: int | None = None) -> Iterator[None]:
    """Build with parameters on the meta device; ``limit`` bounds how many parameters may be registered.

    The bound keeps a hostile config (``num_hidden_layers: 100000000``) from
    spending hours and unbounded memory building modules that no checkpoint
    tensor will ever fill.
    """
    global _hook_installed
    if not _hook_installed:
        with _hook_lock:
            if not _hook_installed:
                nn.modules.module.register_module_parameter_registration_hook(_parameter_to_meta)
                _skip_initialisation_of_meta_tensors()
                _hook_installed = True
    saved = getattr(_local, "meta_limit", None), getattr(_local, "meta_count", 0)
    if limit is not None:
        _local.meta_limit, _local.meta_count = limit, 0
    _local.meta_depth = getattr(_local, "meta_depth", 0) + 1
    try:
        yield
    finally:
        _local.meta_depth -= 1
        _local.meta_limit, _local.meta_count = saved


def _skip_initialisation_of_meta_tensors() -> None:
    """Make ``torch.nn.init`` functions return at once for a meta tensor built by this thread's load.

    Layers initialise their parameters in their constructors
    (``nn.Embedding`` calls ``init.normal_``).  On a meta tensor that has no
    values to set, yet torch routes some of these calls through its Python
    reference kernels, which import ``torch._dynamo``: close to two seconds of
    a cold process, for nothing.  Tensors on real devices, and meta tensors
    outside a load, are initialised as always.
    """
    import functools

    def skipping(function: Any) -> Any:
        @functools.wraps(function)
        def initialise(tensor: Any, *args: Any, **kwargs: Any) -> Any:
            if _building_on_meta() and getattr(tensor, "is_meta", False):
                return tensor
            return function(tensor, *args, **kwargs)

        initialise.__autoload_skips_meta__ = True  # type: ignore[attr-defined]
        return initialise

    for name in dir(nn.init):
        function = getattr(nn.init, name)
        is_initialiser = name.endswith("_") and not name.startswith("_") and callable(function)
        if is_initialiser and not getattr(function, "__autoload_skips_meta__", False):
            setattr(nn.init, name, skipping(function))


#: A model may have this many parameter tensors per checkpoint tensor, plus the slack,
#: before ``from_pretrained`` stops building it (heads the checkpoint lacks fit easily).
_META_PARAMETERS_PER_ENTRY = 8
_META_PARAMETERS_SLACK = 10_000

# What a model constructor raises when its config holds impossible sizes
# (negative dimensions, zero heads, allocations beyond the address space).
_CONSTRUCTION_ERRORS = (ArithmeticError, AttributeError, LookupError, MemoryError, RuntimeError, TypeError, ValueError)


def _construct(cls: type[_ModelT], config: PretrainedConfig, init_kwargs: dict[str, Any], source: Any) -> _ModelT:
    """``cls(config)``, with a config the constructor cannot use reported as a :class:`ConfigError`."""
    try:
        return cls(config, **init_kwargs)
    except AutoloadError:
        raise
    except _CONSTRUCTION_ERRORS as exc:
        where = f" (config of {os.fspath(source)})" if source is not None else ""
        raise ConfigError(
            f"{cls.__name__} could not be built from its config{where}: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}. The config's sizes or settings are invalid for this "
            "architecture."
        ) from exc


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
        if not isinstance(module, PreTrainedModel):
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


# -- the base class ---------------------------------------------------------------


class PreTrainedModel(nn.Module):
    """Base class of every model: loading, saving, weight initialisation and tying."""

    #: The configuration class of the architecture.
    config_class: ClassVar[type[PretrainedConfig]] = PretrainedConfig
    #: Attribute name of the base model inside head models (``"bert"``).
    base_model_prefix: ClassVar[str] = ""
    #: Name of the main input of ``forward`` (``"input_ids"``, ``"pixel_values"``...).
    main_input_name: ClassVar[str] = "input_ids"
    #: Target parameter name -> source parameter name, tied when ``config.tie_word_embeddings``.
    _tied_weights_keys: ClassVar[Mapping[str, str] | None] = None
    #: Regexes of parameter names that may be missing from a checkpoint without a warning.
    _keys_to_ignore_on_load_missing: ClassVar[list[str] | None] = None
    #: Regexes of checkpoint keys that may be unused without a warning.
    _keys_to_ignore_on_load_unexpected: ClassVar[list[str] | None] = None
    #: Names of state-dict entries never written by ``save_pretrained``.
    _keys_to_ignore_on_save: ClassVar[list[str] | None] = None
    #: ``(regex, replacement)`` pairs applied to checkpoint keys that match no parameter.
    _checkpoint_key_renames: ClassVar[tuple[tuple[str, str], ...]] = ()

    def __init__(self, config: PretrainedConfig, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        if not isinstance(config, PretrainedConfig):
            raise TypeError(
                f"{type(self).__name__} needs a PretrainedConfig as its first argument, got {type(config).__name__}. "
                f"Build one with {self.config_class.__name__}(...) or load a model with "
                f"{type(self).__name__}.from_pretrained(...)."
            )
        self.config = config
        self.name_or_path = config.name_or_path

    # -- properties ---------------------------------------------------------------

    @property
    def base_model(self) -> nn.Module:
        return getattr(self, self.base_model_prefix, self) if self.base_model_prefix else self

    @property
    def device(self) -> torch.device:
        for param in self.parameters():
            return param.device
        for buffer in self.buffers():
            return buffer.device
        return torch.device("cpu")

    @property
    def dtype(self) -> torch.dtype:
        """dtype of the floating-point parameters (of any parameter if none floats)."""
        first = None
        for param in self.parameters():
            if param.is_floating_point():
                return param.dtype
            first = first or param.dtype
        return first or torch.float32

    def num_parameters(self, only_trainable: bool = False, exclude_embeddings: bool = False) -> int:
        """Number of parameters, tied ones counted once (as transformers counts)."""
        excluded: set[int] = set()
        if exclude_embeddings:
            excluded = {id(module.weight) for module in self.modules() if isinstance(module, nn.Embedding)}
        return sum(
            param.numel()
            for param in self.parameters()
            if id(param) not in excluded and (param.requires_grad or not only_trainable)
        )

    # -- embeddings -----------------------------------------------------------------

    def _delegate(self) -> PreTrainedModel | None:
        base = self.base_model
        return base if base is not self and isinstance(base, PreTrainedModel) else None

    def get_input_embeddings(self) -> nn.Module:
        base = self._delegate()
        if base is None:
            raise NotImplementedError(f"{type(self).__name__} does not define get_input_embeddings().")
        return base.get_input_embeddings()

    def set_input_embeddings(self, value: nn.Module) -> None:
        base = self._delegate()
        if base is None:
            raise NotImplementedError(f"{type(self).__name__} does not define set_input_embeddings().")
        base.set_input_embeddings(value)

    def get_output_embeddings(self) -> nn.Module | None:
        return None

    def set_output_embeddings(self, value: nn.Module) -> None:
        raise NotImplementedError(f"{type(self).__name__} has no output embeddings to set.")

    # -- initialisation and tying ---------------------------------------------------

    def _init_weights(self, module: nn.Module) -> None:
        """Initialise one module's own parameters; architectures override or extend this.

        The default covers the common layers the way transformers' default
        does: normal(0, ``initializer_range``) for linear, convolution and
        embedding weights, zeros for biases and padding rows, ones and zeros
        for normalisation layers.
        """
        std = getattr(self.config, "initializer_range", None) or 0.02
        if isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d)):
            if module.weight is not None:
                nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.padding_idx is not None:
                with torch.no_grad():
                    module.weight[module.padding_idx].zero_()
        elif isinstance(module, (nn.LayerNorm, nn.GroupNorm, nn.BatchNorm1d, nn.BatchNorm2d)) or (
            "LayerNorm" in type(module).__name__ or "RMSNorm" in type(module).__name__
        ):
            weight, bias = getattr(module, "weight", None), getattr(module, "bias", None)
            if isinstance(weight, torch.Tensor):
                nn.init.ones_(weight)
            if isinstance(bias, torch.Tensor):
                nn.init.zeros_(bias)

    @torch.no_grad()
    def init_weights(self) -> None:
        """(Re-)initialise every module with ``_init_weights``, then tie weights."""
        if _building_on_meta():
            return
        for module in self.modules():
            self._init_weights(module)
            module.__dict__["_autoload_initialized"] = True
        self.tie_weights()

    @torch.no_grad()
    def post_init(self) -> None:
        """Call at the end of ``__init__``: initialises new modules, then ties weights.

        Initialisation is skipped while ``from_pretrained`` builds the model on
        the meta device; modules already initialised by a nested model's own
        ``post_init`` are not initialised twice.
        """
        if not _building_on_meta():
            for module in self.modules():
                if not module.__dict__.get("_autoload_initialized", False):
                    self._init_weights(module)
                    module.__dict__["_autoload_initialized"] = True
        self.tie_weights()

    def tie_weights(self) -> None:
        """Make each ``_tied_weights_keys`` target the very same Parameter as its source."""
        modules = dict(self.named_modules())
        for target, source in _declared_ties(modules).items():
            _tie(modules, target, source)

    # -- loading ------------------------------------------------------------------------

    @classmethod
    def from_config(
        cls: type[_ModelT],
        config: PretrainedConfig,
        *,
        dtype: str | torch.dtype | None = None,
        attn_implementation: str | None = None,
        torch_dtype: str | torch.dtype | None = None,
        **kwargs: Any,
    ) -> _ModelT:
        """A randomly initialised model (train mode, as in transformers)."""
        dtype = torch_dtype if dtype is None else dtype
        init_kwargs = _pop_init_kwargs(cls, kwargs)
        if kwargs:
            raise TypeError(
                f"{cls.__name__}.from_config got unexpected keyword arguments: {', '.join(sorted(kwargs))}."
            )
        if not isinstance(config, PretrainedConfig):
            raise TypeError(f"{cls.__name__}.from_config needs a PretrainedConfig, got {type(config).__name__}.")
        config = copy.deepcopy(config)
        attn = _check_attn_implementation(attn_implementation)
        config._attn_implementation = attn or _check_attn_implementation(config._attn_implementation) or "sdpa"
        target = None if dtype is None or dtype == "auto" else _as_dtype(dtype)
        model = _construct(cls, config, init_kwargs, None)
        if target is not None and target != torch.float32:
            model.to(target)
        config.dtype = _dtype_name(model.dtype)
        return model

    @classmethod
    def from_pretrained(
        cls: type[_ModelT],
        pretrained_model_name_or_path: str | os.PathLike[str],
        *,
        config: PretrainedConfig | str | os.PathLike[str] | None = None,
        dtype: str | torch.dtype | None = None,
        device: str | int | torch.device | None = None,
        attn_implementation: str | None = None,
        output_loading_info: bool = False,
        ignore_mismatched_sizes: bool = False,
        use_safetensors: bool | None = None,
        allow_pickle: bool = False,
        revision: str | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        token: str | bool | None = None,
        local_files_only: bool = False,
        force_download: bool = False,
        subfolder: str = "",
        torch_dtype: str | torch.dtype | None = None,
        device_map: str | int | torch.device | None = None,
        low_cpu_mem_usage: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        """Load a model from a checkpoint folder or a Hub repo id.

        ``dtype``: None loads float32 (transformers' default), ``"auto"`` the
        config's dtype (else the checkpoint's), or any floating dtype
        (``torch.bfloat16``, ``"float16"``); ``torch_dtype`` is accepted as its
        old name.  Other keyword arguments override config attributes; one that
        names no attribute is a ``TypeError``.  The model is returned in eval
        mode; with ``output_loading_info=True`` as ``(model, info)`` where info
        lists missing, unexpected and mismatched keys.

        Only safetensors is read by default.  A pickled ``pytorch_model.bin``
        is read only with ``use_safetensors=False, allow_pickle=True``, and
        then with ``torch.load(weights_only=True)``.
        """
        # transformers' older and alternative spellings: torch_dtype is dtype;
        # a single-device device_map is device; loading is always low-memory.
        del low_cpu_mem_usage
        dtype = torch_dtype if dtype is None else dtype
        if device is None and device_map is not None:
            if not isinstance(device_map, (str, int, torch.device)) or device_map == "auto":
                raise ConfigError(
                    f"device_map={device_map!r} is not supported: autoload loads a model onto one device; "
                    "pass device='cuda:0' (or 'cpu') instead."
                )
            device = device_map
        legacy_options = HubOptions.pop_from(kwargs)
        options = HubOptions(
            revision=revision,
            cache_dir=cache_dir,
            token=token if token is not None else legacy_options.token,
            local_files_only=local_files_only,
            force_download=force_download,
            subfolder=subfolder or "",
        )
        attn = _check_attn_implementation(attn_implementation)
        if dtype is not None and dtype != "auto":
            _as_dtype(dtype)  # fail before any file is read
        init_kwargs = _pop_init_kwargs(cls, kwargs)
        config = cls._config_for_loading(pretrained_model_name_or_path, config, options, kwargs)
        checkpoint = _weights.open_checkpoint(
            pretrained_model_name_or_path, options, use_safetensors=use_safetensors, allow_pickle=allow_pickle
        )
        target_dtype = _load_dtype(dtype, config, checkpoint)
        config._attn_implementation = attn or _check_attn_implementation(config._attn_implementation) or "sdpa"
        target_device = torch.device("cpu") if device is None else torch.device(device)

        # However large a model the config describes, no more than a bounded multiple of the
        # checkpoint's tensors is ever built: the rest could never be loaded anyway.
        limit = _META_PARAMETERS_PER_ENTRY * len(checkpoint.entries) + _META_PARAMETERS_SLACK
        with _parameters_on_meta(limit):
            model = _construct(cls, config, init_kwargs, pretrained_model_name_or_path)
        info = _load_checkpoint(
            model, checkpoint, dtype=target_dtype, device=target_device, ignore_mismatched_sizes=ignore_mismatched_sizes
        )
        config.dtype = _dtype_name(target_dtype)
        model.name_or_path = os.fspath(pretrained_model_name_or_path)
        model.eval()
        return (model, info) if output_loading_info else model

    @classmethod
    def _config_for_loading(
        cls,
        path: str | os.PathLike[str],
        config: PretrainedConfig | str | os.PathLike[str] | None,
        options: HubOptions,
        overrides: dict[str, Any],
    ) -> PretrainedConfig:
        if config is None or isinstance(config, (str, os.PathLike)):
            source = path if config is None else config
            loaded, unused = cls.config_class.from_pretrained(
                source, return_unused_kwargs=True, **options.as_kwargs(), **overrides
            )
        elif isinstance(config, PretrainedConfig):
            loaded, unused = copy.deepcopy(config), {}
            for key, value in overrides.items():
                if hasattr(loaded, key):
                    setattr(loaded, key, value)
                else:
                    unused[key] = value
        else:
            raise TypeError(f"config must be a PretrainedConfig or a path, not {type(config).__name__}.")
        if unused:
            raise TypeError(
                f"{cls.__name__}.from_pretrained got unexpected keyword arguments: {', '.join(sorted(unused))}. "
                f"They are neither loading options nor attributes of {type(loaded).__name__}."
            )
        return loaded

    # -- saving -----------------------------------------------------------------------

    def save_pretrained(
        self,
        save_directory: str | os.PathLike[str],
        *,
        max_shard_size: int | str = "5GB",
        safe_serialization: bool = True,
        state_dict: Mapping[str, torch.Tensor] | None = None,
    ) -> None:
        """Write ``config.json`` and safetensors weights (sharded above ``max_shard_size``), atomically.

        Tied parameters are written once, under their source name.  A failed
        save leaves an earlier checkpoint in the folder intact.
        """
        if not safe_serialization:
            raise CheckpointError(
                "autoload writes safetensors only: pickled checkpoints cannot be loaded without the risk of running "
                "code. Leave safe_serialization=True."
            )
        directory = os.fspath(save_directory)
        if os.path.isfile(directory):
            raise CheckpointError(f"save_pretrained needs a folder, but {directory} is a file.")
        state = dict(self.state_dict() if state_dict is None else state_dict)
        for target in _tied_targets(self):
            state.pop(target, None)
        for name in self._keys_to_ignore_on_save or ():
            state.pop(name, None)
        meta = [name for name, tensor in state.items() if tensor.device.type == "meta"]
        if meta:
            raise CheckpointError(
                f"Cannot save {type(self).__name__}: {_format_names(meta)} hold no data (meta device)."
            )

        self.config.architectures = [type(self).__name__]
        self.config.dtype = _dtype_name(self.dtype)
        try:
            _weights.write_checkpoint(
                directory,
                state,
                max_shard_size=max_shard_size,
                extra_files={"config.json": self.config.to_json_string()},
                total_parameters=self.num_parameters(),
            )
        except RuntimeError as exc:
            if "share memory" not in str(exc):
                raise
            raise CheckpointError(
                f"Cannot save {type(self).__name__}: some parameters share memory without being declared in "
                f"_tied_weights_keys ({exc})."
            ) from exc


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


def _load_checkpoint(
    model: PreTrainedModel,
    checkpoint: _weights.Checkpoint,
    *,
    dtype: torch.dtype,
    device: torch.device,
    ignore_mismatched_sizes: bool,
) -> dict[str, list[Any]]:
    """Give a meta-built model the checkpoint's tensors; initialise only what is missing."""
    cls = type(model)
    # One walk over the model collects every slot a tensor can go into.
    modules: dict[str, nn.Module] = {}
    params: dict[str, tuple[nn.Module, str, nn.Parameter]] = {}
    buffers: dict[str, tuple[nn.Module, str, torch.Tensor]] = {}
    all_buffers: list[tuple[nn.Module, str]] = []
    groups: dict[int, list[str]] = {}
    for module_name, module in model.named_modules(remove_duplicate=False):
        modules[module_name] = module
        base = f"{module_name}." if module_name else ""
        for leaf, param in module._parameters.items():
            if param is not None:
                params[base + leaf] = (module, leaf, param)
                groups.setdefault(id(param), []).append(base + leaf)
        for leaf, buffer in module._buffers.items():
            if buffer is None:
                continue
            all_buffers.append((module, leaf))
            if leaf not in module._non_persistent_buffers_set:
                buffers[base + leaf] = (module, leaf, buffer)

    # Tied parameters: target -> source.  Declared ties, plus any parameter the
    # constructor shared between two places.
    ties = _declared_ties(modules)
    sources = set(ties.values())
    for names in groups.values():
        if len(names) > 1:
            keep = next((name for name in names if name in sources), names[0])
            for name in names:
                if name != keep:
                    ties.setdefault(name, keep)
    ties = {target: source for target, source in ties.items() if target in params and source in params}

    # Match checkpoint keys to parameter names: as they are, then with the
    # base-model prefix added or stripped, then under their legacy spelling.
    entries = checkpoint.entries
    prefix = cls.base_model_prefix
    add_prefix = strip_prefix = False
    if prefix:
        model_has_base = isinstance(model._modules.get(prefix), nn.Module)
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

    known = params.keys() | buffers.keys()
    matched: dict[str, str] = {}  # model name -> checkpoint key
    unmatched: list[str] = []
    for key in entries:
        name = to_model_name(key)
        if name in known and name not in matched:
            matched[name] = key
        else:
            unmatched.append(key)
    unexpected: list[str] = []
    renames = _renames_for(cls)
    for key in unmatched:
        name = to_model_name(_renamed(key, renames))
        if name in known and name not in matched:
            matched[name] = key
        else:
            unexpected.append(key)
    for target, source in ties.items():
        key = matched.pop(target, None)
        if key is not None and source not in matched:
            matched[source] = key  # only the tied copy was saved: it feeds the source

    # Check shapes and dtypes from the headers, before reading any data.
    mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = []
    bad_dtypes: list[str] = []
    for name, key in list(matched.items()):
        entry = entries[key]
        slot = params[name][2] if name in params else buffers[name][2]
        if entry.shape != tuple(slot.shape):
            mismatched.append((name, entry.shape, tuple(slot.shape)))
            del matched[name]
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
    if mismatched and not ignore_mismatched_sizes:
        details = [f"{name}: checkpoint {list(old)} vs model {list(new)}" for name, old, new in mismatched]
        raise CheckpointError(
            f"Checkpoint {checkpoint.source} does not fit {cls.__name__}: shapes differ for "
            f"{_format_names(details, 5)}. Pass ignore_mismatched_sizes=True to initialise those parameters fresh."
        )

    # Read the tensors, in file order, straight into the parameters.
    by_key = {key: name for name, key in matched.items()}
    for key, tensor in checkpoint.iter_tensors([key for key in entries if key in by_key]):
        name = by_key[key]
        if name in params:
            owner, leaf, old = params[name]
            wanted = dtype if old.is_floating_point() else old.dtype
            if tensor.dtype != wanted or tensor.device != device:
                tensor = tensor.to(device=device, dtype=wanted)
            owner._parameters[leaf] = nn.Parameter(
                tensor, requires_grad=old.requires_grad and tensor.is_floating_point()
            )
        else:
            owner, leaf, old = buffers[name]
            wanted = dtype if old.is_floating_point() else old.dtype
            owner._buffers[leaf] = tensor.to(device=device, dtype=wanted)

    # Materialise and initialise what the checkpoint lacks, module by module.
    missing = [name for name in params if name not in matched and name not in ties]
    if missing:
        _initialise_missing(model, params, missing, dtype=dtype, device=device)
    for owner, leaf in all_buffers:
        current = owner._buffers.get(leaf)
        if current is None:
            continue
        wanted = dtype if current.is_floating_point() else current.dtype
        if current.device != device or current.dtype != wanted:
            owner._buffers[leaf] = current.to(device=device, dtype=wanted)
    for target, source in ties.items():
        _tie(modules, target, source)
    model.tie_weights()
    still_meta = [name for name, (owner, leaf, _) in params.items() if owner._parameters[leaf].device.type == "meta"]
    if still_meta:
        raise CheckpointError(f"{cls.__name__} was left with parameters holding no data: {_format_names(still_meta)}.")

    mismatched_names = {name for name, _, _ in mismatched}
    missing_report = [name for name in missing if name not in mismatched_names]
    missing_report += [name for name in buffers if name not in matched and name not in mismatched_names]
    if cls._keys_to_ignore_on_load_missing:
        patterns = [re.compile(p) for p in cls._keys_to_ignore_on_load_missing]
        missing_report = [n for n in missing_report if not any(p.search(n) for p in patterns)]
    if cls._keys_to_ignore_on_load_unexpected:
        patterns = [re.compile(p) for p in cls._keys_to_ignore_on_load_unexpected]
        unexpected = [k for k in unexpected if not any(p.search(k) for p in patterns)]

    if missing_report or unexpected or mismatched:
        lines = [f"Loading {cls.__name__} from {checkpoint.source}:"]
        if missing_report:
            lines.append(f"  missing from the checkpoint, initialised fresh: {_format_names(missing_report)}")
        if unexpected:
            lines.append(f"  in the checkpoint but not used: {_format_names(unexpected)}")
        if mismatched:
            shapes = [f"{name} (checkpoint {list(old)}, model {list(new)})" for name, old, new in mismatched]
            lines.append(f"  shape mismatch, initialised fresh: {_format_names(shapes)}")
        logger.warning("\n".join(lines))
    return {
        "missing_keys": missing_report,
        "unexpected_keys": unexpected,
        "mismatched_keys": mismatched,
        "error_msgs": [],
    }


@torch.no_grad()
def _initialise_missing(
    model: PreTrainedModel,
    params: Mapping[str, tuple[nn.Module, str, nn.Parameter]],
    missing: list[str],
    *,
    dtype: torch.dtype,
    device: torch.device,
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
        wanted = dtype if old.is_floating_point() else old.dtype
        fresh = torch.zeros(old.shape, dtype=wanted, device=device)
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


# Every output class of autoload.outputs is available from here too, including
# ones added after this list was written.
for _name, _value in vars(_outputs).items():
    if isinstance(_value, type) and issubclass(_value, ModelOutput):
        globals().setdefault(_name, _value)

__all__ = [
    "ATTN_IMPLEMENTATIONS",
    "BaseModelOutput",
    "BaseModelOutputWithPooling",
    "BaseModelOutputWithPoolingAndCrossAttentions",
    "CausalLMOutput",
    "CausalLMOutputWithCrossAttentions",
    "ImageClassifierOutput",
    "MaskedImageModelingOutput",
    "MaskedLMOutput",
    "ModelOutput",
    "MultipleChoiceModelOutput",
    "NextSentencePredictorOutput",
    "PreTrainedModel",
    "QuestionAnsweringModelOutput",
    "SequenceClassifierOutput",
    "TokenClassifierOutput",
]
__all__ += sorted(
    name
    for name, value in vars(_outputs).items()
    if isinstance(value, type) and issubclass(value, ModelOutput) and name not in __all__
)


def _pop_init_kwargs(cls: type, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Take the keyword arguments that the model class's constructor accepts besides ``config``."""
    try:
        parameters = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return {}
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    accepted = {name for name, p in parameters.items() if name not in ("self", "config") and p.kind in named}
    return {name: kwargs.pop(name) for name in list(kwargs) if name in accepted}
