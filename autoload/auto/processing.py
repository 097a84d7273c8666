"""AutoTokenizer, AutoImageProcessor, AutoFeatureExtractor and AutoProcessor.

Each reads the class name a checkpoint recorded when it was saved
(``tokenizer_class``, ``image_processor_type``, ``feature_extractor_type``,
``processor_class``), in the older layout (``preprocessor_config.json`` and
``tokenizer_config.json``) or the newer one (``processor_config.json`` with
nested sections), and falls back to what the checkpoint's model type declares.
"""

from __future__ import annotations

import os
from typing import Any

from autoload import files
from autoload.auto.base import AutoClass, hub_options, model_type_of
from autoload.configuration import CONFIG_NAME, PretrainedConfig
from autoload.errors import ClassResolutionError, ConfigError, UnknownModelTypeError
from autoload.hub import HubOptions, describe, resolve_file
from autoload.registry import get_registry

TOKENIZER_CONFIG = "tokenizer_config.json"
TOKENIZER_FILE = "tokenizer.json"
PREPROCESSOR_CONFIG = "preprocessor_config.json"
PROCESSOR_CONFIG = "processor_config.json"


class _Checkpoint:
    """The small json files of one checkpoint, each read at most once."""

    def __init__(self, path_or_repo: str | os.PathLike[str], kwargs: dict[str, Any]) -> None:
        self.path_or_repo = path_or_repo
        self.options: HubOptions = hub_options({k: v for k, v in kwargs.items() if k in HubOptions._FIELDS})
        self._cache: dict[str, dict[str, Any] | None] = {}
        config = kwargs.pop("config", None)
        self._config_model_type = config.model_type if isinstance(config, PretrainedConfig) else None

    def json(self, filename: str) -> dict[str, Any] | None:
        if filename not in self._cache:
            path = (
                None
                if os.path.isfile(self.path_or_repo)
                else resolve_file(self.path_or_repo, filename, self.options, required=False)
            )
            self._cache[filename] = None if path is None else files.read_json_object(path, what=filename)
        return self._cache[filename]

    def model_type(self) -> str | None:
        if self._config_model_type is not None:
            return self._config_model_type
        config = self.json(CONFIG_NAME)
        return None if config is None else model_type_of(config, self.where)

    def auto_map_config(self) -> dict[str, Any] | None:
        """The first of the checkpoint's json files that carries an ``auto_map`` (a request to run its code)."""
        for filename in (CONFIG_NAME, TOKENIZER_CONFIG, PREPROCESSOR_CONFIG, PROCESSOR_CONFIG):
            try:
                data = self.json(filename)
            except ConfigError:
                continue
            if data is not None and data.get("auto_map"):
                return data
        return None

    @property
    def where(self) -> str:
        return describe(self.path_or_repo, self.options)

    def recorded_name(self, keys: tuple[str, ...], *, files: tuple[str, ...], section: str | None = None) -> str | None:
        """The first class name recorded under one of ``keys`` in ``files`` (and the nested ``section``)."""
        for filename in files:
            data = self.json(filename)
            if data is None:
                continue
            holders = [data]
            if section is not None and filename == PROCESSOR_CONFIG and isinstance(data.get(section), dict):
                holders.insert(0, data[section])
            for holder in holders:
                for key in keys:
                    value = holder.get(key)
                    if value is not None:
                        if not isinstance(value, str):
                            raise ConfigError(
                                f"{key} in {filename} of {self.where} must be a class name string, not {value!r}."
                            )
                        return value
        return None


def _resolve(kind: str, checkpoint: _Checkpoint, recorded: str | None) -> type | None:
    registry = get_registry()
    model_type = checkpoint.model_type()
    try:
        if recorded is not None:
            return registry.processing_class_by_name(kind, recorded, hint_model_type=model_type)
        if model_type is not None:
            return registry.processing_class(kind, model_type)
    except (UnknownModelTypeError, ClassResolutionError) as exc:
        # A checkpoint that ships its own code (auto_map) gets the same answer as from
        # AutoConfig and AutoModel: autoload never runs it; install the plugin instead.
        remote = checkpoint.auto_map_config()
        if remote is None:
            raise
        raise registry.unknown_model_type(model_type or recorded or "?", config_dict=remote) from exc
    return None


