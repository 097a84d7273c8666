"""autoload's conformance suite, run on this plugin (what every plugin author enables the same way)."""

from __future__ import annotations

from pathlib import Path

from autoload.testing import PluginConformance

TINY = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 37, "vocab_size": 99}
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "the", "quick", "brown", "fox", "##es", "!"]


class TestBertConformance(PluginConformance):
    model_type = "bert"
    tiny_config = TINY

    def make_tokenizer(self, tmp_path: Path) -> object:
        from autoload_plugin_bert.tokenization import BertTokenizer

        return BertTokenizer(vocab={token: index for index, token in enumerate(VOCAB)})
