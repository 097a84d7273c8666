"""autoload writes safetensors files itself (safetensors.torch needs numpy); they must be safetensors' own bytes."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save as reference_save

from autoload import weights


def _state_dict() -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return {
        "encoder.weight": torch.randn(3, 5, generator=generator),
        "a.bias": torch.randn(7, generator=generator, dtype=torch.float64),
        "half": torch.randn(2, 3, generator=generator).to(torch.float16),
        "brain": torch.randn(4, generator=generator).to(torch.bfloat16),
        "ids": torch.arange(6, dtype=torch.int64).reshape(2, 3),
        "small": torch.arange(5, dtype=torch.int8),
        "mask": torch.tensor([True, False, True]),
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 4),
        "ünïcode.name": torch.ones(2, dtype=torch.int32),
        "complex": torch.randn(2, generator=generator, dtype=torch.complex64),
        "fp8": torch.randn(3, generator=generator).to(torch.float8_e4m3fn),
    }


@pytest.mark.parametrize("metadata", [{"format": "pt"}, {}])
def test_bytes_equal_what_safetensors_writes(tmp_path, metadata):
    state_dict = _state_dict()
    path = tmp_path / "model.safetensors"
    weights._write_safetensors(state_dict, str(path), metadata)
    assert path.read_bytes() == reference_save(state_dict, metadata=metadata or None)


def test_views_and_offsets_are_written_as_their_own_values(tmp_path):
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    state_dict = {"row": base[2], "column": base[:, 1].contiguous(), "transposed": base.t().contiguous()}
    path = tmp_path / "model.safetensors"
    weights._write_safetensors(state_dict, str(path), {"format": "pt"})
    with safe_open(str(path), framework="pt") as handle:
        for name, tensor in state_dict.items():
            assert torch.equal(handle.get_tensor(name), tensor)
    assert weights.load_safetensors(path).keys() == state_dict.keys()


def test_unsupported_tensors_are_refused_with_their_name(tmp_path):
    with pytest.raises(weights.CheckpointError, match="'sparse'"):
        weights._write_safetensors({"sparse": torch.eye(3).to_sparse()}, str(tmp_path / "x.safetensors"), {})


def test_a_checkpoint_is_written_without_numpy(tmp_path):
    """What a plugin depending on autoload-core and torch only gets: saving must not need numpy."""
    script = textwrap.dedent(
        f"""
        import sys

        class NoNumpy:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "numpy":
                    raise ModuleNotFoundError("No module named 'numpy'", name=name)

        sys.meta_path.insert(0, NoNumpy())
        import torch
        from autoload import weights

        state = {{"w": torch.arange(6, dtype=torch.float32).reshape(2, 3), "b": torch.ones(2, dtype=torch.bfloat16)}}
        weights.write_checkpoint({str(tmp_path)!r}, state, max_shard_size=10)
        assert "numpy" not in sys.modules
        print("saved")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "saved" in result.stdout, result.stderr
    loaded = {}
    for name in sorted(path.name for path in tmp_path.glob("model-*.safetensors")):
        loaded.update(weights.load_safetensors(tmp_path / name))
    assert torch.equal(loaded["w"], torch.arange(6, dtype=torch.float32).reshape(2, 3))
    assert torch.equal(loaded["b"], torch.ones(2, dtype=torch.bfloat16))
