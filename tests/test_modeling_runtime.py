"""PreTrainedModel: loading, saving, tying, dtypes and checkpoint faults, on a tiny two-head architecture."""

from __future__ import annotations

import json
import logging
import os
import pickle
import threading

import pytest

torch = pytest.importorskip("torch")
safetensors_torch = pytest.importorskip("safetensors.torch")
from torch import nn  # noqa: E402

from autoload import files, weights  # noqa: E402
from autoload.configuration import PretrainedConfig  # noqa: E402
from autoload.errors import CheckpointError, ConfigError, ParallelismError, UnsafeCheckpointError  # noqa: E402
from autoload.modeling import BaseModelOutput, MaskedLMOutput, PreTrainedModel, weight_layout  # noqa: E402

# -- the tiny architecture -------------------------------------------------------

INIT_CALLS: list[nn.Module] = []
BIAS_INIT = 0.25  # what _init_weights gives linear biases, so a fresh bias is recognisable


class TinyConfig(PretrainedConfig):
    model_type = "tiny-runtime"

    def __init__(self, vocab_size=13, hidden_size=8, layer_norm_eps=1e-12, initializer_range=0.02, **kwargs):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.layer_norm_eps = layer_norm_eps
        self.initializer_range = initializer_range
        super().__init__(**kwargs)


class TinyPreTrainedModel(PreTrainedModel):
    config_class = TinyConfig
    base_model_prefix = "tiny"

    def _init_weights(self, module):
        INIT_CALLS.append(module)
        if isinstance(module, nn.Linear):
            module.weight.normal_(0.0, self.config.initializer_range)
            if module.bias is not None:
                module.bias.fill_(BIAS_INIT)
        elif isinstance(module, nn.Embedding):
            module.weight.normal_(0.0, self.config.initializer_range)
        elif isinstance(module, nn.LayerNorm):
            module.weight.fill_(1.0)
            module.bias.zero_()


class TinyModel(TinyPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.register_buffer("position_ids", torch.arange(16), persistent=False)
        self.register_buffer("scale", torch.full((config.hidden_size,), 2.0))
        self.post_init()

    def get_input_embeddings(self):
        return self.embeddings

    def set_input_embeddings(self, value):
        self.embeddings = value

    def forward(self, input_ids):
        hidden = self.LayerNorm(self.embeddings(input_ids)) * self.scale
        hidden = hidden + self.position_ids[: input_ids.shape[-1], None].to(hidden.dtype) / 16
        return BaseModelOutput(last_hidden_state=torch.tanh(self.dense(hidden)))


class TinyForMaskedLM(TinyPreTrainedModel):
    _tied_weights_keys = {"lm_head.weight": "tiny.embeddings.weight"}
    _keys_to_ignore_on_load_unexpected = [r"^ignored_extra"]

    def __init__(self, config):
        super().__init__(config)
        self.tiny = TinyModel(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size)
        self.post_init()

    def get_output_embeddings(self):
        return self.lm_head

    def forward(self, input_ids):
        return MaskedLMOutput(logits=self.lm_head(self.tiny(input_ids).last_hidden_state))


class TinyWithRenames(TinyModel):
    _checkpoint_key_renames = ((r"^old_dense\.", "dense."),)


INPUT = torch.tensor([[1, 2, 3, 4, 5], [5, 4, 3, 2, 1]])


@pytest.fixture(autouse=True)
def _clear_init_calls():
    INIT_CALLS.clear()
    yield
    INIT_CALLS.clear()


def _random_model(cls=TinyForMaskedLM, seed=0, **config_kwargs):
    torch.manual_seed(seed)
    model = cls(TinyConfig(**config_kwargs))
    with torch.no_grad():  # make every tensor distinct from any init value
        for param in model.parameters():
            param.normal_()
    return model.eval()


def _saved(tmp_path, cls=TinyForMaskedLM, name="ckpt", **save_kwargs):
    model = _random_model(cls)
    folder = tmp_path / name
    model.save_pretrained(folder, **save_kwargs)
    return model, folder


def _state(folder):
    """Every tensor of a saved checkpoint, via safetensors itself."""
    index = folder / "model.safetensors.index.json"
    if index.exists():
        state = {}
        for shard in set(json.loads(index.read_text())["weight_map"].values()):
            state.update(safetensors_torch.load_file(str(folder / shard)))
        return state
    return safetensors_torch.load_file(str(folder / "model.safetensors"))


def _write_state(folder, state, config=None):
    folder.mkdir(parents=True, exist_ok=True)
    (config or TinyConfig()).save_pretrained(folder)
    safetensors_torch.save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    return folder


# -- round trips -------------------------------------------------------------------


def test_round_trip_gives_identical_outputs(tmp_path):
    model, folder = _saved(tmp_path)
    loaded = TinyForMaskedLM.from_pretrained(folder)
    assert not loaded.training
    assert torch.equal(loaded(INPUT).logits, model(INPUT).logits)
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), name


