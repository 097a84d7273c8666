"""autoload: Hugging Face style Auto classes, every architecture an installable plugin.

Public names are imported on first touch (PEP 562), so ``import autoload``
costs almost nothing: no torch, numpy, tokenizers, safetensors,
huggingface_hub, PIL, pluggy or ``importlib.metadata``.

``from autoload import *`` binds every name that works with autoload-core
alone (the Auto classes, configs, declarations, processing bases, errors).
The base classes that need an optional dependency, ``PreTrainedModel``
(torch) and ``PreTrainedTokenizer`` / ``BatchEncoding`` (tokenizers), are
imported by name: ``from autoload import PreTrainedModel``.
"""

from __future__ import annotations

import importlib

from autoload.__about__ import __version__

TYPE_CHECKING = False  # avoids importing typing: import time is a feature here

_ERRORS = (
    "AutoloadError",
    "CheckpointError",
    "ClassResolutionError",
    "ConfigError",
    "FileResolutionError",
    "GenerationError",
    "InvalidArchitectureError",
    "ModelInputError",
    "ParallelismError",
    "PluginConflictError",
    "PluginLoadError",
    "ProcessingError",
    "RegistrationError",
    "RemoteCodeError",
    "SaveError",
    "TaskNotSupportedError",
    "UnknownModelTypeError",
    "UnknownTaskError",
    "UnsafeCheckpointError",
)

#: AutoModel and every AutoModelFor<Task> (autoload/auto/models.py writes one class per row of autoload/tasks.py).
_AUTO_MODELS = (
    "AutoModel",
    "AutoModelForPreTraining",
    "AutoModelForCausalLM",
    "AutoModelForMaskedLM",
    "AutoModelForMaskGeneration",
    "AutoModelForSeq2SeqLM",
    "AutoModelForSequenceClassification",
    "AutoModelForMultipleChoice",
    "AutoModelForNextSentencePrediction",
    "AutoModelForTokenClassification",
    "AutoModelForQuestionAnswering",
    "AutoModelForTextEncoding",
    "AutoModelForDepthEstimation",
    "AutoModelForImageClassification",
    "AutoModelForVideoClassification",
    "AutoModelForMaskedImageModeling",
    "AutoModelForObjectDetection",
    "AutoModelForImageSegmentation",
    "AutoModelForImageToImage",
    "AutoModelForSemanticSegmentation",
    "AutoModelForInstanceSegmentation",
    "AutoModelForUniversalSegmentation",
    "AutoModelForZeroShotImageClassification",
    "AutoModelForZeroShotObjectDetection",
    "AutoModelForAudioClassification",
    "AutoModelForAudioFrameClassification",
    "AutoModelForCTC",
    "AutoModelForSpeechSeq2Seq",
    "AutoModelForAudioXVector",
    "AutoModelForTextToSpectrogram",
    "AutoModelForTextToWaveform",
    "AutoModelForTableQuestionAnswering",
    "AutoModelForDocumentQuestionAnswering",
    "AutoModelForVisualQuestionAnswering",
    "AutoModelForImageTextToText",
    "AutoModelForTimeSeriesPrediction",
    "AutoModelForVision2Seq",
)

#: Names that need nothing beyond autoload-core's own dependencies.
_LAZY: dict[str, str] = {
    "AutoConfig": "autoload.auto.configuration",
    "AutoTokenizer": "autoload.auto.processing",
    "AutoImageProcessor": "autoload.auto.processing",
    "AutoFeatureExtractor": "autoload.auto.processing",
    "AutoProcessor": "autoload.auto.processing",
    "PretrainedConfig": "autoload.configuration",
    "PreTrainedConfig": "autoload.configuration",
    "Architecture": "autoload.architecture",
    "hookimpl": "autoload.hookspecs",
    "hookspec": "autoload.hookspecs",
    "ModelOutput": "autoload.outputs",
    "BatchFeature": "autoload.batch",
    "BaseImageProcessor": "autoload.processing",
    "SequenceFeatureExtractor": "autoload.processing",
    "ProcessorMixin": "autoload.processing",
    **{name: "autoload.errors" for name in _ERRORS},
    **{name: "autoload.auto.models" for name in _AUTO_MODELS},
}
#: Names whose modules need an optional dependency (torch, tokenizers): importable by name, left out of ``*``.
_LAZY_OPTIONAL: dict[str, str] = {
    "PreTrainedModel": "autoload.modeling",
    "PreTrainedTokenizer": "autoload.tokenization",
    "BatchEncoding": "autoload.tokenization",
}


