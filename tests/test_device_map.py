"""``from_pretrained(device_map=...)``: one model over CPU memory, disk (and accelerators where there are some).

Checkpoints are saved by transformers (the oracle); a model spread by a device
map must compute exactly what the same checkpoint loaded on one device
computes, and what transformers computes with the same device map.  Weights
placed on disk must not be resident: they stay on the meta device between
forwards and are read from the checkpoint's own safetensors files.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import autoload  # noqa: E402
from autoload.errors import ParallelismError  # noqa: E402

ATOL = 1e-5


@pytest.fixture(autouse=True)
def _accelerate_installed(request: pytest.FixtureRequest) -> None:
    # every test but the one about its absence needs accelerate, the optional extra
    if not request.node.name.startswith("test_without_accelerate") and importlib.util.find_spec("accelerate") is None:
        pytest.skip('accelerate is not installed (pip install "autoload-core[accelerate]")')


IDS = torch.tensor([[5, 17, 3, 42, 8, 61, 2], [9, 1, 33, 70, 12, 4, 27]])


def _perturbed(model: Any, seed: int) -> Any:
    """Random values everywhere (norms and biases too), so a weight read from the wrong place shows."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(torch.randn(param.shape, generator=generator) * 0.05)
    return model.eval()


@pytest.fixture(scope="module")
def gpt2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = transformers.GPT2Config(
        n_embd=32, n_layer=3, n_head=4, vocab_size=99, n_positions=64, bos_token_id=0, eos_token_id=98
    )
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("gpt2")
    _perturbed(transformers.GPT2LMHeadModel(config), seed=1).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = transformers.LlamaConfig(
        vocab_size=128,
        hidden_size=32,
        intermediate_size=37,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=64,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=0,
        tie_word_embeddings=False,
    )
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("llama")
    _perturbed(transformers.LlamaForCausalLM(config), seed=2).save_pretrained(folder)
    return folder


def _logits(model: Any) -> Any:
    with torch.no_grad():
        return model(IDS).logits


def _greedy(model: Any) -> list[list[int]]:
    return model.generate(IDS, max_new_tokens=6, do_sample=False).tolist()


def _assert_same_as_one_device(folder: Path, spread: Any, *, dtype: Any = None, generate: bool = False) -> None:
    one = autoload.AutoModelForCausalLM.from_pretrained(folder, dtype=dtype)
    torch.testing.assert_close(_logits(spread).float(), _logits(one).float(), atol=ATOL, rtol=0)
    if generate:  # the cache and the hooks together, token after token
        assert _greedy(spread) == _greedy(one)


def _disk_layer_params(model: Any, prefix: str) -> dict[str, str]:
    return {name: param.device.type for name, param in model.named_parameters() if name.startswith(prefix + ".")}


GPT2_MAP = {
    "transformer.wte": "cpu",
    "transformer.wpe": "cpu",
    "transformer.h.0": "cpu",
    "transformer.h.1": "disk",
    "transformer.h.2": "disk",
    "transformer.ln_f": "cpu",
    "lm_head": "cpu",
}


def test_dict_with_cpu_and_disk_computes_what_one_device_computes(gpt2: Path, tmp_path: Path) -> None:
    offload = tmp_path / "offload"
    model = autoload.AutoModelForCausalLM.from_pretrained(gpt2, device_map=GPT2_MAP, offload_folder=offload)
    assert model.hf_device_map == GPT2_MAP
    assert model.device == torch.device("cpu")
    for layer in ("transformer.h.1", "transformer.h.2"):
        assert set(_disk_layer_params(model, layer).values()) == {"meta"}
    assert set(_disk_layer_params(model, "transformer.h.0").values()) == {"cpu"}
    _assert_same_as_one_device(gpt2, model, generate=True)
    # between forwards the offloaded weights are gone again, and none was copied: they are read from the checkpoint
    assert set(_disk_layer_params(model, "transformer.h.1").values()) == {"meta"}
    assert not offload.exists() or not os.listdir(offload)


