"""Logits processors and stopping criteria against transformers' own, on random scores."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")
tg = pytest.importorskip("transformers.generation")

from autoload import GenerationError  # noqa: E402
from autoload.generation import logits_process as lp  # noqa: E402
from autoload.generation import stopping_criteria as sc  # noqa: E402

VOCAB = 40


def _inputs(seed: int = 0, batch: int = 4, length: int = 9) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, VOCAB, (batch, length), generator=generator)
    if length >= 8:
        ids[:, -3:] = ids[:, 2:5]  # repeated n-grams, so the n-gram ban has something to ban
    scores = torch.randn(batch, VOCAB, generator=generator) * 3
    return ids, scores


PAIRS = [
    (lambda: lp.TemperatureLogitsWarper(0.7), lambda: tg.TemperatureLogitsWarper(0.7)),
    (lambda: lp.TopKLogitsWarper(5), lambda: tg.TopKLogitsWarper(5)),
    (lambda: lp.TopKLogitsWarper(3, min_tokens_to_keep=6), lambda: tg.TopKLogitsWarper(3, min_tokens_to_keep=6)),
    (lambda: lp.TopPLogitsWarper(0.8), lambda: tg.TopPLogitsWarper(0.8)),
    (lambda: lp.TopPLogitsWarper(0.1, min_tokens_to_keep=3), lambda: tg.TopPLogitsWarper(0.1, min_tokens_to_keep=3)),
    (lambda: lp.MinPLogitsWarper(0.2), lambda: tg.MinPLogitsWarper(0.2)),
    (lambda: lp.MinPLogitsWarper(0.9, min_tokens_to_keep=2), lambda: tg.MinPLogitsWarper(0.9, min_tokens_to_keep=2)),
    (lambda: lp.TypicalLogitsWarper(0.6), lambda: tg.TypicalLogitsWarper(0.6)),
    (lambda: lp.RepetitionPenaltyLogitsProcessor(1.4), lambda: tg.RepetitionPenaltyLogitsProcessor(1.4)),
    (
        lambda: lp.RepetitionPenaltyLogitsProcessor(1.4, prompt_ignore_length=torch.tensor([0, 2, 4, 1])),
        lambda: tg.RepetitionPenaltyLogitsProcessor(1.4, prompt_ignore_length=torch.tensor([0, 2, 4, 1])),
    ),
    (lambda: lp.NoRepeatNGramLogitsProcessor(1), lambda: tg.NoRepeatNGramLogitsProcessor(1)),
    (lambda: lp.NoRepeatNGramLogitsProcessor(2), lambda: tg.NoRepeatNGramLogitsProcessor(2)),
    (lambda: lp.NoRepeatNGramLogitsProcessor(3), lambda: tg.NoRepeatNGramLogitsProcessor(3)),
    (
        lambda: lp.NoBadWordsLogitsProcessor([[5], [3, 7], [1, 2, 9], [4]], eos_token_id=4),
        lambda: tg.NoBadWordsLogitsProcessor([[5], [3, 7], [1, 2, 9], [4]], eos_token_id=4),
    ),
    (
        lambda: lp.SequenceBiasLogitsProcessor({(5,): 2.0, (3, 7): -1.5}),
        lambda: tg.SequenceBiasLogitsProcessor({(5,): 2.0, (3, 7): -1.5}),
    ),
    (lambda: lp.MinLengthLogitsProcessor(12, [2, 3]), lambda: tg.MinLengthLogitsProcessor(12, [2, 3])),
    (lambda: lp.MinLengthLogitsProcessor(5, 2), lambda: tg.MinLengthLogitsProcessor(5, 2)),
    (
        lambda: lp.MinNewTokensLengthLogitsProcessor(5, 6, [2]),
        lambda: tg.MinNewTokensLengthLogitsProcessor(5, 6, [2]),
    ),
    (lambda: lp.ForcedBOSTokenLogitsProcessor(3), lambda: tg.ForcedBOSTokenLogitsProcessor(3)),
    (lambda: lp.ForcedEOSTokenLogitsProcessor(10, [2, 6]), lambda: tg.ForcedEOSTokenLogitsProcessor(10, [2, 6])),
    (lambda: lp.SuppressTokensLogitsProcessor([1, 4, 39]), lambda: tg.SuppressTokensLogitsProcessor([1, 4, 39])),
    (
        lambda: lp.SuppressTokensAtBeginLogitsProcessor([1, 4], 9),
        lambda: tg.SuppressTokensAtBeginLogitsProcessor([1, 4], 9),
    ),
]


@pytest.mark.parametrize("ours, theirs", PAIRS)
@pytest.mark.parametrize("seed", [0, 1])
def test_processor_matches_transformers(ours, theirs, seed):
    ids, scores = _inputs(seed)
    expected = theirs()(ids, scores.clone())
    got = ours()(ids, scores.clone())
    assert torch.equal(torch.isinf(got), torch.isinf(expected))
    finite = ~torch.isinf(expected)
    torch.testing.assert_close(got[finite], expected[finite], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("length", [1, 9, 10])
def test_length_dependent_processors_follow_the_length(length):
    ids, scores = _inputs(3, length=length)
    for ours, theirs in (
        (lp.ForcedBOSTokenLogitsProcessor(3), tg.ForcedBOSTokenLogitsProcessor(3)),
        (lp.ForcedEOSTokenLogitsProcessor(11, 2), tg.ForcedEOSTokenLogitsProcessor(11, 2)),
        (lp.MinLengthLogitsProcessor(10, 2), tg.MinLengthLogitsProcessor(10, 2)),
    ):
        assert torch.equal(ours(ids, scores.clone()), theirs(ids, scores.clone()))


def test_inf_nan_removal_matches_transformers():
    scores = torch.tensor([[math.nan, math.inf, -math.inf, 1.0]])
    ids = torch.zeros((1, 2), dtype=torch.long)
    assert torch.equal(lp.InfNanRemoveLogitsProcessor()(ids, scores), tg.InfNanRemoveLogitsProcessor()(ids, scores))


def test_processor_list_chains_in_order():
    ids, scores = _inputs(4)
    ours = lp.LogitsProcessorList([lp.TemperatureLogitsWarper(0.5), lp.TopKLogitsWarper(4), lp.TopPLogitsWarper(0.7)])
    theirs = tg.LogitsProcessorList([tg.TemperatureLogitsWarper(0.5), tg.TopKLogitsWarper(4), tg.TopPLogitsWarper(0.7)])
    torch.testing.assert_close(ours(ids, scores.clone()), theirs(ids, scores.clone()))


@pytest.mark.parametrize(
    "make",
    [
        lambda: lp.TemperatureLogitsWarper(0.0),
        lambda: lp.TopKLogitsWarper(0),
        lambda: lp.TopPLogitsWarper(1.5),
        lambda: lp.TypicalLogitsWarper(1.0),
        lambda: lp.RepetitionPenaltyLogitsProcessor(0.0),
        lambda: lp.NoRepeatNGramLogitsProcessor(0),
        lambda: lp.NoBadWordsLogitsProcessor([]),
        lambda: lp.NoBadWordsLogitsProcessor([[1, -2]]),
        lambda: lp.MinLengthLogitsProcessor(-1, 2),
    ],
)
def test_bad_settings_raise_generation_error(make):
    with pytest.raises(GenerationError):
        make()


def test_stopping_criteria_match_transformers():
    ids, _ = _inputs(5)
    ids[1, -1] = 7
    ids[2, -1] = 11
    pairs = [
        (sc.MaxLengthCriteria(9), tg.MaxLengthCriteria(9)),
        (sc.MaxLengthCriteria(10), tg.MaxLengthCriteria(10)),
        (sc.EosTokenCriteria([7, 11]), tg.EosTokenCriteria([7, 11])),
        (sc.EosTokenCriteria(7), tg.EosTokenCriteria(7)),
        (sc.MaxTimeCriteria(0.5, initial_timestamp=0.0), tg.MaxTimeCriteria(0.5, initial_timestamp=0.0)),
        (sc.MaxTimeCriteria(100.0), tg.MaxTimeCriteria(100.0)),
    ]
    for ours, theirs in pairs:
        assert torch.equal(ours(ids, None), theirs(ids, None))
    combined = sc.StoppingCriteriaList([sc.MaxLengthCriteria(20), sc.EosTokenCriteria([7])])
    assert combined(ids, None).tolist() == [False, True, False, False]
    assert combined.max_length == 20
