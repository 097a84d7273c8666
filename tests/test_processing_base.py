"""The processing bases of autoload.processing: settings files, padding, image operations, processors.

transformers is the oracle for file layouts and padding; the image operations
are checked against expectations computed here directly with PIL and numpy.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch
from PIL import Image

from autoload import processing
from autoload.batch import BatchFeature as HostBatchFeature
from autoload.errors import ConfigError, FileResolutionError, ProcessingError
from autoload.processing import (
    BaseImageProcessor,
    BatchFeature,
    ProcessorMixin,
    SequenceFeatureExtractor,
    get_size_dict,
)

transformers = pytest.importorskip("transformers")


# -- classes under test ---------------------------------------------------------------------


class Wav2Vec2FeatureExtractor(SequenceFeatureExtractor):
    """A feature extractor shaped like wav2vec2's, to exercise the base (normalisation left out)."""

    model_input_names = ["input_values", "attention_mask"]

    def __init__(
        self,
        feature_size=1,
        sampling_rate=16000,
        padding_value=0.0,
        return_attention_mask=False,
        do_normalize=True,
        **kwargs,
    ):
        super().__init__(
            feature_size=feature_size,
            sampling_rate=sampling_rate,
            padding_value=padding_value,
            return_attention_mask=return_attention_mask,
            **kwargs,
        )
        self.do_normalize = do_normalize

    def __call__(self, raw_speech, padding=False, max_length=None, return_tensors=None, **kwargs):
        values = [np.asarray(item, dtype=np.float32) for item in raw_speech]
        return self.pad(
            BatchFeature({"input_values": values}),
            padding=padding,
            max_length=max_length,
            return_tensors=return_tensors,
            **kwargs,
        )


class TinyImageProcessor(BaseImageProcessor):
    size = {"height": 8, "width": 8}
    image_mean = (0.5, 0.5, 0.5)
    image_std = (0.5, 0.5, 0.5)


class FakeTokenizer:
    """Just enough of a tokenizer for the processor plumbing: a vocabulary file and a config."""

    model_input_names = ["input_ids", "attention_mask"]

    def __init__(self, vocab, **init_kwargs):
        self.vocab = dict(vocab)
        self.init_kwargs = dict(init_kwargs)

    @classmethod
    def from_pretrained(cls, path, subfolder="", **kwargs):
        folder = os.path.join(path, subfolder) if subfolder else path
        with open(os.path.join(folder, "vocab.json"), encoding="utf-8") as handle:
            vocab = json.load(handle)
        config_path = os.path.join(folder, "tokenizer_config.json")
        config = {}
        if os.path.exists(config_path):
            with open(config_path, encoding="utf-8") as handle:
                config = json.load(handle)
        config.pop("added_tokens_decoder", None)
        for key in ("revision", "cache_dir", "token", "local_files_only", "force_download"):
            kwargs.pop(key, None)
        config.update(kwargs)
        return cls(vocab, **config)

    def save_pretrained(self, folder):
        os.makedirs(folder, exist_ok=True)
        paths = [os.path.join(folder, "vocab.json"), os.path.join(folder, "tokenizer_config.json")]
        with open(paths[0], "w", encoding="utf-8") as handle:
            json.dump(self.vocab, handle)
        with open(paths[1], "w", encoding="utf-8") as handle:
            json.dump({"tokenizer_class": "Wav2Vec2CTCTokenizer", **self.init_kwargs}, handle)
        return paths

    def __call__(self, text, return_tensors=None, padding=False, **kwargs):
        if kwargs:
            raise TypeError(f"unexpected tokenizer arguments {sorted(kwargs)}")
        texts = [text] if isinstance(text, str) else list(text)
        ids = [[self.vocab.get(ch, self.vocab["<unk>"]) for ch in item] for item in texts]
        if padding:
            longest = max(len(row) for row in ids)
            ids = [row + [self.vocab["<pad>"]] * (longest - len(row)) for row in ids]
        return BatchFeature({"input_ids": ids if len(ids) > 1 else ids[0]}, tensor_type=return_tensors)

    def batch_decode(self, rows, **kwargs):
        inverse = {index: token for token, index in self.vocab.items()}
        return ["".join(inverse[i] for i in row) for row in rows]

    def decode(self, row, **kwargs):
        return self.batch_decode([row])[0]


