"""Rotary position embeddings (RoPE) with the scaling schemes checkpoints are published with.

``config.rope_parameters`` (transformers 5's spelling; older configs say
``rope_theta`` and ``rope_scaling``) names a ``rope_type``:

- ``default``: frequencies ``theta ** (-2i / dim)``;
- ``linear``: positions divided by ``factor`` (frequencies divided by it);
- ``dynamic``: NTK-aware, the base grows with the sequence once it passes
  ``max_position_embeddings``, recomputed as the sequence grows;
- ``llama3``: Llama 3.1's band-wise rescaling (``low_freq_factor``, ``high_freq_factor``);
- ``yarn``: interpolation blended with extrapolation per frequency band, and an
  attention temperature applied to cos/sin;
- ``longrope``: per-frequency factors, long ones past the original context.

Each computes exactly what transformers' rope initialisation functions compute.
The inverse frequencies are a float32 buffer that stays float32 when the model
is loaded or cast to half precision (see ``keep_in_float32``): rounded to
bfloat16 they would move every position's angle.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from autoload.errors import ConfigError

Tensor = torch.Tensor

ROPE_TYPES = ("default", "linear", "dynamic", "yarn", "longrope", "llama3")


def rope_parameters_from_config(config: Any) -> dict[str, Any]:
    """The config's RoPE settings as one dict with ``rope_type`` and ``rope_theta`` always present.

    Reads ``rope_parameters`` or the older ``rope_scaling`` (whose ``type`` key
    is the older ``rope_type``), with ``rope_theta``, ``partial_rotary_factor``
    and ``original_max_position_embeddings`` from the config when the dict lacks them.
    """
    found = getattr(config, "rope_parameters", None) or getattr(config, "rope_scaling", None) or {}
    if not isinstance(found, Mapping):
        raise ConfigError(f"{type(config).__name__}.rope_parameters must be a dict, not {type(found).__name__}.")
    parameters = dict(found)
    parameters.setdefault("rope_type", parameters.pop("type", "default"))
    if parameters.get("rope_theta") is None:
        parameters["rope_theta"] = getattr(config, "rope_theta", None) or 10000.0
    factor = getattr(config, "partial_rotary_factor", None)
    if factor is not None:
        parameters.setdefault("partial_rotary_factor", factor)
    if parameters["rope_type"] in ("llama3", "yarn", "longrope"):
        original = getattr(config, "original_max_position_embeddings", None)
        if original is not None:
            parameters["original_max_position_embeddings"] = original
        parameters.setdefault("original_max_position_embeddings", config.max_position_embeddings)
    if parameters["rope_type"] not in ROPE_TYPES:
        raise ConfigError(
            f"{type(config).__name__}: rope_type {parameters['rope_type']!r} is not supported; "
            f"use one of {', '.join(ROPE_TYPES)}."
        )
    return parameters


def head_dim_from_config(config: Any) -> int:
    return getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads


def _base_frequencies(base: float, dim: int, device: torch.device | None) -> Tensor:
    return 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).to(device=device, dtype=torch.float) / dim))


def _require(parameters: Mapping[str, Any], *keys: str) -> None:
    missing = [key for key in keys if parameters.get(key) is None]
    if missing:
        raise ConfigError(f"rope_type {parameters['rope_type']!r} needs {', '.join(missing)} in rope_parameters.")


def compute_inv_freq(
    parameters: Mapping[str, Any],
    *,
    head_dim: int,
    max_position_embeddings: int,
    seq_len: int | None = None,
    device: torch.device | None = None,
) -> tuple[Tensor, float]:
    """``(inverse frequencies, attention scaling)`` for one RoPE configuration.

    ``seq_len`` matters to ``dynamic`` (the base grows past
    ``max_position_embeddings``) and ``longrope`` (long factors past the
    original context); the other types ignore it.
    """
    rope_type = parameters.get("rope_type", "default")
    base = float(parameters["rope_theta"])
    dim = int(head_dim * parameters.get("partial_rotary_factor", 1.0))
    if rope_type == "default":
        return _base_frequencies(base, dim, device), 1.0
    if rope_type == "linear":
        _require(parameters, "factor")
        return _base_frequencies(base, dim, device) / parameters["factor"], 1.0
    if rope_type == "dynamic":
        _require(parameters, "factor")
        factor = parameters["factor"]
        length = max(int(seq_len or 0), max_position_embeddings)
        base = base * ((factor * length / max_position_embeddings) - (factor - 1)) ** (dim / (dim - 2))
        return _base_frequencies(base, dim, device), 1.0
    if rope_type == "llama3":
        _require(parameters, "factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings")
        return _llama3(parameters, base, dim, device), 1.0
    if rope_type == "yarn":
        return _yarn(parameters, base, dim, max_position_embeddings, device)
    if rope_type == "longrope":
        return _longrope(parameters, base, dim, max_position_embeddings, seq_len, device)
    raise ConfigError(f"rope_type {rope_type!r} is not supported; use one of {', '.join(ROPE_TYPES)}.")


def _llama3(parameters: Mapping[str, Any], base: float, dim: int, device: torch.device | None) -> Tensor:
    inv_freq = _base_frequencies(base, dim, device)
    factor = parameters["factor"]
    low, high = parameters["low_freq_factor"], parameters["high_freq_factor"]
    context = parameters["original_max_position_embeddings"]
    wavelength = 2 * math.pi / inv_freq
    # Long wavelengths (low frequencies) are stretched by the factor, short ones kept,
    # and the band in between blends the two.
    scaled = torch.where(wavelength > context / low, inv_freq / factor, inv_freq)
    blend = (context / wavelength - low) / (high - low)
    smoothed = (1 - blend) * scaled / factor + blend * scaled
    in_band = ~(wavelength < context / high) * ~(wavelength > context / low)
    return torch.where(in_band, smoothed, scaled)


def _yarn(
    parameters: Mapping[str, Any], base: float, dim: int, max_position_embeddings: int, device: torch.device | None
) -> tuple[Tensor, float]:
    original = parameters.get("original_max_position_embeddings") or max_position_embeddings
    factor = parameters.get("factor") or max_position_embeddings / original

    def temperature(scale: float, mscale: float = 1.0) -> float:
        return 1.0 if scale <= 1 else 0.1 * mscale * math.log(scale) + 1.0

    attention_factor = parameters.get("attention_factor")
    if attention_factor is None:
        mscale, mscale_all_dim = parameters.get("mscale"), parameters.get("mscale_all_dim")
        if mscale and mscale_all_dim:
            attention_factor = float(temperature(factor, mscale) / temperature(factor, mscale_all_dim))
        else:
            attention_factor = temperature(factor)
    beta_fast = parameters.get("beta_fast") or 32
    beta_slow = parameters.get("beta_slow") or 1

    def dimension_for(rotations: float) -> float:
        # The dimension whose wavelength fits ``rotations`` turns into the original context.
        return (dim * math.log(original / (rotations * 2 * math.pi))) / (2 * math.log(base))

    low, high = dimension_for(beta_fast), dimension_for(beta_slow)
    if parameters.get("truncate", True):
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, dim - 1)
    if low == high:
        high += 0.001
    ramp = torch.clamp((torch.arange(dim // 2, dtype=torch.float32) - low) / (high - low), 0, 1)
    extrapolated = 1 - ramp.to(device=device, dtype=torch.float)
    frequencies = base ** (torch.arange(0, dim, 2).to(device=device, dtype=torch.float) / dim)
    inv_freq = (1.0 / (factor * frequencies)) * (1 - extrapolated) + (1.0 / frequencies) * extrapolated
    return inv_freq, attention_factor


def _longrope(
    parameters: Mapping[str, Any],
    base: float,
    dim: int,
    max_position_embeddings: int,
    seq_len: int | None,
    device: torch.device | None,
) -> tuple[Tensor, float]:
    _require(parameters, "long_factor", "short_factor")
    original = parameters.get("original_max_position_embeddings") or max_position_embeddings
    factor = parameters.get("factor") or max_position_embeddings / original
    attention_factor = parameters.get("attention_factor")
    if attention_factor is None:
        attention_factor = 1.0 if factor <= 1.0 else math.sqrt(1 + math.log(factor) / math.log(original))
    chosen = parameters["long_factor"] if seq_len and seq_len > original else parameters["short_factor"]
    scale = torch.tensor(chosen, dtype=torch.float32, device=device)
    exponents = torch.arange(0, dim, 2, dtype=torch.int64, device=device).float() / dim
    return 1.0 / (scale * base**exponents), attention_factor


class RotaryEmbedding(nn.Module):
    """cos/sin tables for positions, computed on the fly from float32 inverse frequencies.

    Build it from a config (``RotaryEmbedding(config)``) or from explicit
    ``head_dim``, ``max_position_embeddings`` and ``rope_parameters``.
    ``forward(x, position_ids)`` returns ``(cos, sin)`` of shape
    ``(batch, seq, rotary_dim)`` in ``x``'s dtype, for :func:`apply_rotary_pos_emb`.
    """

    #: Buffers the loader and ``.to(dtype)`` leave in float32.
    _keep_in_fp32_buffers = ("inv_freq", "original_inv_freq")

    def __init__(
        self,
        config: Any = None,
        *,
        head_dim: int | None = None,
        max_position_embeddings: int | None = None,
        rope_parameters: Mapping[str, Any] | None = None,
        device: torch.device | None = None,
    ) -> None:
        super().__init__()
        if config is not None:
            rope_parameters = rope_parameters or rope_parameters_from_config(config)
            head_dim = head_dim or head_dim_from_config(config)
            max_position_embeddings = max_position_embeddings or config.max_position_embeddings
        if head_dim is None or max_position_embeddings is None:
            raise TypeError("RotaryEmbedding needs a config, or head_dim and max_position_embeddings.")
        self.rope_parameters = dict(rope_parameters or {"rope_type": "default", "rope_theta": 10000.0})
        self.rope_parameters.setdefault("rope_type", "default")
        self.rope_parameters.setdefault("rope_theta", 10000.0)
        self.rope_type = self.rope_parameters["rope_type"]
        self.head_dim = head_dim
        self.max_position_embeddings = max_position_embeddings
        self.max_seq_len_cached = self.original_max_seq_len = max_position_embeddings
        inv_freq, self.attention_scaling = self._frequencies(None, device)
        self.register_buffer("inv_freq", inv_freq, persistent=False)
        self.register_buffer("original_inv_freq", inv_freq.clone(), persistent=False)

    def _frequencies(self, seq_len: int | None, device: torch.device | None) -> tuple[Tensor, float]:
        return compute_inv_freq(
            self.rope_parameters,
            head_dim=self.head_dim,
            max_position_embeddings=self.max_position_embeddings,
            seq_len=seq_len,
            device=device,
        )

    def _update_for_length(self, position_ids: Tensor, device: torch.device) -> None:
        seq_len = int(position_ids.max()) + 1
        if self.rope_type == "dynamic":
            if seq_len > self.max_seq_len_cached:  # grown past what the frequencies were made for
                inv_freq, self.attention_scaling = self._frequencies(seq_len, device)
                self.register_buffer("inv_freq", inv_freq, persistent=False)
                self.max_seq_len_cached = seq_len
            if seq_len < self.original_max_seq_len and self.max_seq_len_cached > self.original_max_seq_len:
                # Back within the original context: the unscaled frequencies are the precise ones.
                self.register_buffer("inv_freq", self.original_inv_freq.to(device), persistent=False)
                self.max_seq_len_cached = self.original_max_seq_len
        elif self.rope_type == "longrope":
            original = self.rope_parameters.get("original_max_position_embeddings") or self.max_position_embeddings
            if seq_len > original:
                inv_freq, _ = self._frequencies(original + 1, device)
            else:
                inv_freq = self.original_inv_freq.to(device)
            self.inv_freq.copy_(inv_freq)

    @torch.no_grad()
    def forward(self, x: Tensor, position_ids: Tensor) -> tuple[Tensor, Tensor]:
        if self.rope_type in ("dynamic", "longrope"):
            self._update_for_length(position_ids, x.device)
        inv_freq = self.inv_freq.to(device=x.device, dtype=torch.float32)
        device_type = x.device.type if x.device.type != "mps" else "cpu"
        with torch.autocast(device_type=device_type, enabled=False):
            angles = position_ids[..., None].float() * inv_freq
            angles = torch.cat((angles, angles), dim=-1)
            cos = angles.cos() * self.attention_scaling
            sin = angles.sin() * self.attention_scaling
        return cos.to(x.dtype), sin.to(x.dtype)


def rotate_half(x: Tensor) -> Tensor:
    """(x1, x2) -> (-x2, x1) over the last dimension's two halves."""
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rotary_pos_emb(
    q: Tensor, k: Tensor, cos: Tensor, sin: Tensor, unsqueeze_dim: int = 1
) -> tuple[Tensor, Tensor]:
    """Rotate queries and keys ``(batch, heads, seq, dim)`` by their positions' angles.

    ``unsqueeze_dim=2`` for ``(batch, seq, heads, dim)`` tensors.  With a
    partial rotary factor, rotate the leading ``cos.shape[-1]`` dims yourself
    and concatenate the rest unchanged.
    """
    cos = cos.unsqueeze(unsqueeze_dim)
    sin = sin.unsqueeze(unsqueeze_dim)
    return (q * cos) + (rotate_half(q) * sin), (k * cos) + (rotate_half(k) * sin)


__all__ = [
    "ROPE_TYPES",
    "RotaryEmbedding",
    "apply_rotary_pos_emb",
    "compute_inv_freq",
    "head_dim_from_config",
    "rope_parameters_from_config",
    "rotate_half",
]
