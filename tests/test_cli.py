from __future__ import annotations

import json
import os
import subprocess
import sys


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "autoload.cli", *args], capture_output=True, text=True, env=env)


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


def test_list_shows_disabled_plugins_as_disabled():
    env = {**os.environ, "AUTOLOAD_DISABLE_PLUGINS": "toy"}
    result = run_cli("list", "--json", env=env)
    assert result.returncode == 0, result.stderr
    rows = {(row["model_type"], row["distribution"]): row for row in json.loads(result.stdout)}
    toy = rows[("toy", "autoload-test-good")]
    assert toy["disabled"].startswith("AUTOLOAD_DISABLE_PLUGINS=toy") and "tasks" not in toy
    assert "tasks" in rows[("toy-text", "autoload-test-good")]
    text = run_cli("list", env=env).stdout
    assert "toy  (autoload-test-good 1.0.0)\n    disabled by AUTOLOAD_DISABLE_PLUGINS=toy" in text


def test_an_unknown_name_to_disable_is_warned_about():
    result = run_cli("list", env={**os.environ, "AUTOLOAD_DISABLE_PLUGINS": "tyo"})
    assert result.returncode == 0
    assert "AUTOLOAD_DISABLE_PLUGINS names 'tyo', which no installed autoload plugin matches" in result.stderr


def test_info_says_why_a_class_did_not_resolve(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "toy"}))
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "NoSuchTokenizer"}))
    result = run_cli("info", str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["AutoTokenizer"] is None
    assert info["errors"]["AutoTokenizer"].startswith("ClassResolutionError: ")
    assert "NoSuchTokenizer" in info["errors"]["AutoTokenizer"]
    assert info["AutoModel"] == "autoload_test_good.models.ToyModel" and "AutoModel" not in info["errors"]
    text = run_cli("info", str(tmp_path)).stdout
    line = next(line for line in text.splitlines() if line.startswith("AutoTokenizer"))
    assert "ClassResolutionError" in line and "NoSuchTokenizer" in line
