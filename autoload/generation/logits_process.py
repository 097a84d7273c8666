"""Logits processors: the per-step edits of next-token scores that turn a model into a decoding strategy.

Each processor takes ``(input_ids, scores)``, the tokens so far
``(batch, length)`` and the next-token scores ``(batch, vocab)``, and returns
new scores.  ``generate()`` builds the list from a GenerationConfig once, before
the loop, and only with the processors that change something, so a step pays
for nothing it does not use.  The arithmetic is transformers' (same operations
in the same order), so processed scores agree to float rounding and a seeded
sampler draws the same tokens.

Warpers (temperature, top-k, top-p, min-p, typical) reshape the distribution
sampled from; the others forbid or force tokens.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import torch

from autoload.errors import GenerationError

_NEG_INF = -math.inf


class LogitsProcessor:
    """Base class: subclasses implement ``__call__(input_ids, scores) -> scores``."""

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(input_ids, scores).")


LogitsWarper = LogitsProcessor  # the name transformers used for the sampling-only ones


class LogitsProcessorList(list):
    """Processors applied in order; extra keyword arguments reach processors that accept them."""

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: Any) -> torch.FloatTensor:
        if kwargs:
            for processor in self:
                scores = processor(input_ids, scores, **kwargs)
        else:
            for processor in self:
                scores = processor(input_ids, scores)
        return scores


def _token_ids(value: int | Sequence[int] | torch.Tensor, name: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        ids = value.reshape(-1).long()
    elif isinstance(value, int) and not isinstance(value, bool):
        ids = torch.tensor([value], dtype=torch.long)
    else:
        ids = torch.tensor(list(value), dtype=torch.long)
    if ids.numel() and (ids < 0).any():
        raise GenerationError(f"{name} must be token ids >= 0, not {ids.tolist()}.")
    return ids


class _TokenMask:
    """A boolean (vocab,) mask of some token ids, built once per vocabulary size and device."""

    def __init__(self, ids: torch.Tensor) -> None:
        self.ids = ids
        self._mask: torch.Tensor | None = None

    def for_scores(self, scores: torch.Tensor) -> torch.Tensor:
        mask = self._mask
        vocab = scores.shape[-1]
        if mask is None or mask.shape[0] != vocab or mask.device != scores.device:
            mask = torch.zeros(vocab, dtype=torch.bool, device=scores.device)
            ids = self.ids[self.ids < vocab].to(scores.device)
            mask[ids] = True
            self._mask = mask
        return mask


def _check_positive_int(value: Any, name: str, allow_zero: bool = False) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < (0 if allow_zero else 1):
        bound = ">= 0" if allow_zero else "> 0"
        raise GenerationError(f"{name} must be an int {bound}, not {value!r}.")
    return value


# -- length ----------------------------------------------------------------------


class MinLengthLogitsProcessor(LogitsProcessor):
    """Forbid end-of-sequence until the whole sequence (prompt included) has ``min_length`` tokens."""

    def __init__(self, min_length: int, eos_token_id: int | Sequence[int] | torch.Tensor, device: Any = "cpu") -> None:
        self.min_length = _check_positive_int(min_length, "min_length", allow_zero=True)
        self.eos_token_id = _token_ids(eos_token_id, "eos_token_id")
        self._eos = _TokenMask(self.eos_token_id)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if input_ids.shape[-1] < self.min_length:
            return scores.masked_fill(self._eos.for_scores(scores), _NEG_INF)
        return scores


class MinNewTokensLengthLogitsProcessor(LogitsProcessor):
    """Forbid end-of-sequence until ``min_new_tokens`` tokens follow the prompt."""

    def __init__(
        self,
        prompt_length_to_skip: int,
        min_new_tokens: int,
        eos_token_id: int | Sequence[int] | torch.Tensor,
        device: Any = "cpu",
    ) -> None:
        self.prompt_length_to_skip = _check_positive_int(prompt_length_to_skip, "prompt_length_to_skip", True)
        self.min_new_tokens = _check_positive_int(min_new_tokens, "min_new_tokens", allow_zero=True)
        self.eos_token_id = _token_ids(eos_token_id, "eos_token_id")
        self._eos = _TokenMask(self.eos_token_id)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if input_ids.shape[-1] - self.prompt_length_to_skip < self.min_new_tokens:
            return scores.masked_fill(self._eos.for_scores(scores), _NEG_INF)
        return scores


# -- warpers -----------------------------------------------------------------------


class TemperatureLogitsWarper(LogitsProcessor):
    """Divide scores by the temperature: below 1 sharpens the distribution, above 1 flattens it."""

    def __init__(self, temperature: float) -> None:
        if not isinstance(temperature, (float, int)) or isinstance(temperature, bool) or not temperature > 0:
            hint = " For greedy decoding set do_sample=False." if temperature == 0 else ""
            raise GenerationError(f"temperature must be a number > 0, not {temperature!r}.{hint}")
        self.temperature = float(temperature)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        return scores / self.temperature


class TopKLogitsWarper(LogitsProcessor):
    """Keep the ``top_k`` best tokens (ties with the k-th included)."""

    def __init__(self, top_k: int, filter_value: float = _NEG_INF, min_tokens_to_keep: int = 1) -> None:
        _check_positive_int(top_k, "top_k")
        self.top_k = max(top_k, min_tokens_to_keep)
        self.filter_value = filter_value
        self.min_tokens_to_keep = min_tokens_to_keep

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        k = min(self.top_k, scores.shape[-1])
        kth_best = torch.topk(scores, k)[0][..., -1:]
        return scores.masked_fill(scores < kth_best, self.filter_value)


class TopPLogitsWarper(LogitsProcessor):
    """Nucleus sampling: keep the smallest set of best tokens whose probability reaches ``top_p``."""

    def __init__(self, top_p: float, filter_value: float = _NEG_INF, min_tokens_to_keep: int = 1) -> None:
        top_p = float(top_p)
        if not 0.0 <= top_p <= 1.0:
            raise GenerationError(f"top_p must be between 0 and 1, not {top_p!r}.")
        self.top_p = top_p
        self.filter_value = filter_value
        self.min_tokens_to_keep = _check_positive_int(min_tokens_to_keep, "min_tokens_to_keep")

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        # Ascending order: the tail to drop is a prefix whose cumulative probability stays <= 1 - top_p.
        ascending, order = torch.sort(scores, descending=False)
        mass_below = ascending.softmax(dim=-1).cumsum(dim=-1)
        drop_sorted = mass_below <= (1 - self.top_p)
        drop_sorted[..., -self.min_tokens_to_keep :] = False
        drop = drop_sorted.scatter(1, order, drop_sorted)
        return scores.masked_fill(drop, self.filter_value)


class MinPLogitsWarper(LogitsProcessor):
    """Keep tokens whose probability is at least ``min_p`` times the best token's."""

    def __init__(self, min_p: float, filter_value: float = _NEG_INF, min_tokens_to_keep: int = 1) -> None:
        if not isinstance(min_p, (int, float)) or not 0.0 <= min_p <= 1.0:
            raise GenerationError(f"min_p must be between 0 and 1, not {min_p!r}.")
        self.min_p = min_p
        self.filter_value = filter_value
        self.min_tokens_to_keep = _check_positive_int(min_tokens_to_keep, "min_tokens_to_keep")

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        probs = torch.softmax(scores, dim=-1)
        threshold = self.min_p * probs.amax(dim=-1, keepdim=True)
        drop = probs < threshold
        keep = torch.topk(probs, min(self.min_tokens_to_keep, probs.shape[-1]), dim=-1).indices
        drop.scatter_(-1, keep, False)
        return scores.masked_fill(drop, self.filter_value)


