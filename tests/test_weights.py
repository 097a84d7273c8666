"""autoload.weights: header validation, index checks, checkpoint discovery and atomic writing."""

from __future__ import annotations

import json
import os
import struct

import pytest

torch = pytest.importorskip("torch")
safetensors_torch = pytest.importorskip("safetensors.torch")

from autoload import weights  # noqa: E402
from autoload.errors import CheckpointError, FileResolutionError, UnsafeCheckpointError  # noqa: E402


def _write_raw(path, header: dict | bytes, data: bytes = b"", *, length: int | None = None) -> str:
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", len(raw) if length is None else length) + raw + data)
    return str(path)


def _valid_file(path, tensors=None) -> str:
    tensors = tensors or {
        "a": torch.arange(6, dtype=torch.float32).reshape(2, 3),
        "b": torch.ones(4, dtype=torch.int64),
    }
    safetensors_torch.save_file(tensors, str(path), metadata={"format": "pt"})
    return str(path)


# -- headers ------------------------------------------------------------------


def test_valid_header_is_read(tmp_path):
    path = _valid_file(tmp_path / "ok.safetensors")
    tensors, metadata = weights.read_safetensors_header(path)
    assert metadata == {"format": "pt"}
    assert tensors["a"].dtype == "F32" and tensors["a"].shape == (2, 3)
    assert tensors["b"].torch_dtype == torch.int64


def test_reader_matches_safetensors(tmp_path):
    path = _valid_file(tmp_path / "ok.safetensors")
    ours = weights.load_safetensors(path)
    theirs = safetensors_torch.load_file(path)
    assert ours.keys() == theirs.keys()
    for name in theirs:
        assert ours[name].dtype == theirs[name].dtype
        assert torch.equal(ours[name], theirs[name])


def test_reader_matches_safetensors_on_a_transformers_bert(tmp_path):
    transformers = pytest.importorskip("transformers")
    config = transformers.BertConfig(
        vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37
    )
    torch.manual_seed(0)
    transformers.BertModel(config).save_pretrained(tmp_path)
    path = str(tmp_path / "model.safetensors")
    ours = weights.load_safetensors(path)
    theirs = safetensors_torch.load_file(path)
    assert ours.keys() == theirs.keys()
    assert len(ours) > 10
    for name in theirs:
        assert ours[name].dtype == theirs[name].dtype
        assert torch.equal(ours[name], theirs[name]), name


