import autoload


@autoload.hookimpl
def autoload_architectures():
    return autoload.Architecture(model_type="twin", config="autoload_test_twin_a.plugin:TwinConfig")


class TwinConfig(autoload.PretrainedConfig):
    model_type = "twin"
    origin = "a"
