import autoload


@autoload.hookimpl
def autoload_architectures():
    return {"model_type": "wrong-return"}