@pytest.mark.parametrize(
    ("make", "phrase"),
    [
        (lambda p: p.write_bytes(b"\x01\x02"), "truncated"),
        (lambda p: _write_raw(p, b"{}", length=10**6), "header claims 1000000 bytes"),
        (lambda p: _write_raw(p, b"{}", length=2**63), "more than"),
        (lambda p: _write_raw(p, b'{"a": {"dtype": "F32", '), "not valid JSON"),
        (lambda p: _write_raw(p, b"\xff\xfe{}"), "not UTF-8"),
        (lambda p: _write_raw(p, b"[1, 2]"), "not an object"),
        (
            lambda p: _write_raw(p, {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 4),
            "truncated",
        ),
        (
            lambda p: _write_raw(
                p,
                {
                    "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                    "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]},
                },
                b"\0" * 12,
            ),
            "overlaps",
        ),
        (
            lambda p: _write_raw(p, {"a": {"dtype": "X9", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4),
            "unknown dtype",
        ),
        (
            lambda p: _write_raw(p, {"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8),
            "needs 12",
        ),
        (lambda p: _write_raw(p, {"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"\0" * 4), "shape"),
        (
            lambda p: _write_raw(p, {"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}}, b"\0" * 4),
            "data_offsets",
        ),
        (
            lambda p: _write_raw(p, {"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, b"\0" * 8),
            "belong to no",
        ),
        (
            lambda p: _write_raw(p, {"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 8),
            "after its last",
        ),
        (
            lambda p: _write_raw(
                p,
                b'{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},'
                b' "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}',
                b"\0" * 4,
            ),
            "appears twice",
        ),
        (lambda p: _write_raw(p, {"__metadata__": {"format": 1}}), "__metadata__"),
        (
            lambda p: _write_raw(p, {"a": {"dtype": "F32", "shape": [10**12, 10**12], "data_offsets": [0, 4]}}),
            "truncated",
        ),
    ],
    ids=[
        "shorter-than-8-bytes",
        "header-longer-than-file",
        "absurd-header-length",
        "corrupt-json",
        "not-utf8",
        "json-array",
        "data-truncated",
        "overlapping-ranges",
        "unknown-dtype",
        "size-not-shape-times-itemsize",
        "negative-shape",
        "reversed-offsets",
        "gap",
        "trailing-bytes",
        "duplicate-name",
        "bad-metadata",
        "huge-shape",
    ],
)
def test_malformed_headers_are_checkpoint_errors(tmp_path, make, phrase):
    path = tmp_path / "broken.safetensors"
    make(path)
    with pytest.raises(CheckpointError) as caught:
        weights.read_safetensors_header(path)
    message = str(caught.value)
    assert "broken.safetensors" in message
    assert phrase in message


def test_truncated_real_file(tmp_path):
    path = _valid_file(tmp_path / "model.safetensors")
    with open(path, "r+b") as handle:
        handle.truncate(os.path.getsize(path) - 3)
    with pytest.raises(CheckpointError, match="truncated"):
        weights.load_safetensors(path)


def test_fifo_is_refused_without_blocking(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    path = tmp_path / "model.safetensors"
    os.mkfifo(path)
    with pytest.raises(CheckpointError, match="not a regular file"):
        weights.read_safetensors_header(path)


# -- indexes ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../x.safetensors", "/etc/passwd", "a/../../x.safetensors", "C:\\x.safetensors", ""])
def test_index_names_outside_the_folder_are_refused(tmp_path, name):
    index = tmp_path / "model.safetensors.index.json"
    index.write_text(json.dumps({"metadata": {}, "weight_map": {"a": name}}))
    with pytest.raises(CheckpointError, match=r"model\.safetensors\.index\.json"):
        weights.read_index(index)


def test_index_without_weight_map(tmp_path):
    index = tmp_path / "model.safetensors.index.json"
    index.write_text(json.dumps({"metadata": {}}))
    with pytest.raises(CheckpointError, match="weight_map"):
        weights.read_index(index)


def test_index_with_a_key_twice(tmp_path):
    index = tmp_path / "model.safetensors.index.json"
    index.write_text('{"weight_map": {"a": "s1.safetensors", "a": "s2.safetensors"}}')
    with pytest.raises(CheckpointError, match="appears twice"):
        weights.read_index(index)


def _sharded_folder(folder, shards: dict[str, dict[str, torch.Tensor]], weight_map=None) -> None:
    folder.mkdir(exist_ok=True)
    for name, tensors in shards.items():
        safetensors_torch.save_file(tensors, str(folder / name), metadata={"format": "pt"})
    if weight_map is None:
        weight_map = {key: name for name, tensors in shards.items() for key in tensors}
    (folder / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))


def test_sharded_checkpoint_is_read(tmp_path):
    _sharded_folder(tmp_path, {"s1.safetensors": {"a": torch.ones(2)}, "s2.safetensors": {"b": torch.zeros(3)}})
    checkpoint = weights.open_checkpoint(tmp_path)
    assert set(checkpoint.entries) == {"a", "b"}
    loaded = dict(checkpoint.iter_tensors(["a", "b"]))
    assert torch.equal(loaded["a"], torch.ones(2)) and torch.equal(loaded["b"], torch.zeros(3))


def test_missing_shard(tmp_path):
    _sharded_folder(tmp_path, {"s1.safetensors": {"a": torch.ones(2)}}, {"a": "s1.safetensors", "b": "s2.safetensors"})
    with pytest.raises(CheckpointError, match=r"s2\.safetensors.*missing"):
        weights.open_checkpoint(tmp_path)


def test_parameter_in_two_shards(tmp_path):
    _sharded_folder(
        tmp_path,
        {"s1.safetensors": {"a": torch.ones(2)}, "s2.safetensors": {"a": torch.ones(2), "b": torch.ones(1)}},
        {"a": "s1.safetensors", "b": "s2.safetensors"},
    )
    with pytest.raises(CheckpointError, match=r"'a'.*s1\.safetensors.*s2\.safetensors"):
        weights.open_checkpoint(tmp_path)


def test_index_entry_absent_from_its_shard(tmp_path):
    _sharded_folder(tmp_path, {"s1.safetensors": {"a": torch.ones(2)}}, {"a": "s1.safetensors", "b": "s1.safetensors"})
    with pytest.raises(CheckpointError, match=r"'b'.*does not hold it"):
        weights.open_checkpoint(tmp_path)


def test_symlinked_shards_inside_the_folder_are_allowed(tmp_path):
    """The Hub cache's snapshot folders are symlinks into a blob store; the index names are what matter."""
    repo = tmp_path / "models--org--name"
    blobs = repo / "blobs"
    blobs.mkdir(parents=True)
    _sharded_folder(blobs, {"s1.safetensors": {"a": torch.ones(2)}, "s2.safetensors": {"b": torch.ones(3)}})
    snapshot = repo / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    for name in ("s1.safetensors", "s2.safetensors", "model.safetensors.index.json"):
        (snapshot / name).symlink_to(blobs / name)
    checkpoint = weights.open_checkpoint(snapshot)
    assert set(checkpoint.entries) == {"a", "b"}


def test_symlinked_shards_into_another_folder_are_refused(tmp_path):
    """Links out of a folder that is no Hub cache snapshot are refused (docs/reliability.md, symlink policy)."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    _sharded_folder(elsewhere, {"s1.safetensors": {"a": torch.ones(2)}})
    folder = tmp_path / "ckpt"
    folder.mkdir()
    for name in ("s1.safetensors", "model.safetensors.index.json"):
        (folder / name).symlink_to(elsewhere / name)
    with pytest.raises(FileResolutionError, match="outside the checkpoint folder"):
        weights.open_checkpoint(folder)


def test_malformed_shard_names_its_file(tmp_path):
    _sharded_folder(tmp_path, {"s1.safetensors": {"a": torch.ones(2)}}, {"a": "s1.safetensors"})
    (tmp_path / "s1.safetensors").write_bytes(b"\x00" * 4)
    with pytest.raises(CheckpointError, match=r"s1\.safetensors is truncated"):
        weights.open_checkpoint(tmp_path)


# -- discovery of the format --------------------------------------------------


def test_no_weights_at_all(tmp_path):
    with pytest.raises(CheckpointError, match="has no weights"):
        weights.open_checkpoint(tmp_path)


def test_pickle_only_is_refused(tmp_path):
    torch.save({"a": torch.ones(2)}, tmp_path / "pytorch_model.bin")
    with pytest.raises(UnsafeCheckpointError, match="allow_pickle=True"):
        weights.open_checkpoint(tmp_path)
    with pytest.raises(UnsafeCheckpointError):
        weights.open_checkpoint(tmp_path, allow_pickle=True)  # use_safetensors=False is needed as well
    with pytest.raises(CheckpointError, match="use_safetensors=True") as caught:
        weights.open_checkpoint(tmp_path, use_safetensors=True)
    assert not isinstance(caught.value, UnsafeCheckpointError)
    checkpoint = weights.open_checkpoint(tmp_path, use_safetensors=False, allow_pickle=True)
    assert torch.equal(dict(checkpoint.iter_tensors(["a"]))["a"], torch.ones(2))


def test_hub_repo_fetches_index_then_only_named_shards(tmp_path, monkeypatch):
    """A repo id goes through autoload.hub.resolve_file, one file at a time."""
    _sharded_folder(tmp_path, {"s1.safetensors": {"a": torch.ones(2)}, "s2.safetensors": {"b": torch.ones(3)}})
    safetensors_torch.save_file({"z": torch.ones(1)}, str(tmp_path / "unrelated.safetensors"))
    asked: list[str] = []

    def fake_resolve(path_or_repo, filename, options=None, *, required=True):
        assert path_or_repo == "org/tiny"
        asked.append(filename)
        candidate = tmp_path / filename
        if candidate.is_file():
            return str(candidate)
        if required:
            raise AssertionError(f"unexpected required file {filename}")
        return None

    monkeypatch.setattr(weights.hub, "resolve_file", fake_resolve)
    checkpoint = weights.open_checkpoint("org/tiny")
    assert set(checkpoint.entries) == {"a", "b"}
    assert asked == ["model.safetensors", "model.safetensors.index.json", "s1.safetensors", "s2.safetensors"]


# -- writing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "expected"),
    [(123, 123), ("5GB", 5 * 10**9), ("500MB", 5 * 10**8), ("2GiB", 2 * 2**30), ("1.5KB", 1500), (" 10 kb ", 10_000)],
)
def test_parse_size(size, expected):
    assert weights.parse_size(size) == expected


@pytest.mark.parametrize("size", ["5 parsecs", "", 0, -1, True, "GB"])
def test_parse_size_rejects(size):
    with pytest.raises(CheckpointError):
        weights.parse_size(size)


def test_plan_shards_isolates_big_tensors_as_the_hub_does():
    # A tensor over the limit gets its own shard at once; the open shard carries on.
    state = {"a": torch.zeros(10), "b": torch.zeros(10), "big": torch.zeros(100), "c": torch.zeros(5)}
    assert weights.plan_shards(state, 80) == [["big"], ["a", "b"], ["c"]]
    assert weights.plan_shards(state, 10_000) == [["a", "b", "big", "c"]]


def test_write_checkpoint_matches_the_hub_splitter(tmp_path):
    serialization = pytest.importorskip("huggingface_hub.serialization")
    state = {f"t{i}": torch.zeros(7 * (i + 1)) for i in range(6)}
    names = weights.write_checkpoint(tmp_path, state, max_shard_size=100)
    split = serialization.split_torch_state_dict_into_shards(state, max_shard_size=100)
    assert names == list(split.filename_to_tensors)
    index = json.loads((tmp_path / "model.safetensors.index.json").read_text())
    assert index["weight_map"] == split.tensor_to_filename
    assert index["metadata"]["total_size"] == split.metadata["total_size"]


def test_hub_pickle_is_refused_without_downloading_it(tmp_path, monkeypatch):
    torch.save({"a": torch.ones(2)}, tmp_path / "pytorch_model.bin")
    asked: list[str] = []

    def fake_resolve(path_or_repo, filename, options=None, *, required=True):
        asked.append(filename)
        candidate = tmp_path / filename
        return str(candidate) if candidate.is_file() else None

    monkeypatch.setattr(weights.hub, "resolve_file", fake_resolve)
    with pytest.raises(UnsafeCheckpointError, match="allow_pickle=True"):
        weights.open_checkpoint("org/old")
    assert asked == ["model.safetensors", "model.safetensors.index.json"]
    checkpoint = weights.open_checkpoint("org/old", use_safetensors=False, allow_pickle=True)
    assert asked[-1] == "pytorch_model.bin"
    assert torch.equal(dict(checkpoint.iter_tensors(["a"]))["a"], torch.ones(2))
