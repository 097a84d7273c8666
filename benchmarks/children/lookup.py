"""First model-type lookup among many installed plugin distributions (run by a scratch venv's Python).

usage: lookup.py MODEL_TYPE
Reports the time of ``import autoload`` and of the first ``AutoConfig.for_model``
(which reads the entry points of every installed distribution), and how many
model types discovery saw, so the harness can check the environment is what it built.
"""

import sys
import time

start = time.perf_counter()
import autoload  # noqa: E402

imported = time.perf_counter()
config = autoload.AutoConfig.for_model(sys.argv[1])
looked_up = time.perf_counter()

from _bench import report  # noqa: E402

from autoload.discovery import get_discovery  # noqa: E402

if config.model_type != sys.argv[1]:
    raise SystemExit(f"for_model({sys.argv[1]!r}) returned a config of model type {config.model_type!r}")
report(
    import_ms=(imported - start) * 1000.0,
    lookup_ms=(looked_up - imported) * 1000.0,
    model_types=len(get_discovery().model_types()),
)
