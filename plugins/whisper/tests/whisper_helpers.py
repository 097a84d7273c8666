"""A tiny Whisper shape shared by the tests: 16 mel bins, 60 spectrogram frames, 2+2 layers (no Hub access)."""

from __future__ import annotations

from typing import Any

TINY: dict[str, Any] = {
    "vocab_size": 120,
    "num_mel_bins": 16,
    "encoder_layers": 2,
    "decoder_layers": 2,
    "encoder_attention_heads": 4,
    "decoder_attention_heads": 4,
    "d_model": 32,
    "encoder_ffn_dim": 37,
    "decoder_ffn_dim": 37,
    "max_source_positions": 30,
    "max_target_positions": 40,
    "pad_token_id": 0,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "decoder_start_token_id": 3,
    "begin_suppress_tokens": [5],
    "num_labels": 3,
    "classifier_proj_size": 12,
}
FRAMES = 60  # 2 * max_source_positions


def tiny(**overrides: Any) -> dict[str, Any]:
    return {**TINY, **overrides}


# -- a tiny multilingual Whisper vocabulary, built the way Whisper's is laid out -----------------------------

CORPUS = [
    "Hello world, this is a tiny Whisper test.",
    "The quick brown fox jumps over the lazy dog!",
    "Bonjour le monde. Ça va? Très bien, merci.",
    "Numbers 123 4567 and symbols #@$% & (brackets) [too]",
    "  multiple   spaces\tand\nnewlines, don't they?",
    "Ich heiße Max; 你好\uff0c世界 🤗",
]


def special_tokens() -> list[str]:
    """Whisper's special tokens in vocabulary order: text end, start, 100 languages, tasks, markers."""
    from autoload_plugin_whisper.languages import LANGUAGES

    return [
        "<|endoftext|>",
        "<|startoftranscript|>",
        *[f"<|{code}|>" for code in LANGUAGES],
        "<|translate|>",
        "<|transcribe|>",
        "<|startoflm|>",
        "<|startofprev|>",
        "<|nospeech|>",
        "<|notimestamps|>",
    ]


def build_transformers_tokenizer(directory) -> Any:
    """A byte-level BPE trained on CORPUS (~370 tokens), Whisper's special tokens and 1501 timestamp tokens.

    Built and saved with transformers' own WhisperTokenizer, as a checkpoint's tokenizer would be.
    """
    import json

    import transformers
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=400, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    backend.train_from_iterator(CORPUS * 20, trainer)
    state = json.loads(backend.to_str())["model"]
    merges = [tuple(merge) if isinstance(merge, list) else tuple(merge.split(" ")) for merge in state["merges"]]
    tokenizer = transformers.WhisperTokenizer(
        vocab=state["vocab"], merges=merges, pad_token="<|endoftext|>", additional_special_tokens=special_tokens()
    )
    tokenizer.add_tokens(
        [transformers.AddedToken("<|%.2f|>" % (i * 0.02), lstrip=False, rstrip=False) for i in range(1501)]
    )
    tokenizer.save_pretrained(directory)
    return tokenizer


def build_transformers_model(directory, tokenizer, **overrides: Any) -> Any:
    """A tiny random WhisperForConditionalGeneration over ``tokenizer``'s vocabulary, with a Whisper
    generation_config.json (lang_to_id, task_to_id, no_timestamps_token_id, ...) as transformers' tests set it.

    Weights are larger than the default initialisation (init_std 1.0) so that greedy outputs vary from step to
    step and between rows, and the timestamp embeddings are scaled so that timestamps get predicted.
    """
    import torch
    import transformers

    from autoload_plugin_whisper.languages import LANGUAGES

    ids = tokenizer.convert_tokens_to_ids
    end = ids("<|endoftext|>")
    settings = tiny(
        vocab_size=len(tokenizer),
        max_target_positions=64,
        pad_token_id=end,
        bos_token_id=end,
        eos_token_id=end,
        decoder_start_token_id=ids("<|startoftranscript|>"),
        begin_suppress_tokens=[ids("Ġ"), end],
        suppress_tokens=[5, 7, 9],
        init_std=1.0,
    )
    settings.update(overrides)
    torch.manual_seed(0)
    model = transformers.WhisperForConditionalGeneration(transformers.WhisperConfig(**settings)).eval()
    first_timestamp = ids("<|0.00|>")
    with torch.no_grad():
        model.model.decoder.embed_tokens.weight[first_timestamp : first_timestamp + 100] *= 2.0
    generation = dict(
        decoder_start_token_id=settings["decoder_start_token_id"],
        pad_token_id=end,
        bos_token_id=end,
        eos_token_id=end,
        suppress_tokens=settings["suppress_tokens"],
        begin_suppress_tokens=settings["begin_suppress_tokens"],
        lang_to_id={f"<|{code}|>": ids(f"<|{code}|>") for code in LANGUAGES},
        task_to_id={"translate": ids("<|translate|>"), "transcribe": ids("<|transcribe|>")},
        no_timestamps_token_id=ids("<|notimestamps|>"),
        is_multilingual=True,
        max_initial_timestamp_index=50,
        prev_sot_token_id=ids("<|startofprev|>"),
    )
    model.generation_config = transformers.GenerationConfig(**generation)
    model.save_pretrained(directory)
    return model
