"""``autoload new-plugin``: write a complete, working plugin project to start a new architecture from.

The generated project is meant to be edited, not admired: a small real
transformer encoder (embeddings, self-attention layers, the chosen heads) on
:class:`autoload.modeling.PreTrainedModel`, a declaration module, a config,
a README and tests that run autoload's conformance suite.  It installs and
passes its tests unchanged, so an author replaces working code piece by
piece instead of debugging an empty skeleton.  Only the public API is used,
the same a third-party plugin has.
"""

from __future__ import annotations

import keyword
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template

from autoload.__about__ import __version__
from autoload.errors import AutoloadError

#: Tasks the scaffold can generate a head for, in the order they appear in the generated files.
SUPPORTED_TASKS: tuple[str, ...] = (
    "base",
    "masked-lm",
    "causal-lm",
    "sequence-classification",
    "token-classification",
)

_MODEL_TYPE = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")


class ScaffoldError(AutoloadError, ValueError):
    """``autoload new-plugin`` was asked for something it cannot write."""


@dataclass(frozen=True)
class PluginNames:
    """Every name derived from a model type, following the naming convention of autoload plugins."""

    model_type: str

    @property
    def distribution(self) -> str:
        return "autoload-plugin-" + self.model_type.replace("_", "-")

    @property
    def package(self) -> str:
        return "autoload_plugin_" + self.model_type.replace("-", "_")

    @property
    def prefix(self) -> str:
        """Attribute name of the base model inside head models (``base_model_prefix``)."""
        return self.model_type.replace("-", "_")

    @property
    def class_prefix(self) -> str:
        return "".join(part[:1].upper() + part[1:] for part in re.split(r"[-_]", self.model_type))

    def class_name(self, task: str) -> str:
        """The class serving ``task``: ``<Prefix>ForMaskedLM``, and for the base model ``<Prefix>Model``.

        A prefix that already ends in "Model" is the base model's name itself
        (``new-model`` gives ``NewModel``, the reference page's name, not
        ``NewModelModel``).
        """
        suffix = _HEADS[task].suffix
        if task == "base" and self.class_prefix.endswith(suffix):
            return self.class_prefix
        return self.class_prefix + suffix


def host_requirement(version: str = __version__) -> str:
    """The host versions a new plugin declares: this minor release line (the API is 0.x)."""
    major, minor = (int(part) for part in version.split(".")[:2])
    if major == 0:
        return f"autoload-core>={major}.{minor},<{major}.{minor + 1}"
    return f"autoload-core>={major}.{minor},<{major + 1}"


def check_model_type(model_type: str) -> None:
    if not _MODEL_TYPE.match(model_type):
        raise ScaffoldError(
            f"Invalid model type {model_type!r}: use lower-case letters, digits and single '-' or '_' between "
            "words, starting with a letter (e.g. 'my-model'). It becomes the entry point name, the value of "
            "model_type in config.json, and part of the distribution and package names."
        )
    names = PluginNames(model_type)
    if not names.package.isidentifier() or keyword.iskeyword(names.prefix):
        raise ScaffoldError(
            f"Invalid model type {model_type!r}: it does not give valid Python names (package {names.package}, "
            f"attribute {names.prefix}); choose another."
        )


def normalise_tasks(tasks: Iterable[str] | None) -> list[str]:
    """The tasks to generate, in canonical order; ``base`` is always included (every head builds on it)."""
    requested: list[str] = []
    for item in tasks or SUPPORTED_TASKS:
        requested.extend(part.strip() for part in item.split(",") if part.strip())
    unsupported = [task for task in requested if task not in SUPPORTED_TASKS]
    if unsupported:
        raise ScaffoldError(
            f"The scaffold cannot generate a head for {', '.join(map(repr, unsupported))}. Supported tasks: "
            f"{', '.join(SUPPORTED_TASKS)}. Generate with those, then add other heads by hand (any task id of "
            "autoload.tasks can be declared)."
        )
    chosen = {"base", *requested}
    return [task for task in SUPPORTED_TASKS if task in chosen]


