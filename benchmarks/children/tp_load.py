"""Peak memory of a tensor-parallel load, per rank, against the same load in one process.

usage: tp_load.py LIBRARY FOLDER PLAN
PLAN: "none" (one process, no tensor parallelism), "auto" (the plugin's declared plan) or a JSON dict of module
patterns to styles.  Under ``torchrun`` with PLAN set, every rank loads its slices; rank 0 reports.

Each process first notes its resident memory after ``import torch, <library>`` (what any process of that
library pays before it loads anything).  A rank then also starts what every tensor-parallel rank needs whatever
the model (the gloo process group, a device mesh, ``torch.distributed.tensor`` with one tiny DTensor) and notes
its memory again: the bare-rank baseline.  Then it loads and reads its own peak (``ru_maxrss``), runs one forward
pass on 8 tokens and reads its peak again.

Reported, the largest over the ranks:
``model_rss_mib``      peak through load and forward minus the process's own baseline (bare rank, or after the
                       imports for one process): the memory the model costs;
``in_use_rss_mib``     the same peak minus the ``import torch, <library>`` baseline (a rank's whole cost);
``rank_overhead_mib``  bare-rank baseline minus the import baseline (what tensor parallelism costs before any
                       model);
``load_rss_mib``       the peak right after loading minus the import baseline.
The forward pass matters: a loader that memory-maps the safetensors file leaves weights on disk until a forward
touches them, so a load-time peak can leave out most of the weights, while the forward pages in every weight the
process holds (all but the embedding rows not looked up).  The logits' checksum shows that the split model
computes what the whole one does.
"""

import json
import resource
import sys
import time


def rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise SystemExit("no VmRSS in /proc/self/status")


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


import torch  # noqa: E402

library, folder, plan = sys.argv[1:4]
module = __import__(library)
baseline = rss_mib()
kwargs = {}
own_baseline = baseline
if plan != "none":
    kwargs["tp_plan"] = plan if plan == "auto" else json.loads(plan)
    import torch.distributed as dist
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor import DTensor, Shard

    dist.init_process_group("gloo")
    mesh = init_device_mesh("cpu", (dist.get_world_size(),))
    DTensor.from_local(torch.ones(4, 4), mesh, [Shard(0)], run_check=False).full_tensor()
    own_baseline = rss_mib()

start = time.perf_counter()
model = module.AutoModelForCausalLM.from_pretrained(folder, **kwargs).eval()
load_ms = (time.perf_counter() - start) * 1000.0
peak = peak_mib()
mine = {
    "baseline_mib": baseline,
    "rank_overhead_mib": own_baseline - baseline,
    "load_rss_mib": peak - baseline,
    "load_ms": load_ms,
}

with torch.inference_mode():
    logits = model(torch.arange(3, 11)[None]).logits
checksum = float(logits.double().abs().sum())
mine["in_use_rss_mib"] = peak_mib() - baseline
mine["model_rss_mib"] = peak_mib() - own_baseline

ranks = [mine]
if plan != "none":
    ranks = [None] * dist.get_world_size()
    dist.all_gather_object(ranks, mine)
    rank = dist.get_rank()
    dist.destroy_process_group()
    if rank != 0:
        sys.exit(0)

from _bench import report  # noqa: E402

report(
    load_ms=max(item["load_ms"] for item in ranks),
    model_rss_mib=max(item["model_rss_mib"] for item in ranks),
    in_use_rss_mib=max(item["in_use_rss_mib"] for item in ranks),
    rank_overhead_mib=max(item["rank_overhead_mib"] for item in ranks),
    load_rss_mib=max(item["load_rss_mib"] for item in ranks),
    baseline_mib=max(item["baseline_mib"] for item in ranks),
    ranks=len(ranks),
    per_rank_model_rss_mib=[round(item["model_rss_mib"], 1) for item in ranks],
    checksum=checksum,
)