class Wav2Vec2Processor(ProcessorMixin):
    attributes = ("feature_extractor", "tokenizer")
    feature_extractor_class = Wav2Vec2FeatureExtractor
    tokenizer_class = FakeTokenizer
    text_as_labels = True


VOCAB = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4, "A": 5, "B": 6}


@pytest.fixture
def hf_processor_dir(tmp_path):
    """A folder written by transformers' Wav2Vec2Processor.save_pretrained."""
    vocab_file = tmp_path / "vocab.json"
    vocab_file.write_text(json.dumps(VOCAB))
    tokenizer = transformers.Wav2Vec2CTCTokenizer(str(vocab_file))
    extractor = transformers.Wav2Vec2FeatureExtractor(sampling_rate=8000, return_attention_mask=True)
    processor = transformers.Wav2Vec2Processor(feature_extractor=extractor, tokenizer=tokenizer)
    folder = tmp_path / "hf"
    processor.save_pretrained(str(folder))
    return folder


# -- settings files: feature extractors -------------------------------------------------------


def test_feature_extractor_round_trip_with_transformers(tmp_path):
    ours = Wav2Vec2FeatureExtractor(sampling_rate=8000, padding_side="left", do_normalize=False)
    written = ours.save_pretrained(tmp_path)
    assert written == [str(tmp_path / "preprocessor_config.json")]
    saved = json.loads((tmp_path / "preprocessor_config.json").read_text())
    assert saved["feature_extractor_type"] == "Wav2Vec2FeatureExtractor"
    theirs = transformers.Wav2Vec2FeatureExtractor.from_pretrained(tmp_path)
    assert (theirs.sampling_rate, theirs.padding_side, theirs.do_normalize) == (8000, "left", False)

    other = tmp_path / "hf"
    transformers.Wav2Vec2FeatureExtractor(feature_size=1, padding_value=1.5).save_pretrained(other)
    back = Wav2Vec2FeatureExtractor.from_pretrained(other)
    assert back.padding_value == 1.5
    assert back.to_dict() == json.loads((other / "preprocessor_config.json").read_text())


def test_feature_extractor_reads_nested_processor_config(hf_processor_dir):
    assert not (hf_processor_dir / "preprocessor_config.json").exists()
    extractor = Wav2Vec2FeatureExtractor.from_pretrained(hf_processor_dir)
    assert extractor.sampling_rate == 8000
    assert extractor.return_attention_mask is True
    nested = json.loads((hf_processor_dir / "processor_config.json").read_text())["feature_extractor"]
    assert extractor.to_dict() == nested
    # a direct path to the nested file works too
    direct = Wav2Vec2FeatureExtractor.from_pretrained(hf_processor_dir / "processor_config.json")
    assert direct == extractor


def test_nested_processor_config_wins_over_flat_file(tmp_path):
    Wav2Vec2FeatureExtractor(sampling_rate=100).save_pretrained(tmp_path)
    (tmp_path / "processor_config.json").write_text(
        json.dumps({"feature_extractor": {"sampling_rate": 200}, "processor_class": "X"})
    )
    assert Wav2Vec2FeatureExtractor.from_pretrained(tmp_path).sampling_rate == 200
    # a processor_config.json without the entry falls back to the flat file
    (tmp_path / "processor_config.json").write_text(json.dumps({"processor_class": "X"}))
    assert Wav2Vec2FeatureExtractor.from_pretrained(tmp_path).sampling_rate == 100


def test_kwargs_override_and_unused(tmp_path):
    Wav2Vec2FeatureExtractor(sampling_rate=100).save_pretrained(tmp_path)
    extractor, unused = Wav2Vec2FeatureExtractor.from_pretrained(
        tmp_path, sampling_rate=22050, do_normalize=False, not_a_setting=1, return_unused_kwargs=True
    )
    assert (extractor.sampling_rate, extractor.do_normalize) == (22050, False)
    assert unused == {"not_a_setting": 1}
    assert Wav2Vec2FeatureExtractor.from_pretrained(tmp_path, padding_side="left").padding_side == "left"