def test_an_offloaded_model_saves_every_weight(gpt2: Path, tmp_path: Path) -> None:
    model = autoload.AutoModelForCausalLM.from_pretrained(gpt2, device_map={**GPT2_MAP, "lm_head": "disk"})
    model.save_pretrained(tmp_path / "saved")
    theirs = transformers.GPT2LMHeadModel.from_pretrained(tmp_path / "saved")
    torch.testing.assert_close(_logits(theirs), _logits(model), atol=ATOL, rtol=0)
    assert set(_disk_layer_params(model, "transformer.h.1").values()) == {"meta"}  # still offloaded afterwards


def test_same_logits_as_transformers_with_the_same_device_map(gpt2: Path, tmp_path: Path) -> None:
    ours = autoload.AutoModelForCausalLM.from_pretrained(gpt2, device_map=GPT2_MAP)
    theirs = transformers.GPT2LMHeadModel.from_pretrained(gpt2, device_map=GPT2_MAP, offload_folder=tmp_path)
    assert theirs.hf_device_map == ours.hf_device_map
    torch.testing.assert_close(_logits(ours), _logits(theirs), atol=ATOL, rtol=0)


def test_auto_with_a_small_cpu_budget_offloads_to_disk(llama: Path, tmp_path: Path) -> None:
    model = autoload.AutoModelForCausalLM.from_pretrained(
        llama, device_map="auto", max_memory={"cpu": 60_000}, offload_folder=tmp_path
    )
    placed = model.hf_device_map
    assert "disk" in placed.values() and "cpu" in placed.values(), placed
    on_disk = [name for name, where in placed.items() if where == "disk"]
    for name in on_disk:
        assert {p.device.type for n, p in model.named_parameters() if n.startswith(name)} <= {"meta"}
    _assert_same_as_one_device(llama, model, generate=True)
    # transformers, given the placement accelerate chose for us, computes the same
    theirs = transformers.LlamaForCausalLM.from_pretrained(llama, device_map=placed, offload_folder=tmp_path / "hf")
    torch.testing.assert_close(_logits(model), _logits(theirs), atol=ATOL, rtol=0)


