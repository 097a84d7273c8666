"""generate() on the GPT-2 plugin against transformers' generate() on the same checkpoint: same ids, same scores."""

from __future__ import annotations

import threading
import warnings

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("autoload_plugin_gpt2")

from autoload import AutoModelForCausalLM, AutoTokenizer, GenerationError  # noqa: E402
from autoload.generation import (  # noqa: E402
    GenerationConfig,
    LogitsProcessorList,
    StoppingCriteriaList,
    TextIteratorStreamer,
    TextStreamer,
)

TEXTS = [
    "hello world, the cat sat on the mat.\nstop here please",
    "the end is near; stop it now",
    "a cat. a mat. a hat.",
]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    import tokenizers
    from tokenizers import decoders, models, pre_tokenizers, trainers

    folder = tmp_path_factory.mktemp("gpt2-gen")
    backend = tokenizers.Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    backend.train_from_iterator(TEXTS * 20, trainer)
    tokenizer = transformers.GPT2TokenizerFast(
        tokenizer_object=backend, bos_token="<|endoftext|>", eos_token="<|endoftext|>", pad_token="<|endoftext|>"
    )
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    config = transformers.GPT2Config(
        n_embd=32, n_layer=2, n_head=4, n_positions=128, vocab_size=len(tokenizer), bos_token_id=0, eos_token_id=0
    )
    reference = transformers.GPT2LMHeadModel(config).eval()
    reference.save_pretrained(folder)
    return folder, reference, tokenizer


@pytest.fixture(scope="module")
def ours(checkpoint):
    return AutoModelForCausalLM.from_pretrained(checkpoint[0])


def _prompt(batch=2, length=6, seed=0, vocab=250):
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(1, vocab, (batch, length), generator=generator)