class TypicalLogitsWarper(LogitsProcessor):
    """Locally typical sampling: keep tokens whose surprise is closest to the distribution's entropy."""

    def __init__(self, mass: float = 0.9, filter_value: float = _NEG_INF, min_tokens_to_keep: int = 1) -> None:
        mass = float(mass)
        if not 0.0 < mass < 1.0:
            raise GenerationError(f"typical_p must be strictly between 0 and 1, not {mass!r}.")
        self.mass = mass
        self.filter_value = filter_value
        self.min_tokens_to_keep = _check_positive_int(min_tokens_to_keep, "min_tokens_to_keep")

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        log_probs = torch.nn.functional.log_softmax(scores, dim=-1)
        entropy = -(log_probs * log_probs.exp()).nansum(-1, keepdim=True)
        distance = torch.abs(-log_probs - entropy)
        sorted_distance, order = torch.sort(distance, descending=False)
        mass_so_far = scores.gather(-1, order).softmax(dim=-1).cumsum(dim=-1)
        cutoff = (mass_so_far < self.mass).sum(dim=1).clamp_(max=sorted_distance.shape[-1] - 1)
        drop_sorted = sorted_distance > sorted_distance.gather(1, cutoff.view(-1, 1))
        drop_sorted[..., : self.min_tokens_to_keep] = False
        drop = drop_sorted.scatter(1, order, drop_sorted)
        return scores.masked_fill(drop, self.filter_value)


