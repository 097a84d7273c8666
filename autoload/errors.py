"""autoload's exception hierarchy.

Every error autoload raises on purpose derives from :class:`AutoloadError`, so
one ``except AutoloadError`` catches them all.  Each one also derives from the
builtin that a transformers user would already be catching for the same
situation (``ValueError`` for bad values, ``OSError`` for missing or unreadable
files, ``ImportError`` for plugins that cannot be imported), so code written
against transformers keeps working when it switches.
"""

from __future__ import annotations


class AutoloadError(Exception):
    """Base class of every error autoload raises on purpose."""


# -- plugins ------------------------------------------------------------------


class PluginLoadError(AutoloadError, ImportError):
    """A plugin could not be imported, its hook raised, or its declaration is invalid.

    The message names the distribution, its version and the entry point; the
    original exception is chained as ``__cause__``.
    """


class InvalidArchitectureError(PluginLoadError, ValueError):
    """An :class:`~autoload.Architecture` declaration breaks the contract."""


class PluginConflictError(AutoloadError, RuntimeError):
    """Two installed distributions declare the same model type."""


# -- registry and resolution --------------------------------------------------


class RegistrationError(AutoloadError, ValueError):
    """A runtime ``register()`` call breaks the seed's contract."""


class UnknownModelTypeError(AutoloadError, ValueError):
    """No installed plugin (and no runtime registration) serves a model type."""


class TaskNotSupportedError(AutoloadError, ValueError):
    """The checkpoint's architecture does not declare the requested task."""


class UnknownTaskError(AutoloadError, ValueError):
    """A task id that ``autoload/tasks.py`` does not know."""


class ClassResolutionError(AutoloadError, ValueError):
    """No processing class (tokenizer, image processor, ...) can be determined."""


class RemoteCodeError(AutoloadError, ValueError):
    """A checkpoint asks to run code it ships (``auto_map``); autoload never does."""


# -- files and checkpoints ----------------------------------------------------


class ConfigError(AutoloadError, ValueError):
    """A configuration file or dictionary is malformed."""


class FileResolutionError(AutoloadError, OSError):
    """A file of a checkpoint cannot be found locally or on the Hub."""


class CheckpointError(AutoloadError, OSError):
    """A weights file is missing, truncated, malformed or does not fit the model."""


class UnsafeCheckpointError(CheckpointError):
    """Loading would mean unpickling, which the caller has not allowed."""


class ParallelismError(AutoloadError, ValueError):
    """A model cannot be split over the requested devices or ranks (tensor parallelism, device maps)."""


class ProcessingError(AutoloadError, ValueError):
    """A tokenizer, image processor or feature extractor was given input it cannot handle."""


class GenerationError(AutoloadError, ValueError):
    """``generate()`` or a GenerationConfig was given settings or inputs that cannot work together."""


class SaveError(AutoloadError, OSError):
    """A checkpoint could not be written (read-only folder, full disk, a folder where a file must go).

    The message names the folder and the cause; ``errno`` is the operating
    system's error number where there was one.  The previous checkpoint in the
    folder is left as it was.
    """


class ModelInputError(AutoloadError, ValueError, IndexError):
    """A model was given inputs it cannot use: token ids outside its embedding, audio too short for it.

    It is also an ``IndexError``, which is what PyTorch raises for an
    out-of-range embedding index, so code written for that keeps working.
    """


__all__ = [
    name for name, value in dict(globals()).items() if isinstance(value, type) and issubclass(value, AutoloadError)
]
