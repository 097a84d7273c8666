"""Fixtures of the wav2vec2 plugin's tests."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from wav2vec2_helpers import VOCAB


@pytest.fixture
def vocab_file(tmp_path: Path) -> Path:
    path = tmp_path / "vocab.json"
    path.write_text(json.dumps(VOCAB), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _quiet_sampling_rate_warnings(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="transformers")