def test_saved_files_are_what_transformers_writes(tmp_path):
    _model, folder = _saved(tmp_path)
    config = json.loads((folder / "config.json").read_text())
    assert config["architectures"] == ["TinyForMaskedLM"]
    assert config["dtype"] == "float32"
    assert config["model_type"] == "tiny-runtime"
    with safetensors_torch.safe_open(str(folder / "model.safetensors"), "pt") as handle:
        assert handle.metadata() == {"format": "pt"}
        keys = set(handle.keys())
    # the tied output weight is written once, under its source name; non-persistent buffers never
    assert "tiny.embeddings.weight" in keys and "lm_head.weight" not in keys
    assert "tiny.scale" in keys and "tiny.position_ids" not in keys
    assert sorted(os.listdir(folder)) == ["config.json", "model.safetensors"]


def test_sharded_save_and_load(tmp_path):
    model, folder = _saved(tmp_path, max_shard_size=300)
    index = json.loads((folder / "model.safetensors.index.json").read_text())
    state = model.state_dict()
    del state["lm_head.weight"]
    shards = sorted(set(index["weight_map"].values()))
    count = len(shards)
    assert count > 2
    assert shards == [f"model-{i:05d}-of-{count:05d}.safetensors" for i in range(1, count + 1)]
    assert set(index["weight_map"]) == set(state)
    assert index["metadata"]["total_size"] == sum(t.numel() * t.element_size() for t in state.values())
    assert index["metadata"]["total_parameters"] == model.num_parameters()
    assert not (folder / "model.safetensors").exists()
    for shard in shards:  # each shard holds exactly what the index says
        held = set(safetensors_torch.load_file(str(folder / shard)))
        assert held == {k for k, v in index["weight_map"].items() if v == shard}
    loaded = TinyForMaskedLM.from_pretrained(folder)
    assert torch.equal(loaded(INPUT).logits, model(INPUT).logits)


def test_save_accepts_an_integer_shard_size(tmp_path):
    _, folder = _saved(tmp_path, max_shard_size=10**9)
    assert (folder / "model.safetensors").exists()


def test_transformers_shard_loader_reads_our_index(tmp_path):
    """huggingface_hub's own sharded loader (what transformers uses) reads what we wrote."""
    serialization = pytest.importorskip("huggingface_hub.serialization")
    model, folder = _saved(tmp_path, cls=TinyModel, max_shard_size=200)
    target = TinyModel(TinyConfig())
    serialization.load_torch_model(target, folder, strict=True)
    assert torch.equal(target(INPUT).last_hidden_state, model(INPUT).last_hidden_state)


# -- atomic save -----------------------------------------------------------------------


def _failing_writer(monkeypatch, fail_on_call: int):
    real = weights._write_safetensors
    calls = {"n": 0}

    def writer(tensors, path, metadata):
        calls["n"] += 1
        if calls["n"] == fail_on_call:
            with open(path, "wb") as handle:  # leave a partial file behind, as a full disk would
                handle.write(b"partial")
            raise OSError(28, "No space left on device")
        real(tensors, path, metadata)

    monkeypatch.setattr(weights, "_write_safetensors", writer)


@pytest.mark.parametrize("old_shard_size", [10**9, 300])
def test_failed_save_leaves_the_old_checkpoint_loadable(tmp_path, monkeypatch, old_shard_size):
    old, folder = _saved(tmp_path, max_shard_size=old_shard_size)
    before = {name: (folder / name).read_bytes() for name in os.listdir(folder)}
    new = _random_model(seed=1)
    _failing_writer(monkeypatch, fail_on_call=2)
    with pytest.raises(OSError, match="No space left"):
        new.save_pretrained(folder, max_shard_size=250)
    after = {name: (folder / name).read_bytes() for name in os.listdir(folder)}
    assert after == before  # nothing replaced, nothing new (no temp files, no partial shard)
    monkeypatch.undo()
    loaded = TinyForMaskedLM.from_pretrained(folder)
    assert torch.equal(loaded(INPUT).logits, old(INPUT).logits)


def test_failed_config_write_keeps_old_weights(tmp_path, monkeypatch):
    old, folder = _saved(tmp_path)
    before = sorted(os.listdir(folder))
    monkeypatch.setattr(files.StagedFiles, "write_text", lambda self, name, text: (_ for _ in ()).throw(OSError("x")))
    with pytest.raises(OSError):
        _random_model(seed=3).save_pretrained(folder)
    assert sorted(os.listdir(folder)) == before
    monkeypatch.undo()
    assert torch.equal(TinyForMaskedLM.from_pretrained(folder)(INPUT).logits, old(INPUT).logits)


def test_resave_removes_stale_shards_only_after_success(tmp_path):
    _, folder = _saved(tmp_path, max_shard_size=200)
    old_shards = {name for name in os.listdir(folder) if name.startswith("model-")}
    assert len(old_shards) > 2
    model = _random_model(seed=2)
    model.save_pretrained(folder, max_shard_size=500)
    new_shards = {name for name in os.listdir(folder) if name.startswith("model-")}
    assert new_shards and new_shards.isdisjoint(old_shards)
    index = json.loads((folder / "model.safetensors.index.json").read_text())
    assert set(index["weight_map"].values()) == new_shards
    assert torch.equal(TinyForMaskedLM.from_pretrained(folder)(INPUT).logits, model(INPUT).logits)

    model.save_pretrained(folder)  # back to one file: index and shards go
    assert sorted(os.listdir(folder)) == ["config.json", "model.safetensors"]
    model.save_pretrained(folder, max_shard_size=300)  # and sharded again: the single file goes
    assert "model.safetensors" not in os.listdir(folder)
    assert not [name for name in os.listdir(folder) if name.endswith(".tmp")]


