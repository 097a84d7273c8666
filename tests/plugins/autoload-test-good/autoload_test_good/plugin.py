"""Declarations of the well-behaved test plugin: two model types from one module."""

import autoload


@autoload.hookimpl
def autoload_architectures():
    return [
        autoload.Architecture(
            model_type="toy",
            config="autoload_test_good.configuration:ToyConfig",
            tokenizer="autoload_test_good.processing:ToyTokenizer",
            tokenizer_names=("ToyTokenizerLegacy",),
            image_processor="autoload_test_good.processing:ToyImageProcessor",
            image_processor_names=("ToyFeatureExtractorLegacy",),
            feature_extractor="autoload_test_good.processing:ToyFeatureExtractor",
            processor="autoload_test_good.processing:ToyProcessor",
            models={
                "base": "autoload_test_good.models:ToyModel",
                "sequence-classification": "autoload_test_good.models:ToyForSequenceClassification",
            },
        ),
        autoload.Architecture(
            model_type="toy-text",
            config="autoload_test_good.configuration:ToyTextConfig",
            tokenizer="autoload_test_good.processing:ToyTokenizer",
            models={"masked-lm": "autoload_test_good.models:ToyTextForMaskedLM"},
        ),
    ]