def test_unknown_saved_keys_survive_a_round_trip(tmp_path):
    (tmp_path / "preprocessor_config.json").write_text(
        json.dumps({"feature_extractor_type": "Wav2Vec2FeatureExtractor", "future_option": [1, 2]})
    )
    extractor = Wav2Vec2FeatureExtractor.from_pretrained(tmp_path)
    assert extractor.future_option == [1, 2]
    extractor.save_pretrained(tmp_path / "again")
    assert json.loads((tmp_path / "again" / "preprocessor_config.json").read_text())["future_option"] == [1, 2]


def test_missing_files_and_broken_json(tmp_path):
    with pytest.raises(FileResolutionError, match=r"preprocessor_config\.json"):
        Wav2Vec2FeatureExtractor.from_pretrained(tmp_path)
    (tmp_path / "preprocessor_config.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        Wav2Vec2FeatureExtractor.from_pretrained(tmp_path)
    (tmp_path / "preprocessor_config.json").write_text(json.dumps({"sampling_rate": -5}))
    with pytest.raises(ConfigError, match=r"sampling_rate.*preprocessor_config\.json"):
        Wav2Vec2FeatureExtractor.from_pretrained(tmp_path)
    (tmp_path / "processor_config.json").write_text(json.dumps({"feature_extractor": [1]}))
    with pytest.raises(ConfigError, match="must be a JSON object"):
        Wav2Vec2FeatureExtractor.from_pretrained(tmp_path)


def test_save_is_atomic_and_rejects_a_file(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(ConfigError):
        Wav2Vec2FeatureExtractor().save_pretrained(target)
    Wav2Vec2FeatureExtractor().save_pretrained(tmp_path / "out")
    assert sorted(os.listdir(tmp_path / "out")) == ["preprocessor_config.json"]


# -- padding -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"padding": True},
        {"padding": "longest", "return_attention_mask": True},
        {"padding": "max_length", "max_length": 9},
        {"padding": "max_length", "max_length": 4, "truncation": True, "return_attention_mask": True},
        {"padding": True, "pad_to_multiple_of": 4, "return_attention_mask": True},
        {"padding": False, "truncation": True, "max_length": 3},
    ],
)
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_matches_transformers(options, side):
    rng = np.random.default_rng(0)
    batch = [rng.standard_normal(n).astype(np.float32) for n in (3, 7, 5)]
    ours = Wav2Vec2FeatureExtractor(padding_side=side, padding_value=-1.0)
    theirs = transformers.Wav2Vec2FeatureExtractor(padding_side=side, padding_value=-1.0)
    got = ours.pad({"input_values": batch}, return_tensors="np" if options.get("padding") else None, **options)
    want = theirs.pad({"input_values": batch}, return_tensors="np" if options.get("padding") else None, **options)
    assert set(got) == set(want)
    for key in want:
        for a, b in zip(got[key], want[key]):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
            assert np.asarray(a).dtype == np.asarray(b).dtype


def test_pad_multi_dimensional_features_and_torch_inputs():
    batch = [torch.randn(2, 3), torch.randn(4, 3)]
    ours = SequenceFeatureExtractor(feature_size=3, sampling_rate=100, padding_value=0.5)
    ours.model_input_names = ["input_features", "attention_mask"]
    theirs = transformers.SequenceFeatureExtractor(feature_size=3, sampling_rate=100, padding_value=0.5)
    theirs.model_input_names = ["input_features", "attention_mask"]
    got = ours.pad([{"input_features": row} for row in batch])
    want = theirs.pad([{"input_features": row} for row in batch])
    assert isinstance(got["input_features"], torch.Tensor)
    torch.testing.assert_close(got["input_features"], want["input_features"], rtol=0, atol=0)
    torch.testing.assert_close(got["attention_mask"], want["attention_mask"], rtol=0, atol=0)


