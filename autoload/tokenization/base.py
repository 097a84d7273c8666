"""The tokenizer base: everything a tokenizer does that does not depend on how text becomes tokens.

Two backends sit on top of it (as in transformers 5):

* :class:`~autoload.tokenization.TokenizersBackend` (also ``PreTrainedTokenizerFast``)
  drives a ``tokenizers.Tokenizer``, read from ``tokenizer.json`` or built from
  an architecture's vocabulary files;
* :class:`~autoload.tokenization.PythonBackend` (also ``PreTrainedTokenizer``)
  is a pure-Python vocabulary, for character- and byte-level tokenizers that
  have nothing to learn or merge.

This module owns what both share, so that it exists once: the calling
convention (``__call__`` options, how padding and truncation are planned,
input checks and their errors), special tokens, ``pad()``, decoding around the
backend's own id-to-text step, the file layout (``tokenizer_config.json``,
``special_tokens_map.json``, ``added_tokens.json``, ``chat_template.jinja``),
saving as one staged set, pickling, and chat templates.

A backend provides the members marked "backend" below; a plugin subclasses a
backend, never this class.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import threading
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from autoload import files
from autoload.errors import ConfigError, FileResolutionError, ProcessingError
from autoload.hub import HubOptions, describe, resolve_file

from .encoding import BatchEncoding

logger = logging.getLogger("autoload.tokenization")

TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
SPECIAL_TOKENS_MAP_FILE = "special_tokens_map.json"
ADDED_TOKENS_FILE = "added_tokens.json"
CHAT_TEMPLATE_FILE = "chat_template.jinja"

# transformers' "no limit" for model_max_length, and the threshold above which a limit counts as none
VERY_LARGE_INTEGER = int(1e30)
LARGE_INTEGER = int(1e20)

SPECIAL_TOKENS_ATTRIBUTES = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")
PADDING_STRATEGIES = ("longest", "max_length", "do_not_pad")
TRUNCATION_STRATEGIES = ("longest_first", "only_first", "only_second", "do_not_truncate")

# tokenizer_config.json keys that describe where files were or which class wrote them, not how to tokenize
_PRIVATE_CONFIG_KEYS = frozenset(
    {
        "name_or_path",
        "tokenizer_file",
        "special_tokens_map_file",
        "added_tokens_decoder",
        "additional_special_tokens",
        "extra_special_tokens",
        "tokenizer_class",
        "is_local",
        "local_files_only",
        "files_loaded",
        "init_inputs",
        "auto_map",
        "backend",
        "chat_template",
        "fast_tokenizer_files",
        "use_fast",
        "_from_auto",
        "trust_remote_code",
        "_commit_hash",
    }
)

#: The keyword arguments a tokenizer call takes besides the text and ``return_tensors`` (which every
#: processing class takes), for processors that route one call's options to their parts.
TOKENIZER_CALL_OPTIONS = frozenset(
    {
        "text_pair",
        "text_target",
        "text_pair_target",
        "add_special_tokens",
        "padding",
        "truncation",
        "max_length",
        "stride",
        "is_split_into_words",
        "pad_to_multiple_of",
        "padding_side",
        "return_token_type_ids",
        "return_attention_mask",
        "return_overflowing_tokens",
        "return_special_tokens_mask",
        "return_offsets_mapping",
        "return_length",
        "verbose",
        "split_special_tokens",
    }
)

# what the ids of a token row are padded with
_PAD_FILLERS = ("input_ids", "attention_mask", "token_type_ids", "special_tokens_mask")


@dataclass
class SimpleAddedToken:
    """A token matched whole before the text is split, with ``tokenizers.AddedToken``'s flags.

    The pure-Python backend's own token type, so that it needs no ``tokenizers``
    install; ``str()`` is the token text, as for ``tokenizers.AddedToken``.
    """

    content: str
    single_word: bool = False
    lstrip: bool = False
    rstrip: bool = False
    normalized: bool = False
    special: bool = False

    def __str__(self) -> str:
        return self.content

    def to_json(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "lstrip": self.lstrip,
            "normalized": self.normalized,
            "rstrip": self.rstrip,
            "single_word": self.single_word,
            "special": self.special,
        }


@dataclass(frozen=True)
class _Plan:
    """How one call pads and truncates, settled before the backend is touched."""

    padding: str  # one of PADDING_STRATEGIES
    truncation: str  # one of TRUNCATION_STRATEGIES
    max_length: int | None


def token_flags(token: Any) -> dict[str, bool]:
    """The flags of a token object (``tokenizers.AddedToken`` or :class:`SimpleAddedToken`); none for a str."""
    names = ("single_word", "lstrip", "rstrip", "normalized", "special")
    return {name: bool(getattr(token, name, False)) for name in names}


def to_python(value: Any) -> Any:
    """Token ids as plain ints and lists, whatever array type they came in."""
    if hasattr(value, "detach"):
        value = value.detach().cpu()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [to_python(item) for item in value]
    return value


def jsonable(value: Any) -> Any:
    """Config values as JSON stores them: token objects become their text."""
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if not isinstance(value, (str, int, float, bool, type(None))) and isinstance(getattr(value, "content", None), str):
        return value.content
    return value


def describe_value(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def _special_token_property(name: str) -> property:
    def get(self: PreTrainedTokenizerBase) -> str | None:
        value = self._special_tokens.get(name)
        return None if value is None else str(value)

    def set_(self: PreTrainedTokenizerBase, value: Any) -> None:
        if value is not None and not isinstance(value, str) and not isinstance(getattr(value, "content", None), str):
            raise ProcessingError(f"{name} must be a str or an AddedToken, not {type(value).__name__}.")
        self._special_tokens[name] = value

    return property(get, set_, doc=f"The {name.replace('_', ' ')} as a string, or None when the tokenizer has none.")


def _special_id_property(name: str) -> property:
    def get(self: PreTrainedTokenizerBase) -> int | None:
        value = self._special_tokens.get(name)
        return None if value is None else self.convert_tokens_to_ids(str(value))

    def set_(self: PreTrainedTokenizerBase, value: int | None) -> None:
        self._special_tokens[name] = None if value is None else self.convert_ids_to_tokens(int(value))

    return property(get, set_, doc=f"The id of the {name.replace('_', ' ')}, or None when the tokenizer has none.")


class PreTrainedTokenizerBase:
    """What every autoload tokenizer shares, whichever backend turns text into tokens.

    Subclass a backend (``TokenizersBackend`` or ``PythonBackend``), not this class.
    """

    vocab_files_names: ClassVar[dict[str, str]] = {}
    model_input_names: list[str] = ["input_ids", "attention_mask"]
    padding_side: str = "right"
    truncation_side: str = "right"
    SPECIAL_TOKENS_ATTRIBUTES: ClassVar[tuple[str, ...]] = SPECIAL_TOKENS_ATTRIBUTES
    #: The ``tokenizer_class`` written to ``tokenizer_config.json``; None writes the class's own name.
    #: It must be a name the plugin's architecture answers to (``Architecture.tokenizer_names``).
    saved_tokenizer_class: ClassVar[str | None] = None

    bos_token = _special_token_property("bos_token")
    eos_token = _special_token_property("eos_token")
    unk_token = _special_token_property("unk_token")
    sep_token = _special_token_property("sep_token")
    pad_token = _special_token_property("pad_token")
    cls_token = _special_token_property("cls_token")
    mask_token = _special_token_property("mask_token")
    bos_token_id = _special_id_property("bos_token")
    eos_token_id = _special_id_property("eos_token")
    unk_token_id = _special_id_property("unk_token")
    sep_token_id = _special_id_property("sep_token")
    pad_token_id = _special_id_property("pad_token")
    cls_token_id = _special_id_property("cls_token")
    mask_token_id = _special_id_property("mask_token")

    def __init__(self, **kwargs: Any) -> None:
        # Backends change state per call (the tokenizers backend its truncation/padding settings);
        # the lock keeps "configure, then encode" atomic across threads.
        self._lock = threading.RLock()
        vocab_files = {name: kwargs.pop(name, None) for name in self.vocab_files_names}
        self.name_or_path = os.fspath(kwargs.pop("name_or_path", "") or "")
        self._init_kwargs: dict[str, Any] = {
            key: copy.deepcopy(value) for key, value in kwargs.items() if key not in _PRIVATE_CONFIG_KEYS
        }
        self.verbose = bool(kwargs.pop("verbose", False))
        self._warned: set[str] = set()

        self._special_tokens: dict[str, Any] = dict.fromkeys(self.SPECIAL_TOKENS_ATTRIBUTES)
        for name in self.SPECIAL_TOKENS_ATTRIBUTES:
            value = kwargs.pop(name, None)
            if value is not None:
                self._special_tokens[name] = self._as_added_token(value, name)
        extra = kwargs.pop("extra_special_tokens", None)
        additional = kwargs.pop("additional_special_tokens", None)
        extra = extra if extra is not None else additional
        if isinstance(extra, dict):  # transformers' named model-specific tokens: keep the tokens, drop the names
            extra = list(extra.values())
        if extra is not None and not isinstance(extra, (list, tuple)):
            raise ConfigError(f"extra_special_tokens must be a list of tokens, not {type(extra).__name__}.")
        self._extra_special_tokens: list[Any] = [
            self._as_added_token(token, "each extra special token") for token in (extra or [])
        ]
        added_tokens_decoder = kwargs.pop("added_tokens_decoder", None) or {}
        if not isinstance(added_tokens_decoder, Mapping):
            raise ConfigError(
                f"added_tokens_decoder must map ids to tokens, not {describe_value(added_tokens_decoder)}."
            )

        model_max_length = kwargs.pop("model_max_length", None)
        if model_max_length is None:
            model_max_length = kwargs.pop("max_len", None)
        if model_max_length is None:
            model_max_length = VERY_LARGE_INTEGER
        if isinstance(model_max_length, bool) or not isinstance(model_max_length, int) or model_max_length < 0:
            raise ConfigError(f"model_max_length must be a non-negative integer, not {model_max_length!r}.")
        self.model_max_length: int = model_max_length
        self.model_input_names = list(kwargs.pop("model_input_names", type(self).model_input_names))
        self.clean_up_tokenization_spaces = bool(kwargs.pop("clean_up_tokenization_spaces", False))
        self.split_special_tokens = bool(kwargs.pop("split_special_tokens", False))
        self.chat_template = self._read_chat_template(kwargs.pop("chat_template", None))
        #: The processor this tokenizer belongs to, written to tokenizer_config.json when set (as transformers does).
        self.processor_class: str | None = kwargs.pop("processor_class", None)
        self._init_kwargs.pop("processor_class", None)

        stored = self._setup_backend(vocab_files, kwargs)
        self.padding_side = self._side(
            kwargs.pop("padding_side", None) or stored.get("padding_side") or self.padding_side, "padding_side"
        )
        self.truncation_side = self._side(
            kwargs.pop("truncation_side", None) or stored.get("truncation_side") or self.truncation_side,
            "truncation_side",
        )
        if (
            self._special_tokens["pad_token"] is None
            and "pad_token" not in self._init_kwargs
            and stored.get("pad_token")
        ):
            self._special_tokens["pad_token"] = stored["pad_token"]
        self._register_special_tokens(added_tokens_decoder)
        self._finish_setup()

    # -- backend -----------------------------------------------------------------------------------

    def _setup_backend(self, vocab_files: dict[str, Any], kwargs: dict[str, Any]) -> dict[str, Any]:
        """Backend: load or build the vocabulary; returns settings the files stored (sides, pad token)."""
        raise NotImplementedError(f"{type(self).__name__} must subclass TokenizersBackend or PythonBackend.")

    def _register_special_tokens(self, added_tokens_decoder: Mapping[Any, Any]) -> None:
        """Backend: give the recorded added tokens and the special tokens their ids."""
        raise NotImplementedError

    def _finish_setup(self) -> None:
        """Backend: anything that needs the special tokens' ids (a special-token template)."""

    def _make_token(self, content: str, **flags: bool) -> Any:
        """Backend: the token object for a token read from a file (``{"content": ..., "lstrip": ...}``)."""
        return SimpleAddedToken(content, **flags)

    def _token_to_id_raw(self, token: str) -> int | None:
        """Backend: the id of a token, or None when the vocabulary lacks it."""
        raise NotImplementedError

    def _id_to_token_raw(self, index: int) -> str | None:
        """Backend: the token of an id, or None when there is none."""
        raise NotImplementedError

    def _add_tokens(self, tokens: list[Any], special_tokens: bool) -> int:
        """Backend: add tokens (token objects) after the existing ids; returns how many were new."""
        raise NotImplementedError

    def _encode_rows(
        self, batch: list[Any], plan: _Plan, options: dict[str, Any]
    ) -> list[tuple[int, dict[str, list[Any]], Any]]:
        """Backend: one ``(sample index, fields, alignment object or None)`` per output row, padded as planned."""
        raise NotImplementedError

    def _decode_ids(self, ids: list[int], skip_special_tokens: bool) -> str:
        """Backend: the text of one sequence of ids, before the optional clean-up."""
        raise NotImplementedError

    def _clean_up_applies(self) -> bool:
        """Backend: whether ``clean_up_tokenization_spaces`` may apply (it breaks byte-level BPE output)."""
        return True

    def _backend_files(self) -> dict[str, str]:
        """Backend: files the backend itself is saved as (``tokenizer.json``), file name to text."""
        return {}

    def _config_extras(self) -> dict[str, Any]:
        """Backend: further ``tokenizer_config.json`` entries (``added_tokens_decoder``)."""
        return {}

    @classmethod
    def _backend_file_kwargs(
        cls, source: str, options: HubOptions, kwargs: dict[str, Any], where: str
    ) -> dict[str, Any]:
        """Backend: find the files the backend is read from; returns them as keyword arguments."""
        raise NotImplementedError

    def get_vocab(self) -> dict[str, int]:
        raise NotImplementedError

    @property
    def vocab_size(self) -> int:
        """Size of the base vocabulary, without added tokens."""
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    @property
    def added_tokens_decoder(self) -> dict[int, Any]:
        raise NotImplementedError

    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        raise NotImplementedError

    def tokenize(
        self, text: str, pair: str | None = None, add_special_tokens: bool = False, **kwargs: Any
    ) -> list[str]:
        raise NotImplementedError

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        raise NotImplementedError

    @property
    def is_fast(self) -> bool:
        raise NotImplementedError

    # -- the subclass contract ----------------------------------------------------------------------

    def vocabulary_files(self) -> dict[str, str]:
        """Vocabulary files to write, as file name to text; default: none."""
        return {}

    # -- construction helpers ---------------------------------------------------------------------------

    def _as_added_token(self, value: Any, where: str) -> Any:
        """Special tokens arrive as strings, token objects or saved token dicts (``{"content": ...}``)."""
        if isinstance(value, str):
            return value
        if isinstance(getattr(value, "content", None), str) and not isinstance(value, Mapping):
            return value
        if isinstance(value, Mapping) and isinstance(value.get("content"), str):
            flags = {k: bool(v) for k, v in value.items() if k in ("single_word", "lstrip", "rstrip", "normalized")}
            return self._make_token(value["content"], **flags, special=bool(value.get("special", True)))
        raise ConfigError(f"{where} must be a token string (or an AddedToken object), not {value!r}.")

    @staticmethod
    def _side(value: Any, name: str, error: type[Exception] = ConfigError) -> str:
        side = str(value).lower()
        if side not in ("right", "left"):
            raise error(f"{name} must be 'right' or 'left', not {value!r}.")
        return side

    @staticmethod
    def _read_chat_template(value: Any) -> str | dict[str, str] | None:
        """``chat_template`` as the config stores it: a string, or a list of ``{"name", "template"}``."""
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, Mapping) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            return dict(value)
        if isinstance(value, (list, tuple)) and all(
            isinstance(item, Mapping) and isinstance(item.get("name"), str) and isinstance(item.get("template"), str)
            for item in value
        ):
            return {item["name"]: item["template"] for item in value}
        raise ConfigError(
            f"chat_template must be a template string or a list of {{'name', 'template'}} entries, "
            f"not {describe_value(value)}."
        )

    # -- loading and saving -------------------------------------------------------------------------------

    @classmethod
    def from_pretrained(cls, path_or_repo: str | os.PathLike[str], *init_inputs: Any, **kwargs: Any) -> Any:
        """Load from a checkpoint folder or Hub repo id; keyword arguments override ``tokenizer_config.json``."""
        options = HubOptions.pop_from(kwargs)
        for obsolete in ("use_fast", "_from_auto", "trust_remote_code", "config", "tokenizer_type"):
            kwargs.pop(obsolete, None)
        source = os.fspath(path_or_repo)
        where = describe(source, options)
        if os.path.isfile(source):
            return cls._from_single_file(source, *init_inputs, **kwargs)

        config_path = resolve_file(source, TOKENIZER_CONFIG_FILE, options, required=False)
        config = files.read_json_object(config_path, "Tokenizer config") if config_path else {}
        for key in ("tokenizer_class", "auto_map", "init_inputs", "fast_tokenizer_files", "tokenizer_file"):
            config.pop(key, None)
        for key in cls.vocab_files_names:  # a path recorded in a config file is never followed
            config.pop(key, None)

        if "added_tokens_decoder" not in config:
            # older layout: special_tokens_map.json holds the special tokens (and wins over the config) ...
            map_path = resolve_file(source, SPECIAL_TOKENS_MAP_FILE, options, required=False)
            if map_path is not None:
                special_map = files.read_json_object(map_path, "Special tokens map")
                for key, value in special_map.items():
                    if key in ("additional_special_tokens", "extra_special_tokens") and config.get(key):
                        merged = list(config[key])
                        merged += [token for token in value if token not in merged]
                        value = merged
                    config[key] = value
            # ... and added_tokens.json the added tokens, token to id
            added_path = resolve_file(source, ADDED_TOKENS_FILE, options, required=False)
            if added_path is not None:
                added = files.read_json_object(added_path, "Added tokens")
                if not all(isinstance(index, int) and not isinstance(index, bool) for index in added.values()):
                    raise ConfigError(f"{added_path} must map tokens to integer ids.")
                config["added_tokens_decoder"] = {index: token for token, index in added.items()}
        template_path = resolve_file(source, CHAT_TEMPLATE_FILE, options, required=False)
        if template_path is not None:
            config["chat_template"] = _read_text(template_path)
        extra_templates = _local_extra_templates(source)
        if extra_templates:
            templates = cls._read_chat_template(config.get("chat_template"))
            templates = {"default": templates} if isinstance(templates, str) else dict(templates or {})
            config["chat_template"] = {**templates, **extra_templates}

        file_kwargs = cls._backend_file_kwargs(source, options, kwargs, where)
        init_kwargs = {**config, **kwargs, "name_or_path": source}
        try:
            return cls(*init_inputs, **file_kwargs, **init_kwargs)
        except TypeError as exc:
            raise ConfigError(f"{cls.__name__} cannot be built from the tokenizer config of {where}: {exc}") from exc

    @classmethod
    def _from_single_file(cls, path: str, *init_inputs: Any, **kwargs: Any) -> Any:
        """transformers' older form: the path of ``tokenizer.json`` or of the one vocabulary file itself."""
        reads_json = "tokenizer_file" in getattr(cls, "_file_kwargs", ())
        if reads_json and (
            os.path.basename(path) == TOKENIZER_FILE or (path.endswith(".json") and not cls.vocab_files_names)
        ):
            return cls(*init_inputs, tokenizer_file=path, name_or_path=path, **kwargs)
        if len(cls.vocab_files_names) == 1:
            (key,) = cls.vocab_files_names
            return cls(*init_inputs, **{key: path}, name_or_path=path, **kwargs)
        raise FileResolutionError(
            f"{path} is a single file, but {cls.__name__} reads "
            f"{', '.join(cls.vocab_files_names.values()) or TOKENIZER_FILE}; pass the folder that holds them."
        )

    def save_pretrained(
        self,
        save_directory: str | os.PathLike[str],
        filename_prefix: str | None = None,
        processor_class: str | None = None,
        **kwargs: Any,
    ) -> tuple[str, ...]:
        """Write the config files, the backend's files and the vocabulary files, replaced together as one set.

        The layout is the one transformers reads, so the folder loads with
        either library.  A single chat template goes to ``chat_template.jinja``.
        ``processor_class`` records, in this save only, the processor the
        tokenizer is saved as part of.
        """
        if kwargs.get("push_to_hub"):
            raise ConfigError(
                "save_pretrained(push_to_hub=True) is not supported; upload the folder with huggingface_hub."
            )
        directory = os.fspath(save_directory)
        if os.path.isfile(directory):
            raise ConfigError(f"save_pretrained needs a folder, but {directory} is a file.")
        os.makedirs(directory, exist_ok=True)
        prefix = f"{filename_prefix}-" if filename_prefix else ""

        # One set: a tokenizer_config.json of this save never sits beside a vocabulary of an older one.
        with files.StagedFiles(directory) as staged:
            written = [
                staged.write_json(prefix + TOKENIZER_CONFIG_FILE, self._config_to_save(processor_class)),
                staged.write_json(prefix + SPECIAL_TOKENS_MAP_FILE, self._special_tokens_map_to_save()),
            ]
            written += [staged.write_text(prefix + name, text) for name, text in self._backend_files().items()]
            written += [staged.write_text(prefix + name, text) for name, text in self.vocabulary_files().items()]
            if isinstance(self.chat_template, str):
                written.append(staged.write_text(prefix + CHAT_TEMPLATE_FILE, self.chat_template))
        return tuple(written)

    def save_vocabulary(
        self, save_directory: str | os.PathLike[str], filename_prefix: str | None = None
    ) -> tuple[str, ...]:
        """Write only the architecture's vocabulary files (``vocab.txt``, ``vocab.json`` ...)."""
        if not os.path.isdir(save_directory):
            raise ConfigError(f"save_vocabulary needs an existing folder, not {os.fspath(save_directory)}.")
        prefix = f"{filename_prefix}-" if filename_prefix else ""
        with files.StagedFiles(save_directory) as staged:
            return tuple(staged.write_text(prefix + name, text) for name, text in self.vocabulary_files().items())

    @property
    def init_kwargs(self) -> dict[str, Any]:
        """The settings ``tokenizer_config.json`` records, with their current values (transformers' name)."""
        config: dict[str, Any] = {}
        for key, value in self._init_kwargs.items():
            if key in self.SPECIAL_TOKENS_ATTRIBUTES or key in self.vocab_files_names:
                continue
            current = getattr(self, key, value) if not key.startswith("_") else value
            config[key] = jsonable(value if callable(current) else current)
        config.update(
            model_max_length=self.model_max_length,
            padding_side=self.padding_side,
            truncation_side=self.truncation_side,
            clean_up_tokenization_spaces=self.clean_up_tokenization_spaces,
        )
        if self.model_input_names != list(type(self).model_input_names):
            config["model_input_names"] = list(self.model_input_names)
        if self.split_special_tokens:
            config["split_special_tokens"] = True
        for name in self.SPECIAL_TOKENS_ATTRIBUTES:
            value = self._special_tokens.get(name)
            if value is not None or name in self._init_kwargs:  # an explicit None stays None on reload
                config[name] = None if value is None else str(value)
        if self._extra_special_tokens:
            # the older name: transformers 5 reads it as extra_special_tokens, 4.x (where that name meant
            # something else) reads it as it always did
            config["additional_special_tokens"] = [str(token) for token in self._extra_special_tokens]
        if self.processor_class is not None:
            config["processor_class"] = self.processor_class
        return config

    def _set_processor_class(self, name: str | None) -> None:
        """Older spelling of ``tokenizer.processor_class = name``, which processors still call."""
        self.processor_class = name

    def _config_to_save(self, processor_class: str | None = None) -> dict[str, Any]:
        config = self.init_kwargs
        if processor_class is not None:
            config["processor_class"] = processor_class
        config.update(self._config_extras())
        if isinstance(self.chat_template, dict):
            config["chat_template"] = [{"name": name, "template": text} for name, text in self.chat_template.items()]
        config["tokenizer_class"] = self.saved_tokenizer_class or type(self).__name__
        try:
            json.dumps(config)
        except TypeError as exc:
            raise ConfigError(
                f"The tokenizer config of {type(self).__name__} holds a value JSON cannot store: {exc}"
            ) from exc
        return config

    def _special_tokens_map_to_save(self) -> dict[str, Any]:
        saved: dict[str, Any] = dict(self.special_tokens_map)
        if self._extra_special_tokens:
            saved["additional_special_tokens"] = [str(token) for token in self._extra_special_tokens]
        return saved

    # -- pickling (the lock cannot travel) -----------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    def __deepcopy__(self, memo: dict[int, Any]) -> PreTrainedTokenizerBase:
        clone = type(self).__new__(type(self))
        memo[id(self)] = clone
        for key, value in self.__dict__.items():
            if key != "_lock":
                clone.__dict__[key] = copy.deepcopy(value, memo)
        clone._lock = threading.RLock()
        return clone

    # -- vocabulary and special tokens ------------------------------------------------------------------

    def __bool__(self) -> bool:
        return True

    @property
    def vocab(self) -> dict[str, int]:
        return self.get_vocab()

    @property
    def added_tokens_encoder(self) -> dict[str, int]:
        return {str(token): index for index, token in sorted(self.added_tokens_decoder.items())}

    def get_added_vocab(self) -> dict[str, int]:
        return self.added_tokens_encoder

    @property
    def extra_special_tokens(self) -> list[str]:
        return [str(token) for token in self._extra_special_tokens]

    @extra_special_tokens.setter
    def extra_special_tokens(self, tokens: Iterable[Any] | None) -> None:
        self._extra_special_tokens = [self._as_added_token(token, "each extra special token") for token in tokens or []]

    additional_special_tokens = extra_special_tokens

    @property
    def extra_special_tokens_ids(self) -> list[int]:
        return self.convert_tokens_to_ids(self.extra_special_tokens)

    additional_special_tokens_ids = extra_special_tokens_ids

    @property
    def special_tokens_map(self) -> dict[str, str]:
        """The named special tokens that are set, as strings."""
        return {name: str(value) for name, value in self._special_tokens.items() if value is not None}

    @property
    def all_special_tokens(self) -> list[str]:
        """Every special token once: the named ones in attribute order, then the extra ones."""
        seen: dict[str, None] = {}
        for value in [*self._special_tokens.values(), *self._extra_special_tokens]:
            if value is not None:
                seen.setdefault(str(value))
        return list(seen)

    @property
    def all_special_ids(self) -> list[int]:
        return self.convert_tokens_to_ids(self.all_special_tokens)

    @property
    def pad_token_type_id(self) -> int:
        return 0

    def convert_tokens_to_ids(self, tokens: str | Iterable[str]) -> Any:
        """Ids of tokens; a token outside the vocabulary is the unknown token's id (None without one)."""
        if isinstance(tokens, str):
            return self._token_to_id(tokens)
        return [self._token_to_id(token) for token in tokens]

    def _token_to_id(self, token: str) -> int | None:
        if not isinstance(token, str):
            raise ProcessingError(f"Tokens are strings; got {describe_value(token)}.")
        index = self._token_to_id_raw(token)
        if index is None:
            unk = self._special_tokens.get("unk_token")
            return None if unk is None else self._token_to_id_raw(str(unk))
        return index

    def convert_ids_to_tokens(self, ids: int | Iterable[int], skip_special_tokens: bool = False) -> Any:
        """Tokens of ids (None for an id the vocabulary lacks)."""
        if isinstance(ids, int) or (hasattr(ids, "item") and getattr(ids, "ndim", 1) == 0):
            return self._id_to_token_raw(self._check_id(ids))
        skip = set(self.all_special_ids) if skip_special_tokens else set()
        tokens = []
        for index in to_python(ids):
            index = self._check_id(index)
            if index not in skip:
                tokens.append(self._id_to_token_raw(index))
        return tokens

    @staticmethod
    def _check_id(index: Any) -> int:
        if hasattr(index, "item"):
            index = index.item()
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise ProcessingError(f"Token ids are non-negative integers; got {describe_value(index)}.")
        return index

    @property
    def max_len_single_sentence(self) -> int:
        return self.model_max_length - self.num_special_tokens_to_add(pair=False)

    @property
    def max_len_sentences_pair(self) -> int:
        return self.model_max_length - self.num_special_tokens_to_add(pair=True)

    def get_special_tokens_mask(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None, already_has_special_tokens: bool = False
    ) -> list[int]:
        """1 where a token is special; ``token_ids_0`` already has its special tokens (as data collators pass it)."""
        if not already_has_special_tokens:
            raise ProcessingError(
                "get_special_tokens_mask needs ids that already hold their special tokens "
                "(already_has_special_tokens=True); encode with return_special_tokens_mask=True otherwise."
            )
        if token_ids_1 is not None:
            raise ProcessingError("Ids that already hold their special tokens come as one sequence; drop token_ids_1.")
        special = set(self.all_special_ids)
        return [1 if int(index) in special else 0 for index in to_python(token_ids_0)]

    def add_tokens(self, new_tokens: Any, special_tokens: bool = False) -> int:
        """Add tokens to the vocabulary (after the existing ids); returns how many were new."""
        if not new_tokens:
            return 0
        if isinstance(new_tokens, str) or isinstance(getattr(new_tokens, "content", None), str):
            new_tokens = [new_tokens]
        tokens = [self._as_added_token(token, "each new token") for token in new_tokens]
        for token in tokens:
            if not str(token):
                raise ProcessingError("add_tokens takes non-empty tokens; got an empty string.")
        with self._lock:
            return self._add_tokens(tokens, special_tokens)

    def add_special_tokens(self, special_tokens_dict: dict[str, Any], replace_extra_special_tokens: bool = True) -> int:
        """Set named special tokens (``{"pad_token": "[PAD]"}``) and add them to the vocabulary."""
        added: list[Any] = []
        for key, value in special_tokens_dict.items():
            if key in ("additional_special_tokens", "extra_special_tokens"):
                tokens = [self._as_added_token(token, key) for token in value]
                if replace_extra_special_tokens:
                    self._extra_special_tokens = tokens
                else:
                    self._extra_special_tokens += [t for t in tokens if str(t) not in self.extra_special_tokens]
                added += tokens
            elif key in self.SPECIAL_TOKENS_ATTRIBUTES:
                token = self._as_added_token(value, key)
                self._special_tokens[key] = token
                added.append(token)
            else:
                raise ProcessingError(
                    f"{key!r} is not a special token name; use one of {', '.join(self.SPECIAL_TOKENS_ATTRIBUTES)} "
                    "or extra_special_tokens."
                )
        special = [token if not isinstance(token, str) else self._make_token(token, special=True) for token in added]
        return self.add_tokens(special, special_tokens=True)

    # -- encoding ----------------------------------------------------------------------------------------

    def __call__(
        self,
        text: str | list[str] | list[list[str]] | None = None,
        text_pair: str | list[str] | list[list[str]] | None = None,
        text_target: str | list[str] | list[list[str]] | None = None,
        text_pair_target: str | list[str] | list[list[str]] | None = None,
        *,
        add_special_tokens: bool = True,
        padding: bool | str = False,
        truncation: bool | str | None = None,
        max_length: int | None = None,
        stride: int = 0,
        is_split_into_words: bool = False,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_tensors: str | None = None,
        return_token_type_ids: bool | None = None,
        return_attention_mask: bool | None = None,
        return_overflowing_tokens: bool = False,
        return_special_tokens_mask: bool = False,
        return_offsets_mapping: bool = False,
        return_length: bool = False,
        verbose: bool = True,
        split_special_tokens: bool | None = None,
        **kwargs: Any,
    ) -> BatchEncoding:
        """Tokenize one text, a pair, or batches of either, as transformers' tokenizers do.

        ``text_target`` is encoded the same way and returned as ``labels``.
        """
        max_target_length = kwargs.pop("max_target_length", None)
        if kwargs:
            self._warn_once(
                "unknown-call-kwargs",
                f"{type(self).__name__} ignores the unknown keyword argument(s) {sorted(kwargs)}.",
            )
        if text is None and text_target is None:
            raise ProcessingError("Nothing to tokenize: pass text (or text_target).")
        plan = self._plan(padding, truncation, max_length, pad_to_multiple_of, verbose)
        options = dict(
            add_special_tokens=add_special_tokens,
            stride=stride,
            is_split_into_words=is_split_into_words,
            pad_to_multiple_of=pad_to_multiple_of,
            padding_side=padding_side,
            return_tensors=return_tensors,
            return_token_type_ids=return_token_type_ids,
            return_attention_mask=return_attention_mask,
            return_overflowing_tokens=return_overflowing_tokens,
            return_special_tokens_mask=return_special_tokens_mask,
            return_offsets_mapping=return_offsets_mapping,
            return_length=return_length,
            verbose=verbose,
            split_special_tokens=self.split_special_tokens if split_special_tokens is None else split_special_tokens,
        )
        encodings = None
        if text is not None:
            encodings = self._encode(text, text_pair, plan, names=("text", "text_pair"), **options)
        if text_target is None:
            return encodings
        if max_target_length is not None:
            plan = self._plan(padding, truncation, max_target_length, pad_to_multiple_of, verbose)
        targets = self._encode(
            text_target, text_pair_target, plan, names=("text_target", "text_pair_target"), **options
        )
        if encodings is None:
            return targets
        encodings["labels"] = targets["input_ids"]
        return encodings

    def encode(
        self,
        text: str | list[str],
        text_pair: str | list[str] | None = None,
        add_special_tokens: bool = True,
        padding: bool | str = False,
        truncation: bool | str | None = None,
        max_length: int | None = None,
        stride: int = 0,
        padding_side: str | None = None,
        return_tensors: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """The ``input_ids`` of ``__call__`` alone."""
        return self(
            text,
            text_pair,
            add_special_tokens=add_special_tokens,
            padding=padding,
            truncation=truncation,
            max_length=max_length,
            stride=stride,
            padding_side=padding_side,
            return_tensors=return_tensors,
            **kwargs,
        )["input_ids"]

    def _plan(self, padding: Any, truncation: Any, max_length: Any, pad_to_multiple_of: Any, verbose: bool) -> _Plan:
        """Turn the padding/truncation arguments into strategies, with transformers' rules and warnings.

        One deliberate difference: ``padding="max_length"`` with no length anywhere
        (no ``max_length``, no ``model_max_length``) is an error here, where
        transformers warns and returns ragged rows that fail later.
        """
        if max_length is not None and (
            isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 0
        ):
            raise ProcessingError(f"max_length must be a non-negative integer or None, not {max_length!r}.")
        if pad_to_multiple_of is not None and (
            isinstance(pad_to_multiple_of, bool) or not isinstance(pad_to_multiple_of, int) or pad_to_multiple_of <= 0
        ):
            raise ProcessingError(f"pad_to_multiple_of must be a positive integer or None, not {pad_to_multiple_of!r}.")
        # transformers' old rule: max_length alone means "truncate to it"
        if max_length is not None and padding is False and truncation is None:
            truncation = "longest_first"

        if padding is False or padding is None:
            padding_strategy = "do_not_pad"
        elif padding is True:
            if verbose and max_length is not None and truncation in (None, False, "do_not_truncate"):
                warnings.warn(
                    "`max_length` is ignored when `padding`=`True` and there is no truncation strategy. "
                    "To pad to max length, use `padding='max_length'`.",
                    stacklevel=3,
                )
            padding_strategy = "longest"
        elif (
            isinstance(getattr(padding, "value", padding), str)
            and getattr(padding, "value", padding) in PADDING_STRATEGIES
        ):
            padding_strategy = str(getattr(padding, "value", padding))
        else:
            raise ProcessingError(f"padding must be True, False or one of {PADDING_STRATEGIES}, not {padding!r}.")

        if truncation is False or truncation is None:
            truncation_strategy = "do_not_truncate"
        elif truncation is True:
            truncation_strategy = "longest_first"
        elif (
            isinstance(getattr(truncation, "value", truncation), str)
            and getattr(truncation, "value", truncation) in TRUNCATION_STRATEGIES
        ):
            truncation_strategy = str(getattr(truncation, "value", truncation))
        else:
            raise ProcessingError(
                f"truncation must be True, False, None or one of {TRUNCATION_STRATEGIES}, not {truncation!r}."
            )

        if max_length is None:
            unlimited = self.model_max_length > LARGE_INTEGER
            if padding_strategy == "max_length":
                if unlimited:
                    raise ProcessingError(
                        f"padding='max_length' needs max_length=...: {type(self).__name__} has no model_max_length "
                        "to pad to. Pass max_length, or padding=True to pad to the longest row."
                    )
                max_length = self.model_max_length
            if truncation_strategy != "do_not_truncate":
                if unlimited:
                    if verbose:
                        warnings.warn(
                            "Asked to truncate, but no max_length was given and the tokenizer has no "
                            "model_max_length: not truncating.",
                            stacklevel=3,
                        )
                    truncation_strategy = "do_not_truncate"
                else:
                    max_length = self.model_max_length

        if padding_strategy != "do_not_pad" and (self.pad_token is None or self.pad_token_id is None):
            raise ProcessingError(
                f"Asked to pad, but {type(self).__name__} has no padding token. Set one "
                "(tokenizer.pad_token = tokenizer.eos_token, or tokenizer.add_special_tokens({'pad_token': '[PAD]'}))."
            )
        if (
            truncation_strategy != "do_not_truncate"
            and padding_strategy != "do_not_pad"
            and pad_to_multiple_of is not None
            and max_length is not None
            and max_length % pad_to_multiple_of != 0
        ):
            raise ProcessingError(
                f"Truncation and padding are both on, but the truncation length ({max_length}) is not a multiple "
                f"of pad_to_multiple_of ({pad_to_multiple_of})."
            )
        return _Plan(padding_strategy, truncation_strategy, max_length)

    def _encode(
        self,
        text: Any,
        text_pair: Any,
        plan: _Plan,
        *,
        names: tuple[str, str],
        return_tensors: str | None,
        return_token_type_ids: bool | None,
        return_attention_mask: bool | None,
        return_overflowing_tokens: bool,
        return_special_tokens_mask: bool,
        return_offsets_mapping: bool,
        return_length: bool,
        verbose: bool,
        **options: Any,
    ) -> BatchEncoding:
        if return_tensors not in (None, "pt", "np"):
            raise ProcessingError(f"return_tensors must be 'pt', 'np' or None, not {return_tensors!r}.")
        stride = options["stride"]
        if isinstance(stride, bool) or not isinstance(stride, int) or stride < 0:
            raise ProcessingError(f"stride must be a non-negative integer, not {stride!r}.")
        side = options["padding_side"]
        options["padding_side"] = (
            self.padding_side if side is None else self._side(side, "padding_side", ProcessingError)
        )
        if return_attention_mask is None:
            return_attention_mask = "attention_mask" in self.model_input_names
        options.update(
            names=names,
            return_attention_mask=return_attention_mask,
            return_overflowing_tokens=return_overflowing_tokens,
            return_offsets_mapping=return_offsets_mapping,
        )
        batch, is_batched = self._batch_inputs(text, text_pair, options["is_split_into_words"], names)
        rows = self._encode_rows(batch, plan, options)

        if return_token_type_ids is None:
            return_token_type_ids = "token_type_ids" in self.model_input_names
        wanted = [
            ("input_ids", True),
            ("token_type_ids", return_token_type_ids),
            ("attention_mask", return_attention_mask),
            ("special_tokens_mask", return_special_tokens_mask),
            ("offset_mapping", return_offsets_mapping),
            ("length", return_length),
        ]
        data: dict[str, list[Any]] = {key: [] for key, on in wanted if on}
        for _, fields, _ in rows:
            for key in data:
                data[key].append(fields[key])
        if return_overflowing_tokens:
            data["overflow_to_sample_mapping"] = [sample for sample, _, _ in rows]
        for ids in data["input_ids"]:
            self._warn_if_too_long(ids, plan.max_length, verbose)

        if not is_batched and return_tensors is None and not return_overflowing_tokens:
            # transformers drops the batch level of row-valued keys only; "length" stays a one-item list
            data = {key: value[0] if value and isinstance(value[0], list) else value for key, value in data.items()}
        alignment = [row for _, _, row in rows]
        return BatchEncoding(
            data,
            alignment if all(row is not None for row in alignment) and alignment else None,
            tensor_type=return_tensors,
        )

    def _batch_inputs(
        self, text: Any, text_pair: Any, is_split_into_words: bool, names: tuple[str, str]
    ) -> tuple[list[Any], bool]:
        """Check the input's shape and types, and lay it out as a batch of texts or (text, pair) tuples."""
        if is_split_into_words:
            is_batched = isinstance(text, (list, tuple)) and bool(text) and isinstance(text[0], (list, tuple))
            check = self._check_words
        else:
            is_batched = isinstance(text, (list, tuple))
            check = self._check_text
        if not is_batched:
            check(text, names[0])
            if text_pair:  # transformers treats an empty second text as no second text
                check(text_pair, names[1])
                return [(text, text_pair)], False
            if text_pair is not None and not isinstance(text_pair, (str, list, tuple)):
                check(text_pair, names[1])
            return [text], False
        if not text:
            raise ProcessingError(f"{names[0]} is an empty batch: pass at least one text.")
        for index, item in enumerate(text):
            check(item, f"{names[0]}[{index}]")
        if text_pair is None:
            return list(text), True
        if not isinstance(text_pair, (list, tuple)) or (
            is_split_into_words and text_pair and not isinstance(text_pair[0], (list, tuple))
        ):
            raise ProcessingError(
                f"{names[0]} is a batch, so {names[1]} must be a batch of the same length, "
                f"not {describe_value(text_pair)}."
            )
        if len(text_pair) != len(text):
            raise ProcessingError(
                f"{names[0]} holds {len(text)} texts but {names[1]} holds {len(text_pair)}: they must pair up."
            )
        for index, item in enumerate(text_pair):
            check(item, f"{names[1]}[{index}]")
        return [(first, second) for first, second in zip(text, text_pair)], True

    @staticmethod
    def _check_text(value: Any, name: str) -> None:
        if not isinstance(value, str):
            raise ProcessingError(
                f"{name} must be a str (or a list of str for a batch); got {describe_value(value)}. "
                "For words already split, pass is_split_into_words=True."
            )

    @staticmethod
    def _check_words(value: Any, name: str) -> None:
        if not isinstance(value, (list, tuple)):
            raise ProcessingError(
                f"With is_split_into_words=True, {name} must be a list of words (str); got {describe_value(value)}."
            )
        for index, word in enumerate(value):
            if not isinstance(word, str):
                raise ProcessingError(
                    f"With is_split_into_words=True, {name}[{index}] must be a str; got {describe_value(word)}."
                )

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            logger.warning(message)

    def _warn_if_too_long(self, ids: list[int], max_length: int | None, verbose: bool) -> None:
        if max_length is None and verbose and self.model_max_length and len(ids) > self.model_max_length:
            self._warn_once(
                "too-long",
                f"Token indices sequence length is longer than the specified maximum sequence length for this model "
                f"({len(ids)} > {self.model_max_length}). Running this sequence through the model will result in "
                "indexing errors; pass truncation=True to cut it.",
            )

    # -- padding -----------------------------------------------------------------------------------------

    def pad(
        self,
        encoded_inputs: Any,
        padding: bool | str = True,
        max_length: int | None = None,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_attention_mask: bool | None = None,
        return_tensors: str | None = None,
        verbose: bool = True,
    ) -> BatchEncoding:
        """Pad examples that were tokenized one by one to a common length, as a data collator needs.

        ``encoded_inputs`` is one encoding (a dict of lists), a batch (a dict
        of lists of lists) or a list of per-example dicts, which is what a
        dataset yields.  ``input_ids``, ``attention_mask``, ``token_type_ids``
        and ``special_tokens_mask`` are padded with the pad token id, 0, the
        pad token type id and 1; other fields (``labels``) are left as they
        are.  Tensors in give tensors of the same kind out unless
        ``return_tensors`` says otherwise.
        """
        if isinstance(encoded_inputs, (list, tuple)):
            if not encoded_inputs:
                raise ProcessingError("pad got an empty list of examples; pass at least one encoding.")
            if not all(isinstance(example, Mapping) for example in encoded_inputs):
                raise ProcessingError("pad takes an encoding, a batch encoding or a list of encodings (dicts).")
            keys = list(encoded_inputs[0].keys())
            for index, example in enumerate(encoded_inputs):
                if list(example.keys()) != keys:
                    raise ProcessingError(
                        f"pad: example {index} has fields {sorted(example)}, but example 0 has {sorted(keys)}."
                    )
            encoded_inputs = {key: [example[key] for example in encoded_inputs] for key in keys}
        if not isinstance(encoded_inputs, Mapping):
            raise ProcessingError(
                f"pad takes an encoding or a list of encodings, not {describe_value(encoded_inputs)}."
            )
        if "input_ids" not in encoded_inputs:
            raise ProcessingError(f"pad needs input_ids among the fields; got {sorted(encoded_inputs)}.")
        first = encoded_inputs["input_ids"]
        probe = first[0] if isinstance(first, (list, tuple)) and len(first) else first
        if return_tensors is None:
            kind = type(probe).__module__.split(".")[0]
            return_tensors = {"torch": "pt", "numpy": "np"}.get(kind)
        fields = {key: to_python(value) for key, value in encoded_inputs.items()}
        ids = fields["input_ids"]
        batched = bool(ids) and isinstance(ids[0], list)
        examples = [
            {key: value[index] for key, value in fields.items()} for index in range(len(ids))
        ] if batched else [fields]  # fmt: skip

        plan = self._plan(padding, False, max_length, pad_to_multiple_of, verbose)
        side = self._side(padding_side or self.padding_side, "padding_side", ProcessingError)
        with_mask = (
            "attention_mask" in self.model_input_names if return_attention_mask is None else return_attention_mask
        )
        self._pad_examples(examples, plan, pad_to_multiple_of, side, with_mask)
        output = {key: [example[key] for example in examples] for key in examples[0]} if batched else examples[0]
        return BatchEncoding(output, tensor_type=return_tensors)

    def _pad_examples(
        self,
        examples: list[dict[str, Any]],
        plan: _Plan,
        pad_to_multiple_of: int | None,
        side: str,
        with_mask: bool,
    ) -> None:
        """Pad each example's id-aligned fields in place (the one padding routine of both backends)."""
        target = plan.max_length
        if plan.padding == "longest":
            target = max((len(example["input_ids"]) for example in examples), default=0)
        if target is not None and pad_to_multiple_of and target % pad_to_multiple_of:
            target = (target // pad_to_multiple_of + 1) * pad_to_multiple_of
        fillers = {
            "input_ids": self.pad_token_id,
            "attention_mask": 0,
            "token_type_ids": self.pad_token_type_id,
            "special_tokens_mask": 1,
        }
        for example in examples:
            length = len(example["input_ids"])
            if with_mask and "attention_mask" not in example:
                example["attention_mask"] = [1] * length
            elif not with_mask:
                example.pop("attention_mask", None)
            missing = 0 if plan.padding == "do_not_pad" or target is None else target - length
            if missing <= 0:
                continue
            for key in _PAD_FILLERS:
                if key in example:
                    padding_values = [fillers[key]] * missing
                    example[key] = example[key] + padding_values if side == "right" else padding_values + example[key]

    # -- decoding ----------------------------------------------------------------------------------------

    def decode(
        self,
        token_ids: Any,
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        """Text of one sequence of ids, or a list of texts for a batch of sequences."""
        ids = to_python(token_ids)
        if isinstance(ids, Mapping):
            ids = to_python(ids.get("input_ids"))
        options = dict(
            skip_special_tokens=skip_special_tokens, clean_up_tokenization_spaces=clean_up_tokenization_spaces, **kwargs
        )
        if isinstance(ids, list) and ids and isinstance(ids[0], list):
            return [self._decode(sequence, **options) for sequence in ids]
        return self._decode(ids if isinstance(ids, list) else [ids], **options)

    def batch_decode(
        self,
        sequences: Any,
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        """Texts of a batch of id sequences."""
        sequences = to_python(sequences)
        if isinstance(sequences, (list, tuple)) and len(sequences) == 0:
            return []
        result = self.decode(sequences, skip_special_tokens, clean_up_tokenization_spaces, **kwargs)
        return [result] if isinstance(result, str) else result

    def _decode(
        self,
        ids: list[int],
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
        **_: Any,
    ) -> str:
        text = self._decode_ids(ids, skip_special_tokens)
        return self._clean_up(text, clean_up_tokenization_spaces)

    def _clean_up(self, text: str, clean_up: bool | None) -> str:
        if not (self.clean_up_tokenization_spaces if clean_up is None else clean_up):
            return text
        if not self._clean_up_applies():
            self._warn_once(
                "bpe-cleanup",
                "Ignoring clean_up_tokenization_spaces=True for a BPE tokenizer: the clean-up is meant for "
                "WordPiece output and would remove real spaces before punctuation.",
            )
            return text
        return self.clean_up_tokenization(text)

    @staticmethod
    def clean_up_tokenization(text: str) -> str:
        """Glue punctuation and English contractions back onto the previous word, as transformers does."""
        for spaced, joined in (
            (" .", "."),
            (" ?", "?"),
            (" !", "!"),
            (" ,", ","),
            (" ' ", "'"),
            (" n't", "n't"),
            (" 'm", "'m"),
            (" 's", "'s"),
            (" 've", "'ve"),
            (" 're", "'re"),
        ):
            text = text.replace(spaced, joined)
        return text

    # -- chat templates ------------------------------------------------------------------------------------

    def get_chat_template(self, chat_template: str | None = None, tools: list[Any] | None = None) -> str:
        """The template text to render: ``chat_template`` itself, a named one, or the tokenizer's default."""
        from .chat_template import select_template

        return select_template(self.chat_template, chat_template, tools, owner=type(self).__name__)

    def apply_chat_template(
        self,
        conversation: Any,
        tools: list[Any] | None = None,
        documents: list[dict[str, str]] | None = None,
        chat_template: str | None = None,
        add_generation_prompt: bool = False,
        continue_final_message: bool | str = False,
        tokenize: bool = True,
        padding: bool | str = False,
        truncation: bool = False,
        max_length: int | None = None,
        return_tensors: str | None = None,
        return_dict: bool = True,
        tokenizer_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Render a conversation (a list of ``{"role", "content"}`` messages, or a batch of them) with the template.

        As transformers 5: the text with ``tokenize=False``; otherwise the
        encoded text without added special tokens (the template writes them),
        as a :class:`BatchEncoding` (``return_dict=True``, the default) or its
        ``input_ids`` alone.  Extra keyword arguments reach the template.
        """
        from .chat_template import render_conversations

        template = self.get_chat_template(chat_template, tools)
        rendered, is_batched = render_conversations(
            template,
            conversation,
            tools=tools,
            documents=documents,
            add_generation_prompt=add_generation_prompt,
            continue_final_message=continue_final_message,
            variables={**self.special_tokens_map, **kwargs},
            source=self._chat_template_source(chat_template),
        )
        text = rendered if is_batched else rendered[0]
        if not tokenize:
            return text
        encoded = self(
            text,
            padding=padding,
            truncation=truncation,
            max_length=max_length,
            add_special_tokens=False,
            return_tensors=return_tensors,
            **(tokenizer_kwargs or {}),
        )
        return encoded if return_dict else encoded["input_ids"]

    def _chat_template_source(self, chat_template: str | None) -> str:
        if chat_template is not None and not (
            isinstance(self.chat_template, dict) and chat_template in self.chat_template
        ):
            return "the chat_template argument"
        where = self.name_or_path or type(self).__name__
        return f"the chat template of {where}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name_or_path={self.name_or_path!r}, vocab_size={self.vocab_size}, "
            f"model_max_length={self.model_max_length}, padding_side={self.padding_side!r}, "
            f"truncation_side={self.truncation_side!r}, special_tokens={self.special_tokens_map})"
        )


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} cannot be read as UTF-8 text: {exc}") from exc


def _local_extra_templates(source: str) -> dict[str, str]:
    """Named templates in ``additional_chat_templates/*.jinja`` of a local folder (transformers' layout)."""
    folder = os.path.join(source, "additional_chat_templates")
    if not os.path.isdir(folder):
        return {}
    return {
        name[: -len(".jinja")]: _read_text(os.path.join(folder, name))
        for name in sorted(os.listdir(folder))
        if name.endswith(".jinja")
    }


__all__ = [
    "ADDED_TOKENS_FILE",
    "TOKENIZER_CALL_OPTIONS",
    "CHAT_TEMPLATE_FILE",
    "LARGE_INTEGER",
    "PreTrainedTokenizerBase",
    "SPECIAL_TOKENS_MAP_FILE",
    "SimpleAddedToken",
    "TOKENIZER_CONFIG_FILE",
    "TOKENIZER_FILE",
    "VERY_LARGE_INTEGER",
]
