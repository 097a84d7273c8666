"""BatchEncoding: what a tokenizer returns, with the alignment between tokens, words and characters.

Tokenizers over the ``tokenizers`` library attach one ``tokenizers.Encoding``
per row, which is what ``word_ids``, ``char_to_token`` and friends read; the
pure-Python backend has none, and those methods then say so.  Nothing here
imports ``tokenizers``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from autoload.batch import BatchFeature, to_tensor_type
from autoload.errors import ProcessingError


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
        encodings: Any = None,
        tensor_type: str | None = None,
        n_sequences: int | None = None,
    ) -> None:
        if encodings is not None and not isinstance(encodings, Sequence):
            encodings = [encodings]  # one tokenizers.Encoding
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
    def encodings(self) -> list[Any] | None:
        return self._encodings

    @property
    def n_sequences(self) -> int | None:
        """1 for single texts, 2 for pairs, None when unknown."""
        return self._n_sequences

    @property
    def is_fast(self) -> bool:
        return self._encodings is not None

    def _encoding(self, batch_index: int) -> Any:
        if not self._encodings:
            raise ProcessingError(
                "This BatchEncoding has no tokenizers.Encoding (it was built by hand, by pad(), by a pure-Python "
                "tokenizer, or unpickled without one); token/word/character alignment needs the output of a "
                "tokenizer over the tokenizers library."
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


__all__ = ["BatchEncoding", "CharSpan", "TokenSpan"]
