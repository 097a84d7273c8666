"""BatchFeature: what tokenizers, image processors and feature extractors return.

A dict of named arrays that also reads as attributes (``batch.pixel_values``),
indexes by position (``batch[0]``), converts to torch or numpy in one place,
and moves to a device or dtype with ``.to(...)``.  torch and numpy are imported
only when a conversion needs them.
"""

from __future__ import annotations

from collections import UserDict
from typing import Any

from autoload.errors import ProcessingError

TENSOR_TYPES = ("pt", "np")


def to_tensor_type(value: Any, tensor_type: str | None, *, key: str = "value") -> Any:
    """Convert a (possibly nested) list or array to ``tensor_type``; ``None`` keeps it."""
    if tensor_type is None:
        return value
    if tensor_type not in TENSOR_TYPES:
        raise ProcessingError(f"return_tensors must be 'pt', 'np' or None, not {tensor_type!r}.")
    import numpy as np

    if tensor_type == "np":
        if hasattr(value, "detach"):
            return value.detach().cpu().numpy()
        return _as_numpy(value, key)
    import torch

    if isinstance(value, torch.Tensor):
        return value
    array = value if isinstance(value, np.ndarray) else _as_numpy(value, key)
    return torch.from_numpy(np.ascontiguousarray(array))


def _as_numpy(value: Any, key: str) -> Any:
    import numpy as np

    if isinstance(value, (list, tuple)) and value and all(hasattr(item, "shape") for item in value):
        shapes = {tuple(item.shape) for item in value}
        if len(shapes) > 1:
            raise ProcessingError(
                f"Cannot stack {key!r} into one array: its items have different shapes {sorted(shapes)}. "
                "Pad them to one length (padding=True) or resize them to one size."
            )
        return np.stack([np.asarray(item) for item in value])
    try:
        array = np.asarray(value)
    except ValueError as exc:
        raise ProcessingError(
            f"Cannot make one array of {key!r}: its rows have different lengths. "
            "Pass padding=True (or truncation) to get rectangular output."
        ) from exc
    if array.dtype == object:
        raise ProcessingError(
            f"Cannot make one array of {key!r}: its rows have different lengths. "
            "Pass padding=True (or truncation) to get rectangular output."
        )
    return array


class BatchFeature(UserDict):
    def __init__(self, data: dict[str, Any] | None = None, tensor_type: str | None = None) -> None:
        super().__init__(data or {})
        self.convert_to_tensors(tensor_type)

    def __getattr__(self, name: str) -> Any:
        if name == "data":
            raise AttributeError(name)
        try:
            return self.data[name]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no field {name!r}; it has {list(self.data)}") from None

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, int):
            return list(self.data.values())[key]
        return self.data[key]

    # dict views of the data, so they print as a dict's do (UserDict's views print the whole mapping)
    def keys(self):  # type: ignore[override]
        return self.data.keys()

    def values(self):  # type: ignore[override]
        return self.data.values()

    def items(self):  # type: ignore[override]
        return self.data.items()

    def __getstate__(self) -> dict[str, Any]:
        return {"data": self.data}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.data = state["data"]

    def convert_to_tensors(self, tensor_type: str | None = None) -> BatchFeature:
        if tensor_type is not None:
            for key, value in self.data.items():
                self.data[key] = to_tensor_type(value, tensor_type, key=key)
        return self

    def to(self, *args: Any, **kwargs: Any) -> BatchFeature:
        """Move every tensor to a device; a dtype given applies to floating tensors only.

        Integer ids and masks must stay integers when the model runs in
        float16, so a dtype never touches them.
        """
        import torch

        dtype = kwargs.get("dtype")
        device = kwargs.get("device")
        for arg in args:
            if isinstance(arg, torch.dtype):
                dtype = arg
            else:
                device = arg
        moved = {}
        for key, value in self.data.items():
            if isinstance(value, torch.Tensor):
                if dtype is not None and torch.is_floating_point(value):
                    value = value.to(device=device, dtype=dtype)
                elif device is not None:
                    value = value.to(device=device)
            moved[key] = value
        self.data = moved
        return self
