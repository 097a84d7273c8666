"""Growing or shrinking a model's vocabulary: input embeddings, output projection, and their tie.

New rows are drawn as transformers draws them, so a seeded resize gives the
same numbers in both libraries: by default from a normal distribution with
the old rows' mean and (scaled down) covariance, which keeps the new tokens'
first logits close to the average token's instead of random
(https://nlp.stanford.edu/~johnhew/vocab-expansion.html); with
``mean_resizing=False`` by the architecture's own ``_init_weights``.
Embeddings are resized in place (the same Parameter object gets new data),
so ties to an output projection survive.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.distributions import constraints

from autoload.errors import ConfigError
from autoload.modeling.layers.projections import Linear

InitWeights = Callable[[nn.Module], None]

_COVARIANCE_SCALE = 1e-9


def padded_size(new_num_tokens: int | None, current: int, pad_to_multiple_of: int | None) -> int | None:
    if pad_to_multiple_of is None:
        return new_num_tokens
    if not isinstance(pad_to_multiple_of, int) or isinstance(pad_to_multiple_of, bool) or pad_to_multiple_of < 1:
        raise ConfigError(f"pad_to_multiple_of must be a positive int, not {pad_to_multiple_of!r}.")
    wanted = current if new_num_tokens is None else new_num_tokens
    return -(-wanted // pad_to_multiple_of) * pad_to_multiple_of


def _fill_with_mean(old_weight: torch.Tensor, new_weight: torch.Tensor, added: int) -> None:
    """Rows ``-added:`` of ``new_weight`` drawn around the old rows' mean with their covariance (times 1e-9)."""
    # row-major as transformers holds it, so the sums run in its order and a seeded draw gives its exact numbers
    old = old_weight.data.to(torch.float32).contiguous()
    mean = old.mean(dim=0)
    centred = old - mean
    covariance = centred.T @ centred / old.shape[0]
    if bool(constraints.positive_definite.check(_COVARIANCE_SCALE * covariance).all()):
        distribution = torch.distributions.MultivariateNormal(mean, covariance_matrix=_COVARIANCE_SCALE * covariance)
        new_weight.data[-added:, :] = distribution.sample(sample_shape=(added,)).to(old_weight.dtype)
    else:
        # Too few rows for a full-rank covariance: every new row is the mean.
        new_weight.data[-added:, :] = mean[None, :].repeat(added, 1).to(old_weight.dtype)


def resize_embedding(
    embedding: nn.Embedding, new_num_tokens: int, *, mean_resizing: bool, init_weights: InitWeights
) -> nn.Embedding:
    """``embedding`` with ``new_num_tokens`` rows, the first ones kept; resized in place."""
    if not isinstance(embedding, nn.Embedding):
        raise ConfigError(
            f"resize_token_embeddings can resize an nn.Embedding, but the input embeddings are a "
            f"{type(embedding).__name__}; override resize_token_embeddings for this architecture."
        )
    old_num_tokens, dim = embedding.weight.shape
    if old_num_tokens == new_num_tokens:
        embedding.num_embeddings = new_num_tokens
        return embedding
    fresh = nn.Embedding(new_num_tokens, dim, device=embedding.weight.device, dtype=embedding.weight.dtype)
    if new_num_tokens > old_num_tokens:
        if mean_resizing:
            _fill_with_mean(embedding.weight, fresh.weight, new_num_tokens - old_num_tokens)
        else:
            with torch.no_grad():
                init_weights(fresh)
    kept = min(old_num_tokens, new_num_tokens)
    fresh.weight.data[:kept, :] = embedding.weight.data[:kept, :]
    embedding.weight.data = fresh.weight.data
    embedding.num_embeddings = new_num_tokens
    if embedding.padding_idx is not None and new_num_tokens - 1 < embedding.padding_idx:
        embedding.padding_idx = None
    return embedding


def resize_linear_head(
    head: nn.Linear, new_num_tokens: int, *, mean_resizing: bool, init_weights: InitWeights
) -> nn.Linear:
    """A vocabulary projection with ``new_num_tokens`` outputs (a new module unless the size already fits)."""
    if not isinstance(head, nn.Linear):
        raise ConfigError(
            f"resize_token_embeddings can resize an nn.Linear output projection, not a {type(head).__name__}; "
            "override resize_token_embeddings for this architecture."
        )
    old_num_tokens, dim = head.weight.shape
    if old_num_tokens == new_num_tokens:
        head.out_features = new_num_tokens  # a tied weight was resized already
        return head
    has_bias = head.bias is not None
    kind = Linear if isinstance(head, Linear) else nn.Linear  # keeps the host layer's faster inference kernel
    fresh = kind(dim, new_num_tokens, bias=has_bias, device=head.weight.device, dtype=head.weight.dtype)
    added = new_num_tokens - old_num_tokens
    if added > 0:
        if mean_resizing:
            _fill_with_mean(head.weight, fresh.weight, added)
            if has_bias:
                mean = torch.mean(head.bias.data, dim=0, dtype=torch.float32)
                std = torch.std(head.bias.data, dim=0).to(torch.float32)
                fresh.bias.data[-added:].normal_(mean=mean, std=_COVARIANCE_SCALE * std)
        else:
            with torch.no_grad():
                init_weights(fresh)
    kept = min(old_num_tokens, new_num_tokens)
    fresh.weight.data[:kept, :] = head.weight.data[:kept, :]
    if has_bias:
        fresh.bias.data[:kept] = head.bias.data[:kept]
    return fresh


def pad_output_bias(head: nn.Module | None) -> None:
    """A tied output projection's bias grows with its weight: zeros for the new tokens, in place."""
    if head is None:
        return
    weight, bias = getattr(head, "weight", None), getattr(head, "bias", None)
    if isinstance(weight, torch.Tensor) and isinstance(bias, torch.Tensor) and bias.shape[0] != weight.shape[0]:
        rows = weight.shape[0]
        bias.data = nn.functional.pad(bias.data, (0, rows - bias.shape[0]), "constant", 0)[:rows]
    if isinstance(weight, torch.Tensor) and hasattr(head, "out_features"):
        head.out_features = weight.shape[0]
