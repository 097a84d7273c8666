"""``autoload new-plugin``: names, refusals, and a generated project that installs and passes its own tests."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autoload.cli import main
from autoload.scaffold import (
    SUPPORTED_TASKS,
    PluginNames,
    ScaffoldError,
    create_plugin,
    host_requirement,
    normalise_tasks,
    render_plugin,
)
from autoload.testing import non_public_imports

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "new-model-plugin"


def test_names_follow_the_plugin_convention() -> None:
    names = PluginNames("new-model")
    assert (names.distribution, names.package, names.prefix, names.class_prefix) == (
        "autoload-plugin-new-model",
        "autoload_plugin_new_model",
        "new_model",
        "NewModel",
    )
    assert PluginNames("my_net2").distribution == "autoload-plugin-my-net2"
    assert PluginNames("my_net2").class_prefix == "MyNet2"


def test_host_requirement_is_the_current_release_line() -> None:
    assert host_requirement("0.1.0") == "autoload-core>=0.1,<0.2"
    assert host_requirement("0.7.3") == "autoload-core>=0.7,<0.8"
    assert host_requirement("1.4.2") == "autoload-core>=1.4,<2"


@pytest.mark.parametrize("model_type", ["", "New-Model", "1net", "my--net", "my.net", "my net", "class"])
def test_invalid_model_types_are_refused(model_type: str) -> None:
    with pytest.raises(ScaffoldError, match="model type"):
        render_plugin(model_type)


def test_tasks_are_checked_ordered_and_include_base() -> None:
    assert normalise_tasks(None) == list(SUPPORTED_TASKS)
    assert normalise_tasks(["token-classification,masked-lm"]) == ["base", "masked-lm", "token-classification"]
    with pytest.raises(ScaffoldError) as caught:
        normalise_tasks(["masked-lm", "image-classification"])
    message = str(caught.value)
    assert "'image-classification'" in message
    assert all(task in message for task in SUPPORTED_TASKS)


def test_rendered_project_declares_only_the_chosen_heads() -> None:
    files = render_plugin("demo-net", ["masked-lm"])
    package = "src/autoload_plugin_demo_net"
    assert set(files) == {
        "pyproject.toml",
        "README.md",
        "hatch_build.py",
        f"{package}/__init__.py",
        f"{package}/__about__.py",
        f"{package}/py.typed",
        f"{package}/plugin.py",
        f"{package}/configuration.py",
        f"{package}/modeling.py",
        "tests/test_conformance.py",
        "tests/test_modeling.py",
    }
    assert 'demo-net = "autoload_plugin_demo_net.plugin"' in files["pyproject.toml"]
    assert f'"{host_requirement()}"' in files["pyproject.toml"]
    assert '"Framework :: autoload"' in files["pyproject.toml"]
    plugin = files[f"{package}/plugin.py"]
    assert '"masked-lm": f"{_MODELING}:DemoNetForMaskedLM"' in plugin
    assert "causal-lm" not in plugin and "SequenceClassification" not in files[f"{package}/modeling.py"]
    assert "class TestDemoNetConformance(PluginConformance):" in files["tests/test_conformance.py"]


def test_cli_writes_the_project_and_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new-plugin", "demo-net", "--tasks", "sequence-classification", "--dest", str(tmp_path)]) == 0
    root = tmp_path / "autoload-plugin-demo-net"
    assert (root / "src" / "autoload_plugin_demo_net" / "modeling.py").is_file()
    assert "Created" in capsys.readouterr().out
    assert main(["new-plugin", "demo-net", "--dest", str(tmp_path)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["new-plugin", "demo-net", "--dest", str(tmp_path), "--force"]) == 0
    assert main(["new-plugin", "demo-net", "--tasks", "ctc", "--dest", str(tmp_path / "other")]) == 2
    assert "Supported tasks" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("ruff") is None and not Path(sys.executable).with_name("ruff").exists(), reason="ruff")
@pytest.mark.parametrize("tasks", [None, ["masked-lm"], ["causal-lm", "token-classification"]])
def test_generated_code_is_lint_clean(tmp_path: Path, tasks: list[str] | None) -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    root = create_plugin("demo-net", tasks, tmp_path)
    for command in (["check"], ["format", "--check"]):
        result = subprocess.run([ruff, *command, str(root)], capture_output=True, text=True, cwd=tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr


def _install_and_test(project: Path, workdir: Path) -> str:
    """pip-install ``project`` into a private folder, then run its tests with that folder importable."""
    site = workdir / "site"
    isolation = [] if importlib.util.find_spec("hatchling") is None else ["--no-build-isolation"]
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", *isolation]
    subprocess.run([*pip, "--target", str(site), str(project)], check=True, capture_output=True, text=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(project / "tests")],
        capture_output=True,
        text=True,
        cwd=workdir,
        env=env,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


def test_generated_project_installs_and_passes_its_own_tests(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    project = create_plugin("scaffold-probe", None, tmp_path / "src")
    output = _install_and_test(project, tmp_path)
    assert "failed" not in output and " passed" in output


def test_example_plugin_installs_and_passes_its_own_tests(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    project = tmp_path / "new-model-plugin"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist"))
    output = _install_and_test(project, tmp_path)
    assert "failed" not in output and " passed" in output


#: The command the example plugin is generated by; tests/packages and nox -s packages check the same.
EXAMPLE_MODEL_TYPE, EXAMPLE_TASKS = "new-model", ["sequence-classification"]
_NOT_SOURCE = {"__pycache__", ".ruff_cache", ".pytest_cache", "build", "dist"}


def test_example_plugin_is_what_the_scaffold_writes() -> None:
    """examples/new-model-plugin cannot drift from the scaffold: every file is the rendered one.

    Its README is the rendered README plus a section about the example.  After
    changing the scaffold, regenerate the example with
    ``autoload new-plugin new-model --tasks sequence-classification --dest examples --force``
    (then rename the folder) and keep the README's last section.
    """
    rendered = render_plugin(EXAMPLE_MODEL_TYPE, EXAMPLE_TASKS)
    example = {
        path.relative_to(EXAMPLE).as_posix(): path.read_text(encoding="utf-8")
        for path in EXAMPLE.rglob("*")
        if path.is_file()
        and not _NOT_SOURCE & set(path.relative_to(EXAMPLE).parts)
        and not path.parent.name.endswith(".egg-info")
    }
    assert set(example) == set(rendered)
    drifted = [name for name, text in rendered.items() if name != "README.md" and example[name] != text]
    assert drifted == [], f"these files of the example differ from what the scaffold writes: {drifted}"
    assert example["README.md"].startswith(rendered["README.md"])
    assert "## About this example" in example["README.md"][len(rendered["README.md"]) :]


def test_example_plugin_uses_only_the_public_api(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLE / "src"))
    assert non_public_imports("autoload_plugin_new_model") == []
