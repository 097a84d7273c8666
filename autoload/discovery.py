"""Finding plugins: entry points first, then pluggy, one model type at a time.

The ``autoload.architectures`` entry-point group is read once per process
(names and values only: nothing is imported).  A model type is served by
loading just the entry point of that name, registering the module with the
process's pluggy ``PluginManager`` and calling its ``autoload_architectures``
hook.  Each plugin is loaded at most once, even when many threads ask for it
at the same moment, and a plugin that fails is reported with its distribution
while every other model type keeps working.

Environment variables (read when discovery first runs):

``AUTOLOAD_DISABLE_PLUGIN_AUTOLOAD=1``
    Ignore installed plugins; only classes registered at run time are known.
``AUTOLOAD_DISABLE_PLUGINS=name,name``
    Ignore these plugins; a name is a model type (``bert``), a distribution
    (``autoload-plugin-bert``) or ``distribution:model_type``.  A name that
    matches no installed plugin is warned about (a typo would otherwise
    disable nothing in silence).  Disabled plugins stay visible: ``autoload
    list`` shows them as disabled, and asking for their model type says so.
``AUTOLOAD_PLUGIN_PREFERENCE=model_type=distribution,...``
    When several distributions declare one model type, use this one.
"""

from __future__ import annotations

import os
import re
import threading
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from autoload.architecture import Architecture
from autoload.errors import InvalidArchitectureError, PluginConflictError, PluginLoadError

if TYPE_CHECKING:
    import pluggy

ENTRY_POINT_GROUP = "autoload.architectures"
ENV_DISABLE_AUTOLOAD = "AUTOLOAD_DISABLE_PLUGIN_AUTOLOAD"
ENV_DISABLE_PLUGINS = "AUTOLOAD_DISABLE_PLUGINS"
ENV_PREFERENCE = "AUTOLOAD_PLUGIN_PREFERENCE"


def _normalise_distribution(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


_DIST_INFO = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._]*?)-(?P<version>[^-]+)\.dist-info$")


def _distribution_identity(dist: Any) -> tuple[str, str]:
    """Name and version of a distribution, from its ``.dist-info`` folder name when possible.

    The folder name carries both, so this costs no file read: with a thousand
    plugins installed, reading a thousand METADATA files would dominate the
    first lookup.
    """
    if dist is None:
        return "<unknown distribution>", "?"
    path = getattr(dist, "_path", None)
    match = _DIST_INFO.match(getattr(path, "name", "") or "")
    if match:
        return _normalise_distribution(match["name"]), match["version"]
    return _normalise_distribution(dist.metadata["Name"] or "<unknown distribution>"), dist.version or "?"


def _split_list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


@dataclass(frozen=True)
class PluginSource:
    """Where a model type's declaration comes from: one entry point of one distribution."""

    model_type: str
    value: str
    distribution: str
    version: str

    def describe(self) -> str:
        return f"distribution {self.distribution} {self.version} (entry point {self.model_type} = {self.value})"


@dataclass(frozen=True)
class _Candidate:
    source: PluginSource
    entry_point: Any


