"""The declaration autoload reads to learn what this plugin serves.

Everything is a ``"module:Class"`` string, so importing this module imports
neither torch nor tokenizers; autoload imports a class only when it is used.
"""

from __future__ import annotations

from autoload import Architecture, hookimpl

_MODELING = "autoload_plugin_gpt2.modeling"

GPT2 = Architecture(
    model_type="gpt2",
    config="autoload_plugin_gpt2.configuration:GPT2Config",
    tokenizer="autoload_plugin_gpt2.tokenization:GPT2Tokenizer",
    # transformers 4 recorded the fast class; transformers 5 records GPT2Tokenizer.
    tokenizer_names=("GPT2TokenizerFast",),
    models={
        "base": f"{_MODELING}:GPT2Model",
        "pretraining": f"{_MODELING}:GPT2LMHeadModel",
        "causal-lm": f"{_MODELING}:GPT2LMHeadModel",
        "sequence-classification": f"{_MODELING}:GPT2ForSequenceClassification",
        "token-classification": f"{_MODELING}:GPT2ForTokenClassification",
        "question-answering": f"{_MODELING}:GPT2ForQuestionAnswering",
    },
)


@hookimpl
def autoload_architectures() -> Architecture:
    return GPT2
