"""Weights on disk: find, validate, read and write safetensors checkpoints.

Reading a checkpoint happens in two steps.  :func:`open_checkpoint` resolves
the files (local folder or Hub repo, single file or shards) and reads every
header, checking each one before safetensors parses it: a corrupt or hostile
file becomes a :class:`~autoload.errors.CheckpointError` that names the file
and the fault, never a crash, a hang or a huge allocation.  Nothing but
headers is read at that point, so the model can check names, shapes and
dtypes against its own parameters first.  Then
:meth:`Checkpoint.iter_tensors` hands out the tensors one by one as views of
the memory-mapped file.

Writing goes through :func:`write_checkpoint`, which stages every file under a
temporary name in the target folder and renames them into place only once all
of them are complete, so a failed save leaves the previous checkpoint intact.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import stat
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

import torch

from autoload import files, hub
from autoload.errors import CheckpointError, FileResolutionError, UnsafeCheckpointError
from autoload.hub import HubOptions

logger = logging.getLogger("autoload")

SAFE_WEIGHTS_NAME = "model.safetensors"
SAFE_WEIGHTS_INDEX_NAME = "model.safetensors.index.json"
PICKLE_WEIGHTS_NAME = "pytorch_model.bin"
PICKLE_WEIGHTS_INDEX_NAME = "pytorch_model.bin.index.json"

#: safetensors refuses headers above 100 MB; a real header is a few hundred KB.
MAX_HEADER_BYTES = 100_000_000
#: An index names a few thousand tensors at most; this bounds what json parses.
MAX_INDEX_BYTES = 100_000_000

_SHARD_NAME = re.compile(r"^model-(\d{5})-of-(\d{5})\.safetensors$")

# Item size of every dtype code safetensors writes.  Packed sub-byte formats
# (F4, F6) are left out: no architecture served here stores them.
_ITEM_SIZE: dict[str, int] = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E5M2": 1,
    "F8_E4M3": 1,
    "F8_E4M3FNUZ": 1,
    "F8_E5M2FNUZ": 1,
    "F8_E8M0": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "C64": 8,
    "F64": 8,
    "I64": 8,
    "U64": 8,
}

_TORCH_NAMES: dict[str, str] = {
    "BOOL": "bool",
    "U8": "uint8",
    "I8": "int8",
    "F8_E5M2": "float8_e5m2",
    "F8_E4M3": "float8_e4m3fn",
    "F8_E4M3FNUZ": "float8_e4m3fnuz",
    "F8_E5M2FNUZ": "float8_e5m2fnuz",
    "F8_E8M0": "float8_e8m0fnu",
    "I16": "int16",
    "U16": "uint16",
    "F16": "float16",
    "BF16": "bfloat16",
    "I32": "int32",
    "U32": "uint32",
    "F32": "float32",
    "C64": "complex64",
    "F64": "float64",
    "I64": "int64",
    "U64": "uint64",
}

TORCH_DTYPES: dict[str, torch.dtype] = {
    code: getattr(torch, name)
    for code, name in _TORCH_NAMES.items()
    if isinstance(getattr(torch, name, None), torch.dtype)
}

_SAFETENSORS_CODES: dict[torch.dtype, str] = {dtype: code for code, dtype in TORCH_DTYPES.items()}
# The order in which safetensors lays out tensors by dtype (then by name): widest first, so every
# tensor starts aligned to its item size.
_SAFETENSORS_ORDER: dict[str, int] = {
    code: rank
    for rank, code in enumerate(
        [
            "U64",
            "I64",
            "F64",
            "C64",
            "F32",
            "U32",
            "I32",
            "BF16",
            "F16",
            "U16",
            "I16",
            "F8_E5M2FNUZ",
            "F8_E4M3FNUZ",
            "F8_E8M0",
            "F8_E4M3",
            "F8_E5M2",
            "I8",
            "U8",
            "BOOL",
        ]
    )
}


# -- headers ------------------------------------------------------------------


@dataclass(frozen=True)
class TensorInfo:
    """One tensor as a safetensors header describes it (offsets relative to the data area)."""

    dtype: str
    shape: tuple[int, ...]
    begin: int
    end: int
    data_start: int = 0  # where the data area begins in the file: the 8-byte length field plus the header

    @property
    def torch_dtype(self) -> torch.dtype | None:
        return TORCH_DTYPES.get(self.dtype)


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"key {key!r} appears twice")
        result[key] = value
    return result


def _regular_file_size(path: str, what: str) -> int:
    """Size of ``path``, refusing anything but a regular file (a FIFO would block reads forever)."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise CheckpointError(f"Cannot read {what} {path}: {exc.strerror or exc}.") from exc
    if not stat.S_ISREG(info.st_mode):
        raise CheckpointError(f"{what.capitalize()} {path} is not a regular file.")
    return info.st_size


