"""What every preprocessor shares: settings as attributes, read from and written to Hugging Face json files.

Feature extractors and image processors keep their settings in
``preprocessor_config.json`` (one flat object) or, in transformers' newer
layout, nested under their part name in ``processor_config.json``.
:class:`PreprocessorBase` is the machinery both kinds build on.
"""

from __future__ import annotations

import copy
import inspect
import json
import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from autoload import files
from autoload.errors import ConfigError, FileResolutionError, ProcessingError
from autoload.hub import HubOptions, describe, resolve_file

logger = logging.getLogger("autoload")

PREPROCESSOR_NAME = "preprocessor_config.json"
PROCESSOR_NAME = "processor_config.json"
FEATURE_EXTRACTOR_NAME = IMAGE_PROCESSOR_NAME = PREPROCESSOR_NAME

# -- JSON helpers --------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """Plain JSON types from settings that may hold tuples, numpy values or enums."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)  # IntEnum -> int
    if isinstance(value, float):
        return float(value)
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars, torch tensors
        return jsonable(value.tolist())
    return value


def read_json(path: str, what: str) -> dict[str, Any]:
    return files.read_json_object(path, what=what)


def load_part_settings(
    path_or_repo: str | os.PathLike[str], nested_keys: Sequence[str], options: HubOptions, what: str
) -> tuple[dict[str, Any], str]:
    """Find the settings of one processing part; returns them and the file they came from.

    ``processor_config.json`` wins when it holds the part under one of
    ``nested_keys`` (what ``ProcessorMixin.save_pretrained`` writes);
    otherwise ``preprocessor_config.json`` is read.  A path to a json file is
    read directly (nested or flat).
    """
    source = os.fspath(path_or_repo)
    if os.path.isfile(source):
        data = read_json(source, what)
        for key in nested_keys:
            if isinstance(data.get(key), dict):
                return dict(data[key]), source
        return data, source
    processor_file = resolve_file(path_or_repo, PROCESSOR_NAME, options, required=False)
    if processor_file is not None:
        data = read_json(processor_file, "Processor config")
        for key in nested_keys:
            if key in data:
                if not isinstance(data[key], dict):
                    raise ConfigError(
                        f"{processor_file}: {key!r} must be a JSON object with the {what.lower()}'s settings, "
                        f"but it is a {type(data[key]).__name__}."
                    )
                return dict(data[key]), f"{processor_file} [{key!r}]"
    preprocessor_file = resolve_file(path_or_repo, PREPROCESSOR_NAME, options, required=False)
    if preprocessor_file is None:
        raise FileResolutionError(
            f"{describe(path_or_repo, options)} has no {what.lower()} settings: neither {PREPROCESSOR_NAME} nor a "
            f"{PROCESSOR_NAME} with a {' or '.join(repr(k) for k in nested_keys)} entry. "
            "Check the checkpoint includes its preprocessing files (save_pretrained of the processor writes them)."
        )
    return read_json(preprocessor_file, what), preprocessor_file


# -- the shared settings machinery ------------------------------------------------------


