"""autoload's entry point for Whisper: a declaration made of strings, so it imports nothing heavy."""

from __future__ import annotations

from autoload import Architecture, hookimpl

_PACKAGE = "autoload_plugin_whisper"


@hookimpl
def autoload_architectures() -> Architecture:
    return Architecture(
        model_type="whisper",
        config=f"{_PACKAGE}.configuration:WhisperConfig",
        tokenizer=f"{_PACKAGE}.tokenization:WhisperTokenizer",
        tokenizer_names=("WhisperTokenizerFast",),
        feature_extractor=f"{_PACKAGE}.feature_extraction:WhisperFeatureExtractor",
        processor=f"{_PACKAGE}.processing:WhisperProcessor",
        models={
            "base": f"{_PACKAGE}.modeling:WhisperModel",
            "speech-seq2seq": f"{_PACKAGE}.modeling:WhisperForConditionalGeneration",
            "audio-classification": f"{_PACKAGE}.modeling:WhisperForAudioClassification",
        },
    )
