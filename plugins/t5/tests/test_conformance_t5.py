"""autoload's conformance suite, run on this plugin (what every plugin author enables the same way)."""

from __future__ import annotations

from pathlib import Path

from autoload.testing import PluginConformance
from t5_helpers import TINY, VOCAB


class TestT5Conformance(PluginConformance):
    model_type = "t5"
    tiny_config = TINY
    sample_text = ("the cat sat on the mat.", "hello world")

    def make_inputs(self, config, task):
        inputs = super().make_inputs(config, task)
        if task in ("base", "seq2seq-lm"):
            inputs["decoder_input_ids"] = inputs["input_ids"][:, :5]
            inputs["use_cache"] = False  # the kit compares outputs field by field; a cache object has no equality
        return inputs

    def make_tokenizer(self, tmp_path: Path) -> object:
        from autoload_plugin_t5.tokenization import T5Tokenizer

        return T5Tokenizer(vocab=VOCAB, extra_ids=3)
