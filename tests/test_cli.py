from __future__ import annotations

import json
import subprocess
import sys


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "autoload.cli", *args], capture_output=True, text=True)


def test_list_shows_model_types_distributions_tasks_and_faults():
    result = run_cli("list", "--json")
    assert result.returncode == 0, result.stderr
    rows = {(row["model_type"], row["distribution"]): row for row in json.loads(result.stdout)}
    toy = rows[("toy", "autoload-test-good")]
    assert toy["version"] == "1.0.0"
    assert toy["tasks"] == ["base", "sequence-classification"]
    assert toy["tokenizer"] == "ToyTokenizer" and toy["processor"] == "ToyProcessor"
    assert "failed to import" in rows[("broken-import", "autoload-test-import-error")]["error"]
    text = run_cli("list").stdout
    assert "toy  (autoload-test-good 1.0.0)" in text


def test_info_resolves_without_loading_weights(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "toy"}))
    result = run_cli("info", str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["AutoConfig"] == "autoload_test_good.configuration.ToyConfig"
    assert info["AutoModel"] == "autoload_test_good.models.ToyModel"
    assert info["AutoModelForSequenceClassification"].endswith("ToyForSequenceClassification")
    assert info["AutoProcessor"].endswith("ToyProcessor")


def test_info_on_unknown_model_type_is_an_error(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "nothing-like-it"}))
    result = run_cli("info", str(tmp_path))
    assert result.returncode == 2
    assert "autoload-plugin-nothing-like-it" in result.stderr


def test_doctor_reports_each_fault_with_its_distribution():
    result = run_cli("doctor")
    assert result.returncode == 1
    faults = [line for line in result.stdout.splitlines() if line.startswith("FAULT")]
    text = "\n".join(faults)
    for distribution in (
        "autoload-test-import-error",
        "autoload-test-hook-raises",
        "autoload-test-bad-declaration",
        "autoload-test-twin-a",
    ):
        assert distribution in text
    assert not any(line.startswith("FAULT toy") for line in faults)
