"""The embedded local AWS: moto's server, what moto lacks, demo stacks, a demo app."""

from readiness.emulator.control import EMULATOR_ACCOUNT, ControlError, EmulatorControl
from readiness.emulator.process import AttachedEmulator, EmulatorError, EmulatorProcess

__all__ = [
    "EMULATOR_ACCOUNT",
    "AttachedEmulator",
    "ControlError",
    "EmulatorControl",
    "EmulatorError",
    "EmulatorProcess",
]
