"""Demo stacks for the emulator: `demo` (GO), `demo-risky` (CONDITIONAL), `demo-broken`
(NO-GO), `empty`.

Each area module builds its part of a hardened production stack of the seed's kind
with `seed(stack)`, and plants its own defects when the variant asks for them:
warning-level ones in `demo-risky`, critical ones in `demo-broken`.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, final

from readiness.emulator.control import EmulatorControl

SEEDS = ("demo", "demo-risky", "demo-broken", "empty")
REGIONS = ("us-east-1", "us-west-2")
HOME = REGIONS[0]
ACCOUNT = "123456789012"

# Names shared by every area (see docs/demo-stack.md).
TAGS = {"Environment": "production", "Owner": "platform", "CostCenter": "prod-42"}
VPC_NAME = "prod-vpc"
PRIVATE_SUBNETS = ("prod-private-a", "prod-private-b")  # Name tags, us-east-1a and us-east-1b
ALERTS_TOPIC_ARN = f"arn:aws:sns:{HOME}:{ACCOUNT}:prod-alerts"


def tag_list(extra: dict[str, str] | None = None) -> list[dict[str, str]]:
    """TAGS as AWS's [{"Key": ..., "Value": ...}] list."""
    return [{"Key": k, "Value": v} for k, v in {**TAGS, **(extra or {})}.items()]


@final
@dataclass
class Stack:
    """What an area seeder gets: the variant, clients, control calls and the app URL."""

    variant: str
    control: EmulatorControl
    app_url: str
    regions: tuple[str, ...] = REGIONS
    made: dict[str, int] = field(default_factory=dict)
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict)

    @property
    def risky(self) -> bool:
        return self.variant == "demo-risky"

    @property
    def broken(self) -> bool:
        return self.variant == "demo-broken"

    def client(self, service: str, region: str = HOME) -> Any:
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = self.control.client(service, region)
        return self._clients[key]

    def count(self, kind: str, n: int = 1) -> None:
        self.made[kind] = self.made.get(kind, 0) + n


def apply_seed(name: str, endpoint: str, app_url: str) -> dict[str, int]:
    if name not in SEEDS:
        raise ValueError(f"unknown seed {name!r} (known: {', '.join(SEEDS)})")
    stack = Stack(variant=name, control=EmulatorControl(endpoint), app_url=app_url)
    if name == "empty":
        return {}
    for seed_area in areas():
        seed_area(stack)
    return stack.made


def areas() -> tuple[Callable[[Stack], None], ...]:
    """Every area module here with a `seed(stack)`, in the order of their `ORDER`."""
    modules = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "seed"):
            modules.append(module)
    modules.sort(key=lambda m: (getattr(m, "ORDER", 50), m.__name__))
    return tuple(m.seed for m in modules)
