"""Property-based tests: every input gives a valid output or an autoload error, nothing else.

Covered here: config files and config fields (through ``AutoConfig`` and
``AutoModel.from_config``), preprocessor configs (through
``AutoImageProcessor`` / ``AutoFeatureExtractor``), feature-extractor inputs
and CTC-tokenizer texts.  BERT tokenizer texts and ViT image arrays of any
shape and dtype have their own properties in the plugins' test suites
(``plugins/bert/tests/test_tokenization_bert.py``,
``plugins/vit/tests/test_image_processing_vit.py``); they are not repeated.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import math
import os
import tempfile
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
np = pytest.importorskip("numpy")
torch = pytest.importorskip("torch")

from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import autoload  # noqa: E402
from autoload.errors import AutoloadError, ConfigError, ProcessingError  # noqa: E402

SETTINGS = settings(
    max_examples=int(os.environ.get("AUTOLOAD_PROPERTY_EXAMPLES", "60")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)

#: How many examples each property ran, and how they ended (for docs/reliability.md).
TALLY: dict[str, dict[str, int]] = {}


def tally(name: str, outcome: str) -> None:
    counts = TALLY.setdefault(name, {})
    counts[outcome] = counts.get(outcome, 0) + 1


@pytest.fixture(scope="module", autouse=True)
def _write_figures(tmp_path_factory):
    yield
    folder = os.environ.get("AUTOLOAD_RELIABILITY_FIGURES")
    target = Path(folder) if folder else tmp_path_factory.getbasetemp() / "reliability"
    target.mkdir(parents=True, exist_ok=True)
    (target / "properties.json").write_text(json.dumps(TALLY, indent=2, sort_keys=True) + "\n")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("properties")


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=8,
)
MODEL_TYPES = ["bert", "vit", "wav2vec2", "toy", "toy-text"]
COMMON_FIELDS = [
    "id2label",
    "label2id",
    "num_labels",
    "problem_type",
    "dtype",
    "torch_dtype",
    "architectures",
    "attn_implementation",
    "return_dict",
    "tie_word_embeddings",
    "pad_token_id",
    "auto_map",
]


def _fields(model_type: str) -> list[str]:
    config_class = autoload.registry.get_registry().config_class(model_type)
    own = [name for name in inspect.signature(config_class.__init__).parameters if name not in ("self", "kwargs")]
    return own + COMMON_FIELDS


@st.composite
def config_dicts(draw):
    model_type = draw(st.sampled_from(MODEL_TYPES))
    names = draw(st.lists(st.sampled_from(_fields(model_type)), max_size=5, unique=True))
    data = {name: draw(JSON_VALUES) for name in names}
    data["model_type"] = model_type
    return data


def _check_config(config) -> None:
    """A config that loaded must be usable: serialisable, and the same after a round trip."""
    assert isinstance(config, autoload.PretrainedConfig)
    text = config.to_json_string()
    again = type(config).from_dict(json.loads(text))
    assert again.to_json_string() == text


@SETTINGS
@given(content=st.binary(max_size=200) | JSON_VALUES.map(lambda v: json.dumps(v).encode()))
def test_any_config_file_content(workdir, content):
    with tempfile.TemporaryDirectory(dir=workdir) as folder:
        Path(folder, "config.json").write_bytes(content)
        try:
            config = autoload.AutoConfig.from_pretrained(folder)
        except AutoloadError as exc:
            tally("config file bytes", type(exc).__name__)
            return
    tally("config file bytes", "loaded")
    _check_config(config)


@SETTINGS
@given(data=config_dicts())
def test_any_config_field_values(workdir, data):
    path = workdir / f"config-{os.getpid()}.json"
    path.write_text(json.dumps(data))
    try:
        config = autoload.AutoConfig.from_pretrained(path)
    except AutoloadError as exc:
        tally("config field values", type(exc).__name__)
        return
    tally("config field values", "loaded")
    _check_config(config)


SIZES = st.integers(min_value=-3, max_value=48)


@SETTINGS
@given(
    hidden=SIZES,
    heads=st.integers(min_value=-1, max_value=6),
    layers=st.integers(min_value=-1, max_value=2),
    intermediate=SIZES,
    vocab=SIZES,
    positions=SIZES,
    act=st.sampled_from(["gelu", "relu", "tanh", "no_such_activation"]),
)
def test_bert_model_from_any_small_config(hidden, heads, layers, intermediate, vocab, positions, act):
    overrides = {
        "hidden_size": hidden,
        "num_attention_heads": heads,
        "num_hidden_layers": layers,
        "intermediate_size": intermediate,
        "vocab_size": vocab,
        "max_position_embeddings": positions,
        "hidden_act": act,
    }
    try:
        config = autoload.AutoConfig.for_model("bert", **overrides)
        model = autoload.AutoModel.from_config(config)
    except AutoloadError as exc:
        tally("bert model from config", type(exc).__name__)
        return
    tally("bert model from config", "built")
    assert isinstance(model, torch.nn.Module)


# -- preprocessor configs --------------------------------------------------------------

# Settings of a plausible magnitude plus the special values; magnitudes near float32's limits
# are the separate known gap below.
PIXEL_SCALE_FLOATS = (
    st.floats(min_value=1e-6, max_value=1e6)
    | st.floats(min_value=-1e6, max_value=-1e-6)
    | st.sampled_from([0.0, -0.0, math.nan, math.inf, -math.inf])
)

BOUNDED_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | PIXEL_SCALE_FLOATS | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=8,
)

IMAGE_SETTINGS = st.fixed_dictionaries(
    {},
    optional={
        "size": st.one_of(
            st.integers(-5, 12),
            st.fixed_dictionaries({"height": st.integers(-3, 12), "width": st.integers(-3, 12)}),
            st.fixed_dictionaries({"shortest_edge": st.integers(-3, 12)}),
            BOUNDED_JSON,
        ),
        "image_mean": st.one_of(st.lists(st.floats(-2, 2), max_size=4), PIXEL_SCALE_FLOATS, BOUNDED_JSON),
        "image_std": st.one_of(
            st.lists(st.sampled_from([0.0, -1.0, 0.5, 1e-3, 2.0, math.nan, math.inf]), max_size=4),
            PIXEL_SCALE_FLOATS,
            BOUNDED_JSON,
        ),
        "rescale_factor": st.one_of(PIXEL_SCALE_FLOATS, BOUNDED_JSON),
        "resample": st.one_of(st.integers(-2, 8), BOUNDED_JSON),
        "do_resize": st.one_of(st.booleans(), BOUNDED_JSON),
        "do_normalize": st.booleans(),
        "do_rescale": st.booleans(),
        "do_convert_rgb": st.booleans(),
    },
)


@SETTINGS
@given(settings_=IMAGE_SETTINGS)
def test_any_image_processor_config(workdir, settings_):
    with tempfile.TemporaryDirectory(dir=workdir) as folder:
        Path(folder, "config.json").write_text(json.dumps({"model_type": "vit"}))
        Path(folder, "preprocessor_config.json").write_text(
            json.dumps({"image_processor_type": "ViTImageProcessor", **settings_})
        )
        try:
            processor = autoload.AutoImageProcessor.from_pretrained(folder)
        except AutoloadError as exc:
            tally("image processor config", type(exc).__name__)
            return
    image = (np.arange(6 * 7 * 3) % 256).astype(np.uint8).reshape(6, 7, 3)
    try:
        pixels = processor(image, return_tensors="np")["pixel_values"]
    except ProcessingError as exc:
        tally("image processor config", f"loaded, call {type(exc).__name__}")
        return
    tally("image processor config", "processed")
    assert pixels.ndim == 4 and pixels.shape[:2] == (1, 3) and pixels.dtype == np.float32
    assert np.isfinite(pixels).all(), "settings that make every pixel non-finite must be refused"


AUDIO_SETTINGS = st.fixed_dictionaries(
    {},
    optional={
        "feature_size": st.one_of(st.integers(-2, 3), JSON_VALUES),
        "sampling_rate": st.one_of(st.integers(-10, 48_000), JSON_VALUES),
        "padding_value": st.one_of(st.floats(allow_nan=True), JSON_VALUES),
        "do_normalize": st.one_of(st.booleans(), JSON_VALUES),
        "return_attention_mask": st.booleans(),
        "padding_side": st.one_of(st.sampled_from(["left", "right"]), JSON_VALUES),
    },
)


@SETTINGS
@given(settings_=AUDIO_SETTINGS)
def test_any_feature_extractor_config(workdir, settings_):
    with tempfile.TemporaryDirectory(dir=workdir) as folder:
        Path(folder, "config.json").write_text(json.dumps({"model_type": "wav2vec2"}))
        Path(folder, "preprocessor_config.json").write_text(
            json.dumps({"feature_extractor_type": "Wav2Vec2FeatureExtractor", **settings_})
        )
        try:
            extractor = autoload.AutoFeatureExtractor.from_pretrained(folder)
        except AutoloadError as exc:
            tally("feature extractor config", type(exc).__name__)
            return
    try:
        values = extractor(np.zeros(400, dtype=np.float32), return_tensors="np")["input_values"]
    except ProcessingError as exc:
        tally("feature extractor config", f"loaded, call {type(exc).__name__}")
        return
    tally("feature extractor config", "processed")
    assert values.shape[0] == 1


def test_image_std_that_underflows_float32(workdir):
    folder = workdir / "tiny-std"
    folder.mkdir(exist_ok=True)
    (folder / "config.json").write_text(json.dumps({"model_type": "vit"}))
    (folder / "preprocessor_config.json").write_text(
        json.dumps({"image_processor_type": "ViTImageProcessor", "image_std": 1e-60, "size": 4})
    )
    image = np.full((6, 7, 3), 7, dtype=np.uint8)
    try:
        pixels = autoload.AutoImageProcessor.from_pretrained(folder)(image, return_tensors="np")["pixel_values"]
    except AutoloadError:
        return
    assert np.isfinite(pixels).all()


TORCH_DTYPES = st.sampled_from(
    [torch.uint8, torch.int8, torch.int32, torch.int64, torch.float16, torch.bfloat16, torch.float32, torch.bool]
)
PLAUSIBLE_IMAGES = st.tuples(
    st.integers(1, 12), st.integers(1, 12), st.sampled_from(["hwc", "chw", "nchw"]), TORCH_DTYPES
).map(lambda spec: _plausible_image(*spec))


def _plausible_image(height: int, width: int, layout: str, dtype: torch.dtype) -> torch.Tensor:
    shape = {"hwc": (height, width, 3), "chw": (3, height, width), "nchw": (2, 3, height, width)}[layout]
    values = torch.rand(shape)
    return (values * 255).to(dtype) if not dtype.is_floating_point else values.to(dtype)


IMAGES = st.one_of(
    PLAUSIBLE_IMAGES,
    PLAUSIBLE_IMAGES,
    PLAUSIBLE_IMAGES,
    st.tuples(TORCH_DTYPES, st.lists(st.integers(0, 9), min_size=0, max_size=5)).map(
        lambda spec: (torch.rand(spec[1]) * 300).to(spec[0])
    ),
    st.lists(st.lists(st.integers(-300, 300), max_size=5), max_size=5),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=5),
    BOUNDED_JSON,
)


@pytest.fixture(scope="module")
def image_processor(workdir):
    folder = workdir / "vit-processor"
    folder.mkdir(exist_ok=True)
    (folder / "config.json").write_text(json.dumps({"model_type": "vit"}))
    (folder / "preprocessor_config.json").write_text(
        json.dumps({"image_processor_type": "ViTImageProcessor", "size": {"height": 4, "width": 4}})
    )
    return autoload.AutoImageProcessor.from_pretrained(folder)


@SETTINGS
@given(images=IMAGES, return_tensors=st.sampled_from([None, "np", "pt", None, "np", "pt", "jax"]))
def test_any_torch_tensor_or_list_through_the_auto_image_processor(image_processor, images, return_tensors):
    """Torch tensors of any dtype and rank, and plain lists (the ViT plugin's own property covers numpy arrays)."""
    try:
        pixels = image_processor(images, return_tensors=return_tensors)["pixel_values"]
    except AutoloadError as exc:
        tally("image processor input", type(exc).__name__)
        return
    tally("image processor input", "processed")
    for item in list(pixels):
        item = item.float().numpy() if isinstance(item, torch.Tensor) else np.asarray(item)
        assert item.shape[-2:] == (4, 4) and item.dtype == np.float32
        if isinstance(images, torch.Tensor) and torch.isfinite(images.float()).all():
            assert np.isfinite(item).all(), "finite pixels in, finite pixel_values out"


# -- feature extractor inputs ------------------------------------------------------------

DTYPES = st.sampled_from(
    [np.float32, np.float64, np.float16, np.int16, np.int32, np.int64, np.uint8, np.bool_, np.complex64]
)
WAVES = st.one_of(
    hnp.arrays(dtype=DTYPES, shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=40)),
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), max_size=50),
    st.lists(st.lists(st.floats(-1, 1, width=32), max_size=30), max_size=4),
    st.lists(hnp.arrays(dtype=np.float32, shape=st.integers(0, 60)), max_size=4),
    JSON_VALUES,
)


