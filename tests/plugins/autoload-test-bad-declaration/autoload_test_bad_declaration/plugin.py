"""Declarations that break the contract in different ways, one per model type."""

import autoload


@autoload.hookimpl
def autoload_architectures():
    return [
        autoload.Architecture(
            model_type="bad-task",
            config="autoload_test_bad_declaration.plugin:NotThere",
            models={"teleportation": "some.module:Model"},
        ),
        autoload.Architecture(
            model_type="bad-reference",
            config="autoload_test_bad_declaration.missing_module:Config",
            models={"base": "not a reference"},
        ),
        autoload.Architecture(model_type="something-else", config="x.y:Z"),
    ]
