"""autoload vs transformers, side by side: ``nox -s bench`` or ``python benchmarks/run.py [options]``.

Every measured command runs as a fresh process, several times, autoload and
transformers alternating so that drift on a busy machine hits both.  The
report (``benchmarks/results.md``) and chart (``benchmarks/results.png``) say
which targets were met; a missed target is reported, never raised: the exit
status is 0 whenever the harness itself worked.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import fixtures
from harness.measure import Sample, child_environment, run_once
from harness.merge import kept_checks, read_previous
from harness.report import RowResult, agreement_notes, machine_info, write_chart, write_markdown, write_raw
from harness.rows import Context, Row, Skip, Variant, all_rows

BENCHMARKS = Path(__file__).resolve().parent
# Failures of a child that mean "this part is not written yet" rather than "this is broken".
NOT_READY = (
    "ModuleNotFoundError",
    "ImportError",
    "NotImplementedError",
    "UnknownModelTypeError",
    "ClassResolutionError",
    "TaskNotSupportedError",
)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, help="fresh processes per command (default 5, or 2 with --quick)")
    parser.add_argument("--quick", action="store_true", help="2 repeats, 2 timed forward calls (a smoke run)")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="PATTERN",
        help="run only rows whose id matches (substring or glob, e.g. 'bert', 'vit-*'); repeatable, or comma-separated",
    )
    parser.add_argument("--threads", type=int, default=2, help="intra-op threads for every child (default 2)")
    parser.add_argument("--list", action="store_true", help="list the rows and exit")
    parser.add_argument("--output", type=Path, default=BENCHMARKS, help="folder for results.md and results.png")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the rows not run this time from the existing results.md (with --only: update some rows)",
    )
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 2 if args.quick else 5
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def select(rows: list[Row], patterns: list[str]) -> list[Row]:
    wanted = [p.strip().lower() for item in patterns for p in item.split(",") if p.strip()]
    if not wanted:
        return rows
    return [
        row
        for row in rows
        if any(fnmatch.fnmatch(row.row_id, p) if any(c in p for c in "*?[") else p in row.row_id for p in wanted)
    ]


def classify_failure(sample: Sample) -> str:
    return "skipped" if any(name in sample.stderr for name in NOT_READY) else "error"


def measure_row(row: Row, ctx: Context) -> RowResult:
    result = RowResult(row)
    start = time.perf_counter()
    try:
        variants = row.build(ctx)
    except Skip as exc:
        result.status, result.reason = "skipped", str(exc)
        return result
    except fixtures.FixtureError as exc:
        result.status, result.reason = "error", str(exc)
        return result
    except Exception as exc:  # a broken row must not stop the others
        result.status, result.reason = "error", f"preparing the row failed: {type(exc).__name__}: {exc}"
        return result
    result.labels = [variant.label for variant in variants]
    result.notes += [variant.note for variant in variants if variant.note]
    environments = {
        variant.label: child_environment(ctx.threads, variant.env, clean=variant.clean_env) for variant in variants
    }
    rounds = ([None] if row.warmup else []) + list(range(ctx.repeats))
    for round_index in rounds:
        for variant in variants:  # A, B, A, B ...: drift hits every variant alike
            sample = run_once(variant.argv, environments[variant.label], cwd=fixtures.ROOT, scratch=fixtures.SCRATCH)
            tag = "warm-up" if round_index is None else f"run {round_index + 1}/{ctx.repeats}"
            inner = " ".join(
                f"{key}={value:.1f}"
                for key, value in sample.metrics.items()
                if key.endswith(("_ms", "_mib")) and isinstance(value, (int, float))
            )
            print(
                f"    {variant.label:<14} {tag:<9} wall {sample.wall_ms:9.1f} ms  "
                f"peak RSS {sample.peak_rss_mib:7.1f} MiB"
                f"  {inner}" + ("" if sample.ok else "  FAILED"),
                flush=True,
            )
            if not sample.ok:
                status = classify_failure(sample) if variant.label == "autoload" else "error"
                result.status = status
                result.reason = f"`{variant.label}` command failed ({sample.failure()})"
                result.samples.clear()
                result.elapsed_s = time.perf_counter() - start
                return result
            if round_index is not None:
                result.samples.setdefault(variant.label, []).append(sample)
    result.notes += agreement_notes(result)
    result.notes += expectation_notes(variants, result)
    result.elapsed_s = time.perf_counter() - start
    return result


def expectation_notes(variants: list[Variant], result: RowResult) -> list[str]:
    """Where a child reported something other than what its variant expects (the row then measures other work)."""
    notes = []
    for variant in variants:
        for key, wanted in variant.expect.items():
            seen = sorted({repr(sample.metrics.get(key)) for sample in result.samples.get(variant.label, [])})
            if seen != [repr(wanted)]:
                notes.append(f"{variant.label}: the child reported {key} = {', '.join(seen)}, expected {wanted!r}")
    return notes


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    rows = select(all_rows(), args.only)
    if args.list:
        for row in all_rows():
            print(f"{row.row_id:<28} issue {row.issue}  {row.title}")
        return 0
    if not rows:
        print(f"no row matches {args.only}; rows: {', '.join(row.row_id for row in all_rows())}", file=sys.stderr)
        return 2
    ctx = Context(repeats=args.repeats, threads=args.threads, forward_iterations=2 if args.quick else 3)
    started = datetime.now(timezone.utc)
    clock = time.perf_counter()
    load_before = os.getloadavg()
    print(f"autoload benchmarks: {len(rows)} rows, {ctx.repeats} repeats, {ctx.threads} threads", flush=True)
    results = []
    for row in rows:
        print(f"[{row.row_id}] {row.title}", flush=True)
        result = measure_row(row, ctx)
        if result.status != "ok":
            print(f"    {result.status}: {result.reason}", flush=True)
        results.append(result)
    load_after = os.getloadavg()
    elapsed = time.perf_counter() - clock

    args.output.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/run.py" + ("" if not argv else " " + shlex.join(argv))
    declared = {row.row_id: row for row in all_rows()}
    previous = read_previous(args.output / "results.md") if args.merge else None
    run_ids = {row.row_id for row in rows}
    kept = [
        kept_row
        for row_id, kept_row in (previous.rows.items() if previous else [])
        if row_id in declared and row_id not in run_ids
    ]
    checks = write_markdown(
        args.output / "results.md",
        results,
        machine_info(ctx.threads, load_before, load_after),
        repeats=ctx.repeats,
        command=command,
        started=started,
        elapsed_s=elapsed,
        kept=kept,
        order=list(declared),
    )
    kept_results = [item for kept_row in kept for item in kept_checks(kept_row, declared[kept_row.row_id])]
    order = list(declared)
    charted = sorted(checks + kept_results, key=lambda item: order.index(item.row.row_id))
    chart_problem = write_chart(args.output / "results.png", charted)
    write_raw(fixtures.SCRATCH / "last-run.json", results)
    print()
    for item in checks:
        value = "n/a" if item.value is None else f"{item.value:.3f}"
        print(f"  {item.verdict:<5} {item.row.row_id:<28} {item.check.label}: {value}")
    for result in results:
        if result.status != "ok":
            print(f"  {result.status:<7} {result.row.row_id}: {result.reason}")
    print(
        f"\nwrote {args.output / 'results.md'}"
        + (f" ({chart_problem})" if chart_problem else f" and {args.output / 'results.png'}")
    )
    print(f"total {elapsed / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
