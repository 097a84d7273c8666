"""Model outputs: named fields that also index like a tuple, as transformers users expect.

A field left at ``None`` is absent: it is not a key and takes no tuple slot, so
``outputs[0]`` is the first field the model actually returned (``loss`` when
labels were given, else ``logits``), exactly as with transformers.  Plugins
declare their outputs as dataclasses deriving from :class:`ModelOutput`; the
common shapes are defined here once.

The key/value cache travels in a field named ``cache`` (transformers 5 renamed
it from ``past_key_values``).  Code written for the older name keeps working:
``past_key_values=`` is accepted by every output's constructor, and
``output.past_key_values`` / ``output["past_key_values"]`` read ``cache``.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from dataclasses import dataclass, fields
from typing import Any

# Older names of the ``cache`` field, still understood on the way in and out.
_CACHE_ALIASES = ("past_key_values", "cache_params")


def _field_name(key: str) -> str:
    return "cache" if key in _CACHE_ALIASES else key


def _accept_old_cache_names(init: Any) -> Any:
    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        for alias in _CACHE_ALIASES:
            if alias in kwargs:
                if "cache" in kwargs:
                    raise TypeError(
                        f"{type(self).__name__} got both `cache` and `{alias}` (an older name of the same field); "
                        "pass only `cache`."
                    )
                kwargs["cache"] = kwargs.pop(alias)
        init(self, *args, **kwargs)

    return __init__


class _ModelOutputMeta(type):
    # ``@dataclass`` installs ``__init__`` with setattr after the class exists, so
    # wrapping happens here: every subclass, including plugins' own, takes the
    # older cache names without having to remember to.
    def __setattr__(cls, name: str, value: Any) -> None:
        if name == "__init__" and any(f == "cache" for f in getattr(cls, "__dataclass_fields__", {})):
            value = _accept_old_cache_names(value)
        super().__setattr__(name, value)


class ModelOutput(OrderedDict, metaclass=_ModelOutputMeta):
    def __post_init__(self) -> None:
        declared = fields(self)  # type: ignore[arg-type]
        first = getattr(self, declared[0].name) if declared else None
        if isinstance(first, dict) and all(getattr(self, field.name) is None for field in declared[1:]):
            # Built from one dict of its fields, as code that rebuilds mappings does (accelerate's
            # send_to_device moving a dispatched model's outputs: ``type(output)({key: moved, ...})``).
            object.__setattr__(self, declared[0].name, None)
            for key, value in first.items():
                object.__setattr__(self, _field_name(key), value)
        for field in declared:
            value = getattr(self, field.name)
            if value is not None:
                OrderedDict.__setitem__(self, field.name, value)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return OrderedDict.__getitem__(self, _field_name(key))
        return self.to_tuple()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        key = _field_name(key)
        OrderedDict.__setitem__(self, key, value)
        object.__setattr__(self, key, value)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _CACHE_ALIASES:
            name = "cache"
        if name in self.keys() and value is not None:
            OrderedDict.__setitem__(self, name, value)
        object.__setattr__(self, name, value)

    def __contains__(self, key: object) -> bool:
        return OrderedDict.__contains__(self, _field_name(key) if isinstance(key, str) else key)

    def get(self, key: Any, default: Any = None) -> Any:
        return OrderedDict.get(self, _field_name(key) if isinstance(key, str) else key, default)

    @property
    def past_key_values(self) -> Any:
        """The ``cache`` field under its pre-transformers-5 name."""
        return getattr(self, "cache", None)

    @property
    def cache_params(self) -> Any:
        """The ``cache`` field under the name state-space models used."""
        return getattr(self, "cache", None)

    def __iter__(self):  # type: ignore[override]
        # Iterating yields keys, as a dict does (transformers behaves the same).
        return OrderedDict.__iter__(self)

    def to_tuple(self) -> tuple[Any, ...]:
        return tuple(self[key] for key in self.keys())

    def __reduce__(self):  # type: ignore[override]
        state = {field.name: getattr(self, field.name) for field in fields(self)}  # type: ignore[arg-type]
        return (_rebuild_output, (type(self), state))


def _rebuild_output(cls: type[ModelOutput], state: dict[str, Any]) -> ModelOutput:
    return cls(**state)


@dataclass(repr=False)
class BaseModelOutput(ModelOutput):
    last_hidden_state: Any = None
    hidden_states: Any = None
    attentions: Any = None


@dataclass(repr=False)
class BaseModelOutputWithPooling(ModelOutput):
    last_hidden_state: Any = None
    pooler_output: Any = None
    hidden_states: Any = None
    attentions: Any = None


@dataclass(repr=False)
class BaseModelOutputWithPoolingAndCrossAttentions(ModelOutput):
    last_hidden_state: Any = None
    pooler_output: Any = None
    hidden_states: Any = None
    cache: Any = None
    attentions: Any = None
    cross_attentions: Any = None


@dataclass(repr=False)
class MaskedLMOutput(ModelOutput):
    loss: Any = None
    logits: Any = None
    hidden_states: Any = None
    attentions: Any = None


@dataclass(repr=False)
class CausalLMOutputWithCrossAttentions(ModelOutput):
    loss: Any = None
    logits: Any = None
    cache: Any = None
    hidden_states: Any = None
    attentions: Any = None
    cross_attentions: Any = None


@dataclass(repr=False)
class SequenceClassifierOutput(ModelOutput):
    loss: Any = None
    logits: Any = None
    hidden_states: Any = None
    attentions: Any = None


@dataclass(repr=False)
class NextSentencePredictorOutput(ModelOutput):
    loss: Any = None
    logits: Any = None
    hidden_states: Any = None
    attentions: Any = None


@dataclass(repr=False)
class MultipleChoiceModelOutput(ModelOutput):
    loss: Any = None
    logits: Any = None
    hidden_states: Any = None
    attentions: Any = None


@dataclass(repr=False)
class TokenClassifierOutput(ModelOutput):
    loss: Any = None
    logits: Any = None
    hidden_states: Any = None
    attentions: Any = None


@dataclass(repr=False)
class QuestionAnsweringModelOutput(ModelOutput):
    loss: Any = None
    start_logits: Any = None
    end_logits: Any = None
    hidden_states: Any = None
    attentions: Any = None


@dataclass(repr=False)
class ImageClassifierOutput(ModelOutput):
    loss: Any = None
    logits: Any = None
    hidden_states: Any = None
    attentions: Any = None


@dataclass(repr=False)
class MaskedImageModelingOutput(ModelOutput):
    loss: Any = None
    reconstruction: Any = None
    hidden_states: Any = None
    attentions: Any = None


@dataclass(repr=False)
class CausalLMOutput(ModelOutput):
    loss: Any = None
    logits: Any = None
    hidden_states: Any = None
    attentions: Any = None


@dataclass(repr=False)
class BaseModelOutputWithPast(ModelOutput):
    last_hidden_state: Any = None
    cache: Any = None
    hidden_states: Any = None
    attentions: Any = None


@dataclass(repr=False)
class BaseModelOutputWithPastAndCrossAttentions(ModelOutput):
    last_hidden_state: Any = None
    cache: Any = None
    hidden_states: Any = None
    attentions: Any = None
    cross_attentions: Any = None


@dataclass(repr=False)
class CausalLMOutputWithPast(ModelOutput):
    loss: Any = None
    logits: Any = None
    cache: Any = None
    hidden_states: Any = None
    attentions: Any = None


@dataclass(repr=False)
class SequenceClassifierOutputWithPast(ModelOutput):
    loss: Any = None
    logits: Any = None
    cache: Any = None
    hidden_states: Any = None
    attentions: Any = None


@dataclass(repr=False)
class Seq2SeqModelOutput(ModelOutput):
    last_hidden_state: Any = None
    cache: Any = None
    decoder_hidden_states: Any = None
    decoder_attentions: Any = None
    cross_attentions: Any = None
    encoder_last_hidden_state: Any = None
    encoder_hidden_states: Any = None
    encoder_attentions: Any = None


@dataclass(repr=False)
class Seq2SeqLMOutput(ModelOutput):
    loss: Any = None
    logits: Any = None
    cache: Any = None
    decoder_hidden_states: Any = None
    decoder_attentions: Any = None
    cross_attentions: Any = None
    encoder_last_hidden_state: Any = None
    encoder_hidden_states: Any = None
    encoder_attentions: Any = None


@dataclass(repr=False)
class Seq2SeqSequenceClassifierOutput(ModelOutput):
    loss: Any = None
    logits: Any = None
    cache: Any = None
    decoder_hidden_states: Any = None
    decoder_attentions: Any = None
    cross_attentions: Any = None
    encoder_last_hidden_state: Any = None
    encoder_hidden_states: Any = None
    encoder_attentions: Any = None


@dataclass(repr=False)
class Seq2SeqQuestionAnsweringModelOutput(ModelOutput):
    loss: Any = None
    start_logits: Any = None
    end_logits: Any = None
    cache: Any = None
    decoder_hidden_states: Any = None
    decoder_attentions: Any = None
    cross_attentions: Any = None
    encoder_last_hidden_state: Any = None
    encoder_hidden_states: Any = None
    encoder_attentions: Any = None
