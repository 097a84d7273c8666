"""Building a model with its parameters on the meta device, so loading never initialises what it overwrites."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import Any, TypeVar

from torch import nn

from autoload.configuration import PretrainedConfig
from autoload.errors import AutoloadError, ConfigError

_ModelT = TypeVar("_ModelT")

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
