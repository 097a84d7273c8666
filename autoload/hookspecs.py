"""The plugin contract: the hooks an autoload plugin implements.

A plugin is a module named by an entry point in the ``autoload.architectures``
group; the entry point's *name* is the ``model_type`` it serves::

    [project.entry-points."autoload.architectures"]
    bert = "autoload_plugin_bert.plugin"

The module holds functions marked with :data:`autoload.hookimpl`, named after
the specs below.  It is imported the first time a checkpoint of its model type
is seen, so it must import nothing heavy (no torch, numpy, tokenizers, PIL):
classes are named by ``"module:Class"`` strings and imported only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from autoload.architecture import Architecture

PROJECT_NAME = "autoload"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def autoload_architectures() -> Architecture | list[Architecture]:
    """Declare the architectures this plugin provides.

    Called once per process, right after the plugin module is imported, which
    happens the first time autoload needs the model type named by the plugin's
    entry point (or when ``autoload list --all``/``autoload doctor`` walks
    every plugin).

    :return:
        One :class:`~autoload.Architecture`, or a list of them.  A declaration
        whose ``model_type`` differs from the entry point's name is rejected;
        a module serving several model types is registered under several
        entry points and returns all of its declarations from every one.
        Every string must be a ``"module:Class"`` reference; nothing needs to
        be imported to build the declaration.

    It must not raise: an exception is reported as a
    :class:`~autoload.PluginLoadError` naming the plugin's distribution, and
    only this plugin's model types stop working.

    Example::

        import autoload

        @autoload.hookimpl
        def autoload_architectures():
            return autoload.Architecture(
                model_type="bert",
                config="autoload_plugin_bert.configuration:BertConfig",
                tokenizer="autoload_plugin_bert.tokenization:BertTokenizer",
                tokenizer_names=("BertTokenizerFast",),
                models={
                    "base": "autoload_plugin_bert.modeling:BertModel",
                    "masked-lm": "autoload_plugin_bert.modeling:BertForMaskedLM",
                },
            )
    """
