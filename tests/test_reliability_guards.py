"""The guards behind issue 14's corpus cases, tested on their own: regex shapes, allocation budget, embedding ids."""

from __future__ import annotations

import json

import pytest

from autoload._pattern_guard import catastrophic_part, check_tokenizer_patterns
from autoload.errors import CheckpointError, ConfigError, ModelInputError

# Patterns of released tokenizers (GPT-2, Llama 3 / cl100k, o200k) and harmless shapes.
SAFE = [
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+",
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"
    r"|\s+(?!\S)|\s+",
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
    r"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    "(?>a+)+",
    "(a++)+",
    "(a+)?",
    "[(a+)+]",
    r"\(a+\)+",
    "(ab)+",
    "(a{2})+",
    "(?:\\r?\\n)+",
]
EXPLOSIVE = ["(a+)+$", "(a*)*b", r"(\w+\s?)*$", "(x+x+)+y", "((a+))+", "(?:a+)+", "(.*a){2,}", r"(\d+)+\."]


@pytest.mark.parametrize("pattern", SAFE)
def test_safe_patterns_pass(pattern):
    assert catastrophic_part(pattern) is None


@pytest.mark.parametrize("pattern", EXPLOSIVE)
def test_nested_unbounded_repetition_is_found(pattern):
    assert catastrophic_part(pattern) is not None


def test_what_is_refused_really_explodes():
    """The classic refused shape does take the regex engine to its backtracking limit on a 41-character text."""
    tokenizers = pytest.importorskip("tokenizers")
    tokenizer = tokenizers.Tokenizer(tokenizers.models.WordLevel({"[UNK]": 0}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = tokenizers.pre_tokenizers.Split(tokenizers.Regex("(a+)+$"), behavior="isolated")
    with pytest.raises(BaseException, match="retry-limit") as caught:  # pyo3's PanicException is a BaseException
        tokenizer.encode("a" * 40 + "!")
    assert not isinstance(caught.value, Exception)


def test_the_check_names_file_and_place():
    data = {"pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "(a+)+"}}]}}
    with pytest.raises(CheckpointError, match=r"tokenizer\.json holds a regular expression at pre_tokenizer"):
        check_tokenizer_patterns(json.loads(json.dumps(data)), "tokenizer.json")


def test_allocation_budget_refuses_before_allocating():
    torch = pytest.importorskip("torch")
    from autoload._model_guards import bounded_allocations, construction_budget

    assert construction_budget(1000) == 2000 + 256 * 2**20
    with bounded_allocations("Thing", 1000):
        assert torch.arange(10).sum().item() == 45  # small allocations pass
        assert torch.zeros(10**9, device="meta").is_meta  # meta costs nothing
        with pytest.raises(ConfigError, match=r"Thing could not be built from its config: building it would allocate"):
            torch.arange(10**8)
        with pytest.raises(RuntimeError, match="negative dimension"):
            torch.empty(-1, 3)  # the real error of an impossible size, not a budget error


def test_allocation_budget_counts_what_is_alive_not_what_was_ever_allocated():
    """Parameters are allocated, then swapped for meta tensors: a half-precision checkpoint's float32 model
    allocates twice its bytes in total, but never holds them at once."""
    torch = pytest.importorskip("torch")
    from autoload._model_guards import bounded_allocations, construction_budget

    budget = construction_budget(0)
    block = budget // 4 // 4  # a quarter of the budget, in float32 elements
    with bounded_allocations("Thing", 0):
        for _ in range(12):  # three budgets in all, one quarter alive at a time
            torch.empty(block)
        kept = [torch.empty(block) for _ in range(3)]
        with pytest.raises(ConfigError, match="building it would allocate"):
            kept.append(torch.empty(2 * block))


def test_a_bfloat16_checkpoint_with_a_large_float32_embedding_loads(tmp_path):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    import autoload

    # 150k x 1024 embedding: 600 MiB in float32 while the whole bf16 checkpoint is about 300 MiB, so the
    # float32 table alone passes 2 x checkpoint + 256 MiB if every allocation were counted forever.
    config = transformers.GPT2Config(n_embd=1024, n_layer=1, n_head=4, vocab_size=150_000, n_positions=8)
    model = transformers.GPT2LMHeadModel(config).to(torch.bfloat16)
    model.save_pretrained(tmp_path)
    del model
    loaded = autoload.AutoModelForCausalLM.from_pretrained(tmp_path, dtype=torch.bfloat16)
    assert loaded.lm_head.weight.dtype == torch.bfloat16


def test_embedding_ids_outside_the_table():
    torch = pytest.importorskip("torch")
    from torch import nn

    from autoload._model_guards import check_embedding_indices

    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.words = nn.Embedding(10, 4)
            self.kinds = nn.Embedding(2, 4)

        def get_input_embeddings(self):
            return self.words

        def forward(self, ids, kinds):
            return self.words(ids) + self.kinds(kinds)

    model = Tiny()
    check_embedding_indices(model)
    check_embedding_indices(model)  # idempotent
    assert len(model.words._forward_pre_hooks) == 1
    ok = torch.tensor([[0, 9]])
    assert model(ok, torch.tensor([[0, 1]])).shape == (1, 2, 4)
    with pytest.raises(
        ModelInputError, match="Token id 10 is outside the vocabulary of Tiny: its vocabulary size is 10"
    ):
        model(torch.tensor([[0, 10]]), torch.tensor([[0, 1]]))
    with pytest.raises(IndexError, match="Index 2 is outside the embedding 'kinds' of Tiny"):
        model(ok, torch.tensor([[0, 2]]))