def render_plugin(model_type: str, tasks: Iterable[str] | None = None) -> dict[str, str]:
    """The project's files as ``{relative path: text}``; nothing is written."""
    check_model_type(model_type)
    chosen = normalise_tasks(tasks)
    names = PluginNames(model_type)
    values = {
        "model_type": model_type,
        "dist": names.distribution,
        "package": names.package,
        "prefix": names.prefix,
        "Name": names.class_prefix,
        "Base": names.class_name("base"),
        "host_requirement": host_requirement(),
        "models": "".join(f'            "{task}": f"{{_MODELING}}:{names.class_name(task)}",\n' for task in chosen),
        "task_rows": "".join(f"| `{task}` | `{_AUTO_CLASS[task]}` | `{names.class_name(task)}` |\n" for task in chosen),
        "tasks_option": " ".join(chosen),
    }
    package_dir = f"src/{names.package}"
    files = {
        "pyproject.toml": _PYPROJECT,
        "README.md": _README,
        "hatch_build.py": _HATCH_BUILD,
        f"{package_dir}/__init__.py": _INIT,
        f"{package_dir}/__about__.py": '__version__ = "0.1.0"\n',
        f"{package_dir}/py.typed": "",
        f"{package_dir}/plugin.py": _PLUGIN,
        f"{package_dir}/configuration.py": _CONFIGURATION,
        f"{package_dir}/modeling.py": _render_modeling(chosen, names),
        "tests/test_conformance.py": _TEST_CONFORMANCE,
        "tests/test_modeling.py": _render_model_tests(chosen),
    }
    return {path: Template(text).substitute(values) for path, text in files.items()}


def create_plugin(
    model_type: str, tasks: Sequence[str] | None = None, dest: str | os.PathLike[str] = ".", *, force: bool = False
) -> Path:
    """Write the project to ``dest/autoload-plugin-<model_type>`` and return that folder."""
    files = render_plugin(model_type, tasks)
    root = Path(dest) / PluginNames(model_type).distribution
    if root.exists() and any(root.iterdir()) and not force:
        raise ScaffoldError(f"{root} already exists and is not empty; choose another --dest or remove it first.")
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


# -- templates -------------------------------------------------------------------------------------------------
#
# string.Template placeholders: ${model_type}, ${dist}, ${package}, ${prefix}, ${Name}, ${Base}, ${host_requirement},
# ${models}, ${task_rows}, ${tasks_option}.  Generated code must pass ruff with autoload's settings.

_AUTO_CLASS = {
    "base": "AutoModel",
    "masked-lm": "AutoModelForMaskedLM",
    "causal-lm": "AutoModelForCausalLM",
    "sequence-classification": "AutoModelForSequenceClassification",
    "token-classification": "AutoModelForTokenClassification",
}

_PYPROJECT = """\
[build-system]
requires = ["hatchling>=1.24"]
build-backend = "hatchling.build"

[project]
name = "${dist}"
dynamic = ["version"]
description = "${Name} for autoload: config and model heads, found by autoload's Auto classes once installed"
readme = "README.md"
requires-python = ">=3.10"
license = "Apache-2.0"
authors = [{ name = "Your Name" }]
keywords = ["autoload", "autoload-plugin", "${model_type}", "pytorch"]
classifiers = [
    "Development Status :: 3 - Alpha",
    "Framework :: autoload",
    "Intended Audience :: Developers",
    "Intended Audience :: Science/Research",
    "Operating System :: OS Independent",
    "Programming Language :: Python :: 3",
    "Programming Language :: Python :: 3 :: Only",
    "Topic :: Scientific/Engineering :: Artificial Intelligence",
    "Typing :: Typed",
]
dependencies = [
    # The host releases this plugin was written and tested against: its public API is stable within a minor line.
    "${host_requirement}",
    "torch>=2.4",
]

[project.optional-dependencies]
test = ["pytest>=7"]

# The entry point's name is the model_type this plugin serves (config.json's "model_type").
[project.entry-points."autoload.architectures"]
${model_type} = "${package}.plugin"

[tool.hatch.version]
path = "src/${package}/__about__.py"

[tool.hatch.metadata.hooks.custom]

[tool.hatch.build.targets.wheel]
packages = ["src/${package}"]

[tool.hatch.build.targets.sdist]
include = ["src", "tests", "README.md", "pyproject.toml", "hatch_build.py"]

[tool.pytest.ini_options]
testpaths = ["tests"]

[tool.ruff]
line-length = 120
"""

