import a_module_that_does_not_exist  # noqa: F401  (the fault under test)

import autoload


@autoload.hookimpl
def autoload_architectures():
    raise AssertionError("never reached")
