"""What each post-deploy window asks of the metrics (seed step 5's success metrics)."""

from __future__ import annotations

from readiness.config import Thresholds
from readiness.inventory.model import NotEvaluated, Snapshot

SHORT = 2
REVIEW = 24


def window_hours(snapshot: Snapshot) -> int:
    if snapshot.window_hours is None:
        raise NotEvaluated("the snapshot does not say which window it covers")
    return int(snapshot.window_hours)


def canary_threshold(thresholds: Thresholds, hours: int) -> float:
    """> 95 % over the first 2 hours, > 99 % over the 24-hour review."""
    if hours >= REVIEW:
        return thresholds.canary_success_24h_percent
    return thresholds.canary_success_2h_percent


def label(hours: int) -> str:
    return f"{hours} h"