def read_safetensors_header(path: str | os.PathLike[str]) -> tuple[dict[str, TensorInfo], dict[str, str]]:
    """Read and fully validate the header of a safetensors file.

    Returns the tensors and the free-form ``__metadata__``.  Every check
    safetensors itself makes is made here first (plus duplicate names), so
    the error can say which file is broken and how, and so that no length
    taken from the file is trusted before it is compared with the file size.
    """
    path = os.fspath(path)
    size = _regular_file_size(path, "weights file")
    if size < 8:
        raise CheckpointError(
            f"Weights file {path} is truncated: {size} bytes, less than the 8-byte header length. "
            "Download or save the checkpoint again."
        )
    with open(path, "rb") as handle:
        header_length = int.from_bytes(handle.read(8), "little")
        if header_length > MAX_HEADER_BYTES:
            raise CheckpointError(
                f"Weights file {path} is not a valid safetensors file: its header claims {header_length} bytes, "
                f"more than the {MAX_HEADER_BYTES} bytes any real header needs."
            )
        if 8 + header_length > size:
            raise CheckpointError(
                f"Weights file {path} is truncated or not a safetensors file: its header claims {header_length} "
                f"bytes but the file has only {size - 8} bytes after the length field."
            )
        raw = handle.read(header_length)
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_reject_duplicate_keys)
    except UnicodeDecodeError as exc:
        raise CheckpointError(f"Weights file {path} has a corrupt header: not UTF-8 text.") from exc
    except (ValueError, RecursionError) as exc:
        raise CheckpointError(f"Weights file {path} has a corrupt header: not valid JSON ({exc}).") from exc
    if not isinstance(header, dict):
        raise CheckpointError(
            f"Weights file {path} has a corrupt header: a JSON {type(header).__name__}, not an object."
        )

    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise CheckpointError(f"Weights file {path} has a corrupt header: __metadata__ must map strings to strings.")

    data_size = size - 8 - header_length
    tensors: dict[str, TensorInfo] = {}
    for name, entry in header.items():
        tensors[name] = _tensor_info(path, name, entry, data_size, 8 + header_length)
    _check_layout(path, tensors, data_size)
    return tensors, metadata


def _tensor_info(path: str, name: str, entry: Any, data_size: int, data_start: int) -> TensorInfo:
    def bad(reason: str) -> CheckpointError:
        return CheckpointError(f"Weights file {path} has a corrupt header: tensor {name!r} {reason}.")

    if not isinstance(entry, dict):
        raise bad("is not described by a JSON object")
    dtype = entry.get("dtype")
    if dtype not in _ITEM_SIZE:
        raise bad(f"has unknown dtype {dtype!r} (known: {', '.join(sorted(_ITEM_SIZE))})")
    shape = entry.get("shape")
    if not isinstance(shape, list) or not all(type(dim) is int and dim >= 0 for dim in shape):
        raise bad(f"has an invalid shape {shape!r} (a list of non-negative integers is required)")
    offsets = entry.get("data_offsets")
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(type(value) is int for value in offsets)
        or not 0 <= offsets[0] <= offsets[1]
    ):
        raise bad(f"has invalid data_offsets {offsets!r} (two integers, begin <= end, are required)")
    begin, end = offsets
    if end > data_size:
        raise CheckpointError(
            f"Weights file {path} is truncated: tensor {name!r} needs bytes {begin}..{end} of the data area, "
            f"which holds only {data_size} bytes. Download or save the checkpoint again."
        )
    expected = math.prod(shape) * _ITEM_SIZE[dtype]
    if end - begin != expected:
        raise bad(f"spans {end - begin} bytes, but shape {shape} of {dtype} needs {expected}")
    return TensorInfo(dtype, tuple(shape), begin, end, data_start)


