"""Cold model load: ``<library>.<AutoClass>.from_pretrained(folder)`` in a fresh process.

usage: model_load.py LIBRARY AUTO_CLASS FOLDER [KWARGS_JSON]
KWARGS_JSON: extra from_pretrained arguments given alike to both libraries; a "dtype" value names a torch dtype
("bfloat16").
"""

import json
import sys
import time

from _bench import auto_class, report

library, auto_name, folder = sys.argv[1:4]
kwargs = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
start = time.perf_counter()
if "dtype" in kwargs:
    import torch

    kwargs["dtype"] = getattr(torch, kwargs["dtype"])
model = auto_class(library, auto_name).from_pretrained(folder, **kwargs)
load_ms = (time.perf_counter() - start) * 1000.0
report(
    load_ms=load_ms,
    model_class=type(model).__name__,
    parameters=sum(p.numel() for p in model.parameters()),
    dtype=str(next(model.parameters()).dtype),
)
