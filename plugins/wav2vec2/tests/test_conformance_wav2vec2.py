"""autoload's conformance suite, run on this plugin (what every plugin author enables the same way)."""

from __future__ import annotations

from pathlib import Path

from autoload.testing import PluginConformance

VOCAB = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4, "E": 5, "T": 6, "A": 7, "O": 8, "H": 9}


class TestWav2Vec2Conformance(PluginConformance):
    model_type = "wav2vec2"
    tiny_config = {
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 37,
        "conv_dim": (32, 32, 32),
        "conv_stride": (4, 4, 4),
        "conv_kernel": (8, 8, 8),
        "num_conv_pos_embeddings": 16,
        "num_conv_pos_embedding_groups": 2,
        "vocab_size": 10,
        "tdnn_dim": (32, 32),
        "tdnn_kernel": (3, 3),
        "tdnn_dilation": (1, 2),
        "xvector_output_dim": 16,
        "proj_codevector_dim": 16,
        "codevector_dim": 16,
        "num_codevectors_per_group": 8,
        "num_codevector_groups": 2,
        "classifier_proj_size": 16,
    }
    sample_text = ("HELLO THERE", "A TEA")

    def make_tokenizer(self, tmp_path: Path) -> object:
        from autoload_plugin_wav2vec2.tokenization import Wav2Vec2CTCTokenizer

        return Wav2Vec2CTCTokenizer(vocab=VOCAB)