def _check_layout(path: str, tensors: Mapping[str, TensorInfo], data_size: int) -> None:
    """The data ranges must tile the data area exactly: no overlap, no gap, nothing after."""
    position = 0
    previous = None
    for name, info in sorted(tensors.items(), key=lambda item: (item[1].begin, item[1].end)):
        if info.begin < position:
            raise CheckpointError(
                f"Weights file {path} has a corrupt header: the data of tensor {name!r} ({info.begin}..{info.end}) "
                f"overlaps tensor {previous!r} (ending at {position})."
            )
        if info.begin > position:
            raise CheckpointError(
                f"Weights file {path} has a corrupt header: bytes {position}..{info.begin} of the data area "
                f"belong to no tensor (before {name!r})."
            )
        position = info.end
        previous = name
    if position != data_size:
        raise CheckpointError(
            f"Weights file {path} has {data_size - position} bytes after its last tensor that no header entry "
            "describes; the file is corrupt."
        )


def load_safetensors(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """Every tensor of one safetensors file, after validating its header."""
    tensors, _ = read_safetensors_header(path)
    return dict(_read_file(os.fspath(path), list(tensors)))


def _read_file(path: str, names: Iterable[str]) -> Iterator[tuple[str, torch.Tensor]]:
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(path, framework="pt") as handle:
            for name in names:
                yield name, handle.get_tensor(name)
    except SafetensorError as exc:
        raise CheckpointError(f"safetensors could not read {path}: {exc}") from exc


def _read_exactly(handle: Any, into: memoryview, path: str, name: str) -> None:
    """Fill ``into`` from ``handle``; a file shorter than its header said is a CheckpointError."""
    filled = 0
    while filled < len(into):
        count = handle.readinto(into[filled:])
        if not count:
            raise CheckpointError(
                f"Weights file {path} is truncated: tensor {name!r} ends past the end of the file. "
                "Download or save the checkpoint again."
            )
        filled += count


# -- indexes ------------------------------------------------------------------


def _check_shard_name(name: Any, index_path: str) -> str:
    """Refuse shard names that leave the checkpoint folder.

    Only the name written in the index is judged, not where it resolves: the
    Hub cache's snapshot folders are symlinks into a blob store, and those are
    fine, whereas ``../x`` or ``/etc/x`` in an index never are.
    """
    if not isinstance(name, str) or not name:
        raise CheckpointError(f"Index {index_path} names a shard {name!r}, which is not a file name.")
    posix, windows = PurePosixPath(name), PureWindowsPath(name)
    if posix.is_absolute() or windows.is_absolute() or windows.drive or "\\" in name or "\0" in name:
        raise CheckpointError(
            f"Index {index_path} names shard {name!r}, an absolute path; "
            "shards must be files inside the checkpoint folder."
        )
    if any(part in ("..", ".") for part in posix.parts) or name.endswith("/"):
        raise CheckpointError(
            f"Index {index_path} names shard {name!r}, which points outside the checkpoint folder; "
            "shards must be files inside it."
        )
    return name


def read_index(path: str | os.PathLike[str]) -> dict[str, str]:
    """``weight_map`` of a shard index (tensor name -> shard file name), validated."""
    path = os.fspath(path)
    size = _regular_file_size(path, "index")
    if size > MAX_INDEX_BYTES:
        raise CheckpointError(f"Index {path} is {size} bytes, far larger than any real shard index.")
    try:
        with open(path, "rb") as handle:
            data = json.loads(handle.read().decode("utf-8"), object_pairs_hook=_reject_duplicate_keys)
    except UnicodeDecodeError as exc:
        raise CheckpointError(f"Index {path} is not UTF-8 text.") from exc
    except (ValueError, RecursionError) as exc:
        raise CheckpointError(f"Index {path} is not valid JSON: {exc}.") from exc
    weight_map = data.get("weight_map") if isinstance(data, dict) else None
    if not isinstance(weight_map, dict):
        raise CheckpointError(f"Index {path} has no 'weight_map' object mapping tensor names to shard files.")
    for shard in set(weight_map.values()):
        _check_shard_name(shard, path)
    return weight_map


# -- checkpoints --------------------------------------------------------------


@dataclass(frozen=True)
class TensorEntry:
    """Where one checkpoint tensor lives, and what it is, known before reading it."""

    file: str
    dtype: torch.dtype | None
    dtype_name: str
    shape: tuple[int, ...]
    span: tuple[int, int] | None = None  # its bytes in a safetensors file, from the file's start


class Checkpoint:
    """The tensors of a checkpoint, described by its headers, read on demand."""

    def __init__(
        self,
        entries: dict[str, TensorEntry],
        files: list[str],
        *,
        source: str,
        preloaded: dict[str, torch.Tensor] | None = None,
    ) -> None:
        self.entries = entries
        self.files = files
        self.source = source
        self._preloaded = preloaded

    @property
    def is_pickle(self) -> bool:
        return self._preloaded is not None

    def first_floating_dtype(self) -> torch.dtype | None:
        for entry in self.entries.values():
            if entry.dtype is not None and entry.dtype.is_floating_point:
                return entry.dtype
        return None

    def iter_tensors(self, names: Iterable[str]) -> Iterator[tuple[str, torch.Tensor]]:
        """Yield ``(name, tensor)`` for ``names``, one file at a time, in file order.

        Tensors are views of the memory-mapped file (copy-on-write), so reading
        costs page faults, not copies.
        """
        if self._preloaded is not None:
            for name in names:
                yield name, self._preloaded[name]
            return
        by_file: dict[str, list[str]] = {}
        for name in names:
            by_file.setdefault(self.entries[name].file, []).append(name)
        for file in self.files:
            wanted = by_file.get(file)
            if wanted:
                yield from _read_file(file, wanted)

    def read_slices(self, name: str, span: tuple[int, int, int] | None) -> torch.Tensor:
        """Tensor ``name``, or only ``[start, stop)`` along dimension ``dim`` when ``span = (dim, start, stop)``.

        A slice is read from the memory map through safetensors' slice API: a
        tensor-parallel rank touches only the bytes of its own part.
        """
        index: tuple[slice, ...] = ()
        if span is not None:
            dim, start, stop = span
            index = (*(slice(None),) * dim, slice(start, stop))
        if self._preloaded is not None:
            tensor = self._preloaded[name]
            return tensor[index] if index else tensor
        from safetensors import SafetensorError, safe_open

        path = self.entries[name].file
        try:
            with safe_open(path, framework="pt") as handle:
                return handle.get_slice(name)[index] if index else handle.get_tensor(name)
        except SafetensorError as exc:
            raise CheckpointError(f"safetensors could not read {name} from {path}: {exc}") from exc

    def iter_row_blocks(self, name: str, rows_per_block: int) -> Iterator[tuple[int, torch.Tensor]]:
        """Tensor ``name`` as ``(first_row, block)`` pairs of whole rows, for a caller that copies them elsewhere.

        From a safetensors file the blocks come through plain file reads into
        one reused buffer, not through the memory map: a tensor that ends up
        stored in another order would otherwise leave its pages mapped into
        the process beside the copy, doubling its share of resident memory.
        Each block is valid only until the next one is read.
        """
        entry = self.entries[name]
        rows = entry.shape[0] if entry.shape else 0
        direct = entry.span is not None and entry.dtype is not None and math.prod(entry.shape) > 0
        if self._preloaded is not None or not direct or sys.byteorder == "big":  # safetensors is little-endian
            tensor = self._preloaded[name] if self._preloaded is not None else self.read_slices(name, None)
            for start in range(0, rows, rows_per_block):
                yield start, tensor[start : start + rows_per_block]
            return
        row_shape = entry.shape[1:]
        row_bytes = math.prod(row_shape) * _ITEM_SIZE[entry.dtype_name]
        buffer = bytearray(min(rows, rows_per_block) * row_bytes)
        block = torch.frombuffer(buffer, dtype=entry.dtype).view(-1, *row_shape)
        with open(entry.file, "rb", buffering=0) as handle:
            handle.seek(entry.span[0])  # type: ignore[index]
            for start in range(0, rows, rows_per_block):
                count = min(rows_per_block, rows - start)
                _read_exactly(handle, memoryview(buffer)[: count * row_bytes], entry.file, name)
                yield start, block[:count]


def _entries_from_header(path: str, tensors: Mapping[str, TensorInfo]) -> dict[str, TensorEntry]:
    return {
        name: TensorEntry(
            path, info.torch_dtype, info.dtype, info.shape, (info.data_start + info.begin, info.data_start + info.end)
        )
        for name, info in sorted(tensors.items(), key=lambda item: item[1].begin)
    }


def open_checkpoint(
    path_or_repo: str | os.PathLike[str],
    options: HubOptions | None = None,
    *,
    use_safetensors: bool | None = None,
    allow_pickle: bool = False,
) -> Checkpoint:
    """Find the weights of a checkpoint and read their headers.

    safetensors always wins when it exists.  A pickled checkpoint is only
    unpickled when the caller passes ``use_safetensors=False`` and
    ``allow_pickle=True``, and then with ``weights_only=True``.
    """
    options = options or HubOptions()
    where = hub.describe(path_or_repo, options)
    single = hub.resolve_file(path_or_repo, SAFE_WEIGHTS_NAME, options, required=False)
    if single is not None:
        tensors, _ = read_safetensors_header(single)
        return Checkpoint(_entries_from_header(single, tensors), [single], source=where)
    index = hub.resolve_file(path_or_repo, SAFE_WEIGHTS_INDEX_NAME, options, required=False)
    if index is not None:
        return _open_sharded_safetensors(path_or_repo, options, index)

    if use_safetensors:
        raise CheckpointError(
            f"{where} has no safetensors weights ({SAFE_WEIGHTS_NAME} or {SAFE_WEIGHTS_INDEX_NAME}), "
            "and use_safetensors=True was passed. "
            "Convert the checkpoint to safetensors, or leave use_safetensors unset."
        )
    opted_in = use_safetensors is False and allow_pickle
    if not opted_in and not hub.is_local(path_or_repo):
        # Asking the Hub whether a pickle exists would download it, only to refuse it.
        raise UnsafeCheckpointError(
            f"{where} has no safetensors weights ({SAFE_WEIGHTS_NAME} or {SAFE_WEIGHTS_INDEX_NAME}). autoload does "
            f"not unpickle {PICKLE_WEIGHTS_NAME} by default, because unpickling a file can run arbitrary code. If you "
            "trust the repository, pass use_safetensors=False, allow_pickle=True (it is then read with "
            "torch.load(weights_only=True)), or use a safetensors revision of it."
        )
    pickle_file = hub.resolve_file(path_or_repo, PICKLE_WEIGHTS_NAME, options, required=False)
    pickle_index = None
    if pickle_file is None:
        pickle_index = hub.resolve_file(path_or_repo, PICKLE_WEIGHTS_INDEX_NAME, options, required=False)
    if pickle_file is None and pickle_index is None:
        raise CheckpointError(
            f"{where} has no weights: none of {SAFE_WEIGHTS_NAME}, {SAFE_WEIGHTS_INDEX_NAME}, {PICKLE_WEIGHTS_NAME}, "
            f"{PICKLE_WEIGHTS_INDEX_NAME} was found. Pass the folder written by save_pretrained."
        )
    found = PICKLE_WEIGHTS_NAME if pickle_file is not None else PICKLE_WEIGHTS_INDEX_NAME
    if not opted_in:
        raise UnsafeCheckpointError(
            f"{where} has only pickled weights ({found}). Unpickling a file can run arbitrary code, so autoload "
            "does not do it by default. Convert the checkpoint to safetensors, or, if you trust its source, pass "
            "use_safetensors=False, allow_pickle=True (it is then read with torch.load(weights_only=True))."
        )
    if pickle_file is not None:
        return _open_pickle(where, [pickle_file], None)
    assert pickle_index is not None
    weight_map = read_index(pickle_index)
    shards = [_resolve_shard(path_or_repo, options, name, pickle_index) for name in dict.fromkeys(weight_map.values())]
    return _open_pickle(where, shards, (pickle_index, weight_map))


def _resolve_shard(path_or_repo: str | os.PathLike[str], options: HubOptions, name: str, index: str) -> str:
    try:
        path = hub.resolve_file(path_or_repo, name, options, required=True)
    except FileResolutionError as exc:
        local = os.path.join(os.fspath(path_or_repo), options.subfolder or "", name)
        problem = "which cannot be used" if os.path.lexists(local) else "which is missing"
        raise CheckpointError(f"Index {index} names shard {name!r}, {problem}: {exc}") from exc
    assert path is not None
    return path


def _open_sharded_safetensors(path_or_repo: str | os.PathLike[str], options: HubOptions, index: str) -> Checkpoint:
    weight_map = read_index(index)
    entries: dict[str, TensorEntry] = {}
    files: list[str] = []
    for shard_name in dict.fromkeys(weight_map.values()):
        path = _resolve_shard(path_or_repo, options, shard_name, index)
        tensors, _ = read_safetensors_header(path)
        for name in tensors:
            other = entries.get(name)
            if other is not None:
                raise CheckpointError(
                    f"Tensor {name!r} appears in two shards, {os.path.basename(other.file)} and {shard_name} "
                    f"(index {index}); the checkpoint is inconsistent."
                )
            listed = weight_map.get(name)
            if listed is not None and listed != shard_name:
                raise CheckpointError(
                    f"Index {index} places tensor {name!r} in {listed}, but shard {shard_name} holds it too; "
                    "the checkpoint is inconsistent."
                )
        entries.update(_entries_from_header(path, tensors))
        files.append(path)
    for name, shard_name in weight_map.items():
        if name not in entries:
            raise CheckpointError(
                f"Index {index} places tensor {name!r} in shard {shard_name}, but that shard does not hold it."
            )
    return Checkpoint(entries, files, source=hub.describe(path_or_repo, options))


def _torch_load(path: str) -> Any:
    """``torch.load`` with ``weights_only=True``: tensors and plain containers, never arbitrary objects.

    Files in the zip format (every ``torch.save`` since torch 1.6) are
    memory-mapped; the legacy format cannot be, and is read normally.
    """
    import pickle
    import zipfile

    try:
        if zipfile.is_zipfile(path):
            return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        detail = str(exc).partition("WeightsUnpickler error:")[2].strip().split("\n")[0].strip()
        raise CheckpointError(
            f"Pickled weights file {path} was refused by torch.load(weights_only=True): it holds objects other than "
            f"tensors{f' ({detail})' if detail else ''}. It was not unpickled; nothing in it ran."
        ) from exc
    except Exception as exc:  # corrupt or truncated archives
        raise CheckpointError(f"Pickled weights file {path} could not be read: {exc}") from exc


def _open_pickle(where: str, files: list[str], index: tuple[str, dict[str, str]] | None) -> Checkpoint:
    tensors: dict[str, torch.Tensor] = {}
    entries: dict[str, TensorEntry] = {}
    for path in files:
        _regular_file_size(path, "weights file")
        loaded = _torch_load(path)
        if not isinstance(loaded, dict) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in loaded.items()
        ):
            raise CheckpointError(f"Pickled weights file {path} does not hold a mapping of names to tensors.")
        for name, tensor in loaded.items():
            if name in entries:
                raise CheckpointError(
                    f"Tensor {name!r} appears in two shards, {os.path.basename(entries[name].file)} and "
                    f"{os.path.basename(path)}; the checkpoint is inconsistent."
                )
            dtype_name = str(tensor.dtype).removeprefix("torch.")
            entries[name] = TensorEntry(path, tensor.dtype, dtype_name, tuple(tensor.shape))
            tensors[name] = tensor
    if index is not None:
        index_path, weight_map = index
        for name, shard_name in weight_map.items():
            if name not in entries:
                raise CheckpointError(
                    f"Index {index_path} places tensor {name!r} in {shard_name}, which does not hold it."
                )
    return Checkpoint(entries, files, source=where, preloaded=tensors)


