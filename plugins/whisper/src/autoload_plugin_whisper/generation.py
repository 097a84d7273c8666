"""Whisper's ``generate()``: the decoder prompt from ``language`` / ``task``, timestamps, window by window.

Whisper is told what to do by the first decoder tokens:
``<|startoftranscript|> <|lang|> <|task|> [<|notimestamps|>]``.  This module
builds that prompt from ``generate(language=..., task=..., return_timestamps=...)``
and the ids the checkpoint's ``generation_config.json`` lists (``lang_to_id``,
``task_to_id``, ``no_timestamps_token_id``), detects the language when the
model is multilingual and none is given, adds Whisper's logits processors,
runs the host's encoder-decoder ``generate()`` and returns what transformers
returns: the generated tokens without the prompt, each row cut after its last
complete timestamped segment and without its end-of-text token.

Audio is read in 30-second windows (``max_source_positions`` x 2 frames).
When a window's tokens end inside a timestamped segment, decoding resumes
on the audio after the last closed segment, as transformers does, for short
and long (over 30 s, timestamps required) audio alike.  Conditioning on the
previous window's text, temperature fallback with its thresholds, no-speech
detection and token-level timestamps (cross-attention alignment) are refused
with a clear error.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from autoload import GenerationError
from autoload.generation import (
    GenerationConfig,
    GenerationMixin,
    LogitsProcessor,
    LogitsProcessorList,
    SuppressTokensAtBeginLogitsProcessor,
    SuppressTokensLogitsProcessor,
)
from autoload.modeling import BaseModelOutput
from torch.nn import functional as F

from autoload_plugin_whisper.languages import LANGUAGES, TASKS, TO_LANGUAGE_CODE

# Arguments of the host's generate() that are not generation settings or model inputs.
_HOST_ARGUMENTS = ("streamer", "tokenizer", "assistant_model", "negative_prompt_ids", "negative_prompt_attention_mask")


class WhisperTimeStampLogitsProcessor(LogitsProcessor):
    """Keep timestamp tokens well-formed while Whisper predicts them.

    After ``begin_index`` (the prompt), timestamps come in pairs around each
    segment's text: after a closing-and-opening pair only text may follow,
    after a single timestamp only another timestamp or end-of-text.  Times
    never go back, the first generated token is a timestamp (no later than
    ``max_initial_timestamp_index``), ``<|notimestamps|>`` is never chosen,
    and when all timestamps together are likelier than the best text token,
    a timestamp is taken.
    """

    def __init__(
        self, generate_config: Any, begin_index: int, _detect_timestamp_from_logprob: bool | None = None
    ) -> None:
        if begin_index is None:
            raise GenerationError("WhisperTimeStampLogitsProcessor needs begin_index: the length of the prompt.")
        self.no_timestamps_token_id = int(generate_config.no_timestamps_token_id)
        self.timestamp_begin = self.no_timestamps_token_id + 1
        eos = generate_config.eos_token_id or generate_config.bos_token_id
        self.eos_token_id = int(eos[0] if isinstance(eos, (list, tuple)) else eos)
        if _detect_timestamp_from_logprob is None:
            _detect_timestamp_from_logprob = getattr(generate_config, "_detect_timestamp_from_logprob", True)
        self._detect_timestamp_from_logprob = _detect_timestamp_from_logprob
        self.begin_index = begin_index
        self.max_initial_timestamp_index = getattr(generate_config, "max_initial_timestamp_index", None)

    def set_begin_index(self, begin_index: int) -> None:
        self.begin_index = begin_index

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        first_time = self.timestamp_begin
        scores = scores.clone()
        scores[:, self.no_timestamps_token_id] = -float("inf")
        lowest_allowed = []
        for row, sequence in enumerate(input_ids.tolist()):
            generated = sequence[self.begin_index :]
            last_is_time = len(generated) >= 1 and generated[-1] >= first_time
            before_last_is_time = len(generated) < 2 or generated[-2] >= first_time
            if last_is_time:
                if before_last_is_time:  # a segment just closed and the next one opened: text comes next
                    scores[row, first_time:] = -float("inf")
                else:  # a segment is open: its closing timestamp (or the end) comes next
                    scores[row, : self.eos_token_id] = -float("inf")
            times = [token for token in generated if token >= first_time]
            lowest = first_time
            if times:
                # No going back in time; after a closed pair not even the same time again.
                lowest = times[-1] if last_is_time and not before_last_is_time else times[-1] + 1
            lowest_allowed.append(lowest)
        vocabulary = torch.arange(scores.shape[-1], device=scores.device)
        lowest_tensor = torch.tensor(lowest_allowed, device=scores.device).unsqueeze(-1)
        scores.masked_fill_((vocabulary >= first_time) & (vocabulary < lowest_tensor), -float("inf"))
        if input_ids.shape[1] == self.begin_index:
            scores[:, :first_time] = -float("inf")
            if self.max_initial_timestamp_index is not None:
                scores[:, first_time + self.max_initial_timestamp_index + 1 :] = -float("inf")
        if self._detect_timestamp_from_logprob:
            log_probs = F.log_softmax(scores.float(), dim=-1)
            time_mass = log_probs[:, first_time:].logsumexp(dim=-1)
            best_text = log_probs[:, :first_time].max(dim=-1).values
            take_time = (time_mass > best_text).unsqueeze(-1)
            scores[:, :first_time].masked_fill_(take_time, -float("inf"))
        return scores


class WhisperGenerationMixin(GenerationMixin):
    """``generate()`` with Whisper's arguments, on top of the host's encoder-decoder generation."""

    @torch.no_grad()
    def generate(
        self,
        input_features: torch.Tensor | None = None,
        generation_config: GenerationConfig | None = None,
        logits_processor: LogitsProcessorList | None = None,
        stopping_criteria: Any = None,
        prefix_allowed_tokens_fn: Any = None,
        synced_gpus: bool | None = None,
        return_timestamps: bool | None = None,
        task: str | None = None,
        language: str | list[str] | None = None,
        is_multilingual: bool | None = None,
        prompt_ids: Any = None,
        prompt_condition_type: str | None = None,
        condition_on_prev_tokens: bool | None = None,
        temperature: float | tuple[float, ...] | list[float] | None = None,
        compression_ratio_threshold: float | None = None,
        logprob_threshold: float | None = None,
        no_speech_threshold: float | None = None,
        num_segment_frames: int | None = None,
        attention_mask: torch.Tensor | None = None,
        time_precision: float = 0.02,
        time_precision_features: float = 0.01,
        return_token_timestamps: bool | None = None,
        return_segments: bool = False,
        return_dict_in_generate: bool | None = None,
        force_unique_generate_call: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        """Transcribe or translate up to 30 s of log-mel features into token ids, as transformers does.

        ``language``: a code (``"fr"``), an English name (``"french"``) or a
        token (``"<|fr|>"``), or one per batch row; None on a multilingual
        model detects it.  ``task``: ``"transcribe"`` or ``"translate"``.
        ``return_timestamps`` lets the model predict segment timestamps.
        ``prompt_ids`` (``tokenizer.get_prompt_ids(text, return_tensors="pt")``)
        conditions on previous text.  Other keywords are generation settings
        (``max_new_tokens``, ``num_beams``...) or model inputs.  Sampling is
        chosen with ``temperature > 0`` (``do_sample`` is decided by it).

        Returns the generated ids without the decoder prompt (padded with
        ``pad_token_id``); with ``return_segments=True`` (or
        ``return_dict_in_generate=True`` together with timestamps) a dict with
        ``sequences`` and per-row ``segments`` (``start``, ``end`` in seconds,
        ``tokens``); with ``return_dict_in_generate=True`` and no timestamps,
        the host's output object, whose sequences keep the prompt.
        """
        _refuse_unsupported(
            return_token_timestamps=return_token_timestamps,
            compression_ratio_threshold=compression_ratio_threshold,
            logprob_threshold=logprob_threshold,
            no_speech_threshold=no_speech_threshold,
            condition_on_prev_tokens=condition_on_prev_tokens,
            prompt_condition_type=prompt_condition_type,
        )
        host_arguments = {name: kwargs.pop(name) for name in _HOST_ARGUMENTS if name in kwargs}
        if generation_config is not None and not isinstance(generation_config, GenerationConfig):
            raise GenerationError(
                f"generation_config must be a GenerationConfig, not {type(generation_config).__name__}."
            )
        config = (generation_config or GenerationConfig()).merged_with_defaults(self.generation_config)
        kwargs = config.update(**kwargs)

        # 1. The audio: frames, and the 30-second window the encoder reads.
        stride = self.model.encoder.conv1.stride[0] * self.model.encoder.conv2.stride[0]
        window = num_segment_frames or stride * self.config.max_source_positions
        encoder_outputs = kwargs.get("encoder_outputs")
        if input_features is not None:
            batch_size, frames = input_features.shape[0], input_features.shape[-1]
        elif encoder_outputs is not None:
            hidden = encoder_outputs[0] if not isinstance(encoder_outputs, torch.Tensor) else encoder_outputs
            batch_size, frames = hidden.shape[0], hidden.shape[1] * stride
        else:
            raise GenerationError("Whisper's generate() needs input_features (log-mel features) or encoder_outputs.")
        # 2. Settings as transformers settles them.
        if return_dict_in_generate is None:
            return_dict_in_generate = bool(config.return_dict_in_generate)
        else:
            config.return_dict_in_generate = return_dict_in_generate
        if return_timestamps is None:
            return_timestamps = getattr(config, "return_timestamps", None)
        long_form = frames > window
        if long_form:
            if return_timestamps is False:
                raise GenerationError(
                    f"The input has {frames} spectrogram frames, more than one {window}-frame (30 s) window: "
                    "long-form transcription decodes window after window by the predicted timestamps, so it "
                    "needs return_timestamps=True (or unset). Or pass at most 30 s of audio."
                )
            return_timestamps = True
            if batch_size > 1 and attention_mask is None:
                raise GenerationError(
                    "A batch of long-form audio needs attention_mask (frame level) to know where each row ends: "
                    "call the feature extractor with return_attention_mask=True and padding='longest'."
                )
        if return_timestamps and getattr(config, "no_timestamps_token_id", None) is None:
            raise GenerationError(
                "return_timestamps=True needs no_timestamps_token_id in the generation config (generation_config.json "
                "of a Whisper checkpoint has it)."
            )
        config.return_timestamps = return_timestamps
        no_timestamps = getattr(config, "no_timestamps_token_id", None)
        timestamp_begin = no_timestamps + 1 if no_timestamps is not None else self.config.vocab_size + 1
        _set_language_and_task(config, language, task, is_multilingual)

        # 3. The decoder prompt, one row per input (language detection runs the encoder on the first window).
        first_window = _window(input_features, 0, min(frames, window), window) if input_features is not None else None
        init_tokens, detected_outputs = self._decoder_prompt(config, first_window, encoder_outputs, batch_size)
        processors = _whisper_processors(config, logits_processor, init_tokens.shape[1], init_tokens.device)

        temperatures = list(temperature) if isinstance(temperature, (list, tuple)) else [temperature]
        first_temperature = temperatures[0]
        config.do_sample = first_temperature is not None and first_temperature > 0.0
        config.temperature = first_temperature if config.do_sample else 1.0
        if config.do_sample:
            config.num_beams = 1

        copies = config.num_return_sequences or 1
        if copies > 1:
            if input_features is not None:
                input_features = input_features.repeat_interleave(copies, dim=0)
            if encoder_outputs is not None:
                kwargs["encoder_outputs"] = _repeat_encoder_outputs(encoder_outputs, copies)
            if attention_mask is not None:
                attention_mask = attention_mask.repeat_interleave(copies, dim=0)
            init_tokens = init_tokens.repeat_interleave(copies, dim=0)
            batch_size *= copies
            detected_outputs = None  # computed for the rows before they were repeated
            config.num_return_sequences = 1
        if force_unique_generate_call is None:
            force_unique_generate_call = bool(
                getattr(config, "force_unique_generate_call", None)
                or getattr(self.generation_config, "force_unique_generate_call", False)
            )
        if prompt_ids is not None:
            prompt_ids = torch.as_tensor(prompt_ids, dtype=torch.long, device=init_tokens.device).reshape(-1)

        # 4. Decode. The model may end a window inside a timestamped segment; decoding then resumes from the
        #    last closed segment on the rest of the audio, until every row has consumed its frames.
        seek = torch.zeros(batch_size, dtype=torch.long)
        if long_form and batch_size > 1:
            total = attention_mask.sum(-1).cpu().to(torch.long)
        else:
            total = torch.full((batch_size,), frames, dtype=torch.long)
        segments: list[list[dict[str, Any]]] = [[] for _ in range(batch_size)]
        user_prompt = kwargs.pop("decoder_input_ids", None)
        outputs: Any = None
        while bool((seek < total).any()):
            rows = [row for row in range(batch_size) if seek[row] < total[row]]
            offsets = seek.to(torch.float64) * time_precision / stride
            frames_left = (total - seek).clamp(max=window)
            step_kwargs = dict(kwargs)
            if input_features is not None:
                step_input = torch.cat(
                    [
                        _window(input_features[row : row + 1], int(seek[row]), int(frames_left[row]), window)
                        for row in rows
                    ]
                )
                if detected_outputs is not None and len(rows) == batch_size and not bool(seek.any()):
                    step_kwargs["encoder_outputs"], step_input = detected_outputs, None
            else:
                step_input = None
            if user_prompt is not None:
                decoder_input_ids, user_prompt = user_prompt, None
            else:
                decoder_input_ids = init_tokens[rows]
                if prompt_ids is not None:
                    decoder_input_ids = torch.cat([prompt_ids[None].repeat(len(rows), 1), decoder_input_ids], dim=-1)
                step_kwargs.pop("decoder_attention_mask", None)
                kwargs.pop("decoder_attention_mask", None)
            self._set_lengths(config, decoder_input_ids)
            for processor in processors:
                if hasattr(processor, "set_begin_index"):
                    processor.set_begin_index(decoder_input_ids.shape[-1])
            outputs = self._generate_window(
                step_input,
                config,
                processors,
                stopping_criteria,
                prefix_allowed_tokens_fn,
                synced_gpus,
                decoder_input_ids,
                host_arguments,
                step_kwargs,
            )
            sequences = outputs if isinstance(outputs, torch.Tensor) else outputs.sequences
            prompt_length = decoder_input_ids.shape[-1]
            for position, row in enumerate(rows):
                tokens = _strip_ending(sequences[position, prompt_length:], config.pad_token_id, config.eos_token_id)
                found, advance = _segments(
                    tokens,
                    sequences[position],
                    timestamp_begin,
                    int(frames_left[row]),
                    float(offsets[row]),
                    stride,
                    time_precision,
                    time_precision_features,
                    prompt_length,
                )
                # A window that ends on a pair at <|0.00|> consumes nothing; rather than decode it again for
                # ever (transformers does), its row is taken as finished.
                seek[row] += advance if advance > 0 else int(frames_left[row])
                segments[row] += found
            if force_unique_generate_call:
                break

        # 5. The output transformers returns for short-form audio.
        if (
            return_dict_in_generate
            and config.return_dict_in_generate
            and (force_unique_generate_call or not return_timestamps)
        ):
            return outputs
        if force_unique_generate_call:
            return outputs if isinstance(outputs, torch.Tensor) else outputs.sequences
        padded = _pad_right([[segment["tokens"] for segment in row] for row in segments], config.pad_token_id)
        if return_dict_in_generate and config.return_dict_in_generate:
            return_segments = True
        if not return_segments:
            return padded
        return {"sequences": padded, "segments": segments}

    def _generate_window(
        self,
        features: torch.Tensor | None,
        config: GenerationConfig,
        processors: list[Any],
        stopping_criteria: Any,
        prefix_allowed_tokens_fn: Any,
        synced_gpus: bool | None,
        decoder_input_ids: torch.Tensor,
        host_arguments: dict[str, Any],
        kwargs: dict[str, Any],
    ) -> Any:
        """One call of the host's encoder-decoder generate(), with Whisper's processors instead of the config's."""
        if config.max_new_tokens is not None and config.max_length is not None:
            config = copy.copy(config)
            config.max_length = None  # max_new_tokens decides; the host would warn about both being set
        overrides: dict[str, Any] = {"suppress_tokens": None, "begin_suppress_tokens": None}
        if getattr(config, "forced_decoder_ids", None) is not None:
            overrides["forced_decoder_ids"] = None  # folded into the prompt
        # The host puts the start token before a prompt that lacks it; Whisper's may begin with <|startofprev|>.
        first_column = decoder_input_ids[:, 0]
        overrides["decoder_start_token_id"] = (
            int(first_column[0]) if bool((first_column == first_column[0]).all()) else first_column.tolist()
        )
        return GenerationMixin.generate(
            self,
            features,
            generation_config=config,
            logits_processor=LogitsProcessorList(processors),
            stopping_criteria=stopping_criteria,
            prefix_allowed_tokens_fn=prefix_allowed_tokens_fn,
            synced_gpus=synced_gpus,
            decoder_input_ids=decoder_input_ids,
            **overrides,
            **host_arguments,
            **kwargs,
        )

    def detect_language(
        self,
        input_features: torch.Tensor | None = None,
        encoder_outputs: Any = None,
        generation_config: GenerationConfig | None = None,
        num_segment_frames: int = 3000,
    ) -> torch.Tensor:
        """The id of the most likely language token for each input, from one decoder step after the start token."""
        if (input_features is None) == (encoder_outputs is None):
            raise GenerationError("detect_language needs exactly one of input_features or encoder_outputs.")
        config = generation_config or self.generation_config
        lang_to_id = getattr(config, "lang_to_id", None)
        if not lang_to_id:
            raise GenerationError(
                "Detecting the language needs lang_to_id in the generation config (a multilingual Whisper "
                "checkpoint's generation_config.json has it). Pass language=... instead."
            )
        if encoder_outputs is None:
            encoder_outputs = self.get_encoder()(input_features[:, :, :num_segment_frames], return_dict=True)
        hidden = encoder_outputs[0] if not isinstance(encoder_outputs, torch.Tensor) else encoder_outputs
        start = torch.full((hidden.shape[0], 1), config.decoder_start_token_id, dtype=torch.long, device=hidden.device)
        with torch.no_grad():
            logits = self(encoder_outputs=encoder_outputs, decoder_input_ids=start, use_cache=False).logits[:, -1]
        allowed = torch.zeros(logits.shape[-1], dtype=torch.bool, device=logits.device)
        allowed[list(lang_to_id.values())] = True
        return logits.masked_fill(~allowed, -float("inf")).argmax(dim=-1)

    # -- the prompt -------------------------------------------------------------------------------------

    def _decoder_prompt(
        self, config: GenerationConfig, input_features: torch.Tensor | None, encoder_outputs: Any, batch_size: int
    ) -> tuple[torch.Tensor, Any]:
        """``<|startoftranscript|> <|lang|> <|task|> [<|notimestamps|>]`` per row, and the encoder outputs if run."""
        task = getattr(config, "task", None)
        language = getattr(config, "language", None)
        prompt: list[int | None] = [config.decoder_start_token_id]
        if task is None and language is None:
            forced = getattr(config, "forced_decoder_ids", None)
            if forced is None:
                forced = getattr(self.config, "forced_decoder_ids", None)
            if forced:
                # Older checkpoints spell the prompt as forced tokens at positions 1, 2, ...
                position = 1
                while forced and forced[0][0] == position:
                    prompt.append(forced[0][1])
                    forced = forced[1:]
                    position += 1
                if forced:
                    raise GenerationError(
                        f"forced_decoder_ids {forced} do not continue Whisper's prompt (positions 1, 2, ... in "
                        "order). Use language= and task= instead."
                    )
        language_missing = len(prompt) <= 1 or prompt[1] is None
        if isinstance(language, (list, tuple)):
            if any(item is None for item in language):
                raise GenerationError("language is a string, or a list of strings (one per row) without None.")
            if len(language) != batch_size:
                raise GenerationError(
                    f"language lists {len(language)} languages for a batch of {batch_size}: give one per row."
                )
            languages = list(language)
        else:
            languages = [language] if language is not None else [None] * batch_size
        rows = [list(prompt) for _ in languages]
        language_ids: list[int] | None = None
        if language is not None:
            language_ids = [_language_id(config, item) for item in languages]
        elif getattr(config, "lang_to_id", None) and language_missing:
            if encoder_outputs is None:
                encoder_outputs = self.get_encoder()(input_features, return_dict=True)
            language_ids = self.detect_language(encoder_outputs=encoder_outputs, generation_config=config).tolist()
        if language_ids is not None:
            for row, language_id in zip(rows, language_ids):
                if len(row) > 1:
                    row[1] = language_id
                else:
                    row.append(language_id)
        task_to_id = getattr(config, "task_to_id", None)
        no_timestamps = getattr(config, "no_timestamps_token_id", None)
        for index, row in enumerate(rows):
            if task is not None:
                if task not in TASKS:
                    raise GenerationError(f"Unsupported Whisper task {task!r}: use 'transcribe' or 'translate'.")
                row.append(task_to_id[task])
            elif language is not None and task_to_id and not any(task_id in row for task_id in task_to_id.values()):
                row.append(task_to_id["transcribe"])
            if not config.return_timestamps and no_timestamps is not None and row[-1] != no_timestamps:
                row.append(no_timestamps)
            elif config.return_timestamps and row[-1] == no_timestamps:
                row.pop()
            rows[index] = [token for token in row if token is not None]
        device = self.device
        tokens = torch.as_tensor(rows, dtype=torch.long, device=device)
        return tokens.expand(batch_size, -1), encoder_outputs

    def _set_lengths(self, config: GenerationConfig, decoder_input_ids: torch.Tensor) -> None:
        """Room for the prompt within the decoder's ``max_target_positions``, as transformers counts it."""
        limit = self.config.max_target_positions
        prompt_length = decoder_input_ids.shape[-1]
        new_tokens = config.max_new_tokens or 0
        if new_tokens + prompt_length > limit:
            raise GenerationError(
                f"The decoder prompt is {prompt_length} tokens (start, language, task and prompt_ids) and "
                f"max_new_tokens is {new_tokens}: together more than Whisper's max_target_positions ({limit}). "
                "Shorten the prompt or lower max_new_tokens."
            )
        if config.max_length is not None and config.max_new_tokens is None:
            initial = min(limit // 2 - 1, prompt_length)
            config.max_length = min(config.max_length + initial, limit)


# -- helpers ---------------------------------------------------------------------------------------------


def _refuse_unsupported(**arguments: Any) -> None:
    reasons = {
        "return_token_timestamps": "token-level timestamps (cross-attention alignment) are not implemented",
        "compression_ratio_threshold": "temperature fallback is not implemented",
        "logprob_threshold": "temperature fallback is not implemented",
        "no_speech_threshold": "no-speech detection is not implemented",
        "condition_on_prev_tokens": "conditioning on previous windows belongs to long-form decoding, not implemented",
        "prompt_condition_type": "prompt conditioning across windows belongs to long-form decoding, not implemented",
    }
    for name, value in arguments.items():
        if value in (None, False) or (name == "prompt_condition_type" and value == "first-segment"):
            continue
        raise GenerationError(f"Whisper's generate() got {name}={value!r}, but {reasons[name]}. Leave it unset.")


def _set_language_and_task(config: GenerationConfig, language: Any, task: Any, is_multilingual: bool | None) -> None:
    if is_multilingual is not None:
        if not hasattr(config, "is_multilingual"):
            raise GenerationError(
                "is_multilingual= needs a Whisper generation config that has is_multilingual (generation_config.json "
                "of a Whisper checkpoint)."
            )
        config.is_multilingual = is_multilingual
    if hasattr(config, "is_multilingual") and not config.is_multilingual and (task is not None or language is not None):
        raise GenerationError(
            "This Whisper model is English-only (is_multilingual is false): it takes no language= or task=. "
            "Pass is_multilingual=True if the model is in fact multilingual."
        )
    if language is not None:
        if not getattr(config, "lang_to_id", None):
            raise GenerationError(
                "language= needs lang_to_id in the generation config (generation_config.json of a multilingual "
                "Whisper checkpoint has it)."
            )
        config.language = language
    if task is not None:
        if not getattr(config, "task_to_id", None):
            raise GenerationError(
                "task= needs task_to_id in the generation config (generation_config.json of a multilingual "
                "Whisper checkpoint has it)."
            )
        config.task = task


def _language_id(config: GenerationConfig, language: str) -> int:
    """The token id of a language given as ``"<|fr|>"``, ``"fr"`` or ``"french"``."""
    wanted = language.lower()
    lang_to_id = config.lang_to_id
    if wanted in lang_to_id:
        token = wanted
    elif wanted in TO_LANGUAGE_CODE:
        token = f"<|{TO_LANGUAGE_CODE[wanted]}|>"
    elif wanted in LANGUAGES:
        token = f"<|{wanted}|>"
    else:
        known = sorted(LANGUAGES) if len(wanted) <= 3 else sorted(TO_LANGUAGE_CODE)
        raise GenerationError(f"Unsupported Whisper language {language!r}. Use one of: {', '.join(known)}.")
    if token not in lang_to_id:
        raise GenerationError(
            f"This model's generation config has no {token} in lang_to_id, so it cannot be asked for {language!r}."
        )
    return int(lang_to_id[token])


def _whisper_processors(config: GenerationConfig, custom: Any, begin_index: int, device: torch.device) -> list[Any]:
    """Whisper's processors before the caller's: begin-suppress, suppress, timestamps (the config's are cleared)."""
    processors: list[Any] = list(custom or [])
    if config.return_timestamps is True:
        processors.insert(0, WhisperTimeStampLogitsProcessor(config, begin_index=begin_index))
    if config.suppress_tokens is not None:
        processors.insert(0, SuppressTokensLogitsProcessor(config.suppress_tokens, device=device))
        config.suppress_tokens = None
    if config.begin_suppress_tokens is not None:
        processors.insert(
            0,
            SuppressTokensAtBeginLogitsProcessor(config.begin_suppress_tokens, begin_index=begin_index, device=device),
        )
        config.begin_suppress_tokens = None
    return processors


def _repeat_encoder_outputs(encoder_outputs: Any, copies: int) -> Any:
    if isinstance(encoder_outputs, torch.Tensor):
        return encoder_outputs.repeat_interleave(copies, dim=0)
    repeated = copy.copy(encoder_outputs)
    if not isinstance(repeated, BaseModelOutput):
        repeated = BaseModelOutput(last_hidden_state=encoder_outputs[0])
    for key in list(repeated.keys()):
        value = repeated[key]
        if isinstance(value, torch.Tensor):
            repeated[key] = value.repeat_interleave(copies, dim=0)
    return repeated


def _strip_ending(tokens: torch.Tensor, pad: Any, eos: Any) -> torch.Tensor:
    """Drop the padding after a finished row and its end-of-text token (transformers' counting kept)."""
    if tokens.numel() and pad is not None and tokens[-1] == pad:
        paddings = int((tokens == pad).sum())
        if pad == eos:
            paddings -= 1  # the end-of-text token itself
        if paddings:
            tokens = tokens[:-paddings]
    eos_ids = eos if isinstance(eos, (list, tuple)) else [eos]
    if tokens.numel() and eos is not None and int(tokens[-1]) in eos_ids:
        tokens = tokens[:-1]
    return tokens


def _window(features: torch.Tensor, start: int, count: int, window: int) -> torch.Tensor:
    """``count`` frames of the features from ``start``, zero-padded to a full window."""
    piece = features[:, :, start : start + count]
    return F.pad(piece, (0, window - piece.shape[-1])) if piece.shape[-1] < window else piece


def _segments(
    tokens: torch.Tensor,
    row: torch.Tensor,
    timestamp_begin: int,
    frames_left: int,
    offset: float,
    stride: int,
    time_precision: float,
    time_precision_features: float,
    prompt_length: int,
) -> tuple[list[dict[str, Any]], int]:
    """Split one window's tokens at its timestamp pairs; returns the segments and the frames they consumed.

    A row that ends inside a segment (a pair of timestamps, then more text)
    keeps only its closed segments and consumes frames up to their end, so
    that decoding resumes there.
    """
    is_time = [token >= timestamp_begin for token in tokens.tolist()]
    lone_ending = is_time[-2:] == [False, True]
    cuts = [i + 1 for i in range(len(is_time) - 1) if is_time[i] and is_time[i + 1]]
    float_type = torch.float64 if tokens.device.type != "mps" else torch.float32
    start_time = torch.tensor(offset, dtype=float_type, device=tokens.device)

    def seconds(token: torch.Tensor) -> torch.Tensor:
        return start_time + (token - timestamp_begin).to(float_type) * time_precision

    if not cuts:
        positions = [i for i, flag in enumerate(is_time) if flag]
        end: Any = start_time + int(frames_left * time_precision_features / time_precision) * time_precision
        if positions and tokens[positions[-1]] != timestamp_begin:
            end = seconds(tokens[positions[-1]])
        segment = {"start": start_time, "end": end, "tokens": tokens, "result": row}
        segment["idxs"] = (prompt_length, prompt_length + len(tokens))
        return [segment], frames_left
    if lone_ending:
        cuts.append(len(tokens))
    else:
        cuts[-1] += 1  # keep the closing timestamp of the last complete segment
    segments = []
    start_at = 0
    for number, cut in enumerate(cuts):
        piece = tokens[start_at:cut]
        closing = -1 if number < len(cuts) - 1 or lone_ending else -2
        segments.append(
            {
                "start": seconds(piece[0]),
                "end": seconds(piece[closing]),
                "tokens": piece,
                "idxs": (prompt_length + start_at, prompt_length + cut),
                "result": row,
            }
        )
        start_at = cut
    if lone_ending:
        return segments, frames_left
    return segments, int(tokens[start_at - 2] - timestamp_begin) * stride


def _pad_right(rows: list[list[torch.Tensor]], pad: Any) -> torch.Tensor:
    joined = [torch.cat(pieces, dim=-1) if pieces else torch.zeros(0, dtype=torch.long) for pieces in rows]
    longest = max((len(row) for row in joined), default=0)
    fill = int(pad) if pad is not None else 0
    return torch.stack([F.pad(row, (0, longest - len(row)), value=fill) for row in joined])


__all__ = ["WhisperGenerationMixin", "WhisperTimeStampLogitsProcessor"]
