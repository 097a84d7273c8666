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

import copy
import logging
import os
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

import torch
from torch import nn

from autoload import _model_guards
from autoload import weights as _weights
from autoload.configuration import PretrainedConfig
from autoload.errors import CheckpointError, ConfigError, ParallelismError
from autoload.hub import HubOptions
from autoload.modeling import device_map as _device_map
from autoload.modeling import resizing as _resizing
from autoload.modeling import tensor_parallel
from autoload.modeling import weight_layout as _weight_layout
from autoload.modeling._meta import (
    _META_PARAMETERS_PER_ENTRY,
    _META_PARAMETERS_SLACK,
    _building_on_meta,
    _construct,
    _parameters_on_meta,
)
from autoload.modeling.layers import checkpointing as _checkpointing
from autoload.modeling.loading import (
    _as_dtype,
    _check_attn_implementation,
    _declared_ties,
    _dtype_name,
    _format_names,
    _load_checkpoint,
    _load_dtype,
    _pop_init_kwargs,
    _tie,
    _tied_targets,
    float32_names,
)

logger = logging.getLogger("autoload")

_ModelT = TypeVar("_ModelT", bound="PreTrainedModel")


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
    #: Names of submodules whose parameters and buffers stay float32 when the model is loaded in
    #: float16/bfloat16 (a name matches a whole dotted component of the module path, as in transformers).
    #: Buffers a module lists in its own ``_keep_in_fp32_buffers`` (rotary ``inv_freq``) stay float32 too,
    #: also through ``model.to(torch.bfloat16)``, ``.half()`` and ``.bfloat16()``.
    _keep_in_fp32_modules: ClassVar[list[str] | None] = None
    #: True when the layer stacks keep a ``gradient_checkpointing`` flag and run their layers through
    #: :func:`autoload.modeling.layers.run_layer`; enables :meth:`gradient_checkpointing_enable`.
    supports_gradient_checkpointing: ClassVar[bool] = False
    #: Class names of modules that ``device_map="auto"`` never splits over two devices (a decoder layer, whose
    #: residual connections span it); gathered from every model class in the tree, as transformers does.
    _no_split_modules: ClassVar[list[str] | None] = None
    # Marks autoload models for host code that must not import this module (weight tying).
    _is_autoload_model: ClassVar[bool] = True

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
        device_map = self.__dict__.get("hf_device_map")
        if device_map:  # dispatched: where inputs go, even when the first weights are offloaded (on meta)
            return _device_map.main_device(device_map)
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

    def resize_token_embeddings(
        self, new_num_tokens: int | None = None, pad_to_multiple_of: int | None = None, mean_resizing: bool = True
    ) -> nn.Embedding:
        """Give the vocabulary ``new_num_tokens`` rows (rounded up to ``pad_to_multiple_of``); returns the embeddings.

        The input embeddings and the output projection (when the model has one)
        are resized together and stay tied; ``config.vocab_size`` follows.  New
        rows are drawn around the old rows' mean and covariance
        (``mean_resizing=True``, transformers' default) or by ``_init_weights``.
        """
        embeddings = self.get_input_embeddings()
        current = embeddings.weight.shape[0]
        target = _resizing.padded_size(new_num_tokens, current, pad_to_multiple_of)
        if target is None:
            return embeddings
        if target < 1:
            raise ConfigError(f"resize_token_embeddings needs a positive number of tokens, not {target}.")
        requires_grad = embeddings.weight.requires_grad
        resized = _resizing.resize_embedding(
            embeddings, target, mean_resizing=mean_resizing, init_weights=self._init_weights
        )
        resized.requires_grad_(requires_grad)
        self.set_input_embeddings(resized)
        head = self.get_output_embeddings()
        if head is not None:
            head_requires_grad = head.weight.requires_grad
            if isinstance(head, nn.Embedding):
                new_head = _resizing.resize_embedding(
                    head, target, mean_resizing=mean_resizing, init_weights=self._init_weights
                )
            else:
                new_head = _resizing.resize_linear_head(
                    head, target, mean_resizing=mean_resizing, init_weights=self._init_weights
                )
            new_head.requires_grad_(head_requires_grad)
            if new_head is not head:
                self.set_output_embeddings(new_head)
        vocab_size = self.get_input_embeddings().weight.shape[0]
        text_config = self.config.get_text_config() if hasattr(self.config, "get_text_config") else self.config
        text_config.vocab_size = vocab_size
        self.vocab_size = vocab_size
        self.tie_weights()
        _weight_layout.settle(self)
        _resizing.pad_output_bias(self.get_output_embeddings())
        _model_guards.check_embedding_indices(self)
        return self.get_input_embeddings()

    def get_encoder(self) -> nn.Module:
        """The encoder of an encoder-decoder model (``self.encoder``), else the base model's, else the model."""
        if isinstance(getattr(self, "encoder", None), nn.Module) and hasattr(self, "decoder"):
            return self.encoder
        base = self._delegate()
        if base is not None and hasattr(base, "get_encoder"):
            return base.get_encoder()
        return self

    def get_decoder(self) -> nn.Module:
        """The decoder stack generation and adapters attach to: a ``decoder``-like attribute, else the base model's."""
        for name in ("language_model", "text_model", "decoder", "text_decoder"):
            found = getattr(self, name, None)
            if isinstance(found, nn.Module):
                return found
        base = self._delegate()
        if base is not None:
            return base.get_decoder()
        return self

    def set_decoder(self, decoder: nn.Module) -> None:
        for name in ("language_model", "text_model", "decoder"):
            if isinstance(getattr(self, name, None), nn.Module):
                setattr(self, name, decoder)
                return
        base = self._delegate()
        if base is None:
            raise NotImplementedError(f"{type(self).__name__} has no decoder to replace.")
        base.set_decoder(decoder)

    # -- training helpers -------------------------------------------------------------

    def enable_input_require_grads(self) -> None:
        """Make the input embeddings' output require grad, so adapters (LoRA) on a frozen model can
        backpropagate through reentrant gradient checkpointing."""
        self.disable_input_require_grads()

        def require_grads(module: nn.Module, inputs: Any, output: torch.Tensor) -> None:
            output.requires_grad_(True)

        self._require_grads_hook = self.get_input_embeddings().register_forward_hook(require_grads)

    def disable_input_require_grads(self) -> None:
        hook = self.__dict__.pop("_require_grads_hook", None)
        if hook is not None:
            hook.remove()

    def gradient_checkpointing_enable(self, gradient_checkpointing_kwargs: dict[str, Any] | None = None) -> None:
        """Recompute each layer's activations in the backward pass instead of keeping them (less memory, more time).

        ``gradient_checkpointing_kwargs`` go to ``torch.utils.checkpoint.checkpoint``
        (default ``{"use_reentrant": False}``).  Takes effect in train mode.
        """
        if not type(self).supports_gradient_checkpointing:
            raise ConfigError(
                f"{type(self).__name__} does not support gradient checkpointing (its class does not set "
                "supports_gradient_checkpointing = True)."
            )
        if not _checkpointing.set_gradient_checkpointing(self, True, gradient_checkpointing_kwargs):
            raise ConfigError(
                f"{type(self).__name__} declares supports_gradient_checkpointing, but none of its modules has a "
                "`gradient_checkpointing` flag: its layer stack must keep one and run layers through "
                "autoload.modeling.layers.run_layer."
            )
        if (gradient_checkpointing_kwargs or {}).get("use_reentrant", False):
            # Reentrant checkpointing only backpropagates into inputs that require grad.
            self.enable_input_require_grads()

    def gradient_checkpointing_disable(self) -> None:
        if type(self).supports_gradient_checkpointing:
            _checkpointing.set_gradient_checkpointing(self, False)

    activation_checkpointing_enable = gradient_checkpointing_enable
    activation_checkpointing_disable = gradient_checkpointing_disable

    @property
    def is_gradient_checkpointing(self) -> bool:
        return any(getattr(module, "gradient_checkpointing", False) for module in self.modules())

    def _apply(self, fn: Any, recurse: bool = True) -> Any:
        # ``.to(dtype)``, ``.half()``, ``.bfloat16()`` cast every floating buffer; buffers a module
        # declares float32 (``_keep_in_fp32_buffers``) get their float32 values back on the new device
        # when the cast was to half precision (a float64 cast is the user's explicit wish).
        pinned = [
            (module, leaf, buffer)
            for module in self.modules()
            for leaf in getattr(module, "_keep_in_fp32_buffers", ()) or ()
            if isinstance(buffer := module._buffers.get(leaf), torch.Tensor) and buffer.dtype == torch.float32
        ]
        result = super()._apply(fn, recurse)
        for module, leaf, original in pinned:
            moved = module._buffers.get(leaf)
            if isinstance(moved, torch.Tensor) and moved.dtype in (torch.float16, torch.bfloat16):
                module._buffers[leaf] = original.to(device=moved.device)
        # a cast keeps the output projection's memory order, which is slow in half precision (weight_layout)
        _weight_layout.settle(self)
        return result

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
        _weight_layout.settle(self)
        # token ids outside an embedding: a ModelInputError naming the id and the size (autoload._model_guards)
        _model_guards.check_embedding_indices(self)

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
            if target in (torch.float16, torch.bfloat16):
                _keep_declared_float32(model)
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
        ignore_architecture_mismatch: bool = False,
        use_safetensors: bool | None = None,
        allow_pickle: bool = False,
        revision: str | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        token: str | bool | None = None,
        local_files_only: bool = False,
        force_download: bool = False,
        subfolder: str = "",
        torch_dtype: str | torch.dtype | None = None,
        device_map: str | int | torch.device | Mapping[str, str | int | torch.device] | None = None,
        max_memory: Mapping[int | str, int | str] | None = None,
        offload_folder: str | os.PathLike[str] | None = None,
        offload_buffers: bool = False,
        offload_state_dict: bool | None = None,
        low_cpu_mem_usage: bool | None = None,
        tp_plan: str | Mapping[str, str] | None = None,
        tp_size: int | None = None,
        device_mesh: Any = None,
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

        When almost none of the checkpoint's tensors fit the model (weights of
        another architecture under this config), loading is a
        ``CheckpointError``; ``ignore_architecture_mismatch=True`` loads anyway,
        with the unused tensors reported and the model's initialised fresh.

        ``tp_plan="auto"`` (under ``torchrun``) splits the model over the ranks
        of the process group with the plan its plugin declares (or a
        ``{module pattern: style}`` dict); each rank reads only its own slices of
        the weights.  ``tp_size``/``device_mesh`` choose the ranks.  See
        :mod:`autoload.modeling.tensor_parallel` and docs/tensor-parallel.md.

        ``device_map="auto"`` (or ``"balanced"``, ``"balanced_low_0"``,
        ``"sequential"``, bounded by ``max_memory``) or a ``{module name:
        device | "cpu" | "disk"}`` dict spreads the model over this machine's
        accelerators, CPU memory and disk with accelerate's dispatch (the extra
        ``autoload-core[accelerate]``).  Weights are read straight onto their
        module's device; those on disk stay in the checkpoint's safetensors
        files and are streamed in per forward (others to ``offload_folder``).
        ``model.hf_device_map`` records the placement.  See
        :mod:`autoload.modeling.device_map`.

        Only safetensors is read by default.  A pickled ``pytorch_model.bin``
        is read only with ``use_safetensors=False, allow_pickle=True``, and
        then with ``torch.load(weights_only=True)``.
        """
        # transformers' older and alternative spellings: torch_dtype is dtype;
        # a single-device device_map is device; loading is always low-memory
        # (weights come from the memory map, so no state dict needs offloading).
        del low_cpu_mem_usage, offload_state_dict
        dtype = torch_dtype if dtype is None else dtype
        spread_map = _spread_map(device_map, device, tp_plan, max_memory)
        if device is None and device_map is not None and spread_map is None:
            device = _device_map.single_device(device_map)
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
        # Buffers and temporaries are real even then: their allocations are bounded by the checkpoint's size.
        owner = f"{cls.__name__} (config of {os.fspath(pretrained_model_name_or_path)})"
        budget = _model_guards.bounded_allocations(owner, _model_guards.checkpoint_bytes(checkpoint.entries))
        with _parameters_on_meta(limit), budget:
            model = _construct(cls, config, init_kwargs, pretrained_model_name_or_path)
        if tp_plan is not None:
            target_device = _shard_for_tensor_parallel(model, tp_plan, tp_size, device_mesh, device)
        placement, unread = None, None
        if spread_map is not None:
            keep = float32_names(model) if target_dtype in (torch.float16, torch.bfloat16) else ()
            spread_map = _device_map.resolve(
                model, spread_map, max_memory=max_memory, dtype=target_dtype, keep_fp32=keep
            )
            placement, unread = _device_map.expand(spread_map, model), {}
            target_device = _device_map.main_device(spread_map)
        info = _load_checkpoint(
            model,
            checkpoint,
            dtype=target_dtype,
            device=target_device,
            ignore_mismatched_sizes=ignore_mismatched_sizes,
            ignore_architecture_mismatch=ignore_architecture_mismatch,
            placement=placement,
            unread=unread,
        )
        if spread_map is not None:
            index = _device_map.offload_index(model, placement, unread, offload_folder)
            _device_map.dispatch(
                model, spread_map, index, offload_folder=offload_folder, offload_buffers=offload_buffers
            )
        else:  # a head initialised fresh or read from a pickle: the loader reads a file's straight into its order
            _weight_layout.settle(model)
        config.dtype = _dtype_name(target_dtype)
        model.name_or_path = os.fspath(pretrained_model_name_or_path)
        load_generation_config = getattr(model, "_load_generation_config", None)  # heads with GenerationMixin
        if load_generation_config is not None:
            load_generation_config(pretrained_model_name_or_path, options)
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
        if state_dict is None and _device_map.is_offloaded(self):
            state = _device_map.gathered_state_dict(self)  # offloaded weights streamed back in, module by module
        if any(tensor_parallel.is_sharded(tensor) for tensor in state.values()):
            gathered = tensor_parallel.gathered_state_dict(self, state)  # a collective: every rank gathers
            if gathered is None:  # one rank writes the checkpoint
                return
            state = gathered
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
                extra_files={"config.json": self.config.to_json_string(), **_generation_files(self)},
                total_parameters=self.num_parameters(),
            )
        except RuntimeError as exc:
            if "share memory" not in str(exc):
                raise
            raise CheckpointError(
                f"Cannot save {type(self).__name__}: some parameters share memory without being declared in "
                f"_tied_weights_keys ({exc})."
            ) from exc


def _shard_for_tensor_parallel(
    model: PreTrainedModel, tp_plan: str | Mapping[str, str], tp_size: int | None, device_mesh: Any, device: Any
) -> torch.device:
    """Split the meta-built model's planned modules over the mesh; return where this rank's slices go."""
    if tp_plan == "auto":
        plan = tensor_parallel.declared_plan(model)
        if not plan:
            raise ParallelismError(
                f"tp_plan='auto': the {model.config.model_type} plugin declares no tensor-parallel plan for "
                f"{type(model).__name__}. Load it on one device, or pass tp_plan={{module pattern: style}}."
            )
    elif isinstance(tp_plan, Mapping):
        plan = tensor_parallel.user_plan(model, tp_plan)
    else:
        raise ParallelismError(f"tp_plan must be 'auto' or a dict of module patterns to styles, not {tp_plan!r}.")
    # A tied head and its embedding share one weight: both stay whole rather than split two ways.
    ties = _declared_ties(dict(model.named_modules()))
    tied = {name.rpartition(".")[0] for pair in ties.items() for name in pair}
    plan = {name: style for name, style in plan.items() if name not in tied}
    mesh = tensor_parallel.device_mesh_for(device_mesh, tp_size, device)
    tensor_parallel.check_divisible(model, plan, mesh.size())
    tensor_parallel.shard_on_meta(model, mesh, plan)
    model.device_mesh = mesh
    return tensor_parallel.rank_device(mesh)


def _spread_map(device_map: Any, device: Any, tp_plan: Any, max_memory: Any) -> Any:
    """The device map when it spreads the model (a strategy or a dict of several places), else None;
    refuses the combinations that cannot work before any file is read."""
    if device_map is None or _device_map.single_device(device_map) is not None:
        if max_memory is not None:
            raise ParallelismError(
                "max_memory only applies with device_map='auto' (or 'balanced', 'balanced_low_0', 'sequential')."
            )
        return None
    if device is not None:
        raise ParallelismError(f"Pass either device={device!r} (one device) or device_map (several), not both.")
    if tp_plan is not None:
        raise ParallelismError(
            "device_map and tp_plan cannot be combined: tensor parallelism already places each rank's slices on "
            "that rank's device. Use tp_plan under torchrun, or device_map in one process."
        )
    _device_map.require_accelerate()
    return device_map


def _keep_declared_float32(model: PreTrainedModel) -> None:
    """Parameters of ``_keep_in_fp32_modules`` back to float32 after a cast to half precision."""
    keep = float32_names(model)
    if not keep:
        return
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name in keep and param.is_floating_point() and param.dtype != torch.float32:
                param.data = param.data.float()


def _generation_files(model: PreTrainedModel) -> dict[str, str]:
    """``generation_config.json`` of a head with GenerationMixin, saved in the same atomic set as the weights."""
    files = getattr(model, "_generation_files", None)
    return files() if files is not None else {}
