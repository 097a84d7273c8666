"""WhisperProcessor: the log-mel feature extractor and the tokenizer as one object.

Audio goes to the feature extractor (``input_features``), text to the
tokenizer; given both, the text's ids come back as ``labels`` (the prefix
tokens included), ready for fine-tuning
:class:`~autoload_plugin_whisper.modeling.WhisperForConditionalGeneration`.
Decoding, the decoder prompt and prompt ids are the tokenizer's.
"""

from __future__ import annotations

from typing import Any

from autoload import ProcessingError
from autoload.processing import ProcessorMixin

from autoload_plugin_whisper.feature_extraction import WhisperFeatureExtractor
from autoload_plugin_whisper.tokenization import WhisperTokenizer


class WhisperProcessor(ProcessorMixin):
    """Feature extractor plus tokenizer for speech recognition and translation."""

    attributes = ("feature_extractor", "tokenizer")
    feature_extractor_class = WhisperFeatureExtractor
    tokenizer_class = WhisperTokenizer
    text_as_labels = True

    def __init__(self, feature_extractor: WhisperFeatureExtractor, tokenizer: WhisperTokenizer) -> None:
        super().__init__(feature_extractor=feature_extractor, tokenizer=tokenizer)

    def __call__(self, audio: Any = None, text: Any = None, **kwargs: Any) -> Any:
        """Audio to ``input_features``, text to ``input_ids``; both: the text's ids as ``labels``."""
        if audio is None and text is None:
            raise ProcessingError("WhisperProcessor needs audio=..., text=... or both.")
        if audio is None:
            kwargs.pop("sampling_rate", None)  # an audio setting; a text-only call has no use for it
        return super().__call__(audio=audio, text=text, **kwargs)

    def get_decoder_prompt_ids(
        self, task: str | None = None, language: str | None = None, no_timestamps: bool = True
    ) -> list[tuple[int, int]]:
        return self.tokenizer.get_decoder_prompt_ids(task=task, language=language, no_timestamps=no_timestamps)

    def get_prompt_ids(self, text: str, return_tensors: str | None = "np") -> Any:
        return self.tokenizer.get_prompt_ids(text, return_tensors=return_tensors)


__all__ = ["WhisperProcessor"]
