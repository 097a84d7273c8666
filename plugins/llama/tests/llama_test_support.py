"""Shared builders for the Llama-family tests: tiny configs, random models of both libraries, padded batches.

transformers is the oracle: models are built with it (or with autoload), their
weights randomised with a seed, saved, and loaded by the other library.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

MODEL_TYPES = ("llama", "mistral", "qwen2", "qwen3")
TASKS = ("base", "causal-lm", "sequence-classification", "token-classification", "question-answering")
AUTO_CLASS = {
    "base": "AutoModel",
    "causal-lm": "AutoModelForCausalLM",
    "sequence-classification": "AutoModelForSequenceClassification",
    "token-classification": "AutoModelForTokenClassification",
    "question-answering": "AutoModelForQuestionAnswering",
}

TINY: dict[str, Any] = {
    "vocab_size": 128,
    "hidden_size": 32,
    "intermediate_size": 37,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 64,
    "pad_token_id": 0,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "num_labels": 3,
}

# Named variants: (model_type, overrides). Each switch of the family is on in at least one of them.
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "llama": ("llama", {}),
    "llama-head-dim": ("llama", {"head_dim": 16}),
    "llama-biases-tied": ("llama", {"attention_bias": True, "mlp_bias": True, "tie_word_embeddings": True}),
    "mistral": ("mistral", {"sliding_window": 4}),
    "qwen2": ("qwen2", {}),
    "qwen2-sliding": ("qwen2", {"use_sliding_window": True, "sliding_window": 4, "max_window_layers": 1}),
    "qwen3": ("qwen3", {"head_dim": 16}),
    "qwen3-bias-tied": ("qwen3", {"head_dim": 8, "attention_bias": True, "tie_word_embeddings": True}),
}

ROPE_SCALINGS: dict[str, dict[str, Any]] = {
    "linear": {"rope_type": "linear", "factor": 2.0, "rope_theta": 500.0},
    "dynamic": {"rope_type": "dynamic", "factor": 2.0, "rope_theta": 10000.0},
    "yarn": {"rope_type": "yarn", "factor": 4.0, "rope_theta": 10000.0, "original_max_position_embeddings": 16},
    "llama3": {
        "rope_type": "llama3",
        "factor": 8.0,
        "low_freq_factor": 1.0,
        "high_freq_factor": 4.0,
        "original_max_position_embeddings": 16,
        "rope_theta": 500000.0,
    },
}


def config_values(model_type: str, **overrides: Any) -> dict[str, Any]:
    values = dict(TINY)
    values.update(overrides)
    return values


def randomize_(model: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Give every parameter seeded random values, norms around one, so no weight is left at its default."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in sorted(model.named_parameters()):
            noise = torch.randn(parameter.shape, generator=generator, dtype=torch.float32)
            if "norm" in name:
                parameter.copy_(1.0 + 0.1 * noise)
            else:
                parameter.copy_(0.1 * noise)
    return model


def transformers_model(model_type: str, task: str, *, seed: int = 0, attn: str = "eager", **overrides: Any) -> Any:
    import transformers

    config = transformers.AutoConfig.for_model(model_type, **config_values(model_type, **overrides))
    auto_class = getattr(transformers, AUTO_CLASS[task])
    torch.manual_seed(seed)
    model = auto_class.from_config(config, attn_implementation=attn)
    return randomize_(model, seed).eval()


def autoload_model(model_type: str, task: str, *, seed: int = 0, attn: str = "eager", **overrides: Any) -> Any:
    import autoload

    config = autoload.AutoConfig.for_model(model_type, **config_values(model_type, **overrides))
    auto_class = getattr(autoload, AUTO_CLASS[task])
    torch.manual_seed(seed)
    model = auto_class.from_config(config, attn_implementation=attn)
    return randomize_(model, seed).eval()


def load_autoload(path: Path, task: str, **kwargs: Any) -> Any:
    import autoload

    return getattr(autoload, AUTO_CLASS[task]).from_pretrained(path, **kwargs)


def load_transformers(path: Path, task: str, **kwargs: Any) -> Any:
    import transformers

    loaded = getattr(transformers, AUTO_CLASS[task]).from_pretrained(path, **kwargs)
    model = loaded[0] if isinstance(loaded, tuple) else loaded
    model.eval()
    return loaded


def padded_batch(*, seed: int = 0, length: int = 10, vocab_size: int = 128, pad: int = 0) -> dict[str, torch.Tensor]:
    """Three rows, left-padded by 0, 3 and 6 tokens; pad id 0 and ids 1, 2 (bos/eos) never drawn."""
    generator = torch.Generator().manual_seed(seed)
    input_ids = torch.randint(3, vocab_size, (3, length), generator=generator)
    attention_mask = torch.ones(3, length, dtype=torch.long)
    for row, pads in enumerate((0, 3, 6)):
        input_ids[row, :pads] = pad
        attention_mask[row, :pads] = 0
    return {"input_ids": input_ids, "attention_mask": attention_mask}


def labels_for(task: str, batch: dict[str, torch.Tensor], *, num_labels: int = 3, seed: int = 1) -> dict[str, Any]:
    generator = torch.Generator().manual_seed(seed)
    input_ids, mask = batch["input_ids"], batch["attention_mask"]
    if task == "causal-lm":
        return {"labels": input_ids.masked_fill(mask == 0, -100)}
    if task == "sequence-classification":
        return {"labels": torch.randint(0, num_labels, (input_ids.shape[0],), generator=generator)}
    if task == "token-classification":
        labels = torch.randint(0, num_labels, input_ids.shape, generator=generator)
        return {"labels": labels.masked_fill(mask == 0, -100)}
    if task == "question-answering":
        length = input_ids.shape[1]
        return {
            "start_positions": torch.randint(0, length, (input_ids.shape[0],), generator=generator),
            "end_positions": torch.randint(0, length, (input_ids.shape[0],), generator=generator),
        }
    return {}


# Output fields compared between the libraries, per task.
FIELDS = {
    "base": ("last_hidden_state",),
    "causal-lm": ("loss", "logits"),
    "sequence-classification": ("loss", "logits"),
    "token-classification": ("loss", "logits"),
    "question-answering": ("loss", "start_logits", "end_logits"),
}


def assert_close_outputs(actual: Any, expected: Any, task: str, *, atol: float = 1e-5, rtol: float = 1e-5) -> None:
    for field in FIELDS[task]:
        got, want = getattr(actual, field), getattr(expected, field)
        assert got is not None and want is not None, field
        assert got.shape == want.shape, (field, got.shape, want.shape)
        torch.testing.assert_close(got.float(), want.float(), atol=atol, rtol=rtol, msg=lambda m, f=field: f"{f}: {m}")
