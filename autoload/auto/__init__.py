"""The Auto classes."""

from autoload.auto.configuration import AutoConfig
from autoload.auto.models import *  # noqa: F403  (AutoModel and every AutoModelFor<Task>, written out there)
from autoload.auto.models import AUTO_MODEL_CLASSES, AutoModelBase
from autoload.auto.processing import AutoFeatureExtractor, AutoImageProcessor, AutoProcessor, AutoTokenizer

__all__ = [
    "AUTO_MODEL_CLASSES",
    "AutoConfig",
    "AutoFeatureExtractor",
    "AutoImageProcessor",
    "AutoModelBase",
    "AutoProcessor",
    "AutoTokenizer",
    *AUTO_MODEL_CLASSES,
]
