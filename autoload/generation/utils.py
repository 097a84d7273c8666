"""GenerationMixin: ``generate()`` for every model head that predicts the next token.

A head gets it by inheriting the mixin next to its PreTrainedModel base::

    class NewModelForCausalLM(NewModelPreTrainedModel, GenerationMixin): ...

and a forward that follows the decoder contract (``input_ids``,
``attention_mask``, ``position_ids``, ``past_key_values``, ``use_cache``,
``cache_position``, ``logits_to_keep``; returns ``logits`` and ``cache``).
Encoder-decoder heads (``config.is_encoder_decoder``) additionally expose
``get_encoder()`` and take ``decoder_input_ids`` / ``encoder_outputs``: the
encoder runs once, the decoder steps with an :class:`EncoderDecoderCache`
whose cross-attention half is filled on the first step.

Everything that does not change between steps (the processors, the
criteria, the signature of ``forward``, which inputs the model takes) is
settled before the loop.  A step is one forward, the processors that do
something, one selection and one stop test; it follows transformers' order
of operations exactly, so greedy and beam search give the same tokens and
a seeded sampler draws the same ones (``torch.multinomial`` on the softmax
of the processed scores, once per step).
"""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from autoload.errors import FileResolutionError, GenerationError
from autoload.generation.cache import Cache, DynamicCache, EncoderDecoderCache, StaticCache
from autoload.generation.config import GENERATION_CONFIG_NAME, GenerationConfig
from autoload.generation.logits_process import (
    ForcedBOSTokenLogitsProcessor,
    ForcedEOSTokenLogitsProcessor,
    InfNanRemoveLogitsProcessor,
    LogitNormalizationProcessor,
    LogitsProcessor,
    LogitsProcessorList,
    MinLengthLogitsProcessor,
    MinNewTokensLengthLogitsProcessor,
    MinPLogitsWarper,
    NoBadWordsLogitsProcessor,
    NoRepeatNGramLogitsProcessor,
    RepetitionPenaltyLogitsProcessor,
    SequenceBiasLogitsProcessor,
    SuppressTokensAtBeginLogitsProcessor,
    SuppressTokensLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
    TypicalLogitsWarper,
)
from autoload.generation.outputs import (
    GenerateBeamDecoderOnlyOutput,
    GenerateBeamEncoderDecoderOutput,
    GenerateDecoderOnlyOutput,
    GenerateEncoderDecoderOutput,
)
from autoload.generation.stopping_criteria import (
    EosTokenCriteria,
    MaxLengthCriteria,
    MaxTimeCriteria,
    StoppingCriteriaList,
    StopStringCriteria,
)

logger = logging.getLogger("autoload")

# Settings transformers has that this loop does not implement; asking for them is an error, not a silent no-op.
_UNSUPPORTED = {
    "guidance_scale": lambda v: v is not None and v != 1,
    "penalty_alpha": lambda v: v is not None and v > 0,
    "num_beam_groups": lambda v: v is not None and v > 1,
    "constraints": lambda v: v is not None,
    "force_words_ids": lambda v: v is not None,
    "dola_layers": lambda v: v is not None,
    "watermarking_config": lambda v: v is not None,
    "prompt_lookup_num_tokens": lambda v: v is not None,
    "assistant_early_exit": lambda v: v is not None,
    "epsilon_cutoff": lambda v: v is not None and 0.0 < v < 1.0,
    "eta_cutoff": lambda v: v is not None and 0.0 < v < 1.0,
    "exponential_decay_length_penalty": lambda v: v is not None,
    "top_h": lambda v: v is not None,
    "encoder_repetition_penalty": lambda v: v is not None and v != 1.0,
    "encoder_no_repeat_ngram_size": lambda v: v is not None and v > 0,
    "token_healing": lambda v: bool(v),
    "prefill_chunk_size": lambda v: v is not None,
}


class ForceTokensLogitsProcessor(LogitsProcessor):
    """Force given tokens at given generation steps (``forced_decoder_ids``: ``[[step, token], ...]``).

    Step ``i`` is the i-th generated position counted from the decoder start,
    as in Whisper's checkpoints (``[[1, language], [2, task], ...]``).
    """

    def __init__(self, force_token_map: list[list[int]] | dict[int, int]) -> None:
        pairs = force_token_map.items() if isinstance(force_token_map, dict) else force_token_map
        self.force_token_map = {int(step): int(token) for step, token in pairs}

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        token = self.force_token_map.get(input_ids.shape[-1])
        if token is None:
            return scores
        forced = torch.full_like(scores, -float("inf"))
        forced[:, token] = 0
        return forced


class PrefixConstrainedLogitsProcessor(LogitsProcessor):
    """Allow only the tokens ``prefix_allowed_tokens_fn(batch_id, ids)`` returns for each row."""

    def __init__(self, prefix_allowed_tokens_fn: Callable[[int, torch.Tensor], list[int]], num_beams: int) -> None:
        self.prefix_allowed_tokens_fn = prefix_allowed_tokens_fn
        self.num_beams = num_beams

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        mask = torch.full_like(scores, -float("inf"))
        for row, ids in enumerate(input_ids):
            allowed = self.prefix_allowed_tokens_fn(row // self.num_beams, ids)
            if not allowed:
                raise GenerationError(
                    f"prefix_allowed_tokens_fn returned no allowed token for batch row {row // self.num_beams}; "
                    "it must allow at least one."
                )
            mask[row, allowed] = 0
        return scores + mask


def _merge(defaults: list[Any], custom: list[Any] | None, kind: type) -> Any:
    """Built-in processors/criteria, with a custom one of the same class taking the built-in's place."""
    merged = kind()
    custom = list(custom or ())
    for item in defaults:
        replacement = next((c for c in custom if type(c) is type(item)), None)
        if replacement is not None:
            logger.warning(
                "A custom %s was passed to generate() and one was also built from the generation config; "
                "the custom one is used.",
                type(item).__name__,
            )
        merged.append(replacement if replacement is not None else item)
    for item in custom:
        if not any(item is existing for existing in merged):
            merged.append(item)
    return merged


#: What the loop itself passes to forward each step, left out where a forward does not name it.
_LOOP_INPUTS = ("use_cache", "past_key_values", "cache_position")


class _Signature:
    """What a model's forward accepts, computed once per class."""

    _cache: dict[type, _Signature] = {}

    def __init__(self, forward: Callable[..., Any]) -> None:
        parameters = inspect.signature(forward).parameters
        self.names = set(parameters)
        self.var_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())

    @classmethod
    def of(cls, model: nn.Module) -> _Signature:
        found = cls._cache.get(type(model))
        if found is None:
            found = cls._cache[type(model)] = cls(model.forward)
        return found

    def accepts(self, name: str) -> bool:
        return name in self.names


