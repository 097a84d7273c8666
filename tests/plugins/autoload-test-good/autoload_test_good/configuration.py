from autoload import PretrainedConfig


class ToyConfig(PretrainedConfig):
    model_type = "toy"

    def __init__(self, hidden_size=4, ratio=0.5, activation="relu", use_bias=True, **kwargs):
        self.hidden_size = hidden_size
        self.ratio = ratio
        self.activation = activation
        self.use_bias = use_bias
        super().__init__(**kwargs)


class ToyTextConfig(PretrainedConfig):
    model_type = "toy-text"

    def __init__(self, vocab_size=10, **kwargs):
        self.vocab_size = vocab_size
        super().__init__(**kwargs)