def test_save_into_the_folder_it_was_loaded_from(tmp_path):
    model, folder = _saved(tmp_path)
    loaded = TinyForMaskedLM.from_pretrained(folder)  # its tensors map the file being replaced
    with torch.no_grad():
        loaded.tiny.dense.bias.add_(1.0)
    expected = loaded(INPUT).logits
    loaded.save_pretrained(folder, max_shard_size=300)
    assert torch.equal(TinyForMaskedLM.from_pretrained(folder)(INPUT).logits, expected)
    assert not torch.equal(expected, model(INPUT).logits)


def test_saved_files_are_not_private(tmp_path):
    _, folder = _saved(tmp_path)
    umask = os.umask(0)
    os.umask(umask)
    assert (folder / "model.safetensors").stat().st_mode & 0o777 == 0o666 & ~umask


def test_save_refuses_pickles_and_files(tmp_path):
    model = _random_model()
    with pytest.raises(CheckpointError, match="safetensors only"):
        model.save_pretrained(tmp_path / "x", safe_serialization=False)
    (tmp_path / "file").write_text("")
    with pytest.raises(CheckpointError, match="is a file"):
        model.save_pretrained(tmp_path / "file")


# -- meta construction and initialisation -------------------------------------------


def test_parameters_present_in_the_checkpoint_are_never_initialised(tmp_path):
    _, folder = _saved(tmp_path)
    INIT_CALLS.clear()
    TinyForMaskedLM.from_pretrained(folder)
    assert INIT_CALLS == []


def test_from_config_initialises_every_module_once():
    model = TinyForMaskedLM.from_config(TinyConfig())
    assert len(INIT_CALLS) == len(list(model.modules()))
    assert len({id(m) for m in INIT_CALLS}) == len(INIT_CALLS)
    assert model.training  # from_config leaves train mode, as transformers does
    assert torch.all(model.tiny.dense.bias == BIAS_INIT)


def test_missing_parameters_are_initialised_by_their_owner_only(tmp_path):
    model, folder = _saved(tmp_path)
    state = _state(folder)
    del state["tiny.dense.bias"]  # dense.weight stays: its owner is half loaded
    _write_state(tmp_path / "partial", state)
    INIT_CALLS.clear()
    loaded, info = TinyForMaskedLM.from_pretrained(tmp_path / "partial", output_loading_info=True)
    assert [loaded.tiny.dense] == INIT_CALLS
    assert torch.all(loaded.tiny.dense.bias == BIAS_INIT)
    assert torch.equal(loaded.tiny.dense.weight, model.tiny.dense.weight)  # not overwritten by the init
    assert info["missing_keys"] == ["tiny.dense.bias"]
    assert not any(p.device.type == "meta" for p in loaded.parameters())


def test_meta_hook_is_per_thread():
    from autoload import modeling

    seen = {}

    def build():
        seen["device"] = nn.Linear(2, 2).weight.device.type

    with modeling._parameters_on_meta():
        assert nn.Linear(2, 2).weight.device.type == "meta"
        worker = threading.Thread(target=build)
        worker.start()
        worker.join()
        buffers_stay = TinyModel(TinyConfig())
    assert seen["device"] == "cpu"
    assert buffers_stay.position_ids.device.type == "cpu"
    assert torch.equal(buffers_stay.position_ids, torch.arange(16))
    assert nn.Linear(2, 2).weight.device.type == "cpu"


def test_concurrent_loads(tmp_path):
    model, folder = _saved(tmp_path)
    expected = model(INPUT).logits
    results, errors = [], []

    def load():
        try:
            results.append(TinyForMaskedLM.from_pretrained(folder)(INPUT).logits)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 4 and all(torch.equal(r, expected) for r in results)


def test_loaded_tensors_are_views_of_the_mapped_file(tmp_path):
    """In float32 on CPU, parameters live in the file's memory mapping: no second copy is made.

    The one exception is the output projection (here tied to the embeddings), read into column order
    (autoload.modeling.weight_layout) and so necessarily a copy.
    """
    if not os.path.exists("/proc/self/maps"):
        pytest.skip("needs /proc/self/maps")
    _, folder = _saved(tmp_path)
    loaded = TinyForMaskedLM.from_pretrained(folder)
    target = str(folder / "model.safetensors")
    ranges = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and fields[5].strip() == target:
                start, end = (int(x, 16) for x in fields[0].split("-"))
                ranges.append((start, end))
    assert ranges
    reordered = loaded.get_output_embeddings().weight
    for name, param in loaded.named_parameters():
        in_map = any(start <= param.data_ptr() < end for start, end in ranges)
        assert in_map is (param is not reordered or not weight_layout.prefers_column_major(param)), name
    half = TinyForMaskedLM.from_pretrained(folder, dtype=torch.float16)  # a cast necessarily copies
    assert not any(start <= half.tiny.dense.weight.data_ptr() < end for start, end in ranges)


# -- heads, prefixes and loading info -------------------------------------------------


