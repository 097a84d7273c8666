"""The host's Linear layer: oneDNN for float32 CPU inference with few rows, F.linear for everything else.

The oneDNN path is checked three ways: its products against a float64 oracle,
the rules that decide when it is taken (with a spy standing in for the op), and
whole models generating with it forced on against transformers.  The suite's
tiny models have weights far below the size threshold, so the model tests
lower the threshold to route every projection through oneDNN.
"""

from __future__ import annotations

import warnings

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import torch.nn.functional as F  # noqa: E402

from autoload.modeling.layers import Linear, linear  # noqa: E402
from autoload.modeling.layers import projections as linear_module  # noqa: E402

needs_onednn = pytest.mark.skipif(linear_module.onednn_linear() is None, reason="this torch build has no oneDNN")


class Spy:
    """Stands in for the oneDNN op: counts calls and forwards them."""

    def __init__(self) -> None:
        self.calls = 0
        self.op = linear_module.onednn_linear()

    def __call__(self, *args):
        self.calls += 1
        return self.op(*args)


@pytest.fixture
def spy(monkeypatch):
    spy = Spy()
    monkeypatch.setattr(linear_module, "onednn_linear", lambda: spy)
    return spy


@pytest.fixture
def every_weight(monkeypatch):
    """Route any weight size (the suite's models are tiny), up to 64 rows."""
    monkeypatch.setattr(linear_module, "ONEDNN_MIN_WEIGHT", 0)


def _oracle(x, weight, bias):
    return F.linear(x.double(), weight.double(), None if bias is None else bias.double()).float()


@needs_onednn
@pytest.mark.parametrize("column_major", [False, True])
@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("input_shape", [(1, 1, 96), (4, 96), (2, 32, 96), (96,), (0, 96)])
def test_onednn_products_match_float64(spy, every_weight, column_major, with_bias, input_shape):
    generator = torch.Generator().manual_seed(0)
    weight = torch.randn(80, 96, generator=generator) * 0.1
    if column_major:
        weight = weight.t().contiguous().t()
    bias = torch.randn(80, generator=generator) if with_bias else None
    x = torch.randn(input_shape, generator=generator)
    with torch.inference_mode():
        got = linear(x, weight, bias)
    assert spy.calls == 1
    assert got.shape == (*input_shape[:-1], 80)
    torch.testing.assert_close(got, _oracle(x, weight, bias), atol=1e-5, rtol=1e-5)


@needs_onednn
def test_non_contiguous_input(spy, every_weight):
    generator = torch.Generator().manual_seed(1)
    weight, bias = torch.randn(40, 24, generator=generator), torch.randn(40, generator=generator)
    x = torch.randn(24, 3, 2, generator=generator).permute(2, 1, 0)  # (2, 3, 24), strided
    with torch.no_grad():
        got = linear(x, weight, bias)
    assert spy.calls == 1
    torch.testing.assert_close(got, _oracle(x, weight, bias), atol=1e-5, rtol=1e-5)


@needs_onednn
def test_default_thresholds_route_a_decoding_product(spy):
    """A 4 MiB weight times one row goes to oneDNN without lowering the threshold; 65 rows stay on MKL."""
    weight = torch.randn(2048, 512) * 0.05
    with torch.no_grad():
        got = linear(torch.ones(1, 1, 512), weight)
        assert spy.calls == 1
        linear(torch.ones(1, 65, 512), weight)
        linear(torch.ones(1, 256), weight[:, :256].contiguous())  # 0.5 M elements: below the threshold
    assert spy.calls == 1
    torch.testing.assert_close(got, _oracle(torch.ones(1, 1, 512), weight, None), atol=1e-5, rtol=1e-5)


class _Subclass(torch.Tensor):
    pass