_HATCH_BUILD = '''\
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
'''

_README = """\
# ${dist}

${Name} for [autoload](https://pypi.org/project/autoload-core/): once this distribution is installed,
autoload's Auto classes load checkpoints whose `config.json` says `"model_type": "${model_type}"`.

```console
pip install ${dist}
```

```python
from autoload import AutoConfig, AutoModel

config = AutoConfig.for_model("${model_type}", hidden_size=64)
model = AutoModel.from_config(config)
model.save_pretrained("my-${model_type}")
model = AutoModel.from_pretrained("my-${model_type}")
```

## What it provides

| task id | Auto class | model class |
|---|---|---|
${task_rows}
The configuration is `${package}.configuration:${Name}Config`; the models live in
`${package}.modeling`. The architecture is a small transformer encoder generated by
`autoload new-plugin ${model_type} --tasks ${tasks_option}`: replace it with your own.

## Development

```console
pip install -e . pytest
pytest
```

The tests run autoload's conformance suite (`autoload.testing.PluginConformance`) on this plugin:
the declaration, the config's JSON round trip, and every head's build → forward → save → load.
"""

_INIT = '''\
"""${Name} for autoload.

Found through the ``autoload.architectures`` entry point; users reach it through
``autoload.AutoModel`` and friends.  Importing the package stays cheap: torch is
imported only by the modeling module, when a model is asked for.
"""

from ${package}.__about__ import __version__

__all__ = ["__version__"]
'''

_PLUGIN = '''\
"""The declaration autoload reads to learn what this plugin serves.

Classes are named by ``"module:Class"`` strings: importing this module must
import nothing heavy (no torch), because autoload imports it just to find out
what the plugin provides.
"""

from __future__ import annotations

from autoload import Architecture, hookimpl

_MODELING = "${package}.modeling"


@hookimpl
def autoload_architectures() -> Architecture:
    return Architecture(
        model_type="${model_type}",
        config="${package}.configuration:${Name}Config",
        models={
${models}        },
    )
'''

_CONFIGURATION = '''\
"""${Name}Config: the hyper-parameters, as ``config.json`` stores them.

This module must not import torch: ``AutoConfig`` imports it just to read a file.
"""

from __future__ import annotations

from typing import Any

from autoload import ConfigError, PretrainedConfig


class ${Name}Config(PretrainedConfig):
    """Sizes of the encoder; common fields (``num_labels``, ``tie_word_embeddings``...) come from the base class."""

    model_type = "${model_type}"

    def __init__(
        self,
        vocab_size: int = 1000,
        hidden_size: int = 64,
        num_hidden_layers: int = 2,
        num_attention_heads: int = 4,
        intermediate_size: int = 128,
        hidden_dropout_prob: float = 0.1,
        attention_probs_dropout_prob: float = 0.1,
        max_position_embeddings: int = 256,
        layer_norm_eps: float = 1e-12,
        initializer_range: float = 0.02,
        pad_token_id: int | None = 0,
        **kwargs: Any,
    ) -> None:
        if hidden_size % num_attention_heads != 0:
            raise ConfigError(
                f"hidden_size ({hidden_size}) must be a multiple of num_attention_heads ({num_attention_heads})."
            )
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.hidden_dropout_prob = hidden_dropout_prob
        self.attention_probs_dropout_prob = attention_probs_dropout_prob
        self.max_position_embeddings = max_position_embeddings
        self.layer_norm_eps = layer_norm_eps
        self.initializer_range = initializer_range
        super().__init__(pad_token_id=pad_token_id, **kwargs)


__all__ = ["${Name}Config"]
'''

