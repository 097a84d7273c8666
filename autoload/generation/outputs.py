"""What ``generate(return_dict_in_generate=True)`` returns: sequences plus the per-step details asked for.

Field names and order are transformers' (``cache`` is the key/value cache,
also readable as ``past_key_values``), so code that reads these outputs works
with either library.  Torch-free: the fields hold whatever tensors the loop made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from autoload.outputs import ModelOutput


@dataclass(repr=False)
class GenerateDecoderOnlyOutput(ModelOutput):
    """Greedy or sampled output of a decoder-only model.

    ``scores``: processed next-token scores, one ``(batch, vocab)`` tensor per
    step; ``logits``: the raw ones; ``attentions`` / ``hidden_states``: the
    model's, one tuple per step.
    """

    sequences: Any = None
    scores: Any = None
    logits: Any = None
    attentions: Any = None
    hidden_states: Any = None
    cache: Any = None


@dataclass(repr=False)
class GenerateEncoderDecoderOutput(ModelOutput):
    """Greedy or sampled output of an encoder-decoder model."""

    sequences: Any = None
    scores: Any = None
    logits: Any = None
    encoder_attentions: Any = None
    encoder_hidden_states: Any = None
    decoder_attentions: Any = None
    cross_attentions: Any = None
    decoder_hidden_states: Any = None
    cache: Any = None


@dataclass(repr=False)
class GenerateBeamDecoderOnlyOutput(ModelOutput):
    """Beam-search output of a decoder-only model.

    ``sequences_scores``: the final, length-penalised score of each returned
    sequence; ``scores``: per step, the processed log-probabilities of every
    beam ``(batch * num_beams, vocab)``; ``beam_indices``: for each returned
    sequence and step, which beam row the token came from (-1 past its end).
    """

    sequences: Any = None
    sequences_scores: Any = None
    scores: Any = None
    logits: Any = None
    beam_indices: Any = None
    attentions: Any = None
    hidden_states: Any = None
    cache: Any = None


@dataclass(repr=False)
class GenerateBeamEncoderDecoderOutput(ModelOutput):
    """Beam-search output of an encoder-decoder model."""

    sequences: Any = None
    sequences_scores: Any = None
    scores: Any = None
    logits: Any = None
    beam_indices: Any = None
    encoder_attentions: Any = None
    encoder_hidden_states: Any = None
    decoder_attentions: Any = None
    cross_attentions: Any = None
    decoder_hidden_states: Any = None
    cache: Any = None


__all__ = [
    "GenerateBeamDecoderOnlyOutput",
    "GenerateBeamEncoderDecoderOutput",
    "GenerateDecoderOnlyOutput",
    "GenerateEncoderDecoderOutput",
]
