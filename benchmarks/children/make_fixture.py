"""Builds one scratch checkpoint with transformers (random weights, saved once and reused).

usage: make_fixture.py KIND FOLDER
KIND: bert-config, bert-base, vit-base, wav2vec2-base, gpt2-tiny, gpt2-small, qwen2-0.5b, t5-small, whisper-base,
llama-tp.
"""

import sys
from pathlib import Path

import torch
import transformers

kind, folder = sys.argv[1], Path(sys.argv[2])
folder.mkdir(parents=True, exist_ok=True)
torch.manual_seed(0)
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
elif kind == "gpt2-tiny":  # per-token overhead: the model itself costs next to nothing
    config = transformers.GPT2Config(n_embd=16, n_layer=1, n_head=2, n_positions=512)
    transformers.GPT2LMHeadModel(config).save_pretrained(folder)
elif kind == "gpt2-small":  # GPT-2 small's shape (124M)
    transformers.GPT2LMHeadModel(transformers.GPT2Config()).save_pretrained(folder)
elif kind == "qwen2-0.5b":  # Qwen2-0.5B's shape (494M), saved in bfloat16 (about 1 GB)
    config = transformers.Qwen2Config(
        hidden_size=896,
        num_hidden_layers=24,
        num_attention_heads=14,
        num_key_value_heads=2,
        intermediate_size=4864,
        vocab_size=151936,
        max_position_embeddings=32768,
        rope_theta=1_000_000.0,
        tie_word_embeddings=True,
        bos_token_id=151643,
        eos_token_id=151643,
    )
    with torch.device("cpu"):
        model = transformers.Qwen2ForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(folder)
elif kind == "t5-small":  # t5-small's shape (60M)
    config = transformers.T5Config(
        d_model=512, d_ff=2048, num_layers=6, num_heads=8, d_kv=64, vocab_size=32128, decoder_start_token_id=0
    )
    transformers.T5ForConditionalGeneration(config).save_pretrained(folder)
elif kind == "whisper-base":  # whisper-base's shape (73M)
    config = transformers.WhisperConfig(
        d_model=512,
        encoder_layers=6,
        decoder_layers=6,
        encoder_attention_heads=8,
        decoder_attention_heads=8,
        encoder_ffn_dim=2048,
        decoder_ffn_dim=2048,
        num_mel_bins=80,
        vocab_size=51865,
    )
    transformers.WhisperForConditionalGeneration(config).save_pretrained(folder)
elif kind == "llama-tp":  # a Llama-shaped checkpoint of about 540 MB (135M parameters, float32)
    config = transformers.LlamaConfig(
        hidden_size=1024,
        intermediate_size=2816,
        num_hidden_layers=6,
        num_attention_heads=16,
        num_key_value_heads=8,
        vocab_size=32000,
        tie_word_embeddings=False,
    )
    transformers.LlamaForCausalLM(config).save_pretrained(folder)
else:
    raise SystemExit(f"unknown fixture kind {kind!r}")