@needs_onednn
@pytest.mark.parametrize(
    "case",
    ["bfloat16", "grad needed", "strided weight", "tensor subclass", "meta device", "too many rows"],
)
def test_products_that_stay_on_f_linear(spy, every_weight, monkeypatch, case):
    monkeypatch.setattr(linear_module, "ONEDNN_MAX_ROWS", 4)
    x, weight, bias = torch.randn(2, 16), torch.randn(8, 16), torch.randn(8)
    if case == "bfloat16":
        x, weight, bias = x.bfloat16(), weight.bfloat16(), bias.bfloat16()
    elif case == "grad needed":
        weight.requires_grad_(True)
    elif case == "strided weight":
        weight = torch.randn(16, 16)[::2]
    elif case == "tensor subclass":
        x = x.as_subclass(_Subclass)
    elif case == "meta device":
        x, weight, bias = x.to("meta"), weight.to("meta"), bias.to("meta")
    elif case == "too many rows":
        x = torch.randn(5, 16)
    got = linear(x, weight, bias)
    assert spy.calls == 0
    if case != "meta device":
        assert torch.equal(got.as_subclass(torch.Tensor), F.linear(x, weight, bias).as_subclass(torch.Tensor))


@needs_onednn
def test_training_keeps_autograd_and_inference_uses_onednn(spy, every_weight):
    layer = Linear(16, 8)
    x = torch.randn(3, 16, requires_grad=True)
    layer(x).sum().backward()  # grad mode with parameters that need grads: F.linear, which autograd tracks
    assert spy.calls == 0
    assert x.grad is not None and layer.weight.grad is not None
    with torch.no_grad():
        torch.testing.assert_close(layer(x), _oracle(x, layer.weight, layer.bias), atol=1e-5, rtol=1e-5)
    assert spy.calls == 1


@needs_onednn
def test_a_traced_module_records_the_standard_op(spy, every_weight):
    layer = Linear(16, 8).eval()
    with torch.no_grad():
        traced = torch.jit.trace(layer, torch.randn(1, 16), check_trace=False)
        assert spy.calls == 0
        assert "aten::linear" in str(traced.graph)
        x = torch.randn(3, 16)
        torch.testing.assert_close(traced(x), layer(x))


def test_wrong_input_width_keeps_torch_error(every_weight):
    with torch.no_grad(), pytest.raises(RuntimeError, match="cannot be multiplied"):
        linear(torch.randn(2, 15), torch.randn(8, 16))


def test_environment_switch_and_missing_op_leave_f_linear(monkeypatch):
    try:
        linear_module.onednn_linear.cache_clear()
        monkeypatch.setenv("AUTOLOAD_ONEDNN_LINEAR", "0")
        assert linear_module.onednn_linear() is None
        linear_module.onednn_linear.cache_clear()
        monkeypatch.delenv("AUTOLOAD_ONEDNN_LINEAR")
        monkeypatch.setattr(torch.backends.mkldnn, "is_available", lambda: False)
        assert linear_module.onednn_linear() is None
        linear_module.onednn_linear.cache_clear()
        monkeypatch.undo()
        monkeypatch.setattr(torch.ops, "mkldnn", object())  # a torch whose oneDNN namespace lacks the op
        assert linear_module.onednn_linear() is None
        monkeypatch.undo()
        monkeypatch.setattr(linear_module, "ONEDNN_MIN_WEIGHT", 0)
        monkeypatch.setattr(linear_module, "onednn_linear", lambda: None)
        x, weight = torch.randn(2, 16), torch.randn(8, 16)
        with torch.no_grad():
            assert torch.equal(linear(x, weight), F.linear(x, weight))
    finally:
        monkeypatch.undo()
        linear_module.onednn_linear.cache_clear()


def test_linear_is_an_nn_linear_with_the_same_keys():
    layer = Linear(4, 3, bias=False)
    assert isinstance(layer, torch.nn.Linear)
    assert list(layer.state_dict()) == ["weight"]


# --- whole models with every projection on oneDNN, against transformers ---------------------------------------


