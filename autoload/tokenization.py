"""The tokenizer base that plugins subclass, over the Hugging Face ``tokenizers`` library.

A tokenizer here is a thin, thread-safe shell around one ``tokenizers.Tokenizer``
(the *backend*): the backend does the normalising, splitting, subword lookup,
special-token templates, truncation and padding, so outputs match transformers'
fast tokenizers exactly, because transformers drives the very same backend.
What this module adds is the transformers calling convention (``__call__``
options, special-token attributes, ``decode``), the file layout
(``tokenizer.json``, ``tokenizer_config.json``, ``special_tokens_map.json``)
and errors that say what went wrong.

The subclass contract, for a plugin author:

* ``vocab_files_names``: the architecture's own vocabulary files, by the
  keyword its ``__init__`` takes them under (``{"vocab_file": "vocab.txt"}``).
  They are only read when a checkpoint has no ``tokenizer.json``.
* ``model_input_names``: the model's inputs (decides whether
  ``token_type_ids`` is returned by default).
* ``__init__``: take the architecture's options as keyword arguments with
  their defaults (special tokens included), store them as attributes, then
  call ``super().__init__(**all_of_them)``; every keyword the base does not
  know is kept and written back to ``tokenizer_config.json`` on save.
* ``build_backend(self, **vocab_files) -> tokenizers.Tokenizer``: build the
  backend from the vocabulary files (normaliser, pre-tokenizer, model,
  decoder) when there is no ``tokenizer.json``.
* ``update_backend(self, backend)`` (optional): make the init options take
  effect on a backend read from ``tokenizer.json``.
* ``build_post_processor(self)`` (optional): the special-token template,
  called once the special tokens have ids; ``None`` keeps the backend's.
* ``vocabulary_files(self) -> dict[str, str]`` (optional): file name to text
  content of the vocabulary files to write next to ``tokenizer.json``.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import threading
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import tokenizers
from tokenizers import AddedToken, Encoding, Tokenizer

from autoload import files
from autoload.batch import BatchFeature, to_tensor_type
from autoload.errors import CheckpointError, ConfigError, FileResolutionError, ProcessingError
from autoload.hub import HubOptions, describe, resolve_file

logger = logging.getLogger(__name__)

TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
SPECIAL_TOKENS_MAP_FILE = "special_tokens_map.json"

# transformers' "no limit" for model_max_length, and the threshold above which a limit counts as none
VERY_LARGE_INTEGER = int(1e30)
LARGE_INTEGER = int(1e20)

SPECIAL_TOKENS_ATTRIBUTES = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")
PADDING_STRATEGIES = ("longest", "max_length", "do_not_pad")
TRUNCATION_STRATEGIES = ("longest_first", "only_first", "only_second", "do_not_truncate")

# tokenizer_config.json keys that describe where files were, not how to tokenize: never written back
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
    }
)

# options __call__ knows by name; anything else is reported (transformers drops unknown keywords silently)
_CALL_OPTIONS = frozenset(
    {
        "add_special_tokens",
        "padding",
        "truncation",
        "max_length",
        "stride",
        "is_split_into_words",
        "pad_to_multiple_of",
        "padding_side",
        "return_tensors",
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


class CharSpan(NamedTuple):
    """Character span ``[start, end)`` in the original string."""

    start: int
    end: int


class TokenSpan(NamedTuple):
    """Token span ``[start, end)`` in the encoded sequence."""

    start: int
    end: int


class BatchEncoding(BatchFeature):
    """What a tokenizer returns: the arrays by name, plus the backend's ``Encoding`` of each row.

    The encodings carry the alignment between tokens, words and characters,
    which is what ``word_ids``, ``char_to_token`` and friends read.  An integer
    index returns the row's ``tokenizers.Encoding``, as in transformers.
    """

    def __init__(
        self,
        data: dict[str, Any] | None = None,
        encodings: Encoding | Sequence[Encoding] | None = None,
        tensor_type: str | None = None,
        n_sequences: int | None = None,
    ) -> None:
        if isinstance(encodings, Encoding):
            encodings = [encodings]
        self._encodings = list(encodings) if encodings is not None else None
        if n_sequences is None and self._encodings:
            n_sequences = self._encodings[0].n_sequences
        self._n_sequences = n_sequences
        super().__init__(data, tensor_type)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return self.data[key]
        if isinstance(key, (int, slice)) and self._encodings is not None:
            return self._encodings[key]
        if isinstance(key, int):
            raise KeyError(f"This BatchEncoding holds no tokenizers.Encoding to index with {key}; use a key name.")
        if isinstance(key, slice):
            return {name: value[key] for name, value in self.data.items()}
        raise KeyError(f"BatchEncoding keys are names (str), row numbers (int) or slices, not {type(key).__name__}.")

    def __getstate__(self) -> dict[str, Any]:
        return {"data": self.data, "encodings": self._encodings, "n_sequences": self._n_sequences}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.data = state["data"]
        self._encodings = state.get("encodings")
        self._n_sequences = state.get("n_sequences")

    def convert_to_tensors(self, tensor_type: str | None = None) -> BatchEncoding:
        """Make torch or numpy arrays; token ids stay int64 even when a row is empty."""
        if tensor_type is None:
            return self
        for key, value in self.data.items():
            array = to_tensor_type(value, "np", key=key)
            if array.size == 0 and array.dtype.kind == "f":
                array = array.astype("int64")
            self.data[key] = to_tensor_type(array, tensor_type, key=key)
        return self

    @property
    def encodings(self) -> list[Encoding] | None:
        return self._encodings

    @property
    def n_sequences(self) -> int | None:
        """1 for single texts, 2 for pairs, None when unknown."""
        return self._n_sequences

    @property
    def is_fast(self) -> bool:
        return self._encodings is not None

    def _encoding(self, batch_index: int) -> Encoding:
        if not self._encodings:
            raise ProcessingError(
                "This BatchEncoding has no tokenizers.Encoding (it was built by hand or unpickled without one); "
                "token/word/character alignment needs the tokenizer's own output."
            )
        return self._encodings[batch_index]

    def _batch_and_item(self, first: int, second: int | None) -> tuple[int, int]:
        """transformers' two-argument convention: (item) on row 0, or (row, item)."""
        if second is None:
            if self._encodings is not None and len(self._encodings) > 1:
                raise ProcessingError("This batch has several rows: pass the row number first, then the index.")
            return 0, first
        return first, second

    def tokens(self, batch_index: int = 0) -> list[str]:
        return self._encoding(batch_index).tokens

    def word_ids(self, batch_index: int = 0) -> list[int | None]:
        """The input word of each token (None for special tokens and padding)."""
        return self._encoding(batch_index).word_ids

    def sequence_ids(self, batch_index: int = 0) -> list[int | None]:
        """0 or 1 for tokens of the first or second text of a pair, None for special tokens and padding."""
        return self._encoding(batch_index).sequence_ids

    def token_to_sequence(self, batch_or_token_index: int, token_index: int | None = None) -> int | None:
        batch_index, token_index = self._batch_and_item(batch_or_token_index, token_index)
        encoding = self._encoding(batch_index)
        if token_index < 0:
            token_index += len(encoding.ids)
        return encoding.token_to_sequence(token_index)

    def token_to_word(self, batch_or_token_index: int, token_index: int | None = None) -> int | None:
        batch_index, token_index = self._batch_and_item(batch_or_token_index, token_index)
        encoding = self._encoding(batch_index)
        if token_index < 0:
            token_index += len(encoding.ids)
        return encoding.token_to_word(token_index)

    def token_to_chars(self, batch_or_token_index: int, token_index: int | None = None) -> CharSpan | None:
        batch_index, token_index = self._batch_and_item(batch_or_token_index, token_index)
        encoding = self._encoding(batch_index)
        if token_index < 0:
            token_index += len(encoding.ids)
        span = encoding.token_to_chars(token_index)
        return CharSpan(*span) if span is not None else None

    def char_to_token(
        self, batch_or_char_index: int, char_index: int | None = None, sequence_index: int = 0
    ) -> int | None:
        batch_index, char_index = self._batch_and_item(batch_or_char_index, char_index)
        return self._encoding(batch_index).char_to_token(char_index, sequence_index)

    def word_to_tokens(
        self, batch_or_word_index: int, word_index: int | None = None, sequence_index: int = 0
    ) -> TokenSpan | None:
        batch_index, word_index = self._batch_and_item(batch_or_word_index, word_index)
        span = self._encoding(batch_index).word_to_tokens(word_index, sequence_index)
        return TokenSpan(*span) if span is not None else None


