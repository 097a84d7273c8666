"""What every child script shares: picking the library's Auto class and reporting numbers.

A child runs the same code for autoload and for transformers; only the library
name on its command line differs.
"""

from __future__ import annotations

import importlib
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

REPORT_MARKER = "@@bench "  # benchmarks/harness/measure.py reads the last line starting with this


def auto_class(library: str, name: str) -> Any:
    """``AutoModel`` (or any Auto class) from ``autoload`` or ``transformers``."""
    return getattr(importlib.import_module(library), name)


def timed(function: Callable[[], Any], *, repeats: int) -> tuple[float, Any]:
    """Median milliseconds of ``repeats`` calls, and the last result."""
    times = []
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times), result


def tensor_summary(tensor: Any) -> dict[str, Any]:
    """Shape and sum of absolute values of an output, so the harness sees whether both libraries did the same work.

    Absolute values: normalised outputs sum to about zero, which would hide differences.
    """
    return {"shape": list(tensor.shape), "checksum": float(tensor.double().abs().sum())}


def report(**metrics: Any) -> None:
    sys.stdout.write(REPORT_MARKER + json.dumps(metrics) + "\n")
    sys.stdout.flush()
