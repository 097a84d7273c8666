"""Builds one scratch checkpoint with transformers (random weights, saved once and reused).

usage: make_fixture.py KIND FOLDER
KIND: bert-config, bert-base, vit-base, wav2vec2-base.
"""

import sys
from pathlib import Path

import transformers

kind, folder = sys.argv[1], Path(sys.argv[2])
folder.mkdir(parents=True, exist_ok=True)
if kind == "bert-config":
    transformers.BertConfig().save_pretrained(folder)
elif kind == "bert-base":
    transformers.BertModel(transformers.BertConfig()).save_pretrained(folder)
elif kind == "vit-base":
    transformers.ViTForImageClassification(transformers.ViTConfig()).save_pretrained(folder)
    transformers.ViTImageProcessorPil().save_pretrained(folder)
elif kind == "wav2vec2-base":
    transformers.Wav2Vec2ForCTC(transformers.Wav2Vec2Config(vocab_size=32)).save_pretrained(folder)
    transformers.Wav2Vec2FeatureExtractor().save_pretrained(folder)
else:
    raise SystemExit(f"unknown fixture kind {kind!r}")
