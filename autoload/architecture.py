"""Architecture: what a plugin declares, as strings, so declaring imports nothing.

Each reference is ``"package.module:Attribute"``; it is imported only when the
class is actually needed (the config class by ``AutoConfig``, a model class by
``AutoModel...``), so ``AutoConfig`` never pays for torch.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from autoload.errors import InvalidArchitectureError
from autoload.tasks import TASK_IDS

_REFERENCE = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")
_MODEL_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")

PROCESSING_KINDS = ("tokenizer", "feature_extractor", "image_processor", "processor")

# The key each processing kind is recorded under in saved files.
SAVED_NAME_FIELD = {
    "tokenizer": "tokenizer_class",
    "feature_extractor": "feature_extractor_type",
    "image_processor": "image_processor_type",
    "processor": "processor_class",
}


# Class names of the host's own tokenizers, which transformers 5 writes as ``tokenizer_class`` for a plain
# tokenizer.json: they always resolve to the host's generic tokenizer, and no plugin may answer to them.
GENERIC_TOKENIZER = "autoload.tokenization.tokenizers_backend:TokenizersBackend"
GENERIC_TOKENIZER_NAMES = frozenset(
    {"TokenizersBackend", "PreTrainedTokenizerFast", "PythonBackend", "PreTrainedTokenizer"}
)


def import_reference(reference: str) -> Any:
    """Import ``"module:Attr"`` (``Attr`` may be dotted) and return the object."""
    module_name, _, attribute_path = reference.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in attribute_path.split("."):
        target = getattr(target, part)
    return target


def reference_name(reference: str) -> str:
    """The class name a reference points at: ``"pkg.mod:BertTokenizer"`` -> ``"BertTokenizer"``."""
    return reference.rpartition(":")[2].rpartition(".")[2]


@dataclass(frozen=True)
class Architecture:
    """One model type's declaration: config, processing classes and model heads.

    ``models`` maps task ids of :mod:`autoload.tasks` (``"base"``,
    ``"masked-lm"``, ...) to model class references.  The ``*_names`` fields
    list extra class names the processing classes answer to in saved files
    (``tokenizer_class`` in ``tokenizer_config.json``, ``image_processor_type``
    in ``preprocessor_config.json``, ...); each class always answers to its own
    name.
    """

    model_type: str
    config: str
    models: Mapping[str, str] = field(default_factory=dict)
    tokenizer: str | None = None
    feature_extractor: str | None = None
    image_processor: str | None = None
    processor: str | None = None
    tokenizer_names: tuple[str, ...] = ()
    feature_extractor_names: tuple[str, ...] = ()
    image_processor_names: tuple[str, ...] = ()
    processor_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "models", MappingProxyType(dict(self.models)))
        for name in ("tokenizer_names", "feature_extractor_names", "image_processor_names", "processor_names"):
            value = getattr(self, name)
            object.__setattr__(self, name, (value,) if isinstance(value, str) else tuple(value))

    # -- validation -------------------------------------------------------------

    def problems(self) -> list[str]:
        """Everything wrong with this declaration, as sentences (empty when valid)."""
        found: list[str] = []
        if not isinstance(self.model_type, str) or not _MODEL_TYPE.match(self.model_type):
            found.append(f"model_type must be a non-empty name, not {self.model_type!r}")
        for label, reference in self.references().items():
            if not isinstance(reference, str) or not _REFERENCE.match(reference):
                found.append(f"{label} must be a 'package.module:ClassName' reference, not {reference!r}")
        for task in self.models:
            if task not in TASK_IDS:
                found.append(f"models has unknown task id {task!r} (known: see autoload.tasks)")
        for name in ("tokenizer_names", "feature_extractor_names", "image_processor_names", "processor_names"):
            if not all(isinstance(item, str) and item for item in getattr(self, name)):
                found.append(f"{name} must be a tuple of class names")
        claimed = sorted(GENERIC_TOKENIZER_NAMES.intersection(self.tokenizer_names))
        if isinstance(self.tokenizer, str) and not self.tokenizer.startswith("autoload.tokenization"):
            claimed += [name for name in [reference_name(self.tokenizer)] if name in GENERIC_TOKENIZER_NAMES]
        if claimed:
            found.append(
                f"tokenizer_names claims the host's generic tokenizer name(s) {', '.join(claimed)}, which always "
                "resolve to the host's TokenizersBackend; drop them (a checkpoint recording them gets the host's "
                "tokenizer) or declare tokenizer='autoload.tokenization:TokenizersBackend'"
            )
        return found

    def validate(self, *, source: str, entry_point_name: str | None = None) -> None:
        found = self.problems()
        if entry_point_name is not None and self.model_type != entry_point_name:
            found.append(
                f"model_type {self.model_type!r} does not match the entry point's name {entry_point_name!r} "
                "(the entry point name must be the model_type it serves)"
            )
        if found:
            raise InvalidArchitectureError(f"Invalid Architecture declared by {source}: " + "; ".join(found) + ".")

    # -- references -------------------------------------------------------------

    def references(self) -> dict[str, str]:
        """Every class reference, labelled (``"config"``, ``"models[masked-lm]"``, ...)."""
        found: dict[str, str] = {"config": self.config}
        for kind in PROCESSING_KINDS:
            value = getattr(self, kind)
            if value is not None:
                found[kind] = value
        for task, reference in self.models.items():
            found[f"models[{task}]"] = reference
        return found

    def processing_names(self, kind: str) -> tuple[str, ...]:
        """Class names under which ``kind`` (``"tokenizer"``, ...) may be recorded in saved files."""
        reference = getattr(self, kind)
        if reference is None:
            return ()
        extra = getattr(self, f"{kind}_names")
        return (reference_name(reference), *extra)
