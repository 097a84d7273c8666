"""One rank of the tensor-parallel checks; tests/test_tensor_parallel.py starts two under torchrun.

argv: a folder of checkpoints made by the test, each with ``reference.pt`` holding what a single-process
transformers model computed (logits, greedy ids).  Each rank writes what it saw to ``rank-N.json``.
"""

from __future__ import annotations

import json
import os
import sys

import torch
import torch.distributed as dist

from autoload import AutoModelForCausalLM, ParallelismError


def check(folder: str, rank: int) -> dict[str, object]:
    reference = torch.load(os.path.join(folder, "reference.pt"))
    model = AutoModelForCausalLM.from_pretrained(folder, tp_plan="auto")
    sharded = sorted(name for name, param in model.named_parameters() if type(param.data).__name__ == "DTensor")
    local_bytes = sum(
        (param.to_local() if hasattr(param, "to_local") else param).nbytes for param in model.parameters()
    )
    with torch.no_grad():
        logits = model(reference["input_ids"], attention_mask=reference["attention_mask"]).logits
    generated = model.generate(
        reference["input_ids"], attention_mask=reference["attention_mask"], max_new_tokens=6, do_sample=False
    )
    static = model.generate(
        reference["input_ids"],
        attention_mask=reference["attention_mask"],
        max_new_tokens=6,
        do_sample=False,
        cache_implementation="static",
    )
    saved = folder + "-gathered"
    model.save_pretrained(saved)
    dist.barrier()
    return {
        "sharded": sharded,
        "local_bytes": local_bytes,
        "max_logit_diff": (logits - reference["logits"]).abs().max().item(),
        "generated_equal": torch.equal(generated, reference["generated"]),
        "static_cache_equal": torch.equal(static, reference["generated"]),
        "saved_files": sorted(os.listdir(saved)) if rank == 0 else [],
    }


def main() -> None:
    root = sys.argv[1]
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    results: dict[str, object] = {}
    for name in sorted(os.listdir(root)):
        folder = os.path.join(root, name)
        if name.startswith("indivisible-"):
            try:
                AutoModelForCausalLM.from_pretrained(folder, tp_plan="auto")
                results[name] = {"error": None}
            except ParallelismError as exc:
                results[name] = {"error": str(exc)}
        elif os.path.isfile(os.path.join(folder, "reference.pt")):
            results[name] = check(folder, rank)
    with open(os.path.join(root, f"rank-{rank}.json"), "w") as handle:
        json.dump(results, handle)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
