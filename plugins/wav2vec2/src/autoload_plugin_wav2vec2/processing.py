"""Wav2Vec2Processor: the feature extractor and the CTC tokenizer as one object.

Audio goes to the feature extractor (``input_values``), transcripts to the
tokenizer; given both, the transcript's ids come back as ``labels``, ready for
:class:`~autoload_plugin_wav2vec2.modeling.Wav2Vec2ForCTC`.  Decoding is the
tokenizer's.  Loads from the older layout most Hub checkpoints have
(``preprocessor_config.json`` + tokenizer files) and from the newer
``processor_config.json``; saves what transformers loads.
"""

from __future__ import annotations

from typing import Any

from autoload import ProcessingError
from autoload.processing import ProcessorMixin

from autoload_plugin_wav2vec2.feature_extraction import Wav2Vec2FeatureExtractor
from autoload_plugin_wav2vec2.tokenization import Wav2Vec2CTCTokenizer


class Wav2Vec2Processor(ProcessorMixin):
    """Feature extractor plus CTC tokenizer for speech recognition."""

    attributes = ("feature_extractor", "tokenizer")
    feature_extractor_class = Wav2Vec2FeatureExtractor
    tokenizer_class = Wav2Vec2CTCTokenizer
    text_as_labels = True

    def __init__(self, feature_extractor: Wav2Vec2FeatureExtractor, tokenizer: Wav2Vec2CTCTokenizer) -> None:
        super().__init__(feature_extractor=feature_extractor, tokenizer=tokenizer)

    def __call__(self, audio: Any = None, text: Any = None, **kwargs: Any) -> Any:
        """Audio to ``input_values`` (and ``attention_mask``), text to ``input_ids``; both: text as ``labels``."""
        if audio is None and text is None:
            raise ProcessingError("Wav2Vec2Processor needs audio=..., text=... or both.")
        if audio is None:
            kwargs.pop("sampling_rate", None)  # an audio setting; a text-only call has no use for it
        return super().__call__(audio=audio, text=text, **kwargs)

    def pad(self, *args: Any, **kwargs: Any) -> Any:
        """Pad extracted features (first argument or ``input_features=``) and/or ``labels``.

        Features go to the feature extractor's ``pad``, labels (encoded ids)
        to the tokenizer's; given both, the padded label ids are returned as
        ``labels`` next to the features, as a CTC collate function needs.
        """
        input_features = kwargs.pop("input_features", None)
        labels = kwargs.pop("labels", None)
        if args:
            input_features, args = args[0], args[1:]
        if input_features is not None:
            input_features = self.feature_extractor.pad(input_features, *args, **kwargs)
        if labels is not None:
            tokenizer_kwargs = {key: value for key, value in kwargs.items() if key != "truncation"}
            labels = self.tokenizer.pad(labels, **tokenizer_kwargs)
        if labels is None:
            return input_features
        if input_features is None:
            return labels
        input_features["labels"] = labels["input_ids"]
        return input_features

    @property
    def model_input_names(self) -> list[str]:
        return [*self.feature_extractor.model_input_names, "labels"]


__all__ = ["Wav2Vec2Processor"]
