"""The output projection's memory order (autoload.modeling.weight_layout): column-major for float32 on the CPU,
row-major otherwise, on every path that makes or changes the weight; never a change in values or saved bytes."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
safetensors_torch = pytest.importorskip("safetensors.torch")
from torch import nn  # noqa: E402

from autoload import weights  # noqa: E402
from autoload.configuration import PretrainedConfig  # noqa: E402
from autoload.errors import CheckpointError  # noqa: E402
from autoload.modeling import CausalLMOutput, PreTrainedModel, weight_layout  # noqa: E402

if not torch.backends.mkl.is_available():  # the rule only reorders where MKL is the BLAS
    pytestmark = pytest.mark.skip(reason="this torch has no MKL: weights stay row-major")


class LayoutConfig(PretrainedConfig):
    model_type = "tiny-layout"

    def __init__(self, vocab_size=37, hidden_size=8, **kwargs):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        super().__init__(**kwargs)


class LayoutLM(PreTrainedModel):
    config_class = LayoutConfig
    _tied_weights_keys = {"lm_head.weight": "embed.weight"}

    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.mix = nn.Linear(config.hidden_size, config.hidden_size)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()

    def get_input_embeddings(self):
        return self.embed

    def set_input_embeddings(self, value):
        self.embed = value

    def get_output_embeddings(self):
        return self.lm_head

    def set_output_embeddings(self, value):
        self.lm_head = value

    def forward(self, input_ids):
        return CausalLMOutput(logits=self.lm_head(torch.tanh(self.mix(self.embed(input_ids)))))


IDS = torch.tensor([[1, 5, 9, 36, 0, 2]])


def _saved(tmp_path, **config_kwargs):
    torch.manual_seed(0)
    model = LayoutLM(LayoutConfig(**config_kwargs)).eval()
    model.save_pretrained(tmp_path / "ckpt")
    return model, tmp_path / "ckpt"


def _head(model):
    return model.get_output_embeddings().weight


def _row_major_logits(model, ids=IDS):
    """The reference: the same model with its projection in nn.Linear's own order."""
    with torch.no_grad():
        hidden = torch.tanh(model.mix(model.embed(ids)))
        return hidden @ _head(model).contiguous().t()


def test_column_major_copy_keeps_every_value():
    for rows in (1, 3, weight_layout.BLOCK_ROWS, weight_layout.BLOCK_ROWS + 7, 3 * weight_layout.BLOCK_ROWS - 1):
        tensor = torch.randn(rows, 5)
        copy = weight_layout.column_major(tensor)
        assert copy.shape == tensor.shape and copy.stride() == (1, rows)
        assert torch.equal(copy, tensor)


def test_loaded_float32_head_is_column_major_and_stays_tied(tmp_path):
    model, folder = _saved(tmp_path)
    loaded = LayoutLM.from_pretrained(folder)
    head = _head(loaded)
    assert weight_layout.is_column_major(head) and not head.is_contiguous()
    assert head is loaded.embed.weight
    assert torch.equal(head, _head(model))
    torch.testing.assert_close(loaded(IDS).logits, _row_major_logits(loaded), rtol=0, atol=1e-6)


def test_the_loader_reads_the_head_in_row_blocks_not_through_the_memory_map(tmp_path, monkeypatch):
    """A mapped view would leave the file's pages resident beside the reordered copy: twice the head's memory."""
    _, folder = _saved(tmp_path)
    mapped, blocked = [], []
    iter_tensors, iter_row_blocks = weights.Checkpoint.iter_tensors, weights.Checkpoint.iter_row_blocks

    def spy_tensors(self, names):
        names = list(names)
        mapped.extend(names)
        return iter_tensors(self, names)

    def spy_blocks(self, name, rows):
        blocked.append(name)
        return iter_row_blocks(self, name, rows)

    monkeypatch.setattr(weights.Checkpoint, "iter_tensors", spy_tensors)
    monkeypatch.setattr(weights.Checkpoint, "iter_row_blocks", spy_blocks)
    LayoutLM.from_pretrained(folder)
    assert blocked == ["embed.weight"] and "embed.weight" not in mapped and "mix.weight" in mapped


def test_untied_head_is_reordered_and_the_embeddings_are_not(tmp_path):
    _, folder = _saved(tmp_path, tie_word_embeddings=False)
    loaded = LayoutLM.from_pretrained(folder)
    assert _head(loaded) is not loaded.embed.weight
    assert weight_layout.is_column_major(_head(loaded)) and loaded.embed.weight.is_contiguous()


def test_half_precision_is_row_major_whichever_way_it_is_reached(tmp_path):
    model, folder = _saved(tmp_path)
    for dtype in (torch.bfloat16, torch.float16):
        loaded = LayoutLM.from_pretrained(folder, dtype=dtype)
        assert _head(loaded).is_contiguous(), dtype
    loaded = LayoutLM.from_pretrained(folder)
    head = _head(loaded)
    loaded.to(torch.bfloat16)
    assert _head(loaded) is head and head is loaded.embed.weight  # same Parameter, tie kept
    assert head.dtype == torch.bfloat16 and head.is_contiguous()
    loaded.float()
    assert weight_layout.is_column_major(head) and head is loaded.embed.weight
    assert torch.equal(head, _head(model).to(torch.bfloat16).float())


