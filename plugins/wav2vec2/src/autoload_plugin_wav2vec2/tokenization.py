"""Wav2Vec2CTCTokenizer: characters to ids for CTC training, and CTC output back to text.

A CTC vocabulary is a set of characters (plus a few multi-character entries
such as ``<pad>``), stored in ``vocab.json``.  Encoding spells the text out
character by character, with the word delimiter (``"|"``) standing for a
space.  Decoding reads one id per audio frame: runs of the same id collapse
to one character, the padding token is the CTC *blank* that separates real
repetitions, and the delimiter turns back into a space.  Optionally it also
reports which frames each character and word came from, which, times
``config.inputs_to_logits_ratio / sampling_rate``, gives time stamps.

The tokenizer is self-contained (no ``tokenizers`` library: there is nothing
to learn or merge at character level) and reads and writes transformers'
files: ``vocab.json``, ``tokenizer_config.json`` and
``special_tokens_map.json``.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from autoload import BatchFeature, ConfigError, FileResolutionError, ModelOutput, ProcessingError
from autoload.files import read_json, read_json_object, write_json
from autoload.hub import HubOptions, describe, resolve_file

logger = logging.getLogger("autoload")

VOCAB_FILE = "vocab.json"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
SPECIAL_TOKENS_MAP_FILE = "special_tokens_map.json"
ADDED_TOKENS_FILE = "added_tokens.json"

#: transformers' "no limit" model_max_length (int(1e30)), written the same way.
VERY_LARGE_INTEGER = int(1e30)

_SPECIAL_ROLES = ("bos_token", "eos_token", "unk_token", "pad_token")

# Keys of tokenizer_config.json that describe the file rather than the tokenizer.
_FILE_ONLY_KEYS = (
    "tokenizer_class",
    "auto_map",
    "name_or_path",
    "backend",
    "special_tokens_map_file",
    "tokenizer_file",
    "use_fast",
    "added_tokens_decoder",
    "vocab_file",
)

# Keyword arguments transformers' tokenizers accept that change nothing here.
_ACCEPTED_NOOPS = frozenset(
    {
        "add_special_tokens",
        "stride",
        "return_overflowing_tokens",
        "return_special_tokens_mask",
        "return_offsets_mapping",
        "verbose",
    }
)


@dataclass(repr=False)
class Wav2Vec2CTCTokenizerOutput(ModelOutput):
    """Decoded text, with per-character and per-word frame offsets when they were asked for.

    Each character offset is ``{"char", "start_offset", "end_offset"}`` and
    each word offset ``{"word", "start_offset", "end_offset"}``, in frames,
    end exclusive.  From ``batch_decode`` every field is a list, one per input.
    """

    text: Any = None
    char_offsets: Any = None
    word_offsets: Any = None


@dataclass
class _AddedToken:
    """A token matched as a whole before the text is spelled out (``<pad>``, ``<unk>``, multi-character entries)."""

    content: str
    id: int
    lstrip: bool = False
    rstrip: bool = False
    special: bool = False
    single_word: bool = False
    normalized: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "lstrip": self.lstrip,
            "normalized": self.normalized,
            "rstrip": self.rstrip,
            "single_word": self.single_word,
            "special": self.special,
        }


def _token_text(value: Any, role: str) -> str | None:
    """A special token given as a string or as a saved AddedToken dict (``{"content": ...}``)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        return value["content"]
    raise ConfigError(f"Wav2Vec2CTCTokenizer: {role} must be a string, not {value!r}.")


def _to_python(value: Any) -> Any:
    """Token ids from torch, numpy or python containers as plain python ints and lists."""
    if hasattr(value, "detach"):
        value = value.detach().cpu()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_to_python(item) for item in value]
    return value


