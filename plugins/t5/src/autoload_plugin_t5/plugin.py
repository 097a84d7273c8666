"""autoload's entry point for T5: a declaration made of strings, so it imports nothing heavy."""

from __future__ import annotations

from autoload import Architecture, hookimpl

_PACKAGE = "autoload_plugin_t5"


@hookimpl
def autoload_architectures() -> Architecture:
    return Architecture(
        model_type="t5",
        config=f"{_PACKAGE}.configuration:T5Config",
        tokenizer=f"{_PACKAGE}.tokenization:T5Tokenizer",
        tokenizer_names=("T5TokenizerFast",),
        models={
            "base": f"{_PACKAGE}.modeling:T5Model",
            "seq2seq-lm": f"{_PACKAGE}.modeling:T5ForConditionalGeneration",
            "text-encoding": f"{_PACKAGE}.modeling:T5EncoderModel",
        },
    )
