"""autoload.testing: the fixtures, the tiny-checkpoint factory and the conformance suite.

The suite is run here on purpose-broken copies of a generated plugin, so each
of its checks is seen to fail for the fault it exists to catch (and to pass
on the healthy copy).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import autoload
import autoload.testing
from autoload.registry import get_registry
from autoload.scaffold import PluginNames, render_plugin
from autoload.testing import assert_same_outputs, isolated_registry, non_public_imports

torch = pytest.importorskip("torch")
pytest.importorskip("autoload_plugin_bert")

# -- fixtures -----------------------------------------------------------------------


def test_tiny_checkpoint_saves_a_small_model_its_auto_class_loads(tiny_checkpoint) -> None:
    path = tiny_checkpoint("bert", "masked-lm")
    assert (path / "config.json").is_file()
    model = autoload.AutoModelForMaskedLM.from_pretrained(path)
    assert type(model).__name__ == "BertForMaskedLM"
    assert (model.config.hidden_size, model.config.num_hidden_layers, model.config.num_attention_heads) == (32, 2, 4)


def test_tiny_checkpoint_is_reproducible_and_takes_overrides(tiny_checkpoint) -> None:
    first = autoload.AutoModel.from_pretrained(tiny_checkpoint("bert", vocab_size=50))
    second = autoload.AutoModel.from_pretrained(tiny_checkpoint("bert", vocab_size=50))
    other_seed = autoload.AutoModel.from_pretrained(tiny_checkpoint("bert", vocab_size=50, seed=1))
    assert first.config.vocab_size == 50
    weights = first.state_dict()
    assert all(torch.equal(tensor, second.state_dict()[name]) for name, tensor in weights.items())
    assert not all(torch.equal(tensor, other_seed.state_dict()[name]) for name, tensor in weights.items())
    classifier = autoload.AutoModelForSequenceClassification.from_pretrained(
        tiny_checkpoint("bert", "sequence-classification", num_labels=3)
    )
    assert classifier.classifier.out_features == 3


def test_tiny_checkpoint_rejects_unknown_tasks(tiny_checkpoint) -> None:
    with pytest.raises(autoload.UnknownTaskError, match="sequence-classification"):
        tiny_checkpoint("bert", "sequence-clasification")


def test_isolated_registry_restores_the_process_registry() -> None:
    before = get_registry()
    with isolated_registry() as registry:
        assert get_registry() is registry is not before
    assert get_registry() is before


def test_autoload_registry_fixture_is_private_to_the_test(autoload_registry) -> None:
    assert get_registry() is autoload_registry
    assert "bert" in autoload_registry.known_model_types()


def test_autoload_environment_fixture_sees_its_variables(autoload_environment) -> None:
    registry = autoload_environment(AUTOLOAD_DISABLE_PLUGINS="bert")
    assert get_registry() is registry
    assert "bert" not in registry.known_model_types()


def test_kit_names_are_public_and_the_pytest_plugin_is_light() -> None:
    exported = set(dir(autoload.testing))
    assert {"PluginConformance", "assert_same_outputs", "tiny_config", "isolated_registry"} <= exported
    with pytest.raises(AttributeError):
        autoload.testing.NoSuchThing  # noqa: B018
    code = "import sys, autoload.testing.plugin; print(sorted(m for m in sys.modules if m in ('torch', 'numpy')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# -- helpers of the suite ---------------------------------------------------------------------


def test_assert_same_outputs_finds_each_kind_of_difference() -> None:
    from autoload.modeling import BaseModelOutput

    tensor = torch.arange(6.0).reshape(2, 3)
    output = BaseModelOutput(last_hidden_state=tensor, hidden_states=(tensor, tensor + 1))
    assert_same_outputs(BaseModelOutput(last_hidden_state=tensor.clone(), hidden_states=(tensor, tensor + 1)), output)
    with pytest.raises(AssertionError, match=r"hidden_states\[1\]"):
        assert_same_outputs(BaseModelOutput(last_hidden_state=tensor, hidden_states=(tensor, tensor + 2)), output)
    with pytest.raises(AssertionError, match="keys"):
        assert_same_outputs(BaseModelOutput(last_hidden_state=tensor), output)
    with pytest.raises(AssertionError, match="length"):
        assert_same_outputs([tensor], [tensor, tensor])
    with pytest.raises(AssertionError, match="dtype"):
        assert_same_outputs(tensor.double(), tensor)
    assert_same_outputs(tensor + 1e-7, tensor)  # within atol
    with pytest.raises(AssertionError, match="input_ids"):
        assert_same_outputs({"input_ids": [[1, 2]]}, {"input_ids": [[1, 3]]})


def test_non_public_imports_flags_private_host_modules_and_other_plugins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "autoload_plugin_probe"
    package.mkdir()
    (package / "__init__.py").write_text("from autoload import PretrainedConfig\nimport autoload.modeling\n")
    (package / "bad.py").write_text(
        "from autoload.errors import ConfigError\nimport autoload_plugin_bert.modeling\n"
        "from autoload_plugin_probe import bad\nfrom . import good\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert non_public_imports("autoload_plugin_probe") == [
        "bad.py:1: autoload.errors",
        "bad.py:2: autoload_plugin_bert.modeling",
    ]


# -- the suite on healthy and broken plugins ---------------------------------------------------

MODEL_TYPE = "kit-probe"
NAMES = PluginNames(MODEL_TYPE)
ALL_TESTS = {
    "test_entry_point_names_match_declared_model_types",
    "test_declaration_is_valid",
    "test_every_reference_imports",
    "test_declaration_module_imports_nothing_heavy",
    "test_config_module_imports_nothing_heavy",
    "test_imports_only_public_host_api",
    "test_config_round_trips_json_and_loads_in_autoconfig",
    "test_head_builds_runs_and_survives_save_load[base]",
    "test_head_builds_runs_and_survives_save_load[sequence-classification]",
}


def _install_probe(root: Path, edits: dict[str, tuple[str, str]], extra_entry_points: str = "") -> Path:
    """Write the generated plugin, apply ``{file: (old, new)}`` edits, and make it importable with metadata.

    Installing is done by hand (package folder plus ``.dist-info``) so every
    variant costs milliseconds; ``test_scaffold`` installs with pip.
    """
    files = render_plugin(MODEL_TYPE, ["sequence-classification"])
    for relative, (old, new) in edits.items():
        assert old in files[relative], (relative, old)
        files[relative] = files[relative].replace(old, new, 1)
    site = root / "site"
    for relative, text in files.items():
        if relative.startswith("src/"):
            target = site / relative.removeprefix("src/")
        elif relative.startswith("tests/"):
            target = root / relative
        else:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    dist_info = site / f"{NAMES.package}-0.1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {NAMES.distribution}\nVersion: 0.1.0\n")
    (dist_info / "entry_points.txt").write_text(
        f"[autoload.architectures]\n{MODEL_TYPE} = {NAMES.package}.plugin\n{extra_entry_points}"
    )
    return site


def _run_suite(root: Path, site: Path) -> tuple[set[str], set[str], str]:
    """Run the probe's conformance tests in a fresh interpreter; returns (passed, failed, output)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(root / "tests" / "test_conformance.py"), "-rA", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        cwd=root,
        env=env,
        timeout=600,
    )
    output = result.stdout + result.stderr
    outcomes: dict[str, set[str]] = {"PASSED": set(), "FAILED": set()}
    for outcome, name in re.findall(r"^(PASSED|FAILED) \S+::Test\w+::(\S+)", output, flags=re.MULTILINE):
        outcomes[outcome].add(name)
    return outcomes["PASSED"], outcomes["FAILED"], output