def test_pad_errors():
    extractor = Wav2Vec2FeatureExtractor()
    with pytest.raises(ProcessingError, match="input_values"):
        extractor.pad({"other": [[1.0]]})
    with pytest.raises(ProcessingError, match="max_length"):
        extractor.pad({"input_values": [[1.0]]}, padding="max_length")
    with pytest.raises(ProcessingError, match="max_length"):
        extractor.pad({"input_values": [[1.0]]}, truncation=True)
    with pytest.raises(ProcessingError, match="padding must be"):
        extractor.pad({"input_values": [[1.0]]}, padding="sideways")
    with pytest.raises(ProcessingError, match="batch sizes"):
        extractor.pad({"input_values": [[1.0], [2.0]], "attention_mask": [[1]]})
    with pytest.raises(ConfigError, match="padding_side"):
        Wav2Vec2FeatureExtractor(padding_side="middle")


# -- BatchFeature ------------------------------------------------------------------------------


def test_batch_feature_is_the_hosts_and_behaves():
    assert BatchFeature is HostBatchFeature
    batch = BatchFeature({"pixel_values": [np.zeros((3, 2, 2), dtype=np.float32)], "mask": [[1, 0]]}, tensor_type="pt")
    assert batch.pixel_values.shape == (1, 3, 2, 2)
    assert batch[0] is batch["pixel_values"]
    assert batch[1].dtype == torch.int64
    moved = batch.to(torch.float16)
    assert moved["pixel_values"].dtype == torch.float16
    assert moved["mask"].dtype == torch.int64
    with pytest.raises(AttributeError, match="pixel_values"):
        _ = batch.nothing_here
    with pytest.raises(ProcessingError, match="return_tensors"):
        BatchFeature({"a": [1]}, tensor_type="tf")


# -- image processor settings -------------------------------------------------------------------


def test_size_forms():
    assert get_size_dict(32) == {"height": 32, "width": 32}
    assert get_size_dict(32, default_to_square=False) == {"shortest_edge": 32}
    assert get_size_dict((10, 20)) == {"height": 10, "width": 20}
    assert get_size_dict({"shortest_edge": 5, "longest_edge": 9}) == {"shortest_edge": 5, "longest_edge": 9}
    for bad in (0, -3, {"height": 4}, {"height": 0, "width": 3}, (1, 2, 3), "big", True, {"height": 2.5, "width": 2}):
        with pytest.raises(ConfigError):
            get_size_dict(bad)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"size": {"height": -1, "width": 8}}, "positive integer"),
        ({"size": 0}, "positive integer"),
        ({"image_std": [0.5, 0.0, 0.5]}, "must not contain 0"),
        ({"image_std": 0}, "must not contain 0"),
        ({"image_mean": [0.5, 0.5], "image_std": [0.5, 0.5, 0.5]}, "2 values but image_std has 3"),
        ({"image_mean": [float("nan"), 0.0, 0.0]}, "finite"),
        ({"image_mean": []}, "empty"),
        ({"rescale_factor": 0}, "rescale_factor"),
        ({"rescale_factor": -1 / 255}, "rescale_factor"),
        ({"resample": 9}, "resample"),
        ({"do_resize": "yes"}, "do_resize"),
    ],
)
def test_impossible_image_settings_fail_at_load_naming_the_file(tmp_path, settings, message):
    with pytest.raises(ConfigError, match=message):
        TinyImageProcessor(**settings)
    (tmp_path / "preprocessor_config.json").write_text(json.dumps(settings))
    with pytest.raises(ConfigError, match=message) as info:
        TinyImageProcessor.from_pretrained(tmp_path)
    assert "preprocessor_config.json" in str(info.value)


def test_impossible_call_settings_are_processing_errors():
    processor = TinyImageProcessor()
    image = np.zeros((4, 4, 3), dtype=np.uint8)
    with pytest.raises(ProcessingError, match="image_std"):
        processor(image, image_std=[0.0, 1.0, 1.0])
    with pytest.raises(ProcessingError, match="unknown argument"):
        processor(image, sharpen=True)
    with pytest.raises(ProcessingError, match="return_tensors"):
        processor(image, return_tensors="tf")


