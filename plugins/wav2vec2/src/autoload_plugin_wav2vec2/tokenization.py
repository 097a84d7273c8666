"""Wav2Vec2CTCTokenizer: characters to ids for CTC training, and CTC output back to text.

A CTC vocabulary is a set of characters (plus a few multi-character entries
such as ``<pad>``), stored in ``vocab.json``.  Encoding spells the text out
character by character, with the word delimiter (``"|"``) standing for a
space.  Decoding reads one id per audio frame: runs of the same id collapse
to one character, the padding token is the CTC *blank* that separates real
repetitions, and the delimiter turns back into a space.  Optionally it also
reports which frames each character and word came from, which, times
``config.inputs_to_logits_ratio / sampling_rate``, gives time stamps.

Everything else (calls, padding, truncation, special and added tokens,
``pad()``, files) is the host's pure-Python tokenizer backend.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from autoload import ConfigError, ModelOutput, ProcessingError
from autoload.files import read_json_object
from autoload.tokenization import PythonBackend, SimpleAddedToken


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


class Wav2Vec2CTCTokenizer(PythonBackend):
    """Character-level CTC tokenizer of the Wav2Vec2 family.

    ``vocab_file`` is a ``vocab.json`` mapping tokens to ids (or, for
    multilingual checkpoints such as MMS, languages to such mappings, chosen
    with ``target_lang``).  ``word_delimiter_token`` stands for a space;
    ``do_lower_case`` means the vocabulary is upper case: text is upper-cased
    before lookup and decoded text lower-cased.  ``pad_token`` doubles as the
    CTC blank.
    """

    vocab_files_names = {"vocab_file": "vocab.json"}
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
        **kwargs: Any,
    ) -> None:
        self._raw_vocab = vocab
        self._word_delimiter_token = word_delimiter_token
        self.replace_word_delimiter_char = replace_word_delimiter_char
        self.do_lower_case = bool(do_lower_case)
        self.target_lang = target_lang
        super().__init__(
            vocab_file=vocab_file,
            bos_token=bos_token,
            eos_token=eos_token,
            unk_token=unk_token,
            pad_token=pad_token,
            word_delimiter_token=word_delimiter_token,
            replace_word_delimiter_char=replace_word_delimiter_char,
            do_lower_case=do_lower_case,
            target_lang=target_lang,
            **kwargs,
        )

    # -- vocabulary: one language's, possibly out of a multilingual vocab.json ---------------------------

    def build_vocabulary(self, vocab_file: str | os.PathLike[str] | None = None) -> dict[str, int]:
        if self._raw_vocab is None:
            if vocab_file is None:
                raise ProcessingError("Wav2Vec2CTCTokenizer needs a vocab_file (vocab.json) or a vocab dict.")
            self._raw_vocab = read_json_object(vocab_file, "Vocabulary")
        return self._language_vocabulary(self.target_lang)

    def _language_vocabulary(self, target_lang: str | None) -> dict[str, int]:
        raw = self._raw_vocab
        nested = bool(raw) and all(isinstance(value, dict) for value in raw.values())
        if target_lang is None and not nested:
            return raw
        if target_lang is None:
            raise ConfigError(
                "This vocab.json holds one vocabulary per language; pass target_lang=... "
                f"(one of {', '.join(sorted(raw)[:10])}{', ...' if len(raw) > 10 else ''})."
            )
        if not nested:
            raise ConfigError(
                f"target_lang={target_lang!r} was given, but the vocabulary is not multilingual "
                "(a vocab.json whose values are per-language vocabularies)."
            )
        if target_lang not in raw:
            raise ConfigError(
                f"target_lang {target_lang!r} is not in the vocabulary; choose one of {', '.join(sorted(raw))}."
            )
        return raw[target_lang]

    @property
    def vocab(self) -> dict[str, Any]:
        """The whole ``vocab.json``, every language of a multilingual one (transformers' attribute)."""
        return self._raw_vocab

    def set_target_lang(self, target_lang: str) -> None:
        """Switch a multilingual tokenizer to another language's vocabulary."""
        if not (self._raw_vocab and all(isinstance(value, dict) for value in self._raw_vocab.values())):
            raise ConfigError(
                "set_target_lang needs a multilingual (nested) vocabulary; this one has a single language."
            )
        self._set_vocabulary(self._language_vocabulary(target_lang))
        self.target_lang = target_lang
        # added tokens whose ids now belong to the new language's vocabulary give way to it
        for index in [index for index in self._added_ids if index in self._vocab_ids]:
            content = str(self._added_ids.pop(index))
            self._added.pop(content, None)
            self._added_index.pop(content, None)
        self._mark_multi_character_tokens()

    def _register_special_tokens(self, added_tokens_decoder: Any) -> None:
        super()._register_special_tokens(added_tokens_decoder)
        self._mark_multi_character_tokens()

    def _mark_multi_character_tokens(self) -> None:
        """Multi-character entries (``<pad>``) are matched whole and swallow the spaces around them."""
        for token, index in self._vocab.items():
            if len(token) > 1:
                self._set_added(SimpleAddedToken(token, lstrip=True, rstrip=True), index)
        self._refresh_splitter()

    def vocabulary_files(self) -> dict[str, str]:
        return {"vocab.json": json.dumps(self._raw_vocab, ensure_ascii=False, indent=2) + "\n"}

    # -- special tokens --------------------------------------------------------------------------------

    @property
    def word_delimiter_token(self) -> str | None:
        return self._word_delimiter_token

    @word_delimiter_token.setter
    def word_delimiter_token(self, value: str | None) -> None:
        self._word_delimiter_token = value

    @property
    def word_delimiter_token_id(self) -> int | None:
        return None if self._word_delimiter_token is None else self.convert_tokens_to_ids(self._word_delimiter_token)

    @property
    def all_special_tokens(self) -> list[str]:
        """The named special tokens and the word delimiter (which decoding never skips)."""
        tokens = super().all_special_tokens
        delimiter = self._word_delimiter_token
        return [*tokens, delimiter] if delimiter is not None and delimiter not in tokens else tokens

    # -- text to tokens ---------------------------------------------------------------------------------

    def prepare_for_tokenization(self, text: str, is_split_into_words: bool = False) -> str:
        return " " + text if is_split_into_words else text

    def _tokenize(self, text: str) -> list[str]:
        if self.do_lower_case:
            text = text.upper()  # the vocabulary is upper case
        if self._word_delimiter_token is not None:
            text = text.replace(" ", self._word_delimiter_token)
        return list(text)

    # -- CTC output to text ---------------------------------------------------------------------------------

    def _decode(
        self,
        ids: list[int],
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
        output_char_offsets: bool = False,
        output_word_offsets: bool = False,
        group_tokens: bool = True,
        spaces_between_special_tokens: bool = False,
        **_: Any,
    ) -> str | Wav2Vec2CTCTokenizerOutput:
        """Frame-level ids (e.g. the arg-max of CTC logits) to text.

        Repeated ids collapse (unless ``group_tokens=False``), the padding
        token is dropped as the CTC blank, and the word delimiter becomes a
        space.  With ``skip_special_tokens`` the other special tokens are
        removed *before* grouping, as transformers does.  With
        ``output_char_offsets`` / ``output_word_offsets`` the result is a
        :class:`Wav2Vec2CTCTokenizerOutput` with frame offsets.
        """
        tokens = self.convert_ids_to_tokens(ids)
        if skip_special_tokens:
            skipped = set(self.all_special_tokens) - {self._word_delimiter_token}
            tokens = [token for token in tokens if token not in skipped]
        decoded = self.convert_tokens_to_string(
            tokens,
            group_tokens=group_tokens,
            spaces_between_special_tokens=spaces_between_special_tokens,
            output_char_offsets=output_char_offsets,
            output_word_offsets=output_word_offsets,
        )
        text = self._clean_up(decoded["text"], clean_up_tokenization_spaces)
        if output_char_offsets or output_word_offsets:
            return Wav2Vec2CTCTokenizerOutput(
                text=text, char_offsets=decoded["char_offsets"], word_offsets=decoded["word_offsets"]
            )
        return text

    def batch_decode(self, sequences: Any, *args: Any, **kwargs: Any) -> list[str] | Wav2Vec2CTCTokenizerOutput:
        """:meth:`decode` for each row; with offsets, one output whose fields are lists."""
        decoded = super().batch_decode(sequences, *args, **kwargs)
        if kwargs.get("output_char_offsets") or kwargs.get("output_word_offsets"):
            keys = list(decoded[0].keys()) if decoded else ["text"]
            return Wav2Vec2CTCTokenizerOutput(**{key: [item[key] for item in decoded] for key in keys})
        return decoded

    def convert_tokens_to_string(
        self,
        tokens: list[str],
        group_tokens: bool = True,
        spaces_between_special_tokens: bool = False,
        output_char_offsets: bool = False,
        output_word_offsets: bool = False,
    ) -> dict[str, Any]:
        """Collapse CTC tokens: ``{"text", "char_offsets", "word_offsets"}`` (offsets ``None`` unless asked)."""
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


#: transformers' clean-up of spaces before punctuation, kept under its former name here.
clean_up_tokenization = Wav2Vec2CTCTokenizer.clean_up_tokenization

__all__ = ["Wav2Vec2CTCTokenizer", "Wav2Vec2CTCTokenizerOutput", "clean_up_tokenization"]