@pytest.fixture(scope="module")
def extractor(workdir):
    from autoload_plugin_wav2vec2.feature_extraction import Wav2Vec2FeatureExtractor

    folder = workdir / "extractor"
    Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=True, return_attention_mask=True
    ).save_pretrained(folder)
    (folder / "config.json").write_text(json.dumps({"model_type": "wav2vec2"}))
    return autoload.AutoFeatureExtractor.from_pretrained(folder)


@SETTINGS
@given(
    wave=WAVES,
    padding=st.sampled_from([False, True, "longest", "max_length", "do_not_pad", "sideways"]),
    max_length=st.one_of(st.none(), st.integers(-2, 80)),
    truncation=st.booleans(),
    sampling_rate=st.one_of(st.none(), st.sampled_from([16000, 8000, 0])),
    return_tensors=st.sampled_from([None, "np", "pt", "tf"]),
)
def test_any_feature_extractor_input(extractor, wave, padding, max_length, truncation, sampling_rate, return_tensors):
    try:
        output = extractor(
            wave,
            padding=padding,
            max_length=max_length,
            truncation=truncation,
            sampling_rate=sampling_rate,
            return_tensors=return_tensors,
        )
    except AutoloadError as exc:
        tally("feature extractor input", type(exc).__name__)
        return
    tally("feature extractor input", "processed")
    values = output["input_values"]
    rows = list(values)
    # an empty batch in gives an empty batch out (an empty list, though, is refused: see the report)
    assert rows or (isinstance(wave, np.ndarray) and wave.ndim == 2 and wave.shape[0] == 0)
    for row in rows:
        row = row.numpy() if isinstance(row, torch.Tensor) else np.asarray(row)
        assert row.ndim == 1 and row.dtype == np.float32