def test_image_processor_saves_like_transformers(tmp_path):
    processor = TinyImageProcessor(size=16, image_mean=[0.1, 0.2, 0.3], resample=3)
    processor.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "preprocessor_config.json").read_text())
    assert saved == {
        "do_normalize": True,
        "do_rescale": True,
        "do_resize": True,
        "image_mean": [0.1, 0.2, 0.3],
        "image_processor_type": "TinyImageProcessor",
        "image_std": [0.5, 0.5, 0.5],
        "resample": 3,
        "rescale_factor": 1 / 255,
        "size": {"height": 16, "width": 16},
    }
    assert TinyImageProcessor.from_pretrained(tmp_path) == processor
    # the old flat layout of feature-extractor era checkpoints
    (tmp_path / "preprocessor_config.json").write_text(
        json.dumps({"feature_extractor_type": "ViTFeatureExtractor", "size": 12, "resample": 2})
    )
    old = TinyImageProcessor.from_pretrained(tmp_path)
    assert old.size == {"height": 12, "width": 12}
    assert "feature_extractor_type" not in old.to_dict()


def test_image_processor_reads_nested_processor_config(tmp_path):
    (tmp_path / "processor_config.json").write_text(
        json.dumps({"image_processor": {"size": {"height": 5, "width": 6}}, "processor_class": "SomeProcessor"})
    )
    assert TinyImageProcessor.from_pretrained(tmp_path).size == {"height": 5, "width": 6}


# -- image operations against PIL/numpy computed here ------------------------------------------------


def _random_uint8(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


@pytest.mark.parametrize("resample", [0, 1, 2, 3, 4, 5])
def test_resize_uint8_is_pil_resize(resample):
    hwc = _random_uint8((13, 7, 3))
    expected = np.array(Image.fromarray(hwc).resize((5, 11), resample=resample))
    got = processing.resize(hwc.transpose(2, 0, 1), (11, 5), resample=resample, input_data_format="channels_first")
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, expected.transpose(2, 0, 1))
    got_last = processing.resize(hwc, (11, 5), resample=resample)
    np.testing.assert_array_equal(got_last, expected)


def test_resize_unit_floats_go_through_8_bit_and_back():
    image = np.random.default_rng(1).random((6, 9, 3))
    eight_bit = (image * 255).astype(np.uint8)
    expected = np.array(Image.fromarray(eight_bit).resize((4, 3), resample=2)).astype(np.float32) / np.float32(255)
    got = processing.resize(image, (3, 4), resample=2)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_resize_grayscale_and_refusals():
    gray = _random_uint8((1, 10, 10))
    expected = np.array(Image.fromarray(gray[0]).resize((5, 5), resample=2))
    np.testing.assert_array_equal(processing.resize(gray, (5, 5))[0], expected)
    with pytest.raises(ProcessingError, match="float values range"):
        processing.resize(np.full((4, 4, 3), 1.5), (2, 2))
    with pytest.raises(ProcessingError, match="0-255"):
        processing.resize(np.full((4, 4, 3), 300, dtype=np.int32), (2, 2))
    with pytest.raises(ProcessingError, match="positive"):
        processing.resize(gray, (0, 5))


def test_rescale_and_normalize_arithmetic():
    image = _random_uint8((3, 4, 5))
    rescaled = processing.rescale(image, 1 / 255)
    assert rescaled.dtype == np.float32
    np.testing.assert_array_equal(rescaled, (image.astype(np.float64) / 255).astype(np.float32))
    mean, std = (0.1, 0.2, 0.3), (0.5, 0.25, 2.0)
    normalized = processing.normalize(rescaled, mean, std, input_data_format="channels_first")
    expected = (rescaled - np.array(mean, np.float32)[:, None, None]) / np.array(std, np.float32)[:, None, None]
    np.testing.assert_allclose(normalized, expected, rtol=1e-6)
    last = processing.normalize(rescaled.transpose(1, 2, 0), 0.5, 0.5, input_data_format="channels_last")
    np.testing.assert_allclose(last, (rescaled.transpose(1, 2, 0) - 0.5) / 0.5, rtol=1e-6)
    with pytest.raises(ProcessingError, match="do_convert_rgb"):
        processing.normalize(rescaled[:1], mean, std, input_data_format="channels_first")