def test_suite_passes_on_a_healthy_plugin(tmp_path: Path) -> None:
    passed, failed, output = _run_suite(tmp_path, _install_probe(tmp_path, {}))
    assert (passed, failed) == (ALL_TESTS, set()), output


FUTURE = "from __future__ import annotations\n"


def test_suite_catches_heavy_declarations_private_imports_and_lossy_configs(tmp_path: Path) -> None:
    package = f"src/{NAMES.package}"
    private_import = "import torch\nfrom autoload.errors import ConfigError  # noqa: F401\n"
    lossy = "self.initializer_range = initializer_range"
    site = _install_probe(
        tmp_path,
        {
            f"{package}/plugin.py": (FUTURE, FUTURE + "\nimport torch  # noqa: F401\n"),
            f"{package}/modeling.py": ("import torch\n", private_import),
            f"{package}/configuration.py": (lossy + "\n", lossy + " * 2\n"),
        },
    )
    passed, failed, output = _run_suite(tmp_path, site)
    expected = {
        "test_declaration_module_imports_nothing_heavy",
        "test_imports_only_public_host_api",
        "test_config_round_trips_json_and_loads_in_autoconfig",
    }
    assert failed == expected, output
    assert passed == ALL_TESTS - expected, output
    assert re.search(r"calling its hook imported \[[^]]*'torch'", output), output
    assert "modeling.py:" in output and "autoload.errors" in output


