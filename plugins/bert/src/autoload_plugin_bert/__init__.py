"""BERT for autoload.

This package is found through its ``autoload.architectures`` entry point; users
normally reach it through ``autoload.AutoModel`` and friends.  Importing it is
cheap on purpose: the config, tokenizer and model modules (and with them torch
and tokenizers) load only when one of their classes is asked for.
"""

from autoload_plugin_bert.__about__ import __version__

__all__ = ["__version__"]