def test_channel_layouts():
    assert processing.infer_channel_dimension(np.zeros((3, 5, 6))) == "channels_first"
    assert processing.infer_channel_dimension(np.zeros((5, 6, 3))) == "channels_last"
    assert processing.infer_channel_dimension(np.zeros((3, 5, 3))) == "channels_first"  # ambiguous: first wins
    assert processing.infer_channel_dimension(np.zeros((2, 5, 6, 1))) == "channels_last"
    assert processing.infer_channel_dimension(np.zeros((5, 6, 4)), num_channels=(1, 3, 4)) == "channels_last"
    with pytest.raises(ProcessingError, match="input_data_format"):
        processing.infer_channel_dimension(np.zeros((5, 6, 7)))
    image = np.arange(2 * 3 * 4).reshape(2, 3, 4)  # HWC with 4 "channels" named explicitly
    first = processing.to_channel_dimension_format(image, "channels_first", "channels_last")
    assert first.shape == (4, 2, 3)
    np.testing.assert_array_equal(first[:, 1, 2], image[1, 2])
    tensor = torch.zeros(2, 5, 6, 3)
    assert processing.to_channel_dimension_format(tensor, "channels_first").shape == (2, 3, 5, 6)


def test_convert_to_rgb():
    rgba = _random_uint8((5, 6, 4))
    alpha = rgba[..., 3:].astype(np.float64) / 255
    expected = np.round(alpha * rgba[..., :3] + (1 - alpha) * 255).astype(np.uint8)
    np.testing.assert_array_equal(processing.convert_to_rgb(rgba), expected)
    # PIL images: composited by PIL onto white
    pil = Image.fromarray(rgba, mode="RGBA")
    white = Image.new("RGBA", pil.size, (255, 255, 255, 255))
    np.testing.assert_array_equal(
        processing.convert_to_rgb(pil), np.array(Image.alpha_composite(white, pil).convert("RGB"))
    )
    gray = _random_uint8((1, 4, 5))
    np.testing.assert_array_equal(processing.convert_to_rgb(gray), np.repeat(gray, 3, axis=0))
    from_pil = processing.convert_to_rgb(Image.fromarray(gray[0]))
    np.testing.assert_array_equal(from_pil, np.repeat(gray[0, ..., None], 3, 2))
    float_rgba = np.random.default_rng(2).random((5, 6, 4)).astype(np.float32)
    a = float_rgba[..., 3:]
    np.testing.assert_allclose(processing.convert_to_rgb(float_rgba), a * float_rgba[..., :3] + (1 - a), rtol=1e-6)
    with pytest.raises(ProcessingError, match=r"\[0, 1\]"):
        processing.convert_to_rgb(float_rgba * 3)


def test_to_numpy_image_sources():
    hwc = _random_uint8((3, 4, 3))
    np.testing.assert_array_equal(processing.to_numpy_image(Image.fromarray(hwc)), hwc)
    np.testing.assert_array_equal(processing.to_numpy_image(torch.from_numpy(hwc)), hwc)
    assert processing.to_numpy_image(torch.ones(2, 2, dtype=torch.bfloat16)).dtype == np.float32
    with pytest.raises(ProcessingError, match="got str"):
        processing.to_numpy_image("picture.png")


def test_center_crop_and_pad():
    image = np.arange(3 * 6 * 8).reshape(3, 6, 8)
    np.testing.assert_array_equal(processing.center_crop(image, (2, 4)), image[:, 2:4, 2:6])
    padded = processing.center_crop(np.ones((1, 2, 2)), (4, 4))
    expected = np.zeros((1, 4, 4))
    expected[:, 1:3, 1:3] = 1
    np.testing.assert_array_equal(padded, expected)


def test_image_ops_load_lazily():
    assert "resize" in processing.__all__
    with pytest.raises(AttributeError):
        processing.no_such_operation  # noqa: B018


# -- processors ------------------------------------------------------------------------------------------


def test_processor_loads_transformers_layout(hf_processor_dir):
    processor = Wav2Vec2Processor.from_pretrained(hf_processor_dir)
    assert processor.feature_extractor.sampling_rate == 8000
    assert processor.tokenizer.vocab == VOCAB
    assert processor.tokenizer.init_kwargs["processor_class"] == "Wav2Vec2Processor"
    assert processor.model_input_names == ["input_values", "attention_mask", "input_ids"]


