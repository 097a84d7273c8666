"""Fixtures of the Whisper plugin's tests."""

from __future__ import annotations

import logging

import pytest
from whisper_helpers import build_transformers_model, build_transformers_tokenizer


@pytest.fixture(autouse=True)
def _quiet_transformers(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="transformers")


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory: pytest.TempPathFactory):
    """A tiny multilingual Whisper tokenizer saved by transformers' WhisperTokenizer."""
    directory = tmp_path_factory.mktemp("whisper-tokenizer")
    build_transformers_tokenizer(directory)
    return directory


@pytest.fixture(scope="session")
def theirs_tokenizer(tokenizer_dir):
    import transformers

    return transformers.AutoTokenizer.from_pretrained(tokenizer_dir)


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory: pytest.TempPathFactory, theirs_tokenizer):
    """(directory, transformers model) of a tiny random Whisper with a Whisper generation config."""
    directory = tmp_path_factory.mktemp("whisper-model")
    model = build_transformers_model(directory, theirs_tokenizer)
    return directory, model