def test_base_checkpoint_into_head(tmp_path, caplog):
    base, folder = _saved(tmp_path, cls=TinyModel)
    assert all(not key.startswith("tiny.") for key in _state(folder))
    with caplog.at_level(logging.WARNING, logger="autoload"):
        head, info = TinyForMaskedLM.from_pretrained(folder, output_loading_info=True)
    assert torch.equal(head.tiny(INPUT).last_hidden_state, base(INPUT).last_hidden_state)
    assert info == {"missing_keys": ["lm_head.bias"], "unexpected_keys": [], "mismatched_keys": [], "error_msgs": []}
    assert head.lm_head.weight is head.tiny.embeddings.weight
    warnings = [r for r in caplog.records if r.name == "autoload" and r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "lm_head.bias" in warnings[0].getMessage()


def test_head_checkpoint_into_base(tmp_path, caplog):
    head, folder = _saved(tmp_path)
    INIT_CALLS.clear()
    with caplog.at_level(logging.WARNING, logger="autoload"):
        base, info = TinyModel.from_pretrained(folder, output_loading_info=True)
    assert torch.equal(base(INPUT).last_hidden_state, head.tiny(INPUT).last_hidden_state)
    assert info["missing_keys"] == [] and info["unexpected_keys"] == ["lm_head.bias"]
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
    assert INIT_CALLS == []


def test_clean_load_is_silent(tmp_path, caplog):
    _, folder = _saved(tmp_path)
    with caplog.at_level(logging.WARNING, logger="autoload"):
        _, info = TinyForMaskedLM.from_pretrained(folder, output_loading_info=True)
    assert info == {"missing_keys": [], "unexpected_keys": [], "mismatched_keys": [], "error_msgs": []}
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


class TinyForMaskedLMQuietBias(TinyForMaskedLM):
    _keys_to_ignore_on_load_missing = [r"^lm_head\.bias$"]


def test_ignored_missing_keys_are_still_initialised(tmp_path, caplog):
    _, folder = _saved(tmp_path, cls=TinyModel)
    with caplog.at_level(logging.WARNING, logger="autoload"):
        loaded, info = TinyForMaskedLMQuietBias.from_pretrained(folder, output_loading_info=True)
    assert info["missing_keys"] == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert torch.all(loaded.lm_head.bias == BIAS_INIT)


def test_ignore_lists_silence_keys(tmp_path, caplog):
    _model, folder = _saved(tmp_path)
    state = _state(folder)
    state["ignored_extra.weight"] = torch.zeros(2)
    state["other_extra"] = torch.zeros(2)
    _write_state(tmp_path / "extra", state)
    _, info = TinyForMaskedLM.from_pretrained(tmp_path / "extra", output_loading_info=True)
    assert info["unexpected_keys"] == ["other_extra"]


def test_tied_weights_load_from_source_only_and_stay_tied(tmp_path):
    model, folder = _saved(tmp_path)
    assert "lm_head.weight" not in _state(folder)
    loaded, info = TinyForMaskedLM.from_pretrained(folder, output_loading_info=True)
    assert loaded.lm_head.weight is loaded.tiny.embeddings.weight
    assert "lm_head.weight" not in info["missing_keys"]
    assert loaded.num_parameters() == model.num_parameters()


def test_checkpoint_with_both_tied_copies(tmp_path):
    """transformers' older checkpoints (and some exporters) write the tied copy too."""
    _model, folder = _saved(tmp_path)
    state = _state(folder)
    state["lm_head.weight"] = state["tiny.embeddings.weight"].clone()
    _write_state(tmp_path / "both", state)
    loaded, info = TinyForMaskedLM.from_pretrained(tmp_path / "both", output_loading_info=True)
    assert info["unexpected_keys"] == [] and info["missing_keys"] == []
    assert loaded.lm_head.weight is loaded.tiny.embeddings.weight


def test_checkpoint_with_only_the_tied_copy_feeds_the_source(tmp_path):
    model, folder = _saved(tmp_path)
    state = _state(folder)
    state["lm_head.weight"] = state.pop("tiny.embeddings.weight")
    _write_state(tmp_path / "target-only", state)
    loaded, info = TinyForMaskedLM.from_pretrained(tmp_path / "target-only", output_loading_info=True)
    assert info["missing_keys"] == [] and info["unexpected_keys"] == []
    assert torch.equal(loaded(INPUT).logits, model(INPUT).logits)


def test_untied_config_keeps_separate_weights(tmp_path):
    model = _random_model(tie_word_embeddings=False)
    assert model.lm_head.weight is not model.tiny.embeddings.weight
    model.save_pretrained(tmp_path)
    assert "lm_head.weight" in _state(tmp_path)
    loaded = TinyForMaskedLM.from_pretrained(tmp_path)
    assert loaded.lm_head.weight is not loaded.tiny.embeddings.weight
    assert torch.equal(loaded(INPUT).logits, model(INPUT).logits)


def test_mismatched_shape_is_an_error_unless_ignored(tmp_path):
    model, folder = _saved(tmp_path)
    state = _state(folder)
    state["tiny.dense.weight"] = torch.zeros(8, 5)
    _write_state(tmp_path / "bad", state)
    with pytest.raises(CheckpointError, match=r"tiny\.dense\.weight.*\[8, 5\].*\[8, 8\].*ignore_mismatched_sizes"):
        TinyForMaskedLM.from_pretrained(tmp_path / "bad")
    INIT_CALLS.clear()
    loaded, info = TinyForMaskedLM.from_pretrained(
        tmp_path / "bad", ignore_mismatched_sizes=True, output_loading_info=True
    )
    assert info["mismatched_keys"] == [("tiny.dense.weight", (8, 5), (8, 8))]
    assert info["missing_keys"] == []
    assert [loaded.tiny.dense] == INIT_CALLS
    assert torch.equal(loaded.tiny.dense.bias, model.tiny.dense.bias)  # the loaded bias survives
    assert loaded.tiny.dense.weight.abs().max() < 0.2  # the fresh weight, std 0.02


def test_wrong_dtype_is_an_error(tmp_path):
    _, folder = _saved(tmp_path)
    state = _state(folder)
    state["tiny.dense.bias"] = torch.arange(8)
    _write_state(tmp_path / "int", state)
    with pytest.raises(CheckpointError, match=r"tiny\.dense\.bias is I64.*model\.safetensors"):
        TinyForMaskedLM.from_pretrained(tmp_path / "int")


def test_legacy_gamma_beta_and_plugin_renames(tmp_path):
    model, folder = _saved(tmp_path, cls=TinyModel)
    state = _state(folder)
    state["LayerNorm.gamma"] = state.pop("LayerNorm.weight")
    state["LayerNorm.beta"] = state.pop("LayerNorm.bias")
    _write_state(tmp_path / "legacy", state)
    loaded, info = TinyForMaskedLM.from_pretrained(tmp_path / "legacy", output_loading_info=True)
    assert info["unexpected_keys"] == [] and info["missing_keys"] == ["lm_head.bias"]
    assert torch.equal(loaded.tiny(INPUT).last_hidden_state, model(INPUT).last_hidden_state)

    state["old_dense.weight"] = state.pop("dense.weight")
    _write_state(tmp_path / "renamed", state)
    loaded, info = TinyWithRenames.from_pretrained(tmp_path / "renamed", output_loading_info=True)
    assert info["unexpected_keys"] == [] and info["missing_keys"] == []
    assert torch.equal(loaded(INPUT).last_hidden_state, model(INPUT).last_hidden_state)


def test_missing_persistent_buffer_is_reported_and_keeps_its_value(tmp_path):
    _, folder = _saved(tmp_path, cls=TinyModel)
    state = _state(folder)
    del state["scale"]
    _write_state(tmp_path / "no-buffer", state)
    loaded, info = TinyModel.from_pretrained(tmp_path / "no-buffer", output_loading_info=True)
    assert info["missing_keys"] == ["scale"]
    assert torch.equal(loaded.scale, torch.full((8,), 2.0))


# -- dtypes, devices, options ----------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, "float16", "torch.bfloat16"])
def test_dtype_casts_floating_tensors_only(tmp_path, dtype):
    model, folder = _saved(tmp_path)
    loaded = TinyForMaskedLM.from_pretrained(folder, dtype=dtype)
    expected = dtype if isinstance(dtype, torch.dtype) else getattr(torch, dtype.removeprefix("torch."))
    assert loaded.dtype == expected
    assert all(p.dtype == expected for p in loaded.parameters())
    assert loaded.tiny.scale.dtype == expected
    assert loaded.tiny.position_ids.dtype == torch.int64
    assert loaded.config.dtype == str(expected).removeprefix("torch.")
    assert torch.equal(loaded.tiny.dense.weight, model.tiny.dense.weight.to(expected))
    loaded.save_pretrained(tmp_path / "resaved")
    assert json.loads((tmp_path / "resaved" / "config.json").read_text())["dtype"] == str(expected).split(".")[1]


def test_dtype_none_is_float32_and_auto_follows_config_then_checkpoint(tmp_path):
    model = _random_model().to(torch.float16)
    model.save_pretrained(tmp_path)
    assert TinyForMaskedLM.from_pretrained(tmp_path).dtype == torch.float32
    assert TinyForMaskedLM.from_pretrained(tmp_path, dtype="auto").dtype == torch.float16
    assert TinyForMaskedLM.from_pretrained(tmp_path, torch_dtype=torch.bfloat16).dtype == torch.bfloat16
    config = TinyConfig()  # dtype unset: "auto" falls back to the checkpoint's dtype
    assert TinyForMaskedLM.from_pretrained(tmp_path, config=config, dtype="auto").dtype == torch.float16
    config.dtype = "bfloat16"
    assert TinyForMaskedLM.from_pretrained(tmp_path, config=config, dtype="auto").dtype == torch.bfloat16


@pytest.mark.parametrize("dtype", ["int8", torch.int64, "float17", 3])
def test_bad_dtype_is_refused(tmp_path, dtype):
    _, folder = _saved(tmp_path)
    with pytest.raises(ConfigError, match="dtype"):
        TinyForMaskedLM.from_pretrained(folder, dtype=dtype)


def test_attn_implementation(tmp_path):
    _, folder = _saved(tmp_path)
    assert TinyForMaskedLM.from_pretrained(folder).config._attn_implementation == "sdpa"
    assert TinyForMaskedLM.from_pretrained(folder, attn_implementation="eager").config._attn_implementation == "eager"
    with pytest.raises(ConfigError, match="flash_attention_2"):
        TinyForMaskedLM.from_pretrained(folder, attn_implementation="flash_attention_2")
    config = TinyConfig()
    config._attn_implementation = "eager"
    assert TinyForMaskedLM.from_config(config).config._attn_implementation == "eager"
    assert TinyForMaskedLM.from_config(config, attn_implementation="sdpa").config._attn_implementation == "sdpa"
    assert config._attn_implementation == "eager"  # the caller's config is not modified


def test_config_overrides_and_unknown_kwargs(tmp_path):
    _, folder = _saved(tmp_path)
    loaded = TinyForMaskedLM.from_pretrained(folder, layer_norm_eps=1e-3)
    assert loaded.config.layer_norm_eps == 1e-3
    assert loaded.tiny.LayerNorm.eps == 1e-3
    with pytest.raises(TypeError, match="no_such_option"):
        TinyForMaskedLM.from_pretrained(folder, no_such_option=1)
    with pytest.raises(TypeError, match="no_such_option"):
        TinyForMaskedLM.from_pretrained(folder, config=TinyConfig(), no_such_option=1)


def test_explicit_config_is_copied(tmp_path):
    _, folder = _saved(tmp_path)
    config = TinyConfig()
    loaded = TinyForMaskedLM.from_pretrained(folder, config=config, dtype=torch.float16, attn_implementation="eager")
    assert loaded.config is not config
    assert config.dtype is None and config._attn_implementation is None


def test_subfolder(tmp_path):
    model, _ = _saved(tmp_path, name="repo/sub")
    loaded = TinyForMaskedLM.from_pretrained(tmp_path / "repo", subfolder="sub")
    assert torch.equal(loaded(INPUT).logits, model(INPUT).logits)


def test_device_argument(tmp_path):
    _, folder = _saved(tmp_path)
    loaded = TinyForMaskedLM.from_pretrained(folder, device="cpu")
    assert loaded.device == torch.device("cpu")
    assert TinyForMaskedLM.from_pretrained(folder, device_map="cpu").device == torch.device("cpu")
    if not torch.accelerator.is_available():
        with pytest.raises(ParallelismError, match="device_map"):
            TinyForMaskedLM.from_pretrained(folder, device_map={"": 0})


def test_from_config_dtype():
    model = TinyForMaskedLM.from_config(TinyConfig(), dtype="bfloat16")
    assert model.dtype == torch.bfloat16 and model.config.dtype == "bfloat16"
    with pytest.raises(TypeError, match="bogus"):
        TinyForMaskedLM.from_config(TinyConfig(), bogus=1)


def test_num_parameters_and_embeddings():
    model = TinyForMaskedLM(TinyConfig())
    config = model.config
    v, h = config.vocab_size, config.hidden_size
    embedding = v * h
    layer_norm = 2 * h
    dense = h * h + h
    lm_head_bias = v  # lm_head.weight is the embedding, counted once
    assert model.num_parameters() == embedding + layer_norm + dense + lm_head_bias
    assert model.num_parameters(exclude_embeddings=True) == layer_norm + dense + lm_head_bias
    model.tiny.dense.weight.requires_grad_(False)
    assert model.num_parameters(only_trainable=True) == embedding + layer_norm + h + lm_head_bias
    assert model.get_input_embeddings() is model.tiny.embeddings
    assert model.get_output_embeddings() is model.lm_head
    assert model.base_model is model.tiny
    new = nn.Embedding(v, h)
    model.set_input_embeddings(new)
    assert model.tiny.embeddings is new
    model.tie_weights()
    assert model.lm_head.weight is new.weight
    assert TinyModel(config).get_output_embeddings() is None


def test_constructor_needs_a_config():
    with pytest.raises(TypeError, match="PretrainedConfig"):
        TinyModel({"hidden_size": 8})


def test_modeling_reexports_outputs():
    from autoload import modeling, outputs

    for name, value in vars(outputs).items():
        if isinstance(value, type) and issubclass(value, outputs.ModelOutput):
            assert getattr(modeling, name) is value
            assert name in modeling.__all__


# -- pickles ------------------------------------------------------------------------------


def _pickle_checkpoint(folder, state):
    folder.mkdir(parents=True, exist_ok=True)
    TinyConfig().save_pretrained(folder)
    torch.save(state, folder / "pytorch_model.bin")
    return folder


def test_pickle_is_refused_then_loaded_with_weights_only(tmp_path, monkeypatch):
    model, folder = _saved(tmp_path)
    pickled = _pickle_checkpoint(tmp_path / "pickled", _state(folder))
    with pytest.raises(UnsafeCheckpointError, match=r"use_safetensors=False, allow_pickle=True"):
        TinyForMaskedLM.from_pretrained(pickled)
    with pytest.raises(UnsafeCheckpointError):
        TinyForMaskedLM.from_pretrained(pickled, allow_pickle=True)
    with pytest.raises(CheckpointError, match="use_safetensors=True"):
        TinyForMaskedLM.from_pretrained(pickled, use_safetensors=True)

    calls = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    loaded = TinyForMaskedLM.from_pretrained(pickled, use_safetensors=False, allow_pickle=True)
    assert calls == [{"map_location": "cpu", "weights_only": True, "mmap": True}]
    assert torch.equal(loaded(INPUT).logits, model(INPUT).logits)


def test_sharded_pickle_checkpoint(tmp_path):
    model, folder = _saved(tmp_path)
    state = _state(folder)
    target = tmp_path / "pickled"
    target.mkdir()
    TinyConfig().save_pretrained(target)
    keys = sorted(state)
    halves = {"pytorch_model-00001-of-00002.bin": keys[:2], "pytorch_model-00002-of-00002.bin": keys[2:]}
    for name, part in halves.items():
        torch.save({k: state[k] for k in part}, target / name)
    weight_map = {k: name for name, part in halves.items() for k in part}
    (target / "pytorch_model.bin.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    with pytest.raises(UnsafeCheckpointError):
        TinyForMaskedLM.from_pretrained(target)
    loaded = TinyForMaskedLM.from_pretrained(target, use_safetensors=False, allow_pickle=True)
    assert torch.equal(loaded(INPUT).logits, model(INPUT).logits)


class _Payload:
    """Unpickling this would create a folder: proof the pickle ran code."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_malicious_pickle_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    folder = _pickle_checkpoint(tmp_path / "evil", {"tiny.dense.weight": torch.zeros(8, 8)})
    with open(folder / "pytorch_model.bin", "wb") as handle:  # a plain pickle, the oldest format
        pickle.dump({"tiny.dense.weight": _Payload(str(marker))}, handle, protocol=2)
    zipped = _pickle_checkpoint(tmp_path / "evil-zip", {"x": _Payload(str(marker))})
    for target in (folder, zipped):
        with pytest.raises(UnsafeCheckpointError):
            TinyForMaskedLM.from_pretrained(target)
        with pytest.raises(CheckpointError, match=r"refused by torch\.load\(weights_only=True\)") as caught:
            TinyForMaskedLM.from_pretrained(target, use_safetensors=False, allow_pickle=True)
        assert isinstance(caught.value.__cause__, pickle.UnpicklingError)
        assert "pytorch_model.bin" in str(caught.value)
    assert not marker.exists()


def test_legacy_pickle_format_loads_without_mmap(tmp_path):
    model, folder = _saved(tmp_path)
    target = tmp_path / "legacy"
    target.mkdir()
    TinyConfig().save_pretrained(target)
    torch.save(_state(folder), target / "pytorch_model.bin", _use_new_zipfile_serialization=False)
    loaded = TinyForMaskedLM.from_pretrained(target, use_safetensors=False, allow_pickle=True)
    assert torch.equal(loaded(INPUT).logits, model(INPUT).logits)


def test_safetensors_wins_over_pickle(tmp_path, monkeypatch):
    model, folder = _saved(tmp_path)
    torch.save({k: torch.zeros_like(v) for k, v in _state(folder).items()}, folder / "pytorch_model.bin")
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("torch.load must not be called"))
    for kwargs in ({}, {"use_safetensors": False, "allow_pickle": True}):
        loaded = TinyForMaskedLM.from_pretrained(folder, **kwargs)
        assert torch.equal(loaded(INPUT).logits, model(INPUT).logits)


# -- faulty checkpoints through from_pretrained ----------------------------------------------


def test_malformed_weights_name_the_file(tmp_path):
    _, folder = _saved(tmp_path)
    path = folder / "model.safetensors"
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size // 2)
    with pytest.raises(CheckpointError, match=r"model\.safetensors.*truncated"):
        TinyForMaskedLM.from_pretrained(folder)


def test_sharded_faults_through_from_pretrained(tmp_path):
    _, folder = _saved(tmp_path, max_shard_size=300)
    index_path = folder / "model.safetensors.index.json"
    index = json.loads(index_path.read_text())
    first = sorted(set(index["weight_map"].values()))[0]
    (folder / first).unlink()
    with pytest.raises(CheckpointError, match=first):
        TinyForMaskedLM.from_pretrained(folder)
    index["weight_map"]["tiny.dense.weight"] = "../outside.safetensors"
    index_path.write_text(json.dumps(index))
    with pytest.raises(CheckpointError, match="outside the checkpoint folder"):
        TinyForMaskedLM.from_pretrained(folder)


def test_hub_repo_id_resolves_through_hub(tmp_path, monkeypatch):
    model, folder = _saved(tmp_path, max_shard_size=300)
    asked = []

    def fake_resolve(path_or_repo, filename, options=None, *, required=True):
        asked.append((path_or_repo, filename, options.revision))
        candidate = folder / filename
        return str(candidate) if candidate.is_file() else None

    monkeypatch.setattr(weights.hub, "resolve_file", fake_resolve)
    loaded = TinyForMaskedLM.from_pretrained("org/tiny", config=TinyConfig(), revision="v1")
    assert torch.equal(loaded(INPUT).logits, model(INPUT).logits)
    files = [name for _, name, _ in asked]
    assert files[:2] == ["model.safetensors", "model.safetensors.index.json"]
    assert all(name.startswith("model-") for name in files[2:]) and len(files) == len(set(files))
    assert {repo for repo, _, _ in asked} == {"org/tiny"} and {rev for _, _, rev in asked} == {"v1"}


# -- the real BERT plugin, once it exists ---------------------------------------------------


def test_bert_plugin_end_to_end(tmp_path):
    transformers = pytest.importorskip("transformers")
    bert = pytest.importorskip("autoload_plugin_bert.modeling")
    config = transformers.BertConfig(
        vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37
    )
    torch.manual_seed(0)
    reference = transformers.BertForMaskedLM(config).eval()
    reference.save_pretrained(tmp_path / "hf")
    model, info = bert.BertForMaskedLM.from_pretrained(tmp_path / "hf", output_loading_info=True)
    assert info["missing_keys"] == [] and info["mismatched_keys"] == []
    ids = torch.tensor([[2, 5, 7, 9, 3]])
    with torch.no_grad():
        torch.testing.assert_close(model(ids).logits, reference(ids).logits, atol=1e-5, rtol=0)
    model.save_pretrained(tmp_path / "ours", max_shard_size=20_000)
    back = transformers.BertForMaskedLM.from_pretrained(tmp_path / "ours").eval()
    with torch.no_grad():
        torch.testing.assert_close(back(ids).logits, reference(ids).logits, atol=1e-5, rtol=0)


def test_auto_class_passes_loading_options_through(tmp_path):
    """AutoModel* forwards the options from_pretrained declares (torch_dtype included) instead of treating
    them as config overrides."""
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("autoload_plugin_bert.modeling")
    import autoload

    config = transformers.BertConfig(
        vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37
    )
    torch.manual_seed(0)
    transformers.BertForMaskedLM(config).save_pretrained(tmp_path)
    model = autoload.AutoModelForMaskedLM.from_pretrained(tmp_path, torch_dtype=torch.float16, device_map="cpu")
    assert model.dtype == torch.float16 and model.config.dtype == "float16"
    model = autoload.AutoModelForMaskedLM.from_pretrained(tmp_path, dtype="bfloat16", attn_implementation="eager")
    assert model.dtype == torch.bfloat16 and model.config._attn_implementation == "eager"


# -- float32 islands in half-precision models ---------------------------------------------


class TinyRotary(TinyPreTrainedModel):
    """A model with a rotary table and a module the class declares float32."""

    _keep_in_fp32_modules = ["router"]

    def __init__(self, config):
        super().__init__(config)
        from autoload.modeling.layers import RotaryEmbedding

        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.router = nn.Linear(config.hidden_size, 2)
        self.rotary = RotaryEmbedding(head_dim=8, max_position_embeddings=64, rope_parameters={"rope_theta": 1e6})
        self.post_init()


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_declared_float32_survives_half_precision_loading_and_casts(tmp_path, dtype):
    model = TinyRotary(TinyConfig())
    exact = model.rotary.inv_freq.clone()
    model.save_pretrained(tmp_path)

    loaded = TinyRotary.from_pretrained(tmp_path, dtype=dtype)
    assert loaded.dense.weight.dtype == dtype
    assert loaded.router.weight.dtype == torch.float32  # _keep_in_fp32_modules
    assert loaded.rotary.inv_freq.dtype == torch.float32
    assert torch.equal(loaded.rotary.inv_freq, exact)

    for cast in (lambda m: m.to(dtype), lambda m: m.half(), lambda m: m.bfloat16()):
        fresh = TinyRotary(TinyConfig())
        cast(fresh)
        assert fresh.dense.weight.dtype != torch.float32
        assert fresh.rotary.inv_freq.dtype == torch.float32 and torch.equal(fresh.rotary.inv_freq, exact)
        assert fresh.rotary.original_inv_freq.dtype == torch.float32

    built = TinyRotary.from_config(TinyConfig(), dtype=dtype)
    assert built.dense.weight.dtype == dtype and built.router.weight.dtype == torch.float32
    assert built.rotary.inv_freq.dtype == torch.float32

    # A float32 load changes nothing, and a float64 cast still casts (only half precision is guarded).
    assert TinyRotary.from_pretrained(tmp_path).router.weight.dtype == torch.float32
    assert TinyRotary(TinyConfig()).double().rotary.inv_freq.dtype == torch.float64


def test_bf16_inv_freq_would_move_the_angles():
    # Why the float32 island exists: the table rounded to bfloat16 gives visibly different cos/sin.
    from autoload.modeling.layers import RotaryEmbedding

    rotary = RotaryEmbedding(head_dim=64, max_position_embeddings=4096, rope_parameters={"rope_theta": 10000.0})
    positions = torch.arange(2048)[None]
    exact, _ = rotary(torch.zeros(1, dtype=torch.float32), positions)
    rounded = rotary.inv_freq.to(torch.bfloat16).float()
    lossy = (positions[..., None].float() * rounded).cos()
    assert (lossy - exact[..., :32]).abs().max() > 0.01


def test_gradient_checkpointing_needs_a_declaring_class():
    model = TinyForMaskedLM(TinyConfig())
    with pytest.raises(ConfigError, match="supports_gradient_checkpointing"):
        model.gradient_checkpointing_enable()


def test_resize_ties_and_config_on_the_tiny_model():
    model = TinyForMaskedLM(TinyConfig())
    model.resize_token_embeddings(20, mean_resizing=False)
    assert model.config.vocab_size == 20 and model.lm_head.weight is model.tiny.embeddings.weight
    assert model.lm_head.bias.shape == (20,) and model.lm_head.out_features == 20
    assert model(torch.tensor([[19]])).logits.shape == (1, 1, 20)
    assert model.resize_token_embeddings() is model.tiny.embeddings  # no size: nothing changes
    with pytest.raises(ConfigError, match="pad_to_multiple_of"):
        model.resize_token_embeddings(21, pad_to_multiple_of=0)
