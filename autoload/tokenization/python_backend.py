"""The pure-Python vocabulary backend, for character- and byte-level tokenizers.

Some tokenizers have nothing to learn or merge: a CTC vocabulary spells text
out character by character, a byte-level one maps each byte to an id.  They
need no ``tokenizers`` install, only a vocabulary (token to id) and a rule
that splits text into vocabulary tokens.  This backend holds the vocabulary
and the added tokens (matched whole before splitting, with
``lstrip``/``rstrip``/``single_word`` as transformers applies them), and
turns text into rows of ids with special tokens, truncation and padding, so
the base's calling convention works unchanged.

The subclass contract, for a plugin author:

* ``vocab_files_names``: the vocabulary files by keyword
  (``{"vocab_file": "vocab.json"}``).
* ``build_vocabulary(self, **vocab_files) -> dict[str, int]``: the base
  vocabulary (default: read a ``vocab.json``).
* ``_tokenize(self, text) -> list[str]``: split a piece of text that holds no
  added token (default: one token per character).
* ``convert_tokens_to_string(self, tokens) -> str`` (default: joined with nothing).
* ``build_inputs_with_special_tokens``, ``create_token_type_ids_from_sequences``
  and ``get_special_tokens_mask`` (optional, together): the special-token
  frame around one or two id sequences (default: none).
* ``prepare_for_tokenization(self, text, is_split_into_words=False) -> str``
  (optional): adjust a text before it is split.
* ``vocabulary_files(self)`` (optional): the vocabulary files to save
  (default: ``vocab.json`` from the base vocabulary).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from autoload import files
from autoload.errors import ConfigError, FileResolutionError, ProcessingError
from autoload.hub import HubOptions, resolve_file

from .base import PreTrainedTokenizerBase, SimpleAddedToken, _Plan, describe_value, token_flags


class PythonBackend(PreTrainedTokenizerBase):
    """A tokenizer over a Python vocabulary; see the module docstring for what a subclass provides."""

    vocab_files_names: ClassVar[dict[str, str]] = {"vocab_file": "vocab.json"}
    _file_kwargs: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        misplaced = [name for name in ("build_backend", "update_backend", "build_post_processor") if name in vars(cls)]
        if misplaced:
            # Before the split into two backends, PreTrainedTokenizer was the tokenizers-library class.
            raise TypeError(
                f"{cls.__name__} defines {', '.join(misplaced)}, which belong to a tokenizer over the tokenizers "
                "library, but subclasses PythonBackend (PreTrainedTokenizer, the pure-Python backend, as in "
                "transformers 5). Subclass autoload.tokenization.TokenizersBackend (PreTrainedTokenizerFast) instead."
            )

    # -- the subclass contract ---------------------------------------------------------------------

    def build_vocabulary(self, **vocab_files: Any) -> dict[str, int]:
        """The base vocabulary, token to id; by default read from the one ``vocab.json``."""
        paths = [path for path in vocab_files.values() if path is not None]
        if len(paths) != 1:
            raise FileResolutionError(
                f"{type(self).__name__} needs its vocabulary file ({', '.join(self.vocab_files_names.values())}); "
                "pass it, or load a folder holding it with from_pretrained."
            )
        return files.read_json_object(paths[0], "Vocabulary")

    def _tokenize(self, text: str) -> list[str]:
        """Split text that holds no added token into vocabulary tokens; default: its characters."""
        return list(text)

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        return "".join(tokens)

    def prepare_for_tokenization(self, text: str, is_split_into_words: bool = False) -> str:
        """Adjust one text (or one word of split input) before it is split; default: unchanged."""
        return text

    def build_inputs_with_special_tokens(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None
    ) -> list[int]:
        """The ids with the special-token frame; default: no frame."""
        return token_ids_0 + (token_ids_1 or [])

    def create_token_type_ids_from_sequences(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None
    ) -> list[int]:
        """Token types of ``build_inputs_with_special_tokens``' output; default: 0, then 1 for the second text."""
        return [0] * len(token_ids_0) + [1] * len(token_ids_1 or [])

    def get_special_tokens_mask(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None, already_has_special_tokens: bool = False
    ) -> list[int]:
        """1 where ``build_inputs_with_special_tokens`` put a special token; default: none."""
        if already_has_special_tokens:
            return super().get_special_tokens_mask(token_ids_0, token_ids_1, already_has_special_tokens=True)
        return [0] * len(self.build_inputs_with_special_tokens(list(token_ids_0), token_ids_1))

    def vocabulary_files(self) -> dict[str, str]:
        """The base vocabulary as ``vocab.json`` (under the file name ``vocab_files_names`` gives)."""
        (name,) = self.vocab_files_names.values()
        return {name: json.dumps(self._vocab, ensure_ascii=False, indent=2) + "\n"}

    # -- backend members of the base --------------------------------------------------------------------

    def _setup_backend(self, vocab_files: dict[str, Any], kwargs: dict[str, Any]) -> dict[str, Any]:
        self._set_vocabulary(self.build_vocabulary(**vocab_files))
        self._added: dict[str, Any] = {}  # token text -> token object
        self._added_index: dict[str, int] = {}  # token text -> id
        self._added_ids: dict[int, Any] = {}  # id -> token object
        self._splitter: re.Pattern[str] | None = None
        return {}

    def _set_vocabulary(self, vocab: Mapping[str, Any]) -> None:
        bad = [token for token, index in vocab.items() if isinstance(index, bool) or not isinstance(index, int)]
        if bad:
            raise ConfigError(f"A vocabulary maps tokens to integer ids; {bad[:3]} do not.")
        self._vocab: dict[str, int] = dict(vocab)
        self._vocab_ids: dict[int, str] = {index: token for token, index in self._vocab.items()}

    def _register_special_tokens(self, added_tokens_decoder: Mapping[Any, Any]) -> None:
        """Recorded added tokens keep their ids; special tokens the vocabulary lacks get the next free ids."""
        for key in sorted(added_tokens_decoder, key=int):
            token = self._as_added_token(added_tokens_decoder[key], f"added_tokens_decoder[{key}]")
            self._set_added(token if not isinstance(token, str) else SimpleAddedToken(token), int(key))
        for content in self.all_special_tokens:
            if content not in self._added:
                index = self._vocab.get(content)
                self._set_added(SimpleAddedToken(content, special=True), len(self) if index is None else index)
        self._refresh_splitter()

    def _set_added(self, token: Any, index: int) -> None:
        content = str(token)
        if content in self._added_index:
            self._added_ids.pop(self._added_index[content], None)
        self._added[content] = token
        self._added_index[content] = index
        self._added_ids[index] = token

    def _refresh_splitter(self) -> None:
        ordered = sorted(self._added, key=len, reverse=True)  # at one position, the longest token wins
        self._splitter = re.compile("(" + "|".join(re.escape(token) for token in ordered) + ")") if ordered else None

    def _add_tokens(self, tokens: list[Any], special_tokens: bool) -> int:
        added = 0
        special = set(self.all_special_tokens)
        for token in tokens:
            content = str(token)
            if isinstance(token, str):
                if content in self._added:
                    continue
                is_special = special_tokens or content in special
                token = SimpleAddedToken(content, special=is_special, normalized=not is_special)
            elif special_tokens and not token.special:
                token = SimpleAddedToken(content, **{**token_flags(token), "special": True})
            index = self._vocab.get(content, self._added_index.get(content))
            if index is None:
                index = len(self)
                added += 1
            self._set_added(token, index)
        self._refresh_splitter()
        return added

    def _token_to_id_raw(self, token: str) -> int | None:
        index = self._added_index.get(token)
        return self._vocab.get(token) if index is None else index

    def _id_to_token_raw(self, index: int) -> str | None:
        """The vocabulary's token first, then an added one, else the unknown token (as transformers' slow ones)."""
        token = self._vocab_ids.get(index)
        if token is not None:
            return token
        entry = self._added_ids.get(index)
        return str(entry) if entry is not None else self.unk_token

    @classmethod
    def _backend_file_kwargs(
        cls, source: str, options: HubOptions, kwargs: dict[str, Any], where: str
    ) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for key, filename in cls.vocab_files_names.items():
            path = kwargs.pop(key, None) or resolve_file(source, filename, options, required=False)
            if path is None:
                raise FileResolutionError(
                    f"{where} has no {filename}, which a {cls.__name__} needs. Check the checkpoint includes its "
                    "tokenizer files (tokenizer.save_pretrained writes them)."
                )
            found[key] = path
        return found

    def _config_extras(self) -> dict[str, Any]:
        return {
            "added_tokens_decoder": {
                str(index): {"content": str(token), **token_flags(token)}
                for index, token in sorted(self._added_ids.items())
            }
        }

    # -- vocabulary ------------------------------------------------------------------------------------

    @property
    def is_fast(self) -> bool:
        return False

    @property
    def vocab_size(self) -> int:
        return len(self._vocab_ids)

    def __len__(self) -> int:
        return len(set(self._vocab) | set(self._added))

    def get_vocab(self) -> dict[str, int]:
        vocab = dict(self._vocab)
        vocab.update(self._added_index)
        return vocab

    @property
    def added_tokens_decoder(self) -> dict[int, Any]:
        return dict(sorted(self._added_ids.items()))

    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        return len(self.build_inputs_with_special_tokens([], [] if pair else None))

    # -- text to ids -------------------------------------------------------------------------------------

    def tokenize(
        self, text: str, pair: str | None = None, add_special_tokens: bool = False, **kwargs: Any
    ) -> list[str]:
        """Added tokens whole, everything between them through ``_tokenize``; special tokens only when asked."""
        if pair is not None or add_special_tokens:
            return self.convert_ids_to_tokens(self.encode(text, pair, add_special_tokens=add_special_tokens, **kwargs))
        if not isinstance(text, str):
            raise ProcessingError(f"{type(self).__name__} tokenizes strings, not {describe_value(text)}.")
        split_special = kwargs.get("split_special_tokens")
        return self._split(
            self.prepare_for_tokenization(text, bool(kwargs.get("is_split_into_words", False))),
            self.split_special_tokens if split_special is None else split_special,
        )

    def _split(self, text: str, split_special_tokens: bool) -> list[str]:
        if split_special_tokens or self._splitter is None:
            return self._tokenize(text) if text else []
        # re.split with one group alternates: plain text at even indices, added tokens at odd ones
        pieces = self._splitter.split(text)
        for index in range(1, len(pieces), 2):
            entry = self._added[pieces[index]]
            if entry.rstrip and index + 1 < len(pieces):
                pieces[index + 1] = pieces[index + 1].lstrip()
            if entry.lstrip and index > 0:
                pieces[index - 1] = pieces[index - 1].rstrip()
            if entry.single_word:
                before, after = pieces[index - 1], pieces[index + 1] if index + 1 < len(pieces) else ""
                if (before and not before[-1].isspace()) or (after and not after[0].isspace()):
                    pieces[index - 1], pieces[index] = before + pieces[index], ""  # inside a word: plain text
        tokens: list[str] = []
        for index, piece in enumerate(pieces):
            if not piece:
                continue
            if index % 2:
                tokens.append(piece)
            else:
                tokens.extend(self._tokenize(piece))
        return tokens

    def _text_ids(self, text: Any, is_split_into_words: bool, split_special_tokens: bool) -> list[int]:
        if is_split_into_words:
            tokens = [
                token
                for word in text
                for token in self._split(self.prepare_for_tokenization(word, True), split_special_tokens)
            ]
        else:
            tokens = self._split(self.prepare_for_tokenization(text, False), split_special_tokens)
        ids = self.convert_tokens_to_ids(tokens)
        if any(index is None for index in ids):
            unknown = [token for token, index in zip(tokens, ids) if index is None][:3]
            raise ProcessingError(
                f"{type(self).__name__} has no unk_token, and the vocabulary lacks {unknown}; set an unk_token "
                "or add the tokens."
            )
        return ids

    def _encode_rows(
        self, batch: list[Any], plan: _Plan, options: dict[str, Any]
    ) -> list[tuple[int, dict[str, list[Any]], Any]]:
        for option in ("return_offsets_mapping", "return_overflowing_tokens"):
            if options[option]:
                raise ProcessingError(
                    f"{option}=True needs a tokenizer over the tokenizers library; {type(self).__name__} is a "
                    "pure-Python tokenizer and does not track character offsets or overflow windows."
                )
        add_special = options["add_special_tokens"]
        rows = []
        for item in batch:
            first, second = item if isinstance(item, tuple) else (item, None)
            ids_0 = self._text_ids(first, options["is_split_into_words"], options["split_special_tokens"])
            ids_1 = None
            if second is not None:
                ids_1 = self._text_ids(second, options["is_split_into_words"], options["split_special_tokens"])
            if plan.truncation != "do_not_truncate" and plan.max_length is not None:
                ids_0, ids_1 = self._truncate(ids_0, ids_1, plan, add_special)
            if add_special:
                ids = self.build_inputs_with_special_tokens(ids_0, ids_1)
                types = self.create_token_type_ids_from_sequences(ids_0, ids_1)
                special = self.get_special_tokens_mask(ids_0, ids_1)
            else:
                ids = ids_0 + (ids_1 or [])
                types = [0] * len(ids)
                special = [0] * len(ids)
            rows.append({"input_ids": ids, "token_type_ids": types, "special_tokens_mask": special, "length": len(ids)})
        self._pad_examples(rows, plan, options["pad_to_multiple_of"], options["padding_side"], with_mask=True)
        return [(sample, fields, None) for sample, fields in enumerate(rows)]

    def _truncate(
        self, ids_0: list[int], ids_1: list[int] | None, plan: _Plan, add_special: bool
    ) -> tuple[list[int], list[int] | None]:
        """Cut the rows to ``max_length`` with transformers' strategies (special tokens count towards it)."""
        frame = self.num_special_tokens_to_add(pair=ids_1 is not None) if add_special else 0
        excess = len(ids_0) + len(ids_1 or []) + frame - plan.max_length
        if excess <= 0:
            return ids_0, ids_1
        left = self.truncation_side == "left"

        def cut(ids: list[int], count: int, which: str) -> list[int]:
            if count > len(ids):
                raise ProcessingError(
                    f"Cannot truncate to max_length={plan.max_length}: the {which} text has {len(ids)} tokens, "
                    f"{count} would have to go. Use a larger max_length or another truncation strategy."
                )
            if count <= 0:
                return ids
            return ids[count:] if left else ids[: len(ids) - count]

        if plan.truncation == "only_second":
            if ids_1 is None:
                raise ProcessingError("truncation='only_second' needs a second text (text_pair).")
            return ids_0, cut(ids_1, excess, "second")
        if plan.truncation == "only_first" or ids_1 is None:
            return cut(ids_0, excess, "first"), ids_1
        # longest_first on a pair: even out the lengths first, then take from both alike
        uneven = min(abs(len(ids_0) - len(ids_1)), excess)
        rest = excess - uneven
        if len(ids_0) > len(ids_1):
            from_first, from_second = uneven + rest // 2, rest - rest // 2
        else:
            from_first, from_second = rest // 2, uneven + rest - rest // 2
        return cut(ids_0, from_first, "first"), cut(ids_1, from_second, "second")

    # -- decoding ------------------------------------------------------------------------------------------

    def _decode_ids(self, ids: list[int], skip_special_tokens: bool) -> str:
        tokens = self.convert_ids_to_tokens(ids, skip_special_tokens=skip_special_tokens)
        return self.convert_tokens_to_string([token for token in tokens if token is not None])


#: transformers 5's name for the same class.
PreTrainedTokenizer = PythonBackend

__all__ = ["PreTrainedTokenizer", "PythonBackend"]