# -- penalties and bans ------------------------------------------------------------------


class RepetitionPenaltyLogitsProcessor(LogitsProcessor):
    """Make tokens already present less likely: positive scores divided by ``penalty``, negative multiplied.

    ``prompt_ignore_length`` (an int, or one int per row) leaves the first
    tokens of each row out, so left padding is not penalised.
    """

    def __init__(self, penalty: float, prompt_ignore_length: int | torch.Tensor | None = None) -> None:
        if not isinstance(penalty, (float, int)) or isinstance(penalty, bool) or not penalty > 0:
            raise GenerationError(f"repetition_penalty must be a number > 0, not {penalty!r}.")
        if isinstance(prompt_ignore_length, int) and prompt_ignore_length < 0:
            raise GenerationError(f"prompt_ignore_length must be >= 0, not {prompt_ignore_length}.")
        self.penalty = float(penalty)
        self.prompt_ignore_length = prompt_ignore_length

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        vocab = scores.shape[-1]
        ignore = self.prompt_ignore_length
        if isinstance(ignore, int):
            input_ids = input_ids[:, ignore:]
        elif isinstance(ignore, torch.Tensor):
            if ignore.shape[0] != input_ids.shape[0]:
                raise GenerationError(
                    f"prompt_ignore_length has {ignore.shape[0]} rows but input_ids has {input_ids.shape[0]}."
                )
            positions = torch.arange(input_ids.shape[1], device=input_ids.device)
            # Ignored positions point at an extra column that is cut off afterwards.
            input_ids = input_ids.masked_fill(positions[None, :] < ignore.to(input_ids.device)[:, None], vocab)
        ids = input_ids.clamp(max=vocab)
        padded = torch.nn.functional.pad(scores, (0, 1))
        seen = torch.gather(padded, 1, ids)
        seen = torch.where(seen < 0, seen * self.penalty, seen / self.penalty)
        return padded.scatter(1, ids, seen)[..., :vocab]


class NoRepeatNGramLogitsProcessor(LogitsProcessor):
    """Forbid any token that would complete an n-gram already present in the row."""

    def __init__(self, ngram_size: int) -> None:
        self.ngram_size = _check_positive_int(ngram_size, "no_repeat_ngram_size")

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        n = self.ngram_size
        length = input_ids.shape[-1]
        if length < n:
            return scores
        vocab = scores.shape[-1]
        if n == 1:
            banned = torch.zeros((scores.shape[0], vocab + 1), dtype=torch.bool, device=scores.device)
            banned.scatter_(1, input_ids.clamp(max=vocab), True)
            return scores.masked_fill(banned[:, :vocab], _NEG_INF)
        # Every earlier window of n tokens whose first n-1 equal the last n-1 tokens bans its last token.
        windows = input_ids.unfold(1, n, 1)  # (batch, length - n + 1, n)
        tail = input_ids[:, length - n + 1 :]
        hits = (windows[..., :-1] == tail[:, None, :]).all(dim=-1)
        targets = torch.where(hits, windows[..., -1].clamp(max=vocab), vocab)
        banned = torch.zeros((scores.shape[0], vocab + 1), dtype=torch.bool, device=scores.device)
        banned.scatter_(1, targets, True)
        return scores.masked_fill(banned[:, :vocab], _NEG_INF)