# -- writing ------------------------------------------------------------------

_SIZE_UNITS = {
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "KIB": 2**10,
    "MIB": 2**20,
    "GIB": 2**30,
    "TIB": 2**40,
}


def parse_size(size: int | str) -> int:
    """``"5GB"`` -> 5_000_000_000 (decimal units as the Hub uses; ``"GiB"`` for binary)."""
    if isinstance(size, bool):
        raise CheckpointError(f"max_shard_size must be a byte count or a string like '5GB', not {size!r}.")
    if isinstance(size, int):
        if size <= 0:
            raise CheckpointError(f"max_shard_size must be positive, not {size}.")
        return size
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]I?B)\s*", str(size), flags=re.IGNORECASE)
    if match is None:
        raise CheckpointError(f"max_shard_size {size!r} is not a size like '5GB', '500MB' or '2GiB'.")
    value = int(float(match.group(1)) * _SIZE_UNITS[match.group(2).upper()])
    if value <= 0:
        raise CheckpointError(f"max_shard_size must be positive, not {size!r}.")
    return value


def plan_shards(state_dict: Mapping[str, torch.Tensor], max_shard_size: int) -> list[list[str]]:
    """Group tensor names into shards of at most ``max_shard_size`` bytes, in order.

    A tensor larger than the limit gets a shard of its own, as the Hub's
    splitter does, so files keep the same layout as transformers writes.
    """
    shards: list[list[str]] = []
    current: list[str] = []
    current_size = 0
    for name, tensor in state_dict.items():
        size = tensor.numel() * tensor.element_size()
        if size > max_shard_size:
            shards.append([name])
            continue
        if current and current_size + size > max_shard_size:
            shards.append(current)
            current, current_size = [], 0
        current.append(name)
        current_size += size
    if current or not shards:
        shards.append(current)
    return shards


