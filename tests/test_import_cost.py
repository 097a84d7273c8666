"""What importing costs, checked in fresh interpreters."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("torch", "numpy", "tokenizers", "safetensors", "huggingface_hub", "PIL", "importlib.metadata", "pluggy")


def loaded_after(code: str) -> set[str]:
    script = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    return set(json.loads(output.strip().splitlines()[-1]))


def heavy_in(modules: set[str]) -> set[str]:
    return {name for name in HEAVY if name in modules}


def test_import_autoload_is_light():
    assert heavy_in(loaded_after("import autoload")) == set()


def test_resolving_one_model_type_imports_only_its_plugin():
    modules = loaded_after("import autoload\nautoload.AutoConfig.for_model('toy')")
    plugins = {name for name in modules if name.startswith("autoload_test_")}
    assert plugins == {"autoload_test_good", "autoload_test_good.plugin", "autoload_test_good.configuration"}
    assert "torch" not in modules


def test_auto_config_from_pretrained_imports_no_torch(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "toy"}))
    modules = loaded_after(f"import autoload\nautoload.AutoConfig.from_pretrained({str(tmp_path)!r})")
    assert {"torch", "numpy", "tokenizers", "PIL", "huggingface_hub"}.isdisjoint(modules)


TINY_MODELS = {
    "bert": {"vocab_size": 99, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4},
    "vit": {"image_size": 32, "patch_size": 8, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4},
    "wav2vec2": {
        "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "conv_dim": (32, 32),
        "conv_stride": (4, 4), "conv_kernel": (8, 4), "num_conv_pos_embeddings": 16, "num_conv_pos_embedding_groups": 2,
    },
}  # fmt: skip


@pytest.mark.parametrize("model_type", sorted(TINY_MODELS))
def test_loading_a_model_does_not_import_torch_dynamo(tmp_path, model_type):
    """Work on meta parameters (init, weight norm) used to pull in torch._dynamo: seconds of every cold load."""
    pytest.importorskip(f"autoload_plugin_{model_type}")
    import autoload

    config = autoload.AutoConfig.for_model(model_type, intermediate_size=37, **TINY_MODELS[model_type])
    autoload.AutoModel.from_config(config).save_pretrained(tmp_path)
    modules = loaded_after(f"import autoload\nautoload.AutoModel.from_pretrained({str(tmp_path)!r})")
    assert "torch" in modules
    assert "torch._dynamo" not in modules


BLOCK_OPTIONAL = """
import sys

class _Missing:
    # Behaves as if torch, numpy, tokenizers and PIL were not installed.
    blocked = ("torch", "numpy", "tokenizers", "PIL")

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.blocked:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _Missing())
"""


def test_star_import_needs_no_optional_dependency():
    """``from autoload import *`` binds every name of ``__all__`` where only autoload-core is installed."""
    code = BLOCK_OPTIONAL + (
        "from autoload import *\n"
        "import autoload\n"
        "missing = [name for name in autoload.__all__ if name not in globals()]\n"
        "assert not missing, missing\n"
        "assert AutoModelForCausalLM.task == 'causal-lm' and issubclass(UnknownModelTypeError, AutoloadError)\n"
    )
    modules = loaded_after(code)
    assert {"torch", "numpy", "tokenizers", "PIL"}.isdisjoint(modules)