class SequenceBiasLogitsProcessor(LogitsProcessor):
    """Add a bias to a token when the tokens before it match a given prefix.

    ``sequence_bias`` maps token-id tuples to biases (``{(12, 7): -5.0}``),
    or is a list of ``[ids, bias]`` pairs (the JSON form).
    """

    def __init__(self, sequence_bias: dict[tuple[int, ...], float] | list[list[Any]]) -> None:
        if isinstance(sequence_bias, list):
            try:
                sequence_bias = {tuple(ids): float(bias) for ids, bias in sequence_bias}
            except (TypeError, ValueError) as exc:
                raise GenerationError(f"sequence_bias must be a list of [token ids, bias] pairs: {exc}") from exc
        if not isinstance(sequence_bias, dict) or not sequence_bias:
            raise GenerationError(f"sequence_bias must be a non-empty dict or list, not {sequence_bias!r}.")
        for ids, bias in sequence_bias.items():
            if not isinstance(ids, tuple) or not ids or not all(isinstance(i, int) and i >= 0 for i in ids):
                raise GenerationError(f"sequence_bias keys must be non-empty tuples of token ids, not {ids!r}.")
            if not isinstance(bias, float):
                raise GenerationError(f"sequence_bias values must be floats, not {bias!r} (for {ids}).")
        self.sequence_bias = sequence_bias
        self._prepared_for: tuple[int, torch.device] | None = None
        self._single: torch.Tensor | None = None
        self._groups: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []

    def _prepare(self, scores: torch.Tensor) -> None:
        vocab, device = scores.shape[-1], scores.device
        too_large = sorted({i for ids in self.sequence_bias for i in ids if i >= vocab})
        if too_large:
            raise GenerationError(
                f"The vocabulary has {vocab} tokens, but these biased ids are beyond it: {too_large}."
            )
        single = torch.zeros(vocab, dtype=torch.float, device=device)
        by_length: dict[int, list[tuple[tuple[int, ...], float]]] = {}
        for ids, bias in self.sequence_bias.items():
            if len(ids) == 1:
                single[ids[0]] = bias
            else:
                by_length.setdefault(len(ids) - 1, []).append((ids, bias))
        self._single = single
        self._groups = [
            (
                torch.tensor([ids[:-1] for ids, _ in group], device=device),
                torch.tensor([ids[-1] for ids, _ in group], device=device),
                torch.tensor([bias for _, bias in group], dtype=torch.float, device=device),
            )
            for group in by_length.values()
        ]
        self._prepared_for = (vocab, device)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if self._prepared_for != (scores.shape[-1], scores.device):
            self._prepare(scores)
        bias = torch.zeros_like(scores)
        bias += self._single
        for prefixes, last_tokens, biases in self._groups:
            width = prefixes.shape[1]
            if width > input_ids.shape[1]:
                continue
            matching = (input_ids[:, None, -width:] == prefixes).all(dim=-1)
            bias.index_add_(1, last_tokens, torch.where(matching, biases, 0.0).to(bias.dtype))
        return scores + bias


class NoBadWordsLogitsProcessor(SequenceBiasLogitsProcessor):
    """Forbid token sequences: the last token of each is banned whenever the tokens before it match.

    A single-token entry equal to an end-of-sequence id is dropped: banning
    the only way to stop is never what was meant.
    """

    def __init__(
        self, bad_words_ids: list[list[int]], eos_token_id: int | Sequence[int] | torch.Tensor | None = None
    ) -> None:
        if (
            not isinstance(bad_words_ids, list)
            or not bad_words_ids
            or not all(
                isinstance(ids, list) and all(isinstance(i, int) and i >= 0 for i in ids) for ids in bad_words_ids
            )
        ):
            raise GenerationError(
                f"bad_words_ids must be a non-empty list of lists of token ids, not {bad_words_ids!r}."
            )
        self.bad_words_ids = bad_words_ids
        eos = set(_token_ids(eos_token_id, "eos_token_id").tolist()) if eos_token_id is not None else set()
        kept = [ids for ids in bad_words_ids if not (len(ids) == 1 and ids[0] in eos)]
        super().__init__({tuple(ids): _NEG_INF for ids in kept})

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        return super().__call__(input_ids, scores)


