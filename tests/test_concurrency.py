"""16 threads loading configs, tokenizers, processors and models of several architectures at once.

The work runs in a fresh interpreter, so "first use" is real: no plugin is
imported when the 16 threads are released together from a barrier.  Each
thread does every task, in its own shuffled order, so different threads are
first to reach different plugins.  The child then repeats every task
sequentially and compares.  A deadlock shows up as the child's global
timeout (faulthandler dumps every thread's stack and exits).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
np = pytest.importorskip("numpy")

THREADS = 16
DEADLOCK_TIMEOUT_S = 240

CHILD = textwrap.dedent(
    """
    import faulthandler, json, random, sys, threading, time
    faulthandler.dump_traceback_later({deadlock}, exit=True)

    import numpy as np
    import torch
    import autoload
    from autoload.discovery import get_discovery

    root = sys.argv[1]
    THREADS = {threads}
    preloaded = sorted(m for m in sys.modules if m.startswith(("autoload_plugin_", "autoload_test_")))

    generator = torch.Generator().manual_seed(0)
    ids = torch.tensor([[2, 5, 6, 7, 3, 0]])
    pixels = torch.randn(1, 3, 16, 16, generator=generator)
    audio = torch.randn(1, 800, generator=generator)
    image = (np.arange(20 * 24 * 3) % 251).astype(np.uint8).reshape(20, 24, 3)
    wave = np.sin(np.arange(1000, dtype=np.float32) / 7)

    def forward(name, **inputs):
        model = autoload.AutoModel.from_pretrained(root + "/" + name)
        with torch.no_grad():
            return model(**inputs)[0]

    TASKS = {{
        "config:bert": lambda: autoload.AutoConfig.from_pretrained(root + "/bert").to_dict(),
        "config:vit": lambda: autoload.AutoConfig.from_pretrained(root + "/vit").to_dict(),
        "config:wav2vec2": lambda: autoload.AutoConfig.from_pretrained(root + "/wav2vec2").to_dict(),
        "config:toy": lambda: autoload.AutoConfig.from_pretrained(root + "/toy").to_dict(),
        "tokenizer:bert": lambda: dict(
            autoload.AutoTokenizer.from_pretrained(root + "/bert")(["hello world", "the worlds a"], padding=True)
        ),
        "tokenizer:wav2vec2": lambda: autoload.AutoTokenizer.from_pretrained(root + "/wav2vec2")("HELLO THE")[
            "input_ids"
        ],
        "image-processor:vit": lambda: autoload.AutoImageProcessor.from_pretrained(root + "/vit")(
            image, return_tensors="pt"
        )["pixel_values"],
        "feature-extractor:wav2vec2": lambda: autoload.AutoFeatureExtractor.from_pretrained(root + "/wav2vec2")(
            wave, sampling_rate=16000, return_tensors="pt"
        )["input_values"],
        "model:bert": lambda: forward("bert", input_ids=ids),
        "model:vit": lambda: forward("vit", pixel_values=pixels),
        "model:wav2vec2": lambda: forward("wav2vec2", input_values=audio),
        "fault:broken-import": lambda: autoload.AutoConfig.from_pretrained(root + "/broken"),
    }}

    def attempt(name):
        try:
            return ("ok", TASKS[name]())
        except Exception as exc:
            return ("error", type(exc).__name__ + ": " + str(exc)[:300])

    def same(a, b):
        if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
            return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and torch.equal(a, b)
        if isinstance(a, dict):
            return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        if isinstance(a, (list, tuple)):
            return isinstance(b, (list, tuple)) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
        return a == b

    barrier = threading.Barrier(THREADS)
    results = [None] * THREADS

    def run(index):
        order = list(TASKS)
        random.Random(index).shuffle(order)
        barrier.wait()
        results[index] = {{name: attempt(name) for name in order}}

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    concurrent_seconds = time.perf_counter() - started
    load_count = dict(get_discovery().load_count)

    started = time.perf_counter()
    sequential = {{name: attempt(name) for name in TASKS}}
    sequential_seconds = time.perf_counter() - started

    mismatches = [
        [index, name, str(result[name])[:300], str(sequential[name])[:300]]
        for index, result in enumerate(results)
        for name in TASKS
        if result[name][0] != sequential[name][0] or not same(result[name][1], sequential[name][1])
    ]
    print(json.dumps({{
        "threads": THREADS,
        "tasks": list(TASKS),
        "preloaded_plugin_modules": preloaded,
        "load_count": load_count,
        "sequential_outcomes": {{name: outcome for name, (outcome, _) in sequential.items()}},
        "fault_message": sequential["fault:broken-import"][1] if sequential["fault:broken-import"][0] == "error"
        else None,
        "mismatches": mismatches,
        "operations": THREADS * len(TASKS),
        "concurrent_seconds": round(concurrent_seconds, 2),
        "sequential_seconds": round(sequential_seconds, 2),
    }}))
    """
).format(threads=THREADS, deadlock=DEADLOCK_TIMEOUT_S)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    import autoload
    from autoload.testing.tiny import save_tiny_checkpoint

    root = tmp_path_factory.mktemp("concurrency")
    bert = save_tiny_checkpoint(root / "bert", "bert", vocab_size=99, max_position_embeddings=32)
    from autoload_plugin_bert.tokenization import BertTokenizer

    (root / "vocab.txt").write_text(
        "\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "the", "##s", "a"]) + "\n"
    )
    BertTokenizer(vocab_file=str(root / "vocab.txt")).save_pretrained(bert)

    vit = save_tiny_checkpoint(root / "vit", "vit", image_size=16, patch_size=4)
    (vit / "preprocessor_config.json").write_text(
        json.dumps({"image_processor_type": "ViTImageProcessor", "size": {"height": 16, "width": 16}})
    )

    wav_kwargs = {
        "vocab_size": 12,
        "num_attention_heads": 2,
        "conv_dim": (32, 32),
        "conv_stride": (4, 4),
        "conv_kernel": (8, 4),
        "num_conv_pos_embeddings": 16,
        "num_conv_pos_embedding_groups": 2,
    }
    wav = save_tiny_checkpoint(root / "wav2vec2", "wav2vec2", **wav_kwargs)
    from autoload_plugin_wav2vec2.feature_extraction import Wav2Vec2FeatureExtractor
    from autoload_plugin_wav2vec2.tokenization import Wav2Vec2CTCTokenizer

    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4, "E": 5, "T": 6, "H": 7, "L": 8, "O": 9}
    (root / "vocab.json").write_text(json.dumps(vocab))
    Wav2Vec2CTCTokenizer(vocab_file=str(root / "vocab.json")).save_pretrained(wav)
    Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=True).save_pretrained(
        wav
    )

    for name, model_type in (("toy", "toy"), ("broken", "broken-import")):
        (root / name).mkdir()
        (root / name / "config.json").write_text(json.dumps({"model_type": model_type}))
    del autoload
    return root


def test_sixteen_threads_first_use(checkpoints, tmp_path_factory):
    script = Path(checkpoints) / "child.py"
    script.write_text(CHILD)
    completed = subprocess.run(
        [sys.executable, str(script), str(checkpoints)],
        capture_output=True,
        text=True,
        timeout=DEADLOCK_TIMEOUT_S + 60,
    )
    assert completed.returncode == 0, f"child failed (a deadlock dumps the stacks):\n{completed.stderr[-6000:]}"
    report = json.loads(completed.stdout.strip().splitlines()[-1])

    assert report["preloaded_plugin_modules"] == [], "first use must be first: plugins were already imported"
    # every plugin the tasks need was loaded exactly once, however many threads asked at the same moment
    assert {"bert", "vit", "wav2vec2", "toy", "broken-import"} <= report["load_count"].keys()
    assert all(count == 1 for count in report["load_count"].values()), report["load_count"]
    # the work itself succeeded, the broken plugin failed the same clear way everywhere
    outcomes = report["sequential_outcomes"]
    assert all(outcome == "ok" for name, outcome in outcomes.items() if not name.startswith("fault:")), outcomes
    assert outcomes["fault:broken-import"] == "error"
    assert "autoload-test-import-error 1.0.0" in report["fault_message"]
    # and every thread's result equals the sequential one, bit for bit
    assert report["mismatches"] == []

    folder = os.environ.get("AUTOLOAD_RELIABILITY_FIGURES")
    target = Path(folder) if folder else tmp_path_factory.getbasetemp() / "reliability"
    target.mkdir(parents=True, exist_ok=True)
    figures = {key: report[key] for key in ("threads", "tasks", "load_count", "operations", "concurrent_seconds")}
    figures["sequential_seconds"] = report["sequential_seconds"]
    figures["mismatches"] = len(report["mismatches"])
    (target / "concurrency.json").write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
