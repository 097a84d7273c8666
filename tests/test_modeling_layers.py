"""autoload.modeling.layers against transformers (the oracle): masks, attention, rotary, norms, activations, losses."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from transformers import activations as hf_activations  # noqa: E402
from transformers import masking_utils  # noqa: E402
from transformers.integrations.sdpa_attention import sdpa_attention_forward  # noqa: E402
from transformers.loss import loss_utils  # noqa: E402
from transformers.models.llama import modeling_llama  # noqa: E402
from transformers.models.t5.modeling_t5 import T5LayerNorm  # noqa: E402

from autoload.errors import ConfigError, ProcessingError  # noqa: E402
from autoload.modeling import layers  # noqa: E402

# Left padding in row 0, none in row 1: the case a batched decoder meets.
PADDING = torch.tensor([[0, 0, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1]])


def _hf_causal(impl, q_offset, q_length, kv_length, attention_mask, window=None):
    function = masking_utils.causal_mask_function
    extra = {}
    if window is not None:
        function = masking_utils.sliding_window_causal_mask_function(window)
        if impl == "sdpa":
            extra["local_size"] = window
    builder = masking_utils.sdpa_mask if impl == "sdpa" else masking_utils.eager_mask
    mask = None if attention_mask is None else attention_mask.bool()
    return builder(
        batch_size=2,
        q_length=q_length,
        kv_length=kv_length,
        q_offset=q_offset,
        kv_offset=0,
        mask_function=function,
        attention_mask=mask,
        **extra,
    )


@pytest.mark.parametrize("impl", ["sdpa", "eager"])
@pytest.mark.parametrize("window", [None, 3])
@pytest.mark.parametrize(("q_offset", "q_length"), [(0, 8), (7, 1), (4, 4), (0, 1)])
@pytest.mark.parametrize("padded", [True, False])
def test_causal_mask_equals_masking_utils(impl, window, q_offset, q_length, padded):
    seen = q_offset + q_length
    attention_mask = PADDING[:, :seen] if padded else None
    want = _hf_causal(impl, q_offset, q_length, seen, attention_mask, window)
    got = layers.causal_mask(
        impl,
        batch_size=2,
        query_length=q_length,
        query_offset=torch.arange(q_offset, seen),
        attention_mask=attention_mask,
        sliding_window=window,
    )
    assert (got is None) == (want is None)
    if want is not None:
        assert torch.equal(got, want)


def test_causal_mask_pads_a_short_mask_for_a_static_cache():
    # A static cache reports more key slots than tokens so far: the free ones are in the future.
    want = _hf_causal("eager", 2, 2, 10, PADDING[:, :4])
    got = layers.causal_mask(
        "eager", batch_size=2, query_length=2, kv_length=10, query_offset=2, attention_mask=PADDING[:, :4]
    )
    assert torch.equal(got, want)


@pytest.mark.parametrize("impl", ["sdpa", "eager"])
def test_bidirectional_and_cross_masks(impl):
    assert layers.bidirectional_mask(impl, batch_size=2, query_length=8, kv_length=8, attention_mask=None) is None
    ones = torch.ones(2, 8, dtype=torch.long)
    assert layers.bidirectional_mask(impl, batch_size=2, query_length=8, kv_length=8, attention_mask=ones) is None
    builder = masking_utils.sdpa_mask if impl == "sdpa" else masking_utils.eager_mask
    want = builder(
        batch_size=2,
        q_length=3,
        kv_length=8,
        mask_function=masking_utils.bidirectional_mask_function,
        attention_mask=PADDING.bool(),
        allow_is_causal_skip=False,
    )
    got = layers.bidirectional_mask(impl, batch_size=2, query_length=3, kv_length=8, attention_mask=PADDING)
    assert torch.equal(got, want)
    with pytest.raises(ProcessingError, match="encoder_attention_mask covers 8 positions"):
        layers.bidirectional_mask(
            impl, batch_size=2, query_length=3, kv_length=5, attention_mask=PADDING, what="encoder_attention_mask"
        )


class _Module(torch.nn.Module):
    def __init__(self, groups):
        super().__init__()
        self.num_key_value_groups = groups
        self.is_causal = True


@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize(("q_offset", "q_length"), [(0, 8), (6, 2), (7, 1)])
def test_attention_equals_transformers_on_left_padded_batches(groups, q_offset, q_length):
    generator = torch.Generator().manual_seed(0)
    seen = q_offset + q_length
    query = torch.randn(2, 4, q_length, 8, generator=generator)
    key = torch.randn(2, 4 // groups, seen, 8, generator=generator)
    value = torch.randn(2, 4 // groups, seen, 8, generator=generator)
    module = _Module(groups).eval()
    for impl in ("sdpa", "eager"):
        mask = layers.causal_mask(
            impl, batch_size=2, query_length=q_length, query_offset=q_offset, attention_mask=PADDING[:, :seen]
        )
        if impl == "sdpa":
            want, _ = sdpa_attention_forward(module, query, key, value, mask, scaling=8**-0.5)
        else:
            want, _ = modeling_llama.eager_attention_forward(module, query, key, value, mask, scaling=8**-0.5)
        got, probs = layers.attention(
            query, key, value, mask, implementation=impl, scaling=8**-0.5, is_causal=True, num_key_value_groups=groups
        )
        assert not torch.isnan(got).any()
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
        assert (probs is None) == (impl == "sdpa")
    # The real tokens agree between the two implementations (padding rows differ by design, as in transformers).
    sdpa, _ = layers.attention(
        query,
        key,
        value,
        layers.causal_mask(
            "sdpa", batch_size=2, query_length=q_length, query_offset=q_offset, attention_mask=PADDING[:, :seen]
        ),
        is_causal=True,
        num_key_value_groups=groups,
    )
    eager, _ = layers.attention(
        query,
        key,
        value,
        layers.causal_mask(
            "eager", batch_size=2, query_length=q_length, query_offset=q_offset, attention_mask=PADDING[:, :seen]
        ),
        implementation="eager",
        is_causal=True,
        num_key_value_groups=groups,
    )
    real = PADDING[:, q_offset:seen].bool()
    torch.testing.assert_close(sdpa[real], eager[real], atol=1e-5, rtol=1e-5)


def test_attention_with_position_bias_matches_between_implementations():
    generator = torch.Generator().manual_seed(1)
    query, key, value = (torch.randn(2, 2, 5, 4, generator=generator) for _ in range(3))
    bias = torch.randn(1, 2, 5, 5, generator=generator)
    for mask_kind in ("none", "padding"):
        masks = {}
        for impl in ("sdpa", "eager"):
            masks[impl] = (
                None
                if mask_kind == "none"
                else layers.bidirectional_mask(
                    impl, batch_size=2, query_length=5, kv_length=5, attention_mask=PADDING[:, 3:]
                )
            )
        sdpa, _ = layers.attention(query, key, value, masks["sdpa"], scaling=1.0, position_bias=bias)
        eager, _ = layers.attention(
            query, key, value, masks["eager"], implementation="eager", scaling=1.0, position_bias=bias
        )
        torch.testing.assert_close(sdpa, eager, atol=1e-5, rtol=1e-5)


def test_repeat_kv_equals_transformers():
    states = torch.randn(2, 3, 4, 5)
    assert torch.equal(layers.repeat_kv(states, 3), modeling_llama.repeat_kv(states, 3))


ROPE_CASES = [
    {"rope_type": "default"},
    {"rope_type": "linear", "factor": 2.0},
    {"rope_type": "dynamic", "factor": 2.0},
    {
        "rope_type": "llama3",
        "factor": 8.0,
        "low_freq_factor": 1.0,
        "high_freq_factor": 4.0,
        "original_max_position_embeddings": 16,
    },
    {"rope_type": "yarn", "factor": 2.0, "original_max_position_embeddings": 16},
    {
        "rope_type": "yarn",
        "factor": 2.0,
        "original_max_position_embeddings": 16,
        "mscale": 1.0,
        "mscale_all_dim": 0.5,
        "beta_fast": 16,
    },
]


@pytest.mark.parametrize("rope", ROPE_CASES, ids=lambda case: case["rope_type"])
def test_rotary_equals_transformers_including_dynamic_growth(rope):
    config = transformers.LlamaConfig(
        hidden_size=64, num_attention_heads=4, max_position_embeddings=32, rope_parameters={**rope, "rope_theta": 500.0}
    )
    theirs, ours = modeling_llama.LlamaRotaryEmbedding(config), layers.RotaryEmbedding(config)
    x = torch.randn(1, 4, 16)
    for length in (8, 40, 70, 8):  # grow past max_position_embeddings, grow again, shrink back
        positions = torch.arange(length)[None]
        (cos_a, sin_a), (cos_b, sin_b) = theirs(x, positions), ours(x, positions)
        assert torch.equal(cos_a, cos_b) and torch.equal(sin_a, sin_b), length
        assert torch.equal(theirs.inv_freq, ours.inv_freq)
    q, k = torch.randn(1, 4, 8, 16), torch.randn(1, 4, 8, 16)
    cos, sin = ours(x, torch.arange(8)[None])
    for a, b in zip(layers.apply_rotary_pos_emb(q, k, cos, sin), modeling_llama.apply_rotary_pos_emb(q, k, cos, sin)):
        assert torch.equal(a, b)


def test_rotary_reads_legacy_rope_scaling_and_refuses_unknown_types():
    legacy = transformers.PretrainedConfig(
        hidden_size=32,
        num_attention_heads=2,
        max_position_embeddings=16,
        rope_theta=1000.0,
        rope_scaling={"type": "linear", "factor": 4.0},
    )
    parameters = layers.rope_parameters_from_config(legacy)
    assert parameters["rope_type"] == "linear" and parameters["rope_theta"] == 1000.0
    with pytest.raises(ConfigError, match="rope_type"):
        layers.RotaryEmbedding(head_dim=8, max_position_embeddings=8, rope_parameters={"rope_type": "nope"}).forward(
            torch.randn(1, 1, 8), torch.arange(2)[None]
        )


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_rms_norms_equal_transformers(dtype):
    x = (torch.randn(2, 3, 16) * 5).to(dtype)
    theirs, ours = modeling_llama.LlamaRMSNorm(16, eps=1e-6), layers.RMSNorm(16, eps=1e-6)
    with torch.no_grad():
        theirs.weight.normal_()
        ours.weight.copy_(theirs.weight)
    assert torch.equal(theirs.to(dtype)(x), ours.to(dtype)(x))
    t5_theirs, t5_ours = T5LayerNorm(16), layers.T5RMSNorm(16)
    with torch.no_grad():
        t5_theirs.weight.normal_()
        t5_ours.weight.copy_(t5_theirs.weight)
    assert torch.equal(t5_theirs.to(dtype)(x), t5_ours.to(dtype)(x))


@pytest.mark.parametrize("name", sorted(set(layers.ACT2FN) - {"selu", "elu"}))
def test_activations_equal_transformers(name):
    x = torch.linspace(-12, 12, 401)
    assert torch.equal(layers.get_activation(name)(x), hf_activations.ACT2FN[name](x))


def test_unknown_activation_names_its_setting():
    with pytest.raises(ConfigError, match=r"MyConfig.hidden_act='nope'"):
        layers.get_activation("nope", owner="MyConfig.hidden_act")


def test_causal_lm_loss_equals_transformers():
    generator = torch.Generator().manual_seed(2)
    logits = torch.randn(2, 6, 11, generator=generator)
    labels = torch.randint(0, 11, (2, 6), generator=generator)
    labels[0, :2] = -100
    for items in (None, 7, torch.tensor(9)):
        want = loss_utils.ForCausalLMLoss(logits, labels, 11, num_items_in_batch=items)
        got = layers.causal_lm_loss(logits, labels, 11, num_items_in_batch=items)
        torch.testing.assert_close(got, want)


@pytest.mark.parametrize(
    ("num_labels", "problem_type", "labels"),
    [
        (1, None, torch.randn(4)),
        (3, None, torch.tensor([0, 2, 1, 1])),
        (3, None, torch.randint(0, 2, (4, 3)).float()),
        (3, "regression", torch.randn(4, 3)),
        (3, "single_label_classification", torch.tensor([0, 2, -100, 1])),
    ],
)
def test_sequence_classification_loss_equals_transformers(num_labels, problem_type, labels):
    logits = torch.randn(4, num_labels)
    theirs = transformers.PretrainedConfig(num_labels=num_labels, problem_type=problem_type)
    ours = transformers.PretrainedConfig(num_labels=num_labels, problem_type=problem_type)
    want = loss_utils.ForSequenceClassificationLoss(labels, logits, theirs)
    torch.testing.assert_close(layers.sequence_classification_loss(logits, labels, ours), want)
    assert ours.problem_type == theirs.problem_type
    untouched = transformers.PretrainedConfig(num_labels=num_labels, problem_type=problem_type)
    layers.sequence_classification_loss(logits, labels, untouched, record_problem_type=False)
    assert untouched.problem_type == problem_type


def test_token_and_span_losses_equal_transformers():
    logits = torch.randn(2, 5, 3)
    labels = torch.tensor([[0, 1, -100, 2, 1], [2, -100, -100, 0, 0]])
    want = loss_utils.ForTokenClassification(logits, labels, transformers.PretrainedConfig(num_labels=3))
    torch.testing.assert_close(layers.token_classification_loss(logits, labels, 3), want)
    start, end = torch.randn(2, 5), torch.randn(2, 5)
    starts, ends = torch.tensor([1, 9]), torch.tensor([[3], [2]])
    want = loss_utils.ForQuestionAnsweringLoss(start, end, starts, ends)
    torch.testing.assert_close(layers.span_loss(start, end, starts, ends), want)


def test_shift_tokens_right_equals_transformers():
    from transformers.models.bart.modeling_bart import shift_tokens_right

    labels = torch.tensor([[5, 6, -100, -100], [7, 8, 9, 2]])
    assert torch.equal(layers.shift_tokens_right(labels, 1, 0), shift_tokens_right(labels, 1, 0))
    with pytest.raises(ConfigError, match="decoder_start_token_id"):
        layers.shift_tokens_right(labels, 1, None)


def test_run_layer_checkpoints_only_when_asked_and_training():
    calls = []

    def layer(x, scale):
        calls.append(torch.is_grad_enabled())
        return torch.sin(x) * scale  # sin keeps its input for backward, so checkpointing must recompute it

    owner = torch.nn.Module()
    owner.gradient_checkpointing = True
    x = torch.randn(3, requires_grad=True)
    out = layers.run_layer(owner, layer, x, 2.0)
    out.sum().backward()
    assert len(calls) == 2  # forward, then the recomputation in backward
    torch.testing.assert_close(x.grad, 2.0 * torch.cos(x.detach()))
    owner.eval()
    calls.clear()
    layers.run_layer(owner, layer, x, 2.0).sum().backward()
    assert len(calls) == 1


def test_dropout_is_the_input_itself_where_it_does_nothing():
    hidden = torch.randn(4, 64)
    assert layers.dropout(hidden, 0.5, training=False) is hidden
    assert layers.dropout(hidden, 0.0, training=True) is hidden
    torch.manual_seed(3)
    dropped = layers.dropout(hidden, 0.5, training=True)
    torch.manual_seed(3)
    assert torch.equal(dropped, torch.nn.functional.dropout(hidden, p=0.5, training=True))
    assert (dropped == 0).any()