_MODELING_HEADER = '''\
"""${Name}: a small transformer encoder and its task heads, in plain PyTorch.

Post-norm layers of self-attention and a feed-forward block over learned token
and position embeddings.  ``PreTrainedModel`` brings ``from_pretrained``,
``from_config``, ``save_pretrained``, weight initialisation and tying; each
class here only builds its modules and defines ``forward``.
"""

from __future__ import annotations

${typing_import}import torch
${generation_import}from autoload.modeling import (
${output_imports})
from autoload.modeling.layers import Linear
from torch import nn
from torch.nn import functional as F

from ${package}.configuration import ${Name}Config


class ${Name}Embeddings(nn.Module):
    def __init__(self, config: ${Name}Config) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        # A real tensor even when the model is built on the meta device to load a checkpoint.
        positions = torch.arange(config.max_position_embeddings).unsqueeze(0)
        self.register_buffer("position_ids", positions, persistent=False)

    def forward(self, input_ids: torch.Tensor, position_ids: torch.Tensor | None = None) -> torch.Tensor:
        positions = self.position_ids[:, : input_ids.shape[-1]] if position_ids is None else position_ids
        embeddings = self.word_embeddings(input_ids) + self.position_embeddings(positions)
        return self.dropout(self.layer_norm(embeddings))


class ${Name}SelfAttention(nn.Module):
    def __init__(self, config: ${Name}Config) -> None:
        super().__init__()
        self.num_heads = config.num_attention_heads
        self.head_dim = config.hidden_size // config.num_attention_heads
        self.qkv = Linear(config.hidden_size, 3 * config.hidden_size)
        self.output = Linear(config.hidden_size, config.hidden_size)
        self.dropout_prob = config.attention_probs_dropout_prob

    def forward(self, hidden_states: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        batch, length, width = hidden_states.shape
        qkv = self.qkv(hidden_states).view(batch, length, 3, self.num_heads, self.head_dim)
        query, key, value = qkv.permute(2, 0, 3, 1, 4)
        context = F.scaled_dot_product_attention(
            query, key, value, attn_mask=mask, dropout_p=self.dropout_prob if self.training else 0.0
        )
        return self.output(context.transpose(1, 2).reshape(batch, length, width))


class ${Name}Layer(nn.Module):
    def __init__(self, config: ${Name}Config) -> None:
        super().__init__()
        self.attention = ${Name}SelfAttention(config)
        self.attention_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.intermediate = Linear(config.hidden_size, config.intermediate_size)
        self.output = Linear(config.intermediate_size, config.hidden_size)
        self.output_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        attended = self.attention_norm(hidden_states + self.dropout(self.attention(hidden_states, mask)))
        transformed = self.output(F.gelu(self.intermediate(attended)))
        return self.output_norm(attended + self.dropout(transformed))


class ${Name}PreTrainedModel(PreTrainedModel):
    """What every class here shares: the config class and where head models keep the encoder.

    The base class's ``_init_weights`` (normal linear and embedding weights,
    zero biases, unit layer norms) suits this architecture; override it when
    yours needs another initialisation.
    """

    config_class = ${Name}Config
    base_model_prefix = "${prefix}"
    main_input_name = "input_ids"


class ${Base}(${Name}PreTrainedModel):
    """The encoder without a head: one hidden state per token."""

    def __init__(self, config: ${Name}Config) -> None:
        super().__init__(config)
        self.embeddings = ${Name}Embeddings(config)
        self.layers = nn.ModuleList(${Name}Layer(config) for _ in range(config.num_hidden_layers))
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        return self.embeddings.word_embeddings

    def set_input_embeddings(self, value: nn.Module) -> None:
        self.embeddings.word_embeddings = value

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        is_causal: bool | None = None,
        position_ids: torch.Tensor | None = None,
    ) -> BaseModelOutput | tuple[torch.Tensor, ...]:
        """``attention_mask``: 1 for tokens to attend to, 0 for padding; ``is_causal``: attend only leftwards;
        ``position_ids``: each token's position (left-padded rows count from their first real token)."""
        output_hidden_states = (
            self.config.output_hidden_states if output_hidden_states is None else output_hidden_states
        )
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        is_causal = self.config.is_decoder if is_causal is None else is_causal
        length = input_ids.shape[-1]
        mask = None  # boolean, True where a query may attend to a key
        if attention_mask is not None:
            mask = attention_mask.bool()[:, None, None, :]
        if is_causal:
            causal = torch.ones(length, length, dtype=torch.bool, device=input_ids.device).tril()
            mask = causal if mask is None else mask & causal
        hidden_states = self.embeddings(input_ids, position_ids)
        all_hidden_states = [hidden_states] if output_hidden_states else None
        for layer in self.layers:
            hidden_states = layer(hidden_states, mask)
            if all_hidden_states is not None:
                all_hidden_states.append(hidden_states)
        output = BaseModelOutput(
            last_hidden_state=hidden_states,
            hidden_states=tuple(all_hidden_states) if all_hidden_states is not None else None,
        )
        return output if return_dict else output.to_tuple()
'''