class Discovery:
    """Lazily loads plugins from the ``autoload.architectures`` entry points."""

    def __init__(self, *, group: str = ENTRY_POINT_GROUP, environ: dict[str, str] | None = None) -> None:
        self.group = group
        env = os.environ if environ is None else environ
        self.autoload_enabled = env.get(ENV_DISABLE_AUTOLOAD, "").strip().lower() not in ("1", "true", "yes", "on")
        self.disable_setting = env.get(ENV_DISABLE_PLUGINS, "").strip()
        self.disabled = {_normalise_distribution(name) for name in _split_list(self.disable_setting)}
        self.preference: dict[str, str] = {}
        for item in _split_list(env.get(ENV_PREFERENCE)):
            model_type, _, distribution = item.partition("=")
            if model_type and distribution:
                self.preference[model_type.strip()] = _normalise_distribution(distribution.strip())
        self._lock = threading.RLock()
        self._type_locks: dict[str, threading.Lock] = {}
        self._candidates: dict[str, list[_Candidate]] | None = None
        self._disabled_sources: list[PluginSource] | None = None
        self._loaded: dict[str, Architecture] = {}
        self._failed: dict[str, PluginLoadError] = {}
        self._plugin_manager: pluggy.PluginManager | None = None
        self.load_count: dict[str, int] = {}

    # -- entry points ---------------------------------------------------------

    def _read_entry_points(self) -> dict[str, list[_Candidate]]:
        if self._candidates is not None:
            return self._candidates
        with self._lock:
            if self._candidates is not None:
                return self._candidates
            candidates: dict[str, list[_Candidate]] = {}
            if self.autoload_enabled:
                disabled: list[PluginSource] = []
                matched: set[str] = set()
                for source, entry_point in self._scan():
                    names = self._disable_names(source.model_type, source.distribution) & self.disabled
                    if names:
                        matched |= names
                        disabled.append(source)
                    else:
                        candidates.setdefault(source.model_type, []).append(_Candidate(source, entry_point))
                self._warn_unmatched(self.disabled - matched)
                self._disabled_sources = disabled
            self._candidates = candidates
            return candidates

    def _scan(self) -> list[tuple[PluginSource, Any]]:
        """Every entry point of the group, once per distribution (names and values only; nothing imported)."""
        from importlib.metadata import entry_points

        found: list[tuple[PluginSource, Any]] = []
        seen: set[tuple[str, str]] = set()
        for entry_point in entry_points(group=self.group):
            dist_name, version = _distribution_identity(entry_point.dist)
            key = (_normalise_distribution(dist_name), entry_point.name)
            if key in seen:  # the same distribution found twice on sys.path
                continue
            seen.add(key)
            found.append((PluginSource(entry_point.name, entry_point.value, dist_name, version), entry_point))
        return found

    @staticmethod
    def _disable_names(model_type: str, distribution: str) -> set[str]:
        """The names in AUTOLOAD_DISABLE_PLUGINS that switch this entry point off."""
        dist = _normalise_distribution(distribution)
        kind = _normalise_distribution(model_type)
        return {kind, dist, f"{dist}:{kind}"}

    def _warn_unmatched(self, names: set[str]) -> None:
        if not names:
            return
        warnings.warn(
            f"{ENV_DISABLE_PLUGINS} names {', '.join(repr(name) for name in sorted(names))}, which no installed "
            "autoload plugin matches, so it disables nothing. Use a model type (bert), a distribution "
            "(autoload-plugin-bert) or distribution:model_type; `autoload list` shows the installed ones.",
            UserWarning,
            stacklevel=2,
        )

    def disabled_sources(self) -> list[PluginSource]:
        """Installed plugins the environment switches off (read from entry points; nothing imported).

        With ``AUTOLOAD_DISABLE_PLUGIN_AUTOLOAD`` set that is every installed
        plugin; the entry points are then read only when this is asked.
        """
        self._read_entry_points()
        if self._disabled_sources is None:
            with self._lock:
                if self._disabled_sources is None:
                    self._disabled_sources = [source for source, _ in self._scan()]
        return list(self._disabled_sources)

    def disabled_because(self) -> str:
        """The setting that disables plugins, as the user wrote it, and how to undo it (for messages)."""
        if not self.autoload_enabled:
            return f"{ENV_DISABLE_AUTOLOAD}=1 (unset it to load installed plugins)"
        return f"{ENV_DISABLE_PLUGINS}={self.disable_setting} (remove it from that list to use it)"

    def model_types(self) -> list[str]:
        """Model types installed plugins declare (read from entry points; nothing imported)."""
        return sorted(self._read_entry_points())

    def sources(self, model_type: str) -> list[PluginSource]:
        return [candidate.source for candidate in self._read_entry_points().get(model_type, [])]

    def all_sources(self) -> list[PluginSource]:
        return [c.source for group in self._read_entry_points().values() for c in group]

    def _choose(self, model_type: str) -> _Candidate | None:
        candidates = self._read_entry_points().get(model_type, [])
        if len(candidates) <= 1:
            return candidates[0] if candidates else None
        preferred = self.preference.get(model_type)
        if preferred is not None:
            for candidate in candidates:
                if _normalise_distribution(candidate.source.distribution) == preferred:
                    return candidate
        names = " and ".join(f"{c.source.distribution} {c.source.version}" for c in candidates)
        raise PluginConflictError(
            f"Model type {model_type!r} is declared by more than one installed distribution: {names}. "
            f"Uninstall one, or choose with {ENV_PREFERENCE}={model_type}=<distribution>, or disable one with "
            f"{ENV_DISABLE_PLUGINS}=<distribution>."
        )

    # -- loading --------------------------------------------------------------

    @property
    def plugin_manager(self) -> pluggy.PluginManager:
        if self._plugin_manager is None:
            with self._lock:
                if self._plugin_manager is None:
                    import pluggy

                    from autoload import hookspecs

                    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
                    manager.add_hookspecs(hookspecs)
                    self._plugin_manager = manager
        return self._plugin_manager

    def architecture(self, model_type: str) -> Architecture | None:
        """The declaration installed plugins make for ``model_type``, loading its plugin on first use.

        ``None`` when no installed plugin declares it.  A broken plugin raises
        :class:`PluginLoadError` (every time it is asked, without retrying the
        import), two declaring distributions :class:`PluginConflictError`.
        """
        found = self._loaded.get(model_type)
        if found is not None:
            return found
        with self._lock:
            type_lock = self._type_locks.setdefault(model_type, threading.Lock())
        with type_lock:
            found = self._loaded.get(model_type)
            if found is not None:
                return found
            failure = self._failed.get(model_type)
            if failure is not None:  # the same error, freshly raised: the import is not retried
                raise type(failure)(str(failure)) from failure.__cause__
            candidate = self._choose(model_type)
            if candidate is None:
                return None
            try:
                architecture = self._load(candidate)
            except PluginLoadError as exc:
                self._failed[model_type] = exc
                raise
            self._loaded[model_type] = architecture
            return architecture

    def _load(self, candidate: _Candidate) -> Architecture:
        source = candidate.source
        self.load_count[source.model_type] = self.load_count.get(source.model_type, 0) + 1
        try:
            module = candidate.entry_point.load()
        except BaseException as exc:
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            raise PluginLoadError(
                f"The autoload plugin of {source.describe()} failed to import: {type(exc).__name__}: {exc}. "
                f"Reinstall or upgrade {source.distribution}, or disable it with "
                f"{ENV_DISABLE_PLUGINS}={source.distribution}."
            ) from exc
        results = self._call_hook(module, source)
        declarations: list[Any] = results if isinstance(results, list) else [results]
        for item in declarations:
            if not isinstance(item, Architecture):
                raise PluginLoadError(
                    f"autoload_architectures() of {source.describe()} returned {type(item).__name__} "
                    f"({item!r:.80}); it must return an autoload.Architecture or a list of them."
                )
        matching = [item for item in declarations if item.model_type == source.model_type]
        if not matching:
            declared = ", ".join(repr(item.model_type) for item in declarations) or "nothing"
            raise InvalidArchitectureError(
                f"Invalid Architecture declared by {source.describe()}: the entry point is named "
                f"{source.model_type!r} but the plugin declares {declared}; the entry point name must be the "
                "model_type it serves."
            )
        if len(matching) > 1:
            raise InvalidArchitectureError(
                f"{source.describe()} declares model type {source.model_type!r} more than once."
            )
        matching[0].validate(source=source.describe(), entry_point_name=source.model_type)
        return matching[0]

    def _call_hook(self, module: Any, source: PluginSource) -> Any:
        import pluggy

        manager = self.plugin_manager
        name = f"{source.distribution}:{source.value}"
        try:
            registered = manager.get_plugin(name)
            if registered is not module:
                # The module was imported anew (dropped from sys.modules and reloaded):
                # the hooks to call are the new module's.
                if registered is not None:
                    manager.unregister(name=name)
                if not manager.is_registered(module):
                    manager.register(module, name=name)
            manager.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginLoadError(
                f"The autoload plugin of {source.describe()} breaks the hook contract: {exc}"
            ) from exc
        implementations = [
            impl for impl in manager.hook.autoload_architectures.get_hookimpls() if impl.plugin is module
        ]
        if not implementations:
            raise PluginLoadError(
                f"The autoload plugin of {source.describe()} implements no autoload_architectures hook "
                "(a function marked with @autoload.hookimpl)."
            )
        try:
            return implementations[0].function()
        except Exception as exc:
            raise PluginLoadError(
                f"autoload_architectures() of {source.describe()} raised {type(exc).__name__}: {exc}"
            ) from exc

    def load_all(self) -> tuple[dict[str, Architecture], dict[str, Exception]]:
        """Load every installed plugin; returns the declarations and the faults by model type."""
        loaded: dict[str, Architecture] = {}
        faults: dict[str, Exception] = {}
        for model_type in self.model_types():
            try:
                architecture = self.architecture(model_type)
            except (PluginLoadError, PluginConflictError) as exc:
                faults[model_type] = exc
            else:
                if architecture is not None:
                    loaded[model_type] = architecture
        return loaded, faults

    def loaded_architectures(self) -> dict[str, Architecture]:
        return dict(self._loaded)


_discovery: Discovery | None = None
_discovery_lock = threading.Lock()


def get_discovery() -> Discovery:
    """The process-wide discovery (created on first use, so environment variables set before it count)."""
    global _discovery
    if _discovery is None:
        with _discovery_lock:
            if _discovery is None:
                _discovery = Discovery()
    return _discovery


def set_discovery(discovery: Discovery | None) -> Discovery | None:
    """Replace the process-wide discovery (tests, the testing kit); returns the previous one."""
    global _discovery
    with _discovery_lock:
        previous, _discovery = _discovery, discovery
    return previous
