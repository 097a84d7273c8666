"""Torch-free stand-ins for model classes: they record how the Auto classes called them."""

from autoload_test_good.configuration import ToyConfig, ToyTextConfig


class _Recording:
    config_class = ToyConfig

    def __init__(self, config, how, path=None, options=None):
        self.config = config
        self.how = how
        self.path = path
        self.options = options or {}

    @classmethod
    def from_pretrained(
        cls,
        path,
        *,
        config=None,
        dtype=None,
        device=None,
        revision=None,
        cache_dir=None,
        token=None,
        local_files_only=False,
        force_download=False,
        subfolder="",
    ):
        return cls(config, "from_pretrained", path, {"dtype": dtype, "device": device, "revision": revision})

    @classmethod
    def from_config(cls, config, **kwargs):
        return cls(config, "from_config", options=kwargs)


class ToyModel(_Recording):
    pass


class ToyForSequenceClassification(_Recording):
    pass


class ToyTextForMaskedLM(_Recording):
    config_class = ToyTextConfig
