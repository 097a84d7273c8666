"""Processors: one object that owns a tokenizer and an image processor or feature extractor.

``text`` goes to the tokenizer, ``images`` to the image processor, ``audio``
to the feature extractor; saving writes the tokenizer's files and
``processor_config.json`` (the other parts nested under their names).
"""

from __future__ import annotations

import copy
import inspect
import json
import os
from typing import Any, ClassVar

from autoload import files
from autoload.batch import BatchFeature
from autoload.errors import ConfigError, ProcessingError
from autoload.hub import HubOptions, describe, resolve_file
from autoload.processing.base import PROCESSOR_NAME, jsonable, read_json

_MODALITIES = ("image_processor", "feature_extractor", "tokenizer")

_AUDIO_KWARGS = frozenset(
    {"sampling_rate", "padding", "max_length", "truncation", "pad_to_multiple_of", "return_attention_mask"}
)


def _tokenizer_call_options() -> frozenset[str]:
    """The keywords a host tokenizer's ``__call__`` takes: the tokenizer package's one list.

    Imported on first use so that this module stays free of the ``tokenizers``
    library; without it, no host tokenizer exists and a tokenizer part's own
    signature is all there is to go by.
    """
    try:
        from autoload import tokenization
    except ImportError:
        return frozenset()
    options = getattr(tokenization, "TOKENIZER_CALL_OPTIONS", None)
    if options is None:  # the name the tokenizer package used before it exported the list
        options = getattr(tokenization, "_CALL_OPTIONS", frozenset())
    return frozenset(options)


def _modality(attribute: str) -> str:
    for modality in _MODALITIES:
        if modality in attribute:
            return modality
    raise ProcessingError(
        f"Cannot tell what the processor part {attribute!r} is: its name must contain 'tokenizer', "
        "'image_processor' or 'feature_extractor'."
    )


def _resolve_class(declared: Any, where: str) -> Any:
    """A class from a class, a ``"module:Class"`` reference, or a bare name of :mod:`autoload` (Auto classes)."""
    if isinstance(declared, type):
        return declared
    if isinstance(declared, str):
        if ":" in declared:
            from autoload.architecture import import_reference

            try:
                return import_reference(declared)
            except (ImportError, AttributeError) as exc:
                raise ProcessingError(f"{where}: cannot import {declared!r}: {exc}") from exc
        import autoload

        found = getattr(autoload, declared, None)
        if isinstance(found, type):
            return found
        raise ProcessingError(
            f"{where}: {declared!r} is neither a class nor a 'module:Class' reference autoload can import."
        )
    raise ProcessingError(f"{where} must be a class or a 'module:Class' reference, not {declared!r}.")


