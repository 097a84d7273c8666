"""The backend over the Hugging Face ``tokenizers`` library, and the host's generic ``tokenizer.json`` tokenizer.

A :class:`TokenizersBackend` is a thin, thread-safe shell around one
``tokenizers.Tokenizer``: the library does the normalising, splitting, subword
lookup, special-token templates, truncation and padding, so outputs match
transformers' tokenizers exactly, because transformers drives the very same
library.  Instantiated as it is, it is the generic tokenizer of any checkpoint
with a ``tokenizer.json`` (transformers 5 records it as ``TokenizersBackend``
or ``PreTrainedTokenizerFast``); architectures subclass it for what is theirs.

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
  backend from the vocabulary files when there is no ``tokenizer.json``
  (:func:`byte_level_bpe` builds GPT-2's byte-level BPE from ``vocab.json``
  and ``merges.txt``).
* ``update_backend(self, backend)`` (optional): make the init options take
  effect on a backend read from ``tokenizer.json``.
* ``build_post_processor(self)`` (optional): the special-token template,
  called once the special tokens have ids; ``None`` keeps the backend's.  The
  default honours ``add_bos_token`` / ``add_eos_token`` as transformers 5 does.
* ``vocabulary_files(self) -> dict[str, str]`` (optional): file name to text
  content of the vocabulary files to write next to ``tokenizer.json``
  (:func:`bpe_vocabulary_files` writes ``vocab.json`` and ``merges.txt``).
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import tokenizers
from tokenizers import AddedToken, Tokenizer, decoders, pre_tokenizers, processors
from tokenizers.models import BPE

from autoload.errors import CheckpointError, ConfigError, FileResolutionError, ProcessingError
from autoload.hub import HubOptions, resolve_file

from .base import TOKENIZER_FILE, PreTrainedTokenizerBase, _Plan, describe_value, token_flags


def load_tokenizer_json(path: str) -> Tokenizer:
    """Read a ``tokenizer.json``; a broken one is a :class:`CheckpointError` naming the file."""
    try:
        _check_patterns(path)
        return Tokenizer.from_file(path)
    except CheckpointError:
        raise
    except Exception as exc:  # the Rust side raises bare Exception for every parse failure
        raise CheckpointError(
            f"{path} is not a valid tokenizer.json ({exc}). Save the tokenizer again, or download the checkpoint "
            "again if the file was truncated."
        ) from exc


def _check_patterns(path: str) -> None:
    """Refuse regexes that backtrack catastrophically (autoload._pattern_guard), before the backend compiles them."""
    import json

    from autoload._pattern_guard import check_tokenizer_patterns

    with open(path, "rb") as handle:
        raw = handle.read()
    if b'"Regex"' not in raw:
        return
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return  # not JSON: the backend's parse reports it
    check_tokenizer_patterns(data, path)


def byte_level_bpe(
    vocab_file: str | os.PathLike[str] | None = None,
    merges_file: str | os.PathLike[str] | None = None,
    *,
    vocab: Mapping[str, int] | None = None,
    merges: Iterable[tuple[str, str]] | None = None,
    add_prefix_space: bool = False,
    trim_offsets: bool = True,
    unk_token: str | None = None,
    pre_tokenizer: Any = None,
) -> Tokenizer:
    """GPT-2's byte-level BPE from ``vocab.json`` and ``merges.txt`` (or the vocabulary and merges themselves).

    Bytes are mapped to printable characters before the merges, so no text is
    ever unknown.  ``pre_tokenizer`` replaces the default GPT-2 splitting (a
    ``tokenizers.pre_tokenizers`` object, e.g. a ``Sequence`` of a ``Split``
    with a model's own pattern and ``ByteLevel(use_regex=False)``).
    """
    if vocab is None:
        if vocab_file is None:
            raise FileResolutionError("A byte-level BPE needs vocab.json (vocab_file=...) or vocab={token: id}.")
        vocab = _read_vocab_json(os.fspath(vocab_file))
    if merges is None:
        if merges_file is None:
            raise FileResolutionError("A byte-level BPE needs merges.txt (merges_file=...) or merges=[(a, b), ...].")
        merges = _read_merges(os.fspath(merges_file))
    try:
        model = BPE(dict(vocab), list(merges), unk_token=unk_token, fuse_unk=False)
    except Exception as exc:  # the Rust side raises bare Exception (a merge naming a token the vocabulary lacks)
        raise CheckpointError(f"The BPE vocabulary and merges do not fit together: {exc}") from exc
    backend = Tokenizer(model)
    backend.pre_tokenizer = (
        pre_tokenizer if pre_tokenizer is not None else pre_tokenizers.ByteLevel(add_prefix_space=add_prefix_space)
    )
    backend.decoder = decoders.ByteLevel()
    backend.post_processor = processors.ByteLevel(trim_offsets=trim_offsets)
    return backend


def bpe_vocabulary_files(backend: Tokenizer) -> dict[str, str]:
    """``vocab.json`` and ``merges.txt`` of a BPE backend, as transformers' slow GPT-2 files hold them."""
    state = json.loads(backend.to_str())["model"]
    if state.get("type") != "BPE":
        raise ConfigError(f"bpe_vocabulary_files needs a BPE model, not {state.get('type')!r}.")
    merges = [" ".join(merge) if isinstance(merge, list) else merge for merge in state["merges"]]
    vocab = json.dumps(state["vocab"], ensure_ascii=False, indent=2, sort_keys=False) + "\n"
    return {"vocab.json": vocab, "merges.txt": "#version: 0.2\n" + "".join(f"{merge}\n" for merge in merges)}


def _read_vocab_json(path: str) -> dict[str, int]:
    from autoload.files import read_json_object

    vocab = read_json_object(path, "Vocabulary")
    if not all(isinstance(index, int) and not isinstance(index, bool) for index in vocab.values()):
        raise ConfigError(f"{path} must map tokens to integer ids.")
    return vocab


def _read_merges(path: str) -> list[tuple[str, str]]:
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().split("\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path} cannot be read as a UTF-8 merges file: {exc}") from exc
    merges = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or (number == 1 and line.startswith("#version")):
            continue
        parts = line.split(" ")
        if len(parts) != 2:
            raise CheckpointError(f"{path}, line {number}: a merge is two tokens separated by one space, not {line!r}.")
        merges.append((parts[0], parts[1]))
    return merges


class TokenizersBackend(PreTrainedTokenizerBase):
    """A tokenizer over a ``tokenizers.Tokenizer``; as it is, the generic tokenizer of a ``tokenizer.json``.

    See the module docstring for what a subclass provides.
    """

    _file_kwargs: ClassVar[tuple[str, ...]] = ("tokenizer_file",)

    def __init__(
        self,
        *,
        tokenizer_file: str | os.PathLike[str] | None = None,
        tokenizer_object: Tokenizer | None = None,
        **kwargs: Any,
    ) -> None:
        self._tokenizer_file = tokenizer_file
        self._tokenizer_object = tokenizer_object
        self._explicit_bos_eos = "add_bos_token" in kwargs or "add_eos_token" in kwargs
        self._add_bos_token = bool(kwargs.get("add_bos_token", False))
        self._add_eos_token = bool(kwargs.get("add_eos_token", False))
        super().__init__(**kwargs)

    # -- the subclass contract ---------------------------------------------------------------------

    def build_backend(self, **vocab_files: str | None) -> Tokenizer:
        """Build the backend from the architecture's vocabulary files (no ``tokenizer.json`` present)."""
        raise FileResolutionError(
            f"{type(self).__name__} needs a tokenizer.json (tokenizer_file=...) or a tokenizers.Tokenizer "
            "(tokenizer_object=...): it cannot build one from vocabulary files."
        )

    def update_backend(self, backend: Tokenizer) -> None:
        """Make the init options take effect on a backend read from ``tokenizer.json``; default: keep it as is."""

    def build_post_processor(self) -> Any:
        """The special-token template, or None to keep the backend's.

        By default the template is rebuilt, as transformers 5 does, when the
        config sets ``add_bos_token`` / ``add_eos_token`` (Llama-style
        checkpoints) or the backend has none: ``<bos> $A <eos>`` with each part
        only when asked for.
        """
        if not (self._explicit_bos_eos or self._backend.post_processor is None):
            return None
        bos, eos = self.bos_token, self.eos_token
        add_bos = self._add_bos_token and bos is not None
        add_eos = self._add_eos_token and eos is not None
        single = f"{bos + ':0 ' if add_bos else ''}$A:0{' ' + eos + ':0' if add_eos else ''}"
        pair = f"{single}{' ' + bos + ':1' if add_bos else ''} $B:1{' ' + eos + ':1' if add_eos else ''}"
        special = [(bos, self.bos_token_id)] if add_bos else []
        if add_eos and not (add_bos and eos == bos):
            special.append((eos, self.eos_token_id))
        return processors.TemplateProcessing(single=single, pair=pair, special_tokens=special)

    @property
    def add_bos_token(self) -> bool:
        return self._add_bos_token

    @add_bos_token.setter
    def add_bos_token(self, value: bool) -> None:
        self._add_bos_token, self._explicit_bos_eos = bool(value), True
        self._init_kwargs["add_bos_token"] = bool(value)
        self._finish_setup()

    @property
    def add_eos_token(self) -> bool:
        return self._add_eos_token

    @add_eos_token.setter
    def add_eos_token(self, value: bool) -> None:
        self._add_eos_token, self._explicit_bos_eos = bool(value), True
        self._init_kwargs["add_eos_token"] = bool(value)
        self._finish_setup()

    # -- backend members of the base ------------------------------------------------------------------

    def _setup_backend(self, vocab_files: dict[str, Any], kwargs: dict[str, Any]) -> dict[str, Any]:
        tokenizer_object, tokenizer_file = self._tokenizer_object, self._tokenizer_file
        del self._tokenizer_object, self._tokenizer_file
        loaded_from_file = False
        if tokenizer_object is not None:
            if not isinstance(tokenizer_object, Tokenizer):
                raise ConfigError(
                    f"tokenizer_object must be a tokenizers.Tokenizer, not {type(tokenizer_object).__name__}."
                )
            backend = copy.deepcopy(tokenizer_object)
        elif tokenizer_file is not None:
            backend = load_tokenizer_json(os.fspath(tokenizer_file))
            loaded_from_file = True
        else:
            backend = self.build_backend(**vocab_files)
        self._backend: Tokenizer = backend
        # Settings stored in tokenizer.json: calls override them, saving writes them back unchanged.
        self._stored_truncation = backend.truncation
        self._stored_padding = backend.padding
        if loaded_from_file:
            self.update_backend(backend)
        return {
            "padding_side": (self._stored_padding or {}).get("direction"),
            "truncation_side": (self._stored_truncation or {}).get("direction"),
            "pad_token": (self._stored_padding or {}).get("pad_token"),
        }

    def _make_token(self, content: str, **flags: bool) -> AddedToken:
        return AddedToken(content, **flags)

    def _backend_token(self, token: Any, special: bool | None = None) -> AddedToken:
        """A ``tokenizers.AddedToken`` for any token form (str, AddedToken, SimpleAddedToken)."""
        if isinstance(token, str):
            return AddedToken(token, special=bool(special))
        if isinstance(token, AddedToken) and (special is None or token.special == special):
            return token
        flags = token_flags(token)
        if special is not None:
            flags["special"] = special
        return AddedToken(str(token), **flags)

    def _register_special_tokens(self, added_tokens_decoder: Mapping[Any, Any]) -> None:
        """Put the special tokens (and the config's recorded added tokens) into the backend, as transformers does.

        The order matters: a token missing from the vocabulary gets the next free id,
        so recorded added tokens come first (by id), then the named special tokens in
        attribute order, then the extra ones.
        """
        present = set(self.added_tokens_encoder)
        to_add: list[AddedToken] = []
        for index in sorted(added_tokens_decoder, key=int):
            token = self._as_added_token(added_tokens_decoder[index], f"added_tokens_decoder[{index}]")
            token = self._backend_token(token, special=True if isinstance(token, str) else None)
            if token.content not in present:
                to_add.append(token)
                present.add(token.content)
        named = {str(value) for value in self._special_tokens.values() if value is not None}
        for value in [*self._special_tokens.values(), *self._extra_special_tokens]:
            if value is None or str(value) in present:
                continue
            if isinstance(value, str):
                value = AddedToken(value, special=True)
            elif not value.special and str(value) in named:
                value = self._backend_token(value, special=True)
            else:
                value = self._backend_token(value)
            to_add.append(value)
            present.add(str(value))
        if to_add:
            self._backend.add_tokens(to_add)

    def _finish_setup(self) -> None:
        post_processor = self.build_post_processor()
        if post_processor is not None:
            self._backend.post_processor = post_processor
        self._backend.encode_special_tokens = self.split_special_tokens

    def _token_to_id_raw(self, token: str) -> int | None:
        return self._backend.token_to_id(token)

    def _id_to_token_raw(self, index: int) -> str | None:
        return self._backend.id_to_token(index)

    def _add_tokens(self, tokens: list[Any], special_tokens: bool) -> int:
        backend_tokens = [self._backend_token(token) for token in tokens]
        if special_tokens:
            return self._backend.add_special_tokens(backend_tokens)
        return self._backend.add_tokens(backend_tokens)

    @classmethod
    def _backend_file_kwargs(
        cls, source: str, options: HubOptions, kwargs: dict[str, Any], where: str
    ) -> dict[str, Any]:
        tokenizer_file = kwargs.pop("tokenizer_file", None) or resolve_file(
            source, TOKENIZER_FILE, options, required=False
        )
        if tokenizer_file is not None:
            return {"tokenizer_file": tokenizer_file}
        vocab_paths: dict[str, str | None] = {}
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
        return vocab_paths

    def _backend_files(self) -> dict[str, str]:
        """``tokenizer.json``, with the truncation/padding it was loaded with, not the last call's."""
        with self._lock:
            self._apply_truncation(self._stored_truncation)
            self._apply_padding(self._stored_padding)
            return {TOKENIZER_FILE: self._backend.to_str(pretty=True)}

    # -- vocabulary ------------------------------------------------------------------------------------

    @property
    def backend_tokenizer(self) -> Tokenizer:
        """The ``tokenizers.Tokenizer`` underneath (shared; its truncation/padding change per call)."""
        return self._backend

    @property
    def is_fast(self) -> bool:
        return True

    @property
    def vocab_size(self) -> int:
        return self._backend.get_vocab_size(with_added_tokens=False)

    def __len__(self) -> int:
        return self._backend.get_vocab_size(with_added_tokens=True)

    def get_vocab(self) -> dict[str, int]:
        return self._backend.get_vocab(with_added_tokens=True)

    @property
    def added_tokens_decoder(self) -> dict[int, AddedToken]:
        return self._backend.get_added_tokens_decoder()

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        decoder = self._backend.decoder
        return decoder.decode(tokens) if decoder is not None else " ".join(tokens)

    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        return self._backend.num_special_tokens_to_add(pair)

    # -- encoding --------------------------------------------------------------------------------------

    def tokenize(
        self, text: str, pair: str | None = None, add_special_tokens: bool = False, **kwargs: Any
    ) -> list[str]:
        """The token strings of one text (or pair), without special tokens unless asked."""
        if not isinstance(text, str) and not kwargs.get("is_split_into_words"):
            raise ProcessingError(f"tokenize takes one text (str); got {describe_value(text)}.")
        return self(text, pair, add_special_tokens=add_special_tokens, **kwargs).encodings[0].tokens

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

    def _encode_rows(
        self, batch: list[Any], plan: _Plan, options: dict[str, Any]
    ) -> list[tuple[int, dict[str, list[Any]], Any]]:
        stride = options["stride"]
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
                "pad_to_multiple_of": options["pad_to_multiple_of"],
                "pad_id": self.pad_token_id,
                "pad_token": self.pad_token,
                "pad_type_id": self.pad_token_type_id,
                "direction": options["padding_side"],
            }
        with self._lock:
            try:
                self._apply_truncation(truncation)
            except ValueError as exc:  # e.g. a stride too large for max_length
                raise ProcessingError(
                    f"Cannot truncate with max_length={plan.max_length}, stride={stride}: {exc}"
                ) from exc
            self._apply_padding(padding)
            if self._backend.encode_special_tokens != options["split_special_tokens"]:
                self._backend.encode_special_tokens = options["split_special_tokens"]
            try:
                encodings = self._backend.encode_batch(
                    batch,
                    add_special_tokens=options["add_special_tokens"],
                    is_pretokenized=options["is_split_into_words"],
                )
            except TypeError as exc:
                raise self._diagnose(batch, options["names"], exc) from exc
            except Exception as exc:  # the Rust side raises bare Exception (e.g. "Second sequence not provided")
                raise ProcessingError(f"{type(self).__name__} could not encode the input: {exc}") from exc
            except BaseException as exc:
                # A Rust panic (pyo3's PanicException derives from BaseException), e.g. a stride too long
                # for the room one text of a pair has left after truncation.
                if type(exc).__name__ != "PanicException":
                    raise
                if "retry-limit" in str(exc):
                    raise ProcessingError(
                        f"{type(self).__name__} could not tokenize the input: a regular expression of its "
                        "tokenizer.json (a pre-tokenizer or normalizer pattern) hit the regex engine's backtracking "
                        f"limit ({exc}). Use the tokenizer.json published with the model."
                    ) from exc
                raise ProcessingError(
                    f"{type(self).__name__} could not encode the input with max_length={plan.max_length}, "
                    f"stride={stride}: {exc}. Use a smaller stride or a larger max_length."
                ) from exc

        rows: list[tuple[int, dict[str, list[Any]], Any]] = []
        for sample, encoding in enumerate(encodings):
            windows = [encoding, *encoding.overflowing] if options["return_overflowing_tokens"] else [encoding]
            for window in windows:
                fields = {
                    "input_ids": window.ids,
                    "token_type_ids": window.type_ids,
                    "attention_mask": window.attention_mask,
                    "special_tokens_mask": window.special_tokens_mask,
                    "offset_mapping": window.offsets,
                    "length": len(window.ids),
                }
                rows.append((sample, fields, window))
        return rows

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

    # -- decoding --------------------------------------------------------------------------------------

    def _decode_ids(self, ids: list[int], skip_special_tokens: bool) -> str:
        try:
            return self._backend.decode(ids, skip_special_tokens=skip_special_tokens)
        except (OverflowError, TypeError) as exc:  # find the culprit only when there is one
            for index in ids:
                self._check_id(index)
            raise ProcessingError(f"Cannot decode {describe_value(ids)}: {exc}") from exc

    def _clean_up_applies(self) -> bool:
        return type(self._backend.model).__name__ != "BPE"


#: transformers 5's name for the same class.
PreTrainedTokenizerFast = TokenizersBackend

__all__ = [
    "PreTrainedTokenizerFast",
    "TokenizersBackend",
    "bpe_vocabulary_files",
    "byte_level_bpe",
    "load_tokenizer_json",
    "tokenizers",
]
