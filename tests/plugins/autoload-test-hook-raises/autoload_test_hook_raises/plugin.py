import autoload


@autoload.hookimpl
def autoload_architectures():
    raise RuntimeError("the hook of this test plugin always fails")