def _both(reference, ours, seed=7, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(seed)
        theirs = reference.generate(**kwargs)
        torch.manual_seed(seed)
        mine = ours.generate(**kwargs)
    return theirs, mine


STRATEGIES = [
    {"max_new_tokens": 12},
    {"max_new_tokens": 12, "do_sample": True},
    {"max_new_tokens": 12, "do_sample": True, "temperature": 0.6, "top_k": 8, "top_p": 0.85},
    {"max_new_tokens": 12, "do_sample": True, "min_p": 0.05, "typical_p": 0.9, "top_k": 0},
    {"max_new_tokens": 12, "num_beams": 3},
    {"max_new_tokens": 12, "num_beams": 4, "num_return_sequences": 3, "length_penalty": 0.3, "early_stopping": True},
    {"max_new_tokens": 12, "num_beams": 3, "early_stopping": "never", "length_penalty": 1.5},
    {"max_new_tokens": 12, "num_beams": 3, "do_sample": True, "num_return_sequences": 2},
    {"max_new_tokens": 12, "do_sample": True, "num_return_sequences": 3},
    {"max_new_tokens": 12, "repetition_penalty": 1.5, "no_repeat_ngram_size": 2},
    {"max_new_tokens": 12, "bad_words_ids": [[5], [7, 8]], "min_new_tokens": 6},
    {"max_length": 15, "min_length": 12, "suppress_tokens": [3, 4]},
    {"max_new_tokens": 12, "use_cache": False},
]


@pytest.mark.parametrize("settings", STRATEGIES)
def test_ids_equal_transformers(checkpoint, ours, settings):
    _, reference, _ = checkpoint
    theirs, mine = _both(reference, ours, input_ids=_prompt(), **settings)
    assert torch.equal(mine, theirs)


@pytest.mark.parametrize("settings", [{"max_new_tokens": 10}, {"max_new_tokens": 10, "num_beams": 3}])
def test_eos_list_stops_rows_and_pads(checkpoint, ours, settings):
    _, reference, _ = checkpoint
    prompt = _prompt(batch=3, seed=2)
    free = ours.generate(prompt, max_new_tokens=10)
    eos = [int(free[0, 8]), int(free[1, 10])]  # tokens the model does produce, so rows stop early
    theirs, mine = _both(reference, ours, input_ids=prompt, eos_token_id=eos, pad_token_id=1, **settings)
    assert torch.equal(mine, theirs)
    if "num_beams" not in settings:
        assert (mine == 1).any()  # finished rows were padded


def test_left_padded_batch_matches_transformers_and_unpadded_rows(checkpoint, ours):
    _, reference, tokenizer = checkpoint
    tokenizer.padding_side = "left"
    batch = tokenizer(["the cat sat", "hello world, the end is near"], return_tensors="pt", padding=True)
    for settings in (
        {"max_new_tokens": 8},
        {"max_new_tokens": 8, "num_beams": 2},
        {"max_new_tokens": 8, "do_sample": True},
    ):
        theirs, mine = _both(reference, ours, **batch, **settings)
        assert torch.equal(mine, theirs)
    padded = ours.generate(**batch, max_new_tokens=8)
    alone = ours.generate(**tokenizer(["the cat sat"], return_tensors="pt"), max_new_tokens=8)
    assert torch.equal(padded[0, -8:], alone[0, -8:])


@pytest.mark.parametrize(
    "settings",
    [
        {"do_sample": False},
        {"do_sample": True, "top_k": 10},
        {"num_beams": 3, "num_return_sequences": 2},
    ],
)
def test_return_dict_scores_logits_beams(checkpoint, ours, settings):
    _, reference, _ = checkpoint
    kwargs = {"input_ids": _prompt(), "max_new_tokens": 7, "return_dict_in_generate": True, "output_scores": True}
    theirs, mine = _both(reference, ours, output_logits=True, **kwargs, **settings)
    assert torch.equal(mine.sequences, theirs.sequences)
    assert len(mine.scores) == len(theirs.scores) and len(mine.logits) == len(theirs.logits)
    for a, b in zip(mine.scores, theirs.scores, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    for a, b in zip(mine.logits, theirs.logits, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    if "num_beams" in settings:
        torch.testing.assert_close(mine.sequences_scores, theirs.sequences_scores, atol=1e-5, rtol=1e-5)
        assert torch.equal(mine.beam_indices.long(), theirs.beam_indices.long())
    assert mine.cache is not None and mine.past_key_values is mine.cache


def test_stop_strings_match_transformers(checkpoint, ours):
    folder, reference, tokenizer = checkpoint
    our_tokenizer = AutoTokenizer.from_pretrained(folder)
    prompt = _prompt(batch=1, seed=5)
    # Random weights mostly emit byte tokens that no string matches: steer both models to whole-word tokens
    # (sequence_bias and the n-gram ban behave identically in both libraries).
    words = [i for token, i in tokenizer.get_vocab().items() if len(token) >= 3 and token.isalpha()][:12]
    steer = {"sequence_bias": {(i,): 8.0 for i in words}, "no_repeat_ngram_size": 1}
    free = ours.generate(prompt, max_new_tokens=20, **steer)
    generated = free[0, 6:].tolist()
    assert all(token in words for token in generated[:8])
    # The end of the 4th generated token and the start of the 5th: a stop string spanning two tokens.
    stop = tokenizer.decode(generated[3])[-2:] + tokenizer.decode(generated[4])[:2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = reference.generate(prompt, max_new_tokens=20, stop_strings=[stop], tokenizer=tokenizer, **steer)
    mine = ours.generate(prompt, max_new_tokens=20, stop_strings=[stop], tokenizer=our_tokenizer, **steer)
    assert torch.equal(mine, theirs)
    assert mine.shape[1] <= 6 + 5
    with pytest.raises(GenerationError, match="tokenizer"):
        ours.generate(prompt, max_new_tokens=3, stop_strings=["x"])


def test_max_time_stops_early(ours):
    out = ours.generate(_prompt(), max_new_tokens=100, max_time=1e-9, eos_token_id=None)
    assert out.shape[1] == 6 + 1  # the first token is always made, then time is up


def test_custom_processors_and_criteria(checkpoint, ours):
    _, reference, _ = checkpoint

    class BanToken:
        def __init__(self, token):
            self.token = token

        def __call__(self, input_ids, scores):
            return scores.index_fill(1, torch.tensor([self.token]), -float("inf"))

    class StopAtLength:
        def __call__(self, input_ids, scores, **kwargs):
            return torch.full((input_ids.shape[0],), input_ids.shape[1] >= 11, dtype=torch.bool)

    prompt = _prompt()
    banned = int(ours.generate(prompt, max_new_tokens=3)[0, -1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = reference.generate(
            prompt,
            max_new_tokens=12,
            logits_processor=transformers.LogitsProcessorList([BanToken(banned)]),
            stopping_criteria=transformers.StoppingCriteriaList([StopAtLength()]),
        )
    mine = ours.generate(
        prompt,
        max_new_tokens=12,
        logits_processor=LogitsProcessorList([BanToken(banned)]),
        stopping_criteria=StoppingCriteriaList([StopAtLength()]),
    )
    assert torch.equal(mine, theirs)
    assert mine.shape[1] == 11 and not (mine[:, 6:] == banned).any()


def test_cached_uncached_static_all_agree(ours):
    prompt = _prompt(batch=3, seed=9)
    scored = {"max_new_tokens": 15, "return_dict_in_generate": True, "output_scores": True}
    dynamic = ours.generate(prompt, **scored)
    for other in (
        ours.generate(prompt, use_cache=False, **scored),
        ours.generate(prompt, cache_implementation="static", **scored),
    ):
        assert torch.equal(other.sequences, dynamic.sequences)
        for a, b in zip(other.scores, dynamic.scores, strict=True):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    dynamic = dynamic.sequences
    beams = ours.generate(prompt, max_new_tokens=10, num_beams=3)
    assert torch.equal(ours.generate(prompt, max_new_tokens=10, num_beams=3, cache_implementation="static"), beams)


def test_continuing_from_a_returned_cache(ours):
    prompt = _prompt(batch=1, seed=4)
    full = ours.generate(prompt, max_new_tokens=10)
    first = ours.generate(prompt, max_new_tokens=4, return_dict_in_generate=True)
    rest = ours.generate(first.sequences, past_key_values=first.cache, max_new_tokens=6)
    assert torch.equal(rest, full)


def test_text_streamer_prints_what_decode_gives(checkpoint, ours, capsys):
    folder, _, _ = checkpoint
    tokenizer = AutoTokenizer.from_pretrained(folder)
    prompt = tokenizer(["the cat sat"], return_tensors="pt")
    out = ours.generate(**prompt, max_new_tokens=12, streamer=TextStreamer(tokenizer, skip_prompt=True))
    printed = capsys.readouterr().out
    assert printed == tokenizer.decode(out[0, prompt["input_ids"].shape[1] :]) + "\n"


def test_iterator_streamer_from_another_thread(checkpoint, ours):
    folder, _, _ = checkpoint
    tokenizer = AutoTokenizer.from_pretrained(folder)
    prompt = tokenizer(["hello world"], return_tensors="pt")
    streamer = TextIteratorStreamer(tokenizer, timeout=30)
    result = {}

    def run():
        result["ids"] = ours.generate(**prompt, max_new_tokens=12, streamer=streamer)

    worker = threading.Thread(target=run)
    worker.start()
    chunks = list(streamer)
    worker.join()
    assert "".join(chunks) == tokenizer.decode(result["ids"][0])
    with pytest.raises(GenerationError, match="beam"):
        ours.generate(**prompt, max_new_tokens=3, num_beams=2, streamer=TextIteratorStreamer(tokenizer))


def test_generation_config_json_round_trip_with_transformers(checkpoint, tmp_path):
    folder, reference, _ = checkpoint
    reference.generation_config = transformers.GenerationConfig(
        eos_token_id=[0, 5], pad_token_id=0, max_new_tokens=9, bos_token_id=0
    )
    reference.save_pretrained(tmp_path / "ref")
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "ref")
    assert model.generation_config.eos_token_id == [0, 5] and model.generation_config.max_new_tokens == 9
    assert model.generate(_prompt()).shape[1] <= 6 + 9
    model.save_pretrained(tmp_path / "ours")
    loaded = transformers.GenerationConfig.from_pretrained(tmp_path / "ours")
    assert loaded.eos_token_id == [0, 5] and loaded.max_new_tokens == 9
    reloaded = transformers.AutoModelForCausalLM.from_pretrained(tmp_path / "ours")
    assert reloaded.generation_config.eos_token_id == [0, 5]
    # Without a generation_config.json, settings come from config.json.
    plain = AutoModelForCausalLM.from_pretrained(folder)
    assert plain.generation_config.eos_token_id == 0


def test_generate_takes_a_config_object_and_overrides(ours):
    prompt = _prompt()
    config = GenerationConfig(max_new_tokens=4, num_beams=2)
    assert ours.generate(prompt, generation_config=config).shape[1] == 10
    assert ours.generate(prompt, generation_config=config, max_new_tokens=2).shape[1] == 8
    assert config.max_new_tokens == 4  # the caller's object is left untouched


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"max_length": 4}, "max_length"),
        ({"max_new_tokens": 3, "attention_maks": None, "not_an_input": 1}, "not_an_input"),
        ({"max_new_tokens": 3, "temperature": 0.0, "do_sample": True}, "temperature"),
        ({"max_new_tokens": 3, "penalty_alpha": 0.6, "top_k": 4}, "penalty_alpha"),
        ({"max_new_tokens": 3, "past_key_values": ((1, 2),)}, "Cache"),
    ],
)
def test_bad_calls_raise_generation_error(ours, kwargs, match):
    with pytest.raises(GenerationError, match=match):
        ours.generate(_prompt(), **kwargs)


@pytest.mark.parametrize("with_ids", [False, True])
@pytest.mark.parametrize("settings", [{"max_new_tokens": 6}, {"max_new_tokens": 6, "num_beams": 2}])
def test_inputs_embeds_prompt_matches_transformers(checkpoint, ours, with_ids, settings):
    _, reference, _ = checkpoint
    ids = _prompt()
    embeds = reference.transformer.wte(ids).detach()
    extra = {"input_ids": ids} if with_ids else {}
    theirs, mine = _both(reference, ours, inputs_embeds=embeds, **extra, **settings)
    assert torch.equal(mine, theirs)
