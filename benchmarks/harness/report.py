"""Turning samples into medians, judging targets, and writing results.md and results.png."""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from harness.fixtures import ROOT
from harness.measure import Sample
from harness.rows import Check, Row

if TYPE_CHECKING:
    from harness.merge import KeptRow

# Child metrics that must agree between autoload and transformers for a comparison to mean anything.
AGREEMENT_KEYS = ("shape", "checksum", "parameters", "tokens", "sequence_length", "dtype")
# Child metrics shown in the per-command table, by unit suffix.
SHOWN_SUFFIXES = {"_ms": "ms", "_mib": "MiB", "_per_s": "/s"}
CHECKSUM_RTOL = 1e-4
TIMES = "\u00d7"  # the multiplication sign of ratios


@dataclass
class RowResult:
    row: Row
    status: str = "ok"  # ok | skipped | error
    reason: str = ""
    labels: list[str] = field(default_factory=list)
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    def values(self, label: str, metric: str) -> list[float]:
        found = []
        for sample in self.samples.get(label, []):
            if metric == "wall_ms":
                found.append(sample.wall_ms)
            elif metric == "peak_rss_mib":
                found.append(sample.peak_rss_mib)
            elif isinstance(sample.metrics.get(metric), (int, float)):
                found.append(float(sample.metrics[metric]))
        return found

    def median(self, label: str | None, metric: str) -> float | None:
        found = self.values(label, metric) if label else []
        return statistics.median(found) if found else None

    def fastest(self, label: str | None, metric: str) -> float | None:
        found = self.values(label, metric) if label else []
        return min(found) if found else None

    def child_metrics(self, label: str) -> list[str]:
        samples = self.samples.get(label, [])
        if not samples:
            return []
        return [
            key
            for key, value in samples[0].metrics.items()
            if key.endswith(tuple(SHOWN_SUFFIXES)) and isinstance(value, (int, float))
        ]


@dataclass
class CheckResult:
    row: Row
    check: Check
    subject_value: float | None
    reference_value: float | None
    value: float | None  # from the medians: what the target is judged on
    fastest_value: float | None  # from the fastest runs: far from ``value``, the machine was noisy

    @property
    def verdict(self) -> str:
        if self.value is None:
            return "n/a"
        if self.check.target is None:
            return "info"
        return "pass" if self.value <= self.check.target else "MISS"


def _combine(check: Check, subject: float | None, reference: float | None) -> float | None:
    if subject is None:
        return None
    if check.kind == "absolute":
        return subject
    if reference is not None and check.kind == "difference":
        return subject - reference
    if reference and check.kind == "ratio":
        return subject / reference
    return None


def evaluate(result: RowResult) -> list[CheckResult]:
    found = []
    for check in result.row.checks:
        subject = result.median(check.subject, check.metric)
        reference = result.median(check.reference, check.metric)
        fastest = _combine(
            check, result.fastest(check.subject, check.metric), result.fastest(check.reference, check.metric)
        )
        found.append(CheckResult(result.row, check, subject, reference, _combine(check, subject, reference), fastest))
    return found


def agreement_notes(result: RowResult) -> list[str]:
    """Where the variants of a row produced different outputs (the timings then compare different work).

    Every variant is compared with the first one (autoload), on the keys both report.
    """
    notes = []
    firsts = [(label, result.samples[label][0].metrics) for label in result.labels if result.samples.get(label)]
    if len(firsts) < 2:
        return notes
    first_label, a = firsts[0]
    for label, b in firsts[1:]:
        for key in AGREEMENT_KEYS:
            if key not in a or key not in b:
                continue
            same = (
                math.isclose(float(a[key]), float(b[key]), rel_tol=CHECKSUM_RTOL, abs_tol=1e-6)
                if key == "checksum"
                else a[key] == b[key]
            )
            if not same:
                notes.append(f"outputs differ: {key} {first_label}={a[key]} {label}={b[key]}")
    return notes


