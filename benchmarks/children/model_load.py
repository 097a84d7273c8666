"""Cold model load: ``<library>.<AutoClass>.from_pretrained(folder)`` in a fresh process.

usage: model_load.py LIBRARY AUTO_CLASS FOLDER
"""

import sys
import time

from _bench import auto_class, report

library, auto_name, folder = sys.argv[1:4]
start = time.perf_counter()
model = auto_class(library, auto_name).from_pretrained(folder)
load_ms = (time.perf_counter() - start) * 1000.0
report(load_ms=load_ms, model_class=type(model).__name__, parameters=sum(p.numel() for p in model.parameters()))
