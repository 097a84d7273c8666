"""The declarations autoload reads to learn what this plugin serves: four model types, one decoder.

Each of the four entry points (``llama``, ``mistral``, ``qwen2``, ``qwen3``)
names this module; the hook returns all four declarations and autoload keeps
the one whose ``model_type`` matches the entry point.  Everything is a
``"module:Class"`` string, so importing this module imports neither torch nor
tokenizers.

These checkpoints ship a ``tokenizer.json`` (BPE with byte fallback for Llama
and Mistral, byte-level BPE for Qwen), which the host's generic tokenizer reads
as it is; Llama checkpoints use a subclass of it that only pads on the left, as
transformers' ``LlamaTokenizer`` does.
"""

from __future__ import annotations

from autoload import Architecture, hookimpl

_CONFIGURATION = "autoload_plugin_llama.configuration"
_MODELING = "autoload_plugin_llama.modeling"
GENERIC_TOKENIZER = "autoload.tokenization:TokenizersBackend"
LLAMA_TOKENIZER = "autoload_plugin_llama.tokenization:LlamaTokenizer"

# Class names transformers records as ``tokenizer_class`` for these checkpoints (v4 wrote the
# ``...Fast`` names, v5 writes the plain ones); all of them are a tokenizer.json underneath.  The
# class each name leads to follows transformers 5: a llama checkpoint recording a Llama tokenizer
# pads on the left, one recording the generic class (Llama 3) on the right; mistral checkpoints
# get the generic tokenizer whatever they record.
_LLAMA_TOKENIZER_NAMES = ("LlamaTokenizerFast", "CodeLlamaTokenizer", "CodeLlamaTokenizerFast")
_MISTRAL_TOKENIZER_NAMES = ("LlamaTokenizer", "LlamaTokenizerFast")
_QWEN_TOKENIZER_NAMES = ("Qwen2Tokenizer", "Qwen2TokenizerFast")


def _declare(model_type: str, prefix: str, tokenizer: str, tokenizer_names: tuple[str, ...]) -> Architecture:
    """One model type: ``prefix`` is its class-name prefix (``"Qwen2"`` -> ``Qwen2ForCausalLM``)."""
    return Architecture(
        model_type=model_type,
        config=f"{_CONFIGURATION}:{prefix}Config",
        tokenizer=tokenizer,
        tokenizer_names=tokenizer_names,
        models={
            "base": f"{_MODELING}:{prefix}Model",
            "causal-lm": f"{_MODELING}:{prefix}ForCausalLM",
            "sequence-classification": f"{_MODELING}:{prefix}ForSequenceClassification",
            "token-classification": f"{_MODELING}:{prefix}ForTokenClassification",
            "question-answering": f"{_MODELING}:{prefix}ForQuestionAnswering",
        },
    )


LLAMA = _declare("llama", "Llama", LLAMA_TOKENIZER, _LLAMA_TOKENIZER_NAMES)
MISTRAL = _declare("mistral", "Mistral", GENERIC_TOKENIZER, _MISTRAL_TOKENIZER_NAMES)
QWEN2 = _declare("qwen2", "Qwen2", GENERIC_TOKENIZER, _QWEN_TOKENIZER_NAMES)
QWEN3 = _declare("qwen3", "Qwen3", GENERIC_TOKENIZER, _QWEN_TOKENIZER_NAMES)
ARCHITECTURES = (LLAMA, MISTRAL, QWEN2, QWEN3)


@hookimpl
def autoload_architectures() -> list[Architecture]:
    return list(ARCHITECTURES)
