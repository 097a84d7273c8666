"""Stand-in processing classes that remember where they were loaded from."""


class _Loaded:
    def __init__(self, path, kwargs):
        self.path = path
        self.kwargs = kwargs

    @classmethod
    def from_pretrained(cls, path, **kwargs):
        return cls(path, kwargs)


class ToyTokenizer(_Loaded):
    pass


class ToyImageProcessor(_Loaded):
    pass


class ToyFeatureExtractor(_Loaded):
    pass


class ToyProcessor(_Loaded):
    pass
