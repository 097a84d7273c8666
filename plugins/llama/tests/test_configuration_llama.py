"""The four configs: transformers' fields and defaults, config.json both ways, and RoPE in either spelling."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import transformers
from autoload import AutoConfig, ConfigError
from llama_test_support import MODEL_TYPES, ROPE_SCALINGS, TINY, VARIANTS

from autoload_plugin_llama.configuration import LlamaConfig, MistralConfig, Qwen2Config, Qwen3Config

# Keys written by one library only, whatever the architecture: bookkeeping, not hyper-parameters.
BOOKKEEPING = {"transformers_version", "autoload_version", "dtype", "architectures", "_name_or_path"}


def _hyper_parameters(config_dict: dict[str, Any], reference: dict[str, Any]) -> dict[str, Any]:
    return {key: config_dict.get(key) for key in reference if key not in BOOKKEEPING}


def _transformers_dict(config: Any) -> dict[str, Any]:
    return json.loads(config.to_json_string(use_diff=False))


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_defaults_equal_transformers(model_type: str) -> None:
    ours = AutoConfig.for_model(model_type).to_dict()
    theirs = _transformers_dict(transformers.AutoConfig.for_model(model_type))
    assert _hyper_parameters(ours, theirs) == _hyper_parameters(theirs, theirs)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_transformers_config_loads_here(tmp_path: Path, variant: str) -> None:
    model_type, overrides = VARIANTS[variant]
    theirs = transformers.AutoConfig.for_model(model_type, **TINY, **overrides)
    theirs.save_pretrained(tmp_path)
    ours = AutoConfig.from_pretrained(tmp_path)
    assert type(ours).__name__ == type(theirs).__name__
    written = json.loads((tmp_path / "config.json").read_text())
    assert _hyper_parameters(ours.to_dict(), written) == _hyper_parameters(written, written)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_config_saved_here_loads_in_transformers(tmp_path: Path, variant: str) -> None:
    model_type, overrides = VARIANTS[variant]
    ours = AutoConfig.for_model(model_type, **TINY, **overrides)
    ours.save_pretrained(tmp_path)
    theirs = transformers.AutoConfig.from_pretrained(tmp_path)
    assert theirs.model_type == model_type
    reference = _transformers_dict(transformers.AutoConfig.for_model(model_type, **TINY, **overrides))
    assert _hyper_parameters(_transformers_dict(theirs), reference) == _hyper_parameters(reference, reference)
    assert AutoConfig.from_pretrained(tmp_path) == ours


@pytest.mark.parametrize("kind", sorted(ROPE_SCALINGS))
def test_rope_parameters_as_transformers_stores_them(tmp_path: Path, kind: str) -> None:
    theirs = transformers.LlamaConfig(**TINY, rope_parameters=dict(ROPE_SCALINGS[kind]))
    theirs.save_pretrained(tmp_path)
    ours = AutoConfig.from_pretrained(tmp_path)
    assert ours.rope_parameters == theirs.rope_parameters
    ours.save_pretrained(tmp_path / "back")
    assert transformers.AutoConfig.from_pretrained(tmp_path / "back").rope_parameters == theirs.rope_parameters


@pytest.mark.parametrize(
    ("kind", "key"), [(kind, "rope_type") for kind in sorted(ROPE_SCALINGS)] + [("linear", "type"), ("llama3", "type")]
)
def test_legacy_rope_scaling_and_rope_theta_are_read(tmp_path: Path, kind: str, key: str) -> None:
    """Checkpoints from transformers 4 keep theta at the top level and the scaling under rope_scaling."""
    scaling = {k: v for k, v in ROPE_SCALINGS[kind].items() if k not in ("rope_theta", "rope_type")}
    scaling[key] = kind
    legacy = {"model_type": "llama", **TINY, "rope_theta": 123456.0, "rope_scaling": scaling}
    (tmp_path / "config.json").write_text(json.dumps(legacy))
    ours = AutoConfig.from_pretrained(tmp_path)
    theirs = transformers.AutoConfig.from_pretrained(tmp_path)
    assert ours.rope_parameters == theirs.rope_parameters
    assert ours.rope_parameters["rope_theta"] == 123456.0 and ours.rope_scaling is ours.rope_parameters
    assert "rope_scaling" not in ours.to_dict() and "rope_theta" not in ours.to_dict()


def test_qwen_rope_theta_at_the_top_level(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "qwen2", **TINY, "rope_theta": 1000000.0}))
    assert AutoConfig.from_pretrained(tmp_path).rope_parameters == {"rope_type": "default", "rope_theta": 1000000.0}
    assert transformers.AutoConfig.from_pretrained(tmp_path).rope_parameters["rope_theta"] == 1000000.0


def test_llama3_eos_list_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama", **TINY, "eos_token_id": [2, 5, 7]}))
    assert AutoConfig.from_pretrained(tmp_path).eos_token_id == [2, 5, 7]


def test_qwen_sliding_window_only_when_switched_on() -> None:
    off = Qwen2Config(num_hidden_layers=4, sliding_window=8)
    assert off.sliding_window is None and off.layer_types == ["full_attention"] * 4
    on = Qwen3Config(num_hidden_layers=4, use_sliding_window=True, sliding_window=8, max_window_layers=2)
    assert on.layer_types == ["full_attention"] * 2 + ["sliding_attention"] * 2
    theirs = transformers.Qwen3Config(
        num_hidden_layers=4, use_sliding_window=True, sliding_window=8, max_window_layers=2
    )
    assert on.layer_types == theirs.layer_types


def test_head_dim_defaults_and_explicit() -> None:
    assert LlamaConfig(hidden_size=32, num_attention_heads=4).head_dim == 8
    assert LlamaConfig(hidden_size=32, num_attention_heads=4, head_dim=16).head_dim == 16
    assert MistralConfig(hidden_size=32, num_attention_heads=4, num_key_value_heads=2).head_dim == 8
    assert Qwen3Config().head_dim == 128
    assert LlamaConfig(num_attention_heads=8).num_key_value_heads == 8


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (lambda: LlamaConfig(num_attention_heads=4, num_key_value_heads=3, hidden_size=32), "multiple of"),
        (lambda: LlamaConfig(hidden_size=30, num_attention_heads=4), "hidden_size (30)"),
        (lambda: LlamaConfig(rope_parameters={"rope_type": "linear"}), "needs factor"),
        (lambda: LlamaConfig(rope_parameters={"rope_type": "spiral", "factor": 2.0}), "'spiral'"),
        (lambda: LlamaConfig(rope_parameters="linear"), "must be a dict"),
        (lambda: MistralConfig(sliding_window=0), "sliding_window"),
        (lambda: Qwen2Config(num_hidden_layers=2, layer_types=["full_attention"]), "one entry per layer"),
        (lambda: Qwen2Config(num_hidden_layers=1, layer_types=["chunked"]), "'chunked'"),
    ],
)
def test_bad_configs_are_refused_clearly(build: Any, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build()
    assert words in str(caught.value)


def test_bad_field_type_in_config_json_names_the_field(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "mistral", "sliding_window": "wide"}))
    with pytest.raises(ConfigError, match="sliding_window"):
        AutoConfig.from_pretrained(tmp_path)
