"""CloudTrail trails start with AWS's default event selector, and keep one kind.

AWS gives a new trail one event selector, all management events read and write
(`ReadWriteType: All, IncludeManagementEvents: true`), and GetEventSelectors returns it;
moto returns no selector at all, which would read as a trail that records nothing.
PutEventSelectors with one kind (basic or advanced) replaces the other, as in AWS.
"""

from __future__ import annotations

import copy
from typing import Any

from readiness.emulator.registry import Registry

_MARK = "_readiness_event_selectors"
DEFAULT_SELECTOR: dict[str, Any] = {
    "ReadWriteType": "All",
    "IncludeManagementEvents": True,
    "DataResources": [],
    "ExcludeManagementEventSources": [],
}


def _patch() -> None:
    from moto.cloudtrail.models import Trail

    original_init = Trail.__init__

    def __init__(self: Any, *args: Any, **kw: Any) -> None:
        original_init(self, *args, **kw)
        self.event_selectors = [copy.deepcopy(DEFAULT_SELECTOR)]
        self.advanced_event_selectors = []

    def put_event_selectors(
        self: Any,
        event_selectors: list[dict[str, Any]],
        advanced_event_selectors: list[dict[str, Any]],
    ) -> None:
        if event_selectors:
            self.event_selectors = event_selectors
            self.advanced_event_selectors = []
        elif advanced_event_selectors:
            self.event_selectors = []
            self.advanced_event_selectors = advanced_event_selectors

    owner: Any = Trail
    owner.__init__ = __init__
    owner.put_event_selectors = put_event_selectors
    setattr(owner, _MARK, True)


def install(registry: Registry) -> None:
    from moto.cloudtrail.models import Trail

    if not getattr(Trail, _MARK, False):  # moto's classes are patched once per process
        _patch()
