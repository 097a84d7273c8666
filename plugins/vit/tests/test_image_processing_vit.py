"""ViTImageProcessor against transformers' PIL backend, and its saved files in both directions."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from autoload.errors import ConfigError, ProcessingError
from autoload.processing import ProcessorMixin
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from autoload_plugin_vit.image_processing import ViTImageProcessor

transformers = pytest.importorskip("transformers")
ATOL = 1e-5


def _theirs(**settings):
    # the PIL backend; the default ViTImageProcessor needs torchvision
    return transformers.ViTImageProcessorPil(**settings)


def _rng(seed=0):
    return np.random.default_rng(seed)


def _uint8(shape, seed=0):
    return _rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


def _assert_same(ours_out, theirs_out):
    a, b = ours_out["pixel_values"], theirs_out["pixel_values"]
    if isinstance(b, list):
        assert isinstance(a, list) and len(a) == len(b)
        for x, y in zip(a, b):
            assert x.shape == y.shape
            np.testing.assert_allclose(x, y, atol=ATOL, rtol=0)
        return
    a = a.numpy() if isinstance(a, torch.Tensor) else a
    b = b.numpy() if isinstance(b, torch.Tensor) else b
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b.astype(np.float32), atol=ATOL, rtol=0)


def _both(images, call=None, **settings):
    call = {"return_tensors": "np", **(call or {})}
    ours = ViTImageProcessor(**settings)(images, **call)
    theirs = _theirs(**settings)(images, **call)
    return ours, theirs


# -- a varied set of single images ---------------------------------------------------------------------

RGBA = _uint8((21, 17, 4), seed=5)
SINGLE_IMAGES = {
    "uint8-hwc-small": _uint8((10, 12, 3)),
    "uint8-hwc-large": _uint8((50, 70, 3), seed=1),
    "uint8-hwc-odd-aspect": _uint8((7, 90, 3), seed=2),
    "uint8-chw": _uint8((3, 40, 30), seed=3),
    "float32-hwc-unit": _rng(4).random((33, 29, 3)).astype(np.float32),
    "float64-chw-unit": _rng(5).random((3, 20, 45)),
    "float32-whole-numbers": _uint8((18, 26, 3), seed=6).astype(np.float32),
    "int64-hwc": _uint8((19, 23, 3), seed=7).astype(np.int64),
    "pil-rgb": Image.fromarray(_uint8((25, 31, 3), seed=8)),
    "pil-rgb-exact-size": Image.fromarray(_uint8((32, 32, 3), seed=9)),
    "torch-chw-uint8": torch.from_numpy(_uint8((3, 15, 40), seed=10)),
    "torch-hwc-float": torch.from_numpy(_rng(11).random((44, 36, 3)).astype(np.float32)),
    "torch-chw-float16": torch.from_numpy(_rng(12).random((3, 27, 27)).astype(np.float16)),
}


@pytest.mark.parametrize("name", sorted(SINGLE_IMAGES))
def test_single_images_match(name):
    ours, theirs = _both(SINGLE_IMAGES[name], size={"height": 32, "width": 32})
    _assert_same(ours, theirs)
    assert ours["pixel_values"].dtype == np.float32
    assert ours["pixel_values"].shape == (1, 3, 32, 32)


CONVERTED = {
    "pil-grayscale": Image.fromarray(_uint8((30, 22), seed=13)),
    "pil-rgba": Image.fromarray(RGBA, mode="RGBA"),
    "pil-la": Image.fromarray(_uint8((14, 19, 2), seed=14), mode="LA"),
    "pil-palette": Image.fromarray(_uint8((16, 16, 3), seed=15)).convert("P"),
    "numpy-rgba-uint8": RGBA,
    "numpy-rgba-float": _rng(16).random((23, 27, 4)).astype(np.float32),
    "numpy-gray-hw1": _uint8((26, 18, 1), seed=17),
    "numpy-gray-1hw": _uint8((1, 26, 18), seed=18),
    "numpy-rgb": _uint8((26, 18, 3), seed=19),
}


@pytest.mark.parametrize("name", sorted(CONVERTED))
def test_rgb_conversion_matches(name):
    ours, theirs = _both(CONVERTED[name], size=24, do_convert_rgb=True)
    _assert_same(ours, theirs)
    assert ours["pixel_values"].shape == (1, 3, 24, 24)


def test_grayscale_without_conversion():
    gray = Image.fromarray(_uint8((30, 22), seed=20))
    # one channel needs one mean and std, as in transformers
    ours, theirs = _both(gray, size=16, image_mean=[0.4], image_std=[0.2])
    _assert_same(ours, theirs)
    assert ours["pixel_values"].shape == (1, 1, 16, 16)
    with pytest.raises(ValueError):
        _theirs(size=16)(gray, return_tensors="np")
    with pytest.raises(ProcessingError, match="do_convert_rgb=True"):
        ViTImageProcessor(size=16)(gray, return_tensors="np")
    # a 2-D array is read as a grayscale image (transformers refuses these)
    from_array = ViTImageProcessor(size=16, image_mean=[0.4], image_std=[0.2])(np.array(gray), return_tensors="np")
    np.testing.assert_array_equal(from_array["pixel_values"], ours["pixel_values"])


SETTINGS = {
    "rectangular": {"size": {"height": 24, "width": 40}},
    "int-size": {"size": 20},
    "pair-size": {"size": (12, 28)},
    "mean-std": {"size": 16, "image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225]},
    "scalar-mean-std": {"size": 16, "image_mean": 0.3, "image_std": 0.7},
    "no-normalize": {"size": 16, "do_normalize": False},
    "no-rescale": {"size": 16, "do_rescale": False},
    "rescale-factor": {"size": 16, "rescale_factor": 1 / 127.5},
    "nothing": {"size": 16, "do_rescale": False, "do_normalize": False},
    **{f"resample-{r}": {"size": {"height": 19, "width": 13}, "resample": r} for r in range(6)},
}


@pytest.mark.parametrize("name", sorted(SETTINGS))
@pytest.mark.parametrize("image", ["uint8-hwc-large", "float32-hwc-unit", "pil-rgb"])
def test_settings_match(name, image):
    ours, theirs = _both(SINGLE_IMAGES[image], **SETTINGS[name])
    _assert_same(ours, theirs)


def test_call_overrides_match():
    image = SINGLE_IMAGES["uint8-hwc-small"]
    call = {"size": {"height": 9, "width": 14}, "resample": 3, "image_mean": [0.1, 0.2, 0.3], "do_rescale": True}
    ours = ViTImageProcessor()(image, return_tensors="np", **call)
    theirs = _theirs()(image, return_tensors="np", **call)
    _assert_same(ours, theirs)
    # the override was for that call only
    assert ViTImageProcessor().size == {"height": 224, "width": 224}


def test_without_resizing():
    images = [_uint8((20, 20, 3), seed=s) for s in range(3)]
    ours, theirs = _both(images, do_resize=False)
    _assert_same(ours, theirs)
    assert ours["pixel_values"].shape == (3, 3, 20, 20)
    floats = np.stack(images).astype(np.float64) / 255
    _assert_same(*_both(floats, do_resize=False, image_mean=[0.2, 0.3, 0.4]))


def test_shortest_edge_keeps_aspect_ratio():
    images = [_uint8((30, 50, 3)), _uint8((40, 20, 3), seed=1)]
    ours, theirs = _both(images, call={"return_tensors": None}, size={"shortest_edge": 16})
    _assert_same(ours, theirs)
    assert [tuple(p.shape) for p in ours["pixel_values"]] == [(3, 16, 26), (3, 32, 16)]
    with pytest.raises(ProcessingError, match="different shapes"):
        ViTImageProcessor(size={"shortest_edge": 16})(images, return_tensors="pt")


# -- batches and containers --------------------------------------------------------------------------------


def test_batches_match():
    mixed = [SINGLE_IMAGES["uint8-hwc-small"], SINGLE_IMAGES["pil-rgb"], SINGLE_IMAGES["torch-chw-uint8"]]
    _assert_same(*_both(mixed, size=16))
    stacked_hwc = _uint8((4, 21, 25, 3), seed=30)
    _assert_same(*_both(stacked_hwc, size=16))
    stacked_torch = torch.rand(2, 3, 18, 22)
    _assert_same(*_both(stacked_torch, size=16))
    nested = [[_uint8((12, 12, 3), seed=31)], [_uint8((14, 10, 3), seed=32), _uint8((9, 9, 3), seed=33)]]
    _assert_same(*_both(nested, size=16))
    tuple_batch = (_uint8((12, 13, 3)), _uint8((13, 12, 3), seed=1))
    _assert_same(*_both(tuple_batch, size=16))


@pytest.mark.parametrize("return_tensors", ["pt", "np", None])
def test_return_types(return_tensors):
    images = [_uint8((12, 12, 3)), _uint8((15, 11, 3), seed=1)]
    out = ViTImageProcessor(size=8)(images, return_tensors=return_tensors)
    pixels = out.pixel_values
    if return_tensors == "pt":
        assert isinstance(pixels, torch.Tensor) and pixels.dtype == torch.float32 and pixels.shape == (2, 3, 8, 8)
        assert out.to(torch.float16).pixel_values.dtype == torch.float16
    elif return_tensors == "np":
        assert isinstance(pixels, np.ndarray) and pixels.dtype == np.float32
    else:
        assert isinstance(pixels, list) and all(p.shape == (3, 8, 8) and p.dtype == np.float32 for p in pixels)
    assert out[0] is out["pixel_values"]


def test_explicit_input_layout():
    # (3, 20, 3) is ambiguous: channels first is assumed unless told
    image = _uint8((3, 20, 3))
    ours = ViTImageProcessor(size=8)(image, input_data_format="channels_last", return_tensors="np")
    theirs = _theirs(size=8)(image, input_data_format="channels_last", return_tensors="np")
    _assert_same(ours, theirs)


# -- inputs it cannot handle ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("images", "message"),
    [
        ("cat.jpg", "got a str"),
        (None, "got a NoneType"),
        ([], "empty list"),
        ([[1, 2], [3, 4]], "found a int"),
        ([1, 2], "the list holds a int"),
        (np.zeros((2, 3, 4, 5, 3), dtype=np.uint8), "2 \\(H, W\\), 3"),
        (np.zeros(5, dtype=np.uint8), "shape \\(5,\\)"),
        (np.zeros((0, 10, 3), dtype=np.uint8), "empty"),
        (np.zeros((10, 10, 3), dtype=np.complex64), "complex64"),
        (np.full((10, 10, 3), np.nan, dtype=np.float32), "NaN"),
        (np.zeros((10, 10, 7), dtype=np.uint8), "input_data_format"),
        (np.full((10, 10, 3), 1.5, dtype=np.float32), "float values range"),
        (np.full((10, 10, 3), 1000, dtype=np.int32), "0-255"),
        (np.zeros((0, 10, 10, 3), dtype=np.uint8), "empty batch"),
        (Image.new("RGB", (0, 0)), "empty"),
    ],
)
def test_bad_inputs_raise_processing_error(images, message):
    with pytest.raises(ProcessingError, match=message):
        ViTImageProcessor(size=8)(images, return_tensors="pt")


# -- files ---------------------------------------------------------------------------------------------------


def test_saved_by_autoload_loads_in_transformers(tmp_path):
    ours = ViTImageProcessor(size={"height": 20, "width": 28}, image_mean=[0.1, 0.2, 0.3], resample=3)
    ours.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "preprocessor_config.json").read_text())
    assert saved["image_processor_type"] == "ViTImageProcessor"
    theirs = _theirs().from_pretrained(tmp_path)
    assert json.loads(theirs.to_json_string()) == saved
    image = SINGLE_IMAGES["uint8-hwc-large"]
    _assert_same(ours(image, return_tensors="np"), theirs(image, return_tensors="np"))


def test_saved_by_transformers_loads_in_autoload(tmp_path):
    theirs = _theirs(size={"height": 12, "width": 30}, image_std=[0.3, 0.2, 0.1], resample=0, do_normalize=False)
    theirs.save_pretrained(tmp_path)
    ours = ViTImageProcessor.from_pretrained(tmp_path)
    assert ours.to_dict() == json.loads((tmp_path / "preprocessor_config.json").read_text())
    image = SINGLE_IMAGES["pil-rgb"]
    _assert_same(ours(image, return_tensors="np"), theirs(image, return_tensors="np"))
    overridden = ViTImageProcessor.from_pretrained(tmp_path, do_normalize=True, size=10)
    assert overridden.do_normalize is True and overridden.size == {"height": 10, "width": 10}


def test_nested_processor_config_written_by_transformers(tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b"]))
    image_processor = _theirs(size={"height": 20, "width": 24}, image_mean=[0.1, 0.2, 0.3])
    processor = transformers.CLIPProcessor(
        image_processor=image_processor, tokenizer=transformers.BertTokenizer(str(vocab))
    )
    processor.save_pretrained(tmp_path / "saved")
    assert not (tmp_path / "saved" / "preprocessor_config.json").exists()
    ours = ViTImageProcessor.from_pretrained(tmp_path / "saved")
    assert ours.size == {"height": 20, "width": 24}
    assert ours.image_mean == (0.1, 0.2, 0.3)
    image = SINGLE_IMAGES["uint8-chw"]
    _assert_same(ours(image, return_tensors="np"), image_processor(image, return_tensors="np"))


class _Tokenizer:
    model_input_names = ["input_ids"]

    def __init__(self, **init_kwargs):
        self.init_kwargs = init_kwargs

    def save_pretrained(self, folder):
        (folder_path := __import__("pathlib").Path(folder)).mkdir(parents=True, exist_ok=True)
        (folder_path / "tokenizer_config.json").write_text(json.dumps(self.init_kwargs))
        return [str(folder_path / "tokenizer_config.json")]

    @classmethod
    def from_pretrained(cls, folder, **kwargs):
        return cls(**json.loads((__import__("pathlib").Path(folder) / "tokenizer_config.json").read_text()))


class _VisionProcessor(ProcessorMixin):
    attributes = ("image_processor", "tokenizer")
    image_processor_class = ViTImageProcessor
    tokenizer_class = _Tokenizer


def test_nested_processor_config_written_by_autoload(tmp_path):
    ours = ViTImageProcessor(size=18, image_std=[0.25, 0.5, 0.75])
    _VisionProcessor(ours, _Tokenizer()).save_pretrained(tmp_path)
    nested = json.loads((tmp_path / "processor_config.json").read_text())
    assert nested["processor_class"] == "_VisionProcessor"
    assert nested["image_processor"]["image_processor_type"] == "ViTImageProcessor"
    theirs = _theirs().from_pretrained(tmp_path)
    image = SINGLE_IMAGES["float32-hwc-unit"]
    _assert_same(ours(image, return_tensors="np"), theirs(image, return_tensors="np"))
    assert _VisionProcessor.from_pretrained(tmp_path).image_processor == ours


@pytest.mark.parametrize(
    "settings",
    [
        {"size": {"height": 0, "width": 10}},
        {"size": -4},
        {"image_std": [0.5, 0.0, 0.5]},
        {"image_mean": [0.5, 0.5], "image_std": [0.5, 0.5, 0.5]},
        {"rescale_factor": 0.0},
        {"resample": 12},
        {"size": {"width": 10}},
    ],
)
def test_impossible_saved_settings(tmp_path, settings):
    saved = {"image_processor_type": "ViTImageProcessor", **settings}
    (tmp_path / "preprocessor_config.json").write_text(json.dumps(saved))
    with pytest.raises(ConfigError, match=r"preprocessor_config\.json"):
        ViTImageProcessor.from_pretrained(tmp_path)


def test_old_feature_extractor_files(tmp_path):
    (tmp_path / "preprocessor_config.json").write_text(
        json.dumps(
            {
                "do_normalize": True,
                "do_resize": True,
                "feature_extractor_type": "ViTFeatureExtractor",
                "image_mean": [0.5, 0.5, 0.5],
                "image_std": [0.5, 0.5, 0.5],
                "resample": 2,
                "size": 224,
            }
        )
    )
    ours = ViTImageProcessor.from_pretrained(tmp_path)
    theirs = _theirs().from_pretrained(tmp_path)
    assert ours.size == {"height": 224, "width": 224}
    image = SINGLE_IMAGES["uint8-hwc-large"]
    _assert_same(ours(image, return_tensors="np"), theirs(image, return_tensors="np"))


# -- anything goes in, an output or a ProcessingError comes out --------------------------------------------------

_DTYPES = ["uint8", "int16", "int32", "int64", "float16", "float32", "float64", "bool", "complex64", "uint16"]


@st.composite
def _arrays(draw):
    ndim = draw(st.integers(0, 5))
    shape = tuple(draw(st.lists(st.sampled_from([0, 1, 2, 3, 4, 5, 7]), min_size=ndim, max_size=ndim)))
    dtype = np.dtype(draw(st.sampled_from(_DTYPES)))
    kind = draw(st.sampled_from(["unit", "bytes", "wide", "special"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if kind == "unit":
        values = rng.random(shape)
    elif kind == "bytes":
        values = rng.integers(0, 256, size=shape)
    elif kind == "wide":
        values = rng.normal(0, 1000, size=shape)
    else:
        values = rng.choice([np.nan, np.inf, -np.inf, 0.0, 1.0], size=shape)
    with np.errstate(all="ignore"):
        array = np.asarray(values).astype(dtype)
    wrap = draw(st.sampled_from(["numpy", "torch", "list", "pil"]))
    if wrap == "torch" and dtype.kind != "c" and dtype != np.uint16:
        return torch.from_numpy(np.ascontiguousarray(array))
    if wrap == "list":
        return [array, array]
    if wrap == "pil":
        try:
            return Image.fromarray(array)
        except Exception:  # shapes and dtypes PIL has no mode for: keep the array
            return array
    return array


_PROCESSOR_SETTINGS = st.fixed_dictionaries(
    {},
    optional={
        "do_resize": st.booleans(),
        "size": st.sampled_from([1, 3, 8, {"shortest_edge": 2}, {"height": 2, "width": 5}]),
        "resample": st.integers(0, 5),
        "do_convert_rgb": st.booleans(),
        "do_normalize": st.booleans(),
        "image_mean": st.sampled_from([0.5, [0.5], [0.1, 0.2, 0.3]]),
        "image_std": st.sampled_from([0.5, [0.5], [0.1, 0.2, 0.3]]),
        "input_data_format": st.sampled_from(["channels_first", "channels_last"]),
        "return_tensors": st.sampled_from(["pt", "np", None]),
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(images=_arrays(), call=_PROCESSOR_SETTINGS)
def test_any_input_gives_output_or_processing_error(images, call):
    processor = ViTImageProcessor(size=4)
    try:
        output = processor(images, **call)
    except ProcessingError:
        return
    pixels = output["pixel_values"]
    items = pixels if isinstance(pixels, list) else list(pixels)
    assert items
    for item in items:
        item = item.numpy() if isinstance(item, torch.Tensor) else item
        assert item.ndim == 3 and item.dtype == np.float32
        assert np.isfinite(item).all()