def _has_file(checkpoint: _Checkpoint, filename: str) -> bool:
    if os.path.isfile(checkpoint.path_or_repo):
        return os.path.basename(checkpoint.path_or_repo) == filename
    return resolve_file(checkpoint.path_or_repo, filename, checkpoint.options, required=False) is not None


def _generic_tokenizer_fits(checkpoint: _Checkpoint) -> bool:
    """A tokenizer.json is there, and the checkpoint's model type (if any) declares no tokenizer of its own."""
    model_type = checkpoint.model_type()
    if model_type is not None and get_registry().processing_class("tokenizer", model_type) is not None:
        return False
    return _has_file(checkpoint, TOKENIZER_FILE)


def _no_class(kind: str, checkpoint: _Checkpoint, looked_for: str) -> ClassResolutionError:
    return ClassResolutionError(
        f"Cannot tell which {kind.replace('_', ' ')} class {checkpoint.where} needs: {looked_for}, and "
        + (
            f"its model type {checkpoint.model_type()!r} declares no {kind.replace('_', ' ')}."
            if checkpoint.model_type() is not None
            else "it has no config.json with a model_type."
        )
    )


class AutoTokenizer(AutoClass):
    """The tokenizer class named in ``tokenizer_config.json``, else the model type's tokenizer.

    A checkpoint whose architecture declares no tokenizer, but which ships a
    ``tokenizer.json``, gets the host's generic tokenizer (``TokenizersBackend``),
    as do the generic names transformers 5 records (``TokenizersBackend``,
    ``PreTrainedTokenizerFast``) whatever the model type.
    """

    @classmethod
    def resolve_class(cls, path_or_repo: str | os.PathLike[str], **kwargs: Any) -> type:
        checkpoint = _Checkpoint(path_or_repo, dict(kwargs))
        recorded = kwargs.get("tokenizer_type") or checkpoint.recorded_name(
            ("tokenizer_class",), files=(TOKENIZER_CONFIG,)
        )
        try:
            found = _resolve("tokenizer", checkpoint, recorded)
        except ClassResolutionError:
            # A name no plugin answers to is a mismatch when the checkpoint's architecture has a tokenizer
            # of its own; otherwise a plain tokenizer.json still loads with the host's tokenizer.
            if not _generic_tokenizer_fits(checkpoint):
                raise
            return get_registry().generic_tokenizer()
        if found is None:
            if _has_file(checkpoint, TOKENIZER_FILE):
                return get_registry().generic_tokenizer()
            raise _no_class("tokenizer", checkpoint, f"{TOKENIZER_CONFIG} records no tokenizer_class")
        return found

    @classmethod
    def from_pretrained(cls, path_or_repo: str | os.PathLike[str], *inputs: Any, **kwargs: Any) -> Any:
        tokenizer_class = cls.resolve_class(path_or_repo, **kwargs)
        kwargs.pop("tokenizer_type", None)
        kwargs.pop("config", None)
        kwargs.pop("trust_remote_code", None)
        kwargs.pop("use_fast", None)
        return tokenizer_class.from_pretrained(path_or_repo, *inputs, **kwargs)

    @staticmethod
    def register(config_class: type | str, tokenizer_class: type, exist_ok: bool = False) -> None:
        get_registry().register_processing("tokenizer", config_class, tokenizer_class, exist_ok=exist_ok)


class AutoImageProcessor(AutoClass):
    """The image processor named in ``preprocessor_config.json`` / ``processor_config.json``."""

    @classmethod
    def resolve_class(cls, path_or_repo: str | os.PathLike[str], **kwargs: Any) -> type:
        checkpoint = _Checkpoint(path_or_repo, dict(kwargs))
        recorded = checkpoint.recorded_name(
            ("image_processor_type", "feature_extractor_type"),
            files=(PROCESSOR_CONFIG, PREPROCESSOR_CONFIG),
            section="image_processor",
        )
        found = _resolve("image_processor", checkpoint, recorded)
        if found is None:
            raise _no_class("image_processor", checkpoint, "no image_processor_type is recorded")
        return found

    @classmethod
    def from_pretrained(cls, path_or_repo: str | os.PathLike[str], **kwargs: Any) -> Any:
        processor_class = cls.resolve_class(path_or_repo, **kwargs)
        for key in ("config", "trust_remote_code", "use_fast"):
            kwargs.pop(key, None)
        return processor_class.from_pretrained(path_or_repo, **kwargs)

    @staticmethod
    def register(config_class: type | str, image_processor_class: type, exist_ok: bool = False) -> None:
        get_registry().register_processing("image_processor", config_class, image_processor_class, exist_ok=exist_ok)