_LM_HEAD = '''

class ${Name}For${Kind}(${bases}):
    """${doc}"""

    _tied_weights_keys: ClassVar[dict[str, str]] = {"lm_head.weight": "${prefix}.embeddings.word_embeddings.weight"}

    def __init__(self, config: ${Name}Config) -> None:
        super().__init__(config)
        self.${prefix} = ${Base}(config)
        self.lm_head = Linear(config.hidden_size, config.vocab_size)
        self.post_init()

    def get_output_embeddings(self) -> nn.Module:
        return self.lm_head

    def set_output_embeddings(self, value: nn.Module) -> None:
        self.lm_head = value
${extra_methods}
    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        position_ids: torch.Tensor | None = None,
    ) -> ${Output} | tuple[torch.Tensor, ...]:
        """``labels``: ${labels_doc}; -100 marks positions without a loss."""
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        encoded = self.${prefix}(
            input_ids,
            attention_mask=attention_mask,
            output_hidden_states=output_hidden_states,
            return_dict=True,
            is_causal=${is_causal},
            position_ids=position_ids,
        )
        logits = self.lm_head(encoded.last_hidden_state)
        loss = None
        if labels is not None:
${loss}
        output = ${Output}(loss=loss, logits=logits, hidden_states=encoded.hidden_states)
        return output if return_dict else output.to_tuple()
'''

_NO_CACHE = '''
    def supports_cache(self) -> bool:
        """generate() re-reads the whole sequence at each step: this starter keeps no key/value cache.

        A decoder worth generating with keeps one (see the GPT-2 plugin's attention and autoload.generation).
        """
        return False
'''

_MASKED_LOSS = """\
            loss = F.cross_entropy(logits.view(-1, logits.shape[-1]).float(), labels.view(-1))"""

_CAUSAL_LOSS = """\
            # Each position predicts the next token.
            shifted = logits[:, :-1].reshape(-1, logits.shape[-1]).float()
            loss = F.cross_entropy(shifted, labels[:, 1:].reshape(-1))"""

