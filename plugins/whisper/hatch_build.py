"""Lets the build accept the ``Framework :: autoload`` classifier.

hatchling checks classifiers against the official list; until that list
carries ``Framework :: autoload`` this hook declares it known.  hatchling runs
it when building from the source tree (``pip install .``, ``python -m build
--sdist --wheel``), not when building a wheel from an sdist.  Delete this file
and the ``[tool.hatch.metadata.hooks.custom]`` table once the list has it.
"""

from hatchling.metadata.plugin.interface import MetadataHookInterface


class AutoloadClassifiers(MetadataHookInterface):
    def update(self, metadata: dict) -> None:
        pass

    def get_known_classifiers(self) -> list[str]:
        return ["Framework :: autoload"]
