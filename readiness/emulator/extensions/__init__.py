"""What moto lacks and the checks read; one module per addition, each with a test.

A module here with an `install(registry)` function is installed in every emulator.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def _discover() -> tuple[ModuleType, ...]:
    modules = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "install"):
            modules.append(module)
    return tuple(modules)


ALL: tuple[ModuleType, ...] = _discover()
