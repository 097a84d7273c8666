"""model_type -> classes: runtime registrations first, then installed plugins.

The Auto classes ask this module, never the discovery layer directly, so the
precedence rule lives in one place: a class registered with ``register()``
wins over what an entry point declares.
"""

from __future__ import annotations

import difflib
import threading
from typing import Any

from autoload.architecture import (
    GENERIC_TOKENIZER,
    GENERIC_TOKENIZER_NAMES,
    PROCESSING_KINDS,
    Architecture,
    import_reference,
)
from autoload.discovery import Discovery, get_discovery
from autoload.errors import (
    ClassResolutionError,
    PluginConflictError,
    PluginLoadError,
    RegistrationError,
    TaskNotSupportedError,
    UnknownModelTypeError,
)
from autoload.tasks import AUTO_CLASS_BY_TASK


class Registry:
    def __init__(self, discovery: Discovery | None = None) -> None:
        self._discovery = discovery
        self._lock = threading.RLock()
        self._configs: dict[str, type] = {}
        self._models: dict[tuple[str, str], type] = {}
        self._processing: dict[tuple[str, str], type] = {}
        self._imported: dict[str, Any] = {}

    @property
    def discovery(self) -> Discovery:
        return self._discovery if self._discovery is not None else get_discovery()

    # -- runtime registration -------------------------------------------------

    def register_config(self, model_type: str, config_class: type, *, exist_ok: bool = False) -> None:
        declared = getattr(config_class, "model_type", None)
        if declared != model_type:
            raise RegistrationError(
                f"{config_class.__name__}.model_type is {declared!r}, but it is being registered as "
                f"{model_type!r}; set model_type = {model_type!r} on the class (they must be equal)."
            )
        with self._lock:
            existing = self._configs.get(model_type)
            if existing is config_class:
                return
            if not exist_ok:
                if existing is not None:
                    raise RegistrationError(
                        f"Model type {model_type!r} is already registered with {existing.__name__}; "
                        "pass exist_ok=True to replace it."
                    )
                sources = self.discovery.sources(model_type)
                if sources:
                    raise RegistrationError(
                        f"Model type {model_type!r} is already served by the installed plugin "
                        f"{sources[0].distribution}; pass exist_ok=True to override it in this process."
                    )
            self._configs[model_type] = config_class

    def register_model(self, task: str, config_class: type, model_class: type, *, exist_ok: bool = False) -> None:
        model_config_class = getattr(model_class, "config_class", None)
        if model_config_class is not None and model_config_class is not config_class:
            raise RegistrationError(
                f"{model_class.__name__}.config_class is "
                f"{getattr(model_config_class, '__name__', model_config_class)}, "
                f"but it is being registered for {config_class.__name__}; set config_class = "
                f"{config_class.__name__} on the model class (they must be the same class)."
            )
        model_type = self._model_type_of(config_class)
        with self._lock:
            key = (model_type, task)
            existing = self._models.get(key)
            if existing is model_class:
                return
            if existing is not None and not exist_ok:
                raise RegistrationError(
                    f"{AUTO_CLASS_BY_TASK[task]} already has {existing.__name__} registered for "
                    f"{config_class.__name__}; pass exist_ok=True to replace it."
                )
            self._models[key] = model_class

    def register_processing(
        self, kind: str, config_class: type | str, processing_class: type, *, exist_ok: bool = False
    ) -> None:
        model_type = config_class if isinstance(config_class, str) else self._model_type_of(config_class)
        with self._lock:
            key = (kind, model_type)
            existing = self._processing.get(key)
            if existing is not None and existing is not processing_class and not exist_ok:
                raise RegistrationError(
                    f"A {kind.replace('_', ' ')} ({existing.__name__}) is already registered for model type "
                    f"{model_type!r}; pass exist_ok=True to replace it."
                )
            self._processing[key] = processing_class

    @staticmethod
    def _model_type_of(config_class: type) -> str:
        model_type = getattr(config_class, "model_type", None)
        if not isinstance(model_type, str) or not model_type:
            raise RegistrationError(f"{config_class!r} has no model_type; register a PretrainedConfig subclass.")
        return model_type

    # -- lookups ----------------------------------------------------------------

    def known_model_types(self) -> list[str]:
        return sorted(set(self._configs) | set(self.discovery.model_types()))

    def architecture(self, model_type: str) -> Architecture | None:
        return self.discovery.architecture(model_type)

    def _resolve(self, reference: str) -> Any:
        found = self._imported.get(reference)
        if found is None:
            found = import_reference(reference)
            self._imported[reference] = found
        return found

    def _resolve_declared(self, model_type: str, label: str, reference: str) -> Any:
        try:
            return self._resolve(reference)
        except Exception as exc:
            sources = self.discovery.sources(model_type)
            where = sources[0].describe() if sources else "a runtime registration"
            raise PluginLoadError(
                f"{label} {reference!r} of model type {model_type!r}, declared by {where}, cannot be imported: "
                f"{type(exc).__name__}: {exc}. Reinstall the plugin or install what it needs."
            ) from exc

    def config_class(self, model_type: str, *, config_dict: dict[str, Any] | None = None) -> type:
        registered = self._configs.get(model_type)
        if registered is not None:
            return registered
        architecture = self.architecture(model_type)
        if architecture is None:
            raise self.unknown_model_type(model_type, config_dict=config_dict)
        return self._resolve_declared(model_type, "Config class", architecture.config)

    def model_class(self, model_type: str, task: str) -> type:
        registered = self._models.get((model_type, task))
        if registered is not None:
            return registered
        if model_type in self._configs:
            architecture = self._architecture_or_none(model_type)
        else:
            architecture = self.architecture(model_type)
            if architecture is None:
                raise self.unknown_model_type(model_type)
        if architecture is not None and task in architecture.models:
            return self._resolve_declared(model_type, f"Model class for task {task!r}", architecture.models[task])
        declared = self.declared_tasks(model_type)
        supporting = [other for other in self._types_supporting(task) if other != model_type]
        raise TaskNotSupportedError(
            f"Model type {model_type!r} does not declare the task {task!r} ({AUTO_CLASS_BY_TASK[task]}). "
            f"It declares: {', '.join(f'{t} ({AUTO_CLASS_BY_TASK[t]})' for t in declared) or 'no model classes'}. "
            + (
                f"Installed architectures with {task!r}: {', '.join(self._served_by(other) for other in supporting)}."
                if supporting
                else f"No installed plugin declares {task!r}."
            )
        )

    def _architecture_or_none(self, model_type: str) -> Architecture | None:
        try:
            return self.architecture(model_type)
        except (PluginLoadError, PluginConflictError):
            return None

    def declared_tasks(self, model_type: str) -> list[str]:
        tasks = {task for (registered_type, task) in self._models if registered_type == model_type}
        architecture = self._architecture_or_none(model_type)
        if architecture is not None:
            tasks |= set(architecture.models)
        return [task for task in AUTO_CLASS_BY_TASK if task in tasks]

    def _types_supporting(self, task: str) -> list[str]:
        """Model types that support ``task``: runtime registrations and every installed plugin.

        Plugins not loaded yet are loaded for this (their declaration modules
        only, which import nothing heavy); a plugin that fails to load is left
        out here and reported when its own model type is asked for.
        """
        found = {model_type for (model_type, registered_task) in self._models if registered_task == task}
        loaded, _faults = self.discovery.load_all()
        for model_type, architecture in loaded.items():
            if task in architecture.models:
                found.add(model_type)
        return sorted(found)

    def _served_by(self, model_type: str) -> str:
        """``model_type`` with the distribution that serves it, for messages."""
        sources = [] if model_type in self._configs else self.discovery.sources(model_type)
        return f"{model_type} ({sources[0].distribution})" if len(sources) == 1 else model_type

    def generic_tokenizer(self) -> type:
        """The host's tokenizer for a plain ``tokenizer.json`` (for checkpoints whose plugin declares none)."""
        return self._resolve(GENERIC_TOKENIZER)

    def processing_class(self, kind: str, model_type: str) -> type | None:
        """The ``kind`` (tokenizer, image_processor, ...) class of ``model_type``, or ``None`` if it declares none."""
        registered = self._processing.get((kind, model_type))
        if registered is not None:
            return registered
        architecture = self.architecture(model_type)
        if architecture is None:
            if model_type in self._configs:
                return None
            raise self.unknown_model_type(model_type)
        reference = getattr(architecture, kind)
        if reference is None:
            return None
        return self._resolve_declared(model_type, kind.replace("_", " ").capitalize() + " class", reference)

    def processing_class_by_name(self, kind: str, class_name: str, *, hint_model_type: str | None = None) -> type:
        """Find the ``kind`` class that answers to ``class_name`` (as recorded in a saved file).

        The checkpoint's own model type is tried first; only when it does not
        answer are the other plugins loaded and asked.  The host's generic
        tokenizer names (``TokenizersBackend``, ``PreTrainedTokenizerFast``)
        are the host's own and never searched for among plugins.
        """
        if kind == "tokenizer" and class_name in GENERIC_TOKENIZER_NAMES:
            return self._resolve(GENERIC_TOKENIZER)
        wanted = {class_name}
        if class_name.endswith("Fast"):
            wanted.add(class_name[: -len("Fast")])
        else:
            wanted.add(class_name + "Fast")
        for (registered_kind, _model_type), cls in self._processing.items():
            if registered_kind == kind and cls.__name__ in wanted:
                return cls
        order: list[str] = []
        if hint_model_type is not None:
            order.append(hint_model_type)
        order.extend(model_type for model_type in self.discovery.model_types() if model_type not in order)
        for model_type in order:
            architecture = self._architecture_or_none(model_type)
            if architecture is not None and wanted & set(architecture.processing_names(kind)):
                return self._resolve_declared(
                    model_type, kind.replace("_", " ").capitalize() + " class", getattr(architecture, kind)
                )
        raise ClassResolutionError(
            f"No installed plugin provides the {kind.replace('_', ' ')} class {class_name!r} named in the checkpoint. "
            f"Installed model types: {', '.join(self.known_model_types()) or 'none'}."
        )

    # -- errors -------------------------------------------------------------------

    def unknown_model_type(self, model_type: str, *, config_dict: dict[str, Any] | None = None) -> Exception:
        from autoload.errors import RemoteCodeError

        known = self.known_model_types()
        suggestion = f"pip install autoload-plugin-{model_type}"
        disabled = [source for source in self.discovery.disabled_sources() if source.model_type == model_type]
        if disabled:
            names = " and ".join(f"{source.distribution} {source.version}" for source in disabled)
            return UnknownModelTypeError(
                f"Model type {model_type!r} is served by the installed plugin {names}, but it is disabled by "
                f"{self.discovery.disabled_because()}; or register classes by hand with AutoConfig.register / "
                "AutoModel.register."
            )
        if config_dict is not None and config_dict.get("auto_map"):
            return RemoteCodeError(
                f"This checkpoint's model type {model_type!r} is not provided by any installed plugin, and its "
                "config asks (auto_map) to run Python code shipped with the checkpoint. autoload never runs code "
                f"from a checkpoint: install the plugin for it instead ({suggestion}), or register the classes "
                "yourself with AutoConfig.register / AutoModel.register."
            )
        close = difflib.get_close_matches(model_type, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        return UnknownModelTypeError(
            f"Unknown model type {model_type!r}: no installed plugin provides it. Install it with `{suggestion}` "
            f"(or the plugin that serves it).{hint} Installed model types: {', '.join(known) or 'none'}."
        )


_registry = Registry()


def get_registry() -> Registry:
    return _registry


def set_registry(registry: Registry) -> Registry:
    """Replace the process-wide registry (the testing kit's isolation); returns the previous one."""
    global _registry
    previous, _registry = _registry, registry
    return previous


__all__ = ["PROCESSING_KINDS", "Registry", "get_registry", "set_registry"]