@dataclass(frozen=True)
class _Plan:
    """How one call pads and truncates, settled before the backend is touched."""

    padding: str  # one of PADDING_STRATEGIES
    truncation: str  # one of TRUNCATION_STRATEGIES
    max_length: int | None


def _special_token_property(name: str) -> property:
    def get(self: PreTrainedTokenizer) -> str | None:
        value = self._special_tokens.get(name)
        return None if value is None else str(value)

    def set_(self: PreTrainedTokenizer, value: str | AddedToken | None) -> None:
        if value is not None and not isinstance(value, (str, AddedToken)):
            raise ProcessingError(f"{name} must be a str or tokenizers.AddedToken, not {type(value).__name__}.")
        self._special_tokens[name] = value

    return property(get, set_, doc=f"The {name.replace('_', ' ')} as a string, or None when the tokenizer has none.")


def _special_id_property(name: str) -> property:
    def get(self: PreTrainedTokenizer) -> int | None:
        value = self._special_tokens.get(name)
        return None if value is None else self.convert_tokens_to_ids(str(value))

    def set_(self: PreTrainedTokenizer, value: int | None) -> None:
        self._special_tokens[name] = None if value is None else self.convert_ids_to_tokens(int(value))

    return property(get, set_, doc=f"The id of the {name.replace('_', ' ')}, or None when the tokenizer has none.")


def _as_added_token(value: Any, where: str) -> str | AddedToken:
    """Special tokens arrive as strings or as serialised AddedToken dicts (``{"__type": "AddedToken", ...}``)."""
    if isinstance(value, (str, AddedToken)):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        fields = {k: v for k, v in value.items() if k in ("content", "single_word", "lstrip", "rstrip", "normalized")}
        return AddedToken(**fields, special=bool(value.get("special", True)))
    raise ConfigError(f"{where} must be a token string (or an AddedToken object), not {value!r}.")


def _load_backend(path: str) -> Tokenizer:
    try:
        return Tokenizer.from_file(path)
    except Exception as exc:  # the Rust side raises bare Exception for every parse failure
        raise CheckpointError(
            f"{path} is not a valid tokenizer.json ({exc}). Save the tokenizer again, or download the checkpoint "
            "again if the file was truncated."
        ) from exc


