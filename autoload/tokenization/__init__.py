"""Tokenizers: one base, two backends, a generic ``tokenizer.json`` tokenizer and chat templates.

* :class:`PreTrainedTokenizerBase` (``base``): everything that does not depend
  on how text becomes tokens: calls, padding and truncation, special tokens,
  ``pad()``, decoding, files, chat templates.
* :class:`TokenizersBackend` (``tokenizers_backend``), also named
  ``PreTrainedTokenizerFast`` as in transformers 5: over the ``tokenizers``
  library.  Instantiated as it is, it is the generic tokenizer of any
  checkpoint with a ``tokenizer.json``.
* :class:`PythonBackend` (``python_backend``), also named
  ``PreTrainedTokenizer`` as in transformers 5: a pure-Python vocabulary for
  character- and byte-level tokenizers.

Names load on first use, so importing this package imports neither
``tokenizers`` nor ``jinja2``; touching ``TokenizersBackend`` (or
``AddedToken``, which is ``tokenizers.AddedToken``) imports ``tokenizers``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .base import (
    ADDED_TOKENS_FILE,
    CHAT_TEMPLATE_FILE,
    LARGE_INTEGER,
    SPECIAL_TOKENS_MAP_FILE,
    TOKENIZER_CALL_OPTIONS,
    TOKENIZER_CONFIG_FILE,
    TOKENIZER_FILE,
    VERY_LARGE_INTEGER,
    PreTrainedTokenizerBase,
    SimpleAddedToken,
)
from .encoding import BatchEncoding, CharSpan, TokenSpan
from .python_backend import PreTrainedTokenizer, PythonBackend

if TYPE_CHECKING:
    import tokenizers
    from tokenizers import AddedToken

    from .tokenizers_backend import (
        PreTrainedTokenizerFast,
        TokenizersBackend,
        bpe_vocabulary_files,
        byte_level_bpe,
        load_tokenizer_json,
    )

_LAZY = {
    "TokenizersBackend": ".tokenizers_backend",
    "PreTrainedTokenizerFast": ".tokenizers_backend",
    "byte_level_bpe": ".tokenizers_backend",
    "bpe_vocabulary_files": ".tokenizers_backend",
    "load_tokenizer_json": ".tokenizers_backend",
    "tokenizers": ".tokenizers_backend",
}


def __getattr__(name: str) -> Any:
    if name == "AddedToken":
        return importlib.import_module("tokenizers").AddedToken
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "ADDED_TOKENS_FILE",
    "AddedToken",
    "BatchEncoding",
    "CHAT_TEMPLATE_FILE",
    "CharSpan",
    "LARGE_INTEGER",
    "PreTrainedTokenizer",
    "PreTrainedTokenizerBase",
    "PreTrainedTokenizerFast",
    "PythonBackend",
    "SPECIAL_TOKENS_MAP_FILE",
    "SimpleAddedToken",
    "TOKENIZER_CALL_OPTIONS",
    "TOKENIZER_CONFIG_FILE",
    "TOKENIZER_FILE",
    "TokenSpan",
    "TokenizersBackend",
    "VERY_LARGE_INTEGER",
    "bpe_vocabulary_files",
    "byte_level_bpe",
    "load_tokenizer_json",
    "tokenizers",
]
