"""Image processor throughput: 64 random 640 x 480 PIL images resized and normalised in one call.

usage: image_processor.py LIBRARY FOLDER KWARGS_JSON
KWARGS_JSON: extra from_pretrained arguments (transformers: {"backend": "pil"}, the PIL processor).
"""

import json
import sys

import numpy as np
from _bench import auto_class, report, tensor_summary, timed
from PIL import Image

library, folder, kwargs_json = sys.argv[1:4]
processor = auto_class(library, "AutoImageProcessor").from_pretrained(folder, **json.loads(kwargs_json))
rng = np.random.default_rng(0)
images = [Image.fromarray(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)) for _ in range(64)]

processor(images[:2], return_tensors="pt")  # warm-up
processor_ms, batch = timed(lambda: processor(images, return_tensors="pt"), repeats=3)
report(processor_ms=processor_ms, **tensor_summary(batch["pixel_values"]))
