"""What moto lacks and the checks read; one module per addition, each with a test."""

from __future__ import annotations

from types import ModuleType

ALL: tuple[ModuleType, ...] = ()
