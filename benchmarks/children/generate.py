"""Greedy generation measured inside the process, after the model is loaded and warmed up.

usage: generate.py LIBRARY AUTO_CLASS FOLDER SPEC_JSON THREADS
SPEC_JSON keys:
  input        "text" (token ids), "text2text" (encoder ids), "audio" (log-mel features for an encoder)
  batch        rows in the batch
  prompt       prompt length in tokens (the longest row when left-padded)
  new_tokens   tokens generated per row: min_new_tokens = max_new_tokens, so both libraries make the same number
  left_pad     true: row i is shorter by 3*i tokens, padded on the left (a batch of unequal prompts)
  dtype        "float32" or "bfloat16"
  iterations   timed generate calls (the median is reported), after one warm-up call
The child reports the median time of one generate call, the time per generated token, and the generated ids'
sum and SHA-256 (``tokens``), so the harness can tell whether both libraries produced the same tokens.
"""

import hashlib
import json
import sys

import torch
from _bench import auto_class, report, timed

library, auto_name, folder, spec_json, threads = sys.argv[1:6]
spec = json.loads(spec_json)
torch.set_num_threads(int(threads))
dtype = getattr(torch, spec.get("dtype", "float32"))
model = auto_class(library, auto_name).from_pretrained(folder, dtype=dtype).eval()

batch, prompt, new_tokens = spec["batch"], spec["prompt"], spec["new_tokens"]
config = model.config
generator = torch.Generator().manual_seed(0)
pad_id = 0
inputs: dict[str, torch.Tensor] = {}
if spec["input"] in ("text", "text2text"):
    vocab = config.vocab_size
    ids = torch.randint(3, min(vocab, 32_000), (batch, prompt), generator=generator)
    mask = torch.ones(batch, prompt, dtype=torch.long)
    if spec.get("left_pad"):
        for row in range(batch):
            short = min(3 * row, prompt - 1)
            ids[row, :short] = pad_id
            mask[row, :short] = 0
    inputs = {"input_ids": ids, "attention_mask": mask}
elif spec["input"] == "audio":
    frames = 2 * config.max_source_positions  # 30 s of features: what the encoder expects
    inputs = {"input_features": torch.randn(batch, config.num_mel_bins, frames, generator=generator).to(dtype)}
else:
    raise SystemExit(f"unknown input kind {spec['input']!r}")

settings = {
    "do_sample": False,
    "num_beams": 1,
    "max_new_tokens": new_tokens,
    "min_new_tokens": new_tokens,
    "pad_token_id": pad_id,
}
settings.update(spec.get("generate_kwargs", {}))


def generate(count: int = new_tokens) -> torch.Tensor:
    return model.generate(**inputs, **{**settings, "max_new_tokens": count, "min_new_tokens": count})


with torch.inference_mode():
    generate(min(new_tokens, 8))  # warm-up: allocations, kernel selection, lazy imports
    generate_ms, sequences = timed(generate, repeats=int(spec.get("iterations", 3)))

sequences = sequences if isinstance(sequences, torch.Tensor) else sequences.sequences
# Decoder-only models return the prompt too; encoder-decoder ones the decoder start token(s) then the new tokens.
produced = sequences[:, -new_tokens:]
report(
    generate_ms=generate_ms,
    per_token_ms=generate_ms / new_tokens,
    tokens_per_s=batch * new_tokens * 1000.0 / generate_ms,
    sequence_length=int(sequences.shape[1]),
    shape=list(produced.shape),
    checksum=float(produced.sum()),
    tokens=hashlib.sha256(produced.to(torch.int64).numpy().tobytes()).hexdigest()[:16],
)
