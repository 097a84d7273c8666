"""BERT's WordPiece tokenizer.

BERT cleans and splits text in a fixed way (control characters dropped,
whitespace normalised, optional lower-casing and accent stripping, every CJK
character and punctuation mark its own word), then cuts each word into the
longest vocabulary pieces, continuation pieces marked with ``##``.  A sequence
is framed as ``[CLS] A [SEP]`` or ``[CLS] A [SEP] B [SEP]``, the second text
carrying token type 1.

All of that is assembled from the ``tokenizers`` library's own BERT parts, so
the result is the tokenizer transformers builds for the same files.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

from autoload import CheckpointError, FileResolutionError
from autoload.tokenization import TokenizersBackend
from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import WordPiece


class BertTokenizer(TokenizersBackend):
    """WordPiece tokenizer for BERT, read from ``tokenizer.json`` or built from ``vocab.txt``.

    The options are those of ``tokenizer_config.json``: ``do_lower_case``,
    ``strip_accents`` (None: strip exactly when lower-casing, as the original
    BERT did), ``tokenize_chinese_chars`` and ``wordpieces_prefix``.  They also
    apply to a ``tokenizer.json`` whose normaliser says otherwise, because
    transformers gives the config the last word too.
    """

    vocab_files_names = {"vocab_file": "vocab.txt"}
    model_input_names = ["input_ids", "token_type_ids", "attention_mask"]

    def __init__(
        self,
        vocab_file: str | os.PathLike[str] | None = None,
        do_lower_case: bool = True,
        unk_token: str = "[UNK]",
        sep_token: str = "[SEP]",
        pad_token: str = "[PAD]",
        cls_token: str = "[CLS]",
        mask_token: str = "[MASK]",
        tokenize_chinese_chars: bool = True,
        strip_accents: bool | None = None,
        wordpieces_prefix: str = "##",
        *,
        vocab: dict[str, int] | None = None,
        tokenizer_file: str | os.PathLike[str] | None = None,
        **kwargs: Any,
    ) -> None:
        self.do_lower_case = do_lower_case
        self.tokenize_chinese_chars = tokenize_chinese_chars
        self.strip_accents = strip_accents
        self.wordpieces_prefix = wordpieces_prefix
        self._vocab = vocab
        super().__init__(
            vocab_file=vocab_file,
            tokenizer_file=tokenizer_file,
            do_lower_case=do_lower_case,
            unk_token=unk_token,
            sep_token=sep_token,
            pad_token=pad_token,
            cls_token=cls_token,
            mask_token=mask_token,
            tokenize_chinese_chars=tokenize_chinese_chars,
            strip_accents=strip_accents,
            wordpieces_prefix=wordpieces_prefix,
            **kwargs,
        )

    def _normalizer(self) -> normalizers.Normalizer:
        return normalizers.BertNormalizer(
            clean_text=True,
            handle_chinese_chars=self.tokenize_chinese_chars,
            strip_accents=self.strip_accents,
            lowercase=self.do_lower_case,
        )

    def build_backend(self, vocab_file: str | os.PathLike[str] | None = None) -> Tokenizer:
        """WordPiece over ``vocab.txt`` (one token per line, the line number is its id), or over ``vocab``."""
        if self._vocab is not None:
            vocab = dict(self._vocab)
        elif vocab_file is not None:
            path = os.fspath(vocab_file)
            if not os.path.isfile(path):
                raise FileResolutionError(f"BERT vocabulary file {path} does not exist.")
            try:
                vocab = WordPiece.read_file(path)
            except Exception as exc:  # the Rust reader raises bare Exception (bad UTF-8, unreadable file)
                raise CheckpointError(
                    f"{path} is not a readable BERT vocabulary (UTF-8 text, one token per line): {exc}"
                ) from exc
        else:
            raise FileResolutionError(
                "BertTokenizer needs a vocabulary: pass vocab_file='vocab.txt' (or vocab={token: id}), "
                "or load a folder holding tokenizer.json or vocab.txt with from_pretrained."
            )
        model = WordPiece(vocab, unk_token=str(self.unk_token), continuing_subword_prefix=self.wordpieces_prefix)
        backend = Tokenizer(model)
        backend.normalizer = self._normalizer()
        backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        backend.decoder = decoders.WordPiece(prefix=self.wordpieces_prefix)
        return backend

    def update_backend(self, backend: Tokenizer) -> None:
        """The config's casing and accent options win over the normaliser stored in ``tokenizer.json``."""
        backend.normalizer = self._normalizer()

    def build_post_processor(self) -> processors.PostProcessor | None:
        cls, sep = self.cls_token, self.sep_token
        if cls is None or sep is None:
            return None
        return processors.TemplateProcessing(
            single=f"{cls}:0 $A:0 {sep}:0",
            pair=f"{cls}:0 $A:0 {sep}:0 $B:1 {sep}:1",
            special_tokens=[(cls, self.cls_token_id), (sep, self.sep_token_id)],
        )

    def vocabulary_files(self) -> dict[str, str]:
        """``vocab.txt``: the WordPiece vocabulary, one token per line in id order."""
        vocab = self.backend_tokenizer.get_vocab(with_added_tokens=False)
        ordered = sorted(vocab.items(), key=lambda item: item[1])
        if any(index != position for position, (_, index) in enumerate(ordered)):
            warnings.warn(
                "The vocabulary's ids are not consecutive, so vocab.txt (where the line number is the id) cannot "
                "record them exactly; tokenizer.json, which is saved too, does.",
                stacklevel=3,
            )
        return {"vocab.txt": "".join(f"{token}\n" for token, _ in ordered)}


BertTokenizerFast = BertTokenizer

__all__ = ["BertTokenizer", "BertTokenizerFast"]
