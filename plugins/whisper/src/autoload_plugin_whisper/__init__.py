"""Whisper for autoload.

This package is found through its ``autoload.architectures`` entry point; users
normally reach it through ``autoload.AutoModelForSpeechSeq2Seq`` and friends.
Importing it is cheap on purpose: the config, feature extractor, tokenizer and
model modules (and with them numpy and torch) load only when one of their
classes is asked for.
"""

from autoload_plugin_whisper.__about__ import __version__

__all__ = ["__version__"]
