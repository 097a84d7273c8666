"""Vision Transformer (ViT) for autoload.

This package is found through its ``autoload.architectures`` entry point; users
normally reach it through ``autoload.AutoModel``, ``autoload.AutoImageProcessor``
and friends.  Importing it is cheap on purpose: the config, image processor and
model modules (and with them torch, numpy and PIL) load only when one of their
classes is asked for.
"""

from autoload_plugin_vit.__about__ import __version__

__all__ = ["__version__"]