def _call_parameters(function: Any) -> tuple[set[str], bool]:
    """Named keyword parameters of a callable, and whether it takes ``**kwargs``."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return set(), True
    names = {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return names, any(p.kind == p.VAR_KEYWORD for p in parameters)


class ProcessorMixin:
    """One object owning a tokenizer and an image processor or a feature extractor.

    A subclass names its parts and their classes::

        class MyProcessor(ProcessorMixin):
            attributes = ("feature_extractor", "tokenizer")
            feature_extractor_class = "my_plugin.feature_extraction:MyFeatureExtractor"
            tokenizer_class = MyTokenizer   # a class works too; a tuple means "any of these"

    ``from_pretrained`` loads every part from the same checkpoint;
    ``save_pretrained`` writes the tokenizer's files and a
    ``processor_config.json`` holding the other parts' settings under their
    names (transformers' current layout; ``legacy_format=True`` writes
    ``preprocessor_config.json`` instead), and records ``processor_class``.
    ``__call__`` sends ``text`` to the tokenizer, ``images`` to the image
    processor and ``audio`` to the feature extractor.
    """

    attributes: ClassVar[tuple[str, ...]] = ()
    #: With text and audio/images together, put the text's ``input_ids`` under ``labels`` (speech recognition).
    text_as_labels: ClassVar[bool] = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        names = self.get_attributes()
        parts: dict[str, Any] = {}
        extras: dict[str, Any] = {}
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__} takes {len(names)} parts ({', '.join(names)}), got {len(args)}.")
        for name, value in zip(names, args):
            parts[name] = value
        for key, value in kwargs.items():
            if key in names:
                if key in parts:
                    raise TypeError(f"{type(self).__name__} got two values for {key!r}.")
                parts[key] = value
            else:
                extras[key] = value
        missing = [name for name in names if name not in parts]
        if missing:
            raise TypeError(f"{type(self).__name__} needs {', '.join(names)}; missing {', '.join(missing)}.")
        for name, part in parts.items():
            self._check_part(name, part)
            setattr(self, name, part)
        for key, value in extras.items():
            setattr(self, key, value)

    @classmethod
    def get_attributes(cls) -> list[str]:
        """The part names, from ``attributes`` or, failing that, from the ``<part>_class`` class attributes."""
        if cls.attributes:
            return list(cls.attributes)
        found: list[str] = []
        for klass in reversed(cls.__mro__):
            for key, value in vars(klass).items():
                if key.endswith("_class") and value is not None and key != "processor_class":
                    name = key[: -len("_class")]
                    if any(modality in name for modality in _MODALITIES) and name not in found:
                        found.append(name)
        return found

    @classmethod
    def _declared_classes(cls, name: str) -> tuple[Any, ...]:
        declared = getattr(cls, f"{name}_class", None)
        if declared is None:
            return ()
        items = declared if isinstance(declared, (tuple, list)) else (declared,)
        return tuple(_resolve_class(item, f"{cls.__name__}.{name}_class") for item in items if item is not None)

    def _check_part(self, name: str, part: Any) -> None:
        expected = [klass for klass in self._declared_classes(name) if not klass.__name__.startswith("Auto")]
        if expected and not isinstance(part, tuple(expected)):
            raise ProcessingError(
                f"{type(self).__name__}: {name} must be a {' or '.join(k.__name__ for k in expected)}, "
                f"not a {type(part).__name__}."
            )

    # -- loading ---------------------------------------------------------------------------

    @classmethod
    def _extra_init_names(cls) -> set[str]:
        names, _ = _call_parameters(cls.__init__)
        return names - set(cls.get_attributes()) - {"self"}

    @classmethod
    def from_pretrained(cls, path_or_repo: str | os.PathLike[str], **kwargs: Any) -> Any:
        """Load every part from one checkpoint (folder or Hub repo id).

        Keywords naming a part's setting override it for that part;
        ``processor_config.json`` supplies the processor's own settings.
        """
        return_unused_kwargs = kwargs.pop("return_unused_kwargs", False)
        options = HubOptions.pop_from(kwargs)
        processor_file = None
        if not os.path.isfile(path_or_repo):
            processor_file = resolve_file(path_or_repo, PROCESSOR_NAME, options, required=False)
        processor_dict = read_json(processor_file, "Processor config") if processor_file else {}
        remaining = dict(kwargs)
        parts: dict[str, Any] = {}
        tokenizer_names = []
        for name in cls.get_attributes():
            modality = _modality(name)
            if modality == "tokenizer":
                tokenizer_names.append(name)
                continue
            parts[name] = cls._load_part(name, path_or_repo, options, processor_dict, remaining)
        extra_names = cls._extra_init_names()
        extras = {key: value for key, value in processor_dict.items() if key in extra_names}
        for key in list(remaining):
            if key in extra_names:
                extras[key] = remaining.pop(key)
        for name in tokenizer_names:
            declared = cls._declared_classes(name)
            if not declared:
                raise ProcessingError(f"{cls.__name__} does not declare {name}_class.")
            hub = options.as_kwargs()
            if name != "tokenizer":  # secondary tokenizers live in a subfolder named after them
                hub["subfolder"] = os.path.join(options.subfolder, name) if options.subfolder else name
            parts[name] = declared[0].from_pretrained(path_or_repo, **hub, **remaining)
            remaining = {}
        processor = cls(**parts, **extras)
        return (processor, remaining) if return_unused_kwargs else processor

    @classmethod
    def _load_part(
        cls,
        name: str,
        path_or_repo: str | os.PathLike[str],
        options: HubOptions,
        processor_dict: dict[str, Any],
        remaining: dict[str, Any],
    ) -> Any:
        declared = cls._declared_classes(name)
        if not declared:
            raise ProcessingError(f"{cls.__name__} does not declare {name}_class.")
        part_class = declared[0]
        if name == _modality(name):
            loaded, unused = part_class.from_pretrained(
                path_or_repo, **options.as_kwargs(), return_unused_kwargs=True, **remaining
            )
        else:  # a second part of one kind exists only inside processor_config.json
            settings = processor_dict.get(name)
            if not isinstance(settings, dict):
                raise ConfigError(
                    f"{describe(path_or_repo, options)}: {PROCESSOR_NAME} has no {name!r} entry for {cls.__name__}."
                )
            loaded, unused = part_class._from_dict(
                settings, source=f"{PROCESSOR_NAME} [{name!r}]", return_unused_kwargs=True, **remaining
            )
        remaining.clear()
        remaining.update(unused)
        return loaded

    # -- saving -------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """What ``processor_config.json`` holds: non-tokenizer parts nested by name, own settings, class name."""
        output: dict[str, Any] = {}
        for name in self.get_attributes():
            if _modality(name) != "tokenizer":
                part_dict = getattr(self, name).to_dict()
                part_dict.pop("processor_class", None)
                output[name] = part_dict
        for key in self._extra_init_names():
            if key in vars(self) and key != "chat_template":
                output[key] = jsonable(copy.deepcopy(vars(self)[key]))
        output["processor_class"] = type(self).__name__
        return output

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def save_pretrained(self, save_directory: str | os.PathLike[str], *, legacy_format: bool = False) -> list[str]:
        """Save every part into ``save_directory``; returns the paths of the processing files written.

        The default layout is transformers' current one: tokenizer files plus
        ``processor_config.json`` with the other parts nested.  With
        ``legacy_format=True`` the image processor / feature extractor is
        written flat to ``preprocessor_config.json`` (with ``processor_class``)
        as older libraries expect, and ``processor_config.json`` only when the
        processor has settings of its own.
        """
        if os.path.isfile(save_directory):
            raise ConfigError(f"save_pretrained needs a folder, but {save_directory} is a file.")
        os.makedirs(save_directory, exist_ok=True)
        class_name = type(self).__name__
        written: list[str] = []
        for name in self.get_attributes():
            part = getattr(self, name)
            if _modality(name) == "tokenizer":
                target = save_directory if name == "tokenizer" else os.path.join(save_directory, name)
                written.extend(_save_part(part, target, class_name))
            elif legacy_format and name == _modality(name):
                written.extend(_save_part(part, save_directory, class_name))
        output = self.to_dict()
        if legacy_format:
            for name in self.get_attributes():
                if name == _modality(name):
                    output.pop(name, None)
        if not legacy_format or set(output) - {"processor_class"}:
            path = os.path.join(save_directory, PROCESSOR_NAME)
            files.write_json(path, output)
            written.append(path)
        return written

    # -- calling -------------------------------------------------------------------------------

    def _part_for(self, modality: str) -> Any:
        for name in self.get_attributes():
            if name == modality:
                return getattr(self, name)
        return None

    def _positional_order(self) -> list[str]:
        order = []
        for name in self.get_attributes():
            if name == "image_processor":
                order.append("images")
            elif name == "feature_extractor":
                order.append("audio")
        if "tokenizer" in self.get_attributes():
            order.append("text")
        return order

    def _kwargs_for(self, modality: str, part: Any) -> tuple[frozenset[str] | set[str], bool]:
        names, open_ended = _call_parameters(part.__call__)
        if modality == "tokenizer":
            return _tokenizer_call_options() | names, open_ended
        if modality == "image_processor":
            return set(getattr(part, "settings", ())) | {"input_data_format", "default_to_square"} | names, False
        return _AUDIO_KWARGS | names, open_ended

    def _known_by_an_idle_part(self, key: str, calls: dict[str, Any]) -> bool:
        names = {"images": "image_processor", "audio": "feature_extractor", "text": "tokenizer"}
        for input_name, modality in names.items():
            part = self._part_for(modality)
            if part is not None and input_name not in calls and key in self._kwargs_for(modality, part)[0]:
                return True
        return False

    def __call__(
        self,
        *args: Any,
        text: Any = None,
        images: Any = None,
        audio: Any = None,
        text_kwargs: dict[str, Any] | None = None,
        images_kwargs: dict[str, Any] | None = None,
        audio_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Process ``text``, ``images`` and/or ``audio`` with the matching parts.

        Positional inputs follow the parts: the audio or images first, then
        text.  A keyword goes to every called part that knows it
        (``return_tensors`` to all); per-part keywords can be given explicitly
        as ``text_kwargs``/``images_kwargs``/``audio_kwargs``.  One input
        gives that part's output; several are merged into one
        :class:`BatchFeature` (with ``text_as_labels``, the text's ids become
        ``labels``).
        """
        inputs = {"text": text, "images": images, "audio": audio}
        order = self._positional_order()
        if len(args) > len(order):
            raise TypeError(f"{type(self).__name__} takes at most {len(order)} positional inputs ({', '.join(order)}).")
        for key, value in zip(order, args):
            if inputs[key] is not None:
                raise TypeError(f"{type(self).__name__} got {key} both positionally and by keyword.")
            inputs[key] = value
        calls: dict[str, tuple[Any, dict[str, Any]]] = {}
        for key, modality, explicit in (
            ("images", "image_processor", images_kwargs),
            ("audio", "feature_extractor", audio_kwargs),
            ("text", "tokenizer", text_kwargs),
        ):
            if inputs[key] is None:
                continue
            part = self._part_for(modality)
            if part is None:
                raise ProcessingError(f"{type(self).__name__} has no {modality}, so it cannot process {key}.")
            calls[key] = (part, dict(explicit or {}))
        if not calls:
            raise ProcessingError(f"{type(self).__name__} needs at least one of {', '.join(order)}.")
        for key, value in kwargs.items():
            targets = []
            for input_name, (part, part_kwargs) in calls.items():
                modality = {"images": "image_processor", "audio": "feature_extractor", "text": "tokenizer"}[input_name]
                known, _ = self._kwargs_for(modality, part)
                if key == "return_tensors" or key in known:
                    targets.append(part_kwargs)
            if not targets:
                if self._known_by_an_idle_part(key, calls):
                    continue  # meant for a part this call does not use (sampling_rate with text only)
                if len(calls) > 1:
                    raise ProcessingError(
                        f"{type(self).__name__}: no part knows the argument {key!r}; pass it inside text_kwargs=, "
                        "images_kwargs= or audio_kwargs=."
                    )
                targets = [next(iter(calls.values()))[1]]
            for target in targets:
                target.setdefault(key, value)
        outputs = {key: part(inputs[key], **part_kwargs) for key, (part, part_kwargs) in calls.items()}
        if len(outputs) == 1:
            return next(iter(outputs.values()))
        text_output = outputs.pop("text", None)
        merged: dict[str, Any] = {}
        for output in outputs.values():
            merged.update(dict(output))
        if text_output is not None:
            if self.text_as_labels:
                merged["labels"] = text_output["input_ids"]
            else:
                merged.update(dict(text_output))
        return BatchFeature(merged)

    def batch_decode(self, *args: Any, **kwargs: Any) -> Any:
        """The tokenizer's ``batch_decode``."""
        return self._tokenizer_for("batch_decode").batch_decode(*args, **kwargs)

    def decode(self, *args: Any, **kwargs: Any) -> Any:
        """The tokenizer's ``decode``."""
        return self._tokenizer_for("decode").decode(*args, **kwargs)

    def _tokenizer_for(self, action: str) -> Any:
        tokenizer = getattr(self, "tokenizer", None)
        if tokenizer is None:
            raise ProcessingError(f"{type(self).__name__} has no tokenizer to {action} with.")
        return tokenizer

    @property
    def model_input_names(self) -> list[str]:
        names: list[str] = []
        for name in self.get_attributes():
            for input_name in getattr(getattr(self, name), "model_input_names", []):
                if input_name not in names:
                    names.append(input_name)
        return names

    def __repr__(self) -> str:
        parts = "\n".join(f"- {name}: {getattr(self, name)!r}" for name in self.get_attributes())
        return f"{type(self).__name__}:\n{parts}\n\n{self.to_json_string()}"


def _save_part(part: Any, directory: str | os.PathLike[str], processor_class: str) -> list[str]:
    """Save one part with ``processor_class`` recorded in its file, as transformers' loaders expect.

    Parts take it as a ``save_pretrained`` argument (the processing and
    tokenizer bases do).  A part written before that argument existed is
    given the name the way it was then: through its ``_set_processor_class``
    or ``init_kwargs``, which changes the part itself.
    """
    names, _ = _call_parameters(part.save_pretrained)
    if "processor_class" in names:
        result = part.save_pretrained(directory, processor_class=processor_class)
    else:
        setter = getattr(part, "_set_processor_class", None)
        init_kwargs = getattr(part, "init_kwargs", None)
        if callable(setter):
            setter(processor_class)
        elif isinstance(init_kwargs, dict):
            init_kwargs["processor_class"] = processor_class
        result = part.save_pretrained(directory)
    return [str(item) for item in result] if isinstance(result, (list, tuple)) else []