def _to_python(value: Any) -> Any:
    """Token ids as plain ints and lists, whatever array type they came in."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_to_python(item) for item in value]
    return value


def _jsonable(value: Any) -> Any:
    """Config values as JSON stores them: AddedToken objects become their text."""
    if isinstance(value, AddedToken):
        return value.content
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    return value


def _describe_value(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


class PreTrainedTokenizer:
    """Base of every autoload tokenizer: a ``tokenizers.Tokenizer`` with transformers' calling convention.

    See the module docstring for what a subclass provides.
    """

    vocab_files_names: ClassVar[dict[str, str]] = {}
    model_input_names: list[str] = ["input_ids", "attention_mask"]
    padding_side: str = "right"
    truncation_side: str = "right"
    SPECIAL_TOKENS_ATTRIBUTES: ClassVar[tuple[str, ...]] = SPECIAL_TOKENS_ATTRIBUTES

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

    def __init__(
        self,
        *,
        tokenizer_file: str | os.PathLike[str] | None = None,
        tokenizer_object: Tokenizer | None = None,
        **kwargs: Any,
    ) -> None:
        # The backend's truncation/padding settings change on every call; the lock keeps
        # "configure, then encode" atomic across threads (a per-call copy of the backend costs
        # milliseconds, the lock about a microsecond).
        self._lock = threading.RLock()
        vocab_files = {name: kwargs.pop(name, None) for name in self.vocab_files_names}
        self.init_kwargs: dict[str, Any] = copy.deepcopy(kwargs)
        self.name_or_path = os.fspath(kwargs.pop("name_or_path", ""))
        self.verbose = bool(kwargs.pop("verbose", False))
        self._warned: set[str] = set()

        self._special_tokens: dict[str, str | AddedToken | None] = dict.fromkeys(self.SPECIAL_TOKENS_ATTRIBUTES)
        for name in self.SPECIAL_TOKENS_ATTRIBUTES:
            value = kwargs.pop(name, None)
            if value is not None:
                self._special_tokens[name] = _as_added_token(value, name)
        extra = kwargs.pop("extra_special_tokens", None)
        additional = kwargs.pop("additional_special_tokens", None)
        extra = extra if extra is not None else additional
        if isinstance(extra, dict):  # transformers' named model-specific tokens: keep the tokens, drop the names
            extra = list(extra.values())
        if extra is not None and not isinstance(extra, (list, tuple)):
            raise ConfigError(f"extra_special_tokens must be a list of tokens, not {type(extra).__name__}.")
        self._extra_special_tokens: list[str | AddedToken] = [
            _as_added_token(token, "each extra special token") for token in (extra or [])
        ]
        added_tokens_decoder = kwargs.pop("added_tokens_decoder", None) or {}

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

        # -- the backend
        loaded_from_file = False
        if tokenizer_object is not None:
            if not isinstance(tokenizer_object, Tokenizer):
                raise ConfigError(
                    f"tokenizer_object must be a tokenizers.Tokenizer, not {type(tokenizer_object).__name__}."
                )
            backend = copy.deepcopy(tokenizer_object)
        elif tokenizer_file is not None:
            backend = _load_backend(os.fspath(tokenizer_file))
            loaded_from_file = True
        else:
            backend = self.build_backend(**vocab_files)
        self._backend: Tokenizer = backend
        # Settings stored in tokenizer.json: calls override them, saving writes them back unchanged.
        self._stored_truncation = backend.truncation
        self._stored_padding = backend.padding
        self.padding_side = self._side(
            kwargs.pop("padding_side", None) or (self._stored_padding or {}).get("direction") or self.padding_side,
            "padding_side",
        )
        self.truncation_side = self._side(
            kwargs.pop("truncation_side", None)
            or (self._stored_truncation or {}).get("direction")
            or self.truncation_side,
            "truncation_side",
        )
        if self._special_tokens["pad_token"] is None and "pad_token" not in self.init_kwargs and self._stored_padding:
            self._special_tokens["pad_token"] = self._stored_padding["pad_token"]
        if loaded_from_file:
            self.update_backend(backend)
        self._register_special_tokens(added_tokens_decoder)
        post_processor = self.build_post_processor()
        if post_processor is not None:
            backend.post_processor = post_processor
        backend.encode_special_tokens = self.split_special_tokens

    # -- the subclass contract -------------------------------------------------------

    def build_backend(self, **vocab_files: str | None) -> Tokenizer:
        """Build the backend from the architecture's vocabulary files (no ``tokenizer.json`` present)."""
        raise FileResolutionError(
            f"{type(self).__name__} needs a tokenizer.json (tokenizer_file=...) or a tokenizers.Tokenizer "
            "(tokenizer_object=...): it cannot build one from vocabulary files."
        )

    def update_backend(self, backend: Tokenizer) -> None:
        """Make the init options take effect on a backend read from ``tokenizer.json``; default: keep it as is."""

    def build_post_processor(self) -> Any:
        """The special-token template (a ``tokenizers.processors`` object), or None to keep the backend's."""
        return None

    def vocabulary_files(self) -> dict[str, str]:
        """Vocabulary files to write next to ``tokenizer.json``, as file name to text; default: none."""
        return {}

    # -- construction helpers --------------------------------------------------------

    @staticmethod
    def _side(value: Any, name: str, error: type[Exception] = ConfigError) -> str:
        side = str(value).lower()
        if side not in ("right", "left"):
            raise error(f"{name} must be 'right' or 'left', not {value!r}.")
        return side

    def _register_special_tokens(self, added_tokens_decoder: dict[Any, Any]) -> None:
        """Put the special tokens (and the config's recorded added tokens) into the backend, as transformers does.

        The order matters: a token missing from the vocabulary gets the next free id,
        so recorded added tokens come first (by id), then the named special tokens in
        attribute order, then the extra ones.
        """
        present = set(self.added_tokens_encoder)
        to_add: list[AddedToken] = []
        for index in sorted(added_tokens_decoder, key=int):
            token = _as_added_token(added_tokens_decoder[index], f"added_tokens_decoder[{index}]")
            token = token if isinstance(token, AddedToken) else AddedToken(token, special=True)
            if token.content not in present:
                to_add.append(token)
                present.add(token.content)
        named = {str(value) for value in self._special_tokens.values() if value is not None}
        for value in [*self._special_tokens.values(), *self._extra_special_tokens]:
            if value is None or str(value) in present:
                continue
            if isinstance(value, str):
                value = AddedToken(value, special=True)
            elif not value.special and value.content in named:
                value = AddedToken(
                    value.content,
                    single_word=value.single_word,
                    lstrip=value.lstrip,
                    rstrip=value.rstrip,
                    normalized=value.normalized,
                    special=True,
                )
            to_add.append(value)
            present.add(str(value))
        if to_add:
            self._backend.add_tokens(to_add)

    # -- loading and saving ----------------------------------------------------------

    @classmethod
    def from_pretrained(cls, path_or_repo: str | os.PathLike[str], *init_inputs: Any, **kwargs: Any) -> Any:
        """Load from a checkpoint folder or Hub repo id; keyword arguments override ``tokenizer_config.json``.

        ``tokenizer.json`` is used when present; otherwise the architecture's own
        vocabulary files (``vocab_files_names``) are read and the backend is built
        from them.
        """
        options = HubOptions.pop_from(kwargs)
        source = os.fspath(path_or_repo)
        where = describe(source, options)
        if os.path.isfile(source):
            return cls._from_single_file(source, *init_inputs, **kwargs)

        config_path = resolve_file(source, TOKENIZER_CONFIG_FILE, options, required=False)
        config = files.read_json_object(config_path, "Tokenizer config") if config_path else {}
        for key in ("tokenizer_class", "auto_map", "init_inputs", "fast_tokenizer_files"):
            config.pop(key, None)
        for key in cls.vocab_files_names:  # a path recorded in a config file is never followed
            config.pop(key, None)
        config.pop("tokenizer_file", None)

        if "added_tokens_decoder" not in config:
            # older layout: special_tokens_map.json holds the special tokens (and wins over the config)
            map_path = resolve_file(source, SPECIAL_TOKENS_MAP_FILE, options, required=False)
            if map_path is not None:
                special_map = files.read_json_object(map_path, "Special tokens map")
                for key, value in special_map.items():
                    if key in ("additional_special_tokens", "extra_special_tokens") and config.get(key):
                        merged = list(config[key])
                        merged += [token for token in value if token not in merged]
                        value = merged
                    config[key] = value

        tokenizer_file = kwargs.pop("tokenizer_file", None) or resolve_file(
            source, TOKENIZER_FILE, options, required=False
        )
        vocab_paths: dict[str, str | None] = {}
        if tokenizer_file is None:
            for key, filename in cls.vocab_files_names.items():
                vocab_paths[key] = kwargs.pop(key, None) or resolve_file(source, filename, options, required=False)
            missing = [cls.vocab_files_names[key] for key, path in vocab_paths.items() if path is None]
            if missing or not cls.vocab_files_names:
                wanted = " and ".join([TOKENIZER_FILE, *missing]) if missing else TOKENIZER_FILE
                raise FileResolutionError(
                    f"{where} has no {wanted}: {cls.__name__} needs {TOKENIZER_FILE}"
                    + (f" or {' and '.join(cls.vocab_files_names.values())}" if cls.vocab_files_names else "")
                    + ". Check the folder is a complete tokenizer checkpoint (saved with save_pretrained)."
                )
        init_kwargs = {**config, **kwargs, "name_or_path": source}
        try:
            return cls(*init_inputs, tokenizer_file=tokenizer_file, **vocab_paths, **init_kwargs)
        except TypeError as exc:
            raise ConfigError(f"{cls.__name__} cannot be built from the tokenizer config of {where}: {exc}") from exc

    @classmethod
    def _from_single_file(cls, path: str, *init_inputs: Any, **kwargs: Any) -> Any:
        """transformers' older form: the path of ``tokenizer.json`` or of the one vocabulary file itself."""
        if os.path.basename(path) == TOKENIZER_FILE or (path.endswith(".json") and not cls.vocab_files_names):
            return cls(*init_inputs, tokenizer_file=path, name_or_path=path, **kwargs)
        if len(cls.vocab_files_names) == 1:
            (key,) = cls.vocab_files_names
            return cls(*init_inputs, **{key: path}, name_or_path=path, **kwargs)
        raise FileResolutionError(
            f"{path} is a single file, but {cls.__name__} reads several ({', '.join(cls.vocab_files_names.values())}); "
            "pass the folder that holds them."
        )

    def save_pretrained(
        self, save_directory: str | os.PathLike[str], filename_prefix: str | None = None, **kwargs: Any
    ) -> tuple[str, ...]:
        """Write ``tokenizer.json``, ``tokenizer_config.json``, ``special_tokens_map.json`` and the vocabulary files.

        The files are replaced together (see :class:`autoload.files.StagedFiles`),
        and the layout is the one transformers reads, so the folder loads with
        either library.
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

        # One set: a tokenizer_config.json of this save never sits beside a tokenizer.json of an older one.
        with files.StagedFiles(directory) as staged:
            written = [
                staged.write_json(prefix + TOKENIZER_CONFIG_FILE, self._config_to_save()),
                staged.write_json(prefix + SPECIAL_TOKENS_MAP_FILE, self._special_tokens_map_to_save()),
                staged.write_text(prefix + TOKENIZER_FILE, self._backend_json()),
            ]
            written += [staged.write_text(prefix + name, text) for name, text in self.vocabulary_files().items()]
        return tuple(written)

    def save_vocabulary(
        self, save_directory: str | os.PathLike[str], filename_prefix: str | None = None
    ) -> tuple[str, ...]:
        """Write only the architecture's vocabulary files (``vocab.txt`` ...)."""
        prefix = f"{filename_prefix}-" if filename_prefix else ""
        with files.StagedFiles(save_directory) as staged:
            return tuple(staged.write_text(prefix + name, text) for name, text in self.vocabulary_files().items())

    def _backend_json(self) -> str:
        """The backend serialised with the truncation/padding it was loaded with, not the last call's."""
        with self._lock:
            self._apply_truncation(self._stored_truncation)
            self._apply_padding(self._stored_padding)
            return self._backend.to_str(pretty=True)

    def _config_to_save(self) -> dict[str, Any]:
        config: dict[str, Any] = {}
        for key, value in self.init_kwargs.items():
            if key in _PRIVATE_CONFIG_KEYS or key in self.SPECIAL_TOKENS_ATTRIBUTES or key in self.vocab_files_names:
                continue
            current = getattr(self, key, value) if not key.startswith("_") else value
            config[key] = _jsonable(value if callable(current) else current)
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
        config.update(self.special_tokens_map)
        if self._extra_special_tokens:
            # the older name: transformers 5 reads it as extra_special_tokens, 4.x (where that name meant
            # something else) reads it as it always did
            config["additional_special_tokens"] = [str(token) for token in self._extra_special_tokens]
        config["tokenizer_class"] = type(self).__name__
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

    # -- pickling (the lock cannot travel) ---------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    def __deepcopy__(self, memo: dict[int, Any]) -> PreTrainedTokenizer:
        clone = type(self).__new__(type(self))
        memo[id(self)] = clone
        for key, value in self.__dict__.items():
            if key != "_lock":
                clone.__dict__[key] = copy.deepcopy(value, memo)
        clone._lock = threading.RLock()
        return clone

    # -- vocabulary and special tokens --------------------------------------------------

    @property
    def backend_tokenizer(self) -> Tokenizer:
        """The ``tokenizers.Tokenizer`` underneath (shared; its truncation/padding change per call)."""
        return self._backend

    @property
    def is_fast(self) -> bool:
        return True

    @property
    def vocab_size(self) -> int:
        """Size of the base vocabulary, without added tokens."""
        return self._backend.get_vocab_size(with_added_tokens=False)

    def __len__(self) -> int:
        return self._backend.get_vocab_size(with_added_tokens=True)

    def __bool__(self) -> bool:
        return True

    def get_vocab(self) -> dict[str, int]:
        return self._backend.get_vocab(with_added_tokens=True)

    @property
    def vocab(self) -> dict[str, int]:
        return self.get_vocab()

    @property
    def added_tokens_decoder(self) -> dict[int, AddedToken]:
        return self._backend.get_added_tokens_decoder()

    @property
    def added_tokens_encoder(self) -> dict[str, int]:
        return {token.content: index for index, token in sorted(self.added_tokens_decoder.items())}

    def get_added_vocab(self) -> dict[str, int]:
        return self.added_tokens_encoder

    @property
    def extra_special_tokens(self) -> list[str]:
        return [str(token) for token in self._extra_special_tokens]

    @extra_special_tokens.setter
    def extra_special_tokens(self, tokens: Iterable[str | AddedToken] | None) -> None:
        self._extra_special_tokens = [_as_added_token(token, "each extra special token") for token in tokens or []]

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

    def convert_tokens_to_ids(self, tokens: str | Iterable[str]) -> int | list[int | None] | None:
        """Ids of tokens; a token outside the vocabulary is the unknown token's id."""
        if isinstance(tokens, str):
            return self._token_to_id(tokens)
        return [self._token_to_id(token) for token in tokens]

    def _token_to_id(self, token: str) -> int | None:
        if not isinstance(token, str):
            raise ProcessingError(f"Tokens are strings; got {_describe_value(token)}.")
        index = self._backend.token_to_id(token)
        if index is None:
            unk = self._special_tokens.get("unk_token")
            return None if unk is None else self._backend.token_to_id(str(unk))
        return index

    def convert_ids_to_tokens(self, ids: int | Iterable[int], skip_special_tokens: bool = False) -> Any:
        """Tokens of ids (None for an id outside the vocabulary)."""
        if isinstance(ids, int) or (hasattr(ids, "item") and getattr(ids, "ndim", 1) == 0):
            return self._backend.id_to_token(self._check_id(ids))
        skip = set(self.all_special_ids) if skip_special_tokens else set()
        tokens = []
        for index in _to_python(ids):
            index = self._check_id(index)
            if index not in skip:
                tokens.append(self._backend.id_to_token(index))
        return tokens

    @staticmethod
    def _check_id(index: Any) -> int:
        if hasattr(index, "item"):
            index = index.item()
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise ProcessingError(f"Token ids are non-negative integers; got {_describe_value(index)}.")
        return index

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        decoder = self._backend.decoder
        return decoder.decode(tokens) if decoder is not None else " ".join(tokens)

    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        return self._backend.num_special_tokens_to_add(pair)

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
        return [1 if int(index) in special else 0 for index in _to_python(token_ids_0)]

    def add_tokens(
        self, new_tokens: str | AddedToken | Sequence[str | AddedToken], special_tokens: bool = False
    ) -> int:
        """Add tokens to the vocabulary (after the existing ids); returns how many were new."""
        if not new_tokens:
            return 0
        if isinstance(new_tokens, (str, AddedToken)):
            new_tokens = [new_tokens]
        tokens = [_as_added_token(token, "each new token") for token in new_tokens]
        with self._lock:
            if special_tokens:
                return self._backend.add_special_tokens(tokens)
            return self._backend.add_tokens(tokens)

    def add_special_tokens(self, special_tokens_dict: dict[str, Any], replace_extra_special_tokens: bool = True) -> int:
        """Set named special tokens (``{"pad_token": "[PAD]"}``) and add them to the vocabulary."""
        added: list[str | AddedToken] = []
        for key, value in special_tokens_dict.items():
            if key in ("additional_special_tokens", "extra_special_tokens"):
                tokens = [_as_added_token(token, key) for token in value]
                if replace_extra_special_tokens:
                    self._extra_special_tokens = tokens
                else:
                    self._extra_special_tokens += [t for t in tokens if str(t) not in self.extra_special_tokens]
                added += tokens
            elif key in self.SPECIAL_TOKENS_ATTRIBUTES:
                token = _as_added_token(value, key)
                self._special_tokens[key] = token
                added.append(token)
            else:
                raise ProcessingError(
                    f"{key!r} is not a special token name; use one of {', '.join(self.SPECIAL_TOKENS_ATTRIBUTES)} "
                    "or extra_special_tokens."
                )
        special = [token if isinstance(token, AddedToken) else AddedToken(token, special=True) for token in added]
        return self.add_tokens(special, special_tokens=True)

    # -- encoding --------------------------------------------------------------------------

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
        """Tokenize one text, a pair, or batches of either, as transformers' fast tokenizers do.

        Truncation and padding are carried out by the ``tokenizers`` backend with
        the settings transformers would give it, so lengths, overflow windows,
        offsets and masks are the same.  ``text_target`` is encoded the same way
        and returned as ``labels``.
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
                f"pad takes an encoding or a list of encodings, not {_describe_value(encoded_inputs)}."
            )
        if "input_ids" not in encoded_inputs:
            raise ProcessingError(f"pad needs input_ids among the fields; got {sorted(encoded_inputs)}.")
        first = encoded_inputs["input_ids"]
        probe = first[0] if isinstance(first, (list, tuple)) and len(first) else first
        if return_tensors is None:
            kind = type(probe).__module__.split(".")[0]
            return_tensors = {"torch": "pt", "numpy": "np"}.get(kind)
        fields = {key: _to_python(value) for key, value in encoded_inputs.items()}
        ids = fields["input_ids"]
        batched = bool(ids) and isinstance(ids[0], list)
        examples = [
            {key: value[index] for key, value in fields.items()} for index in range(len(ids))
        ] if batched else [fields]  # fmt: skip

        plan = self._plan(padding, False, max_length, pad_to_multiple_of, verbose)
        target = plan.max_length
        if plan.padding == "longest":
            target = max(len(example["input_ids"]) for example in examples)
        if target is not None and pad_to_multiple_of and target % pad_to_multiple_of:
            target = (target // pad_to_multiple_of + 1) * pad_to_multiple_of
        side = self._side(padding_side or self.padding_side, "padding_side", ProcessingError)
        with_mask = (
            "attention_mask" in self.model_input_names if return_attention_mask is None else return_attention_mask
        )
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
            for key, filler in fillers.items():
                if key in example:
                    padding_values = [filler] * missing
                    example[key] = example[key] + padding_values if side == "right" else padding_values + example[key]
        output = {key: [example[key] for example in examples] for key in examples[0]} if batched else examples[0]
        return BatchEncoding(output, tensor_type=return_tensors)

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

    def tokenize(
        self, text: str, pair: str | None = None, add_special_tokens: bool = False, **kwargs: Any
    ) -> list[str]:
        """The token strings of one text (or pair), without special tokens unless asked."""
        if not isinstance(text, str) and not kwargs.get("is_split_into_words"):
            raise ProcessingError(f"tokenize takes one text (str); got {_describe_value(text)}.")
        return self(text, pair, add_special_tokens=add_special_tokens, **kwargs).encodings[0].tokens

    def _plan(self, padding: Any, truncation: Any, max_length: Any, pad_to_multiple_of: Any, verbose: bool) -> _Plan:
        """Turn the padding/truncation arguments into strategies, with transformers' rules and warnings."""
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
        elif isinstance(padding, str) and padding in PADDING_STRATEGIES:
            padding_strategy = str(padding.value if hasattr(padding, "value") else padding)
        else:
            raise ProcessingError(f"padding must be True, False or one of {PADDING_STRATEGIES}, not {padding!r}.")

        if truncation is False or truncation is None:
            truncation_strategy = "do_not_truncate"
        elif truncation is True:
            truncation_strategy = "longest_first"
        elif isinstance(truncation, str) and truncation in TRUNCATION_STRATEGIES:
            truncation_strategy = str(truncation.value if hasattr(truncation, "value") else truncation)
        else:
            raise ProcessingError(
                f"truncation must be True, False, None or one of {TRUNCATION_STRATEGIES}, not {truncation!r}."
            )

        if max_length is None:
            unlimited = self.model_max_length > LARGE_INTEGER
            if padding_strategy == "max_length":
                if unlimited:
                    if verbose:
                        warnings.warn(
                            "Asked to pad to max_length, but no max_length was given and the tokenizer has no "
                            "model_max_length: not padding.",
                            stacklevel=3,
                        )
                    padding_strategy = "do_not_pad"
                else:
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

    def _apply_truncation(self, target: dict[str, Any] | None) -> None:
        """Set the backend's truncation, touching it only when it differs (caller holds the lock)."""
        current = self._backend.truncation
        if target is None:
            if current is not None:
                self._backend.no_truncation()
            return
        if current is None or any(current.get(key) != value for key, value in target.items()):
            self._backend.enable_truncation(**target)

    def _apply_padding(self, target: dict[str, Any] | None) -> None:
        current = self._backend.padding
        if target is None:
            if current is not None:
                self._backend.no_padding()
            return
        if current != target:
            self._backend.enable_padding(**target)

    def _encode(
        self,
        text: Any,
        text_pair: Any,
        plan: _Plan,
        *,
        names: tuple[str, str],
        add_special_tokens: bool,
        stride: int,
        is_split_into_words: bool,
        pad_to_multiple_of: int | None,
        padding_side: str | None,
        return_tensors: str | None,
        return_token_type_ids: bool | None,
        return_attention_mask: bool | None,
        return_overflowing_tokens: bool,
        return_special_tokens_mask: bool,
        return_offsets_mapping: bool,
        return_length: bool,
        verbose: bool,
        split_special_tokens: bool,
    ) -> BatchEncoding:
        if return_tensors not in (None, "pt", "np"):
            raise ProcessingError(f"return_tensors must be 'pt', 'np' or None, not {return_tensors!r}.")
        if isinstance(stride, bool) or not isinstance(stride, int) or stride < 0:
            raise ProcessingError(f"stride must be a non-negative integer, not {stride!r}.")
        side = self.padding_side if padding_side is None else self._side(padding_side, "padding_side", ProcessingError)
        batch, is_batched = self._batch_inputs(text, text_pair, is_split_into_words, names)

        truncation = None
        if plan.truncation != "do_not_truncate":
            truncation = {
                "max_length": plan.max_length,
                "stride": stride,
                "strategy": plan.truncation,
                "direction": self.truncation_side,
            }
        padding = None
        if plan.padding != "do_not_pad":
            padding = {
                "length": plan.max_length if plan.padding == "max_length" else None,
                "pad_to_multiple_of": pad_to_multiple_of,
                "pad_id": self.pad_token_id,
                "pad_token": self.pad_token,
                "pad_type_id": self.pad_token_type_id,
                "direction": side,
            }
        with self._lock:
            try:
                self._apply_truncation(truncation)
            except ValueError as exc:  # e.g. a stride too large for max_length
                raise ProcessingError(
                    f"Cannot truncate with max_length={plan.max_length}, stride={stride}: {exc}"
                ) from exc
            self._apply_padding(padding)
            if self._backend.encode_special_tokens != split_special_tokens:
                self._backend.encode_special_tokens = split_special_tokens
            try:
                encodings = self._backend.encode_batch(
                    batch, add_special_tokens=add_special_tokens, is_pretokenized=is_split_into_words
                )
            except TypeError as exc:
                raise self._diagnose(batch, names, exc) from exc
            except Exception as exc:  # the Rust side raises bare Exception (e.g. "Second sequence not provided")
                raise ProcessingError(f"{type(self).__name__} could not encode the input: {exc}") from exc
            except BaseException as exc:
                # A Rust panic (pyo3's PanicException derives from BaseException), e.g. a stride too long
                # for the room one text of a pair has left after truncation.
                if type(exc).__name__ != "PanicException":
                    raise
                raise ProcessingError(
                    f"{type(self).__name__} could not encode the input with max_length={plan.max_length}, "
                    f"stride={stride}: {exc}. Use a smaller stride or a larger max_length."
                ) from exc

        if return_token_type_ids is None:
            return_token_type_ids = "token_type_ids" in self.model_input_names
        if return_attention_mask is None:
            return_attention_mask = "attention_mask" in self.model_input_names
        data: dict[str, list[Any]] = {"input_ids": []}
        if return_token_type_ids:
            data["token_type_ids"] = []
        if return_attention_mask:
            data["attention_mask"] = []
        if return_special_tokens_mask:
            data["special_tokens_mask"] = []
        if return_offsets_mapping:
            data["offset_mapping"] = []
        if return_length:
            data["length"] = []
        rows: list[Encoding] = []
        sample_mapping: list[int] = []
        for sample, encoding in enumerate(encodings):
            windows = [encoding, *encoding.overflowing] if return_overflowing_tokens else [encoding]
            for window in windows:
                rows.append(window)
                sample_mapping.append(sample)
                data["input_ids"].append(window.ids)
                if return_token_type_ids:
                    data["token_type_ids"].append(window.type_ids)
                if return_attention_mask:
                    data["attention_mask"].append(window.attention_mask)
                if return_special_tokens_mask:
                    data["special_tokens_mask"].append(window.special_tokens_mask)
                if return_offsets_mapping:
                    data["offset_mapping"].append(window.offsets)
                if return_length:
                    data["length"].append(len(window.ids))
        if return_overflowing_tokens:
            data["overflow_to_sample_mapping"] = sample_mapping
        for ids in data["input_ids"]:
            self._warn_if_too_long(ids, plan.max_length, verbose)

        if not is_batched and return_tensors is None and not return_overflowing_tokens:
            # transformers drops the batch level of row-valued keys only; "length" stays a one-item list
            data = {key: value[0] if value and isinstance(value[0], list) else value for key, value in data.items()}
        return BatchEncoding(data, rows, tensor_type=return_tensors)

    def _batch_inputs(
        self, text: Any, text_pair: Any, is_split_into_words: bool, names: tuple[str, str]
    ) -> tuple[list[Any], bool]:
        """Check the input's shape and types, and lay it out as the backend's batch."""
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
                f"not {_describe_value(text_pair)}."
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
                f"{name} must be a str (or a list of str for a batch); got {_describe_value(value)}. "
                "For words already split, pass is_split_into_words=True."
            )

    @staticmethod
    def _check_words(value: Any, name: str) -> None:
        if not isinstance(value, (list, tuple)):
            raise ProcessingError(
                f"With is_split_into_words=True, {name} must be a list of words (str); got {_describe_value(value)}."
            )
        for index, word in enumerate(value):
            if not isinstance(word, str):
                raise ProcessingError(
                    f"With is_split_into_words=True, {name}[{index}] must be a str; got {_describe_value(word)}."
                )

    def _diagnose(self, batch: list[Any], names: tuple[str, str], exc: Exception) -> ProcessingError:
        """Name the text the backend refused: almost always a lone surrogate, which is not valid Unicode text."""

        def strings(item: Any) -> Iterable[str]:
            if isinstance(item, str):
                yield item
            elif isinstance(item, (list, tuple)):
                for part in item:
                    yield from strings(part)

        for index, item in enumerate(batch):
            for value in strings(item):
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError as error:
                    where = names[0] if len(batch) == 1 else f"{names[0]}[{index}]"
                    return ProcessingError(
                        f"{where} is not valid Unicode text: it holds the lone surrogate "
                        f"{value[error.start]!r} at position {error.start} (often a badly decoded byte string). "
                        "Decode the bytes with errors='replace' or 'surrogatepass' handling fixed first."
                    )
        return ProcessingError(f"{type(self).__name__} could not encode the input: {exc}")

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

    # -- decoding --------------------------------------------------------------------------

    def decode(
        self,
        token_ids: Any,
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
        **kwargs: Any,
    ) -> str | list[str]:
        """Text of one sequence of ids, or a list of texts for a batch of sequences."""
        ids = _to_python(token_ids)
        if isinstance(ids, dict):
            ids = _to_python(ids.get("input_ids"))
        if isinstance(ids, list) and ids and isinstance(ids[0], list):
            return [self._decode_one(seq, skip_special_tokens, clean_up_tokenization_spaces) for seq in ids]
        return self._decode_one(ids, skip_special_tokens, clean_up_tokenization_spaces)

    def batch_decode(
        self,
        sequences: Any,
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
        **kwargs: Any,
    ) -> list[str]:
        """Texts of a batch of id sequences."""
        sequences = _to_python(sequences)
        if isinstance(sequences, (list, tuple)) and len(sequences) == 0:
            return []
        result = self.decode(sequences, skip_special_tokens, clean_up_tokenization_spaces)
        return [result] if isinstance(result, str) else result

    def _decode_one(self, ids: Any, skip_special_tokens: bool, clean_up: bool | None) -> str:
        if not isinstance(ids, (list, tuple)):
            ids = [ids]
        try:
            text = self._backend.decode(ids, skip_special_tokens=skip_special_tokens)
        except (OverflowError, TypeError) as exc:  # find the culprit only when there is one
            for index in ids:
                self._check_id(index)
            raise ProcessingError(f"Cannot decode {_describe_value(ids)}: {exc}") from exc
        if self.clean_up_tokenization_spaces if clean_up is None else clean_up:
            if type(self._backend.model).__name__ == "BPE":
                self._warn_once(
                    "bpe-cleanup",
                    "Ignoring clean_up_tokenization_spaces=True for a BPE tokenizer: the clean-up is meant for "
                    "WordPiece output and would remove real spaces before punctuation.",
                )
            else:
                text = self.clean_up_tokenization(text)
        return text

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

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name_or_path={self.name_or_path!r}, vocab_size={self.vocab_size}, "
            f"model_max_length={self.model_max_length}, padding_side={self.padding_side!r}, "
            f"truncation_side={self.truncation_side!r}, special_tokens={self.special_tokens_map})"
        )


PreTrainedTokenizerFast = PreTrainedTokenizer

__all__ = [
    "AddedToken",
    "BatchEncoding",
    "CharSpan",
    "LARGE_INTEGER",
    "PreTrainedTokenizer",
    "PreTrainedTokenizerFast",
    "SPECIAL_TOKENS_MAP_FILE",
    "TOKENIZER_CONFIG_FILE",
    "TOKENIZER_FILE",
    "TokenSpan",
    "VERY_LARGE_INTEGER",
    "tokenizers",
]
