"""T5Tokenizer: T5's SentencePiece (Unigram) vocabulary, run by the host's generic ``tokenizer.json`` tokenizer.

T5 checkpoints ship a ``tokenizer.json`` converted from SentencePiece: a
Unigram model over "▁"-prefixed pieces, a whitespace split and a Metaspace
pre-tokenizer.  The host's :class:`~autoload.tokenization.TokenizersBackend`
runs it as it is; what is T5's own is

* the template: ``</s>`` after every sequence (``A </s>`` and ``A </s> B </s>``),
  no start token (the decoder starts from the pad token instead);
* the sentinel tokens ``<extra_id_0>`` ... ``<extra_id_{extra_ids-1}>`` used by
  span-corruption pre-training, registered as extra special tokens.

Without a ``tokenizer.json`` the tokenizer can be built from ``vocab``, a list of
``(piece, log-probability)`` pairs as SentencePiece stores them (the original
``spiece.model`` file itself is not read: that needs the sentencepiece library).
"""

from __future__ import annotations

import re
from typing import Any

from autoload import ConfigError
from autoload.tokenization import TokenizersBackend
from tokenizers import Tokenizer, decoders, pre_tokenizers, processors
from tokenizers.models import Unigram

_SENTINEL = re.compile(r"<extra_id_\d+>")


class T5Tokenizer(TokenizersBackend):
    """T5's tokenizer (also answers to ``T5TokenizerFast``, the name transformers 4 saved)."""

    model_input_names = ["input_ids", "attention_mask"]
    saved_tokenizer_class = "T5Tokenizer"

    def __init__(
        self,
        vocab: list[tuple[str, float]] | None = None,
        eos_token: Any = "</s>",
        unk_token: Any = "<unk>",
        pad_token: Any = "<pad>",
        extra_ids: int = 100,
        additional_special_tokens: list[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if isinstance(extra_ids, bool) or not isinstance(extra_ids, int) or extra_ids < 0:
            raise ConfigError(f"T5Tokenizer: extra_ids must be a non-negative integer, not {extra_ids!r}.")
        sentinels = [f"<extra_id_{index}>" for index in range(extra_ids)]
        if additional_special_tokens is None:  # transformers 5 saves the list under its newer name
            additional_special_tokens = kwargs.pop("extra_special_tokens", None)
        if additional_special_tokens is None:
            additional_special_tokens = sentinels
        else:
            additional_special_tokens = list(additional_special_tokens)
            given = [token for token in additional_special_tokens if _SENTINEL.fullmatch(str(token))]
            if not given:
                additional_special_tokens += sentinels
            elif extra_ids and len(given) != extra_ids:
                raise ConfigError(
                    f"T5Tokenizer got extra_ids={extra_ids} but {len(given)} <extra_id_N> tokens in "
                    "additional_special_tokens; pass matching values, or extra_ids=0 to take the list as it is."
                )
        self._vocab_scores = None if vocab is None else [(str(piece), float(score)) for piece, score in vocab]
        self._unk = str(unk_token)
        self.extra_ids = extra_ids
        super().__init__(
            eos_token=eos_token,
            unk_token=unk_token,
            pad_token=pad_token,
            extra_ids=extra_ids,
            additional_special_tokens=additional_special_tokens,
            **kwargs,
        )

    def build_backend(self, **vocab_files: str | None) -> Tokenizer:
        """A Unigram model over ``vocab`` (or a minimal one: pad, eos, unk, "▁" and the sentinels)."""
        scores = self._vocab_scores
        if scores is None:
            scores = [("<pad>", 0.0), ("</s>", 0.0), (self._unk, 0.0), ("▁", -2.0)]
            scores += [(f"<extra_id_{index}>", 0.0) for index in range(self.extra_ids - 1, -1, -1)]
        pieces = [piece for piece, _ in scores]
        unk_id = pieces.index(self._unk) if self._unk in pieces else 2
        backend = Tokenizer(Unigram(scores, unk_id=unk_id, byte_fallback=False))
        backend.pre_tokenizer = pre_tokenizers.Sequence(
            [
                pre_tokenizers.WhitespaceSplit(),
                pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True),
            ]
        )
        backend.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
        return backend

    def build_post_processor(self) -> Any:
        """``A </s>`` / ``A </s> B </s>``: T5 ends every sequence, and starts none."""
        eos = self.eos_token
        if eos is None:
            return None
        return processors.TemplateProcessing(
            single=["$A", eos], pair=["$A", eos, "$B", eos], special_tokens=[(eos, self.eos_token_id)]
        )

    def get_sentinel_tokens(self) -> list[str]:
        """The ``<extra_id_N>`` tokens (span-corruption sentinels)."""
        return [token for token in self.additional_special_tokens if _SENTINEL.fullmatch(token)]

    def get_sentinel_token_ids(self) -> list[int]:
        return [self.convert_tokens_to_ids(token) for token in self.get_sentinel_tokens()]


__all__ = ["T5Tokenizer"]
