"""Stopping criteria: when a row of ``generate()`` is finished.

A criterion takes ``(input_ids, scores)`` and returns a ``(batch,)`` bool
tensor, True for rows that are done.  ``generate()`` ORs the criteria of a
:class:`StoppingCriteriaList` after each step; rows that are done are padded
from then on, and the loop ends when every row is done.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from typing import Any

import torch

from autoload.errors import GenerationError


class StoppingCriteria:
    """Base class: subclasses implement ``__call__(input_ids, scores, **kwargs) -> (batch,) bool tensor``."""

    def __call__(self, input_ids: torch.LongTensor, scores: Any, **kwargs: Any) -> torch.BoolTensor:
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(input_ids, scores).")


class StoppingCriteriaList(list):
    """Criteria ORed together."""

    def __call__(self, input_ids: torch.LongTensor, scores: Any, **kwargs: Any) -> torch.BoolTensor:
        done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        for criterion in self:
            done = done | criterion(input_ids, scores, **kwargs)
        return done

    @property
    def max_length(self) -> int | None:
        for criterion in self:
            if isinstance(criterion, MaxLengthCriteria):
                return criterion.max_length
        return None


class MaxLengthCriteria(StoppingCriteria):
    """Done once sequences (prompt included) reach ``max_length`` tokens."""

    def __init__(self, max_length: int, max_position_embeddings: int | None = None) -> None:
        self.max_length = max_length
        self.max_position_embeddings = max_position_embeddings

    def __call__(self, input_ids: torch.LongTensor, scores: Any, **kwargs: Any) -> torch.BoolTensor:
        done = input_ids.shape[1] >= self.max_length
        return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)


class MaxTimeCriteria(StoppingCriteria):
    """Done once ``max_time`` seconds have passed since the criterion was made (or ``initial_timestamp``)."""

    def __init__(self, max_time: float, initial_timestamp: float | None = None) -> None:
        self.max_time = max_time
        self.initial_timestamp = time.time() if initial_timestamp is None else initial_timestamp

    def __call__(self, input_ids: torch.LongTensor, scores: Any, **kwargs: Any) -> torch.BoolTensor:
        done = time.time() - self.initial_timestamp > self.max_time
        return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)


class EosTokenCriteria(StoppingCriteria):
    """Done when the last token is one of the end-of-sequence ids."""

    def __init__(self, eos_token_id: int | Sequence[int] | torch.Tensor) -> None:
        if isinstance(eos_token_id, torch.Tensor):
            ids = eos_token_id.reshape(-1)
        else:
            ids = torch.tensor([eos_token_id] if isinstance(eos_token_id, int) else list(eos_token_id))
        self.eos_token_id = ids.long()

    def __call__(
        self, input_ids: torch.LongTensor, scores: Any, new_token_length: int = 1, **kwargs: Any
    ) -> torch.BoolTensor:
        if self.eos_token_id.device != input_ids.device:
            self.eos_token_id = self.eos_token_id.to(input_ids.device)
        return torch.isin(input_ids[:, -new_token_length:], self.eos_token_id).any(dim=-1)


class StopStringCriteria(StoppingCriteria):
    """Done when the generated text contains a stop string that ends inside the last token.

    Matching is on each token's own text (its bytes for byte-level and
    byte-fallback vocabularies), so a stop string split across several
    tokens is found, and one that lies wholly in earlier tokens does not stop
    again.  The text of every token is computed once per tokenizer.
    """

    def __init__(self, tokenizer: Any, stop_strings: str | Sequence[str]) -> None:
        if isinstance(stop_strings, str):
            stop_strings = [stop_strings]
        if not stop_strings or not all(isinstance(s, str) and s for s in stop_strings):
            raise GenerationError(f"stop_strings must be non-empty strings, not {stop_strings!r}.")
        self.stop_strings = tuple(stop_strings)
        self._texts, self._as_bytes = _token_texts(tokenizer)
        self._targets: tuple[Any, ...] = (
            tuple(s.encode("utf-8") for s in self.stop_strings) if self._as_bytes else self.stop_strings
        )
        self._longest = max(len(t) for t in self._targets)
        self._empty: Any = b"" if self._as_bytes else ""

    def _row_done(self, ids: list[int]) -> bool:
        texts = self._texts
        last = texts.get(ids[-1], self._empty)
        tail = last
        for token in reversed(ids[:-1]):
            if len(tail) >= self._longest + len(last):
                break
            tail = texts.get(token, self._empty) + tail
        # A match must end after the start of the last token's text.
        window = tail[max(0, len(tail) - len(last) - self._longest + 1) :]
        return any(target in window and _ends_in_last(window, target, len(last)) for target in self._targets)

    def __call__(self, input_ids: torch.LongTensor, scores: Any, **kwargs: Any) -> torch.BoolTensor:
        rows = input_ids[:, -(self._longest + 1) :].tolist()
        done = [bool(row) and self._row_done(row) for row in rows]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


def _ends_in_last(window: Any, target: Any, last_length: int) -> bool:
    boundary = len(window) - last_length
    start = window.find(target)
    while start != -1:
        if start + len(target) > boundary:
            return True
        start = window.find(target, start + 1)
    return False


@functools.lru_cache(maxsize=8)
def _byte_level_alphabet() -> dict[str, int]:
    """The printable stand-in character of each byte in byte-level BPE vocabularies (GPT-2's scheme)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    mapping = {byte: byte for byte in printable}
    extra = 0
    for byte in range(256):
        if byte not in mapping:
            mapping[byte] = 256 + extra
            extra += 1
    return {chr(char): byte for byte, char in mapping.items()}


def _decoder_kinds(tokenizer: Any) -> set[str]:
    """The decoder types named in the tokenizer's ``tokenizer.json`` pipeline (``ByteLevel``, ``ByteFallback``...)."""
    backend = getattr(tokenizer, "backend_tokenizer", None) or getattr(tokenizer, "_tokenizer", None)
    text = None
    if backend is not None and hasattr(backend, "to_str"):
        try:
            text = backend.to_str()
        except Exception:  # a backend that cannot serialise just gives no hint
            text = None
    if not text:
        return set()
    import json

    try:
        decoder = json.loads(text).get("decoder")
    except ValueError:
        return set()
    kinds: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("type"), str):
                kinds.add(node["type"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(decoder)
    return kinds


_TEXT_CACHE: dict[int, tuple[Any, dict[int, Any], bool]] = {}


def _token_texts(tokenizer: Any) -> tuple[dict[int, Any], bool]:
    """Each token id's contribution to decoded text; bytes for byte-level and byte-fallback vocabularies."""
    cached = _TEXT_CACHE.get(id(tokenizer))
    if cached is not None and cached[0] is tokenizer:
        return cached[1], cached[2]
    vocab: dict[str, int] = tokenizer.get_vocab()
    kinds = _decoder_kinds(tokenizer)
    as_bytes = bool(kinds & {"ByteLevel", "ByteFallback"})
    alphabet = _byte_level_alphabet() if "ByteLevel" in kinds else None
    # Tokens whose text depends on what precedes them (a word-piece "##" or a "▁" word start) are decoded
    # after a fixed prefix, and the prefix's text is cut off again.
    prefix = "abcdef"
    prefix_ids = tokenizer(prefix, add_special_tokens=False)["input_ids"]
    prefix_tokens = tokenizer.convert_ids_to_tokens(prefix_ids)
    texts: dict[int, Any] = {}
    for token, index in vocab.items():
        value: Any = None
        if alphabet is not None and token and all(char in alphabet for char in token):
            value = bytes(alphabet[char] for char in token)
        elif "ByteFallback" in kinds and len(token) == 6 and token.startswith("<0x") and token.endswith(">"):
            try:
                value = bytes([int(token[3:5], 16)])
            except ValueError:
                value = None
        if value is None:
            decoded = tokenizer.convert_tokens_to_string([*prefix_tokens, token])
            cut = decoded.find(prefix)
            value = decoded[cut + len(prefix) :] if cut != -1 else decoded
            if as_bytes:
                value = value.encode("utf-8")
        texts[index] = value
    _TEXT_CACHE[id(tokenizer)] = (tokenizer, texts, as_bytes)
    return texts, as_bytes


__all__ = [
    "EosTokenCriteria",
    "MaxLengthCriteria",
    "MaxTimeCriteria",
    "StopStringCriteria",
    "StoppingCriteria",
    "StoppingCriteriaList",
]
