"""The conformance suite: what every autoload plugin must get right, as inheritable pytest tests.

A plugin enables it with one class in its tests::

    from autoload.testing import PluginConformance

    class TestBertConformance(PluginConformance):
        model_type = "bert"
        tiny_config = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 37}

The checks read the plugin the way autoload reads it (through its entry
point), so they catch what unit tests of the classes themselves miss: a
reference with a typo, a declaration module that drags in torch, a config
that does not survive ``config.json``, a head that cannot be reloaded by its
Auto class, a tokenizer that saves less than it needs.  Hooks
(``make_config``, ``make_inputs``, ``make_tokenizer``, ``make_processor``,
``processor_inputs``) adapt the suite to architectures with unusual inputs.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import importlib.util
import inspect
import json
import subprocess
import sys
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

from autoload.architecture import PROCESSING_KINDS, Architecture, import_reference
from autoload.discovery import ENTRY_POINT_GROUP, Discovery
from autoload.tasks import AUTO_CLASS_BY_TASK
from autoload.testing.isolation import isolated_registry

#: Modules a declaration or configuration module must not import (top-level names).
HEAVY_MODULES: tuple[str, ...] = ("torch", "numpy", "tokenizers", "PIL", "safetensors", "transformers")

#: The host modules a plugin may import; everything else in ``autoload`` may change without notice.
PUBLIC_HOST_MODULES: frozenset[str] = frozenset(
    {
        "autoload",
        "autoload.modeling",
        "autoload.modeling.layers",
        "autoload.generation",
        "autoload.tokenization",
        "autoload.processing",
        "autoload.testing",
        "autoload.hub",
        "autoload.files",
    }
)

_AUTO_PROCESSING_CLASS = {
    "tokenizer": "AutoTokenizer",
    "feature_extractor": "AutoFeatureExtractor",
    "image_processor": "AutoImageProcessor",
    "processor": "AutoProcessor",
}
_NOT_DECLARED = "<declaration unavailable>"


# -- comparing outputs ------------------------------------------------------------


def _cache_contents(value: Any) -> Any:
    """A key/value cache as plain data (None for anything else): what two caches must agree on."""
    if hasattr(value, "self_attention_cache") and hasattr(value, "cross_attention_cache"):
        return {
            "self_attention_cache": _cache_contents(value.self_attention_cache),
            "cross_attention_cache": _cache_contents(value.cross_attention_cache),
        }
    layers = getattr(value, "layers", None)
    if layers is None or not hasattr(value, "get_seq_length") or isinstance(value, (Mapping, list, tuple)):
        return None
    return [{"keys": getattr(layer, "keys", None), "values": getattr(layer, "values", None)} for layer in layers]


def assert_same_outputs(actual: Any, expected: Any, *, atol: float = 1e-5, rtol: float = 1e-5, where: str = "") -> None:
    """Assert two model or processor outputs are the same, field by field and element by element.

    Mappings (``ModelOutput``, ``BatchFeature``, dicts) must have the same
    keys in the same order, sequences the same length; tensors and arrays
    are compared with ``atol``/``rtol`` after checking shape and dtype;
    anything else with ``==``.  Key/value caches (autoload's or
    transformers') are compared by content: layer by layer, keys and values
    (an encoder-decoder cache: its self- and cross-attention parts).  The
    failure message names the path of the first difference
    (``output.hidden_states[1]``, ``output.cache[0].keys``).
    """
    label = where or "output"
    expected_cache = _cache_contents(expected)
    if expected_cache is not None:
        actual_cache = _cache_contents(actual)
        assert actual_cache is not None, f"{label}: expected a key/value cache, got {type(actual).__name__}"
        assert_same_outputs(actual_cache, expected_cache, atol=atol, rtol=rtol, where=label)
        return
    torch = sys.modules.get("torch")
    numpy = sys.modules.get("numpy")
    if torch is not None and isinstance(expected, torch.Tensor):
        assert isinstance(actual, torch.Tensor), f"{label}: expected a tensor, got {type(actual).__name__}"
        assert actual.shape == expected.shape, f"{label}: shape {tuple(actual.shape)} != {tuple(expected.shape)}"
        assert actual.dtype == expected.dtype, f"{label}: dtype {actual.dtype} != {expected.dtype}"
        torch.testing.assert_close(actual, expected, atol=atol, rtol=rtol, msg=lambda text: f"{label}: {text}")
    elif numpy is not None and isinstance(expected, numpy.ndarray):
        assert isinstance(actual, numpy.ndarray), f"{label}: expected an array, got {type(actual).__name__}"
        assert actual.shape == expected.shape, f"{label}: shape {actual.shape} != {expected.shape}"
        assert actual.dtype == expected.dtype, f"{label}: dtype {actual.dtype} != {expected.dtype}"
        if expected.dtype.kind in "fc":
            numpy.testing.assert_allclose(actual, expected, atol=atol, rtol=rtol, err_msg=label)
        else:
            numpy.testing.assert_array_equal(actual, expected, err_msg=label)
    elif isinstance(expected, Mapping):
        assert isinstance(actual, Mapping), f"{label}: expected a mapping, got {type(actual).__name__}"
        assert list(actual.keys()) == list(expected.keys()), (
            f"{label}: keys {list(actual.keys())} != {list(expected.keys())}"
        )
        for key in expected:
            assert_same_outputs(actual[key], expected[key], atol=atol, rtol=rtol, where=f"{label}.{key}")
    elif isinstance(expected, (list, tuple)):
        assert isinstance(actual, (list, tuple)), f"{label}: expected a sequence, got {type(actual).__name__}"
        assert len(actual) == len(expected), f"{label}: length {len(actual)} != {len(expected)}"
        for index, (left, right) in enumerate(zip(actual, expected)):
            assert_same_outputs(left, right, atol=atol, rtol=rtol, where=f"{label}[{index}]")
    else:
        assert actual == expected, f"{label}: {actual!r} != {expected!r}"


# -- reading a plugin the way autoload reads it -------------------------------------


def plugin_entry_points(model_type: str) -> list[importlib.metadata.EntryPoint]:
    """The installed ``autoload.architectures`` entry points named ``model_type`` (normally exactly one)."""
    return [ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP) if ep.name == model_type]


def _distribution_name(entry_point: importlib.metadata.EntryPoint) -> str:
    dist = entry_point.dist
    return dist.metadata["Name"] if dist is not None else "<unknown distribution>"


def _declarations(module: Any) -> list[Any]:
    hook = getattr(module, "autoload_architectures", None)
    assert callable(hook), f"{module.__name__} has no autoload_architectures() hook implementation"
    result = hook()
    return result if isinstance(result, list) else [result]


def _package_files(package: str) -> Iterator[Path]:
    spec = importlib.util.find_spec(package)
    assert spec is not None, f"package {package!r} cannot be found"
    roots = [Path(location) for location in spec.submodule_search_locations or ()]
    if not roots and spec.origin:
        yield Path(spec.origin)
    for root in roots:
        yield from sorted(root.rglob("*.py"))


def non_public_imports(package: str) -> list[str]:
    """Imports in ``package``'s source of private host modules or of other plugins, as ``file:line: module``."""
    found: list[str] = []
    for path in _package_files(package):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                private_host = top == "autoload" and name not in PUBLIC_HOST_MODULES
                other_plugin = top.startswith("autoload_plugin_") and top != package
                if private_host or other_plugin:
                    found.append(f"{path.name}:{node.lineno}: {name}")
    return found


def modules_loaded_by(code: str) -> set[str]:
    """Top-level names of the modules a fresh interpreter has loaded after running ``code``."""
    script = f"{code}\nimport sys\nprint('\\n'.join(sorted(sys.modules)))\n"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise AssertionError(f"the import check failed to run:\n{result.stderr}")
    return {line.partition(".")[0] for line in result.stdout.split()}


# -- the suite ----------------------------------------------------------------------------


class PluginConformance:
    """Inherit in a ``Test...`` class and set ``model_type`` (and ``tiny_config``) to run the suite.

    Every task the plugin declares is built from ``tiny_config`` through its
    Auto class; ``skip_tasks`` leaves some out (say why in a comment).
    """

    #: The model type under test: the name of the plugin's entry point.
    model_type: ClassVar[str] = ""
    #: Keyword arguments for the config class: keep models tiny (hidden size 32, 2 layers...).
    tiny_config: ClassVar[Mapping[str, Any]] = {}
    #: Declared tasks not to build (e.g. one needing inputs the default ``make_inputs`` cannot make).
    skip_tasks: ClassVar[Collection[str]] = ()
    atol: ClassVar[float] = 1e-5
    rtol: ClassVar[float] = 1e-5
    batch_size: ClassVar[int] = 2
    sequence_length: ClassVar[int] = 7
    num_choices: ClassVar[int] = 2
    num_samples: ClassVar[int] = 1600
    sampling_rate: ClassVar[int] = 16000
    sample_text: ClassVar[tuple[str, ...]] = ("Hello world!", "the quick brown fox jumps over the lazy dog")
    heavy_modules: ClassVar[tuple[str, ...]] = HEAVY_MODULES

    # -- collection -------------------------------------------------------------------

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "task" not in metafunc.fixturenames:
            return
        try:
            tasks = [task for task in self.architecture().models if task not in self.skip_tasks]
        except Exception:  # reported by the tests themselves, with the real error
            tasks = [_NOT_DECLARED]
        metafunc.parametrize("task", tasks)

    @pytest.fixture(autouse=True)
    def _isolated_autoload(self) -> Iterator[None]:
        if not self.model_type:
            pytest.fail(f"{type(self).__name__} must set model_type (the plugin's entry point name).")
        with isolated_registry():
            yield

    # -- what the plugin declares ------------------------------------------------------

    def entry_point(self) -> importlib.metadata.EntryPoint:
        found = plugin_entry_points(self.model_type)
        if not found:
            pytest.fail(
                f"No installed distribution has an {ENTRY_POINT_GROUP!r} entry point named {self.model_type!r}. "
                "Install the plugin (pip install -e .) and check [project.entry-points] in its pyproject.toml."
            )
        if len(found) > 1:
            names = ", ".join(_distribution_name(ep) for ep in found)
            pytest.fail(f"Model type {self.model_type!r} is declared by several distributions: {names}.")
        return found[0]

    def architecture(self) -> Architecture:
        """The declaration, loaded and validated exactly as autoload loads it."""
        architecture = Discovery().architecture(self.model_type)
        if architecture is None:
            self.entry_point()  # fails with the explanation
            raise AssertionError(f"no declaration found for {self.model_type!r}")
        return architecture

    def package(self) -> str:
        return self.entry_point().value.partition(":")[0].partition(".")[0]

    def config_class(self) -> type:
        return import_reference(self.architecture().config)

    def model_class(self, task: str) -> type:
        return import_reference(self.architecture().models[task])

    # -- hooks a plugin may override ----------------------------------------------------

    def make_config(self, task: str | None = None) -> Any:
        """The tiny config (for ``task`` when given) every model test builds from."""
        return self.config_class()(**dict(self.tiny_config))

    def make_inputs(self, config: Any, task: str) -> dict[str, Any]:
        """Forward arguments for the ``task`` model, chosen by the model's ``main_input_name``."""
        import torch

        model_class = self.model_class(task)
        main_input = getattr(model_class, "main_input_name", "input_ids")
        generator = torch.Generator().manual_seed(0)
        batch = self.batch_size
        if main_input == "input_ids":
            shape: tuple[int, ...] = (batch, self.sequence_length)
            if task == "multiple-choice":
                shape = (batch, self.num_choices, self.sequence_length)
            input_ids = torch.randint(0, int(config.vocab_size), shape, generator=generator)
            inputs: dict[str, Any] = {"input_ids": input_ids}
            if "attention_mask" in inspect.signature(model_class.forward).parameters:
                attention_mask = torch.ones(shape, dtype=torch.long)
                attention_mask[-1, ..., -2:] = 0  # one padded sequence, so masking is exercised
                inputs["attention_mask"] = attention_mask
            return inputs
        if main_input == "pixel_values":
            size = config.image_size
            height, width = (size, size) if isinstance(size, int) else tuple(size)
            channels = int(getattr(config, "num_channels", 3))
            return {"pixel_values": torch.randn((batch, channels, height, width), generator=generator)}
        if main_input == "input_values":
            return {"input_values": torch.randn((batch, self.num_samples), generator=generator)}
        pytest.fail(
            f"{model_class.__name__}.main_input_name is {main_input!r}; the suite has no default inputs for it. "
            f"Override make_inputs(self, config, task) in {type(self).__name__}."
        )

    def make_tokenizer(self, tmp_path: Path) -> Any:
        """A small instance of the declared tokenizer (e.g. from a ten-word vocabulary), or None."""
        return None

    def make_processor(self, kind: str, tmp_path: Path) -> Any:
        """A small instance of the declared ``kind`` ("feature_extractor", "image_processor", "processor").

        The default builds feature extractors and image processors with
        their default settings, and processors from their parts
        (``make_tokenizer`` for the tokenizer).
        """
        reference = getattr(self.architecture(), kind)
        if reference is None:
            return None
        cls = import_reference(reference)
        if kind != "processor":
            return cls()
        parts: dict[str, Any] = {}
        for name in cls.get_attributes():
            part = self.make_tokenizer(tmp_path) if name == "tokenizer" else self.make_processor(name, tmp_path)
            if part is None:
                return None
            parts[name] = part
        return cls(**parts)

    def processor_inputs(self, kind: str, processor: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Positional and keyword arguments to call a ``kind`` instance with."""
        import numpy

        random = numpy.random.default_rng(0)
        images = [random.integers(0, 256, size=(40, 30, 3), dtype=numpy.uint8) for _ in range(self.batch_size)]
        waveforms = [
            random.standard_normal(self.num_samples - 400 * index).astype(numpy.float32)
            for index in range(self.batch_size)
        ]
        if kind == "image_processor":
            return (images,), {}
        if kind == "feature_extractor":
            return (waveforms,), {"sampling_rate": self.sampling_rate}
        parts = set(processor.get_attributes())
        if "feature_extractor" in parts:
            return (), {"audio": waveforms, "sampling_rate": self.sampling_rate}
        if "image_processor" in parts:
            return (), {"images": images}
        return (), {"text": list(self.sample_text)}

    # -- the checks -----------------------------------------------------------------------

    def test_entry_point_names_match_declared_model_types(self) -> None:
        entry_point = self.entry_point()
        dist = entry_point.dist
        assert dist is not None, f"entry point {entry_point.name} = {entry_point.value} has no distribution"
        own = [ep for ep in dist.entry_points if ep.group == ENTRY_POINT_GROUP]
        names = {ep.name for ep in own}
        for ep in own:
            declared = {item.model_type for item in _declarations(ep.load())}
            assert ep.name in declared, (
                f"entry point {ep.name} = {ep.value} of {dist.metadata['Name']} declares {sorted(declared)}; "
                "the entry point's name must be the model_type it serves"
            )
            unreachable = declared - names
            assert not unreachable, (
                f"{ep.value} declares {sorted(unreachable)} but {dist.metadata['Name']} has no entry point of that "
                "name, so autoload can never find it; add one entry point per model type"
            )

    def test_declaration_is_valid(self) -> None:
        architecture = self.architecture()
        assert architecture.model_type == self.model_type
        assert architecture.problems() == []

    def test_every_reference_imports(self) -> None:
        from autoload import PretrainedConfig
        from autoload.modeling import PreTrainedModel

        architecture = self.architecture()
        problems: list[str] = []
        imported: dict[str, Any] = {}
        for label, reference in architecture.references().items():
            try:
                imported[label] = import_reference(reference)
            except Exception as exc:
                problems.append(f"{label} {reference!r}: {type(exc).__name__}: {exc}")
        config_class = imported.get("config")
        if config_class is not None:
            if not (isinstance(config_class, type) and issubclass(config_class, PretrainedConfig)):
                problems.append(f"config {architecture.config!r} is not a PretrainedConfig subclass")
            elif config_class.model_type != self.model_type:
                problems.append(f"{config_class.__name__}.model_type is {config_class.model_type!r}")
        for task in architecture.models:
            model_class = imported.get(f"models[{task}]")
            if model_class is None:
                continue
            if not (isinstance(model_class, type) and issubclass(model_class, PreTrainedModel)):
                problems.append(f"models[{task}] {model_class!r} is not a PreTrainedModel subclass")
            elif config_class is not None and model_class.config_class is not config_class:
                problems.append(f"{model_class.__name__}.config_class is not {getattr(config_class, '__name__', '?')}")
        for kind in PROCESSING_KINDS:
            value = imported.get(kind)
            if value is not None and not isinstance(value, type):
                problems.append(f"{kind} {getattr(architecture, kind)!r} is not a class")
        assert not problems, "declared references are broken:\n" + "\n".join(problems)

    def test_declaration_module_imports_nothing_heavy(self) -> None:
        entry_point = self.entry_point()
        code = (
            "import importlib.metadata\n"
            f"[ep] = [e for e in importlib.metadata.entry_points(group={ENTRY_POINT_GROUP!r}) "
            f"if e.name == {self.model_type!r}]\n"
            "ep.load().autoload_architectures()\n"
        )
        heavy = modules_loaded_by(code) & set(self.heavy_modules)
        assert not heavy, (
            f"importing {entry_point.value} and calling its hook imported {sorted(heavy)}; the declaration module "
            "must name classes as 'module:Class' strings and import nothing heavy"
        )

    def test_config_module_imports_nothing_heavy(self) -> None:
        module, _, name = self.architecture().config.partition(":")
        code = f"import json, {module} as m\nm.{name}(**json.loads({json.dumps(dict(self.tiny_config))!r}))\n"
        heavy = modules_loaded_by(code) & set(self.heavy_modules)
        assert not heavy, f"building the config from {module} imported {sorted(heavy)}; AutoConfig must stay light"

    def test_imports_only_public_host_api(self) -> None:
        package = self.package()
        found = non_public_imports(package)
        assert not found, (
            f"{package} imports modules outside autoload's public API ({', '.join(sorted(PUBLIC_HOST_MODULES))}) "
            "or another plugin:\n" + "\n".join(found)
        )

    def test_config_round_trips_json_and_loads_in_autoconfig(self, tmp_path: Path) -> None:
        from autoload import AutoConfig

        config = self.make_config()
        config_class = self.config_class()
        assert type(config) is config_class
        text = config.to_json_string()
        again = config_class.from_dict(json.loads(text))
        assert again.to_json_string() == text, "the config changes when read back from its own JSON"
        config.save_pretrained(tmp_path)
        loaded = AutoConfig.from_pretrained(tmp_path)
        assert type(loaded) is config_class, f"AutoConfig loaded {type(loaded).__name__}"
        assert loaded.to_json_string() == text, "AutoConfig reads back a different config than was saved"
        by_type = AutoConfig.for_model(self.model_type, **dict(self.tiny_config))
        assert by_type.to_json_string() == config_class(**dict(self.tiny_config)).to_json_string()

    def test_head_builds_runs_and_survives_save_load(self, task: str, tmp_path: Path) -> None:
        torch = pytest.importorskip("torch")
        import autoload

        if task == _NOT_DECLARED:
            self.architecture()  # raises the real error
        auto_class = getattr(autoload, AUTO_CLASS_BY_TASK[task])
        expected_class = self.model_class(task)
        config = self.make_config(task)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model = auto_class.from_config(config)
        assert type(model) is expected_class, f"{auto_class.__name__} built {type(model).__name__}"
        model.eval()
        inputs = self.make_inputs(model.config, task)
        with torch.no_grad():
            expected = model(**inputs)
        model.save_pretrained(tmp_path)
        loaded = auto_class.from_pretrained(tmp_path)
        assert type(loaded) is expected_class, f"{auto_class.__name__}.from_pretrained loaded {type(loaded).__name__}"
        assert not loaded.training, "from_pretrained must return the model in eval mode"
        original_state = model.state_dict()
        loaded_state = loaded.state_dict()
        assert sorted(loaded_state) == sorted(original_state), "the reloaded model has different parameters"
        for name, tensor in original_state.items():
            assert torch.equal(loaded_state[name], tensor), f"{name} changed across save -> load"
        with torch.no_grad():
            actual = loaded(**inputs)
        assert_same_outputs(actual, expected, atol=self.atol, rtol=self.rtol, where=f"{expected_class.__name__}")

    def test_causal_lm_generates_the_same_with_and_without_cache(self) -> None:
        """A causal-LM head generates through autoload.generation, and its cache changes nothing but speed.

        Also checks left padding: a padded row generates what the same prompt alone generates.
        """
        torch = pytest.importorskip("torch")
        import autoload
        from autoload.generation import GenerationMixin

        task = "causal-lm"
        if task not in self.architecture().models or task in self.skip_tasks:
            pytest.skip(f"{self.model_type} declares no causal-lm head")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model = autoload.AutoModelForCausalLM.from_config(self.make_config(task))
        model.eval()
        name = type(model).__name__
        assert isinstance(model, GenerationMixin), (
            f"{name} is declared as the causal-lm head but does not inherit autoload.generation.GenerationMixin, "
            f"so it has no generate(): declare it as class {name}(..., GenerationMixin)"
        )
        input_ids = self.make_inputs(model.config, task)["input_ids"]
        mask = torch.ones_like(input_ids)
        mask[-1, :2] = 0  # the last row is left-padded
        settings = {"max_new_tokens": 5, "do_sample": False, "num_beams": 1}
        cached = model.generate(input_ids, attention_mask=mask, **settings)
        uncached = model.generate(input_ids, attention_mask=mask, use_cache=False, **settings)
        assert torch.equal(cached, uncached), (
            f"{name}.generate() gives different tokens with its key/value cache than without it:\n"
            f"{cached.tolist()}\nvs\n{uncached.tolist()}"
        )
        alone = model.generate(input_ids[-1:, 2:], **settings)
        generated = cached.shape[1] - input_ids.shape[1]
        assert torch.equal(cached[-1, -generated:], alone[0, -generated:]), (
            f"{name}: a left-padded prompt generates other tokens than the same prompt alone; the model must "
            "honour attention_mask and position_ids during generation"
        )

    def test_tokenizer_survives_save_load(self, tmp_path: Path) -> None:
        from autoload import AutoTokenizer

        architecture = self.architecture()
        tokenizer = self.make_tokenizer(tmp_path / "source")
        if tokenizer is None:
            if architecture.tokenizer is None:
                pytest.skip(f"{self.model_type} declares no tokenizer")
            pytest.fail(
                f"{self.model_type} declares a tokenizer; override make_tokenizer(self, tmp_path) in "
                f"{type(self).__name__} to build a small one so its save -> load can be checked"
            )
        declared = import_reference(architecture.tokenizer) if architecture.tokenizer else None
        assert declared is not None and isinstance(tokenizer, declared), "make_tokenizer must build the declared class"
        saved = tmp_path / "saved"
        self.make_config().save_pretrained(saved)
        tokenizer.save_pretrained(saved)
        loaded = AutoTokenizer.from_pretrained(saved)
        assert type(loaded) is type(tokenizer), f"AutoTokenizer loaded {type(loaded).__name__}"
        assert loaded.get_vocab() == tokenizer.get_vocab()
        for text in (*self.sample_text, list(self.sample_text)):
            expected = tokenizer(text)
            assert_same_outputs(dict(loaded(text)), dict(expected), where=f"tokenizer({text!r})")
        ids = tokenizer(self.sample_text[0])["input_ids"]
        assert loaded.decode(ids) == tokenizer.decode(ids)

    @pytest.mark.parametrize("kind", ["feature_extractor", "image_processor", "processor"])
    def test_processing_class_survives_save_load(self, kind: str, tmp_path: Path) -> None:
        import autoload

        reference = getattr(self.architecture(), kind)
        if reference is None:
            pytest.skip(f"{self.model_type} declares no {kind.replace('_', ' ')}")
        instance = self.make_processor(kind, tmp_path / "source")
        if instance is None:
            pytest.fail(
                f"{self.model_type} declares a {kind.replace('_', ' ')}; override make_processor(self, kind, "
                f"tmp_path) (and make_tokenizer for a processor's tokenizer) in {type(self).__name__}"
            )
        assert isinstance(instance, import_reference(reference)), f"make_processor must build {reference}"
        saved = tmp_path / "saved"
        self.make_config().save_pretrained(saved)
        instance.save_pretrained(saved)
        loaded = getattr(autoload, _AUTO_PROCESSING_CLASS[kind]).from_pretrained(saved)
        assert type(loaded) is type(instance), f"{_AUTO_PROCESSING_CLASS[kind]} loaded {type(loaded).__name__}"
        args, kwargs = self.processor_inputs(kind, instance)
        assert_same_outputs(
            dict(loaded(*args, **kwargs)), dict(instance(*args, **kwargs)), atol=self.atol, rtol=self.rtol, where=kind
        )


__all__ = [
    "HEAVY_MODULES",
    "PUBLIC_HOST_MODULES",
    "PluginConformance",
    "assert_same_outputs",
    "modules_loaded_by",
    "non_public_imports",
    "plugin_entry_points",
]
