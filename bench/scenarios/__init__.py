"""The bench scenarios, one module each. A module registers its scenario
functions with :func:`scenario` (a name for ``--only`` and an order in the
table); :func:`registered` imports every module of this package, so a new
scenario is a new module here and nothing else."""

import importlib
import pkgutil
from collections.abc import Callable

_registry: dict[str, tuple[int, Callable]] = {}


def scenario(name: str, *, order: int):
    """Register ``fn(report, run)`` as the scenario ``name``."""

    def register(fn: Callable) -> Callable:
        _registry[name] = (order, fn)
        return fn

    return register


def registered() -> dict[str, Callable]:
    """``{name: fn}`` of every scenario, in their order."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return {name: fn for name, (_, fn) in sorted(_registry.items(), key=lambda item: item[1][0])}