def test_saved_bytes_are_row_major_and_what_was_loaded(tmp_path):
    model, folder = _saved(tmp_path)
    loaded = LayoutLM.from_pretrained(folder)
    loaded.save_pretrained(tmp_path / "again")
    first = safetensors_torch.load_file(str(folder / "model.safetensors"))
    second = safetensors_torch.load_file(str(tmp_path / "again" / "model.safetensors"))
    assert first.keys() == second.keys()
    for name in first:
        assert torch.equal(first[name], second[name]), name
    assert torch.equal(first["embed.weight"], _head(model))


def test_models_built_or_resized_in_process_follow_the_rule():
    model = LayoutLM(LayoutConfig())
    assert weight_layout.is_column_major(_head(model))
    model.resize_token_embeddings(50)
    assert _head(model).shape == (50, 8) and weight_layout.is_column_major(_head(model))
    assert _head(model) is model.embed.weight
    half = LayoutLM.from_config(LayoutConfig(), dtype=torch.bfloat16)
    assert _head(half).is_contiguous()


def test_a_pickle_checkpoint_and_a_bfloat16_file_load_column_major(tmp_path):
    model, folder = _saved(tmp_path)
    state = safetensors_torch.load_file(str(folder / "model.safetensors"))
    pickled = tmp_path / "pickled"
    LayoutConfig().save_pretrained(pickled)
    torch.save(state, pickled / "pytorch_model.bin")
    from_pickle = LayoutLM.from_pretrained(pickled, use_safetensors=False, allow_pickle=True)
    assert weight_layout.is_column_major(_head(from_pickle)) and torch.equal(_head(from_pickle), _head(model))
    narrow = tmp_path / "bf16"
    LayoutConfig().save_pretrained(narrow)
    safetensors_torch.save_file({k: v.to(torch.bfloat16) for k, v in state.items()}, str(narrow / "model.safetensors"))
    widened = LayoutLM.from_pretrained(narrow, dtype=torch.float32)
    assert weight_layout.is_column_major(_head(widened))
    assert torch.equal(_head(widened), _head(model).to(torch.bfloat16).float())


def test_without_mkl_nothing_is_reordered(tmp_path, monkeypatch):
    _, folder = _saved(tmp_path)
    monkeypatch.setattr(torch.backends.mkl, "is_available", lambda: False)
    loaded = LayoutLM.from_pretrained(folder)
    assert _head(loaded).is_contiguous()
    assert LayoutLM(LayoutConfig()).lm_head.weight.is_contiguous()


def test_training_through_the_reordered_head_matches_row_major(tmp_path):
    _, folder = _saved(tmp_path)
    reordered = LayoutLM.from_pretrained(folder).train()
    reference = LayoutLM.from_pretrained(folder).train()
    reference.lm_head.weight.data = reference.lm_head.weight.data.contiguous()  # nn.Linear's order, tie kept
    for model in (reordered, reference):
        optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
        for _ in range(3):
            optimizer.zero_grad()
            model(IDS).logits.logsumexp(-1).sum().backward()
            optimizer.step()
    assert weight_layout.is_column_major(_head(reordered))
    for (name, trained), (_, expected) in zip(reordered.named_parameters(), reference.named_parameters()):
        torch.testing.assert_close(trained, expected, rtol=0, atol=1e-6, msg=name)


# -- reading a tensor in blocks of rows, past the memory map ---------------------------------------------------


def _one_tensor_file(tmp_path, tensor, name="w"):
    path = tmp_path / f"{name}.safetensors"
    safetensors_torch.save_file({"other": torch.arange(5.0), name: tensor}, str(path))
    tensors, _ = weights.read_safetensors_header(path)
    return weights.Checkpoint(weights._entries_from_header(str(path), tensors), [str(path)], source=str(path))


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.int64])
def test_row_blocks_rebuild_the_tensor_without_the_memory_map(tmp_path, monkeypatch, dtype):
    tensor = (torch.randn(7, 3, 2) * 100).to(dtype)
    checkpoint = _one_tensor_file(tmp_path, tensor)

    def no_mapping(*args, **kwargs):
        raise AssertionError("the blocks must not come through the memory map")

    monkeypatch.setattr(weights, "_read_file", no_mapping)
    monkeypatch.setattr(checkpoint, "read_slices", no_mapping)
    blocks = [(start, block.clone()) for start, block in checkpoint.iter_row_blocks("w", 3)]
    assert [start for start, _ in blocks] == [0, 3, 6]
    assert torch.equal(torch.cat([block for _, block in blocks]), tensor)


def test_row_blocks_of_a_file_cut_short_after_opening_are_a_checkpoint_error(tmp_path):
    checkpoint = _one_tensor_file(tmp_path, torch.randn(64, 16))
    path = tmp_path / "w.safetensors"
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size - 100)
    with pytest.raises(CheckpointError, match=r"truncated.*'w'"):
        list(checkpoint.iter_row_blocks("w", 16))


def test_row_blocks_of_an_empty_tensor(tmp_path):
    checkpoint = _one_tensor_file(tmp_path, torch.zeros(0, 4))
    assert list(checkpoint.iter_row_blocks("w", 8)) == []
