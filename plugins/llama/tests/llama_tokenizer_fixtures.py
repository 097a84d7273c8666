"""Tiny tokenizers made the way real Llama-family checkpoints' are, by transformers' own classes.

A byte-fallback BPE (Llama, Mistral) and a byte-level BPE (Qwen), each trained
on a few sentences with the ``tokenizers`` library, wrapped by transformers'
``LlamaTokenizer`` / ``Qwen2Tokenizer`` and saved: the files are what
transformers writes, so loading them here tests what users load.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Paris is the capital of France, and Rome is the capital of Italy.",
    "Large language models generate text one token at a time.",
    "hello world! hello there, general kenobi.",
    "def add(a, b):\n    return a + b\n",
]

# Sample texts: plain, leading/double spaces, accents and an emoji (bytes outside the trained vocab).
SAMPLES = [
    "The quick brown fox.",
    "  two leading spaces and  double  spaces",
    "Ünïcödé café — naïve façade",
    "emoji 🦙 and 汉字 fall back to bytes",
    "line one\nline two\n\ttabbed",
]

# Our own small templates in the two styles these families use (instruction tags; ChatML).
LLAMA_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if message['role'] == 'user' %}[INST] {{ message['content'] | trim }} [/INST]"
    "{% elif message['role'] == 'system' %}<<SYS>>{{ message['content'] }}<</SYS>>"
    "{% else %} {{ message['content'] | trim }}{{ eos_token }}{% endif %}{% endfor %}"
)
CHATML_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
CONVERSATION = [
    {"role": "system", "content": "You answer briefly."},
    {"role": "user", "content": "What is the capital of France?"},
    {"role": "assistant", "content": "Paris."},
    {"role": "user", "content": "And of Italy?"},
]


def _train(model: Any, pre_tokenizer: Any, trainer: Any) -> tuple[dict[str, int], list[Any]]:
    import json

    from tokenizers import Tokenizer

    tokenizer = Tokenizer(model)
    tokenizer.pre_tokenizer = pre_tokenizer
    tokenizer.train_from_iterator(CORPUS, trainer=trainer)
    state = json.loads(tokenizer.to_str())["model"]
    return state["vocab"], [
        tuple(merge) if isinstance(merge, list) else tuple(merge.split(" ")) for merge in state["merges"]
    ]


def save_llama_style_tokenizer(directory: Path) -> Path:
    """Byte-fallback BPE over '▁'-marked words, bos added, as LlamaTokenizer builds it."""
    from tokenizers import models, pre_tokenizers, trainers
    from transformers import LlamaTokenizer

    specials = ["<unk>", "<s>", "</s>"]
    byte_tokens = [f"<0x{value:02X}>" for value in range(256)]
    trained, merges = _train(
        models.BPE(unk_token="<unk>"),
        pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False),
        trainers.BpeTrainer(vocab_size=120, special_tokens=specials, show_progress=False),
    )
    vocab = {token: index for index, token in enumerate(specials + byte_tokens)}
    for token in sorted(trained, key=trained.get):
        vocab.setdefault(token, len(vocab))
    tokenizer = LlamaTokenizer(vocab=vocab, merges=merges, add_bos_token=True)
    tokenizer.chat_template = LLAMA_TEMPLATE
    tokenizer.save_pretrained(directory)
    return directory


def save_qwen_style_tokenizer(directory: Path) -> Path:
    """Byte-level BPE with ChatML special tokens, no bos, as Qwen2Tokenizer builds it."""
    from tokenizers import models, pre_tokenizers, trainers
    from transformers import AddedToken, Qwen2Tokenizer

    vocab, merges = _train(
        models.BPE(),
        pre_tokenizers.ByteLevel(add_prefix_space=False),
        trainers.BpeTrainer(
            vocab_size=400,
            special_tokens=["<|endoftext|>"],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        ),
    )
    tokenizer = Qwen2Tokenizer(vocab=vocab, merges=merges)
    tokenizer.add_special_tokens(
        {
            "additional_special_tokens": [
                AddedToken("<|im_start|>", special=True),
                AddedToken("<|im_end|>", special=True),
            ]
        }
    )
    tokenizer.chat_template = CHATML_TEMPLATE
    tokenizer.save_pretrained(directory)
    return directory
