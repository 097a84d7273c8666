"""PretrainedConfig: the model configuration, read from and written to ``config.json``.

It never imports torch: reading a config must stay cheap, because
``AutoConfig`` is also how the host learns which plugin a checkpoint needs.
The on-disk format is transformers' own, so configs move both ways.
"""

from __future__ import annotations

import copy
import inspect
import json
import logging
import math
import os
from typing import Any, ClassVar

from autoload import files
from autoload.errors import ConfigError
from autoload.hub import HubOptions, describe, resolve_file

logger = logging.getLogger("autoload")

CONFIG_NAME = "config.json"

# Attributes every config has, with transformers' defaults, so that code
# written against transformers' configs finds them.
_COMMON_DEFAULTS: dict[str, Any] = {
    "return_dict": True,
    "output_hidden_states": False,
    "output_attentions": False,
    "tie_word_embeddings": True,
    "chunk_size_feed_forward": 0,
    "is_encoder_decoder": False,
    "is_decoder": False,
    "add_cross_attention": False,
    "architectures": None,
    "finetuning_task": None,
    "tokenizer_class": None,
    "prefix": None,
    "bos_token_id": None,
    "pad_token_id": None,
    "eos_token_id": None,
    "sep_token_id": None,
    "decoder_start_token_id": None,
    "problem_type": None,
    "task_specific_params": None,
}

_PROBLEM_TYPES = ("regression", "single_label_classification", "multi_label_classification")


def _dtype_name(value: Any) -> str | None:
    """Normalise a dtype given as ``torch.float16``, ``"torch.float16"`` or ``"float16"``."""
    if value is None:
        return None
    text = str(value)
    return text.removeprefix("torch.")


