"""autoload's conformance suite, run on this plugin (what every plugin author enables the same way)."""

from __future__ import annotations

from pathlib import Path

from autoload.testing import PluginConformance

# pad_token_id: sequence classification needs it to find each row's last real token in a padded batch.
TINY = {"vocab_size": 99, "n_embd": 32, "n_layer": 2, "n_head": 4, "n_inner": 37, "n_positions": 64, "pad_token_id": 0}
VOCAB = {"<|endoftext|>": 0, "h": 1, "e": 2, "l": 3, "o": 4, "Ġ": 5, "w": 6, "r": 7, "d": 8, "he": 9, "ll": 10}
MERGES = [("h", "e"), ("l", "l")]


class TestGPT2Conformance(PluginConformance):
    model_type = "gpt2"
    tiny_config = TINY

    def make_tokenizer(self, tmp_path: Path) -> object:
        from autoload_plugin_gpt2.tokenization import GPT2Tokenizer

        return GPT2Tokenizer(vocab=VOCAB, merges=MERGES, pad_token="<|endoftext|>")