def _write_safetensors(tensors: dict[str, torch.Tensor], path: str, metadata: dict[str, str]) -> None:
    """Write one safetensors file (the single place that does, so tests can make it fail).

    Written here rather than by ``safetensors.torch.save_file``, which needs
    numpy: a plugin that depends on autoload-core and torch alone must be able
    to save.  The bytes are what safetensors writes (its header layout and
    tensor order: by dtype, widest first, then by name), and each tensor's memory
    goes to the file as it is, without a copy.
    """
    import ctypes
    import struct

    def layout_key(name: str) -> tuple[int, str]:
        return _SAFETENSORS_ORDER.get(_SAFETENSORS_CODES.get(tensors[name].dtype, ""), -1), name

    order = sorted(tensors, key=layout_key)
    header: dict[str, Any] = {"__metadata__": dict(sorted(metadata.items()))} if metadata else {}
    data: list[torch.Tensor] = []
    offset = 0
    for name in order:
        tensor = tensors[name]
        code = _SAFETENSORS_CODES.get(tensor.dtype)
        if code is None or tensor.layout != torch.strided:
            raise CheckpointError(
                f"Cannot save {name!r} ({tensor.dtype}, {tensor.layout}) to safetensors: only dense tensors of "
                f"the dtypes {sorted(_TORCH_NAMES.values())} can be stored. Convert it before saving."
            )
        tensor = tensor.detach().to("cpu").contiguous().reshape(-1)
        if sys.byteorder == "big" and tensor.element_size() > 1:  # safetensors is little-endian
            tensor = tensor.view(torch.uint8).reshape(-1, tensor.element_size()).flip(-1).contiguous()
        size = tensor.numel() * tensor.element_size()
        header[name] = {"dtype": code, "shape": list(tensors[name].shape), "data_offsets": [offset, offset + size]}
        data.append(tensor)
        offset += size
    encoded = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)  # the data area starts 8-byte aligned
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", len(encoded)))
        handle.write(encoded)
        for tensor in data:
            size = tensor.numel() * tensor.element_size()
            if size:
                handle.write(memoryview((ctypes.c_char * size).from_address(tensor.data_ptr())).cast("B"))