def test_empty_batch_with_padding(extractor):
    with contextlib.suppress(AutoloadError):
        extractor(np.zeros((0, 0), dtype=np.float32), padding=True, sampling_rate=16000)


def test_max_length_shorter_than_a_row_without_truncation(extractor):
    rows = [np.zeros(0, dtype=np.float32), np.ones(3, dtype=np.float32)]
    with contextlib.suppress(AutoloadError):
        extractor(rows, padding="max_length", max_length=1, sampling_rate=16000)


# -- CTC tokenizer texts -------------------------------------------------------------------

TEXTS = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=200),
    st.sampled_from(["", " ", "\x00", "|||", "HELLO THE", "\ud7ff" * 3]),
    st.integers(0, 200_000).map(lambda n: "HELLO " * n),
)


@pytest.fixture(scope="module")
def ctc_tokenizer(workdir):
    from autoload_plugin_wav2vec2.tokenization import Wav2Vec2CTCTokenizer

    folder = workdir / "ctc"
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4, "E": 5, "T": 6, "H": 7, "L": 8, "O": 9}
    (workdir / "ctc-vocab.json").write_text(json.dumps(vocab))
    Wav2Vec2CTCTokenizer(vocab_file=str(workdir / "ctc-vocab.json")).save_pretrained(folder)
    return autoload.AutoTokenizer.from_pretrained(folder)


