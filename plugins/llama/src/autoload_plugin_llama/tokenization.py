"""LlamaTokenizer: the host's generic ``tokenizer.json`` tokenizer, padding on the left.

Llama checkpoints ship a complete ``tokenizer.json`` (byte-fallback BPE, bos
added by its post-processor), so the host's tokenizer reads them as they are.
The one thing the file does not record is the side to pad on: transformers'
``LlamaTokenizer`` pads on the left by default, which is what batched
generation with a decoder needs, and this class keeps that default.  Mistral
and Qwen checkpoints get the host's class itself (right padding), as
transformers 5 gives them its generic tokenizer.
"""

from __future__ import annotations

from autoload.tokenization import TokenizersBackend


class LlamaTokenizer(TokenizersBackend):
    """Generic ``tokenizer.json`` tokenizer with transformers' Llama default of left padding."""

    padding_side = "left"


__all__ = ["LlamaTokenizer"]
