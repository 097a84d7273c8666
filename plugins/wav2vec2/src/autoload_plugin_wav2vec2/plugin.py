"""autoload's entry point for Wav2Vec2: a declaration made of strings, so it imports nothing heavy."""

from __future__ import annotations

from autoload import Architecture, hookimpl

_PACKAGE = "autoload_plugin_wav2vec2"


@hookimpl
def autoload_architectures() -> Architecture:
    return Architecture(
        model_type="wav2vec2",
        config=f"{_PACKAGE}.configuration:Wav2Vec2Config",
        tokenizer=f"{_PACKAGE}.tokenization:Wav2Vec2CTCTokenizer",
        feature_extractor=f"{_PACKAGE}.feature_extraction:Wav2Vec2FeatureExtractor",
        processor=f"{_PACKAGE}.processing:Wav2Vec2Processor",
        models={
            "base": f"{_PACKAGE}.modeling:Wav2Vec2Model",
            "ctc": f"{_PACKAGE}.modeling:Wav2Vec2ForCTC",
            "audio-classification": f"{_PACKAGE}.modeling:Wav2Vec2ForSequenceClassification",
            "audio-frame-classification": f"{_PACKAGE}.modeling:Wav2Vec2ForAudioFrameClassification",
            "audio-xvector": f"{_PACKAGE}.modeling:Wav2Vec2ForXVector",
            "pretraining": f"{_PACKAGE}.modeling:Wav2Vec2ForPreTraining",
        },
    )
