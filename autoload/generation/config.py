"""GenerationConfig: how a model generates, read from and written to ``generation_config.json``.

No torch here: a generation config is data, and reading one must stay cheap.
The file format and the meaning of every field are transformers' own, so a
``generation_config.json`` moves both ways between the two libraries.

Every field starts unset (``None``).  Unset fields take, in this order, the
model's own generation config (``model.generation_config``), then the
library-wide defaults in :data:`GENERATION_DEFAULTS` (20 tokens, greedy, one
beam...), at the moment ``generate()`` runs.  Only fields that differ from a
fresh ``GenerationConfig()`` are written to disk.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import os
from typing import Any

from autoload import files
from autoload.errors import ConfigError, GenerationError
from autoload.hub import HubOptions, describe, resolve_file

logger = logging.getLogger("autoload")

GENERATION_CONFIG_NAME = "generation_config.json"

#: What ``generate()`` uses for a field that neither the call, nor the given config, nor the model's config sets.
GENERATION_DEFAULTS: dict[str, Any] = {
    "max_length": 20,
    "min_length": 0,
    "do_sample": False,
    "use_cache": True,
    "early_stopping": False,
    "num_beams": 1,
    "temperature": 1.0,
    "top_k": 50,
    "top_p": 1.0,
    "typical_p": 1.0,
    "repetition_penalty": 1.0,
    "length_penalty": 1.0,
    "no_repeat_ngram_size": 0,
    "encoder_no_repeat_ngram_size": 0,
    "bad_words_ids": None,
    "num_return_sequences": 1,
    "output_scores": False,
    "return_dict_in_generate": False,
    "forced_bos_token_id": None,
    "forced_eos_token_id": None,
    "remove_invalid_values": False,
    "exponential_decay_length_penalty": None,
    "suppress_tokens": None,
    "begin_suppress_tokens": None,
    "epsilon_cutoff": 0.0,
    "eta_cutoff": 0.0,
    "encoder_repetition_penalty": 1.0,
    "num_assistant_tokens": 20,
    "num_assistant_tokens_schedule": "constant",
    "assistant_confidence_threshold": 0.4,
    "assistant_lookbehind": 10,
    "target_lookbehind": 10,
    "num_beam_groups": 1,
    "diversity_penalty": 0.0,
}

# Every field transformers' GenerationConfig knows, so that a file written by
# either library is read back field for field.  Grouped as the docs group them.
_FIELDS: tuple[str, ...] = (
    # length
    "max_length",
    "max_new_tokens",
    "min_length",
    "min_new_tokens",
    "early_stopping",
    "max_time",
    "stop_strings",
    # strategy
    "do_sample",
    "num_beams",
    "use_mtp",
    # cache
    "use_cache",
    "cache_implementation",
    "cache_config",
    "max_cache_len",
    # logits manipulation
    "temperature",
    "top_k",
    "top_p",
    "min_p",
    "top_h",
    "typical_p",
    "epsilon_cutoff",
    "eta_cutoff",
    "repetition_penalty",
    "encoder_repetition_penalty",
    "length_penalty",
    "no_repeat_ngram_size",
    "bad_words_ids",
    "renormalize_logits",
    "forced_bos_token_id",
    "forced_eos_token_id",
    "remove_invalid_values",
    "exponential_decay_length_penalty",
    "suppress_tokens",
    "begin_suppress_tokens",
    "sequence_bias",
    "token_healing",
    "guidance_scale",
    "watermarking_config",
    # outputs
    "num_return_sequences",
    "output_attentions",
    "output_hidden_states",
    "output_scores",
    "output_logits",
    "return_dict_in_generate",
    # special tokens
    "pad_token_id",
    "bos_token_id",
    "eos_token_id",
    # encoder-decoder
    "encoder_no_repeat_ngram_size",
    "decoder_start_token_id",
    # assisted generation
    "is_assistant",
    "num_assistant_tokens",
    "num_assistant_tokens_schedule",
    "assistant_confidence_threshold",
    "prompt_lookup_num_tokens",
    "max_matching_ngram_size",
    "assistant_early_exit",
    "assistant_lookbehind",
    "target_lookbehind",
    "assistant_ensemble_weight",
    "speculation_type",
    # performance
    "compile_config",
    "disable_compile",
    "continuous_batching_config",
    # strategies transformers moved to the Hub; kept so files round-trip
    "low_memory",
    "penalty_alpha",
    "dola_layers",
    "diversity_penalty",
    "num_beam_groups",
    "constraints",
    "force_words_ids",
    "prefill_chunk_size",
)

#: Bookkeeping keys of the file, not settings.
METADATA_FIELDS = ("_from_model_config", "_commit_hash", "_original_object_hash", "transformers_version")
_EXTRA_OUTPUT_FLAGS = ("output_attentions", "output_hidden_states", "output_scores", "output_logits")
CACHE_IMPLEMENTATIONS = ("dynamic", "static")
# Arguments of generate() that people put into a config by mistake.
_GENERATE_ARGUMENTS = (
    "logits_processor",
    "stopping_criteria",
    "prefix_allowed_tokens_fn",
    "synced_gpus",
    "assistant_model",
    "streamer",
    "negative_prompt_ids",
    "negative_prompt_attention_mask",
)
# Sampling-only settings with the value that means "off".
_SAMPLING_ONLY = {
    "temperature": 1.0,
    "top_p": 1.0,
    "min_p": None,
    "top_h": None,
    "typical_p": 1.0,
    "top_k": 50,
    "epsilon_cutoff": 0.0,
    "eta_cutoff": 0.0,
}


class GenerationConfig:
    """The settings of ``generate()``: length, strategy, logits processing, outputs, special tokens.

    Build one with keyword arguments (``GenerationConfig(max_new_tokens=32,
    do_sample=True, top_p=0.9)``), load one with :meth:`from_pretrained`,
    or derive one from a model config with :meth:`from_model_config`.
    Unknown keys are kept as attributes and written back.
    """

    def __init__(self, **kwargs: Any) -> None:
        for name in _FIELDS:
            setattr(self, name, kwargs.pop(name, None))
        for name in _GENERATE_ARGUMENTS:
            if name in kwargs:
                raise GenerationError(
                    f"{name!r} is not a GenerationConfig setting: pass it to generate() directly "
                    f"(model.generate(..., {name}=...))."
                )
        kwargs.pop("_commit_hash", None)
        self._from_model_config: bool | None = kwargs.pop("_from_model_config", None)
        self.transformers_version: str | None = kwargs.pop("transformers_version", None)
        if not self._from_model_config:
            # A file may carry keys this version does not know; keep them so nothing is lost on save.
            for key, value in kwargs.items():
                setattr(self, key, value)
        self._check_values()

    # -- checks ----------------------------------------------------------------

    def validate(self, strict: bool = False) -> None:
        """Raise :class:`GenerationError` for settings that cannot work; warn about ones that will be ignored.

        With ``strict=True`` the ignorable ones raise too (``save_pretrained``
        of a changed config uses it, so a file never records a contradiction).
        """
        self._check_values()
        issues = self._ignored_settings()
        if not issues:
            return
        listing = "\n".join(f"- {name}: {why}" for name, why in issues.items())
        if strict:
            raise GenerationError(f"GenerationConfig has settings that contradict each other:\n{listing}")
        logger.warning("These generation settings will be ignored:\n%s", listing)

    def _check_values(self) -> None:
        def fail(message: str) -> None:
            raise GenerationError(message)

        if self.early_stopping not in (None, True, False, "never"):
            fail(f"early_stopping must be True, False or 'never', not {self.early_stopping!r}.")
        for name in ("max_new_tokens", "max_length", "num_beams", "num_return_sequences"):
            value = getattr(self, name)
            if value is not None and (not _is_int(value) or value <= 0):
                fail(f"{name} must be a positive int, not {value!r}.")
        for name in ("min_length", "min_new_tokens", "no_repeat_ngram_size", "top_k"):
            value = getattr(self, name)
            if value is not None and (not _is_int(value) or value < 0):
                fail(f"{name} must be an int >= 0, not {value!r}.")
        if self.max_time is not None and (not _is_number(self.max_time) or self.max_time <= 0):
            fail(f"max_time must be a positive number of seconds, not {self.max_time!r}.")
        if self.temperature is not None and (not _is_number(self.temperature) or not self.temperature > 0):
            hint = " For greedy decoding set do_sample=False instead." if self.temperature == 0 else ""
            fail(f"temperature must be a number > 0, not {self.temperature!r}.{hint}")
        for name in ("top_p", "min_p", "typical_p"):
            value = getattr(self, name)
            if value is not None and (not _is_number(value) or not 0.0 <= value <= 1.0):
                fail(f"{name} must be a number between 0 and 1, not {value!r}.")
        if self.repetition_penalty is not None and (
            not _is_number(self.repetition_penalty) or not self.repetition_penalty > 0
        ):
            fail(f"repetition_penalty must be a number > 0 (1.0 means none), not {self.repetition_penalty!r}.")
        if self.length_penalty is not None and not _is_number(self.length_penalty):
            fail(f"length_penalty must be a number, not {self.length_penalty!r}.")
        for name in ("bos_token_id", "pad_token_id", "decoder_start_token_id", "forced_bos_token_id"):
            value = getattr(self, name)
            if value is not None and not _is_int(value) and not (name == "decoder_start_token_id" and _int_list(value)):
                fail(f"{name} must be an int token id, not {value!r}.")
        for name in ("eos_token_id", "forced_eos_token_id"):
            value = getattr(self, name)
            if value is not None and not _is_int(value) and not _int_list(value):
                fail(f"{name} must be a token id or a list of token ids, not {value!r}.")
        if self.bad_words_ids is not None and (
            not isinstance(self.bad_words_ids, list)
            or not self.bad_words_ids
            or not all(_int_list(ids) and all(i >= 0 for i in ids) for ids in self.bad_words_ids)
        ):
            fail(f"bad_words_ids must be a non-empty list of lists of token ids, not {self.bad_words_ids!r}.")
        for name in ("suppress_tokens", "begin_suppress_tokens"):
            value = getattr(self, name)
            if value is not None and not _int_list(value, allow_empty=True):
                fail(f"{name} must be a list of token ids, not {value!r}.")
        if self.stop_strings is not None and not (
            isinstance(self.stop_strings, str)
            or (isinstance(self.stop_strings, list) and all(isinstance(s, str) and s for s in self.stop_strings))
        ):
            fail(f"stop_strings must be a string or a list of non-empty strings, not {self.stop_strings!r}.")
        if self.cache_implementation is not None and self.cache_implementation not in CACHE_IMPLEMENTATIONS:
            fail(
                f"cache_implementation must be one of {', '.join(map(repr, CACHE_IMPLEMENTATIONS))}, "
                f"not {self.cache_implementation!r}."
            )
        if self.num_return_sequences is not None and self.num_return_sequences > 1:
            beams = self.num_beams or 1
            if beams == 1 and not self.do_sample:
                fail(
                    f"num_return_sequences={self.num_return_sequences} needs sampling (do_sample=True) or beam search "
                    "(num_beams > 1): greedy decoding returns one sequence per prompt."
                )
            if beams > 1 and self.num_return_sequences > beams:
                fail(f"num_return_sequences ({self.num_return_sequences}) cannot exceed num_beams ({beams}).")
        if self.suppress_tokens:
            suppressed = set(self.suppress_tokens)
            for name in ("forced_bos_token_id", "forced_eos_token_id"):
                forced = getattr(self, name)
                if forced is None:
                    continue
                forced_set = {forced} if _is_int(forced) else set(forced)
                if forced_set and forced_set <= suppressed:
                    fail(
                        f"Every token of {name} ({sorted(forced_set)}) is also in suppress_tokens: forcing a token "
                        "that is suppressed leaves no token to pick. Remove it from one of the two."
                    )

    def _ignored_settings(self) -> dict[str, str]:
        issues: dict[str, str] = {}
        if self.do_sample is not True:
            for name, neutral in _SAMPLING_ONLY.items():
                value = getattr(self, name)
                if value is not None and value != neutral:
                    issues[name] = f"{name}={value!r} only matters when sampling; set do_sample=True or unset it."
        if (self.num_beams or 1) == 1:
            if self.early_stopping not in (None, False):
                issues["early_stopping"] = "only matters for beam search (num_beams > 1)."
            if self.length_penalty not in (None, 1.0):
                issues["length_penalty"] = "only matters for beam search (num_beams > 1)."
        if self.return_dict_in_generate is not True:
            for name in _EXTRA_OUTPUT_FLAGS:
                if getattr(self, name) is True and name not in ("output_attentions", "output_hidden_states"):
                    issues[name] = f"{name}=True has no effect unless return_dict_in_generate=True."
        return issues

    # -- what decides the strategy -------------------------------------------------

    def get_generation_mode(self) -> str:
        """``"greedy_search"``, ``"sample"``, ``"beam_search"`` or ``"beam_sample"``."""
        beams = self.num_beams or 1
        if beams == 1:
            return "sample" if self.do_sample is True else "greedy_search"
        return "beam_sample" if self.do_sample is True else "beam_search"

    # -- dicts, json, files -----------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Every setting, unset ones included."""
        output = {
            key: copy.deepcopy(value)
            for key, value in vars(self).items()
            if not key.startswith("_") or key in METADATA_FIELDS
        }
        for key in ("_commit_hash", "_original_object_hash"):
            output.pop(key, None)
        if output.get("transformers_version") is None:
            output.pop("transformers_version", None)
        return output

    def to_diff_dict(self) -> dict[str, Any]:
        """The settings that differ from a fresh ``GenerationConfig()``: what the file holds."""
        defaults = _fresh_defaults()
        return {key: value for key, value in self.to_dict().items() if key not in defaults or value != defaults[key]}

    def to_json_string(self, use_diff: bool = True, ignore_metadata: bool = False) -> str:
        data = self.to_diff_dict() if use_diff else self.to_dict()
        if ignore_metadata:
            for key in METADATA_FIELDS:
                data.pop(key, None)
        return json.dumps(_json_keys(data), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def to_json_file(self, path: str | os.PathLike[str], use_diff: bool = True) -> None:
        with files.atomic_write(path, "w", encoding="utf-8") as handle:
            handle.write(self.to_json_string(use_diff=use_diff))

    def save_pretrained(self, save_directory: str | os.PathLike[str], config_file_name: str | None = None) -> str:
        """Write ``generation_config.json`` (atomically) into ``save_directory``; returns its path.

        A config changed since it was loaded must be free of contradictions
        (``validate(strict=True)``); one saved back unchanged is accepted as it is.
        """
        self.validate(strict=self.was_modified())
        directory = os.fspath(save_directory)
        if os.path.isfile(directory):
            raise ConfigError(f"save_pretrained needs a folder, but {directory} is a file.")
        path = os.path.join(directory, config_file_name or GENERATION_CONFIG_NAME)
        self.to_json_file(path)
        return path

    def was_modified(self) -> bool:
        original = getattr(self, "_original_object_hash", None)
        return original is None or original != hash(self)

    @classmethod
    def from_dict(cls, config_dict: dict[str, Any], **kwargs: Any) -> Any:
        """Build from a ``generation_config.json``-style dict; ``kwargs`` override it.

        With ``return_unused_kwargs=True`` returns ``(config, unused)``, the
        overrides that name no setting.
        """
        return_unused = kwargs.pop("return_unused_kwargs", False)
        if not isinstance(config_dict, dict):
            raise ConfigError(f"A generation config must be a dict, not {type(config_dict).__name__}.")
        config = cls(**{**config_dict, **kwargs})
        unused = {key: value for key, value in kwargs.items() if not hasattr(config, key)}
        config._original_object_hash = hash(config)
        return (config, unused) if return_unused else config

    @classmethod
    def from_pretrained(
        cls,
        pretrained_model_name: str | os.PathLike[str],
        config_file_name: str | os.PathLike[str] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Load ``generation_config.json`` from a folder, a file path or a Hub repo id.

        Accepts the Hub options (``revision``, ``cache_dir``, ``token``,
        ``local_files_only``, ``force_download``, ``subfolder``); other
        keyword arguments override settings.  A missing file is a
        :class:`~autoload.FileResolutionError`.
        """
        options = HubOptions.pop_from(kwargs)
        source = os.fspath(pretrained_model_name)
        name = os.fspath(config_file_name) if config_file_name is not None else GENERATION_CONFIG_NAME
        if os.path.isfile(source):
            path: str | None = source
        else:
            path = resolve_file(source, name, options)
        assert path is not None
        data = files.read_json_object(path, "Generation config")
        try:
            return cls.from_dict(data, **kwargs)
        except GenerationError as exc:
            raise GenerationError(f"{name} of {describe(source, options)}: {exc}") from exc

    @classmethod
    def from_model_config(cls, model_config: Any) -> GenerationConfig:
        """The generation settings a model config carries (special token ids, ``use_cache``, ...).

        Older checkpoints kept generation settings in ``config.json``; this
        takes every setting the model config (or its decoder's config) sets
        and leaves the rest unset.
        """
        data = model_config if isinstance(model_config, dict) else model_config.to_dict()
        known = {key: value for key, value in data.items() if key in _FIELDS and value is not None}
        config = cls(**known, _from_model_config=True)
        decoder = _decoder_config(model_config)
        if decoder is not None:
            for key in _FIELDS:
                value = decoder.get(key)
                if value is not None and getattr(config, key) is None:
                    setattr(config, key, value)
        if not config.return_dict_in_generate and any(getattr(config, flag) for flag in _EXTRA_OUTPUT_FLAGS):
            config.return_dict_in_generate = True
        config._original_object_hash = hash(config)
        return config

    def update(self, **kwargs: Any) -> dict[str, Any]:
        """Set the given settings that exist; return the ones that do not (model inputs, typically)."""
        unused: dict[str, Any] = {}
        for key, value in kwargs.items():
            if key in _FIELDS or (key in vars(self) and not key.startswith("_")):
                setattr(self, key, value)
            else:
                unused[key] = value
        self._check_values()
        return unused

    def merged_with_defaults(self, model_config: GenerationConfig | None) -> GenerationConfig:
        """A copy whose unset settings come from ``model_config``, then from :data:`GENERATION_DEFAULTS`."""
        merged = copy.deepcopy(self)
        sources = [model_config.to_dict()] if model_config is not None else []
        sources.append(GENERATION_DEFAULTS)
        for source in sources:
            for key, value in source.items():
                if key in METADATA_FIELDS:
                    continue
                if getattr(merged, key, None) is None:
                    setattr(merged, key, copy.deepcopy(value))
        return merged

    # -- identity --------------------------------------------------------------------

    def __hash__(self) -> int:
        return hash(self.to_json_string(ignore_metadata=True))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GenerationConfig):
            return NotImplemented
        return self.to_json_string(use_diff=False, ignore_metadata=True) == other.to_json_string(
            use_diff=False, ignore_metadata=True
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__} {self.to_json_string(ignore_metadata=True)}"


_DEFAULTS_CACHE: dict[str, Any] = {}


def _fresh_defaults() -> dict[str, Any]:
    if not _DEFAULTS_CACHE:
        _DEFAULTS_CACHE.update(GenerationConfig().to_dict())
    return _DEFAULTS_CACHE


def _decoder_config(model_config: Any) -> dict[str, Any] | None:
    """The decoder's own settings of a composite config (``decoder``, ``generator``, ``text_config``)."""
    for name in ("decoder", "generator", "text_config"):
        nested = model_config.get(name) if isinstance(model_config, dict) else getattr(model_config, name, None)
        if isinstance(nested, dict):
            return nested
        if nested is not None and hasattr(nested, "to_dict"):
            return nested.to_dict()
    return None


def _json_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _json_keys(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_keys(item) for item in value]
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _int_list(value: Any, allow_empty: bool = False) -> bool:
    return isinstance(value, (list, tuple)) and (allow_empty or len(value) > 0) and all(_is_int(v) for v in value)


__all__ = ["GENERATION_CONFIG_NAME", "GENERATION_DEFAULTS", "GenerationConfig", "METADATA_FIELDS"]
