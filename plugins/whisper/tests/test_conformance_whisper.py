"""autoload's conformance suite, run on this plugin (what every plugin author enables the same way)."""

from __future__ import annotations

import torch
from autoload.testing import PluginConformance
from whisper_helpers import FRAMES, TINY, build_transformers_tokenizer

from autoload_plugin_whisper.tokenization import WhisperTokenizer


class TestWhisperConformance(PluginConformance):
    model_type = "whisper"
    tiny_config = TINY

    def make_tokenizer(self, tmp_path):
        build_transformers_tokenizer(tmp_path / "tiny-tokenizer")
        return WhisperTokenizer.from_pretrained(tmp_path / "tiny-tokenizer", language="en")

    def make_inputs(self, config, task):
        generator = torch.Generator().manual_seed(0)
        inputs = {"input_features": torch.randn(self.batch_size, config.num_mel_bins, FRAMES, generator=generator)}
        if task in ("base", "speech-seq2seq"):
            inputs["decoder_input_ids"] = torch.randint(4, config.vocab_size, (self.batch_size, 5), generator=generator)
            inputs["use_cache"] = False  # the kit compares outputs field by field; a cache object has no equality
        return inputs