def test_processor_saves_transformers_layout(tmp_path, hf_processor_dir):
    processor = Wav2Vec2Processor(Wav2Vec2FeatureExtractor(sampling_rate=4000), FakeTokenizer(VOCAB))
    written = processor.save_pretrained(tmp_path)
    assert str(tmp_path / "processor_config.json") in written
    assert not (tmp_path / "preprocessor_config.json").exists()
    ours = json.loads((tmp_path / "processor_config.json").read_text())
    reference = json.loads((hf_processor_dir / "processor_config.json").read_text())
    assert set(ours) == set(reference) == {"feature_extractor", "processor_class"}
    assert ours["processor_class"] == "Wav2Vec2Processor"
    assert set(ours["feature_extractor"]) == set(reference["feature_extractor"])
    assert json.loads((tmp_path / "tokenizer_config.json").read_text())["processor_class"] == "Wav2Vec2Processor"
    # transformers reads it back
    theirs = transformers.Wav2Vec2Processor.from_pretrained(tmp_path)
    assert theirs.feature_extractor.sampling_rate == 4000
    assert theirs.tokenizer.convert_tokens_to_ids("B") == 6
    again = Wav2Vec2Processor.from_pretrained(tmp_path, sampling_rate=16000)
    assert again.feature_extractor.sampling_rate == 16000


def test_processor_legacy_layout(tmp_path):
    processor = Wav2Vec2Processor(Wav2Vec2FeatureExtractor(sampling_rate=4000), FakeTokenizer(VOCAB))
    processor.save_pretrained(tmp_path, legacy_format=True)
    flat = json.loads((tmp_path / "preprocessor_config.json").read_text())
    assert flat["processor_class"] == "Wav2Vec2Processor"
    assert flat["feature_extractor_type"] == "Wav2Vec2FeatureExtractor"
    assert not (tmp_path / "processor_config.json").exists()
    assert "processor_class" not in processor.feature_extractor.to_dict()
    theirs = transformers.Wav2Vec2FeatureExtractor.from_pretrained(tmp_path)
    assert theirs.sampling_rate == 4000
    assert Wav2Vec2Processor.from_pretrained(tmp_path).feature_extractor.sampling_rate == 4000


def test_processor_call_dispatch():
    processor = Wav2Vec2Processor(Wav2Vec2FeatureExtractor(), FakeTokenizer(VOCAB))
    audio = [np.ones(3, dtype=np.float32), np.ones(5, dtype=np.float32)]
    only_audio = processor(audio, padding=True, return_tensors="pt")
    assert only_audio["input_values"].shape == (2, 5)
    only_text = processor(text=["AB", "A"], padding=True, return_tensors="pt")
    assert only_text["input_ids"].tolist() == [[5, 6], [5, 0]]
    # an audio setting given with text only is for the idle feature extractor: not passed to the tokenizer
    assert processor(text="AB", sampling_rate=16000, return_tensors="pt")["input_ids"].tolist() == [5, 6]
    both = processor(audio=audio, text=["AB", "A"], padding=True, return_tensors="pt")
    assert set(both) == {"input_values", "labels"}
    assert both["labels"].tolist() == [[5, 6], [5, 0]]
    assert processor.batch_decode([[5, 6]]) == ["AB"]
    assert processor.decode([6, 5]) == "BA"
    with pytest.raises(ProcessingError, match="audio_kwargs"):
        processor(audio=audio, text=["A", "B"], frobnicate=1)
    explicit = processor(audio=audio, text=["A", "B"], audio_kwargs={"padding": True}, return_tensors="np")
    assert explicit["input_values"].shape == (2, 5)
    with pytest.raises(ProcessingError, match="at least one"):
        processor()
    with pytest.raises(ProcessingError, match="no image_processor"):
        processor(images=np.zeros((4, 4, 3)))


