"""WhisperTokenizer: GPT-2's byte-level BPE plus Whisper's special, language, task and timestamp tokens.

Whisper's decoder reads a prompt of special tokens before the text:
``<|startoftranscript|><|fr|><|transcribe|><|notimestamps|>``.  The
tokenizer puts that prefix in front of every encoded text (its
``prefix_tokens``, chosen with ``language=``, ``task=`` and
``predict_timestamps=``) and ``<|endoftext|>`` behind it, so encoded
transcripts are ready-made labels.

Timestamps are ordinary added tokens ``<|0.00|>`` ... ``<|30.00|>`` in steps
of 0.02 s, right after the last special token.  Plain decoding drops them;
``decode_with_timestamps=True`` writes them back, counting on across
30-second windows; ``output_offsets=True`` returns the text of each
timestamped segment with its start and end time.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from autoload import ProcessingError
from autoload.tokenization import TokenizersBackend, byte_level_bpe
from tokenizers import Tokenizer, decoders, pre_tokenizers, processors

from autoload_plugin_whisper.languages import LANGUAGES, check_task, language_code

START_OF_TRANSCRIPT = "<|startoftranscript|>"
START_OF_PREVIOUS = "<|startofprev|>"
NO_TIMESTAMPS = "<|notimestamps|>"
TRANSLATE = "<|translate|>"
TRANSCRIBE = "<|transcribe|>"
#: Seconds per timestamp token, and timestamps per 30-second window (1500 encoder frames).
TIME_PRECISION = 0.02
SEGMENT_SIZE = 1500

_TIMESTAMP_TEXT = re.compile(r"<\|(\d+\.\d+)\|>")


class WhisperTokenizer(TokenizersBackend):
    """Whisper's tokenizer, read from ``tokenizer.json`` (or ``vocab.json`` + ``merges.txt``) as transformers saves it.

    ``language`` (code or English name), ``task`` (``"transcribe"`` or
    ``"translate"``) and ``predict_timestamps`` choose the prefix put before
    encoded text; :meth:`set_prefix_tokens` changes them later.
    """

    vocab_files_names = {"vocab_file": "vocab.json", "merges_file": "merges.txt"}
    model_input_names = ["input_ids", "attention_mask"]
    saved_tokenizer_class = "WhisperTokenizer"

    def __init__(
        self,
        *,
        unk_token: Any = "<|endoftext|>",
        bos_token: Any = "<|endoftext|>",
        eos_token: Any = "<|endoftext|>",
        add_prefix_space: bool = False,
        language: str | None = None,
        task: str | None = None,
        predict_timestamps: bool = False,
        **kwargs: Any,
    ) -> None:
        self.add_prefix_space = bool(add_prefix_space)
        self.language = None if language is None else language.lower()
        self.task = task
        self.predict_timestamps = bool(predict_timestamps)
        kwargs.pop("normalizer_file", None)  # the English spelling table; normalize() is not provided
        super().__init__(
            unk_token=unk_token,
            bos_token=bos_token,
            eos_token=eos_token,
            add_prefix_space=add_prefix_space,
            language=language,
            task=task,
            predict_timestamps=predict_timestamps,
            **kwargs,
        )

    # -- backend ---------------------------------------------------------------------------------------

    def build_backend(self, vocab_file: str | None = None, merges_file: str | None = None) -> Tokenizer:
        return byte_level_bpe(vocab_file, merges_file, add_prefix_space=self.add_prefix_space)

    def update_backend(self, backend: Tokenizer) -> None:
        # transformers rebuilds splitting and decoding from the options, whatever tokenizer.json holds.
        backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=self.add_prefix_space)
        backend.decoder = decoders.ByteLevel()

    def build_post_processor(self) -> Any:
        """``<prefix tokens> text <|endoftext|>`` (a pair: both texts between them)."""
        ids = self.prefix_tokens
        tokens = self.convert_ids_to_tokens(ids)
        eos, eos_id = self.eos_token, self.eos_token_id
        prefix = " ".join(f"{token}:0" for token in tokens)
        return processors.TemplateProcessing(
            single=f"{prefix} $A:0 {eos}:0",
            pair=f"{prefix} $A:0 $B:1 {eos}:1",
            special_tokens=[(eos, eos_id), *zip(tokens, ids)],
        )

    # -- the prefix ------------------------------------------------------------------------------------

    def set_prefix_tokens(
        self, language: str | None = None, task: str | None = None, predict_timestamps: bool | None = None
    ) -> None:
        """Change the prefix put before encoded text; arguments left at None keep their current value."""
        if language is not None:
            self.language = language.lower()
        if task is not None:
            self.task = task
        if predict_timestamps is not None:
            self.predict_timestamps = bool(predict_timestamps)
        post_processor = self.build_post_processor()
        with self._lock:
            self._backend.post_processor = post_processor

    @property
    def prefix_tokens(self) -> list[int]:
        """``<|startoftranscript|>`` [``<|lang|>``] [``<|task|>``] [``<|notimestamps|>``] as ids."""
        start = self._required_id(START_OF_TRANSCRIPT)
        prefix = [start]
        if self.language is not None:
            code = language_code(self.language, ProcessingError)
            # Language tokens follow <|startoftranscript|> in the order of the language table.
            prefix.append(start + 1 + list(LANGUAGES).index(code))
        if self.task is not None:
            check_task(self.task, ProcessingError)
            prefix.append(self._required_id(TRANSCRIBE if self.task == "transcribe" else TRANSLATE))
        if not self.predict_timestamps:
            prefix.append(self._required_id(NO_TIMESTAMPS))
        return prefix

    def _required_id(self, token: str) -> int:
        index = self._token_to_id_raw(token)
        if index is None:
            raise ProcessingError(
                f"This Whisper vocabulary has no {token} token, which the decoder prompt needs. Load the tokenizer "
                "of a Whisper checkpoint (its tokenizer.json holds the special tokens)."
            )
        return index

    def get_decoder_prompt_ids(
        self, task: str | None = None, language: str | None = None, no_timestamps: bool = True
    ) -> list[tuple[int, int]]:
        """The prefix after ``<|startoftranscript|>`` as ``(position, token)`` pairs (``forced_decoder_ids``).

        Like transformers, this also makes them the tokenizer's prefix.
        """
        self.set_prefix_tokens(task=task, language=language, predict_timestamps=not no_timestamps)
        return [(position, token) for position, token in enumerate(self.prefix_tokens[1:], start=1)]

    def get_prompt_ids(self, text: str, return_tensors: str | None = "np") -> Any:
        """``<|startofprev|>`` and ``text``: the previous-text prompt ``generate(prompt_ids=...)`` takes."""
        encoding = self(START_OF_PREVIOUS, " " + text.strip(), add_special_tokens=False)
        first_special = self.all_special_ids[0]
        for index in encoding["input_ids"][1:]:
            if index >= first_special:
                raise ProcessingError(
                    f"The prompt text holds the special token {self.convert_ids_to_tokens(index)!r}, which a "
                    "prompt may not contain. Remove it from the text."
                )
        encoding.convert_to_tensors(return_tensors)
        return encoding["input_ids"]

    def build_inputs_with_special_tokens(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None
    ) -> list[int]:
        return self.prefix_tokens + token_ids_0 + (token_ids_1 or []) + [self.eos_token_id]

    def get_special_tokens_mask(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None, already_has_special_tokens: bool = False
    ) -> list[int]:
        if already_has_special_tokens:
            return super().get_special_tokens_mask(token_ids_0, token_ids_1, already_has_special_tokens=True)
        return [1] * len(self.prefix_tokens) + [0] * (len(token_ids_0) + len(token_ids_1 or [])) + [1]

    def timestamp_ids(self, time_precision: float = TIME_PRECISION) -> list[int]:
        """Ids of ``<|0.00|>`` ... ``<|30.00|>``."""
        return self.convert_tokens_to_ids(["<|%.2f|>" % (i * time_precision) for i in range(SEGMENT_SIZE + 1)])

    @property
    def timestamp_begin(self) -> int:
        """Id of ``<|0.00|>``: the first id after the special tokens (as transformers counts them)."""
        return self.all_special_ids[-1] + 1

    # -- decoding --------------------------------------------------------------------------------------

    def decode(
        self,
        token_ids: Any,
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
        output_offsets: bool = False,
        time_precision: float = TIME_PRECISION,
        decode_with_timestamps: bool = False,
        normalize: bool = False,
        basic_normalize: bool = False,
        remove_diacritics: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Text of ids (a list of texts for a batch).

        ``skip_special_tokens`` also drops a ``<|startofprev|>`` prompt.
        Timestamp tokens are removed from the text unless
        ``decode_with_timestamps``; ``output_offsets`` (one sequence only)
        returns ``{"text": ..., "offsets": [{"text", "timestamp": (start, end)}, ...]}``.
        """
        ids = _to_list(token_ids)
        if skip_special_tokens:
            ids = self._strip_prompt(ids)
        text = super().decode(
            ids,
            skip_special_tokens=skip_special_tokens,
            clean_up_tokenization_spaces=clean_up_tokenization_spaces,
            normalize=normalize,
            basic_normalize=basic_normalize,
            remove_diacritics=remove_diacritics,
            **kwargs,
        )
        if decode_with_timestamps:
            if ids and isinstance(ids[0], list):
                text = [self._decode_with_timestamps(row, skip_special_tokens, time_precision) for row in ids]
            else:
                text = self._decode_with_timestamps(ids, skip_special_tokens, time_precision)
        elif isinstance(text, list):
            text = [_TIMESTAMP_TEXT.sub("", item) for item in text]
        else:
            text = _TIMESTAMP_TEXT.sub("", text)
        if output_offsets:
            return {"text": text, "offsets": self._compute_offsets(_to_list(token_ids), time_precision)}
        return text

    def _decode(
        self,
        ids: list[int],
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
        normalize: bool = False,
        basic_normalize: bool = False,
        remove_diacritics: bool = False,
        **kwargs: Any,
    ) -> str:
        text = super()._decode(ids, skip_special_tokens, clean_up_tokenization_spaces, **kwargs)
        if normalize:
            return self.normalize(text)
        if basic_normalize:
            return self.basic_normalize(text, remove_diacritics=remove_diacritics)
        return text

    def normalize(self, text: str) -> str:
        raise ProcessingError(
            "WhisperTokenizer does not provide Whisper's English text normalizer (normalize=True). Use "
            "basic_normalize=True, or normalize the text with the openai-whisper package."
        )

    @staticmethod
    def basic_normalize(text: str, remove_diacritics: bool = False) -> str:
        """Whisper's language-neutral normalisation: lower case, no bracketed words, symbols to spaces."""
        text = text.lower()
        text = re.sub(r"[<\[][^>\]]*[>\]]", "", text)
        text = re.sub(r"\(([^)]+?)\)", "", text)
        text = (_drop_symbols_and_diacritics(text) if remove_diacritics else _drop_symbols(text)).lower()
        return re.sub(r"\s+", " ", text)

    def _strip_prompt(self, ids: list[Any]) -> list[Any]:
        """Drop a ``<|startofprev|>`` prompt: everything before ``<|startoftranscript|>`` (all, if it is absent)."""
        if not ids or ids[0] != self.convert_tokens_to_ids(START_OF_PREVIOUS):
            return ids
        start = self.convert_tokens_to_ids(START_OF_TRANSCRIPT)
        return ids[ids.index(start) :] if start in ids else []

    def _decode_with_timestamps(self, ids: list[int], skip_special_tokens: bool, time_precision: float) -> str:
        """Text with ``<|t|>`` written for each timestamp token, times counted on across 30-second windows.

        A timestamp lower than the one before starts a new window: after a
        lone closing timestamp the window was a full 30 s; after a pair, the
        window ended at the previous segment's end and that pair is dropped.
        """
        begin = self.timestamp_begin
        pieces: list[Any] = [[]]
        latest = penultimate = elapsed = 0.0
        for position, token in enumerate(ids):
            if token < begin:
                pieces[-1].append(token)
                continue
            time = float((token - begin) * time_precision)
            if time < latest:
                lone_ending = position >= 2 and not (ids[position - 1] >= begin and ids[position - 2] >= begin)
                if lone_ending:
                    elapsed += time_precision * SEGMENT_SIZE
                else:
                    latest = penultimate
                    elapsed += penultimate
                    pieces = pieces[:-2]
            penultimate, latest = latest, time
            pieces.append(f"<|{(time + elapsed):.2f}|>")
            pieces.append([])
        return "".join(
            piece
            if isinstance(piece, str)
            else (super(WhisperTokenizer, self).decode(piece, skip_special_tokens) if piece else "")
            for piece in pieces
        )

    def _compute_offsets(self, ids: list[Any], time_precision: float = TIME_PRECISION) -> list[dict[str, Any]]:
        """The text and ``(start, end)`` seconds of every segment closed by a timestamp."""
        if ids and isinstance(ids[0], list):
            if len(ids) > 1:
                raise ProcessingError("output_offsets works on one sequence at a time; decode the rows one by one.")
            ids = ids[0]
        begin = self.timestamp_begin
        stamps = [position for position, token in enumerate(ids) if token >= begin]
        ends = [
            position + 1 for position in range(len(ids) - 1) if ids[position] >= begin and ids[position + 1] >= begin
        ]
        if not ends and len(stamps) <= 1:
            return []
        if stamps[-1] + 1 not in ends:
            ends.append(stamps[-1] + 1)
        offsets = []
        start_at, latest, elapsed = stamps[0], 0, 0
        for end_at in ends:
            piece = ids[start_at:end_at]
            if len(piece) > 1:
                first, last = piece[0] - begin, piece[-1] - begin
                if first < latest:  # a new 30-second window began
                    lone_ending = start_at >= 2 and not (ids[start_at - 2] >= begin and ids[start_at - 1] >= begin)
                    elapsed += SEGMENT_SIZE if lone_ending else latest
                latest = last
                text = _TIMESTAMP_TEXT.sub("", self._decode(piece))
                offsets.append(
                    {
                        "text": text,
                        "timestamp": (
                            first * time_precision + elapsed * time_precision,
                            last * time_precision + elapsed * time_precision,
                        ),
                    }
                )
            start_at = end_at
        return offsets


