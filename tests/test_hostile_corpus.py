"""The hostile-checkpoint corpus (tests/corpus/hostile.py) through the public entry points.

Each case must end with its exact autoload error class and message fragment
(or load, for the positive controls), within its time limit, under the
worker's address-space cap, without growing the peak resident memory by more
than a few hundred MB, and without any code from the checkpoint running.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
import runpy
import sys
from pathlib import Path

import pytest

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"


def _load_corpus_module():
    name = "autoload_hostile_corpus"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, CORPUS_DIR / "hostile.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


hostile = _load_corpus_module()
CASES = {case.id: case for case in hostile.CASES}


def record_figures(tmp_path_factory, name: str, figures: dict) -> Path:
    """Write this module's figures for docs/reliability.md (AUTOLOAD_RELIABILITY_FIGURES, else pytest's tmp)."""
    folder = os.environ.get("AUTOLOAD_RELIABILITY_FIGURES")
    target = Path(folder) if folder else tmp_path_factory.getbasetemp() / "reliability"
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{name}.json"
    path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    return path


@pytest.fixture(scope="module")
def corpus_results(tmp_path_factory):
    results = hostile.run_corpus()
    by_category: dict[str, int] = {}
    for case in hostile.CASES:
        by_category[case.category] = by_category.get(case.category, 0) + 1
    passed = [
        case.id
        for case in hostile.CASES
        if results[case.id]["outcome"] in ("ok", "error")
        and (results[case.id].get("error") if results[case.id]["outcome"] == "error" else None) == case.error
        and case.fragment in results[case.id].get("message", "")
        and not results[case.id].get("code_ran")
    ]
    record_figures(
        tmp_path_factory,
        "hostile_corpus",
        {
            "inputs": len(hostile.CASES),
            "by_category": by_category,
            "expected_errors": sum(1 for case in hostile.CASES if case.error is not None),
            "positive_controls": sum(1 for case in hostile.CASES if case.error is None),
            "as_expected": len(passed),
            "timeouts": sum(1 for r in results.values() if r["outcome"] == "timeout"),
            "crashes": sum(1 for r in results.values() if r["outcome"] == "crashed"),
            "max_case_seconds": max(r.get("seconds", 0.0) for r in results.values()),
            "max_rss_growth_mb": round(max(r.get("rss_growth_kb", 0) for r in results.values()) / 1024, 1),
            "memory_limit_gib": hostile.MEMORY_LIMIT_BYTES / 2**30,
            "case_timeout_s": hostile.CASE_TIMEOUT_S,
            "code_from_checkpoint_ran": sorted({s for r in results.values() for s in r.get("code_ran", [])}),
        },
    )
    return results


def test_the_corpus_covers_the_issue():
    assert len(hostile.CASES) >= 88 + 60  # the first corpus, then at least 60 more (issue 14)
    assert len(CASES) == len(hostile.CASES), "case ids must be unique"
    categories = {case.category for case in hostile.CASES}
    assert {
        "config",
        "remote-code",
        "safetensors",
        "index",
        "pickle",
        "tokenizer",
        "image-processor",
        "feature-extractor",
        "weights-mismatch",
        "symlink",
        "model-input",
        "save",
    } <= categories
    for case in hostile.CASES:
        if case.error is not None:
            assert case.fragment, f"{case.id} must name a message fragment"
            import autoload.errors

            assert issubclass(getattr(autoload.errors, case.error), autoload.errors.AutoloadError), case.id


def test_the_manifest_is_current():
    on_disk = json.loads((CORPUS_DIR / "manifest.json").read_text())
    assert on_disk == hostile.manifest(), "regenerate it: python tests/corpus/hostile.py manifest"


@pytest.mark.parametrize("case_id", list(CASES))
def test_case(corpus_results, case_id):
    case = CASES[case_id]
    result = corpus_results[case_id]
    detail = json.dumps(result, indent=1)[:3000]
    assert result["outcome"] in ("ok", "error"), f"{case_id} did not finish cleanly: {detail}"
    assert not result["code_ran"], f"code shipped with the checkpoint ran: {result['code_ran']}"
    if case.error is None:
        assert result["outcome"] == "ok", detail
        assert result.get("check_passed", True), f"{case_id} loaded something wrong: {detail}"
    else:
        assert result["outcome"] == "error", f"{case_id} loaded, but must raise {case.error}"
        assert result["error"] == case.error, detail
        assert result["is_autoload_error"], detail
        assert case.fragment in result["message"], detail
    assert result["seconds"] < hostile.CASE_TIMEOUT_S
    assert result["rss_growth_kb"] < hostile.MAX_RSS_GROWTH_KB, f"{case_id} raised peak memory by {detail}"


def test_the_guards_catch_hangs_crashes_and_huge_allocations():
    """The harness itself: each guard trips on its canary, and the run goes on with the next case."""
    order = ["canary-hang", "config-empty", "canary-crash", "config-list", "canary-memory", "st-empty"]
    results = hostile.run_corpus(order, case_timeout=4.0)
    assert results["canary-hang"]["outcome"] == "timeout"
    assert results["canary-crash"]["outcome"] == "crashed"
    assert results["canary-crash"]["returncode"] == -11
    assert results["canary-memory"]["error"] == "MemoryError"
    for case_id in ("config-empty", "config-list", "st-empty"):
        assert results[case_id]["error"] == CASES[case_id].error


def test_the_payloads_are_live(tmp_path):
    """The corpus's malicious files really run code when loaded unsafely, so their refusal means something."""
    torch = pytest.importorskip("torch")
    for fmt in ("zip", "bare"):
        folder = tmp_path / fmt
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(b"")
        hostile._malicious_pickle(fmt)(folder)
        sentinel = tmp_path / f"{fmt}.pwned"
        assert not sentinel.exists()
        if fmt == "zip":
            torch.load(folder / "pytorch_model.bin", weights_only=False)
        else:
            with open(folder / "pytorch_model.bin", "rb") as handle:
                pickle.load(handle)
        assert sentinel.exists(), fmt

    folder = tmp_path / "remote"
    folder.mkdir()
    hostile._remote_code_files(folder)
    runpy.run_path(str(folder / "modeling_fancy.py"))
    assert (tmp_path / "remote.pwned").exists()
