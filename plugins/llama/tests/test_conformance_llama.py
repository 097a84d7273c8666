"""autoload's conformance suite, run on each of the four model types this one distribution serves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autoload.testing import PluginConformance
from llama_test_support import TINY
from llama_tokenizer_fixtures import save_llama_style_tokenizer, save_qwen_style_tokenizer

# Plain sizes only: num_labels is not a constructor argument the suite's JSON round trip needs.
CONFORMANCE_TINY = {key: value for key, value in TINY.items() if key != "num_labels"}


def _llama_style(tmp_path: Path) -> Any:
    from autoload_plugin_llama.tokenization import LlamaTokenizer

    return LlamaTokenizer.from_pretrained(save_llama_style_tokenizer(tmp_path / "made-by-transformers"))


def _qwen_style(tmp_path: Path) -> Any:
    from autoload.tokenization import TokenizersBackend

    return TokenizersBackend.from_pretrained(save_qwen_style_tokenizer(tmp_path / "made-by-transformers"))


class TestLlamaConformance(PluginConformance):
    model_type = "llama"
    tiny_config = {**CONFORMANCE_TINY, "head_dim": 16, "attention_bias": True, "mlp_bias": True}

    def make_tokenizer(self, tmp_path: Path) -> Any:
        return _llama_style(tmp_path)


class TestMistralConformance(PluginConformance):
    model_type = "mistral"
    tiny_config = {**CONFORMANCE_TINY, "sliding_window": 4}
    sequence_length = 9  # longer than the window

    def make_tokenizer(self, tmp_path: Path) -> Any:
        from autoload.tokenization import TokenizersBackend

        return TokenizersBackend.from_pretrained(save_llama_style_tokenizer(tmp_path / "made-by-transformers"))


class TestQwen2Conformance(PluginConformance):
    model_type = "qwen2"
    tiny_config = {**CONFORMANCE_TINY, "use_sliding_window": True, "sliding_window": 4, "max_window_layers": 1}
    sequence_length = 9

    def make_tokenizer(self, tmp_path: Path) -> Any:
        return _qwen_style(tmp_path)


class TestQwen3Conformance(PluginConformance):
    model_type = "qwen3"
    tiny_config = {**CONFORMANCE_TINY, "head_dim": 16, "tie_word_embeddings": True}

    def make_tokenizer(self, tmp_path: Path) -> Any:
        return _qwen_style(tmp_path)
