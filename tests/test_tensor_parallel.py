"""Tensor parallelism over torch.distributed: two gloo ranks on CPU against one process and transformers.

The ranks run tests/distributed/tp_worker.py under torchrun; everything they compare against was computed
here by transformers on the same checkpoints.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from autoload import AutoModel, AutoModelForCausalLM, ParallelismError  # noqa: E402

WORKER = Path(__file__).parent / "distributed" / "tp_worker.py"


def _save_with_reference(model, folder: Path) -> None:
    model.eval()
    model.save_pretrained(folder)
    input_ids = torch.tensor([[0, 0, 5, 9, 22, 7], [3, 8, 1, 5, 9, 11]])
    attention_mask = torch.tensor([[0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]])
    with torch.no_grad():
        logits = model(input_ids, attention_mask=attention_mask).logits
    generated = model.generate(
        input_ids, attention_mask=attention_mask, max_new_tokens=6, min_new_tokens=6, do_sample=False, pad_token_id=0
    )
    torch.save(
        {"input_ids": input_ids, "attention_mask": attention_mask, "logits": logits, "generated": generated},
        folder / "reference.pt",
    )


@pytest.fixture(scope="module")
def tp_results(tmp_path_factory) -> dict[str, dict[str, dict]]:
    root = tmp_path_factory.mktemp("tp")
    torch.manual_seed(0)
    llama = transformers.LlamaConfig(
        hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        vocab_size=128, tie_word_embeddings=False, pad_token_id=0,
    )  # fmt: skip
    _save_with_reference(transformers.LlamaForCausalLM(llama), root / "llama")
    tied = transformers.Qwen2Config(
        hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        vocab_size=128, tie_word_embeddings=True, pad_token_id=0,
    )  # fmt: skip
    _save_with_reference(transformers.Qwen2ForCausalLM(tied), root / "qwen2-tied")
    gpt2 = transformers.GPT2Config(n_embd=32, n_layer=2, n_head=4, vocab_size=128, n_positions=64, pad_token_id=0)
    _save_with_reference(transformers.GPT2LMHeadModel(gpt2), root / "gpt2")
    odd = transformers.LlamaConfig(
        hidden_size=48, intermediate_size=64, num_hidden_layers=1, num_attention_heads=3, num_key_value_heads=3,
        vocab_size=128,
    )  # fmt: skip
    transformers.LlamaForCausalLM(odd).save_pretrained(root / "indivisible-heads")

    env = {key: value for key, value in os.environ.items() if not key.startswith(("AUTOLOAD_", "MASTER_", "RANK"))}
    env["OMP_NUM_THREADS"] = "1"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", "0",
        "--rdzv-backend", "c10d", "--rdzv-endpoint", "localhost:0", str(WORKER), str(root),
    ]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    return {f"rank{rank}": json.loads((root / f"rank-{rank}.json").read_text()) for rank in (0, 1)} | {
        "root": str(root)
    }


@pytest.mark.parametrize("name", ["llama", "qwen2-tied", "gpt2"])
def test_sharded_outputs_and_greedy_ids_equal_one_process(tp_results, name):
    for rank in ("rank0", "rank1"):
        seen = tp_results[rank][name]
        assert seen["sharded"], "nothing was split"
        assert seen["max_logit_diff"] < 1e-5
        assert seen["generated_equal"]
        assert seen["static_cache_equal"]


@pytest.mark.parametrize("name", ["llama", "gpt2"])
def test_each_rank_holds_about_half_the_weights(tp_results, name):
    model = AutoModelForCausalLM.from_pretrained(Path(tp_results["root"]) / name)
    full = sum(param.nbytes for param in model.parameters())
    for rank in ("rank0", "rank1"):
        local = tp_results[rank][name]["local_bytes"]
        assert local < 0.75 * full, (local, full)


@pytest.mark.parametrize("name", ["llama", "qwen2-tied", "gpt2"])
def test_a_sharded_model_saves_one_normal_checkpoint(tp_results, name):
    root = Path(tp_results["root"])
    assert "model.safetensors" in tp_results["rank0"][name]["saved_files"]
    original = transformers.AutoModelForCausalLM.from_pretrained(root / name).state_dict()
    gathered = transformers.AutoModelForCausalLM.from_pretrained(root / f"{name}-gathered").state_dict()
    assert original.keys() == gathered.keys()
    for key, tensor in original.items():
        assert torch.equal(tensor, gathered[key]), key


def test_a_world_size_that_does_not_divide_the_heads_is_refused(tp_results):
    for rank in ("rank0", "rank1"):
        message = tp_results[rank]["indivisible-heads"]["error"]
        assert message is not None
        assert "num_attention_heads=3 is not a multiple of 2" in message


def test_a_model_type_without_a_plan_is_named(tmp_path):
    config = transformers.BertConfig(
        hidden_size=32, num_hidden_layers=1, num_attention_heads=4, intermediate_size=37, vocab_size=99
    )
    transformers.BertModel(config).save_pretrained(tmp_path)
    with pytest.raises(ParallelismError, match="the bert plugin declares no tensor-parallel plan"):
        AutoModel.from_pretrained(tmp_path, tp_plan="auto")


def test_without_a_process_group_the_error_says_how_to_start_one(tmp_path, monkeypatch):
    for variable in ("RANK", "WORLD_SIZE"):
        monkeypatch.delenv(variable, raising=False)
    config = transformers.LlamaConfig(
        hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=4, vocab_size=64
    )
    transformers.LlamaForCausalLM(config).save_pretrained(tmp_path)
    with pytest.raises(ParallelismError, match="torchrun --nproc-per-node"):
        AutoModelForCausalLM.from_pretrained(tmp_path, tp_plan="auto")


def test_an_unknown_style_is_refused(tmp_path):
    config = transformers.LlamaConfig(
        hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=4, vocab_size=64
    )
    transformers.LlamaForCausalLM(config).save_pretrained(tmp_path)
    with pytest.raises(ParallelismError, match="'diagonal' is not a tensor-parallel style"):
        AutoModelForCausalLM.from_pretrained(tmp_path, tp_plan={"lm_head": "diagonal"})