def _to_list(token_ids: Any) -> Any:
    """Ids as (nested) Python lists of ints: tensors and arrays are converted."""
    if hasattr(token_ids, "tolist"):
        return token_ids.tolist()
    if isinstance(token_ids, (list, tuple)):
        return [
            _to_list(item) if isinstance(item, (list, tuple)) or hasattr(item, "tolist") else item for item in token_ids
        ]
    return token_ids


_EXTRA_DIACRITICS = {
    "œ": "oe",
    "Œ": "OE",
    "ø": "o",
    "Ø": "O",
    "æ": "ae",
    "Æ": "AE",
    "ß": "ss",
    "ẞ": "SS",
    "đ": "d",
    "Đ": "D",
    "ð": "d",
    "Ð": "D",
    "þ": "th",
    "Þ": "th",
    "ł": "l",
    "Ł": "L",
}


def _drop_symbols(text: str) -> str:
    """Marks, symbols and punctuation become spaces (after NFKC); letters keep their accents."""
    return "".join(
        " " if unicodedata.category(char)[0] in "MSP" else char for char in unicodedata.normalize("NFKC", text)
    )


def _drop_symbols_and_diacritics(text: str) -> str:
    """Like :func:`_drop_symbols` after NFKD, with combining accents removed and a few letters spelled out."""

    def replace(char: str) -> str:
        if char in _EXTRA_DIACRITICS:
            return _EXTRA_DIACRITICS[char]
        category = unicodedata.category(char)
        if category == "Mn":
            return ""
        return " " if category[0] in "MSP" else char

    return "".join(replace(char) for char in unicodedata.normalize("NFKD", text))


__all__ = ["WhisperTokenizer"]