_CLASSIFICATION_HEAD = '''

class ${Name}For${Kind}(${Name}PreTrainedModel):
    """${doc}"""

    def __init__(self, config: ${Name}Config) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.${prefix} = ${Base}(config)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.classifier = Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> ${Output} | tuple[torch.Tensor, ...]:
        """``labels``: ${labels_doc}."""
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        encoded = self.${prefix}(
            input_ids, attention_mask=attention_mask, output_hidden_states=output_hidden_states, return_dict=True
        )
${features}
        logits = self.classifier(self.dropout(features))
        loss = None
        if labels is not None:
${loss}
        output = ${Output}(loss=loss, logits=logits, hidden_states=encoded.hidden_states)
        return output if return_dict else output.to_tuple()
'''

_SEQUENCE_LOSS = """\
            if self.num_labels == 1:  # regression
                loss = F.mse_loss(logits.squeeze(-1).float(), labels.float())
            else:
                loss = F.cross_entropy(logits.float(), labels.view(-1))"""

_TOKEN_LOSS = """\
            loss = F.cross_entropy(logits.view(-1, self.num_labels).float(), labels.view(-1))"""


@dataclass(frozen=True)
class _Head:
    suffix: str
    output: str
    template: str
    values: dict[str, str]


_HEADS: dict[str, _Head] = {
    "base": _Head("Model", "BaseModelOutput", "", {}),
    "masked-lm": _Head(
        "ForMaskedLM",
        "MaskedLMOutput",
        _LM_HEAD,
        {
            "Kind": "MaskedLM",
            "doc": "The encoder with a language-modelling head predicting masked tokens (tied to the embeddings).",
            "labels_doc": "the original token at each position",
            "is_causal": "False",
            "loss": _MASKED_LOSS,
            "bases": "${Name}PreTrainedModel",
            "extra_methods": "",
        },
    ),
    "causal-lm": _Head(
        "ForCausalLM",
        "CausalLMOutput",
        _LM_HEAD,
        {
            "Kind": "CausalLM",
            "doc": "The encoder run causally, with a head predicting the next token (tied to the embeddings).",
            "labels_doc": "usually ``input_ids`` itself (shifted inside)",
            "is_causal": "True",
            "loss": _CAUSAL_LOSS,
            "bases": "${Name}PreTrainedModel, GenerationMixin",
            "extra_methods": _NO_CACHE,
        },
    ),
    "sequence-classification": _Head(
        "ForSequenceClassification",
        "SequenceClassifierOutput",
        _CLASSIFICATION_HEAD,
        {
            "Kind": "SequenceClassification",
            "doc": "The encoder with a classifier over the first token's state (``num_labels == 1``: regression).",
            "labels_doc": "one class index (or value, for regression) per sequence",
            "features": "        features = encoded.last_hidden_state[:, 0]",
            "loss": _SEQUENCE_LOSS,
        },
    ),
    "token-classification": _Head(
        "ForTokenClassification",
        "TokenClassifierOutput",
        _CLASSIFICATION_HEAD,
        {
            "Kind": "TokenClassification",
            "doc": "The encoder with a classifier over every token's hidden state.",
            "labels_doc": "one class index per token, -100 for tokens without a loss",
            "features": "        features = encoded.last_hidden_state",
            "loss": _TOKEN_LOSS,
        },
    ),
}


def _render_modeling(tasks: Sequence[str], names: PluginNames) -> str:
    outputs = sorted({_HEADS[task].output for task in tasks} | {"PreTrainedModel"})
    header = _MODELING_HEADER.replace("${output_imports}", "".join(f"    {name},\n" for name in outputs))
    tied = any(task in ("masked-lm", "causal-lm") for task in tasks)
    header = header.replace("${typing_import}", "from typing import ClassVar\n\n" if tied else "")
    generation = "from autoload.generation import GenerationMixin\n" if "causal-lm" in tasks else ""
    header = header.replace("${generation_import}", generation)
    parts = [header]
    for task in tasks:
        head = _HEADS[task]
        if head.template:
            parts.append(Template(head.template).safe_substitute(Output=head.output, **head.values))
    public = sorted([f"{names.class_prefix}PreTrainedModel", *(names.class_name(task) for task in tasks)])
    all_names = "".join(f'    "{name}",\n' for name in public)
    parts.append(f"\n\n__all__ = [\n{all_names}]\n")
    return "".join(parts)