class GenerationMixin:
    """``generate()`` and the generation config of a model that predicts the next token."""

    # -- the model's own generation config ------------------------------------------

    @classmethod
    def can_generate(cls) -> bool:
        return True

    def supports_cache(self) -> bool:
        """Whether this model, as configured, can decode with a key/value cache (else each step re-reads all).

        A head overrides it when a configuration rules the cache out (BERT attending in both directions).
        """
        return True

    @property
    def generation_config(self) -> GenerationConfig:
        """The model's default generation settings: ``generation_config.json`` if one was read, else the config's."""
        found = self.__dict__.get("_generation_config")
        if found is None:
            found = GenerationConfig.from_model_config(self.config)  # type: ignore[attr-defined]
            self.__dict__["_generation_config"] = found
        return found

    @generation_config.setter
    def generation_config(self, value: GenerationConfig | None) -> None:
        if value is not None and not isinstance(value, GenerationConfig):
            raise TypeError(f"generation_config must be a GenerationConfig, not {type(value).__name__}.")
        self.__dict__["_generation_config"] = value

    def _load_generation_config(self, pretrained_model_name_or_path: str | os.PathLike[str], options: Any) -> None:
        """Called by ``from_pretrained``: read ``generation_config.json`` when the checkpoint has one."""
        kwargs = options.as_kwargs() if hasattr(options, "as_kwargs") else {}
        try:
            self.generation_config = GenerationConfig.from_pretrained(pretrained_model_name_or_path, **kwargs)
        except FileResolutionError:
            logger.debug("No %s in %s; generation settings come from config.json.", GENERATION_CONFIG_NAME, kwargs)

    def _generation_files(self) -> dict[str, str]:
        """Called by ``save_pretrained``: the files to write next to the weights, in the same atomic set."""
        config = self.generation_config
        config.validate(strict=config.was_modified())
        return {GENERATION_CONFIG_NAME: config.to_json_string()}

    # -- per-step model inputs ----------------------------------------------------------

    def prepare_inputs_for_generation(
        self,
        input_ids: torch.LongTensor,
        past_key_values: Cache | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        cache_position: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """The keyword arguments of one forward call.

        ``input_ids`` holds every token so far; ``cache_position`` the
        positions this step feeds (all of them without a cache).  Heads with
        extra per-step inputs override this and call it.
        """
        step = cache_position.shape[0] if cache_position is not None else input_ids.shape[1]
        is_encoder_decoder = getattr(self.config, "is_encoder_decoder", False)  # type: ignore[attr-defined]
        inputs: dict[str, Any] = {}
        if inputs_embeds is not None and not is_encoder_decoder:
            inputs["inputs_embeds"] = inputs_embeds
        else:
            inputs["decoder_input_ids" if is_encoder_decoder else "input_ids"] = input_ids[:, -step:]
        if past_key_values is not None:
            inputs["past_key_values"] = past_key_values
        if cache_position is not None:
            inputs["cache_position"] = cache_position
        if position_ids is not None:
            inputs["decoder_position_ids" if is_encoder_decoder else "position_ids"] = position_ids[:, -step:]
        if is_encoder_decoder:
            if attention_mask is not None:
                inputs["attention_mask"] = attention_mask
            decoder_mask = kwargs.pop("decoder_attention_mask", None)
            if decoder_mask is not None:
                inputs["decoder_attention_mask"] = decoder_mask
        elif attention_mask is not None:
            inputs["attention_mask"] = attention_mask
        inputs.update(kwargs)
        return inputs

    # -- generate ------------------------------------------------------------------------

    @torch.no_grad()
    def generate(
        self,
        inputs: torch.Tensor | None = None,
        generation_config: GenerationConfig | None = None,
        logits_processor: LogitsProcessorList | None = None,
        stopping_criteria: StoppingCriteriaList | None = None,
        prefix_allowed_tokens_fn: Callable[[int, torch.Tensor], list[int]] | None = None,
        synced_gpus: bool | None = None,
        assistant_model: Any = None,
        streamer: Any = None,
        negative_prompt_ids: torch.Tensor | None = None,
        negative_prompt_attention_mask: torch.Tensor | None = None,
        tokenizer: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Generate token ids after ``inputs`` (or ``input_ids=``), as transformers' ``generate`` does.

        Settings come from ``generation_config`` (default: the model's), with
        keyword arguments naming a setting overriding it (``max_new_tokens=32,
        do_sample=True, top_p=0.9``); other keyword arguments go to the
        model's forward (``attention_mask``, ``past_key_values``...).
        ``tokenizer`` is needed for ``stop_strings``.  Returns the sequences
        (prompt included for decoder-only models), or a ``Generate*Output``
        with ``return_dict_in_generate=True``.
        """
        for name, value in (
            ("assistant_model", assistant_model),
            ("negative_prompt_ids", negative_prompt_ids),
            ("negative_prompt_attention_mask", negative_prompt_attention_mask),
        ):
            if value is not None:
                raise GenerationError(f"generate() does not support {name} (assisted / guided generation).")
        del synced_gpus
        config, model_kwargs, default_max_length, default_min_length = self._generation_settings(
            generation_config, kwargs
        )
        self._check_model_kwargs(model_kwargs)
        run = _Run(self, config, model_kwargs, inputs, streamer, tokenizer)
        run.prepare(default_max_length, default_min_length)
        run.build_processors(logits_processor, prefix_allowed_tokens_fn)
        run.build_criteria(stopping_criteria)
        if (config.num_beams or 1) > 1:
            return run.beam_search()
        return run.sample()

    def _generation_settings(
        self, generation_config: GenerationConfig | None, kwargs: dict[str, Any]
    ) -> tuple[GenerationConfig, dict[str, Any], bool, bool]:
        if generation_config is not None and not isinstance(generation_config, GenerationConfig):
            raise GenerationError(
                f"generation_config must be a GenerationConfig, not {type(generation_config).__name__}."
            )
        own = self.generation_config
        base = generation_config if generation_config is not None else GenerationConfig()
        default_max_length = kwargs.get("max_length") is None and base.max_length is None and own.max_length is None
        default_min_length = kwargs.get("min_length") is None and base.min_length is None and own.min_length is None
        config = base.merged_with_defaults(own)
        model_kwargs = config.update(**kwargs)
        for name, is_used in _UNSUPPORTED.items():
            if is_used(getattr(config, name, None)):
                raise GenerationError(
                    f"generate() does not implement {name}={getattr(config, name)!r}. Unset it (it may come from "
                    "the model's generation_config.json: model.generation_config)."
                )
        if config.output_attentions:
            model_kwargs["output_attentions"] = True
        if config.output_hidden_states:
            model_kwargs["output_hidden_states"] = True
        return config, model_kwargs, default_max_length, default_min_length

    def _check_model_kwargs(self, model_kwargs: dict[str, Any]) -> None:
        signature = _Signature.of(self)  # type: ignore[arg-type]
        if signature.var_kwargs:
            return
        allowed = signature.names | {"past_key_values", "cache", "inputs_embeds", "encoder_outputs", "input_ids"}
        if getattr(self.config, "is_encoder_decoder", False):  # type: ignore[attr-defined]
            encoder = self.get_encoder()  # type: ignore[attr-defined]
            allowed |= set(inspect.signature(encoder.forward).parameters)
        unknown = sorted(key for key, value in model_kwargs.items() if value is not None and key not in allowed)
        if unknown:
            raise GenerationError(
                f"generate() got keyword arguments that are neither generation settings nor inputs of "
                f"{type(self).__name__}.forward: {', '.join(unknown)}. Check their spelling."
            )


# Model inputs the loop passes itself, step by step.
_LOOP_KEYS = frozenset({"position_ids", "inputs_embeds", "attention_mask", "past_key_values", "cache_position"})


class _Run:
    """One generate() call: its settings, inputs and state, prepared once and then stepped."""

    def __init__(
        self,
        model: Any,
        config: GenerationConfig,
        model_kwargs: dict[str, Any],
        inputs: torch.Tensor | None,
        streamer: Any,
        tokenizer: Any,
    ) -> None:
        self.model = model
        self.config = config
        self.kwargs = model_kwargs
        self.inputs = inputs
        self.streamer = streamer
        self.tokenizer = tokenizer
        self.is_encoder_decoder = bool(getattr(model.config, "is_encoder_decoder", False))
        self.signature = _Signature.of(model)

    # -- preparation ---------------------------------------------------------------------

    def prepare(self, default_max_length: bool, default_min_length: bool) -> None:
        model, config, kwargs = self.model, self.config, self.kwargs
        input_name = model.main_input_name
        if self.is_encoder_decoder and hasattr(model, "get_encoder"):
            input_name = getattr(model.get_encoder(), "main_input_name", input_name)
        given = kwargs.pop(input_name, None)
        if given is not None and self.inputs is not None:
            raise GenerationError(f"Pass the prompt once: as the first argument or as {input_name}=..., not both.")
        inputs = self.inputs if self.inputs is not None else given
        embeds = kwargs.pop("inputs_embeds", None)
        self.embeds_name = None
        if embeds is not None:
            if self.is_encoder_decoder:
                if inputs is not None:
                    raise GenerationError("Pass input_ids or inputs_embeds to generate(), not both.")
                inputs, input_name = embeds, "inputs_embeds"
            else:
                self.embeds_name = "inputs_embeds"
                kwargs["inputs_embeds"] = embeds
        device = model.device
        batch_size = self._batch_size(inputs, embeds)
        if inputs is None:
            if self.is_encoder_decoder and kwargs.get("encoder_outputs") is not None:
                hidden = kwargs["encoder_outputs"][0]
                inputs = torch.full(hidden.shape[:2], -100, dtype=torch.long, device=device)
            elif embeds is not None:
                inputs = torch.ones((batch_size, 0), dtype=torch.long, device=embeds.device)
            elif config.bos_token_id is None:
                raise GenerationError(
                    "generate() got no prompt and the generation config has no bos_token_id to start from. Pass "
                    "input_ids, or set bos_token_id."
                )
            else:
                inputs = torch.full((batch_size, 1), config.bos_token_id, dtype=torch.long, device=device)
        self.input_name = input_name
        self._special_tokens(inputs.device)
        has_mask = kwargs.get("attention_mask") is not None
        if self.is_encoder_decoder:
            if has_mask and input_name == "input_ids" and kwargs["attention_mask"].dim() != 2:
                raise GenerationError("attention_mask passed to generate() must be 2-D (batch, sequence).")
        else:
            if not has_mask:
                source = embeds if embeds is not None and inputs.shape[1] == 0 else inputs
                kwargs["attention_mask"] = self._infer_attention_mask(source)
            elif kwargs["attention_mask"].dim() != 2:
                raise GenerationError("attention_mask passed to generate() must be 2-D (batch, sequence).")
            mask = kwargs["attention_mask"]
            padded = not bool((mask == 1).all())
            if padded and self.signature.accepts("position_ids") and kwargs.get("position_ids") is None:
                positions = mask.long().cumsum(-1) - 1
                kwargs["position_ids"] = positions.masked_fill(mask == 0, 0)
            if self.embeds_name is None and batch_size > 1 and inputs.dim() == 2 and bool((mask[:, -1] == 0).any()):
                logger.warning(
                    "Right padding detected in a batch given to a decoder-only model; generated tokens will be "
                    "wrong. Tokenize with padding_side='left'."
                )
            # A mask of all ones says nothing; without it the model takes its faster unpadded path.
            if not padded and kwargs.get("position_ids") is None:
                kwargs["attention_mask"] = None
        if self.is_encoder_decoder:
            self._run_encoder(inputs)
            input_ids = self._decoder_start(batch_size, inputs.device)
        else:
            input_ids = inputs
        expand = max(config.num_beams or 1, config.num_return_sequences or 1)
        if expand > 1:
            input_ids = input_ids.repeat_interleave(expand, dim=0)
            for key, value in list(kwargs.items()):
                if isinstance(value, torch.Tensor):
                    kwargs[key] = value.repeat_interleave(expand, dim=0)
            encoder_outputs = kwargs.get("encoder_outputs")
            if encoder_outputs is not None:
                for key in list(encoder_outputs.keys()):
                    value = encoder_outputs[key]
                    if isinstance(value, torch.Tensor):
                        encoder_outputs[key] = value.repeat_interleave(expand, dim=0)
        self.input_ids = input_ids
        if self.streamer is not None:
            if (config.num_beams or 1) > 1:
                raise GenerationError("A streamer cannot be used with beam search (num_beams > 1).")
            self.streamer.put(input_ids.cpu())
        self._lengths(default_max_length, default_min_length, inputs)
        if self.signature.accepts("logits_to_keep") and "logits_to_keep" not in kwargs:
            kwargs["logits_to_keep"] = 1
        self._prepare_cache(batch_size * expand)

    def _batch_size(self, inputs: torch.Tensor | None, embeds: torch.Tensor | None) -> int:
        if inputs is not None:
            return inputs.shape[0]
        if embeds is not None:
            return embeds.shape[0]
        for value in self.kwargs.values():
            if isinstance(value, torch.Tensor):
                return value.shape[0]
        encoder_outputs = self.kwargs.get("encoder_outputs")
        if encoder_outputs is not None:
            return encoder_outputs[0].shape[0]
        return 1

    def _special_tokens(self, device: torch.device) -> None:
        config = self.config

        def as_tensor(value: Any) -> torch.Tensor | None:
            if value is None:
                return None
            if isinstance(value, torch.Tensor):
                return value.to(device)
            return torch.tensor(value, dtype=torch.long, device=device)

        eos = as_tensor(config.eos_token_id)
        if eos is not None and eos.dim() == 0:
            eos = eos.unsqueeze(0)
        pad = as_tensor(config.pad_token_id)
        if pad is None and eos is not None:
            pad = eos[0]
        start = as_tensor(config.decoder_start_token_id)
        if self.is_encoder_decoder:
            start = start if start is not None else as_tensor(config.bos_token_id)
            if start is None:
                raise GenerationError(
                    "Encoder-decoder generation needs decoder_start_token_id (or bos_token_id) in the generation "
                    "config to start the decoder from."
                )
        self.eos = eos
        self.pad = pad
        self.decoder_start = start

    def _infer_attention_mask(self, inputs: torch.Tensor) -> torch.Tensor:
        ones = torch.ones(inputs.shape[:2], dtype=torch.long, device=inputs.device)
        pad, eos = self.pad, self.eos
        if pad is None or inputs.dim() != 2 or inputs.dtype not in (torch.int, torch.long):
            return ones
        pad_present = bool(torch.isin(inputs, pad).any())
        pad_is_eos = eos is not None and bool(torch.isin(eos, pad).any())
        if pad_present and not pad_is_eos:
            return inputs.ne(pad).long()
        return ones

    def _run_encoder(self, inputs: torch.Tensor) -> None:
        kwargs = self.kwargs
        if kwargs.get("encoder_outputs") is not None:
            return
        encoder = self.model.get_encoder()
        accepted = set(inspect.signature(encoder.forward).parameters)
        var_kwargs = any(
            p.kind is inspect.Parameter.VAR_KEYWORD for p in inspect.signature(encoder.forward).parameters.values()
        )
        encoder_kwargs = {
            key: value
            for key, value in kwargs.items()
            if not key.startswith(("decoder_", "cross_attn", "use_cache", "past_key_values", "cache"))
            and (var_kwargs or key in accepted)
        }
        encoder_kwargs[self.input_name] = inputs
        encoder_kwargs["return_dict"] = True
        kwargs["encoder_outputs"] = encoder(**encoder_kwargs)

    def _decoder_start(self, batch_size: int, device: torch.device) -> torch.Tensor:
        kwargs = self.kwargs
        given = kwargs.pop("decoder_input_ids", None)
        start = self.decoder_start
        assert start is not None
        if start.dim() == 1:
            if start.shape[0] != batch_size:
                raise GenerationError(
                    f"decoder_start_token_id has {start.shape[0]} entries but the batch has {batch_size} rows."
                )
            first = start.view(-1, 1)
        else:
            first = torch.ones((batch_size, 1), dtype=torch.long, device=device) * start
        if given is None:
            return first
        if not bool((given[:, 0] == first[:, 0]).all()):
            given = torch.cat([first, given], dim=-1)
            mask = kwargs.get("decoder_attention_mask")
            if mask is not None:
                kwargs["decoder_attention_mask"] = torch.cat([torch.ones_like(mask)[:, :1], mask], dim=-1)
        return given

    def _lengths(self, default_max_length: bool, default_min_length: bool, inputs: torch.Tensor) -> None:
        config = self.config
        prompt_length = self.input_ids.shape[1]
        embeds_only = self.embeds_name is not None and not self.is_encoder_decoder
        embeds_length = self.kwargs["inputs_embeds"].shape[1] if embeds_only else 0
        if config.max_new_tokens is not None:
            if not default_max_length and config.max_length is not None:
                logger.warning(
                    "Both max_new_tokens (%s) and max_length (%s) are set; max_new_tokens wins.",
                    config.max_new_tokens,
                    config.max_length,
                )
            config.max_length = config.max_new_tokens + prompt_length
        elif embeds_only and prompt_length != embeds_length and not default_max_length:
            config.max_length -= embeds_length
        elif default_max_length:
            config.max_length = config.max_length + prompt_length
            limit = getattr(self.model.config, "max_position_embeddings", None)
            if isinstance(limit, int):
                config.max_length = min(config.max_length, limit)
        if config.min_new_tokens is not None:
            config.min_length = config.min_new_tokens + prompt_length
        elif embeds_only and prompt_length != embeds_length:
            config.min_length = max(config.min_length - embeds_length, 0)
        if prompt_length >= config.max_length:
            name = "decoder_input_ids" if self.is_encoder_decoder else "input_ids"
            raise GenerationError(
                f"The prompt ({name}) is {prompt_length} tokens long but max_length is {config.max_length}, so "
                "nothing can be generated. Set max_new_tokens (tokens to add) instead of max_length, or raise it."
            )
        if default_max_length and config.max_new_tokens is None:
            logger.info(
                "Generating up to the default max_length (%s); set max_new_tokens to choose the length.",
                config.max_length,
            )
        self.prompt_length = prompt_length
        self.embeds_length = embeds_length

    def _prepare_cache(self, rows: int) -> None:
        config, kwargs = self.config, self.kwargs
        user_cache = kwargs.pop("past_key_values", None)
        if user_cache is None:
            user_cache = kwargs.pop("cache", None)
        else:
            kwargs.pop("cache", None)
        if user_cache is not None:
            if config.cache_implementation is not None:
                raise GenerationError("Pass either past_key_values (a Cache) or cache_implementation, not both.")
            if not isinstance(user_cache, Cache):
                raise GenerationError(
                    f"past_key_values must be an autoload.generation Cache, not {type(user_cache).__name__}; "
                    "wrap legacy tuples with DynamicCache.from_legacy_cache(...)."
                )
            self.cache: Cache | None = user_cache
            return
        if not config.use_cache or not self.model.supports_cache():
            self.cache = None
            return
        if config.cache_implementation == "static":
            length = self.config.max_length - 1 + self.embeds_length
            if config.max_cache_len is not None:
                length = max(length, config.max_cache_len)
            cache: Cache = StaticCache(config=self.model.config, max_cache_len=length, max_batch_size=rows)
        else:
            cache = DynamicCache()
        if self.is_encoder_decoder and not isinstance(cache, EncoderDecoderCache):
            cache = EncoderDecoderCache(cache, DynamicCache())
        self.cache = cache

    def build_processors(
        self,
        custom: LogitsProcessorList | None,
        prefix_allowed_tokens_fn: Callable[[int, torch.Tensor], list[int]] | None,
    ) -> None:
        config, device = self.config, self.input_ids.device
        eos = self.eos
        processors: list[Any] = []
        if config.sequence_bias is not None:
            processors.append(SequenceBiasLogitsProcessor(config.sequence_bias))
        if config.repetition_penalty is not None and config.repetition_penalty != 1.0:
            mask = self.kwargs.get("decoder_attention_mask" if self.is_encoder_decoder else "attention_mask")
            ignore = (mask != 0).int().argmax(dim=1) if mask is not None else None
            processors.append(RepetitionPenaltyLogitsProcessor(float(config.repetition_penalty), ignore))
        if config.no_repeat_ngram_size:
            processors.append(NoRepeatNGramLogitsProcessor(config.no_repeat_ngram_size))
        if config.bad_words_ids is not None:
            processors.append(NoBadWordsLogitsProcessor(config.bad_words_ids, eos))
        if config.min_length is not None and eos is not None and config.min_length > 0:
            processors.append(MinLengthLogitsProcessor(config.min_length, eos, device=device))
        if config.min_new_tokens is not None and eos is not None and config.min_new_tokens > 0:
            processors.append(MinNewTokensLengthLogitsProcessor(self.prompt_length, config.min_new_tokens, eos, device))
        if prefix_allowed_tokens_fn is not None:
            beams = max(config.num_beams or 1, config.num_return_sequences or 1)
            processors.append(PrefixConstrainedLogitsProcessor(prefix_allowed_tokens_fn, beams))
        if config.forced_bos_token_id is not None:
            processors.append(ForcedBOSTokenLogitsProcessor(config.forced_bos_token_id))
        if config.forced_eos_token_id is not None:
            processors.append(ForcedEOSTokenLogitsProcessor(config.max_length, config.forced_eos_token_id, device))
        if config.remove_invalid_values is True:
            processors.append(InfNanRemoveLogitsProcessor())
        if config.suppress_tokens is not None:
            processors.append(SuppressTokensLogitsProcessor(config.suppress_tokens, device))
        if config.begin_suppress_tokens is not None:
            begin = self.prompt_length
            if not (self.prompt_length > 1 or config.forced_bos_token_id is None):
                begin += 1
            processors.append(SuppressTokensAtBeginLogitsProcessor(config.begin_suppress_tokens, begin, device))
        forced = getattr(config, "forced_decoder_ids", None)
        if forced:
            processors.append(ForceTokensLogitsProcessor(forced))
        processors = _merge(processors, custom, LogitsProcessorList)
        if config.do_sample:
            beams = config.num_beams or 1
            keep = (eos.shape[0] + 1 if eos is not None else 2) if beams > 1 else 1
            if config.temperature is not None and config.temperature != 1.0:
                processors.append(TemperatureLogitsWarper(float(config.temperature)))
            if config.top_k is not None and config.top_k != 0:
                processors.append(TopKLogitsWarper(int(config.top_k), min_tokens_to_keep=keep))
            if config.top_p is not None and config.top_p < 1.0:
                processors.append(TopPLogitsWarper(config.top_p, min_tokens_to_keep=keep))
            if config.min_p is not None:
                processors.append(MinPLogitsWarper(config.min_p, min_tokens_to_keep=keep))
            if config.typical_p is not None and config.typical_p < 1.0:
                processors.append(TypicalLogitsWarper(config.typical_p, min_tokens_to_keep=keep))
        if config.renormalize_logits is True:
            processors.append(LogitNormalizationProcessor())
        self.processors = processors

    def build_criteria(self, custom: StoppingCriteriaList | None) -> None:
        config = self.config
        criteria: list[Any] = []
        if config.max_length is not None:
            criteria.append(
                MaxLengthCriteria(config.max_length, getattr(self.model.config, "max_position_embeddings", None))
            )
        if config.max_time is not None:
            criteria.append(MaxTimeCriteria(config.max_time))
        if config.stop_strings is not None:
            if self.tokenizer is None:
                raise GenerationError(
                    "stop_strings need the tokenizer to know each token's text: pass tokenizer=... to generate()."
                )
            criteria.append(StopStringCriteria(self.tokenizer, config.stop_strings))
        if self.eos is not None:
            criteria.append(EosTokenCriteria(self.eos))
        merged = _merge(criteria, custom, StoppingCriteriaList)
        self.criteria = merged
        # The built-in length and end-of-sequence tests are done inline (a Python int compare and one isin);
        # anything else goes through the list.
        self.max_length = merged.max_length
        self.other_criteria = StoppingCriteriaList(
            c for c in merged if not (type(c) is MaxLengthCriteria or type(c) is EosTokenCriteria)
        )
        self.inline_eos = next((c.eos_token_id for c in merged if type(c) is EosTokenCriteria), None)

    # -- stepping ----------------------------------------------------------------------------

    def _first_cache_position(self) -> torch.Tensor:
        past = self.cache.get_seq_length() if self.cache is not None else 0
        total = self.input_ids.shape[1] if self.embeds_name is None else self.kwargs["inputs_embeds"].shape[1]
        return torch.arange(past, total, device=self.input_ids.device)

    def _forward(self, input_ids: torch.Tensor, cache_position: torch.Tensor, first: bool) -> Any:
        kwargs = self.kwargs
        embeds = None
        if first:
            # Inputs that stay the same every step are gathered once, after the prompt's own ones.
            embeds = kwargs.get("inputs_embeds")
            if embeds is not None:
                embeds = embeds[:, -cache_position.shape[0] :]
            self._fixed_inputs = {k: v for k, v in kwargs.items() if k not in _LOOP_KEYS}
            # The loop's own inputs that this forward does not take (a model without a cache may lack
            # use_cache and past_key_values; a model without positions, cache_position) are left out.
            takes_any = self.signature.var_kwargs
            self._not_taken = [key for key in _LOOP_INPUTS if not (takes_any or self.signature.accepts(key))]
        if self.cache is None:
            # Without a cache every step feeds the whole sequence again.
            cache_position = torch.arange(0, input_ids.shape[1], device=input_ids.device)
        model_inputs = self.model.prepare_inputs_for_generation(
            input_ids,
            past_key_values=self.cache,
            position_ids=kwargs.get("position_ids"),
            cache_position=cache_position,
            inputs_embeds=embeds,
            attention_mask=kwargs.get("attention_mask"),
            **self._fixed_inputs,
        )
        if "use_cache" not in model_inputs:
            model_inputs["use_cache"] = self.cache is not None
        for key in self._not_taken:
            model_inputs.pop(key, None)
        model_inputs["return_dict"] = True
        outputs = self.model(**model_inputs)
        returned = outputs.get("cache")
        if returned is not None:
            self.cache = returned
        return outputs

    def _grow(self, rows: int) -> None:
        """After a token is appended: one more position in the mask and the position ids."""
        kwargs = self.kwargs
        key = "decoder_attention_mask" if self.is_encoder_decoder else "attention_mask"
        mask = kwargs.get(key)
        if mask is not None:
            kwargs[key] = torch.cat([mask, mask.new_ones((mask.shape[0], 1))], dim=-1)
        positions = kwargs.get("position_ids")
        if positions is not None and not self.is_encoder_decoder:
            kwargs["position_ids"] = torch.cat([positions, positions[:, -1:] + 1], dim=-1)

    def _record(self, outputs: Any, store: dict[str, list[Any]]) -> None:
        if "attentions" in store:
            if self.is_encoder_decoder:
                store["attentions"].append(outputs.get("decoder_attentions"))
                store["cross_attentions"].append(outputs.get("cross_attentions"))
            else:
                store["attentions"].append(outputs.get("attentions"))
        if "hidden_states" in store:
            key = "decoder_hidden_states" if self.is_encoder_decoder else "hidden_states"
            store["hidden_states"].append(outputs.get(key))

    def _store(self) -> dict[str, list[Any]]:
        config = self.config
        store: dict[str, list[Any]] = {}
        if config.return_dict_in_generate:
            if config.output_scores:
                store["scores"] = []
            if config.output_logits:
                store["logits"] = []
            if config.output_attentions:
                store["attentions"] = []
                store["cross_attentions"] = []
            if config.output_hidden_states:
                store["hidden_states"] = []
        return store

    def _drop_first_embeds(self) -> None:
        self.kwargs.pop("inputs_embeds", None)

    def sample(self) -> Any:
        """Greedy decoding, or multinomial sampling with ``do_sample=True``."""
        config, processors = self.config, self.processors
        input_ids = self.input_ids
        rows = input_ids.shape[0]
        device = input_ids.device
        do_sample = bool(config.do_sample)
        pad = self.pad.to(device) if self.pad is not None else None
        eos = self.inline_eos.to(device) if self.inline_eos is not None else None
        pads_finished = any(hasattr(c, "eos_token_id") for c in self.criteria)
        if pads_finished and pad is None:
            raise GenerationError("Stopping on end-of-sequence needs a pad_token_id (or eos_token_id) to pad with.")
        other = self.other_criteria
        store = self._store()
        scores_for_criteria = store.get("scores")
        max_length = self.max_length
        unfinished = torch.ones(rows, dtype=torch.long, device=device)
        can_finish_early = eos is not None or bool(other)
        streamer = self.streamer
        cache_position = self._first_cache_position()
        first = True
        while True:
            outputs = self._forward(input_ids, cache_position, first)
            if first:
                self._drop_first_embeds()
                first = False
            logits = outputs.logits[:, -1, :].to(copy=True, dtype=torch.float32, device=device)
            scores = processors(input_ids, logits) if processors else logits
            if store:
                if "scores" in store:
                    store["scores"].append(scores)
                if "logits" in store:
                    store["logits"].append(logits)
                self._record(outputs, store)
            del outputs
            if do_sample:
                next_tokens = torch.multinomial(nn.functional.softmax(scores, dim=-1), num_samples=1).squeeze(1)
            else:
                next_tokens = torch.argmax(scores, dim=-1)
            if pads_finished:
                next_tokens = next_tokens * unfinished + pad * (1 - unfinished)
            input_ids = torch.cat([input_ids, next_tokens[:, None]], dim=-1)
            if streamer is not None:
                streamer.put(next_tokens.cpu())
            done = input_ids.shape[1] >= max_length if max_length is not None else False
            if eos is not None:
                unfinished = unfinished & ~torch.isin(next_tokens, eos)
            if other:
                scores_arg = tuple(scores_for_criteria) if scores_for_criteria is not None else None
                unfinished = unfinished & ~other(input_ids, scores_arg)
            if done or (can_finish_early and not bool(unfinished.any())):
                break
            self._grow(rows)
            cache_position = cache_position[-1:] + 1
        if streamer is not None:
            streamer.end()
        if not config.return_dict_in_generate:
            return input_ids
        return self._output(input_ids, store)

    def _output(self, sequences: torch.Tensor, store: dict[str, list[Any]], **beam: Any) -> Any:
        def collected(key: str) -> tuple[Any, ...] | None:
            return tuple(store[key]) if key in store else None

        if self.is_encoder_decoder:
            encoder_outputs = self.kwargs.get("encoder_outputs")
            encoder_attentions = encoder_outputs.get("attentions") if self.config.output_attentions else None
            encoder_hidden = encoder_outputs.get("hidden_states") if self.config.output_hidden_states else None
            cls = GenerateBeamEncoderDecoderOutput if beam else GenerateEncoderDecoderOutput
            return cls(
                sequences=sequences,
                scores=collected("scores"),
                logits=collected("logits"),
                encoder_attentions=encoder_attentions,
                encoder_hidden_states=encoder_hidden,
                decoder_attentions=collected("attentions"),
                cross_attentions=collected("cross_attentions"),
                decoder_hidden_states=collected("hidden_states"),
                cache=self.cache,
                **beam,
            )
        cls = GenerateBeamDecoderOnlyOutput if beam else GenerateDecoderOnlyOutput
        return cls(
            sequences=sequences,
            scores=collected("scores"),
            logits=collected("logits"),
            attentions=collected("attentions"),
            hidden_states=collected("hidden_states"),
            cache=self.cache,
            **beam,
        )

    # -- beam search -------------------------------------------------------------------------

    def beam_search(self) -> Any:
        """Beam search (and beam sampling with ``do_sample=True``), vectorised over batch and beams.

        Running beams and finished hypotheses live in fixed-size tensors of
        ``max_length`` tokens.  Each step takes the best ``beams_to_keep``
        continuations over all beams, moves those that hit a stopping
        criterion into the finished set (scored with the length penalty),
        continues with the best ``num_beams`` others, and stops when no
        running beam can beat the finished ones any more.
        """
        config = self.config
        num_beams = config.num_beams
        flat_ids = self.input_ids
        rows, cur_len = flat_ids.shape
        batch = rows // num_beams
        prompt_len = cur_len
        device = flat_ids.device
        max_length = config.max_length
        length_penalty = config.length_penalty
        early_stopping = config.early_stopping
        eos = self.eos
        beams_to_keep = max(2, 1 + (eos.shape[0] if eos is not None else 0)) * num_beams
        top_mask = torch.zeros(beams_to_keep, dtype=torch.bool, device=device)
        top_mask[:num_beams] = True
        store = self._store()
        if self.config.return_dict_in_generate and self.config.output_scores:
            store.setdefault("scores", [])
        # transformers fills with `pad or eos[0]` where a pad id of 0 counts as unset; mirrored for identical output.
        fill = (self.pad if self.pad is not None and bool(self.pad) else eos[0]) if eos is not None else -1
        fill_value = int(fill) if isinstance(fill, torch.Tensor) else fill

        running = torch.full((batch, num_beams, max_length), fill_value, dtype=torch.long, device=device)
        running[:, :, :cur_len] = flat_ids.view(batch, num_beams, cur_len)
        finished = running.clone()
        running_scores = torch.zeros((batch, num_beams), dtype=torch.float, device=device)
        running_scores[:, 1:] = -1e9
        finished_scores = torch.full((batch, num_beams), -1e9, dtype=torch.float, device=device)
        is_finished = torch.zeros((batch, num_beams), dtype=torch.bool, device=device)
        improvable = torch.ones((batch, 1), dtype=torch.bool, device=device)
        running_origins = torch.full((batch, num_beams, max_length - cur_len), -1, dtype=torch.int32, device=device)
        finished_origins = running_origins.clone()
        batch_offset = torch.arange(batch, device=device).view(-1, 1) * num_beams
        do_sample = bool(config.do_sample)
        cache_position = self._first_cache_position()
        first = True

        while True:
            outputs = self._forward(flat_ids, cache_position, first)
            if first:
                self._drop_first_embeds()
                first = False
            logits = outputs.logits[:, -1, :].to(copy=True, dtype=torch.float32, device=device)
            log_probs = nn.functional.log_softmax(logits, dim=-1)
            log_probs = self.processors(flat_ids, log_probs) if self.processors else log_probs
            if store:
                if "logits" in store:
                    store["logits"].append(logits.clone())
                if "scores" in store:
                    store["scores"].append(log_probs.clone())
                self._record(outputs, store)
            del outputs
            vocab = log_probs.shape[-1]
            totals = (log_probs.view(batch, num_beams, vocab) + running_scores[:, :, None]).view(batch, -1)

            # The best beams_to_keep continuations over every beam of each prompt.
            if do_sample:
                picked = torch.multinomial(nn.functional.softmax(totals, dim=-1), num_samples=beams_to_keep)
                top_scores = torch.gather(totals, 1, picked)
                top_scores, order = top_scores.sort(dim=-1, descending=True)
                picked = picked.gather(-1, order)
            else:
                top_scores, picked = torch.topk(totals, k=beams_to_keep)
            source_beam = picked // vocab
            top_tokens = picked % vocab
            top_sequences = _take_beams(running, source_beam)
            top_sequences[:, :, cur_len] = top_tokens
            top_origins = _take_beams(running_origins, source_beam)
            top_origins[:, :, cur_len - prompt_len] = (source_beam + batch_offset).to(top_origins.dtype)

            stops = self.criteria(
                top_sequences[:, :, : cur_len + 1].reshape(batch * beams_to_keep, cur_len + 1),
                tuple(store["scores"]) if "scores" in store else None,
            ).view(batch, beams_to_keep)

            # Continue with the best num_beams continuations that did not stop.
            live_scores = top_scores + stops.to(torch.float32) * -1.0e9
            keep = torch.topk(live_scores, k=num_beams)[1]
            running = _take_beams(top_sequences, keep)
            running_scores = _take_beams(live_scores, keep)
            running_origins = _take_beams(top_origins, keep)

            # Move continuations that stopped (among the top num_beams) into the finished set.
            just_finished = stops & top_mask[None, :]
            candidate = top_scores / ((cur_len + 1 - prompt_len) ** length_penalty)
            full = torch.all(is_finished, dim=-1, keepdim=True) & (early_stopping is True)
            candidate = candidate + full.to(torch.float32) * -1.0e9
            candidate = candidate + (~improvable).to(torch.float32) * -1.0e9
            candidate = candidate + (~just_finished) * -1.0e9
            merged_scores = torch.cat((finished_scores, candidate), dim=1)
            best = torch.topk(merged_scores, k=num_beams)[1]
            finished = _take_beams(torch.cat((finished, top_sequences), dim=1), best)
            finished_scores = _take_beams(merged_scores, best)
            finished_origins = _take_beams(torch.cat((finished_origins, top_origins), dim=1), best)
            is_finished = _take_beams(torch.cat((is_finished, just_finished), dim=1), best)

            if self.cache is not None:
                self.cache.reorder_cache(running_origins[..., cur_len - prompt_len].reshape(-1).long())
            cur_len += 1

            # Can a running beam still beat the worst finished one?
            if early_stopping == "never" and length_penalty > 0.0:
                best_length = max_length - prompt_len
            else:
                best_length = cur_len - prompt_len
            best_running = running_scores[:, :1] / (best_length**length_penalty)
            worst_finished = torch.where(is_finished, torch.min(finished_scores, dim=1, keepdim=True)[0], -1.0e9)
            improvable = improvable & torch.any(best_running > worst_finished, dim=-1, keepdim=True)
            open_beams = ~(torch.all(is_finished) & (early_stopping is True))
            continuing = ~torch.all(stops)
            if not bool(torch.any(improvable) & open_beams & continuing):
                break
            flat_ids = running[:, :, :cur_len].reshape(batch * num_beams, cur_len)
            self._grow(batch * num_beams)
            cache_position = cache_position[-1:] + 1

        returned = config.num_return_sequences or 1
        sequences = finished[:, :returned, :].reshape(batch * returned, -1)
        sequence_scores = finished_scores[:, :returned].reshape(-1)
        origins = finished_origins[:, :returned, :].reshape(batch * returned, -1)
        generated = int(((origins + 1).bool()).sum(dim=1).max())
        sequences = sequences[:, : prompt_len + generated]
        origins = origins[:, :generated]
        if not config.return_dict_in_generate:
            return sequences
        return self._output(
            sequences,
            store,
            sequences_scores=sequence_scores if config.output_scores else None,
            beam_indices=origins,
        )


def _take_beams(tensor: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """Rows ``indices`` of the beam axis (dim 1) of a (batch, beams, ...) tensor."""
    while indices.dim() < tensor.dim():
        indices = indices.unsqueeze(-1)
    return torch.take_along_dim(tensor, indices, dim=1)


__all__ = ["ForceTokensLogitsProcessor", "GenerationMixin", "PrefixConstrainedLogitsProcessor"]
