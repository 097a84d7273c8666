"""The ``autoload`` command: ``list``, ``info``, ``doctor``, ``new-plugin``."""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from autoload.__about__ import __version__


def _cmd_list(args: argparse.Namespace) -> int:
    from autoload.architecture import PROCESSING_KINDS, reference_name
    from autoload.discovery import get_discovery

    discovery = get_discovery()
    rows: list[dict[str, Any]] = []
    for source in sorted(discovery.all_sources(), key=lambda s: (s.model_type, s.distribution)):
        row: dict[str, Any] = {
            "model_type": source.model_type,
            "distribution": source.distribution,
            "version": source.version,
        }
        try:
            architecture = discovery.architecture(source.model_type)
        except Exception as exc:  # listing must survive a broken plugin and say so
            row["error"] = f"{type(exc).__name__}: {exc}"
        else:
            if architecture is not None:
                row["tasks"] = list(architecture.models)
                for kind in PROCESSING_KINDS:
                    reference = getattr(architecture, kind)
                    if reference is not None:
                        row[kind] = reference_name(reference)
        rows.append(row)
    for source in sorted(discovery.disabled_sources(), key=lambda s: (s.model_type, s.distribution)):
        rows.append(
            {
                "model_type": source.model_type,
                "distribution": source.distribution,
                "version": source.version,
                "disabled": discovery.disabled_because(),
            }
        )
    rows.sort(key=lambda row: (row["model_type"], row["distribution"]))
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("No autoload plugins are installed. Install one, e.g. `pip install autoload-plugin-bert`.")
        return 0
    for row in rows:
        print(f"{row['model_type']}  ({row['distribution']} {row['version']})")
        if "disabled" in row:
            print(f"    disabled by {row['disabled']}")
            continue
        if "error" in row:
            print(f"    ERROR: {row['error']}")
            continue
        print(f"    tasks: {', '.join(row.get('tasks', [])) or '-'}")
        processing = [f"{kind}={row[kind]}" for kind in PROCESSING_KINDS if kind in row]
        if processing:
            print(f"    processing: {', '.join(processing)}")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from autoload.auto.base import hub_options, read_model_type
    from autoload.auto.processing import AutoFeatureExtractor, AutoImageProcessor, AutoProcessor, AutoTokenizer
    from autoload.errors import AutoloadError
    from autoload.registry import get_registry
    from autoload.tasks import AUTO_CLASS_BY_TASK

    hub_kwargs = {"revision": args.revision} if args.revision else {}
    model_type, _ = read_model_type(args.path, hub_options(hub_kwargs))
    registry = get_registry()
    config_class = registry.config_class(model_type)
    info: dict[str, Any] = {"model_type": model_type, "AutoConfig": _qualified(config_class)}
    errors: dict[str, str] = {}
    resolvers: list[tuple[str, Callable[[], type]]] = [
        (name, functools.partial(auto_class.resolve_class, args.path, **hub_kwargs))
        for name, auto_class in (
            ("AutoTokenizer", AutoTokenizer),
            ("AutoImageProcessor", AutoImageProcessor),
            ("AutoFeatureExtractor", AutoFeatureExtractor),
        )
    ]
    resolvers.append(("AutoProcessor", lambda: AutoProcessor.resolve(args.path, **hub_kwargs)[1]))
    resolvers.extend(
        (AUTO_CLASS_BY_TASK[task], functools.partial(registry.model_class, model_type, task))
        for task in registry.declared_tasks(model_type)
    )
    for name, resolve in resolvers:
        try:
            info[name] = _qualified(resolve())
        except AutoloadError as exc:  # say why this one did not resolve; the others still count
            info[name] = None
            errors[name] = f"{type(exc).__name__}: {exc}"
    if args.json:
        print(json.dumps({**info, "errors": errors}, indent=2))
    else:
        width = max(len(key) for key in info)
        for key, value in info.items():
            print(f"{key:<{width}}  {value if value is not None else '-  (' + errors[key] + ')'}")
    return 0


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _cmd_doctor(args: argparse.Namespace) -> int:
    from autoload.architecture import import_reference
    from autoload.discovery import get_discovery

    discovery = get_discovery()
    faults: list[str] = []
    checked = 0
    for model_type in discovery.model_types():
        try:
            architecture = discovery.architecture(model_type)
        except Exception as exc:
            faults.append(f"{model_type}: {exc}")
            continue
        if architecture is None:
            continue
        source = discovery.sources(model_type)[0]
        for label, reference in architecture.references().items():
            checked += 1
            try:
                import_reference(reference)
            except Exception as exc:
                faults.append(
                    f"{model_type} ({source.distribution} {source.version}): {label} {reference!r} does not "
                    f"import: {type(exc).__name__}: {exc}"
                )
    for fault in faults:
        print(f"FAULT {fault}")
    plugins = len(discovery.model_types())
    print(f"{plugins} plugin(s), {checked} reference(s) checked, {len(faults)} fault(s).")
    return 1 if faults else 0


def _cmd_new_plugin(args: argparse.Namespace) -> int:
    from autoload.scaffold import create_plugin, normalise_tasks

    root = create_plugin(args.model_type, args.tasks, args.dest, force=args.force)
    print(f"Created {root} (tasks: {', '.join(normalise_tasks(args.tasks))}).")
    print("Next steps:")
    print(f"    pip install -e {root} pytest")
    print(f"    pytest {root / 'tests'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autoload", description="Inspect autoload plugins and checkpoints.")
    parser.add_argument("--version", action="version", version=f"autoload {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="installed model types, their distributions, tasks and classes")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(run=_cmd_list)
    info = commands.add_parser("info", help="what each Auto class resolves to for a checkpoint (no weights loaded)")
    info.add_argument("path", help="checkpoint folder or Hub repo id")
    info.add_argument("--revision", default=None)
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(run=_cmd_info)
    doctor = commands.add_parser("doctor", help="load every plugin and import every class it declares")
    doctor.set_defaults(run=_cmd_doctor)
    new_plugin = commands.add_parser(
        "new-plugin", help="write a new plugin project: pyproject, declaration, config, model heads, README, tests"
    )
    new_plugin.add_argument("model_type", metavar="MODEL_TYPE", help="the model_type it serves, e.g. my-model")
    new_plugin.add_argument(
        "--tasks",
        nargs="+",
        metavar="TASK",
        default=None,
        help="heads to generate (default: all of base, masked-lm, causal-lm, sequence-classification, "
        "token-classification); base is always included",
    )
    new_plugin.add_argument(
        "--dest", default=".", metavar="DIR", help="folder to create autoload-plugin-MODEL_TYPE in (default: .)"
    )
    new_plugin.add_argument("--force", action="store_true", help="write into an existing, non-empty project folder")
    new_plugin.set_defaults(run=_cmd_new_plugin)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from autoload.errors import AutoloadError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except AutoloadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
