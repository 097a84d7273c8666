"""NewModel for autoload.

Found through the ``autoload.architectures`` entry point; users reach it through
``autoload.AutoModel`` and friends.  Importing the package stays cheap: torch is
imported only by the modeling module, when a model is asked for.
"""

from autoload_plugin_new_model.__about__ import __version__

__all__ = ["__version__"]
