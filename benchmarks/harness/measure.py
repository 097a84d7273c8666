"""Running one command as a fresh process and reading what it cost.

Wall time is taken around the whole process (spawn to reap).  Peak RSS comes
from ``os.wait4``, which reports the resource usage of that one child: the
``RUSAGE_CHILDREN`` counter of ``getrusage`` keeps the maximum over every
child ever reaped, so a small process measured after a big one would read the
big one's peak.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

# A child hands its in-process numbers back on one stdout line starting with this.
REPORT_MARKER = "@@bench "


@dataclass
class Sample:
    """One run of one command."""

    wall_ms: float
    peak_rss_mib: float
    returncode: int
    metrics: dict[str, object] = field(default_factory=dict)
    stdout: str = ""
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def failure(self) -> str:
        """The last meaningful stderr lines, for the report."""
        lines = [line for line in self.stderr.strip().splitlines() if line.strip()]
        tail = " | ".join(lines[-3:]) if lines else "(no output on stderr)"
        return f"exit status {self.returncode}: {tail}"


def child_environment(threads: int, extra: dict[str, str] | None = None, *, clean: bool = False) -> dict[str, str]:
    """The environment every child gets: offline, same thread settings, no autoload switches from the caller."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AUTOLOAD_")}
    # An installed package has its .pyc files; without them every cold process compiles every module again, and
    # the rows' warm-up run exists to write them.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if clean:  # a separate virtual environment: nothing from the caller's Python may leak in
        for key in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "VIRTUAL_ENV"):
            env.pop(key, None)
        env["PYTHONNOUSERSITE"] = "1"
    env.update(
        {
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "OMP_NUM_THREADS": str(threads),
            "MKL_NUM_THREADS": str(threads),
            "OPENBLAS_NUM_THREADS": str(threads),
            "PYTHONWARNINGS": "ignore",
        }
    )
    if extra:
        env.update(extra)
    return env


def parse_report(stdout: str) -> dict[str, object]:
    """The metrics of the last report line of a child (empty when it printed none)."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(REPORT_MARKER):
            try:
                value = json.loads(line[len(REPORT_MARKER) :])
            except json.JSONDecodeError:
                return {}
            return value if isinstance(value, dict) else {}
    return {}


def run_once(argv: list[str], env: dict[str, str], *, cwd: Path, scratch: Path, timeout_s: float = 900.0) -> Sample:
    """Run ``argv`` as a fresh process; wall time from spawn to reap, peak RSS of that process alone."""
    scratch.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryFile(dir=scratch) as out,
        tempfile.TemporaryFile(dir=scratch) as err,
    ):
        start = time.perf_counter()
        process = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        status, usage = _wait(process, timeout_s)
        wall_ms = (time.perf_counter() - start) * 1000.0
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    returncode = os.waitstatus_to_exitcode(status) if status is not None else -9
    if status is None:
        stderr += f"\n(killed after {timeout_s:.0f} s)"
    # ru_maxrss is in KiB on Linux and in bytes on macOS.
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    peak_mib = usage.ru_maxrss / scale
    return Sample(wall_ms, peak_mib, returncode, parse_report(stdout), stdout, stderr)


def _wait(process: subprocess.Popen[bytes], timeout_s: float) -> tuple[int | None, os.struct_rusage]:
    """Reap ``process`` with a blocking ``wait4`` (its own rusage); a timer kills it past the timeout.

    The timer signals the pid directly: ``Popen.kill`` would poll, and polling
    could reap the child before ``wait4`` sees it.
    """
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)

    timer = threading.Timer(timeout_s, kill)
    timer.start()
    try:
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        timer.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: keep the Popen object consistent
    return (None if timed_out.is_set() else status), usage