def test_processor_construction_checks():
    with pytest.raises(ProcessingError, match="feature_extractor must be a Wav2Vec2FeatureExtractor"):
        Wav2Vec2Processor(FakeTokenizer(VOCAB), FakeTokenizer(VOCAB))
    with pytest.raises(TypeError, match="missing tokenizer"):
        Wav2Vec2Processor(Wav2Vec2FeatureExtractor())

    class Inferred(ProcessorMixin):
        image_processor_class = f"{__name__}:TinyImageProcessor"
        tokenizer_class = FakeTokenizer

    assert Inferred.get_attributes() == ["image_processor", "tokenizer"]
    processor = Inferred(TinyImageProcessor(), FakeTokenizer(VOCAB))
    merged = processor(images=np.zeros((5, 6, 3), dtype=np.uint8), text="AB", return_tensors="pt")
    assert set(merged) == {"pixel_values", "input_ids"}
    assert merged["pixel_values"].shape == (1, 3, 8, 8)


def test_batch_feature_views_are_the_data_views():
    from autoload import BatchFeature

    batch = BatchFeature({"pixel_values": [1.0], "labels": [0]})
    assert repr(batch.keys()) == "dict_keys(['pixel_values', 'labels'])"
    assert list(batch.values()) == [[1.0], [0]] and dict(batch.items()) == batch.data


# -- processor_class: a documented argument of every part ---------------------------------------------


def test_processor_class_is_a_constructor_argument_saved_when_set(tmp_path):
    plain = Wav2Vec2FeatureExtractor()
    assert plain.processor_class is None and "processor_class" not in plain.to_dict()
    owned = Wav2Vec2FeatureExtractor(processor_class="Wav2Vec2Processor")
    owned.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "preprocessor_config.json").read_text())
    assert saved["processor_class"] == "Wav2Vec2Processor"
    assert Wav2Vec2FeatureExtractor.from_pretrained(tmp_path).processor_class == "Wav2Vec2Processor"
    assert transformers.Wav2Vec2FeatureExtractor.from_pretrained(tmp_path).sampling_rate == owned.sampling_rate
    overridden = Wav2Vec2FeatureExtractor.from_pretrained(tmp_path, processor_class="Other")
    assert overridden.processor_class == "Other"
    with pytest.raises(ConfigError, match="processor_class must be the name of a processor class"):
        Wav2Vec2FeatureExtractor(processor_class=Wav2Vec2Processor)


def test_processor_class_given_to_save_is_written_without_changing_the_part(tmp_path):
    extractor = Wav2Vec2FeatureExtractor()
    extractor.save_pretrained(tmp_path, processor_class="SpeechProcessor")
    assert json.loads((tmp_path / "preprocessor_config.json").read_text())["processor_class"] == "SpeechProcessor"
    assert extractor.processor_class is None


class _TokenizerTakingProcessorClass(FakeTokenizer):
    """A tokenizer whose save_pretrained takes processor_class, as the tokenizer bases do."""

    def save_pretrained(self, folder, processor_class=None):
        extra = {"processor_class": processor_class} if processor_class else {}
        saved = FakeTokenizer(self.vocab, **self.init_kwargs, **extra)
        return saved.save_pretrained(folder)


def test_processor_passes_its_name_to_each_part_it_saves(tmp_path):
    tokenizer = _TokenizerTakingProcessorClass(VOCAB)
    extractor = Wav2Vec2FeatureExtractor(sampling_rate=4000)
    processor = Wav2Vec2Processor(extractor, tokenizer)
    processor.save_pretrained(tmp_path, legacy_format=True)
    assert json.loads((tmp_path / "tokenizer_config.json").read_text())["processor_class"] == "Wav2Vec2Processor"
    assert json.loads((tmp_path / "preprocessor_config.json").read_text())["processor_class"] == "Wav2Vec2Processor"
    assert "processor_class" not in tokenizer.init_kwargs  # recorded in the files, the parts are unchanged
    assert extractor.processor_class is None


def test_padding_settings_that_cannot_work_are_refused():
    with pytest.raises(ConfigError, match="padding_value must be a finite number"):
        Wav2Vec2FeatureExtractor(padding_value=float("nan"))
    extractor = Wav2Vec2FeatureExtractor()
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ProcessingError, match="pad_to_multiple_of must be a positive integer"):
            extractor.pad({"input_values": [[0.1, 0.2], [0.3]]}, pad_to_multiple_of=bad)