class SuppressTokensLogitsProcessor(LogitsProcessor):
    """Never generate the given tokens."""

    def __init__(self, suppress_tokens: Iterable[int], device: Any = "cpu") -> None:
        self.suppress_tokens = _token_ids(list(suppress_tokens), "suppress_tokens")
        self._mask = _TokenMask(self.suppress_tokens)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        return scores.masked_fill(self._mask.for_scores(scores), _NEG_INF)


class SuppressTokensAtBeginLogitsProcessor(LogitsProcessor):
    """Forbid the given tokens as the first generated token (when the sequence is ``begin_index`` long)."""

    def __init__(self, begin_suppress_tokens: Iterable[int], begin_index: int, device: Any = "cpu") -> None:
        self.begin_suppress_tokens = _token_ids(list(begin_suppress_tokens), "begin_suppress_tokens")
        self.begin_index = begin_index
        self._mask = _TokenMask(self.begin_suppress_tokens)

    def set_begin_index(self, begin_index: int) -> None:
        self.begin_index = begin_index

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if input_ids.shape[-1] == self.begin_index:
            return scores.masked_fill(self._mask.for_scores(scores), _NEG_INF)
        return scores


# -- forcing --------------------------------------------------------------------------------


class ForcedBOSTokenLogitsProcessor(LogitsProcessor):
    """Make ``bos_token_id`` the first generated token (encoder-decoder models, after the start token)."""

    def __init__(self, bos_token_id: int) -> None:
        self.bos_token_id = bos_token_id

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if input_ids.shape[-1] == 1:
            forced = torch.full_like(scores, _NEG_INF)
            forced[:, self.bos_token_id] = 0
            return forced
        return scores


class ForcedEOSTokenLogitsProcessor(LogitsProcessor):
    """Make an end-of-sequence token the last token when ``max_length`` is reached."""

    def __init__(self, max_length: int, eos_token_id: int | Sequence[int] | torch.Tensor, device: Any = "cpu") -> None:
        self.max_length = max_length
        self.eos_token_id = _token_ids(eos_token_id, "forced_eos_token_id")

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if input_ids.shape[-1] == self.max_length - 1:
            forced = torch.full_like(scores, _NEG_INF)
            forced[:, self.eos_token_id.to(scores.device)] = 0
            return forced
        return scores


class InfNanRemoveLogitsProcessor(LogitsProcessor):
    """Replace NaN by 0 and infinities by the dtype's extremes, so sampling cannot fail on them."""

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        info = torch.finfo(scores.dtype)
        cleaned = torch.where(scores != scores, 0.0, scores)
        cleaned = torch.where(scores == math.inf, info.max, cleaned)
        return torch.where(scores == _NEG_INF, info.min, cleaned)


class LogitNormalizationProcessor(LogitsProcessor):
    """Turn scores into log-probabilities again after the processors changed them (``renormalize_logits``)."""

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        return scores.log_softmax(dim=-1)


__all__ = [
    "ForcedBOSTokenLogitsProcessor",
    "ForcedEOSTokenLogitsProcessor",
    "InfNanRemoveLogitsProcessor",
    "LogitNormalizationProcessor",
    "LogitsProcessor",
    "LogitsProcessorList",
    "LogitsWarper",
    "MinLengthLogitsProcessor",
    "MinNewTokensLengthLogitsProcessor",
    "MinPLogitsWarper",
    "NoBadWordsLogitsProcessor",
    "NoRepeatNGramLogitsProcessor",
    "RepetitionPenaltyLogitsProcessor",
    "SequenceBiasLogitsProcessor",
    "SuppressTokensAtBeginLogitsProcessor",
    "SuppressTokensLogitsProcessor",
    "TemperatureLogitsWarper",
    "TopKLogitsWarper",
    "TopPLogitsWarper",
    "TypicalLogitsWarper",
]