def write_raw(path: Path, results: list[RowResult]) -> None:
    """Every sample of the run, for a closer look than the medians (scratch, not committed)."""
    data = {
        result.row.row_id: {
            "status": result.status,
            "reason": result.reason,
            "samples": {
                label: [{"wall_ms": s.wall_ms, "peak_rss_mib": s.peak_rss_mib, "metrics": s.metrics} for s in samples]
                for label, samples in result.samples.items()
            },
        }
        for result in results
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")


# -- formatting -----------------------------------------------------------------------------------------------


def _unit(metric: str) -> str:
    return next((unit for suffix, unit in SHOWN_SUFFIXES.items() if metric.endswith(suffix)), "ms")


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    digits = 1 if abs(value) >= 10 else 2
    return f"{value:,.{digits}f} {unit}"


def _short(metric: str) -> str:
    for suffix in SHOWN_SUFFIXES:
        metric = metric.removesuffix(suffix)
    return metric.replace("_", " ")


def _fmt_value(check: Check, value: float | None) -> str:
    if value is None:
        return "—"
    if check.kind == "ratio":
        return f"{value:.3f}{TIMES}"
    sign = "+" if check.kind == "difference" and value >= 0 else ""
    return f"{sign}{_fmt(value, _unit(check.metric))}"


def _fmt_target(check: Check) -> str:
    if check.target is None:
        return "—"
    if check.kind == "ratio":
        if check.target >= 0.1:
            return f"≤ {check.target:.3g}{TIMES}"
        return f"≤ 1/{round(1 / check.target)}{TIMES}"
    prefix = "+" if check.kind == "difference" else ""
    return f"≤ {prefix}{check.target:g} {_unit(check.metric)}"


def _reference_text(check: Check, result: CheckResult) -> str:
    if check.reference is None:
        return "—"
    return f"{check.reference}: {_fmt(result.reference_value, _unit(check.metric))}"


# -- machine --------------------------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _commit() -> str:
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (with uncommitted changes)" if dirty else "")


def machine_info(threads: int, load_before: tuple[float, ...], load_after: tuple[float, ...]) -> list[tuple[str, str]]:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    plugins = sorted(
        f"{dist.metadata['Name']} {dist.version}"
        for dist in metadata.distributions()
        if (dist.metadata["Name"] or "").startswith("autoload-plugin-")
    )
    return [
        ("CPU", f"{_cpu_model()}; {os.cpu_count()} logical CPUs, {usable} usable"),
        ("load average (1 min) before / after", f"{load_before[0]:.2f} / {load_after[0]:.2f}"),
        ("OS", platform.platform()),
        ("Python", platform.python_version()),
        ("torch", _version("torch")),
        ("transformers", _version("transformers")),
        ("tokenizers", _version("tokenizers")),
        ("safetensors", _version("safetensors")),
        ("autoload-core", f"{_version('autoload-core')} (commit {_commit()})"),
        ("plugins", ", ".join(plugins) or "none"),
        ("threads (OMP_NUM_THREADS, torch.set_num_threads)", str(threads)),
    ]


# -- results.md -----------------------------------------------------------------------------------------------


def write_markdown(
    path: Path,
    results: list[RowResult],
    machine: list[tuple[str, str]],
    *,
    repeats: int,
    command: str,
    started: datetime,
    elapsed_s: float,
    kept: list[KeptRow] | None = None,
    order: list[str] | None = None,
) -> list[CheckResult]:
    """Write results.md; ``kept`` rows (``--merge``) keep their previous lines and the run they come from.

    Rows appear in ``order`` (the declaration order of every row), measured and kept ones alike.
    """
    kept = kept or []
    checks = [item for result in results if result.status == "ok" for item in evaluate(result)]
    verdicts = [item.verdict for item in checks]
    for row in kept:
        verdicts += ["pass" if "✅ pass" in line else "MISS" for line in row.targets if "❌" in line or "✅" in line]
    statuses = [result.status for result in results] + [row.status for row in kept]
    position = {row_id: index for index, row_id in enumerate(order or [])}
    entries: list[tuple[str, RowResult | KeptRow]] = [(result.row.row_id, result) for result in results]
    entries += [(row.row_id, row) for row in kept]
    entries.sort(key=lambda entry: position.get(entry[0], len(position)))
    summary = (
        f"Generated by `{command}` on {started.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC "
        f"in {elapsed_s / 60:.1f} min. "
        f"Every command ran as a fresh process {repeats} times, autoload and transformers alternating "
        "(A, B, A, B, ...); each number is the median, and targets are judged on medians. *Fastest runs* is the "
        "same value computed from each command's fastest run: far from the median one, it says other work on the "
        "machine disturbed the row. What each row measures: `benchmarks/README.md`."
    )
    lines = ["# Benchmarks: autoload vs transformers", "", summary, ""]
    by_source: dict[str, list[str]] = {}
    for _, entry in entries:
        if not isinstance(entry, RowResult):
            by_source.setdefault(entry.source, []).append(entry.row_id)
    for source, row_ids in by_source.items():  # harness/merge.py reads these lines back
        lines += [f"Rows kept from an earlier run ({source}): " + ", ".join(f"`{r}`" for r in row_ids) + ".", ""]
    if by_source:
        lines += ["The machine table below describes this run only; kept rows were measured as said above.", ""]
    lines += [
        f"**{verdicts.count('pass')} pass, {verdicts.count('MISS')} miss, {statuses.count('skipped')} rows skipped, "
        f"{statuses.count('error')} rows failed.**",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {key} | {value} |" for key, value in machine),
        "",
        "## Targets",
        "",
        "| row | issue | check | autoload | reference | value | target | result | fastest runs |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    by_row: dict[str, list[CheckResult]] = {}
    for item in checks:
        by_row.setdefault(item.row.row_id, []).append(item)
    for row_id, entry in entries:
        if not isinstance(entry, RowResult):
            lines += entry.targets
        elif entry.status == "ok":
            lines += [_target_line(item) for item in by_row.get(row_id, [])]
        else:
            lines.append(
                f"| {row_id} | {entry.row.issue} | {entry.row.title} | | | | | "
                f"{'skipped' if entry.status == 'skipped' else '**error**'} | |"
            )
    lines += [
        "",
        "## Medians per command",
        "",
        "| row | command | runs | wall | fastest wall | peak RSS | measured in the process |",
        "|---|---|---|---|---|---|---|",
    ]
    for _, entry in entries:
        if not isinstance(entry, RowResult):
            lines += entry.medians
        elif entry.status == "ok":
            lines += _median_lines(entry)
    problems = []
    for row_id, entry in entries:
        if not isinstance(entry, RowResult):
            problems += entry.problems
        elif entry.status != "ok":
            problems.append(f"- **{row_id}** ({'skipped' if entry.status == 'skipped' else 'failed'}): {entry.reason}")
    if problems:
        lines += ["", "## Skipped and failed rows", "", *problems]
    notes = []
    for row_id, entry in entries:
        if not isinstance(entry, RowResult):
            notes += entry.notes
        else:
            notes += [f"- **{row_id}**: {note}" for note in [*entry.notes, entry.row.note] if note]
    if notes:
        lines += ["", "## Notes", "", *notes]
    lines += ["", "![ratios per row](results.png)", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return checks


def _target_line(item: CheckResult) -> str:
    check = item.check
    subject = (
        f"{check.subject}: {_fmt(item.subject_value, _unit(check.metric))}"
        if check.subject != "autoload"
        else _fmt(item.subject_value, _unit(check.metric))
    )
    verdict = {"pass": "✅ pass", "MISS": "❌ **miss**"}.get(item.verdict, item.verdict)
    return (
        f"| {item.row.row_id} | {item.row.issue} | {check.label} | {subject} | {_reference_text(check, item)} | "
        f"{_fmt_value(check, item.value)} | {_fmt_target(check)} | {verdict} | "
        f"{_fmt_value(check, item.fastest_value)} |"
    )


def _median_lines(result: RowResult) -> list[str]:
    lines = []
    for label in result.labels:
        inner = ", ".join(
            f"{_short(key)} {_fmt(result.median(label, key), _unit(key))}" for key in result.child_metrics(label)
        )
        lines.append(
            f"| {result.row.row_id} | {label} | {len(result.samples.get(label, []))} | "
            f"{_fmt(result.median(label, 'wall_ms'), 'ms')} | "
            f"{_fmt(min((s.wall_ms for s in result.samples.get(label, [])), default=None), 'ms')} | "
            f"{_fmt(result.median(label, 'peak_rss_mib'), 'MiB')} | "
            f"{inner or '—'} |"
        )
    return lines


# -- results.png ----------------------------------------------------------------------------------------------


def write_chart(path: Path, checks: list[CheckResult]) -> str | None:
    """Ratios (log scale) with each row's target, and the absolute-time targets beside them.

    Returns why no chart was written, or None.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed: no chart"
    ratios = [item for item in checks if item.check.kind == "ratio" and item.value]
    absolutes = [item for item in checks if item.check.kind != "ratio" and item.value is not None]
    panels = [panel for panel in (ratios, absolutes) if panel]
    if not panels:
        return "no measured checks: no chart"
    heights = [max(1.6, 0.42 * len(panel) + 0.9) for panel in panels]
    figure, axes = plt.subplots(
        len(panels), 1, figsize=(10, sum(heights)), gridspec_kw={"height_ratios": heights}, squeeze=False
    )
    colours = {"pass": "#2e9e44", "MISS": "#d1372b", "info": "#8c8c8c"}
    for axis, panel in zip(axes[:, 0], panels):
        labels = [f"{item.row.row_id}: {item.check.label}" for item in panel]
        values = [item.value for item in panel]
        positions = range(len(panel))
        axis.barh(positions, values, color=[colours.get(item.verdict, "#8c8c8c") for item in panel], height=0.6)
        for position, item in zip(positions, panel):
            if item.check.target is not None:
                axis.plot([item.check.target] * 2, [position - 0.4, position + 0.4], color="black", linewidth=2)
            if item.fastest_value is not None and (panel is not ratios or item.fastest_value > 0):
                axis.plot(item.fastest_value, position, marker="o", markerfacecolor="none", color="black", markersize=5)
            furthest = max(v for v in (item.value, item.check.target, item.fastest_value) if v is not None)
            axis.annotate(  # right of the bar, the target tick and the circle
                _fmt_value(item.check, item.value),
                (furthest, position),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
        axis.set_yticks(list(positions), labels, fontsize=8)
        axis.invert_yaxis()
        if panel is ratios:
            axis.set_xscale("log")
            axis.axvline(1.0, color="#444444", linestyle=":", linewidth=1)
            axis.set_xlabel("autoload / reference (median; lower is better). Tick: target; circle: fastest runs")
        else:
            axis.set_xlabel("ms, or MiB where shown (median; lower is better). Tick: target; circle: fastest runs")
        axis.margins(x=0.25)
        axis.grid(axis="x", alpha=0.3)
    axes[0, 0].set_title("autoload vs transformers (green: target met, red: missed, grey: no target)", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return None