@SETTINGS
@given(text=TEXTS, ids=st.lists(st.integers(-5, 20), max_size=30))
def test_any_text_through_the_ctc_tokenizer(ctc_tokenizer, text, ids):
    try:
        encoded = ctc_tokenizer(text)["input_ids"]
    except AutoloadError as exc:
        tally("ctc tokenizer text", type(exc).__name__)
    else:
        tally("ctc tokenizer text", "encoded")
        assert all(isinstance(i, int) and 0 <= i < len(ctc_tokenizer) for i in encoded)
        assert isinstance(ctc_tokenizer.decode(encoded), str)
    try:
        decoded = ctc_tokenizer.decode(ids)
    except AutoloadError as exc:
        tally("ctc tokenizer ids", type(exc).__name__)
    else:
        tally("ctc tokenizer ids", "decoded")
        assert isinstance(decoded, str)


def test_huge_and_empty_inputs_explicitly(ctc_tokenizer, extractor):
    """The extremes the strategies reach only by luck."""
    assert ctc_tokenizer("")["input_ids"] == []
    assert len(ctc_tokenizer("HELLO " * 200_000)["input_ids"]) > 200_000
    with pytest.raises(ProcessingError):
        extractor([])
    assert extractor(np.zeros(16000 * 30, dtype=np.float32))["input_values"][0].shape == (16000 * 30,)
    assert math.isfinite(float(extractor(np.zeros(10, dtype=np.float32))["input_values"][0][0]))
    assume(True)


def test_config_error_is_a_value_error():
    """Callers catching transformers' exception types keep working."""
    assert issubclass(ConfigError, ValueError) and issubclass(ProcessingError, ValueError)
