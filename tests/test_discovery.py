"""Discovery through real entry points of the test distributions under tests/plugins/."""

from __future__ import annotations

import sys
import threading

import pytest

import autoload
from autoload.discovery import Discovery
from autoload.errors import InvalidArchitectureError, PluginConflictError, PluginLoadError


def test_entry_points_are_read_without_importing_plugins(autoload_registry):
    for name in list(sys.modules):
        if name.startswith("autoload_test_"):
            del sys.modules[name]
    model_types = autoload_registry.discovery.model_types()
    assert {"toy", "toy-text", "broken-import", "broken-hook", "twin"} <= set(model_types)
    assert not [name for name in sys.modules if name.startswith("autoload_test_")]


def test_resolving_one_model_type_loads_only_its_plugin(autoload_registry):
    for name in list(sys.modules):
        if name.startswith("autoload_test_"):
            del sys.modules[name]
    architecture = autoload_registry.architecture("toy")
    assert architecture.model_type == "toy"
    loaded = {name for name in sys.modules if name.startswith("autoload_test_")}
    assert loaded == {"autoload_test_good", "autoload_test_good.plugin"}


def test_one_module_serving_two_model_types_is_registered_once(autoload_registry):
    assert autoload_registry.architecture("toy").model_type == "toy"
    assert autoload_registry.architecture("toy-text").model_type == "toy-text"
    manager = autoload_registry.discovery.plugin_manager
    modules = [
        plugin for plugin in manager.get_plugins() if getattr(plugin, "__name__", "").startswith("autoload_test_good")
    ]
    assert len(modules) == 1


def test_import_failure_names_distribution_version_and_entry_point(autoload_registry):
    with pytest.raises(PluginLoadError) as info:
        autoload_registry.architecture("broken-import")
    message = str(info.value)
    assert "autoload-test-import-error 1.0.0" in message
    assert "broken-import = autoload_test_import_error.plugin" in message
    assert isinstance(info.value.__cause__, ModuleNotFoundError)
    # every other model type keeps working
    assert autoload_registry.architecture("toy").model_type == "toy"
    # asked again: the same clear error, the import is not retried
    with pytest.raises(PluginLoadError, match="autoload-test-import-error"):
        autoload_registry.architecture("broken-import")
    assert autoload_registry.discovery.load_count["broken-import"] == 1


def test_hook_raising_is_chained(autoload_registry):
    with pytest.raises(PluginLoadError) as info:
        autoload.AutoConfig.for_model("broken-hook")
    assert "autoload-test-hook-raises 1.0.0" in str(info.value)
    assert isinstance(info.value.__cause__, RuntimeError)


@pytest.mark.parametrize(
    ("model_type", "error", "fragment"),
    [
        ("bad-task", InvalidArchitectureError, "unknown task id 'teleportation'"),
        ("bad-reference", InvalidArchitectureError, "'not a reference'"),
        ("misnamed", InvalidArchitectureError, "entry point is named 'misnamed'"),
        ("wrong-return", PluginLoadError, "returned dict"),
    ],
)
def test_bad_declarations_are_reported_with_the_distribution(autoload_registry, model_type, error, fragment):
    with pytest.raises(error) as info:
        autoload_registry.architecture(model_type)
    assert fragment in str(info.value)
    assert "autoload-test-bad-declaration 1.0.0" in str(info.value)


def test_reference_that_does_not_import_names_the_plugin(autoload_registry):
    # "toy"'s references all import; make one that does not through a runtime view of a declaration
    from autoload.architecture import Architecture

    architecture = Architecture(model_type="toy", config="autoload_test_good.nowhere:Config")
    autoload_registry.discovery._loaded["toy"] = architecture
    with pytest.raises(PluginLoadError, match=r"autoload-test-good 1\.0\.0.*cannot be imported"):
        autoload_registry.config_class("toy")


def test_two_distributions_for_one_model_type_is_an_error_naming_both(autoload_registry):
    with pytest.raises(PluginConflictError) as info:
        autoload_registry.architecture("twin")
    message = str(info.value)
    assert "autoload-test-twin-a" in message and "autoload-test-twin-b" in message
    assert "AUTOLOAD_PLUGIN_PREFERENCE" in message