def test_no_split_modules_keep_each_layer_whole(llama: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = autoload.AutoModelForCausalLM.from_pretrained(llama)
    layer_class = type(plain.model.layers[0]).__name__
    budget = {"cpu": 40_000}  # less than the embeddings and one layer: without the declaration a layer is split
    assert layer_class in type(plain)._no_split_modules  # the plugin declares it
    for cls in (type(plain), type(plain.model)):  # the head and its base model both declare it
        monkeypatch.setattr(cls, "_no_split_modules", None)
    split = autoload.AutoModelForCausalLM.from_pretrained(llama, device_map="auto", max_memory=budget).hf_device_map
    monkeypatch.undo()
    model = autoload.AutoModelForCausalLM.from_pretrained(llama, device_map="auto", max_memory=budget)
    assert any(key.startswith("model.layers.0.") for key in split)
    assert not any(key.startswith(("model.layers.0.", "model.layers.1.")) for key in model.hf_device_map)
    _assert_same_as_one_device(llama, model)


@pytest.mark.parametrize("strategy", ["balanced", "balanced_low_0", "sequential"])
def test_other_strategies_place_and_compute_alike(gpt2: Path, strategy: str) -> None:
    model = autoload.AutoModelForCausalLM.from_pretrained(gpt2, device_map=strategy, max_memory={"cpu": "20KB"})
    assert "disk" in model.hf_device_map.values()
    _assert_same_as_one_device(gpt2, model)


def test_auto_without_limits_on_a_cpu_machine_keeps_everything_in_memory(gpt2: Path) -> None:
    if torch.accelerator.is_available():
        pytest.skip("an accelerator takes the model first")
    model = autoload.AutoModelForCausalLM.from_pretrained(gpt2, device_map="auto")
    assert model.hf_device_map == {"": "cpu"}
    assert all(param.device.type == "cpu" for param in model.parameters())
    _assert_same_as_one_device(gpt2, model)


@pytest.mark.parametrize(
    "moved", [{"lm_head": "disk"}, {"transformer.wte": "disk"}, {"transformer.wte": "disk", "lm_head": "disk"}]
)
def test_tied_head_and_embedding_placed_apart(gpt2: Path, moved: dict[str, str]) -> None:
    device_map = {**GPT2_MAP, "transformer.h.1": "cpu", "transformer.h.2": "cpu", **moved}
    model = autoload.AutoModelForCausalLM.from_pretrained(gpt2, device_map=device_map)
    _assert_same_as_one_device(gpt2, model)


def test_a_key_inside_another_is_more_specific(gpt2: Path) -> None:
    model = autoload.AutoModelForCausalLM.from_pretrained(gpt2, device_map={"": "cpu", "transformer.h.1": "disk"})
    assert model.hf_device_map["transformer.h.1"] == "disk"
    assert set(_disk_layer_params(model, "transformer.h.1").values()) == {"meta"}
    assert set(_disk_layer_params(model, "transformer.h.0").values()) == {"cpu"}
    _assert_same_as_one_device(gpt2, model)


def test_half_precision_weights_on_disk_come_in_as_half(llama: Path) -> None:
    device_map = {"model.embed_tokens": "cpu", "model.layers": "disk", "model.norm": "cpu", "lm_head": "cpu"}
    model = autoload.AutoModelForCausalLM.from_pretrained(llama, device_map=device_map, dtype=torch.bfloat16)
    assert {p.dtype for p in model.parameters()} == {torch.bfloat16}
    assert model.model.rotary_emb.inv_freq.dtype == torch.float32
    _assert_same_as_one_device(llama, model, dtype=torch.bfloat16, generate=True)


def test_pickled_checkpoint_offloads_into_the_offload_folder(gpt2: Path, tmp_path: Path) -> None:
    folder = tmp_path / "pickled"
    folder.mkdir()
    (folder / "config.json").write_text((gpt2 / "config.json").read_text())
    reference = transformers.GPT2LMHeadModel.from_pretrained(gpt2)
    torch.save(reference.state_dict(), folder / "pytorch_model.bin")
    options: dict[str, Any] = {"use_safetensors": False, "allow_pickle": True, "device_map": GPT2_MAP}
    with pytest.raises(ParallelismError, match="offload_folder"):
        autoload.AutoModelForCausalLM.from_pretrained(folder, **options)
    offload = tmp_path / "offload"
    model = autoload.AutoModelForCausalLM.from_pretrained(folder, offload_folder=offload, **options)
    assert "transformer.h.1.attn.c_attn.weight.dat" in os.listdir(offload)
    assert set(_disk_layer_params(model, "transformer.h.1").values()) == {"meta"}
    _assert_same_as_one_device(gpt2, model)


def test_parameters_the_checkpoint_lacks_are_initialised_then_offloaded(gpt2: Path, tmp_path: Path) -> None:
    device_map = {"transformer": "cpu", "score": "disk"}
    model = autoload.AutoModelForSequenceClassification.from_pretrained(
        gpt2, device_map=device_map, offload_folder=tmp_path, num_labels=3, pad_token_id=0
    )
    assert model.score.weight.device.type == "meta"
    offloaded = model.score._hf_hook.weights_map["weight"]
    assert offloaded.shape == (3, 32) and offloaded.abs().sum() > 0  # initialised, not left at zero
    one = autoload.AutoModelForSequenceClassification.from_pretrained(gpt2, num_labels=3, pad_token_id=0)
    with torch.no_grad():
        one.score.weight.copy_(offloaded)
        torch.testing.assert_close(model(IDS).logits, one(IDS).logits, atol=ATOL, rtol=0)


def test_single_device_maps_take_the_plain_path(gpt2: Path) -> None:
    for device_map in ("cpu", {"": "cpu"}, torch.device("cpu")):
        model = autoload.AutoModelForCausalLM.from_pretrained(gpt2, device_map=device_map)
        assert "hf_device_map" not in model.__dict__
        assert not any(hasattr(module, "_hf_hook") for module in model.modules())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_accelerator_cpu_and_disk_together(llama: Path, tmp_path: Path) -> None:
    device_map = {"model.embed_tokens": 0, "model.layers.0": "cpu", "model.layers.1": "disk", "model.norm": 0}
    device_map["lm_head"] = 0
    model = autoload.AutoModelForCausalLM.from_pretrained(llama, device_map=device_map, offload_folder=tmp_path)
    assert model.device == torch.device("cuda", 0)
    assert model.model.embed_tokens.weight.device.type == "cuda"
    assert {p.device.type for p in model.model.layers[0].parameters()} == {"meta"}  # CPU-offloaded: hooked
    one = autoload.AutoModelForCausalLM.from_pretrained(llama)
    with torch.no_grad():
        spread = model(IDS.cuda()).logits
    torch.testing.assert_close(spread.cpu(), _logits(one), atol=1e-4, rtol=0)
    assert model.generate(IDS.cuda(), max_new_tokens=6, do_sample=False).tolist() == _greedy(one)


# -- errors ---------------------------------------------------------------------------


def test_without_accelerate_the_error_says_how_to_install_it(gpt2: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "accelerate", None)  # import accelerate -> ImportError
    with pytest.raises(ParallelismError, match=r'pip install "autoload-core\[accelerate\]"'):
        autoload.AutoModelForCausalLM.from_pretrained(gpt2, device_map="auto")
    # one device needs no accelerate
    assert autoload.AutoModelForCausalLM.from_pretrained(gpt2, device_map="cpu").device == torch.device("cpu")


def test_a_dict_that_leaves_parameters_unplaced(llama: Path) -> None:
    device_map = {"model.embed_tokens": "cpu", "model.layers": "disk", "lm_head": "cpu"}
    with pytest.raises(ParallelismError, match=r"leaves model\.norm\.weight .*without a device"):
        autoload.AutoModelForCausalLM.from_pretrained(llama, device_map=device_map)


def test_an_unknown_module_name_lists_the_valid_ones(gpt2: Path) -> None:
    with pytest.raises(ParallelismError, match=r"'transformer\.h\.7'.*transformer\.h\.0, transformer\.h\.1"):
        autoload.AutoModelForCausalLM.from_pretrained(gpt2, device_map={**GPT2_MAP, "transformer.h.7": "cpu"})
    with pytest.raises(ParallelismError, match=r"'decoder'.*transformer, lm_head"):
        autoload.AutoModelForCausalLM.from_pretrained(gpt2, device_map={"decoder": "cpu", "": "cpu"})


@pytest.mark.parametrize("device", ["gpu:0", "nowhere", -1, 1.5])
def test_an_unknown_device(gpt2: Path, device: Any) -> None:
    with pytest.raises(ParallelismError, match="not a device"):
        autoload.AutoModelForCausalLM.from_pretrained(gpt2, device_map={**GPT2_MAP, "lm_head": device})


@pytest.mark.skipif(torch.accelerator.is_available(), reason="this machine has an accelerator")
def test_an_accelerator_this_machine_lacks(gpt2: Path) -> None:
    with pytest.raises(ParallelismError, match="this machine has no accelerator"):
        autoload.AutoModelForCausalLM.from_pretrained(gpt2, device_map={**GPT2_MAP, "lm_head": "cuda:0"})
    with pytest.raises(ParallelismError, match="this machine has no accelerator"):
        autoload.AutoModelForCausalLM.from_pretrained(gpt2, device_map={**GPT2_MAP, "lm_head": 0})


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"device_map": "auto", "tp_plan": "auto"}, "device_map and tp_plan cannot be combined"),
        ({"device_map": "auto", "device": "cpu"}, "not both"),
        ({"max_memory": {"cpu": "1GB"}}, "max_memory only applies"),
        ({"device_map": GPT2_MAP, "max_memory": {"cpu": "1GB"}}, "max_memory only applies"),
        ({"device_map": "auto", "max_memory": {"disk": "1GB"}}, "cannot limit 'disk'"),
        ({"device_map": "auto", "max_memory": {"cpu": 1.5}}, "byte count"),
        ({"device_map": ["cpu"]}, "device_map must be"),
    ],
)
def test_options_that_cannot_work_together(gpt2: Path, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ParallelismError, match=message):
        autoload.AutoModelForCausalLM.from_pretrained(gpt2, **options)
