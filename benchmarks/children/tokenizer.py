"""Tokenizer throughput: one batch call on many sentences, padded and truncated to 128 tokens.

usage: tokenizer.py LIBRARY FOLDER SENTENCES_FILE
"""

import sys
from pathlib import Path

from _bench import auto_class, report, tensor_summary, timed

library, folder, sentences_file = sys.argv[1:4]
tokenizer = auto_class(library, "AutoTokenizer").from_pretrained(folder)
sentences = Path(sentences_file).read_text(encoding="utf-8").splitlines()


def encode(batch):
    return tokenizer(batch, padding=True, truncation=True, max_length=128, return_tensors="pt")


encode(sentences[:64])  # warm-up
tokenize_ms, encoded = timed(lambda: encode(sentences), repeats=1)  # one call: the harness repeats the process
report(tokenize_ms=tokenize_ms, sentences=len(sentences), **tensor_summary(encoded["input_ids"]))
