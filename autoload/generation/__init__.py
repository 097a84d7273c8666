"""Generation for every model that can generate: GenerationConfig, KV caches, ``generate()`` and its parts.

Names are imported on first touch: ``GenerationConfig`` costs no torch, the
rest imports torch when used.  A causal-LM head gets ``generate()`` by
inheriting :class:`GenerationMixin`::

    class NewModelForCausalLM(NewModelPreTrainedModel, GenerationMixin): ...
"""

from __future__ import annotations

import importlib

_CACHE = ("Cache", "DynamicCache", "DynamicLayer", "EncoderDecoderCache", "StaticCache", "StaticLayer")
_PROCESSORS = (
    "LogitsProcessor",
    "LogitsProcessorList",
    "TemperatureLogitsWarper",
    "TopKLogitsWarper",
    "TopPLogitsWarper",
    "MinPLogitsWarper",
    "TypicalLogitsWarper",
    "RepetitionPenaltyLogitsProcessor",
    "NoRepeatNGramLogitsProcessor",
    "NoBadWordsLogitsProcessor",
    "MinLengthLogitsProcessor",
    "MinNewTokensLengthLogitsProcessor",
    "ForcedBOSTokenLogitsProcessor",
    "ForcedEOSTokenLogitsProcessor",
    "SuppressTokensLogitsProcessor",
    "SuppressTokensAtBeginLogitsProcessor",
    "InfNanRemoveLogitsProcessor",
    "LogitNormalizationProcessor",
    "LogitsWarper",
    "SequenceBiasLogitsProcessor",
)
_STOPPING = (
    "StoppingCriteria",
    "StoppingCriteriaList",
    "MaxLengthCriteria",
    "MaxTimeCriteria",
    "EosTokenCriteria",
    "StopStringCriteria",
)
_OUTPUTS = (
    "GenerateDecoderOnlyOutput",
    "GenerateEncoderDecoderOutput",
    "GenerateBeamDecoderOnlyOutput",
    "GenerateBeamEncoderDecoderOutput",
)

_LAZY: dict[str, str] = {
    "GenerationConfig": "autoload.generation.config",
    **dict.fromkeys(_CACHE, "autoload.generation.cache"),
    **dict.fromkeys(_PROCESSORS, "autoload.generation.logits_process"),
    **dict.fromkeys(_STOPPING, "autoload.generation.stopping_criteria"),
    "BaseStreamer": "autoload.generation.streamers",
    "TextStreamer": "autoload.generation.streamers",
    "TextIteratorStreamer": "autoload.generation.streamers",
    **dict.fromkeys(_OUTPUTS, "autoload.generation.outputs"),
    "GenerationMixin": "autoload.generation.utils",
    "ForceTokensLogitsProcessor": "autoload.generation.utils",
    "PrefixConstrainedLogitsProcessor": "autoload.generation.utils",
    "GENERATION_CONFIG_NAME": "autoload.generation.config",
}


def __getattr__(name: str) -> object:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'autoload.generation' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = sorted(_LAZY)