@pytest.mark.parametrize("chosen", ["a", "b"])
def test_preference_chooses_one_twin(autoload_environment, chosen):
    registry = autoload_environment(AUTOLOAD_PLUGIN_PREFERENCE=f"twin=autoload-test-twin-{chosen}")
    assert registry.config_class("twin").origin == chosen


def test_disabling_one_twin_resolves_the_conflict(autoload_environment):
    registry = autoload_environment(AUTOLOAD_DISABLE_PLUGINS="autoload_test_twin_a")
    assert registry.config_class("twin").origin == "b"


def test_disable_by_model_type(autoload_environment):
    registry = autoload_environment(AUTOLOAD_DISABLE_PLUGINS="toy, broken-hook")
    assert "toy" not in registry.known_model_types()
    assert "toy-text" in registry.known_model_types()
    with pytest.raises(autoload.UnknownModelTypeError):
        registry.config_class("toy")


def test_autoload_can_be_turned_off(autoload_environment):
    registry = autoload_environment(AUTOLOAD_DISABLE_PLUGIN_AUTOLOAD="1")
    assert registry.known_model_types() == []
    with pytest.raises(autoload.UnknownModelTypeError):
        registry.config_class("toy")


def test_many_threads_load_a_plugin_exactly_once():
    discovery = Discovery()
    barrier = threading.Barrier(16)
    results: list[object] = []
    errors: list[BaseException] = []

    def resolve() -> None:
        try:
            barrier.wait()
            results.append(discovery.architecture("toy"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=resolve) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 16 and all(result is results[0] for result in results)
    assert discovery.load_count == {"toy": 1}


def test_a_plugin_module_imported_anew_is_registered_anew():
    discovery = Discovery()
    assert discovery.architecture("toy").model_type == "toy"
    for name in list(sys.modules):
        if name.startswith("autoload_test_good"):
            del sys.modules[name]
    assert discovery.architecture("toy-text").model_type == "toy-text"


def test_a_disabled_plugin_is_reported_as_disabled_not_missing(autoload_environment):
    registry = autoload_environment(AUTOLOAD_DISABLE_PLUGINS="toy")
    with pytest.raises(autoload.UnknownModelTypeError) as info:
        registry.config_class("toy")
    message = str(info.value)
    assert "autoload-test-good 1.0.0" in message and "disabled" in message
    assert "AUTOLOAD_DISABLE_PLUGINS=toy" in message and "pip install" not in message
    assert [source.model_type for source in registry.discovery.disabled_sources()] == ["toy"]


def test_with_autoload_off_an_installed_plugin_is_reported_as_disabled(autoload_environment):
    registry = autoload_environment(AUTOLOAD_DISABLE_PLUGIN_AUTOLOAD="1")
    with pytest.raises(autoload.UnknownModelTypeError, match="AUTOLOAD_DISABLE_PLUGIN_AUTOLOAD=1") as info:
        registry.config_class("toy")
    assert "autoload-test-good" in str(info.value)


def test_disabling_a_name_no_plugin_has_warns(autoload_environment):
    registry = autoload_environment(AUTOLOAD_DISABLE_PLUGINS="toy, no-such-plugin")
    with pytest.warns(UserWarning, match="'no-such-plugin'.*disables nothing"):
        registry.known_model_types()
    assert "toy" not in registry.known_model_types()


def test_disabling_by_distribution_and_model_type_pair_warns_about_nothing(autoload_environment, recwarn):
    registry = autoload_environment(AUTOLOAD_DISABLE_PLUGINS="autoload-test-good:toy-text,autoload_test_twin_a")
    known = registry.known_model_types()
    assert "toy-text" not in known and "toy" in known
    assert not [warning for warning in recwarn if "AUTOLOAD_DISABLE_PLUGINS" in str(warning.message)]


def test_task_error_considers_plugins_not_loaded_yet(tmp_path, autoload_registry):
    """The toy-text plugin serves masked-lm; asking a toy checkpoint for it names that, though nothing loaded it."""
    (tmp_path / "config.json").write_text('{"model_type": "toy"}')
    assert autoload_registry.discovery.loaded_architectures() == {}
    with pytest.raises(autoload.TaskNotSupportedError) as info:
        autoload.AutoModelForMaskedLM.from_pretrained(tmp_path)
    assert "Installed architectures with 'masked-lm': " in str(info.value)
    assert "toy-text (autoload-test-good)" in str(info.value)
