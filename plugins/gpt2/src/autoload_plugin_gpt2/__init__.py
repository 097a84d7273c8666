"""GPT-2 for autoload.

This package is found through its ``autoload.architectures`` entry point; users
normally reach it through ``autoload.AutoModelForCausalLM`` and friends.
Importing it is cheap on purpose: the config, tokenizer and model modules (and
with them torch and tokenizers) load only when one of their classes is asked for.
"""

from autoload_plugin_gpt2.__about__ import __version__

__all__ = ["__version__"]
