"""Wav2Vec2 for autoload: speech encoder, CTC head, classification heads and pre-training.

Importing this package is cheap: the classes are imported on first access, so
``autoload`` can read the plugin's declaration without pulling in torch.
"""

from __future__ import annotations

import importlib
from typing import Any

from autoload_plugin_wav2vec2.__about__ import __version__

_EXPORTS = {
    "Wav2Vec2Config": "configuration",
    "Wav2Vec2FeatureExtractor": "feature_extraction",
    "Wav2Vec2CTCTokenizer": "tokenization",
    "Wav2Vec2CTCTokenizerOutput": "tokenization",
    "Wav2Vec2Processor": "processing",
    "Wav2Vec2PreTrainedModel": "modeling",
    "Wav2Vec2Model": "modeling",
    "Wav2Vec2ForCTC": "modeling",
    "Wav2Vec2ForSequenceClassification": "modeling",
    "Wav2Vec2ForAudioFrameClassification": "modeling",
    "Wav2Vec2ForXVector": "modeling",
    "Wav2Vec2ForPreTraining": "modeling",
    "Wav2Vec2BaseModelOutput": "modeling",
    "Wav2Vec2ForPreTrainingOutput": "modeling",
    "XVectorOutput": "modeling",
    "compute_mask_indices": "modeling",
    "sample_negative_indices": "modeling",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