class PreprocessorBase:
    """Settings as attributes, loaded from and saved to the Hugging Face json layout.

    Every keyword given to ``__init__`` becomes an attribute and is saved.
    ``processor_class`` names the processor this part belongs to (for
    example ``"Wav2Vec2Processor"``): ``AutoProcessor`` reads it from the
    saved file to know which processor to build.  It is written only when
    set, and ``save_pretrained(..., processor_class=...)`` records one for a
    single save without changing the object (what ``ProcessorMixin`` does).
    """

    #: Where the settings of this kind sit in ``processor_config.json``.
    _nested_keys: ClassVar[tuple[str, ...]] = ()
    #: The key that records the class name in saved files.
    _type_key: ClassVar[str] = ""
    #: Human name used in messages.
    _what: ClassVar[str] = "Preprocessor"
    #: Saved-file keys that name a class and are dropped on load.
    _ignored_keys: ClassVar[tuple[str, ...]] = ("image_processor_type", "feature_extractor_type")
    #: Attributes never written to the json file (derived values such as filter banks).
    _unsaved_attributes: ClassVar[tuple[str, ...]] = ()
    #: Names of the inputs the model expects from this object.
    model_input_names: ClassVar[list[str]] = []

    def __init__(self, *, processor_class: str | None = None, **kwargs: Any) -> None:
        for key in self._ignored_keys:
            kwargs.pop(key, None)
        if processor_class is not None and not isinstance(processor_class, str):
            raise ConfigError(
                f"{type(self).__name__}: processor_class must be the name of a processor class, "
                f"not {processor_class!r}."
            )
        self.processor_class = processor_class
        for key, value in kwargs.items():
            try:
                setattr(self, key, value)
            except AttributeError as exc:
                raise ConfigError(f"{type(self).__name__} cannot take the setting {key!r}: {exc}") from exc

    # -- which keys a class accepts --------------------------------------------------

    @classmethod
    def _accepted_keys(cls) -> set[str]:
        """Setting names the class takes: named ``__init__`` parameters along the class chain."""
        names: set[str] = set()
        for klass in cls.__mro__:
            init = klass.__dict__.get("__init__")
            if init is None:
                continue
            try:
                parameters = inspect.signature(init).parameters.values()
            except (TypeError, ValueError):
                continue
            names.update(
                p.name for p in parameters if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
            )
        return names

    # -- building ----------------------------------------------------------------------

    @classmethod
    def from_dict(cls, settings: dict[str, Any], *, return_unused_kwargs: bool = False, **kwargs: Any) -> Any:
        """Build from a settings dict; ``kwargs`` override saved values.

        A keyword that names a saved key, a setting the class takes, or an
        attribute it ends up with overrides it; the rest come back with
        ``return_unused_kwargs=True``.
        """
        return cls._from_dict(settings, source=None, return_unused_kwargs=return_unused_kwargs, **kwargs)

    @classmethod
    def _from_dict(
        cls, settings: dict[str, Any], *, source: str | None, return_unused_kwargs: bool = False, **kwargs: Any
    ) -> Any:
        if not isinstance(settings, dict):
            raise ConfigError(f"{cls.__name__} settings must be a dict, not {type(settings).__name__}.")
        values = dict(settings)
        accepted = cls._accepted_keys()
        later: dict[str, Any] = {}
        for key, value in kwargs.items():
            if key in values or key in accepted:
                values[key] = value
            else:
                later[key] = value
        where = f" (from {source})" if source else ""
        try:
            instance = cls(**values)
        except ConfigError as exc:
            raise ConfigError(f"{exc}{where}") from exc.__cause__
        except TypeError as exc:
            raise ConfigError(f"{cls.__name__} cannot be built from these settings{where}: {exc}") from exc
        unused: dict[str, Any] = {}
        for key, value in later.items():
            if hasattr(instance, key):
                setattr(instance, key, value)
            else:
                unused[key] = value
        if unused and not return_unused_kwargs:
            logger.debug("%s ignored unknown settings %s", cls.__name__, sorted(unused))
        return (instance, unused) if return_unused_kwargs else instance

    @classmethod
    def get_config_dict(
        cls, path_or_repo: str | os.PathLike[str], **kwargs: Any
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The raw saved settings of a checkpoint (nested or flat layout), and the kwargs left over."""
        options = HubOptions.pop_from(kwargs)
        settings, _ = load_part_settings(path_or_repo, cls._nested_keys, options, cls._what)
        return settings, kwargs

    @classmethod
    def from_pretrained(cls, path_or_repo: str | os.PathLike[str], **kwargs: Any) -> Any:
        """Load from a checkpoint folder, a json file or a Hub repo id.

        Accepts the Hub options (``revision``, ``cache_dir``, ``token``,
        ``local_files_only``, ``force_download``, ``subfolder``), setting
        overrides, and ``return_unused_kwargs``.
        """
        return_unused_kwargs = kwargs.pop("return_unused_kwargs", False)
        options = HubOptions.pop_from(kwargs)
        settings, source = load_part_settings(path_or_repo, cls._nested_keys, options, cls._what)
        return cls._from_dict(settings, source=source, return_unused_kwargs=return_unused_kwargs, **kwargs)

    @classmethod
    def from_json_file(cls, path: str | os.PathLike[str]) -> Any:
        return cls._from_dict(read_json(os.fspath(path), cls._what), source=os.fspath(path))

    # -- saving ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """What the json file holds: every public setting plus the class name under the type key."""
        output = {
            key: copy.deepcopy(value)
            for key, value in vars(self).items()
            if not key.startswith("_") and key not in self._unsaved_attributes
        }
        output[self._type_key] = type(self).__name__
        if output.get("processor_class", "") is None:
            del output["processor_class"]
        return jsonable(output)

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def to_json_file(self, path: str | os.PathLike[str]) -> None:
        files.write_json(path, self.to_dict())

    def save_pretrained(
        self, save_directory: str | os.PathLike[str], *, processor_class: str | None = None, **kwargs: Any
    ) -> list[str]:
        """Write ``preprocessor_config.json`` into ``save_directory`` (atomically); returns the paths written.

        ``processor_class``, when given, is recorded in this file in place of
        the object's own (the processor saving its parts passes its name).
        """
        if kwargs.pop("push_to_hub", False):
            raise ProcessingError("push_to_hub is not supported by autoload; upload the folder with huggingface_hub.")
        if os.path.isfile(save_directory):
            raise ConfigError(f"save_pretrained needs a folder, but {save_directory} is a file.")
        os.makedirs(save_directory, exist_ok=True)
        path = os.path.join(save_directory, PREPROCESSOR_NAME)
        settings = self.to_dict()
        if processor_class is not None:
            settings["processor_class"] = processor_class
        files.write_json(path, settings)
        return [path]

    def __repr__(self) -> str:
        return f"{type(self).__name__} {self.to_json_string()}"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.to_dict() == other.to_dict()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]