def test_suite_catches_broken_references_and_entry_points_without_declarations(tmp_path: Path) -> None:
    package = f"src/{NAMES.package}"
    site = _install_probe(
        tmp_path,
        {f"{package}/plugin.py": (":KitProbeForSequenceClassification", ":KitProbeForSequenceClasification")},
        extra_entry_points=f"kit-probe-twin = {NAMES.package}.plugin\n",
    )
    passed, failed, output = _run_suite(tmp_path, site)
    expected = {
        "test_entry_point_names_match_declared_model_types",
        "test_every_reference_imports",
        "test_head_builds_runs_and_survives_save_load[sequence-classification]",
    }
    assert failed == expected, output
    assert passed == ALL_TESTS - expected, output
    assert "KitProbeForSequenceClasification" in output and "kit-probe-twin" in output


def test_suite_catches_state_that_does_not_survive_save_load(tmp_path: Path) -> None:
    package = f"src/{NAMES.package}"
    site = _install_probe(
        tmp_path,
        {
            f"{package}/modeling.py": (
                '        self.register_buffer("position_ids", positions, persistent=False)\n',
                '        self.register_buffer("position_ids", positions, persistent=False)\n'
                '        self.register_buffer("noise", torch.randn(config.hidden_size), persistent=False)\n',
            ),
        },
    )
    modeling = site / NAMES.package / "modeling.py"
    before = "self.layer_norm(embeddings)"
    assert before in modeling.read_text()
    modeling.write_text(modeling.read_text().replace(before, "self.layer_norm(embeddings + self.noise)"))
    passed, failed, output = _run_suite(tmp_path, site)
    heads = {name for name in ALL_TESTS if name.startswith("test_head_")}
    assert failed == heads, output
    assert passed == ALL_TESTS - heads, output


def test_public_host_modules_include_the_shared_layers_and_generation():
    from autoload.testing.conformance import PUBLIC_HOST_MODULES

    assert {"autoload.modeling.layers", "autoload.generation"} <= PUBLIC_HOST_MODULES


def test_assert_same_outputs_compares_caches_by_content():
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from autoload.modeling import CausalLMOutputWithPast
    from autoload.testing import assert_same_outputs

    def cache(shift: float):
        built = transformers.DynamicCache()
        for layer in range(2):
            keys = torch.arange(8.0).view(1, 1, 2, 4) + layer
            built.update(keys + shift, keys * 2, layer)
        return built

    logits = torch.zeros(1, 2, 3)
    same = CausalLMOutputWithPast(logits=logits, past_key_values=cache(0.0))
    assert_same_outputs(same, CausalLMOutputWithPast(logits=logits, cache=cache(0.0)))
    with pytest.raises(AssertionError, match=r"output\.cache\[0\]\.keys"):
        assert_same_outputs(CausalLMOutputWithPast(logits=logits, cache=cache(1.0)), same)
    with pytest.raises(AssertionError, match="key/value cache"):
        assert_same_outputs(CausalLMOutputWithPast(logits=logits, cache=(1, 2)), same)
    pair = transformers.EncoderDecoderCache(cache(0.0), cache(0.0))
    other = transformers.EncoderDecoderCache(cache(0.0), cache(2.0))
    with pytest.raises(AssertionError, match="cross_attention_cache"):
        assert_same_outputs(other, pair)
