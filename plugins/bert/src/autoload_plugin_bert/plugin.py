"""The declaration autoload reads to learn what this plugin serves.

Everything is a ``"module:Class"`` string, so importing this module imports
neither torch nor tokenizers; autoload imports a class only when it is used.
"""

from __future__ import annotations

from autoload import Architecture, hookimpl

_MODELING = "autoload_plugin_bert.modeling"

BERT = Architecture(
    model_type="bert",
    config="autoload_plugin_bert.configuration:BertConfig",
    tokenizer="autoload_plugin_bert.tokenization:BertTokenizer",
    # Checkpoints saved by transformers record their tokenizer as the fast class.
    tokenizer_names=("BertTokenizerFast",),
    models={
        "base": f"{_MODELING}:BertModel",
        "pretraining": f"{_MODELING}:BertForPreTraining",
        "causal-lm": f"{_MODELING}:BertLMHeadModel",
        "masked-lm": f"{_MODELING}:BertForMaskedLM",
        "next-sentence-prediction": f"{_MODELING}:BertForNextSentencePrediction",
        "sequence-classification": f"{_MODELING}:BertForSequenceClassification",
        "multiple-choice": f"{_MODELING}:BertForMultipleChoice",
        "token-classification": f"{_MODELING}:BertForTokenClassification",
        "question-answering": f"{_MODELING}:BertForQuestionAnswering",
        "text-encoding": f"{_MODELING}:BertModel",
    },
)


@hookimpl
def autoload_architectures() -> Architecture:
    return BERT
