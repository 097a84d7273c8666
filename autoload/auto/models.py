"""AutoModel and every AutoModelFor<Task>: one class per row of the task table (autoload/tasks.py)."""

from __future__ import annotations

import inspect
import os
from typing import Any

from autoload.auto.base import AutoClass, hub_options, model_type_of, split_hub_kwargs
from autoload.configuration import PretrainedConfig, load_config_dict
from autoload.hub import describe
from autoload.registry import get_registry
from autoload.tasks import AUTO_CLASS_ALIASES, TASKS


def _keyword_names(function: Any) -> set[str]:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return set()
    return {p.name for p in parameters if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}


class AutoModelBase(AutoClass):
    """Resolves the model class of the checkpoint's model type for one task, then delegates to it."""

    task: str = "base"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("__doc__") is None:
            cls.__doc__ = (
                f"Loads the ``{cls.task}`` model class that the checkpoint's architecture declares.\n\n"
                f"``{cls.__name__}.from_pretrained(path_or_repo)`` or ``{cls.__name__}.from_config(config)``."
            )

    @classmethod
    def model_class_for(cls, config: PretrainedConfig | str) -> type:
        model_type = config if isinstance(config, str) else config.model_type
        return get_registry().model_class(model_type, cls.task)

    @classmethod
    def from_config(cls, config: PretrainedConfig, **kwargs: Any) -> Any:
        """A randomly initialised model of the config's architecture for this task."""
        return cls.model_class_for(config).from_config(config, **kwargs)

    @classmethod
    def from_pretrained(cls, path_or_repo: str | os.PathLike[str], *model_args: Any, **kwargs: Any) -> Any:
        """Load the checkpoint with the class its ``model_type`` declares for this task.

        Keyword arguments the model class's ``from_pretrained`` accepts (dtype,
        device, ...) go to it; the others override config attributes, as in
        transformers.
        """
        config = kwargs.pop("config", None)
        hub_kwargs = split_hub_kwargs(kwargs)
        kwargs.pop("trust_remote_code", None)
        if isinstance(config, PretrainedConfig):
            model_class = cls.model_class_for(config)
            return model_class.from_pretrained(path_or_repo, *model_args, config=config, **hub_kwargs, **kwargs)
        options = hub_options(hub_kwargs)
        config_dict = load_config_dict(path_or_repo, options)
        registry = get_registry()
        model_type = model_type_of(config_dict, describe(path_or_repo, options))
        config_class = registry.config_class(model_type, config_dict=config_dict)
        model_class = registry.model_class(model_type, cls.task)
        loader_options = _keyword_names(model_class.from_pretrained)
        overrides = {key: kwargs.pop(key) for key in list(kwargs) if key not in loader_options}
        config, unused = config_class.from_dict(config_dict, return_unused_kwargs=True, **overrides)
        config.name_or_path = os.fspath(path_or_repo)
        return model_class.from_pretrained(path_or_repo, *model_args, config=config, **hub_kwargs, **kwargs, **unused)

    @classmethod
    def register(cls, config_class: type, model_class: type, exist_ok: bool = False) -> None:
        """Make ``model_class`` this Auto class's model for ``config_class`` (the seed's contract)."""
        get_registry().register_model(cls.task, config_class, model_class, exist_ok=exist_ok)


# One class per task of autoload/tasks.py, written out so that IDEs and type checkers see each name
# (tests/test_auto_classes.py checks this list against the task table).

# -- generic ---------------------------------------------------------------------------------------------


class AutoModel(AutoModelBase):
    task = "base"


class AutoModelForPreTraining(AutoModelBase):
    task = "pretraining"


# -- text ------------------------------------------------------------------------------------------------


class AutoModelForCausalLM(AutoModelBase):
    task = "causal-lm"


class AutoModelForMaskedLM(AutoModelBase):
    task = "masked-lm"


class AutoModelForMaskGeneration(AutoModelBase):
    task = "mask-generation"


class AutoModelForSeq2SeqLM(AutoModelBase):
    task = "seq2seq-lm"


class AutoModelForSequenceClassification(AutoModelBase):
    task = "sequence-classification"


class AutoModelForMultipleChoice(AutoModelBase):
    task = "multiple-choice"


class AutoModelForNextSentencePrediction(AutoModelBase):
    task = "next-sentence-prediction"


class AutoModelForTokenClassification(AutoModelBase):
    task = "token-classification"


class AutoModelForQuestionAnswering(AutoModelBase):
    task = "question-answering"


class AutoModelForTextEncoding(AutoModelBase):
    task = "text-encoding"


# -- vision ----------------------------------------------------------------------------------------------


class AutoModelForDepthEstimation(AutoModelBase):
    task = "depth-estimation"


class AutoModelForImageClassification(AutoModelBase):
    task = "image-classification"


class AutoModelForVideoClassification(AutoModelBase):
    task = "video-classification"


class AutoModelForMaskedImageModeling(AutoModelBase):
    task = "masked-image-modeling"


class AutoModelForObjectDetection(AutoModelBase):
    task = "object-detection"


class AutoModelForImageSegmentation(AutoModelBase):
    task = "image-segmentation"


class AutoModelForImageToImage(AutoModelBase):
    task = "image-to-image"


class AutoModelForSemanticSegmentation(AutoModelBase):
    task = "semantic-segmentation"


class AutoModelForInstanceSegmentation(AutoModelBase):
    task = "instance-segmentation"


class AutoModelForUniversalSegmentation(AutoModelBase):
    task = "universal-segmentation"


class AutoModelForZeroShotImageClassification(AutoModelBase):
    task = "zero-shot-image-classification"


class AutoModelForZeroShotObjectDetection(AutoModelBase):
    task = "zero-shot-object-detection"


# -- audio -----------------------------------------------------------------------------------------------


class AutoModelForAudioClassification(AutoModelBase):
    task = "audio-classification"


class AutoModelForAudioFrameClassification(AutoModelBase):
    task = "audio-frame-classification"


class AutoModelForCTC(AutoModelBase):
    task = "ctc"


class AutoModelForSpeechSeq2Seq(AutoModelBase):
    task = "speech-seq2seq"


class AutoModelForAudioXVector(AutoModelBase):
    task = "audio-xvector"


class AutoModelForTextToSpectrogram(AutoModelBase):
    task = "text-to-spectrogram"


class AutoModelForTextToWaveform(AutoModelBase):
    task = "text-to-waveform"


# -- multimodal ------------------------------------------------------------------------------------------


class AutoModelForTableQuestionAnswering(AutoModelBase):
    task = "table-question-answering"


class AutoModelForDocumentQuestionAnswering(AutoModelBase):
    task = "document-question-answering"


class AutoModelForVisualQuestionAnswering(AutoModelBase):
    task = "visual-question-answering"


class AutoModelForImageTextToText(AutoModelBase):
    task = "image-text-to-text"


# -- time-series -----------------------------------------------------------------------------------------


class AutoModelForTimeSeriesPrediction(AutoModelBase):
    task = "time-series-prediction"


#: Second names of a task's class (transformers renamed them); the same class object.
AutoModelForVision2Seq = AutoModelForImageTextToText

AUTO_MODEL_CLASSES: dict[str, type[AutoModelBase]] = {
    **{task.auto_class: globals()[task.auto_class] for task in TASKS},
    **{alias: globals()[alias] for alias in AUTO_CLASS_ALIASES},
}

__all__ = ["AUTO_MODEL_CLASSES", "AutoModelBase", *AUTO_MODEL_CLASSES]
