"""The model runtime: :class:`PreTrainedModel`, the output classes, and the shared layers.

- :mod:`autoload.modeling.pretrained`: ``PreTrainedModel`` (loading, saving, tying, resizing, checkpointing);
- :mod:`autoload.modeling.loading`: the phases of loading a checkpoint into a meta-built model;
- :mod:`autoload.modeling.weight_layout`: the output projection's memory order on the CPU (column-major in float32);
- :mod:`autoload.modeling.layers`: activations, masks, attention, rotary embeddings, norms, losses.

Every :class:`~autoload.outputs.ModelOutput` class of :mod:`autoload.outputs`
is importable from here too.
"""

from __future__ import annotations

from autoload import outputs as _outputs
from autoload.modeling._meta import _building_on_meta, _parameters_on_meta  # noqa: F401  (tests, tools)
from autoload.modeling.loading import ATTN_IMPLEMENTATIONS
from autoload.modeling.pretrained import PreTrainedModel
from autoload.outputs import (
    BaseModelOutput,
    BaseModelOutputWithPooling,
    BaseModelOutputWithPoolingAndCrossAttentions,
    CausalLMOutput,
    CausalLMOutputWithCrossAttentions,
    ImageClassifierOutput,
    MaskedImageModelingOutput,
    MaskedLMOutput,
    ModelOutput,
    MultipleChoiceModelOutput,
    NextSentencePredictorOutput,
    QuestionAnsweringModelOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)

# Every output class of autoload.outputs is available from here too, including
# ones added after this list was written.
for _name, _value in vars(_outputs).items():
    if isinstance(_value, type) and issubclass(_value, ModelOutput):
        globals().setdefault(_name, _value)

__all__ = [
    "ATTN_IMPLEMENTATIONS",
    "BaseModelOutput",
    "BaseModelOutputWithPooling",
    "BaseModelOutputWithPoolingAndCrossAttentions",
    "CausalLMOutput",
    "CausalLMOutputWithCrossAttentions",
    "ImageClassifierOutput",
    "MaskedImageModelingOutput",
    "MaskedLMOutput",
    "ModelOutput",
    "MultipleChoiceModelOutput",
    "NextSentencePredictorOutput",
    "PreTrainedModel",
    "QuestionAnsweringModelOutput",
    "SequenceClassifierOutput",
    "TokenClassifierOutput",
]
__all__ += sorted(
    name
    for name, value in vars(_outputs).items()
    if isinstance(value, type) and issubclass(value, ModelOutput) and name not in __all__
)
