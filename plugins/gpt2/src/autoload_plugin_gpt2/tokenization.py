"""GPT-2's byte-level BPE tokenizer.

GPT-2 never meets an unknown character: text is read as UTF-8 bytes, each byte
shown as a printable character, and the merges learned on those build the
tokens.  A space belongs to the word after it (``" world"`` is one token), so a
text's first word is tokenized differently unless ``add_prefix_space`` puts a
space before it.  One token, ``<|endoftext|>``, is beginning, end and unknown
token at once; no special tokens are added around a text unless
``add_bos_token`` asks for a leading one.

The host provides the machinery (:class:`autoload.tokenization.TokenizersBackend`
and :func:`~autoload.tokenization.byte_level_bpe`); this class states only what
is GPT-2's, and equals transformers' ``GPT2Tokenizer`` for the same files.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from autoload.tokenization import TokenizersBackend, bpe_vocabulary_files, byte_level_bpe
from tokenizers import Tokenizer, decoders, pre_tokenizers

ENDOFTEXT = "<|endoftext|>"


class GPT2Tokenizer(TokenizersBackend):
    """Byte-level BPE for GPT-2, read from ``tokenizer.json`` or built from ``vocab.json`` + ``merges.txt``.

    ``add_prefix_space`` applies to a ``tokenizer.json`` too (its byte-level
    splitter is rebuilt with this setting), as in transformers, so the option
    in ``tokenizer_config.json`` or the call to ``from_pretrained`` always
    decides.  ``errors`` is kept for files written by older code; invalid UTF-8
    is always decoded with replacement characters.
    """

    vocab_files_names = {"vocab_file": "vocab.json", "merges_file": "merges.txt"}
    model_input_names = ["input_ids", "attention_mask"]

    def __init__(
        self,
        vocab_file: str | os.PathLike[str] | None = None,
        merges_file: str | os.PathLike[str] | None = None,
        errors: str = "replace",
        unk_token: Any = ENDOFTEXT,
        bos_token: Any = ENDOFTEXT,
        eos_token: Any = ENDOFTEXT,
        pad_token: Any = None,
        add_prefix_space: bool = False,
        *,
        vocab: Mapping[str, int] | None = None,
        merges: Iterable[tuple[str, str] | str] | None = None,
        tokenizer_file: str | os.PathLike[str] | None = None,
        **kwargs: Any,
    ) -> None:
        self.errors = errors
        self.add_prefix_space = add_prefix_space
        self._vocab = vocab
        self._merges = None if merges is None else [_as_pair(merge) for merge in merges]
        super().__init__(
            vocab_file=vocab_file,
            merges_file=merges_file,
            tokenizer_file=tokenizer_file,
            errors=errors,
            unk_token=unk_token,
            bos_token=bos_token,
            eos_token=eos_token,
            pad_token=pad_token,
            add_prefix_space=add_prefix_space,
            **kwargs,
        )

    def build_backend(
        self, vocab_file: str | os.PathLike[str] | None = None, merges_file: str | os.PathLike[str] | None = None
    ) -> Tokenizer:
        """The byte-level BPE of ``vocab.json`` and ``merges.txt`` (or of ``vocab``/``merges`` given directly)."""
        backend = byte_level_bpe(
            vocab_file, merges_file, vocab=self._vocab, merges=self._merges, add_prefix_space=self.add_prefix_space
        )
        # Built from the vocabulary files, GPT-2 frames texts with the plain
        # special-token template (none unless add_bos_token), as transformers
        # does; offsets are then not trimmed of their leading space.
        backend.post_processor = None
        return backend

    def update_backend(self, backend: Tokenizer) -> None:
        """The configured byte-level splitting and decoding win over what ``tokenizer.json`` stores."""
        backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=self.add_prefix_space)
        backend.decoder = decoders.ByteLevel()

    def vocabulary_files(self) -> dict[str, str]:
        """``vocab.json`` and ``merges.txt``, for code that reads GPT-2's original files."""
        return bpe_vocabulary_files(self.backend_tokenizer)


def _as_pair(merge: tuple[str, str] | str) -> tuple[str, str]:
    """A merge given as ``("a", "b")`` or as the ``"a b"`` line of ``merges.txt``."""
    if isinstance(merge, str):
        first, _, second = merge.partition(" ")
        return first, second
    first, second = merge
    return first, second


GPT2TokenizerFast = GPT2Tokenizer

__all__ = ["GPT2Tokenizer", "GPT2TokenizerFast"]
