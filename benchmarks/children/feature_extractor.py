"""Feature extractor throughput: 32 utterances of 10 s at 16 kHz normalised in one call.

usage: feature_extractor.py LIBRARY FOLDER
"""

import sys

import numpy as np
from _bench import auto_class, report, tensor_summary, timed

library, folder = sys.argv[1:3]
extractor = auto_class(library, "AutoFeatureExtractor").from_pretrained(folder)
rng = np.random.default_rng(0)
audio = [rng.standard_normal(160_000).astype(np.float32) for _ in range(32)]

extractor(audio[:2], sampling_rate=16_000, return_tensors="pt")  # warm-up
# A call takes tens of milliseconds: more of them make the median steadier.
extract_ms, batch = timed(lambda: extractor(audio, sampling_rate=16_000, return_tensors="pt"), repeats=9)
report(extract_ms=extract_ms, **tensor_summary(batch["input_values"]))