class AutoFeatureExtractor(AutoClass):
    """The feature extractor named in ``preprocessor_config.json`` / ``processor_config.json``.

    Image processors used to be called feature extractors, and older
    checkpoints still name them so (``ViTFeatureExtractor``): such a name
    resolves to the image processor that answers to it.
    """

    @classmethod
    def resolve_class(cls, path_or_repo: str | os.PathLike[str], **kwargs: Any) -> type:
        checkpoint = _Checkpoint(path_or_repo, dict(kwargs))
        recorded = checkpoint.recorded_name(
            ("feature_extractor_type",), files=(PROCESSOR_CONFIG, PREPROCESSOR_CONFIG), section="feature_extractor"
        )
        try:
            found = _resolve("feature_extractor", checkpoint, recorded)
        except ClassResolutionError:
            if recorded is None:
                raise
            found = get_registry().processing_class_by_name(
                "image_processor", recorded, hint_model_type=checkpoint.model_type()
            )
        if found is None and checkpoint.model_type() is not None:
            found = get_registry().processing_class("image_processor", checkpoint.model_type())
        if found is None:
            raise _no_class("feature_extractor", checkpoint, "no feature_extractor_type is recorded")
        return found

    @classmethod
    def from_pretrained(cls, path_or_repo: str | os.PathLike[str], **kwargs: Any) -> Any:
        extractor_class = cls.resolve_class(path_or_repo, **kwargs)
        for key in ("config", "trust_remote_code"):
            kwargs.pop(key, None)
        return extractor_class.from_pretrained(path_or_repo, **kwargs)

    @staticmethod
    def register(config_class: type | str, feature_extractor_class: type, exist_ok: bool = False) -> None:
        get_registry().register_processing(
            "feature_extractor", config_class, feature_extractor_class, exist_ok=exist_ok
        )


class AutoProcessor(AutoClass):
    """The processor named by the checkpoint, else its model type's processor.

    A checkpoint with no processor (most text or vision-only models) gets its
    tokenizer, else its image processor, else its feature extractor, which is
    what transformers' ``AutoProcessor`` returns for them.
    """

    @classmethod
    def resolve(cls, path_or_repo: str | os.PathLike[str], **kwargs: Any) -> tuple[str, type]:
        """Which kind of class and which class ``from_pretrained`` would load."""
        checkpoint = _Checkpoint(path_or_repo, dict(kwargs))
        recorded = checkpoint.recorded_name(
            ("processor_class",), files=(PROCESSOR_CONFIG, PREPROCESSOR_CONFIG, TOKENIZER_CONFIG)
        )
        found = _resolve("processor", checkpoint, recorded)
        if found is not None:
            return "processor", found
        model_type = checkpoint.model_type()
        registry = get_registry()
        if model_type is not None:
            for kind in ("tokenizer", "image_processor", "feature_extractor"):
                found = registry.processing_class(kind, model_type)
                if found is not None:
                    return kind, found
        for kind, auto_class in (
            ("tokenizer", AutoTokenizer),
            ("image_processor", AutoImageProcessor),
            ("feature_extractor", AutoFeatureExtractor),
        ):
            try:
                return kind, auto_class.resolve_class(path_or_repo, **kwargs)
            except ClassResolutionError:
                continue
        raise _no_class("processor", checkpoint, "no processor_class, tokenizer or image processor is recorded")

    @classmethod
    def from_pretrained(cls, path_or_repo: str | os.PathLike[str], **kwargs: Any) -> Any:
        _kind, processor_class = cls.resolve(path_or_repo, **kwargs)
        for key in ("config", "trust_remote_code", "use_fast"):
            kwargs.pop(key, None)
        return processor_class.from_pretrained(path_or_repo, **kwargs)

    @staticmethod
    def register(config_class: type | str, processor_class: type, exist_ok: bool = False) -> None:
        get_registry().register_processing("processor", config_class, processor_class, exist_ok=exist_ok)
