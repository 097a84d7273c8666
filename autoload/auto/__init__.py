"""The Auto classes."""

from autoload.auto.configuration import AutoConfig
from autoload.auto.models import AUTO_MODEL_CLASSES, AutoModelBase
from autoload.auto.processing import AutoFeatureExtractor, AutoImageProcessor, AutoProcessor, AutoTokenizer

globals().update(AUTO_MODEL_CLASSES)

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
