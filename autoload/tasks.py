"""The one table of model tasks.

A plugin's :class:`~autoload.Architecture` maps task ids to model classes; the
host generates one ``AutoModelFor...`` class per task id from this table.  Task
ids are stable public names: a plugin written against them keeps working.
"""

from __future__ import annotations

from typing import NamedTuple


class Task(NamedTuple):
    task_id: str
    auto_class: str
    group: str


TASKS: tuple[Task, ...] = (
    Task("base", "AutoModel", "generic"),
    Task("pretraining", "AutoModelForPreTraining", "generic"),
    # natural language processing
    Task("causal-lm", "AutoModelForCausalLM", "text"),
    Task("masked-lm", "AutoModelForMaskedLM", "text"),
    Task("mask-generation", "AutoModelForMaskGeneration", "text"),
    Task("seq2seq-lm", "AutoModelForSeq2SeqLM", "text"),
    Task("sequence-classification", "AutoModelForSequenceClassification", "text"),
    Task("multiple-choice", "AutoModelForMultipleChoice", "text"),
    Task("next-sentence-prediction", "AutoModelForNextSentencePrediction", "text"),
    Task("token-classification", "AutoModelForTokenClassification", "text"),
    Task("question-answering", "AutoModelForQuestionAnswering", "text"),
    Task("text-encoding", "AutoModelForTextEncoding", "text"),
    # computer vision
    Task("depth-estimation", "AutoModelForDepthEstimation", "vision"),
    Task("image-classification", "AutoModelForImageClassification", "vision"),
    Task("video-classification", "AutoModelForVideoClassification", "vision"),
    Task("masked-image-modeling", "AutoModelForMaskedImageModeling", "vision"),
    Task("object-detection", "AutoModelForObjectDetection", "vision"),
    Task("image-segmentation", "AutoModelForImageSegmentation", "vision"),
    Task("image-to-image", "AutoModelForImageToImage", "vision"),
    Task("semantic-segmentation", "AutoModelForSemanticSegmentation", "vision"),
    Task("instance-segmentation", "AutoModelForInstanceSegmentation", "vision"),
    Task("universal-segmentation", "AutoModelForUniversalSegmentation", "vision"),
    Task("zero-shot-image-classification", "AutoModelForZeroShotImageClassification", "vision"),
    Task("zero-shot-object-detection", "AutoModelForZeroShotObjectDetection", "vision"),
    # audio
    Task("audio-classification", "AutoModelForAudioClassification", "audio"),
    Task("audio-frame-classification", "AutoModelForAudioFrameClassification", "audio"),
    Task("ctc", "AutoModelForCTC", "audio"),
    Task("speech-seq2seq", "AutoModelForSpeechSeq2Seq", "audio"),
    Task("audio-xvector", "AutoModelForAudioXVector", "audio"),
    Task("text-to-spectrogram", "AutoModelForTextToSpectrogram", "audio"),
    Task("text-to-waveform", "AutoModelForTextToWaveform", "audio"),
    # multimodal
    Task("table-question-answering", "AutoModelForTableQuestionAnswering", "multimodal"),
    Task("document-question-answering", "AutoModelForDocumentQuestionAnswering", "multimodal"),
    Task("visual-question-answering", "AutoModelForVisualQuestionAnswering", "multimodal"),
    Task("image-text-to-text", "AutoModelForImageTextToText", "multimodal"),
    # time series
    Task("time-series-prediction", "AutoModelForTimeSeriesPrediction", "time-series"),
)

#: Auto class names kept as second names of a task (transformers renamed them).
AUTO_CLASS_ALIASES: dict[str, str] = {
    "AutoModelForVision2Seq": "image-text-to-text",
}

TASK_IDS: frozenset[str] = frozenset(task.task_id for task in TASKS)

AUTO_CLASS_BY_TASK: dict[str, str] = {task.task_id: task.auto_class for task in TASKS}

TASK_BY_AUTO_CLASS: dict[str, str] = {
    **{task.auto_class: task.task_id for task in TASKS},
    **AUTO_CLASS_ALIASES,
}


def is_known_task(task_id: str) -> bool:
    return task_id in TASK_IDS