def __getattr__(name: str) -> object:
    module_name = _LAZY.get(name) or _LAZY_OPTIONAL.get(name)
    if module_name is None:
        raise AttributeError(f"module 'autoload' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_LAZY_OPTIONAL))


# Written out (not computed) so that type checkers read it; tests/test_auto_classes.py checks it against _LAZY.
__all__ = [
    "__version__",
    "Architecture",
    "AutoConfig",
    "AutoFeatureExtractor",
    "AutoImageProcessor",
    "AutoProcessor",
    "AutoTokenizer",
    "BaseImageProcessor",
    "BatchFeature",
    "ModelOutput",
    "PreTrainedConfig",
    "PretrainedConfig",
    "ProcessorMixin",
    "SequenceFeatureExtractor",
    "hookimpl",
    "hookspec",
    "AutoloadError",
    "CheckpointError",
    "ClassResolutionError",
    "ConfigError",
    "FileResolutionError",
    "GenerationError",
    "InvalidArchitectureError",
    "ModelInputError",
    "ParallelismError",
    "PluginConflictError",
    "PluginLoadError",
    "ProcessingError",
    "RegistrationError",
    "RemoteCodeError",
    "SaveError",
    "TaskNotSupportedError",
    "UnknownModelTypeError",
    "UnknownTaskError",
    "UnsafeCheckpointError",
    "AutoModel",
    "AutoModelForPreTraining",
    "AutoModelForCausalLM",
    "AutoModelForMaskedLM",
    "AutoModelForMaskGeneration",
    "AutoModelForSeq2SeqLM",
    "AutoModelForSequenceClassification",
    "AutoModelForMultipleChoice",
    "AutoModelForNextSentencePrediction",
    "AutoModelForTokenClassification",
    "AutoModelForQuestionAnswering",
    "AutoModelForTextEncoding",
    "AutoModelForDepthEstimation",
    "AutoModelForImageClassification",
    "AutoModelForVideoClassification",
    "AutoModelForMaskedImageModeling",
    "AutoModelForObjectDetection",
    "AutoModelForImageSegmentation",
    "AutoModelForImageToImage",
    "AutoModelForSemanticSegmentation",
    "AutoModelForInstanceSegmentation",
    "AutoModelForUniversalSegmentation",
    "AutoModelForZeroShotImageClassification",
    "AutoModelForZeroShotObjectDetection",
    "AutoModelForAudioClassification",
    "AutoModelForAudioFrameClassification",
    "AutoModelForCTC",
    "AutoModelForSpeechSeq2Seq",
    "AutoModelForAudioXVector",
    "AutoModelForTextToSpectrogram",
    "AutoModelForTextToWaveform",
    "AutoModelForTableQuestionAnswering",
    "AutoModelForDocumentQuestionAnswering",
    "AutoModelForVisualQuestionAnswering",
    "AutoModelForImageTextToText",
    "AutoModelForTimeSeriesPrediction",
    "AutoModelForVision2Seq",
]


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from autoload.architecture import Architecture as Architecture
    from autoload.auto.configuration import AutoConfig as AutoConfig
    from autoload.auto.models import AutoModel as AutoModel
    from autoload.auto.models import AutoModelForAudioClassification as AutoModelForAudioClassification
    from autoload.auto.models import AutoModelForAudioFrameClassification as AutoModelForAudioFrameClassification
    from autoload.auto.models import AutoModelForAudioXVector as AutoModelForAudioXVector
    from autoload.auto.models import AutoModelForCausalLM as AutoModelForCausalLM
    from autoload.auto.models import AutoModelForCTC as AutoModelForCTC
    from autoload.auto.models import AutoModelForDepthEstimation as AutoModelForDepthEstimation
    from autoload.auto.models import AutoModelForDocumentQuestionAnswering as AutoModelForDocumentQuestionAnswering
    from autoload.auto.models import AutoModelForImageClassification as AutoModelForImageClassification
    from autoload.auto.models import AutoModelForImageSegmentation as AutoModelForImageSegmentation
    from autoload.auto.models import AutoModelForImageTextToText as AutoModelForImageTextToText
    from autoload.auto.models import AutoModelForImageToImage as AutoModelForImageToImage
    from autoload.auto.models import AutoModelForInstanceSegmentation as AutoModelForInstanceSegmentation
    from autoload.auto.models import AutoModelForMaskedImageModeling as AutoModelForMaskedImageModeling
    from autoload.auto.models import AutoModelForMaskedLM as AutoModelForMaskedLM
    from autoload.auto.models import AutoModelForMaskGeneration as AutoModelForMaskGeneration
    from autoload.auto.models import AutoModelForMultipleChoice as AutoModelForMultipleChoice
    from autoload.auto.models import AutoModelForNextSentencePrediction as AutoModelForNextSentencePrediction
    from autoload.auto.models import AutoModelForObjectDetection as AutoModelForObjectDetection
    from autoload.auto.models import AutoModelForPreTraining as AutoModelForPreTraining
    from autoload.auto.models import AutoModelForQuestionAnswering as AutoModelForQuestionAnswering
    from autoload.auto.models import AutoModelForSemanticSegmentation as AutoModelForSemanticSegmentation
    from autoload.auto.models import AutoModelForSeq2SeqLM as AutoModelForSeq2SeqLM
    from autoload.auto.models import AutoModelForSequenceClassification as AutoModelForSequenceClassification
    from autoload.auto.models import AutoModelForSpeechSeq2Seq as AutoModelForSpeechSeq2Seq
    from autoload.auto.models import AutoModelForTableQuestionAnswering as AutoModelForTableQuestionAnswering
    from autoload.auto.models import AutoModelForTextEncoding as AutoModelForTextEncoding
    from autoload.auto.models import AutoModelForTextToSpectrogram as AutoModelForTextToSpectrogram
    from autoload.auto.models import AutoModelForTextToWaveform as AutoModelForTextToWaveform
    from autoload.auto.models import AutoModelForTimeSeriesPrediction as AutoModelForTimeSeriesPrediction
    from autoload.auto.models import AutoModelForTokenClassification as AutoModelForTokenClassification
    from autoload.auto.models import AutoModelForUniversalSegmentation as AutoModelForUniversalSegmentation
    from autoload.auto.models import AutoModelForVideoClassification as AutoModelForVideoClassification
    from autoload.auto.models import AutoModelForVision2Seq as AutoModelForVision2Seq
    from autoload.auto.models import AutoModelForVisualQuestionAnswering as AutoModelForVisualQuestionAnswering
    from autoload.auto.models import AutoModelForZeroShotImageClassification as AutoModelForZeroShotImageClassification
    from autoload.auto.models import AutoModelForZeroShotObjectDetection as AutoModelForZeroShotObjectDetection
    from autoload.auto.processing import AutoFeatureExtractor as AutoFeatureExtractor
    from autoload.auto.processing import AutoImageProcessor as AutoImageProcessor
    from autoload.auto.processing import AutoProcessor as AutoProcessor
    from autoload.auto.processing import AutoTokenizer as AutoTokenizer
    from autoload.batch import BatchFeature as BatchFeature
    from autoload.configuration import PreTrainedConfig as PreTrainedConfig
    from autoload.configuration import PretrainedConfig as PretrainedConfig
    from autoload.errors import AutoloadError as AutoloadError
    from autoload.errors import CheckpointError as CheckpointError
    from autoload.errors import ClassResolutionError as ClassResolutionError
    from autoload.errors import ConfigError as ConfigError
    from autoload.errors import FileResolutionError as FileResolutionError
    from autoload.errors import GenerationError as GenerationError
    from autoload.errors import InvalidArchitectureError as InvalidArchitectureError
    from autoload.errors import ModelInputError as ModelInputError
    from autoload.errors import ParallelismError as ParallelismError
    from autoload.errors import PluginConflictError as PluginConflictError
    from autoload.errors import PluginLoadError as PluginLoadError
    from autoload.errors import ProcessingError as ProcessingError
    from autoload.errors import RegistrationError as RegistrationError
    from autoload.errors import RemoteCodeError as RemoteCodeError
    from autoload.errors import SaveError as SaveError
    from autoload.errors import TaskNotSupportedError as TaskNotSupportedError
    from autoload.errors import UnknownModelTypeError as UnknownModelTypeError
    from autoload.errors import UnknownTaskError as UnknownTaskError
    from autoload.errors import UnsafeCheckpointError as UnsafeCheckpointError
    from autoload.hookspecs import hookimpl as hookimpl
    from autoload.hookspecs import hookspec as hookspec
    from autoload.modeling import PreTrainedModel as PreTrainedModel
    from autoload.outputs import ModelOutput as ModelOutput
    from autoload.processing import BaseImageProcessor as BaseImageProcessor
    from autoload.processing import ProcessorMixin as ProcessorMixin
    from autoload.processing import SequenceFeatureExtractor as SequenceFeatureExtractor
    from autoload.tokenization import BatchEncoding as BatchEncoding
    from autoload.tokenization import PreTrainedTokenizer as PreTrainedTokenizer