_TEST_CONFORMANCE = '''\
"""autoload's conformance suite, run on this plugin: the declaration, the config and every head."""

from __future__ import annotations

from typing import Any, ClassVar

from autoload.testing import PluginConformance


class Test${Name}Conformance(PluginConformance):
    model_type = "${model_type}"
    tiny_config: ClassVar[dict[str, Any]] = {
        "vocab_size": 99,
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
    }
'''

_MODEL_TESTS_HEADER = '''\
"""Behaviour the conformance suite cannot know about: this architecture's own promises."""

from __future__ import annotations

import autoload
import torch

TINY = {"vocab_size": 99, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4}


def _model(auto_class_name: str, **overrides: object) -> torch.nn.Module:
    torch.manual_seed(0)
    config = autoload.AutoConfig.for_model("${model_type}", **{**TINY, **overrides})
    return getattr(autoload, auto_class_name).from_config(config).eval()


def test_padding_does_not_change_the_other_tokens() -> None:
    model = _model("AutoModel")
    input_ids = torch.tensor([[5, 6, 7, 8]])
    padded = torch.tensor([[5, 6, 7, 8, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 1, 0, 0]])
    with torch.no_grad():
        plain = model(input_ids).last_hidden_state
        masked = model(padded, attention_mask=mask).last_hidden_state[:, :4]
    torch.testing.assert_close(masked, plain, atol=1e-5, rtol=1e-5)
'''

_MODEL_TESTS = {
    "masked-lm": """

def test_masked_lm_head_is_tied_and_gives_a_loss() -> None:
    model = _model("AutoModelForMaskedLM")
    assert model.lm_head.weight is model.get_input_embeddings().weight
    input_ids = torch.tensor([[5, 6, 7, 8]])
    labels = torch.tensor([[-100, 6, -100, -100]])
    output = model(input_ids, labels=labels)
    expected = torch.nn.functional.cross_entropy(output.logits[0, 1:2], labels[0, 1:2])
    torch.testing.assert_close(output.loss, expected)
""",
    "causal-lm": """

def test_causal_lm_does_not_look_ahead() -> None:
    model = _model("AutoModelForCausalLM")
    with torch.no_grad():
        short = model(torch.tensor([[5, 6, 7]])).logits
        longer = model(torch.tensor([[5, 6, 7, 8, 9]])).logits[:, :3]
    torch.testing.assert_close(longer, short, atol=1e-5, rtol=1e-5)
""",
    "sequence-classification": """

def test_sequence_classification_has_one_logit_per_label() -> None:
    model = _model("AutoModelForSequenceClassification", num_labels=3)
    output = model(torch.tensor([[5, 6, 7], [8, 9, 10]]), labels=torch.tensor([0, 2]))
    assert output.logits.shape == (2, 3)
    assert output.loss.ndim == 0
""",
    "token-classification": """

def test_token_classification_has_logits_per_token() -> None:
    model = _model("AutoModelForTokenClassification", num_labels=5)
    output = model(torch.tensor([[5, 6, 7]]), labels=torch.tensor([[1, -100, 4]]))
    assert output.logits.shape == (1, 3, 5)
    assert output.loss.ndim == 0
""",
}


def _render_model_tests(tasks: Sequence[str]) -> str:
    return _MODEL_TESTS_HEADER + "".join(_MODEL_TESTS[task] for task in tasks if task in _MODEL_TESTS)


__all__ = [
    "SUPPORTED_TASKS",
    "PluginNames",
    "ScaffoldError",
    "check_model_type",
    "create_plugin",
    "host_requirement",
    "normalise_tasks",
    "render_plugin",
]