def write_checkpoint(
    directory: str | os.PathLike[str],
    state_dict: dict[str, torch.Tensor],
    *,
    max_shard_size: int | str = "5GB",
    extra_files: Mapping[str, str] | None = None,
    total_parameters: int | None = None,
) -> list[str]:
    """Write ``state_dict`` (and ``extra_files``, e.g. ``config.json``) atomically.

    The weights are ``model.safetensors``, or ``model-0000i-of-0000n.safetensors``
    shards with ``model.safetensors.index.json`` when they exceed
    ``max_shard_size``.  Everything is staged first; the renames go shards,
    then the single file or index, then ``extra_files``, so a reader sees the
    old or the new checkpoint at every moment.  Stale weight files of an
    earlier save are removed only after the new set is in place.  Returns the
    weight file names written.
    """
    directory = os.fspath(directory)
    limit = parse_size(max_shard_size)
    if os.path.isfile(directory):
        raise CheckpointError(f"save_pretrained needs a folder, but {directory} is a file.")
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        raise files.save_error(directory, exc) from exc

    shards = plan_shards(state_dict, limit)
    count = len(shards)
    names = (
        [SAFE_WEIGHTS_NAME]
        if count == 1
        else [f"model-{i:05d}-of-{count:05d}.safetensors" for i in range(1, count + 1)]
    )
    metadata = {"format": "pt"}
    staged = files.StagedFiles(directory)
    try:
        for name, keys in zip(names, shards):
            temp = staged.reserve(name)
            try:
                _write_safetensors({key: state_dict[key].contiguous() for key in keys}, temp, metadata)
            except Exception as exc:
                if not _is_write_failure(exc):
                    raise
                raise files.save_error(directory, exc) from exc
        if count > 1:
            total_size = sum(t.numel() * t.element_size() for t in state_dict.values())
            index_metadata: dict[str, int] = {"total_size": total_size}
            if total_parameters is not None:
                index_metadata["total_parameters"] = total_parameters
            index = {
                "metadata": index_metadata,
                "weight_map": {key: name for name, keys in zip(names, shards) for key in keys},
            }
            staged.write_text(SAFE_WEIGHTS_INDEX_NAME, json.dumps(index, indent=2, sort_keys=True) + "\n")
        for name, text in (extra_files or {}).items():
            staged.write_text(name, text)
        staged.commit()
    except BaseException:
        staged.abort()
        raise
    _remove_stale_weights(directory, set(names), sharded=count > 1)
    return names


def _is_write_failure(exc: BaseException) -> bool:
    """An OS-level failure to write (full disk, read-only file system), as Python or safetensors reports it."""
    return isinstance(exc, OSError) or "os error" in str(exc) or "I/O error" in str(exc)


def _remove_stale_weights(directory: str, current: set[str], *, sharded: bool) -> None:
    stale = [name for name in os.listdir(directory) if _SHARD_NAME.match(name) and name not in current]
    if sharded:
        stale.append(SAFE_WEIGHTS_NAME)
    else:
        stale.append(SAFE_WEIGHTS_INDEX_NAME)
    for name in stale:
        path = os.path.join(directory, name)
        if os.path.isfile(path) or os.path.islink(path):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
