"""Forward latency measured inside the process, after the model is loaded and warmed up.

usage: forward.py LIBRARY AUTO_CLASS FOLDER INPUT_KIND ITERATIONS THREADS
INPUT_KIND: text (8 x 128 token ids), image (8 x 3 x 224 x 224), audio (4 x 1 s at 16 kHz).
"""

import sys

import torch
from _bench import auto_class, report, tensor_summary, timed

library, auto_name, folder, kind, iterations, threads = sys.argv[1:7]
torch.set_num_threads(int(threads))
model = auto_class(library, auto_name).from_pretrained(folder).eval()

generator = torch.Generator().manual_seed(0)
if kind == "text":
    inputs = {
        "input_ids": torch.randint(0, model.config.vocab_size, (8, 128), generator=generator),
        "attention_mask": torch.ones(8, 128, dtype=torch.long),
    }
elif kind == "image":
    inputs = {"pixel_values": torch.randn(8, 3, 224, 224, generator=generator)}
elif kind == "audio":
    inputs = {"input_values": torch.randn(4, 16000, generator=generator)}
else:
    raise SystemExit(f"unknown input kind {kind!r}")

with torch.inference_mode():
    model(**inputs)  # warm-up: the first call pays for allocations and kernel selection
    forward_ms, outputs = timed(lambda: model(**inputs), repeats=int(iterations))
report(forward_ms=forward_ms, **tensor_summary(outputs[0]))
