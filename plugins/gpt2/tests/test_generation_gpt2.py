"""generate() (the host's GenerationMixin) on GPT-2 gives transformers' tokens; padding does not change them.

The exhaustive generation tests live with the host; this is the GPT-2 smoke test that the model's
cache, positions and masks are what generation needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from gpt2_helpers import PAD, VOCAB_SIZE, load_hf, load_ours, save_hf  # noqa: E402

EOS = VOCAB_SIZE - 1


def left_padded(rows: list[list[int]]) -> dict[str, Any]:
    width = max(len(row) for row in rows)
    input_ids = torch.full((len(rows), width), PAD)
    attention_mask = torch.zeros((len(rows), width), dtype=torch.long)
    for index, row in enumerate(rows):
        input_ids[index, width - len(row) :] = torch.tensor(row)
        attention_mask[index, width - len(row) :] = 1
    return {"input_ids": input_ids, "attention_mask": attention_mask}


PROMPTS = [[5, 17, 42, 8, 91, 3], [11, 12], [70, 2, 33, 4]]
SETTINGS = {
    "greedy": {"do_sample": False},
    "beam": {"do_sample": False, "num_beams": 3, "num_return_sequences": 2},
}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_hf("GPT2LMHeadModel", tmp_path_factory.mktemp("gpt2-lm"), pad_token_id=PAD)


@pytest.mark.parametrize("attn", ["eager", "sdpa"])
@pytest.mark.parametrize("setting", sorted(SETTINGS))
def test_generate_equals_transformers(checkpoint: Path, setting: str, attn: str) -> None:
    ours, theirs = load_ours("GPT2LMHeadModel", checkpoint, attn), load_hf("GPT2LMHeadModel", checkpoint, attn)
    inputs = left_padded(PROMPTS)
    options = {**SETTINGS[setting], "max_new_tokens": 8, "pad_token_id": PAD, "eos_token_id": EOS}
    with torch.no_grad():
        expected = theirs.generate(**inputs, **options)
        actual = ours.generate(**inputs, **options)
    assert torch.equal(actual, expected)


def test_left_padded_batch_generates_what_each_prompt_generates_alone(checkpoint: Path) -> None:
    ours = load_ours("GPT2LMHeadModel", checkpoint)
    options = {"do_sample": False, "max_new_tokens": 8, "pad_token_id": PAD, "eos_token_id": EOS}
    batch = left_padded(PROMPTS)
    with torch.no_grad():
        together = ours.generate(**batch, **options)
        width = batch["input_ids"].shape[1]
        for index, prompt in enumerate(PROMPTS):
            alone = ours.generate(torch.tensor([prompt]), **options)
            new_alone = alone[0, len(prompt) :]
            new_together = together[index, width : width + len(new_alone)]
            assert torch.equal(new_together, new_alone), index