def clean_up_tokenization(text: str) -> str:
    """Remove the spaces English punctuation and contractions do not take (transformers' cleanup)."""
    for before, after in (
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
        text = text.replace(before, after)
    return text


class Wav2Vec2CTCTokenizer:
    """Character-level CTC tokenizer of the Wav2Vec2 family.

    ``vocab_file`` is a ``vocab.json`` mapping tokens to ids (or, for
    multilingual checkpoints such as MMS, languages to such mappings, chosen
    with ``target_lang``).  ``word_delimiter_token`` stands for a space;
    ``do_lower_case`` means the vocabulary is upper case: text is upper-cased
    before lookup and decoded text lower-cased.  ``pad_token`` doubles as the
    CTC blank.
    """

    vocab_files_names = {"vocab_file": VOCAB_FILE}
    model_input_names = ["input_ids", "attention_mask"]

    def __init__(
        self,
        vocab_file: str | os.PathLike[str] | None = None,
        bos_token: str | None = "<s>",
        eos_token: str | None = "</s>",
        unk_token: str | None = "<unk>",
        pad_token: str | None = "<pad>",
        word_delimiter_token: str | None = "|",
        replace_word_delimiter_char: str = " ",
        do_lower_case: bool = False,
        target_lang: str | None = None,
        *,
        vocab: dict[str, Any] | None = None,
        added_tokens_decoder: dict[Any, Any] | None = None,
        clean_up_tokenization_spaces: bool = False,
        model_max_length: int = VERY_LARGE_INTEGER,
        padding_side: str = "right",
        truncation_side: str = "right",
        **kwargs: Any,
    ) -> None:
        if vocab is None:
            if vocab_file is None:
                raise ProcessingError("Wav2Vec2CTCTokenizer needs a vocab_file (vocab.json) or a vocab dict.")
            vocab = read_json_object(vocab_file, "Vocabulary")
        self.vocab: dict[str, Any] = dict(vocab)
        self.bos_token = _token_text(bos_token, "bos_token")
        self.eos_token = _token_text(eos_token, "eos_token")
        self.unk_token = _token_text(unk_token, "unk_token")
        self.pad_token = _token_text(pad_token, "pad_token")
        self._word_delimiter_token = _token_text(word_delimiter_token, "word_delimiter_token")
        self.replace_word_delimiter_char = replace_word_delimiter_char
        self.do_lower_case = bool(do_lower_case)
        self.target_lang = target_lang
        self.clean_up_tokenization_spaces = bool(clean_up_tokenization_spaces)
        self.model_max_length = int(model_max_length) if model_max_length is not None else VERY_LARGE_INTEGER
        if padding_side not in ("right", "left") or truncation_side not in ("right", "left"):
            raise ConfigError(
                f"Wav2Vec2CTCTokenizer: padding_side and truncation_side must be 'right' or 'left', "
                f"not {padding_side!r} / {truncation_side!r}."
            )
        self.padding_side = padding_side
        self.truncation_side = truncation_side
        self.name_or_path = str(kwargs.pop("name_or_path", ""))
        self._processor_class: str | None = kwargs.pop("processor_class", None)
        for key in _FILE_ONLY_KEYS:
            kwargs.pop(key, None)
        # settings this class does not use, kept so that saving loses nothing
        self._extra_settings = dict(kwargs)
        self._select_vocabulary(target_lang)
        self._build_added_tokens(added_tokens_decoder or {})

    # -- vocabulary ---------------------------------------------------------------------

    def _select_vocabulary(self, target_lang: str | None) -> None:
        nested = bool(self.vocab) and all(isinstance(value, dict) for value in self.vocab.values())
        if target_lang is not None:
            if not nested:
                raise ConfigError(
                    f"target_lang={target_lang!r} was given, but the vocabulary is not multilingual "
                    "(a vocab.json whose values are per-language vocabularies)."
                )
            if target_lang not in self.vocab:
                raise ConfigError(
                    f"target_lang {target_lang!r} is not in the vocabulary; "
                    f"choose one of {', '.join(sorted(self.vocab))}."
                )
            encoder = self.vocab[target_lang]
        elif nested:
            raise ConfigError(
                "This vocab.json holds one vocabulary per language; pass target_lang=... "
                f"(one of {', '.join(sorted(self.vocab)[:10])}{', ...' if len(self.vocab) > 10 else ''})."
            )
        else:
            encoder = self.vocab
        bad = [token for token, index in encoder.items() if isinstance(index, bool) or not isinstance(index, int)]
        if bad:
            raise ConfigError(f"vocab.json must map tokens to integer ids; {bad[:3]} do not.")
        self.encoder: dict[str, int] = dict(encoder)
        self.decoder: dict[int, str] = {index: token for token, index in self.encoder.items()}

    def _build_added_tokens(self, saved: dict[Any, Any]) -> None:
        """Tokens matched whole: saved added tokens, missing special tokens, multi-character vocabulary entries."""
        self._added: dict[str, _AddedToken] = {}
        for key, entry in saved.items():
            if isinstance(entry, dict):
                content = entry.get("content")
                flags = {
                    name: bool(entry.get(name, False))
                    for name in ("lstrip", "rstrip", "special", "single_word", "normalized")
                }
            else:
                content, flags = entry, {}
            if not isinstance(content, str):
                raise ConfigError(f"tokenizer_config.json: added token {key!r} has no string content ({entry!r}).")
            self._added[content] = _AddedToken(content, int(key), **flags)
        # special tokens the vocabulary lacks get the next free ids, in transformers' order
        for token in self._special_token_list():
            if token not in self._added and token not in self.encoder:
                self._added[token] = _AddedToken(token, len(self), special=True)
            elif token in self.encoder and token not in self._added and len(token) == 1:
                self._added[token] = _AddedToken(token, self.encoder[token], special=True)
        # multi-character vocabulary entries must never be spelled out
        for token, index in self.encoder.items():
            if len(token) > 1:
                entry = self._added.get(token)
                if entry is None:
                    self._added[token] = _AddedToken(token, index, lstrip=True, rstrip=True)
                else:
                    entry.lstrip = entry.rstrip = True
        self._refresh_splitter()

    def _refresh_splitter(self) -> None:
        self._added_by_id = {entry.id: entry for entry in self._added.values()}
        ordered = sorted(self._added, key=len, reverse=True)  # longest match first
        self._splitter = re.compile("(" + "|".join(re.escape(token) for token in ordered) + ")") if ordered else None

    def _special_token_list(self) -> list[str]:
        tokens = [getattr(self, role) for role in _SPECIAL_ROLES]
        tokens.append(self._word_delimiter_token)
        found: list[str] = []
        for token in tokens:
            if token is not None and token not in found:
                found.append(token)
        return found

    def set_target_lang(self, target_lang: str) -> None:
        """Switch a multilingual tokenizer to another language's vocabulary."""
        if not (self.vocab and all(isinstance(value, dict) for value in self.vocab.values())):
            raise ConfigError(
                "set_target_lang needs a multilingual (nested) vocabulary; this one has a single language."
            )
        self.target_lang = target_lang
        self._select_vocabulary(target_lang)
        saved = {entry.id: entry.to_json() for entry in self._added.values() if entry.content not in self.encoder}
        self._build_added_tokens({index: data for index, data in saved.items() if index not in self.decoder})

    def get_vocab(self) -> dict[str, int]:
        vocab = dict(self.encoder)
        vocab.update({token: entry.id for token, entry in self._added.items()})
        return vocab

    @property
    def vocab_size(self) -> int:
        """Size of the base vocabulary (without added tokens), as in transformers."""
        return len(self.decoder)

    def __len__(self) -> int:
        return len(set(self.encoder) | set(self._added))

    def add_tokens(self, new_tokens: str | list[str], special_tokens: bool = False) -> int:
        """Add whole tokens (never spelled out); returns how many were new."""
        if isinstance(new_tokens, str):
            new_tokens = [new_tokens]
        added = 0
        for token in new_tokens:
            if not isinstance(token, str) or not token:
                raise ProcessingError(f"add_tokens takes non-empty strings, not {token!r}.")
            if token in self._added:
                continue
            index = self.encoder.get(token)
            self._added[token] = _AddedToken(token, len(self) if index is None else index, special=special_tokens)
            added += index is None
        self._refresh_splitter()
        return added

    @property
    def added_tokens_encoder(self) -> dict[str, int]:
        return {token: entry.id for token, entry in sorted(self._added.items(), key=lambda item: item[1].id)}

    @property
    def added_tokens_decoder(self) -> dict[int, str]:
        return {entry.id: token for token, entry in sorted(self._added.items(), key=lambda item: item[1].id)}

    # -- special tokens ------------------------------------------------------------------

    @property
    def word_delimiter_token(self) -> str | None:
        return self._word_delimiter_token

    @word_delimiter_token.setter
    def word_delimiter_token(self, value: str | None) -> None:
        self._word_delimiter_token = value

    @property
    def word_delimiter_token_id(self) -> int | None:
        return None if self._word_delimiter_token is None else self.convert_tokens_to_ids(self._word_delimiter_token)

    def _role_id(self, role: str) -> int | None:
        token = getattr(self, role)
        return None if token is None else self.convert_tokens_to_ids(token)

    @property
    def bos_token_id(self) -> int | None:
        return self._role_id("bos_token")

    @property
    def eos_token_id(self) -> int | None:
        return self._role_id("eos_token")

    @property
    def unk_token_id(self) -> int | None:
        return self._role_id("unk_token")

    @property
    def pad_token_id(self) -> int | None:
        return self._role_id("pad_token")

    @property
    def special_tokens_map(self) -> dict[str, str]:
        return {role: getattr(self, role) for role in _SPECIAL_ROLES if getattr(self, role) is not None}

    @property
    def all_special_tokens(self) -> list[str]:
        """The role tokens and the word delimiter (which decoding never skips)."""
        return self._special_token_list()

    @property
    def all_special_ids(self) -> list[int]:
        return [self.convert_tokens_to_ids(token) for token in self.all_special_tokens]

    @property
    def init_kwargs(self) -> dict[str, Any]:
        """The settings ``tokenizer_config.json`` records (transformers' name for them)."""
        settings = dict(self._extra_settings)
        settings.update(
            {
                "bos_token": self.bos_token,
                "eos_token": self.eos_token,
                "unk_token": self.unk_token,
                "pad_token": self.pad_token,
                "word_delimiter_token": self._word_delimiter_token,
                "replace_word_delimiter_char": self.replace_word_delimiter_char,
                "do_lower_case": self.do_lower_case,
                "target_lang": self.target_lang,
                "clean_up_tokenization_spaces": self.clean_up_tokenization_spaces,
                "model_max_length": self.model_max_length,
            }
        )
        if self.padding_side != "right":
            settings["padding_side"] = self.padding_side
        if self.truncation_side != "right":
            settings["truncation_side"] = self.truncation_side
        return settings

    def _set_processor_class(self, name: str | None) -> None:
        """Record the processor this tokenizer belongs to (saved as ``processor_class``)."""
        self._processor_class = name

    # -- text to ids ----------------------------------------------------------------------

    def tokenize(self, text: str, is_split_into_words: bool = False, **kwargs: Any) -> list[str]:
        """Spell ``text`` out: whole added tokens, then one token per character, spaces as the delimiter.

        Multi-character vocabulary entries swallow the spaces around them, as
        in transformers (``"A <s> B"`` gives ``A <s> B`` with no delimiters).
        """
        if not isinstance(text, str):
            raise ProcessingError(f"Wav2Vec2CTCTokenizer tokenizes strings, not {type(text).__name__}.")
        if is_split_into_words:
            text = " " + text
        pieces = self._splitter.split(text) if self._splitter is not None else [text]
        # re.split with one group alternates: plain text at even indices, added tokens at odd ones
        for index in range(1, len(pieces), 2):
            entry = self._added[pieces[index]]
            if entry.rstrip and index + 1 < len(pieces):
                pieces[index + 1] = pieces[index + 1].lstrip()
            if entry.lstrip and index > 0:
                pieces[index - 1] = pieces[index - 1].rstrip()
        tokens: list[str] = []
        for index, piece in enumerate(pieces):
            if not piece:
                continue
            if index % 2:
                tokens.append(piece)
            else:
                tokens.extend(self._spell(piece))
        return tokens

    def _spell(self, text: str) -> list[str]:
        if self.do_lower_case:
            text = text.upper()  # the vocabulary is upper case
        if self._word_delimiter_token is not None:
            text = text.replace(" ", self._word_delimiter_token)
        return list(text)

    def convert_tokens_to_ids(self, tokens: str | list[str]) -> Any:
        if isinstance(tokens, str):
            return self._token_to_id(tokens)
        return [self._token_to_id(token) for token in tokens]

    def _token_to_id(self, token: str) -> int:
        entry = self._added.get(token)
        if entry is not None:
            return entry.id
        index = self.encoder.get(token)
        if index is None:
            index = self.encoder.get(self.unk_token) if self.unk_token is not None else None
            if index is None and self.unk_token in self._added:
                index = self._added[self.unk_token].id
            if index is None:
                raise ProcessingError(f"{token!r} is not in the vocabulary and the tokenizer has no unk_token.")
        return index

    def convert_ids_to_tokens(self, ids: int | list[int], skip_special_tokens: bool = False) -> Any:
        if isinstance(ids, int):
            return self._id_to_token(ids)
        special_ids = set(self.all_special_ids) if skip_special_tokens else set()
        return [self._id_to_token(int(index)) for index in ids if int(index) not in special_ids]

    def _id_to_token(self, index: int) -> str:
        if index in self.decoder:
            return self.decoder[index]
        entry = self._added_by_id.get(index)
        if entry is not None:
            return entry.content
        return self.unk_token  # type: ignore[return-value]

    def encode(self, text: str, **kwargs: Any) -> list[int]:
        return self.convert_tokens_to_ids(self.tokenize(text, **kwargs))

    def __call__(
        self,
        text: str | list[str] | list[list[str]],
        *,
        padding: bool | str = False,
        truncation: bool | str | None = None,
        max_length: int | None = None,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_tensors: str | None = None,
        return_attention_mask: bool | None = None,
        return_token_type_ids: bool | None = None,
        return_length: bool = False,
        is_split_into_words: bool = False,
        text_pair: Any = None,
        **kwargs: Any,
    ) -> BatchFeature:
        """Encode one transcript or a batch: ``input_ids`` and ``attention_mask``.

        ``padding`` (``True``/``"longest"``, ``"max_length"``), ``truncation``
        with ``max_length``, ``pad_to_multiple_of`` and ``return_tensors``
        (``"pt"``, ``"np"``) behave as in transformers; one string with
        ``return_tensors`` gives a batch of one.
        """
        unknown = set(kwargs) - _ACCEPTED_NOOPS
        if unknown:
            # transformers warns and goes on; so do we, so that shared keyword sets keep working
            logger.warning("Wav2Vec2CTCTokenizer ignores the arguments %s.", sorted(unknown))
        if text_pair is not None:
            raise ProcessingError("Wav2Vec2CTCTokenizer encodes single transcripts; text_pair is not supported.")
        if is_split_into_words:
            batched = isinstance(text, (list, tuple)) and bool(text) and isinstance(text[0], (list, tuple))
            examples = [list(item) for item in text] if batched else [list(text)]  # type: ignore[arg-type]
            ids = [
                [index for word in words for index in self.encode(word, is_split_into_words=True)] for words in examples
            ]
        else:
            batched = isinstance(text, (list, tuple))
            examples = list(text) if batched else [text]  # type: ignore[list-item]
            ids = [self.encode(item) for item in examples]

        if truncation not in (None, False, "do_not_truncate") and max_length is not None:
            ids = [self._truncate(row, max_length) for row in ids]
        strategy = self._padding_strategy(padding)
        target = self._padded_length(strategy, ids, max_length, pad_to_multiple_of)
        side = padding_side or self.padding_side
        if return_attention_mask is None:
            return_attention_mask = "attention_mask" in self.model_input_names
        data: dict[str, Any] = {}
        padded_ids, masks = zip(*(self._pad_row(row, None, target, side) for row in ids)) if ids else ((), ())
        data["input_ids"] = list(padded_ids)
        if return_token_type_ids:
            data["token_type_ids"] = [[0] * len(row) for row in padded_ids]
        if return_attention_mask:
            data["attention_mask"] = list(masks)
        if return_length:
            data["length"] = [len(row) for row in ids]
        if not batched:
            data = {key: value[0] for key, value in data.items()}
            if return_tensors is not None:
                data = {key: [value] for key, value in data.items()}
        return BatchFeature(data, tensor_type=return_tensors)

    def _truncate(self, row: list[int], max_length: int) -> list[int]:
        if len(row) <= max_length:
            return row
        return row[:max_length] if self.truncation_side == "right" else row[len(row) - max_length :]

    @staticmethod
    def _padding_strategy(padding: Any) -> str:
        if padding is True:
            return "longest"
        if padding is False or padding is None:
            return "do_not_pad"
        text = str(getattr(padding, "value", padding))
        if text not in ("longest", "max_length", "do_not_pad"):
            raise ProcessingError(
                f"padding must be True, False, 'longest', 'max_length' or 'do_not_pad', not {padding!r}."
            )
        return text

    def _padded_length(
        self, strategy: str, rows: list[list[int]], max_length: int | None, pad_to_multiple_of: int | None
    ) -> int | None:
        if strategy == "do_not_pad":
            return None
        if strategy == "longest":
            target = max((len(row) for row in rows), default=0)
        else:
            if max_length is None:
                if self.model_max_length >= VERY_LARGE_INTEGER:
                    raise ProcessingError(
                        "padding='max_length' needs max_length=...: this tokenizer has no model_max_length."
                    )
                max_length = self.model_max_length
            target = max_length
        if pad_to_multiple_of and target % pad_to_multiple_of:
            target = (target // pad_to_multiple_of + 1) * pad_to_multiple_of
        return target

    def _pad_row(
        self, ids: list[int], mask: list[int] | None, target: int | None, side: str
    ) -> tuple[list[int], list[int]]:
        mask = [1] * len(ids) if mask is None else list(mask)
        missing = 0 if target is None else target - len(ids)
        if missing <= 0:
            return list(ids), mask
        pad_id = self.pad_token_id
        if pad_id is None:
            raise ProcessingError("This tokenizer has no pad_token, so it cannot pad; set tokenizer.pad_token.")
        if side == "right":
            return list(ids) + [pad_id] * missing, mask + [0] * missing
        return [pad_id] * missing + list(ids), [0] * missing + mask

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
    ) -> BatchFeature:
        """Pad already encoded ids (a dict of lists, or a list of dicts as a collate function gets them).

        With ``return_tensors=None`` the output type follows the input (torch
        in, torch out; numpy in, numpy out; lists stay lists).
        """
        if isinstance(encoded_inputs, (list, tuple)) and encoded_inputs and isinstance(encoded_inputs[0], dict):
            encoded_inputs = {key: [item[key] for item in encoded_inputs] for key in encoded_inputs[0]}
        if not hasattr(encoded_inputs, "keys") or "input_ids" not in encoded_inputs:
            raise ProcessingError(
                "pad needs a dict (or BatchFeature) with 'input_ids', or a list of such dicts; got "
                f"{type(encoded_inputs).__name__}."
            )
        ids_value = encoded_inputs["input_ids"]
        if return_tensors is None:
            probe = ids_value[0] if isinstance(ids_value, (list, tuple)) and ids_value else ids_value
            module = type(probe).__module__
            return_tensors = "pt" if module.startswith("torch") else "np" if module.startswith("numpy") else None
        rows = _to_python(ids_value)
        batched = bool(rows) and isinstance(rows[0], list)
        if not batched:
            rows = [rows]
        masks = encoded_inputs.get("attention_mask")
        masks = _to_python(masks) if masks is not None else None
        if masks is not None and not batched:
            masks = [masks]
        target = self._padded_length(self._padding_strategy(padding), rows, max_length, pad_to_multiple_of)
        side = padding_side or self.padding_side
        if return_attention_mask is None:
            return_attention_mask = "attention_mask" in self.model_input_names
        padded = [self._pad_row(row, None if masks is None else masks[i], target, side) for i, row in enumerate(rows)]
        data: dict[str, Any] = {
            key: value for key, value in encoded_inputs.items() if key not in ("input_ids", "attention_mask")
        }
        data["input_ids"] = [ids for ids, _ in padded]
        if return_attention_mask:
            data["attention_mask"] = [mask for _, mask in padded]
        if not batched:
            data["input_ids"] = data["input_ids"][0]
            if return_attention_mask:
                data["attention_mask"] = data["attention_mask"][0]
        return BatchFeature(data, tensor_type=return_tensors)

    # -- ids to text -------------------------------------------------------------------------

    def decode(
        self,
        token_ids: Any,
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
        output_char_offsets: bool = False,
        output_word_offsets: bool = False,
        group_tokens: bool = True,
        spaces_between_special_tokens: bool = False,
    ) -> str | Wav2Vec2CTCTokenizerOutput:
        """Frame-level ids (e.g. the arg-max of CTC logits) to text.

        Repeated ids collapse (unless ``group_tokens=False``), the padding
        token is dropped as the CTC blank, and the word delimiter becomes a
        space.  With ``skip_special_tokens`` the other special tokens are
        removed *before* grouping, as transformers does.  With
        ``output_char_offsets`` / ``output_word_offsets`` the result is a
        :class:`Wav2Vec2CTCTokenizerOutput` with frame offsets.
        """
        ids = _to_python(token_ids)
        if isinstance(ids, int):
            ids = [ids]
        tokens = self.convert_ids_to_tokens(ids)
        if skip_special_tokens:
            skipped = set(self.all_special_tokens) - {self._word_delimiter_token}
            tokens = [token for token in tokens if token not in skipped]
        decoded = self._ctc_collapse(
            tokens,
            group_tokens=group_tokens,
            spaces_between_special_tokens=spaces_between_special_tokens,
            output_char_offsets=output_char_offsets,
            output_word_offsets=output_word_offsets,
        )
        text = decoded["text"]
        cleanup = (
            self.clean_up_tokenization_spaces if clean_up_tokenization_spaces is None else clean_up_tokenization_spaces
        )
        if cleanup:
            text = clean_up_tokenization(text)
        if output_char_offsets or output_word_offsets:
            return Wav2Vec2CTCTokenizerOutput(
                text=text, char_offsets=decoded["char_offsets"], word_offsets=decoded["word_offsets"]
            )
        return text

    def batch_decode(
        self,
        sequences: Any,
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
        output_char_offsets: bool = False,
        output_word_offsets: bool = False,
        **kwargs: Any,
    ) -> list[str] | Wav2Vec2CTCTokenizerOutput:
        """:meth:`decode` for each row; with offsets, one output whose fields are lists."""
        decoded = [
            self.decode(
                row,
                skip_special_tokens=skip_special_tokens,
                clean_up_tokenization_spaces=clean_up_tokenization_spaces,
                output_char_offsets=output_char_offsets,
                output_word_offsets=output_word_offsets,
                **kwargs,
            )
            for row in _to_python(sequences)
        ]
        if output_char_offsets or output_word_offsets:
            keys = list(decoded[0].keys()) if decoded else ["text"]
            return Wav2Vec2CTCTokenizerOutput(**{key: [item[key] for item in decoded] for key in keys})
        return decoded  # type: ignore[return-value]

    def convert_tokens_to_string(
        self,
        tokens: list[str],
        group_tokens: bool = True,
        spaces_between_special_tokens: bool = False,
        output_char_offsets: bool = False,
        output_word_offsets: bool = False,
    ) -> dict[str, Any]:
        """Collapse CTC tokens: ``{"text", "char_offsets", "word_offsets"}`` (offsets ``None`` unless asked)."""
        return self._ctc_collapse(
            tokens,
            group_tokens=group_tokens,
            spaces_between_special_tokens=spaces_between_special_tokens,
            output_char_offsets=output_char_offsets,
            output_word_offsets=output_word_offsets,
        )

    def _ctc_collapse(
        self,
        tokens: list[str],
        *,
        group_tokens: bool,
        spaces_between_special_tokens: bool,
        output_char_offsets: bool,
        output_word_offsets: bool,
    ) -> dict[str, Any]:
        if not tokens:
            return {"text": "", "char_offsets": [], "word_offsets": []}
        if group_tokens:
            runs = [(token, len(list(group))) for token, group in groupby(tokens)]
        else:
            runs = [(token, 1) for token in tokens]

        # frame spans of every run, then drop the blanks
        spans: list[tuple[str, int, int]] = []
        position = 0
        for token, count in runs:
            spans.append((token, position, position + count))
            position += count
        kept = [span for span in spans if span[0] != self.pad_token]
        chars = [self._visible(token) for token, _, _ in kept]

        char_offsets = word_offsets = None
        if output_char_offsets or output_word_offsets:
            char_offsets = [
                {"char": char, "start_offset": start, "end_offset": end} for char, (_, start, end) in zip(chars, kept)
            ]
            if output_word_offsets:
                word_offsets = self._word_offsets(char_offsets, self.replace_word_delimiter_char)
            if not output_char_offsets:
                char_offsets = None

        text = (" " if spaces_between_special_tokens else "").join(chars).strip()
        if self.do_lower_case:
            text = text.lower()
        return {"text": text, "char_offsets": char_offsets, "word_offsets": word_offsets}

    def _visible(self, token: str) -> str:
        return self.replace_word_delimiter_char if token == self._word_delimiter_token else token

    @staticmethod
    def _word_offsets(char_offsets: list[dict[str, Any]], delimiter: str = " ") -> list[dict[str, Any]]:
        """Group character offsets into words: maximal runs of characters other than the delimiter."""
        words: list[dict[str, Any]] = []
        current: dict[str, Any] | None = None
        for offset in char_offsets:
            if offset["char"] == delimiter:
                if current is not None:
                    words.append(current)
                    current = None
            elif current is None:
                current = {
                    "word": offset["char"],
                    "start_offset": offset["start_offset"],
                    "end_offset": offset["end_offset"],
                }
            else:
                current["word"] += offset["char"]
                current["end_offset"] = offset["end_offset"]
        if current is not None:
            words.append(current)
        return words

    # -- files -------------------------------------------------------------------------------------

    @classmethod
    def from_pretrained(
        cls, path_or_repo: str | os.PathLike[str], *init_inputs: Any, **kwargs: Any
    ) -> Wav2Vec2CTCTokenizer:
        """Load from a checkpoint folder or Hub repo id (``vocab.json`` plus the optional config files).

        ``tokenizer_config.json`` supplies the settings (the older
        ``special_tokens_map.json`` and ``added_tokens.json`` are read too);
        keyword arguments override them.  A path to a ``vocab.json`` file
        works as well.
        """
        options = HubOptions.pop_from(kwargs)
        for obsolete in ("use_fast", "_from_auto", "trust_remote_code", "config", "tokenizer_type"):
            kwargs.pop(obsolete, None)
        source = os.fspath(path_or_repo)
        settings: dict[str, Any] = {}
        if os.path.isfile(source):
            vocab_path = source
        else:
            vocab_path = resolve_file(path_or_repo, VOCAB_FILE, options, required=False)
            if vocab_path is None:
                raise FileResolutionError(
                    f"{describe(path_or_repo, options)} has no {VOCAB_FILE}, which a Wav2Vec2CTCTokenizer needs. "
                    "Check the checkpoint includes its tokenizer files (tokenizer.save_pretrained writes them)."
                )
            special_path = resolve_file(path_or_repo, SPECIAL_TOKENS_MAP_FILE, options, required=False)
            if special_path is not None:
                special = read_json_object(special_path, "Special tokens map")
                settings.update({role: special[role] for role in _SPECIAL_ROLES if role in special})
            config_path = resolve_file(path_or_repo, TOKENIZER_CONFIG_FILE, options, required=False)
            if config_path is not None:
                settings.update(read_json_object(config_path, "Tokenizer config"))
            added_path = resolve_file(path_or_repo, ADDED_TOKENS_FILE, options, required=False)
            if added_path is not None and "added_tokens_decoder" not in settings:
                added = read_json(added_path, "Added tokens")
                if not isinstance(added, dict):
                    raise ConfigError(f"{added_path} must map tokens to ids.")
                settings["added_tokens_decoder"] = {index: token for token, index in added.items()}
        recorded = settings.get("tokenizer_class")
        if recorded not in (None, cls.__name__):
            logger.debug("%s records tokenizer_class %r; loading it as %s.", source, recorded, cls.__name__)
        settings.update(kwargs)
        settings.setdefault("name_or_path", source)
        try:
            return cls(vocab_path, *init_inputs, **settings)
        except TypeError as exc:
            raise ConfigError(
                f"Wav2Vec2CTCTokenizer cannot be built from {describe(path_or_repo, options)}: {exc}"
            ) from exc

    def save_pretrained(
        self, save_directory: str | os.PathLike[str], filename_prefix: str | None = None, **kwargs: Any
    ) -> tuple[str, ...]:
        """Write ``tokenizer_config.json``, ``special_tokens_map.json`` and ``vocab.json``; returns their paths."""
        if kwargs.pop("push_to_hub", False):
            raise ProcessingError("push_to_hub is not supported by autoload; upload the folder with huggingface_hub.")
        kwargs.pop("legacy_format", None)
        if os.path.isfile(save_directory):
            raise ConfigError(f"save_pretrained needs a folder, but {save_directory} is a file.")
        os.makedirs(save_directory, exist_ok=True)
        prefix = f"{filename_prefix}-" if filename_prefix else ""

        config = self.init_kwargs
        config["added_tokens_decoder"] = {
            str(entry.id): entry.to_json() for entry in sorted(self._added.values(), key=lambda entry: entry.id)
        }
        config["tokenizer_class"] = type(self).__name__
        if self._processor_class is not None:
            config["processor_class"] = self._processor_class
        written = [
            write_json(os.path.join(save_directory, prefix + TOKENIZER_CONFIG_FILE), config),
            write_json(os.path.join(save_directory, prefix + SPECIAL_TOKENS_MAP_FILE), self.special_tokens_map),
        ]
        written.extend(self.save_vocabulary(save_directory, filename_prefix))
        return tuple(written)

    def save_vocabulary(self, save_directory: str | os.PathLike[str], filename_prefix: str | None = None) -> tuple[str]:
        if not os.path.isdir(save_directory):
            raise ConfigError(f"save_vocabulary needs an existing folder, not {save_directory}.")
        prefix = f"{filename_prefix}-" if filename_prefix else ""
        return (write_json(os.path.join(save_directory, prefix + VOCAB_FILE), self.vocab),)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name_or_path={self.name_or_path!r}, vocab_size={self.vocab_size}, "
            f"word_delimiter_token={self._word_delimiter_token!r}, do_lower_case={self.do_lower_case}, "
            f"special_tokens={self.special_tokens_map})"
        )


__all__ = ["Wav2Vec2CTCTokenizer", "Wav2Vec2CTCTokenizerOutput", "clean_up_tokenization"]
