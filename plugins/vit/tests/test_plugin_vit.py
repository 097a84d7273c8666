"""The plugin's declaration, its import cost, and the Auto classes finding ViT through it."""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import subprocess
import sys

import autoload
import numpy as np
import pytest
import torch
from autoload.architecture import import_reference
from autoload.tasks import AUTO_CLASS_BY_TASK

from autoload_plugin_vit import plugin

transformers = pytest.importorskip("transformers")

TINY = {
    "image_size": 32,
    "patch_size": 8,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 37,
    "encoder_stride": 8,
}


def test_entry_point_names_the_declaration_module():
    entry_points = importlib.metadata.entry_points(group="autoload.architectures")
    vit = [entry_point for entry_point in entry_points if entry_point.name == "vit"]
    assert [entry_point.value for entry_point in vit] == ["autoload_plugin_vit.plugin"]
    assert vit[0].dist.name == "autoload-plugin-vit"
    assert vit[0].dist.version == importlib.import_module("autoload_plugin_vit").__version__


def test_declaration_is_valid_and_imports():
    architecture = plugin.autoload_architectures()
    assert architecture.problems() == []
    architecture.validate(source="autoload-plugin-vit", entry_point_name="vit")
    assert set(architecture.models) == {"base", "image-classification", "masked-image-modeling"}
    assert set(architecture.models) <= set(AUTO_CLASS_BY_TASK)
    assert "ViTFeatureExtractor" in architecture.processing_names("image_processor")
    config_class = import_reference(architecture.config)
    for reference in architecture.models.values():
        model_class = import_reference(reference)
        assert model_class.config_class is config_class
        assert model_class.base_model_prefix == "vit"
    assert import_reference(architecture.image_processor).__name__ == "ViTImageProcessor"


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(result.stdout.split())


@pytest.mark.parametrize(
    "statement",
    [
        "import autoload_plugin_vit.plugin as p; p.autoload_architectures()",
        "from autoload_plugin_vit.configuration import ViTConfig; ViTConfig()",
        "import autoload.processing",
    ],
)
def test_declaration_and_config_import_nothing_heavy(statement):
    heavy = _modules_after(statement) & {"torch", "numpy", "PIL", "transformers", "safetensors", "tokenizers"}
    assert not heavy, f"{statement!r} imported {sorted(heavy)}"


def test_image_processor_does_not_need_torch():
    loaded = _modules_after(
        "import numpy as np; from autoload_plugin_vit.image_processing import ViTImageProcessor; "
        "ViTImageProcessor(size=8)(np.zeros((9, 9, 3), dtype=np.uint8), return_tensors='np')"
    )
    assert "torch" not in loaded


# -- the Auto classes ------------------------------------------------------------------------------------


@pytest.fixture
def hf_checkpoint(tmp_path):
    config = transformers.ViTConfig(**TINY, num_labels=3)
    torch.manual_seed(0)
    model = transformers.ViTForImageClassification(config).eval()
    model.save_pretrained(tmp_path)
    transformers.ViTImageProcessorPil(size=32).save_pretrained(tmp_path)
    return tmp_path, model


def test_auto_classes_load_a_transformers_checkpoint(hf_checkpoint):
    path, hf = hf_checkpoint
    config = autoload.AutoConfig.from_pretrained(path)
    assert type(config).__name__ == "ViTConfig"
    processor = autoload.AutoImageProcessor.from_pretrained(path)
    assert type(processor).__name__ == "ViTImageProcessor"
    model = autoload.AutoModelForImageClassification.from_pretrained(path)
    assert type(model).__name__ == "ViTForImageClassification"
    image = np.random.default_rng(0).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    inputs = processor(image, return_tensors="pt")
    reference = transformers.ViTImageProcessorPil.from_pretrained(path)(image, return_tensors="pt")
    torch.testing.assert_close(inputs.pixel_values, reference.pixel_values, atol=1e-5, rtol=0)
    with torch.no_grad():
        torch.testing.assert_close(model(**inputs).logits, hf(**reference).logits, atol=1e-5, rtol=0)
    base = autoload.AutoModel.from_pretrained(path)
    assert type(base).__name__ == "ViTModel"
    mim = autoload.AutoModelForMaskedImageModeling.from_pretrained(path)
    assert type(mim).__name__ == "ViTForMaskedImageModeling"


def test_auto_feature_extractor_reads_old_names(tmp_path, hf_checkpoint):
    path, _ = hf_checkpoint
    data = json.loads((path / "preprocessor_config.json").read_text())
    data.pop("image_processor_type")
    data["feature_extractor_type"] = "ViTFeatureExtractor"
    (path / "preprocessor_config.json").write_text(json.dumps(data))
    for auto_class in (autoload.AutoFeatureExtractor, autoload.AutoImageProcessor):
        assert type(auto_class.from_pretrained(path)).__name__ == "ViTImageProcessor"
