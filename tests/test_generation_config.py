"""GenerationConfig: defaults, validation, and generation_config.json both ways with transformers."""

from __future__ import annotations

import json

import pytest

from autoload import ConfigError, FileResolutionError, GenerationError
from autoload.generation import GenerationConfig

transformers = pytest.importorskip("transformers")


def test_generation_config_imports_no_torch():
    import subprocess
    import sys

    code = (
        "import sys; import autoload.generation.config as c; c.GenerationConfig(max_new_tokens=3); "
        "print('torch' in sys.modules)"
    )
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
        == "False"
    )


def test_fresh_config_writes_nothing_and_defaults_match_transformers():
    from autoload.generation.config import GENERATION_DEFAULTS

    assert GenerationConfig().to_diff_dict() == {}
    theirs = transformers.GenerationConfig._get_default_generation_params()
    assert theirs == GENERATION_DEFAULTS


SETTINGS = [
    {"max_new_tokens": 5, "eos_token_id": [1, 2], "do_sample": True, "temperature": 0.7, "top_p": 0.9},
    {"num_beams": 4, "num_return_sequences": 2, "length_penalty": 0.5, "early_stopping": "never"},
    {"bad_words_ids": [[3], [4, 5]], "no_repeat_ngram_size": 3, "repetition_penalty": 1.2, "pad_token_id": 0},
    {"suppress_tokens": [7, 8], "begin_suppress_tokens": [9], "decoder_start_token_id": 2, "stop_strings": ["\n"]},
]


@pytest.mark.parametrize("settings", SETTINGS)
def test_saved_by_autoload_loaded_by_transformers(tmp_path, settings):
    GenerationConfig(**settings).save_pretrained(tmp_path)
    theirs = transformers.GenerationConfig.from_pretrained(tmp_path)
    diff = theirs.to_diff_dict()
    diff.pop("transformers_version", None)
    assert diff == settings


@pytest.mark.parametrize("settings", SETTINGS)
def test_saved_by_transformers_loaded_by_autoload(tmp_path, settings):
    transformers.GenerationConfig(**settings).save_pretrained(tmp_path)
    ours = GenerationConfig.from_pretrained(tmp_path)
    assert ours.to_diff_dict() == {**settings, "transformers_version": transformers.__version__}
    for key, value in settings.items():
        assert getattr(ours, key) == value


def test_unknown_keys_survive_a_round_trip(tmp_path):
    (tmp_path / "generation_config.json").write_text(
        json.dumps({"forced_decoder_ids": [[1, 5]], "lang_to_id": {"en": 3}})
    )
    config = GenerationConfig.from_pretrained(tmp_path)
    assert config.forced_decoder_ids == [[1, 5]]
    config.save_pretrained(tmp_path / "again")
    data = json.loads((tmp_path / "again" / "generation_config.json").read_text())
    assert data == {"forced_decoder_ids": [[1, 5]], "lang_to_id": {"en": 3}}


@pytest.mark.parametrize("model_type", ["bert", "gpt2"])
def test_from_model_config_matches_transformers(model_type):
    config_class = transformers.AutoConfig.for_model(model_type).__class__
    theirs_config = config_class(bos_token_id=3, eos_token_id=4, pad_token_id=5, use_cache=False)
    theirs = transformers.GenerationConfig.from_model_config(theirs_config).to_diff_dict()
    from autoload import AutoConfig

    ours_config = AutoConfig.for_model(model_type, bos_token_id=3, eos_token_id=4, pad_token_id=5, use_cache=False)
    ours = GenerationConfig.from_model_config(ours_config).to_diff_dict()
    theirs.pop("transformers_version", None)
    assert ours == theirs


@pytest.mark.parametrize(
    "settings",
    [
        {"max_new_tokens": 0},
        {"temperature": 0.0},
        {"top_p": 1.5},
        {"early_stopping": "sometimes"},
        {"num_return_sequences": 3},  # greedy cannot return several sequences
        {"num_beams": 2, "num_return_sequences": 3},
        {"eos_token_id": "</s>"},
        {"bad_words_ids": [1, 2]},
        {"cache_implementation": "paged-ish"},
        {"suppress_tokens": [5], "forced_eos_token_id": 5},
        {"streamer": object()},
    ],
)
def test_contradictory_settings_raise(settings):
    with pytest.raises(GenerationError):
        GenerationConfig(**settings)


def test_changed_config_must_be_consistent_to_save(tmp_path):
    config = GenerationConfig(temperature=0.5)  # sampling setting without do_sample
    with pytest.raises(GenerationError, match="temperature"):
        config.save_pretrained(tmp_path)


def test_missing_and_broken_files_have_clear_errors(tmp_path):
    with pytest.raises(FileResolutionError):
        GenerationConfig.from_pretrained(tmp_path)
    (tmp_path / "generation_config.json").write_text("{not json")
    with pytest.raises(ConfigError, match="line 1"):
        GenerationConfig.from_pretrained(tmp_path)


def test_update_returns_what_is_not_a_setting():
    config = GenerationConfig()
    unused = config.update(max_new_tokens=4, attention_mask="mask", to_dict="no")
    assert config.max_new_tokens == 4
    assert unused == {"attention_mask": "mask", "to_dict": "no"}


def test_merge_order_call_then_model_then_defaults():
    model = GenerationConfig(max_new_tokens=7, eos_token_id=[1, 2])
    merged = GenerationConfig(eos_token_id=3).merged_with_defaults(model)
    assert (merged.eos_token_id, merged.max_new_tokens, merged.top_k, merged.num_beams) == (3, 7, 50, 1)