def _pair(reference_class, config, auto_class, folder):
    """A random transformers model and the same checkpoint loaded by autoload."""
    torch.manual_seed(0)
    reference = reference_class(config).eval()
    reference.save_pretrained(folder)
    return reference, auto_class.from_pretrained(folder)


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


@needs_onednn
def test_gpt2_generates_the_same_ids(spy, every_weight, tmp_path):
    pytest.importorskip("autoload_plugin_gpt2")
    from autoload import AutoModelForCausalLM

    config = transformers.GPT2Config(n_embd=32, n_layer=2, n_head=4, vocab_size=99, n_positions=64)
    reference, ours = _pair(transformers.GPT2LMHeadModel, config, AutoModelForCausalLM, tmp_path)
    ids = torch.randint(0, 99, (2, 5), generator=torch.Generator().manual_seed(1))
    settings = {"max_new_tokens": 8, "do_sample": False, "pad_token_id": 0}
    assert torch.equal(ours.generate(input_ids=ids, **settings), _quiet(reference.generate, input_ids=ids, **settings))
    assert spy.calls > 0


@needs_onednn
def test_t5_beam_search_ids_and_scores(spy, every_weight, tmp_path):
    pytest.importorskip("autoload_plugin_t5")
    from autoload import AutoModelForSeq2SeqLM

    config = transformers.T5Config(
        vocab_size=99, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4, decoder_start_token_id=0
    )
    reference, ours = _pair(transformers.T5ForConditionalGeneration, config, AutoModelForSeq2SeqLM, tmp_path)
    ids = torch.randint(2, 99, (2, 7), generator=torch.Generator().manual_seed(3))
    settings = {"max_new_tokens": 6, "num_beams": 3, "return_dict_in_generate": True, "output_scores": True}
    theirs = _quiet(reference.generate, input_ids=ids, **settings)
    mine = ours.generate(input_ids=ids, **settings)
    assert torch.equal(mine.sequences, theirs.sequences)
    for a, b in zip(mine.scores, theirs.scores, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    assert spy.calls > 0


@needs_onednn
def test_whisper_generates_the_same_ids(spy, every_weight, tmp_path):
    pytest.importorskip("autoload_plugin_whisper")
    from autoload import AutoModelForSpeechSeq2Seq

    config = transformers.WhisperConfig(
        vocab_size=120,
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        num_mel_bins=8,
        max_source_positions=30,
        max_target_positions=40,
        decoder_start_token_id=1,
        eos_token_id=2,
        pad_token_id=0,
        bos_token_id=1,
        suppress_tokens=None,
        begin_suppress_tokens=None,
    )
    reference, ours = _pair(transformers.WhisperForConditionalGeneration, config, AutoModelForSpeechSeq2Seq, tmp_path)
    features = torch.randn(2, 8, 60, generator=torch.Generator().manual_seed(2))
    settings = {"max_new_tokens": 8, "min_new_tokens": 8, "do_sample": False}
    theirs = _quiet(reference.generate, input_features=features, **settings)
    assert torch.equal(ours.generate(input_features=features, **settings), theirs)
    assert spy.calls > 0


@needs_onednn
def test_llama_logits_and_resized_head(spy, every_weight, tmp_path):
    pytest.importorskip("autoload_plugin_llama")
    from autoload import AutoModelForCausalLM

    config = transformers.LlamaConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=99,
        tie_word_embeddings=False,
    )
    reference, ours = _pair(transformers.LlamaForCausalLM, config, AutoModelForCausalLM, tmp_path)
    ids = torch.randint(0, 99, (1, 6), generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        torch.testing.assert_close(ours(ids).logits, reference(ids).logits, atol=1e-5, rtol=1e-5)
    assert spy.calls > 0
    ours.resize_token_embeddings(104)
    assert type(ours.get_output_embeddings()) is Linear  # a resized head keeps the host layer