class PretrainedConfig:
    """Base class of every model configuration.

    Subclasses set ``model_type`` and take their own fields as keyword
    arguments with defaults, then pass the rest on::

        class NewModelConfig(PretrainedConfig):
            model_type = "new-model"

            def __init__(self, hidden_size=32, **kwargs):
                self.hidden_size = hidden_size
                super().__init__(**kwargs)

    Keys a config does not know are kept as attributes and written back, so a
    checkpoint saved by a newer version loses nothing.
    """

    model_type: ClassVar[str] = ""
    #: Other names for attributes (``{"num_classes": "num_labels"}``).
    attribute_map: ClassVar[dict[str, str]] = {}

    def __setattr__(self, key: str, value: Any) -> None:
        key = type(self).attribute_map.get(key, key)
        super().__setattr__(key, value)

    def __getattr__(self, key: str) -> Any:
        # Only reached when normal lookup failed.
        mapped = type(self).attribute_map.get(key)
        if mapped is not None:
            return getattr(self, mapped)
        raise AttributeError(f"{type(self).__name__} has no attribute {key!r}")

    def __init__(self, **kwargs: Any) -> None:
        for name, default in _COMMON_DEFAULTS.items():
            setattr(self, name, kwargs.pop(name, copy.deepcopy(default)))

        dtype = kwargs.pop("dtype", None)
        legacy_dtype = kwargs.pop("torch_dtype", None)
        self.dtype = _dtype_name(dtype if dtype is not None else legacy_dtype)

        id2label = kwargs.pop("id2label", None)
        label2id = kwargs.pop("label2id", None)
        num_labels = kwargs.pop("num_labels", None)
        if id2label is not None:
            self.id2label = {int(key): str(value) for key, value in dict(id2label).items()}
            if num_labels is not None and num_labels != len(self.id2label):
                logger.warning(
                    "num_labels=%s disagrees with the %d entries of id2label; using id2label.",
                    num_labels,
                    len(self.id2label),
                )
        else:
            self.id2label = _generated_labels(2 if num_labels is None else num_labels, type(self).__name__)
        if label2id is not None and {str(k): int(v) for k, v in dict(label2id).items()} != {
            label: index for index, label in self.id2label.items()
        }:
            logger.debug("label2id in the config disagrees with id2label; rebuilding it from id2label.")
        self.label2id = {label: index for index, label in self.id2label.items()}

        if self.problem_type is not None and self.problem_type not in _PROBLEM_TYPES:
            raise ConfigError(f"problem_type must be one of {', '.join(_PROBLEM_TYPES)}, not {self.problem_type!r}.")

        self._attn_implementation: str | None = kwargs.pop("attn_implementation", None)
        for obsolete in ("transformers_version", "autoload_version", "_name_or_path", "_commit_hash"):
            kwargs.pop(obsolete, None)
        if kwargs.get("model_type") not in (None, self.model_type) and self.model_type:
            logger.warning(
                "Config with model_type %r is being read as %s (model_type %r).",
                kwargs["model_type"],
                type(self).__name__,
                self.model_type,
            )
        kwargs.pop("model_type", None)
        self.name_or_path: str = str(kwargs.pop("name_or_path", ""))
        for key, value in kwargs.items():
            setattr(self, key, value)

    # -- labels ---------------------------------------------------------------

    @property
    def num_labels(self) -> int:
        return len(self.id2label)

    @num_labels.setter
    def num_labels(self, count: int) -> None:
        if getattr(self, "id2label", None) is None or len(self.id2label) != count:
            self.id2label = _generated_labels(count, type(self).__name__)
            self.label2id = {label: index for index, label in self.id2label.items()}

    @property
    def use_return_dict(self) -> bool:
        return bool(self.return_dict)

    # -- dict and json --------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Every public attribute, plus ``model_type``; what ``config.json`` holds."""
        output = {key: copy.deepcopy(value) for key, value in vars(self).items() if not key.startswith("_")}
        output.pop("name_or_path", None)
        output["model_type"] = self.model_type
        output["id2label"] = {str(key): value for key, value in self.id2label.items()}
        return output

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def to_json_file(self, path: str | os.PathLike[str]) -> None:
        files.write_json(path, self.to_dict())

    def __repr__(self) -> str:
        return f"{type(self).__name__} {self.to_json_string()}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PretrainedConfig) and type(self) is type(other) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def from_dict(
        cls, config_dict: dict[str, Any], *, return_unused_kwargs: bool = False, **kwargs: Any
    ) -> PretrainedConfig | tuple[PretrainedConfig, dict[str, Any]]:
        """Build a config from a ``config.json``-style dict; ``kwargs`` override attributes.

        Overrides naming an attribute the config does not have are returned
        with ``return_unused_kwargs=True`` (and otherwise ignored), as in
        transformers: ``from_pretrained`` of a model passes its leftovers here.
        """
        if not isinstance(config_dict, dict):
            raise ConfigError(f"A config must be a dict, not {type(config_dict).__name__}.")
        cls._check_field_types(config_dict)
        try:
            config = cls(**config_dict)
        except ConfigError:
            raise
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            raise ConfigError(f"{cls.__name__} cannot be built from this config: {exc}") from exc
        unused: dict[str, Any] = {}
        for key, value in kwargs.items():
            if key in ("dtype", "torch_dtype"):
                config.dtype = _dtype_name(value)
            elif key == "num_labels":
                config.num_labels = value
            elif hasattr(config, key):
                setattr(config, key, value)
            else:
                unused[key] = value
        return (config, unused) if return_unused_kwargs else config

    @classmethod
    def _check_field_types(cls, config_dict: dict[str, Any]) -> None:
        """Reject values whose JSON type cannot be what the field's default says.

        The defaults of the subclass's ``__init__`` are the schema: an int
        field given a string is a broken file, and failing here names the field
        instead of failing later deep inside a model's constructor.
        """
        try:
            signature = inspect.signature(cls.__init__)
        except (TypeError, ValueError):
            return
        for name, parameter in signature.parameters.items():
            if name not in config_dict or parameter.default in (inspect.Parameter.empty, None):
                continue
            value = config_dict[name]
            default = parameter.default
            if value is None:
                continue
            expected: tuple[type, ...]
            if isinstance(default, bool):
                expected = (bool,)
            elif isinstance(default, int):
                expected = (int,)
            elif isinstance(default, float):
                expected = (int, float)
            elif isinstance(default, str):
                expected = (str,)
            elif isinstance(default, (list, tuple)):
                expected = (list, tuple)
            elif isinstance(default, dict):
                expected = (dict,)
            else:
                continue
            wrong_bool = isinstance(value, bool) and bool not in expected
            if wrong_bool or not isinstance(value, expected):
                raise ConfigError(
                    f"{cls.__name__}: field {name!r} must be {' or '.join(t.__name__ for t in expected)}, "
                    f"but the config gives {_short_repr(value)} ({type(value).__name__})."
                )
            if isinstance(default, (list, tuple)) and default and isinstance(value, (list, tuple)):
                cls._check_elements(name, default, value)
        for name, value in config_dict.items():
            # JSON as Python reads it accepts NaN and Infinity; a setting that is not a finite number is
            # never what a model or a processor can use (a dropout of NaN, an epsilon of infinity).
            parameter = signature.parameters.get(name)
            default = parameter.default if parameter is not None else None
            if _non_finite(value) and not _non_finite(default):
                raise ConfigError(
                    f"{cls.__name__}: field {name!r} is {value!r}, but it must be a finite number. "
                    "Fix config.json (JSON itself has no NaN or Infinity; some writer put them there)."
                )

    @classmethod
    def _check_elements(
        cls, name: str, default: list[Any] | tuple[Any, ...], value: list[Any] | tuple[Any, ...]
    ) -> None:
        """Entries of a list field must have the type its default's entries have (ints stay ints)."""
        sample = default[0]
        if isinstance(sample, bool) or not isinstance(sample, (int, float)):
            return
        for index, item in enumerate(value):
            is_number = isinstance(item, (int, float)) and not isinstance(item, bool) and not _non_finite(item)
            if not is_number or (isinstance(sample, int) and not isinstance(item, int)):
                kind = "int" if isinstance(sample, int) else "finite number"
                raise ConfigError(
                    f"{cls.__name__}: field {name!r} must be a list of {kind}s, but entry {index} is "
                    f"{_short_repr(item)} ({type(item).__name__})."
                )

    # -- files ------------------------------------------------------------------

    @classmethod
    def get_config_dict(
        cls, path_or_repo: str | os.PathLike[str], **kwargs: Any
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Read the raw ``config.json`` dict; returns it with the kwargs left over."""
        options = HubOptions.pop_from(kwargs)
        return load_config_dict(path_or_repo, options), kwargs

    @classmethod
    def from_pretrained(cls, path_or_repo: str | os.PathLike[str], **kwargs: Any) -> Any:
        """Load from a checkpoint folder, a json file, or a Hub repo id.

        Accepts the Hub options (``revision``, ``cache_dir``, ``token``,
        ``local_files_only``, ``force_download``, ``subfolder``), attribute
        overrides, and ``return_unused_kwargs``.
        """
        return_unused_kwargs = kwargs.pop("return_unused_kwargs", False)
        config_dict, kwargs = cls.get_config_dict(path_or_repo, **kwargs)
        result = cls.from_dict(config_dict, return_unused_kwargs=return_unused_kwargs, **kwargs)
        config = result[0] if isinstance(result, tuple) else result
        config.name_or_path = os.fspath(path_or_repo)
        return result

    def save_pretrained(self, save_directory: str | os.PathLike[str]) -> None:
        """Write ``config.json`` into ``save_directory``, atomically."""
        if os.path.isfile(save_directory):
            raise ConfigError(f"save_pretrained needs a folder, but {save_directory} is a file.")
        try:
            os.makedirs(save_directory, exist_ok=True)
        except OSError as exc:
            raise files.save_error(save_directory, exc, "config") from exc
        self.to_json_file(os.path.join(save_directory, CONFIG_NAME))


PreTrainedConfig = PretrainedConfig

#: Most labels a config may ask for by count alone.  ``num_labels`` without ``id2label`` makes the
#: config build a label table of that size in memory; a model with more classes lists them in
#: ``id2label``, whose size the file itself bounds.
MAX_GENERATED_LABELS = 100_000


def _generated_labels(count: Any, owner: str) -> dict[int, str]:
    """``{0: "LABEL_0", ...}`` for ``count`` labels, refusing counts that are not a sane number of classes."""
    problem = None
    if isinstance(count, bool) or not isinstance(count, int):
        problem = f"num_labels must be a whole number of classes, not {_short_repr(count)} ({type(count).__name__})"
    elif count < 0:
        problem = f"num_labels must not be negative, but is {count}"
    elif count > MAX_GENERATED_LABELS:
        problem = (
            f"num_labels is {_short_repr(count)}, more than the {MAX_GENERATED_LABELS} labels a config may ask for "
            "by count (each gets an entry in id2label); a model with that many classes lists them in id2label"
        )
    if problem is not None:
        raise ConfigError(f"{owner} cannot be built from this config: {problem}.")
    return {index: f"LABEL_{index}" for index in range(count)}


def _non_finite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def _short_repr(value: Any, limit: int = 60) -> str:
    """``repr`` cut to ``limit`` characters (an integer of 4000 digits makes an unreadable message)."""
    try:
        text = repr(value)
    except ValueError:  # an int beyond the digit limit of str()
        return f"an integer of about {int(value.bit_length() * 0.30103)} digits"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def load_config_dict(path_or_repo: str | os.PathLike[str], options: HubOptions | None = None) -> dict[str, Any]:
    """``config.json`` of a folder or repo (or the json file itself) as a dict."""
    options = options or HubOptions()
    if os.path.isfile(path_or_repo):
        path = os.fspath(path_or_repo)
    else:
        path = resolve_file(path_or_repo, CONFIG_NAME, options)
        assert path is not None
    try:
        return files.read_json_object(path, what="Config")
    except ConfigError as exc:
        raise ConfigError(f"{exc} (checkpoint: {describe(path_or_repo, options)})") from exc.__cause__
